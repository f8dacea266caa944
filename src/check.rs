//! The whole `check` pipeline for a set of specs: load and validate every
//! spec, resolve prices, compute the economics, simulate, evaluate policy.
//! The CLI only wires flags to [`Request`] and renders the [`CheckReport`].

use std::path::{Path, PathBuf};

use crate::economics::{Model, unit_costs, worst_case};
use crate::policy::{self, FeatureFacts, Policy, Verdict, evaluate, verdict_of};
use crate::pricing::{Catalog, resolve};
use crate::report::{
    Assumption, BaselineReport, Breach, BudgetShare, CheckReport, FeatureReport, ModelInfo, ValueReport,
};
use crate::sim::{self, Options};
use crate::source::{Loc, Problem, Span};
use crate::spec::{self, Audience, Spec};

pub struct Request<'a> {
    pub paths: Vec<PathBuf>,
    pub policy: &'a Policy,
    pub catalog: &'a Catalog,
    pub sim: Options,
    pub today: jiff::civil::Date,
}

/// Every spec file under `paths` (files as given; folders: their `.yaml`,
/// `.yml` and `.toml` files, recursively, sorted).
pub fn spec_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            collect_dir(p, &mut found);
            if found.is_empty() {
                problems.push(problem_at(p, "the folder holds no spec files (.yaml, .yml, .toml)"));
            }
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            problems.push(problem_at(p, "no such file or folder"));
        }
    }
    out.dedup();
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_dir(&p, out);
        } else if is_spec_name(&name) {
            out.push(p);
        }
    }
}

/// Spec files are YAML or TOML; approval records (`*.approval.toml`) and the
/// policy file sit beside them and are not specs.
pub fn is_spec_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    (l.ends_with(".yaml") || l.ends_with(".yml") || l.ends_with(".toml"))
        && l != policy::POLICY_FILE
        && !l.ends_with(".approval.toml")
        && !l.starts_with("costgate-prices")
}

fn problem_at(p: &Path, msg: &str) -> Problem {
    Problem {
        span: Span::new(
            &std::sync::Arc::from(p.display().to_string().as_str()),
            Loc::UNKNOWN,
            "",
        ),
        message: msg.into(),
        hint: None,
    }
}

/// A spec that loaded and priced.
pub struct Loaded {
    pub spec: Spec,
    pub priced: crate::pricing::PricedModels,
    /// The spec's approval record (`<spec>.approval.toml`), if there is one.
    pub approval: Option<crate::approval::Record>,
}

/// Load and price every spec; all problems of all files, or nothing.
pub fn load_all(files: &[PathBuf], catalog: &Catalog) -> Result<Vec<Loaded>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for f in files {
        match spec::load_file(f) {
            Err(p) => problems.extend(p),
            Ok(s) => match (resolve(&s, catalog), crate::approval::Record::load_for(f)) {
                (Ok(priced), Ok(approval)) => loaded.push(Loaded {
                    spec: s,
                    priced,
                    approval,
                }),
                (priced, approval) => {
                    problems.extend(priced.err().unwrap_or_default());
                    problems.extend(approval.err().unwrap_or_default());
                }
            },
        }
    }
    let mut ids: Vec<(&str, &str)> = Vec::new();
    for l in &loaded {
        if let Some((_, other)) = ids.iter().find(|(id, _)| *id == l.spec.feature.id) {
            problems.push(Problem {
                span: l.spec.span(l.spec.feature.loc, "feature.id"),
                message: format!("feature id `{}` is also used by {other}", l.spec.feature.id),
                hint: Some("give every feature its own id".into()),
            });
        } else {
            ids.push((&l.spec.feature.id, &l.spec.file));
        }
    }
    if problems.is_empty() { Ok(loaded) } else { Err(problems) }
}

/// Compute everything for one loaded spec.
pub fn analyse(l: &Loaded, policy: &Policy, sim_opts: &Options, today: jiff::civil::Date) -> FeatureReport {
    let spec = &l.spec;
    let th = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let model = Model::new(spec, &l.priced, th.worst_case_quantile);
    let units = unit_costs(&model);
    let worst = worst_case(&model);
    let typical = sim::typical(&model);
    let opts = Options {
        confidence: th.confidence,
        ..sim_opts.clone()
    };
    let simulation = (opts.trials > 0).then(|| sim::simulate(&model, &opts));
    let mut findings = evaluate(
        &FeatureFacts {
            spec,
            unit_costs: &units,
            typical: &typical,
            worst: &worst,
            sim: simulation.as_ref(),
            pricing: &l.priced.catalog,
        },
        policy,
        today,
    );
    let approval = crate::approval::apply(spec, &l.priced, l.approval.as_ref(), &mut findings, policy, today);
    let verdict = verdict_of(&findings);
    let interactions = typical_interactions(&model, spec);
    let mean_cost = simulation.as_ref().and_then(|s| s.cost.mean).unwrap_or(typical.cost);
    let cost_at = simulation
        .as_ref()
        .and_then(|s| s.cost.at_confidence)
        .unwrap_or(typical.cost);
    let value = spec.feature.value.as_ref().map(|v| {
        let units = v.units_per_interaction.as_ref().map(|u| u.value * interactions);
        let value_usd = match (units, &v.usd_per_unit) {
            (Some(u), Some(p)) => Some(u * p.value),
            _ => None,
        };
        ValueReport {
            kind: v.kind,
            unit: v.unit.clone(),
            interactions_per_month: interactions,
            units_per_month: units,
            cost_per_unit_usd: units.filter(|u| *u > 0.0).map(|u| typical.cost / u),
            value_usd_per_month: value_usd,
            value_cost_ratio: value_usd.filter(|_| typical.cost > 0.0).map(|x| x / typical.cost),
        }
    });
    let baseline = spec.feature.baseline.as_ref().map(|b| BaselineReport {
        name: b.name.clone(),
        monthly_usd: b.monthly_usd.value,
        feature_mean_monthly_usd: mean_cost,
        difference_usd: mean_cost - b.monthly_usd.value,
    });
    let breach_probabilities = simulation.as_ref().map_or_else(Vec::new, |s| breaches(s, &th));
    FeatureReport {
        file: spec.file.to_string(),
        id: spec.feature.id.clone(),
        name: spec.feature.name.clone(),
        owner: spec.feature.owner.clone(),
        verdict,
        models: l
            .priced
            .models
            .iter()
            .map(|m| ModelInfo {
                key: m.key.clone(),
                requested: m.requested.clone(),
                id: m.price.id.clone(),
                provider: m.price.provider.clone(),
                input_usd_per_mtok: m.price.input_usd_per_mtok,
                output_usd_per_mtok: m.price.output_usd_per_mtok,
                cached_input_usd_per_mtok: m.price.cached_input_usd_per_mtok,
                source: m.price.source.clone(),
            })
            .collect(),
        pricing: l.priced.catalog.clone(),
        unit_costs: units,
        typical,
        worst_case: worst,
        simulation,
        value,
        baseline,
        budget_share: BudgetShare {
            infra_monthly_budget_usd: th.infra_monthly_budget_usd,
            share_at_confidence: if th.infra_monthly_budget_usd > 0.0 {
                Some(cost_at / th.infra_monthly_budget_usd)
            } else {
                None
            },
        },
        breach_probabilities,
        thresholds: th,
        assumptions: assumptions(spec),
        findings,
        limits: crate::report::limits::of(spec),
        approval,
    }
}

/// The share of simulated months beyond each threshold of the policy.
fn breaches(sim: &sim::SimResult, th: &crate::policy::Thresholds) -> Vec<Breach> {
    let cost = |name: &str, value: f64| Breach {
        threshold: name.to_string(),
        value,
        probability: sim.cost_samples.share_above(value),
    };
    let ratio = |name: &str, value: f64| Breach {
        threshold: name.to_string(),
        value,
        probability: sim.ratio_samples.share_above(value),
    };
    vec![
        cost("worst_case_monthly_usd", th.worst_case_monthly_usd),
        cost("p95_monthly_usd", th.p95_monthly_usd),
        ratio("approval_cost_revenue_ratio", th.approval_cost_revenue_ratio),
        ratio("max_cost_revenue_ratio", th.max_cost_revenue_ratio),
        cost(
            "infra_budget_share",
            th.infra_monthly_budget_usd * th.max_infra_budget_share,
        ),
    ]
}

/// Interactions served in the typical month.
fn typical_interactions(m: &Model, spec: &Spec) -> f64 {
    let n = m.interactions.central() * (1.0 - m.power_share + m.power_share * m.power_multiplier);
    let a = m.active_share.central();
    spec.tiers
        .iter()
        .map(|t| {
            let users = match &t.audience {
                Audience::Users { users } => users.central(),
                Audience::Tenants {
                    tenants,
                    users_per_tenant,
                } => tenants.central().round() * users_per_tenant.central(),
            };
            users * a * m.days as f64 * n
        })
        .sum()
}

/// Every input quantity with where it came from.
pub fn assumptions(spec: &Spec) -> Vec<Assumption> {
    let mut v = Vec::new();
    let mut q = |x: &spec::Quantity| {
        v.push(Assumption {
            path: x.path.clone(),
            value: describe_dist(&x.dist),
            origin: x.origin.clone(),
        })
    };
    let i = &spec.interaction;
    q(&i.calls);
    q(&i.input_tokens);
    q(&i.output_tokens);
    q(&i.cached_input_share);
    q(&spec.usage.active_share);
    q(&spec.usage.interactions_per_active_day);
    for t in &spec.tiers {
        match &t.audience {
            Audience::Users { users } => q(users),
            Audience::Tenants {
                tenants,
                users_per_tenant,
            } => {
                q(tenants);
                q(users_per_tenant);
            }
        }
    }
    v
}

pub fn describe_dist(d: &crate::dist::Dist) -> String {
    use crate::dist::Dist;
    let n = |x: f64| crate::economics::fmt_count(x);
    match d {
        Dist::Fixed { value } => n(*value),
        Dist::LogNormal { p50, p95, .. } => format!("lognormal p50 {} · p95 {}", n(*p50), n(*p95)),
        Dist::Triangular { low, mode, high } => format!("triangular {} · {} · {}", n(*low), n(*mode), n(*high)),
        Dist::Pert { low, mode, high } => format!("PERT {} · {} · {}", n(*low), n(*mode), n(*high)),
        Dist::Normal { mean, sd, .. } => format!("normal mean {} · sd {}", n(*mean), n(*sd)),
        Dist::Empirical { samples } => format!("{} samples, median {}", samples.len(), n(d.central())),
    }
}

/// A report with no feature (a git ref before the first spec).
pub fn empty_report(req: &Request) -> CheckReport {
    CheckReport {
        schema_version: crate::report::SCHEMA_VERSION,
        costgate_version: env!("CARGO_PKG_VERSION").to_string(),
        policy: req.policy.describe(),
        seed: req.sim.seed,
        trials: req.sim.trials,
        today: req.today.to_string(),
        verdict: Verdict::Pass,
        exit_code: 0,
        features: Vec::new(),
        portfolio: None,
    }
}

/// Run a whole check.
/// An exception naming a feature no checked spec has matches nothing: it is
/// reported (`unused-exception`) with the first feature of the run.
fn unknown_feature_exceptions(features: &mut [FeatureReport], policy: &Policy) {
    let Some(first) = features.first().map(|f| f.id.clone()) else {
        return;
    };
    let unknown: Vec<_> = policy
        .exceptions
        .iter()
        .filter(|e| !features.iter().any(|f| f.id == e.feature))
        .collect();
    if unknown.is_empty() {
        return;
    }
    let ids: Vec<&str> = features.iter().map(|f| f.id.as_str()).collect();
    let checked = ids.join(", ");
    let Some(f) = features.iter_mut().find(|f| f.id == first) else {
        return;
    };
    for e in unknown {
        f.findings.push(policy::Finding {
            rule: policy::Rule::UnusedException,
            level: policy.level(policy::Rule::UnusedException),
            feature: e.feature.clone(),
            message: format!(
                "the exception for `{}` names feature `{}`, which no checked spec has (checked: {checked})",
                e.rule, e.feature
            ),
            help: "fix the feature id, or remove the exception".into(),
            span: policy.span(e.loc, "exceptions"),
            figure: None,
            exception: None,
            approval: None,
        });
    }
    f.findings
        .sort_by(|a, b| b.level.cmp(&a.level).then(a.rule.cmp(&b.rule)));
    f.verdict = verdict_of(&f.findings);
}

pub fn run(req: &Request) -> Result<CheckReport, Vec<Problem>> {
    let files = spec_files(&req.paths)?;
    let loaded = load_all(&files, req.catalog)?;
    // Bounded work at the trials asked for (specs were checked at the default).
    let too_large: Vec<Problem> = loaded
        .iter()
        .filter_map(|l| sim::limits::check(&l.spec, req.sim.trials).err().map(|e| (l, e)))
        .map(|(l, e)| Problem {
            span: l.spec.span(e.loc, &e.path),
            message: e.message,
            hint: Some(e.hint),
        })
        .collect();
    if !too_large.is_empty() {
        return Err(too_large);
    }
    let mut features: Vec<FeatureReport> = loaded
        .iter()
        .map(|l| analyse(l, req.policy, &req.sim, req.today))
        .collect();
    unknown_feature_exceptions(&mut features, req.policy);
    let portfolio = crate::portfolio::judge(&features, req.policy);
    let verdict = features
        .iter()
        .map(|f| f.verdict)
        .chain(portfolio.as_ref().map(|p| p.verdict))
        .max()
        .unwrap_or(Verdict::Pass);
    Ok(CheckReport {
        schema_version: crate::report::SCHEMA_VERSION,
        costgate_version: env!("CARGO_PKG_VERSION").to_string(),
        policy: req.policy.describe(),
        seed: req.sim.seed,
        trials: req.sim.trials,
        today: req.today.to_string(),
        verdict,
        exit_code: verdict.exit_code(),
        features,
        portfolio,
    })
}
