//! What a check found, as data: the [`CheckReport`] of a run, a
//! [`FeatureReport`] per spec, the [`PortfolioReport`] of them together,
//! and the figures and decisions every renderer reads from them
//! ([`FeatureReport::cost_at_confidence`], [`FeatureReport::shown_findings`],
//! and on each finding [`Finding::is_open_approval`] and [`Finding::remedy`]),
//! so that no renderer recomputes one.
//!
//! `check` and `portfolio` build these types; `report` (terminal, Markdown,
//! HTML, JSON, SARIF, JUnit, GitHub) and `diff` read them. This module
//! depends on neither, so the graph runs one way.

use serde::Serialize;

use crate::economics::{UnitCosts, WorstCase};
pub use crate::policy::Remedy;
use crate::policy::{Finding, Thresholds, Verdict};
use crate::pricing::CatalogInfo;
use crate::sim::{SimResult, Typical};
use crate::spec::{Origin, ValueKind};

/// Version of the JSON output; bumped on any breaking change.
pub const SCHEMA_VERSION: u32 = 2;

/// What a check found: every feature of the run, and the run's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Version of the JSON output ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The costgate version that ran the check.
    pub costgate_version: String,
    /// Which policy was used (a path, or the built-in defaults).
    pub policy: String,
    /// The simulation seed.
    pub seed: u64,
    /// Simulated months.
    pub trials: usize,
    /// The date exceptions and approvals were judged on.
    pub today: String,
    /// The run's verdict: the worst of the features' and the portfolio's.
    pub verdict: Verdict,
    /// The exit code the verdict gives.
    pub exit_code: i32,
    /// One report per spec, in the order they were read.
    pub features: Vec<FeatureReport>,
    /// Every feature of the run added up (several features, or a `[portfolio]` policy).
    pub portfolio: Option<PortfolioReport>,
}

/// What a check found for one feature (one spec).
#[derive(Clone, Debug, Serialize)]
pub struct FeatureReport {
    /// The spec file.
    pub file: String,
    /// The feature id.
    pub id: String,
    /// The feature's name.
    pub name: String,
    /// Its owner, if the spec names one.
    pub owner: Option<String>,
    /// Its verdict.
    pub verdict: Verdict,
    /// `check --fail-on new`: blocked only by deny findings the baseline
    /// already had, so this feature does not fail the run (its verdict
    /// stays `blocked`). Absent from the JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub blocked_not_new: bool,
    /// The price catalog its models were priced from.
    pub pricing: CatalogInfo,
    /// Its models as priced.
    pub models: Vec<ModelInfo>,
    /// Cost of a call and of an interaction per tier.
    pub unit_costs: Vec<UnitCosts>,
    /// The month with every input at its central value (median, or mode) and no
    /// scenario: not the median month (see the README's model reference).
    #[serde(rename = "at_central_inputs")]
    pub typical: Typical,
    /// The deterministic worst-case month.
    pub worst_case: WorstCase,
    /// The Monte Carlo month (`None`: not simulated).
    pub simulation: Option<SimResult>,
    /// What each uncertain input does to the month's figures (`None`: not
    /// asked for, or not simulated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<crate::sim::sensitivity::Sensitivity>,
    /// Why the sensitivity analysis asked for was not computed (it would
    /// pass the work limit of an analysis), with what to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity_not_computed: Option<String>,
    /// What the feature earns per unit of value, if the spec says.
    pub value: Option<ValueReport>,
    /// Against the cost it replaces, if the spec gives one.
    pub baseline: Option<BaselineReport>,
    /// Its share of the infrastructure budget.
    pub budget_share: BudgetShare,
    /// Per threshold, the share of simulated months that break it.
    pub breach_probabilities: Vec<Breach>,
    /// Per stress scenario, how much it moves the month at the policy's
    /// confidence, with the standard error of that difference.
    pub scenario_effects: Vec<ScenarioEffect>,
    /// The thresholds it was judged by (the policy's, with its value kind's overrides).
    pub thresholds: Thresholds,
    /// Every input the figures rest on, with where it came from.
    pub assumptions: Vec<Assumption>,
    /// The rules' findings, in order (see [`FeatureReport::shown_findings`]).
    pub findings: Vec<Finding>,
    /// Every per-user cap, tenant budget and breaker, and what it tells users.
    pub limits: Vec<LimitInfo>,
    /// What an approval of this run binds to, and the approval on file.
    pub approval: crate::approval::ApprovalReport,
    /// `check --observed`: the spec against usage logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<ObservedReport>,
    /// `check --runtime`: the spec's limits against the deployed gateway
    /// configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::runtime::Comparison>,
    /// The `--set` overrides this run applied to the spec (a what-if): the
    /// field each set, its value and the flag. Absent for the spec as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<crate::spec::overrides::Applied>,
}

/// The month at the policy's confidence: simulated, else the month at
/// central inputs (a run with no simulation). For the one figure before its
/// [`FeatureReport`] exists; renderers read
/// [`FeatureReport::cost_at_confidence`].
pub fn cost_at_confidence(sim: Option<&SimResult>, typical: &Typical) -> f64 {
    sim.and_then(|s| s.cost.at_confidence).unwrap_or(typical.cost)
}

impl FeatureReport {
    /// The month's cost at the policy's confidence: simulated, else at
    /// central inputs.
    pub fn cost_at_confidence(&self) -> f64 {
        cost_at_confidence(self.simulation.as_ref(), &self.typical)
    }

    /// Cost / revenue at the policy's confidence (simulated, else at central
    /// inputs); `None` where there is no revenue to divide by.
    pub fn ratio_at_confidence(&self) -> Option<f64> {
        match &self.simulation {
            Some(s) => s.cost_revenue_ratio.at_confidence,
            None => self.typical.cost_revenue_ratio,
        }
    }

    /// The policy's confidence (0.95 unless the policy sets another).
    pub fn confidence(&self) -> f64 {
        self.thresholds.confidence
    }

    /// The findings a report shows, in order: every one above `allow`, and
    /// those a policy exception lowered to `allow` (with the exception).
    pub fn shown_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|x| x.is_shown())
    }

    /// "overridden for this run: PATH=VALUE, ...": the line every human
    /// report shows for a what-if run (`None` for the spec as written).
    pub fn overridden_note(&self) -> Option<String> {
        if self.overrides.is_empty() {
            return None;
        }
        let flags: Vec<String> = self
            .overrides
            .iter()
            .map(|o| o.shown().trim_start_matches("--set ").to_string())
            .collect();
        Some(format!(
            "overridden for this run (--set, not the spec as written): {}",
            flags.join(", ")
        ))
    }

    /// Whether the month at central inputs is below the simulated median
    /// month (it usually is: a month adds up many interactions, so it
    /// follows each input's mean, and a skewed input's mean is above its
    /// median). `false` with no simulation.
    pub fn central_below_p50(&self) -> bool {
        self.simulation
            .as_ref()
            .and_then(|s| s.cost.p50)
            .is_some_and(|p50| self.typical.cost < p50)
    }
}

/// A model of the spec as priced.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Its key under `models:`.
    pub key: String,
    /// The name the spec gave.
    pub requested: String,
    /// The catalog entry it resolved to.
    pub id: String,
    /// Its provider.
    pub provider: String,
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Cached input tokens, USD per million, if the catalog has a price.
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Where the price came from.
    pub source: String,
}

/// What the feature earns, at central inputs.
#[derive(Clone, Debug, Serialize)]
pub struct ValueReport {
    /// The kind of value.
    pub kind: ValueKind,
    /// The unit of value, if given.
    pub unit: Option<String>,
    /// Interactions a month.
    pub interactions_per_month: f64,
    /// Units of value a month (with `units_per_interaction`).
    pub units_per_month: Option<f64>,
    /// Cost per unit of value, USD.
    pub cost_per_unit_usd: Option<f64>,
    /// Value a month, USD (with `usd_per_unit`).
    pub value_usd_per_month: Option<f64>,
    /// Value / cost.
    pub value_cost_ratio: Option<f64>,
}

/// The feature against the cost it replaces.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineReport {
    /// What it replaces.
    pub name: String,
    /// Its monthly cost, USD.
    pub monthly_usd: f64,
    /// The feature's mean month (simulated, else at central inputs), USD.
    pub feature_mean_monthly_usd: f64,
    /// The feature's mean month minus the baseline, USD.
    pub difference_usd: f64,
}

/// How likely the simulated month breaks a threshold of the policy.
#[derive(Clone, Debug, Serialize)]
pub struct Breach {
    /// The policy threshold's name.
    pub threshold: String,
    /// The threshold's value.
    pub value: f64,
    /// Share of simulated months beyond it; `None` (null) where the
    /// threshold does not apply (a cost/revenue ratio with no revenue, an
    /// infrastructure share with no infrastructure budget).
    pub probability: Option<f64>,
}

/// A difference is measurable when it is more than this many standard
/// errors from zero (about a 5% chance for noise alone to look like one).
pub const MEASURABLE_SE: f64 = 2.0;

/// A tail quantile's standard error from order statistics is only
/// trustworthy with enough months beyond it: fewer than this many in either
/// set (with or without the scenario) and the effect is "too few months".
pub const MIN_TAIL_MONTHS: f64 = 10.0;

/// What a stress scenario does to the month at the policy's confidence.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScenarioEffect {
    /// The scenario's name.
    pub scenario: String,
    /// Its chance per month, as the spec gives it.
    pub chance: f64,
    /// Share of simulated months in which it happened.
    pub happened_share: f64,
    /// The month at `confidence` in the trials where it happened, minus
    /// that in the trials where it did not.
    pub difference_usd: Option<f64>,
    /// Standard error of the difference: the two standard errors in
    /// quadrature (the two sets of trials are disjoint).
    pub difference_se: Option<f64>,
    /// Whether each set has at least `MIN_TAIL_MONTHS` months beyond its
    /// quantile, so that the standard error means something.
    pub enough_months: bool,
    /// `enough_months` and `|difference_usd| > MEASURABLE_SE × difference_se`.
    pub measurable: bool,
}

impl ScenarioEffect {
    /// `trials` and `confidence`: the run's.
    pub fn of(x: &crate::sim::ScenarioSim, trials: usize, confidence: f64) -> ScenarioEffect {
        let with = (x.happened_share * trials as f64).round();
        let without = trials as f64 - with;
        let tail = crate::fmt::low_quantile(confidence);
        let enough_months = with.min(without) * tail >= MIN_TAIL_MONTHS;
        let difference = match (x.cost_at_confidence_with, x.cost_at_confidence_without) {
            (Some(w), Some(wo)) => Some(w - wo),
            _ => None,
        };
        let se = match (x.cost_at_confidence_with_se, x.cost_at_confidence_without_se) {
            (Some(a), Some(b)) => Some(a.hypot(b)),
            _ => None,
        };
        let measurable = match (difference, se) {
            (Some(d), Some(e)) => enough_months && d.abs() > MEASURABLE_SE * e,
            _ => false,
        };
        ScenarioEffect {
            scenario: x.scenario.clone(),
            chance: x.chance,
            happened_share: x.happened_share,
            difference_usd: difference,
            difference_se: se,
            enough_months,
            measurable,
        }
    }
}

/// The feature's share of the infrastructure budget.
#[derive(Clone, Debug, Serialize)]
pub struct BudgetShare {
    /// The infrastructure budget, USD a month.
    pub infra_monthly_budget_usd: f64,
    /// The month at the policy's confidence over that budget (`None`: no budget).
    pub share_at_confidence: Option<f64>,
}

/// An input the figures rest on.
#[derive(Clone, Debug, Serialize)]
pub struct Assumption {
    /// Its field path.
    pub path: String,
    /// Its value, as the reports show it.
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// Every feature of a run judged together.
#[derive(Clone, Debug, Serialize)]
pub struct PortfolioReport {
    /// How many features.
    pub features: usize,
    /// The features' mean months added up.
    pub mean_monthly_usd: f64,
    /// The features' months at the policy's percentile added up.
    pub at_confidence_monthly_usd: f64,
    /// `None` when any feature's worst case is unbounded.
    pub worst_case_monthly_usd: Option<f64>,
    /// The `[portfolio]` budget, if the policy sets one.
    pub monthly_budget_usd: Option<f64>,
    /// Share of the infrastructure budget, when one is known.
    pub infra_budget_share: Option<f64>,
    /// Each feature's part, largest first.
    pub shares: Vec<FeatureShare>,
    /// The `portfolio-over-budget` findings.
    pub findings: Vec<Finding>,
    /// The portfolio's verdict.
    pub verdict: Verdict,
}

/// One feature's part of the portfolio.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureShare {
    /// The feature id.
    pub feature: String,
    /// Its month at the policy's confidence, USD.
    pub at_confidence_monthly_usd: f64,
    /// Its share of the features' months at confidence added up.
    pub share: f64,
}

/// A limit of the spec and what it tells users.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LimitInfo {
    /// Whom it applies to: a tier, its tenants, or the whole feature.
    pub applies_to: String,
    /// The limit: "20,000 tokens a day", "$300 a month per tenant".
    pub limit: String,
    /// What happens at it, in words.
    pub at_limit: String,
    /// What the users are told, as the spec writes it.
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ScenarioSim;

    fn sim(with: f64, with_se: f64, without: f64, without_se: f64) -> ScenarioSim {
        ScenarioSim {
            scenario: "s".into(),
            chance: 0.5,
            happened_share: 0.5,
            cost_at_confidence_with: Some(with),
            cost_at_confidence_without: Some(without),
            cost_at_confidence_with_se: Some(with_se),
            cost_at_confidence_without_se: Some(without_se),
        }
    }

    #[test]
    fn a_scenario_effect_is_measurable_only_beyond_two_standard_errors() {
        // the example: −$21,644 with standard errors of $20,000 and
        // $8,000 (difference ± $21,541): within noise
        let e = ScenarioEffect::of(&sim(271_515.0, 20_000.0, 293_159.0, 8_000.0), 1000, 0.95);
        assert_eq!(e.difference_usd, Some(271_515.0 - 293_159.0));
        let se = e.difference_se.unwrap();
        assert!((se - 20_000f64.hypot(8_000.0)).abs() < 1e-6);
        assert!(!e.measurable);
        // 3 and 5 in quadrature is 5.83: 11 is within 2 SE, 12 beyond
        assert!(!ScenarioEffect::of(&sim(111.0, 3.0, 100.0, 5.0), 1000, 0.95).measurable);
        assert!(ScenarioEffect::of(&sim(112.0, 3.0, 100.0, 5.0), 1000, 0.95).measurable);
        assert!(ScenarioEffect::of(&sim(88.0, 3.0, 100.0, 5.0), 1000, 0.95).measurable);
        // no standard error (too few months): never measurable
        let mut x = sim(200.0, 1.0, 100.0, 1.0);
        x.cost_at_confidence_with_se = None;
        let e = ScenarioEffect::of(&x, 1000, 0.95);
        assert!(!e.measurable);
        assert_eq!(e.difference_se, None);
        // 5% of 1,000 trials is 50 months with it: 2.5 beyond the p95, too
        // few for its standard error, however large the difference looks
        let mut x = sim(200.0, 1.0, 100.0, 1.0);
        x.happened_share = 0.05;
        let e = ScenarioEffect::of(&x, 1000, 0.95);
        assert!(!e.enough_months && !e.measurable);
        // 200 months with it (10 beyond the p95): enough
        let e = ScenarioEffect::of(&x, 4000, 0.95);
        assert!(e.enough_months && e.measurable);
    }
}

/// A month's cost, summarised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Month {
    /// Mean monthly cost, USD.
    pub mean_usd: f64,
    /// The month at the policy's confidence, USD.
    pub at_confidence_usd: f64,
}

/// One usage log read by `check --observed`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObservedFile {
    /// The file as named.
    pub path: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Calls read.
    pub records: u64,
    /// Malformed records (counted, reported by line on standard error).
    pub bad: u64,
}

/// `check --observed`: the spec in force against usage logs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObservedReport {
    /// The logs read.
    pub files: Vec<ObservedFile>,
    /// Calls, users and user-days in them.
    pub records: u64,
    /// Distinct users.
    pub users: u64,
    /// User-days.
    pub user_days: u64,
    /// Each quantity the logs measure against the spec's.
    pub drift: Vec<crate::calibrate::Drift>,
    /// The fields the observed month takes from the logs (central fits).
    pub replaced: Vec<String>,
    /// What the logs could not measure (the observed month keeps the spec's).
    pub unmeasured: Vec<(String, String)>,
    /// The spec's month.
    pub spec_month: Month,
    /// The month simulated with the observed distributions, same seed and
    /// trials; `None` when the observed figures make a spec too large to
    /// simulate (said in `warnings`).
    pub observed_month: Option<Month>,
    /// What the fit warns about (small samples).
    pub warnings: Vec<String>,
}
