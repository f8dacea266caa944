//! The whole `check` pipeline for a set of specs: load and validate every
//! spec, resolve prices, compute the economics, simulate, evaluate policy.
//! The CLI only wires flags to [`Request`] and renders the [`CheckReport`].

mod baseline;
mod inputs;
pub mod observed;

use std::path::{Path, PathBuf};

use crate::economics::{Model, unit_costs, worst_case};
use crate::outcome::{
    Assumption, BaselineReport, Breach, BudgetShare, CheckReport, FeatureReport, ModelInfo, ScenarioEffect, ValueReport,
};
use crate::policy::{self, FeatureFacts, Policy, Verdict, evaluate, verdict_of};
use crate::pricing::{Catalog, resolve};
use crate::sim::{self, Options};
use crate::source::{Loc, Problem, Span};
use crate::spec::{self, Audience, Spec};

pub use baseline::{BaselineCount, FailOn, apply_baseline};
pub use inputs::{
    Choice, Inputs, PricingInfo, PricingOrigin, Unreachable, display_path, load_catalog, load_policy, load_source,
    policy_source,
};

/// What to check, with what: the input of [`run`].
pub struct Request<'a> {
    /// Spec files, or folders searched for specs.
    pub paths: Vec<PathBuf>,
    /// The policy the findings are judged by.
    pub policy: &'a Policy,
    /// The prices.
    pub catalog: &'a Catalog,
    /// How to simulate.
    pub sim: Options,
    /// The day expiries (exceptions, approvals) are judged on.
    pub today: jiff::civil::Date,
}

/// Every spec file under `paths` (files as given; folders: their `.yaml`,
/// `.yml` and `.toml` files, recursively, sorted). A file named twice (by
/// two paths, or through a link) is checked once. A folder that cannot be
/// read, a symlink loop, and a spec-named entry that is not a regular file
/// (a FIFO, a device) are problems, never skipped.
pub fn spec_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut problems = Vec::new();
    let mut add = |f: PathBuf, out: &mut Vec<PathBuf>, problems: &mut Vec<Problem>| match std::fs::canonicalize(&f) {
        Ok(c) => {
            if seen.insert(c) {
                out.push(f);
            }
        }
        Err(e) => problems.push(problem_at(
            &f,
            &format!("cannot read the file: {}", crate::fsutil::plain(&e)),
        )),
    };
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                let before = problems.len();
                let mut stack: Vec<PathBuf> = std::fs::canonicalize(p).into_iter().collect();
                collect_dir(p, &mut found, &mut stack, &mut problems);
                if found.is_empty() && problems.len() == before {
                    problems.push(problem_at(p, "the folder holds no spec files (.yaml, .yml, .toml)"));
                }
                found.sort();
                for f in found {
                    add(f, &mut out, &mut problems);
                }
            }
            Ok(m) if m.is_file() => add(p.clone(), &mut out, &mut problems),
            Ok(m) => problems.push(not_regular(p, &m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(problem_at(p, "no such file or folder"));
            }
            Err(e) => problems.push(unreadable(p, &e)),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

fn not_regular(p: &Path, m: &std::fs::Metadata) -> Problem {
    problem_at(
        p,
        &format!(
            "is {}, not a regular file; a spec must be a regular file",
            crate::fsutil::kind_of(m)
        ),
    )
}

fn unreadable(p: &Path, e: &std::io::Error) -> Problem {
    let why = crate::fsutil::open_error(e);
    if crate::fsutil::is_loop(e) {
        problem_at(p, &why)
    } else {
        problem_at(p, &format!("cannot read: {why}"))
    }
}

/// The spec files under `dir`; `stack` holds the real paths of the folders
/// being walked, to catch a link back to one of them.
fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>, stack: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(problem_at(
                dir,
                &format!("cannot read the folder: {}", crate::fsutil::plain(&e)),
            ));
            return;
        }
    };
    for e in rd {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                problems.push(problem_at(
                    dir,
                    &format!("cannot read the folder: {}", crate::fsutil::plain(&err)),
                ));
                return;
            }
        };
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        // Links are followed: to a folder, a spec, or an error.
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(err) => {
                problems.push(unreadable(&p, &err));
                continue;
            }
        };
        if meta.is_dir() {
            let real = match std::fs::canonicalize(&p) {
                Ok(r) => r,
                Err(err) => {
                    problems.push(unreadable(&p, &err));
                    continue;
                }
            };
            if let Some(up) = stack.iter().find(|s| **s == real) {
                problems.push(problem_at(
                    &p,
                    &format!("a symlink loop: leads back to {}", up.display()),
                ));
                continue;
            }
            stack.push(real);
            collect_dir(&p, out, stack, problems);
            stack.pop();
        } else if is_spec_name(&name) {
            if meta.is_file() {
                out.push(p);
            } else {
                problems.push(not_regular(&p, &meta));
            }
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
        code: crate::source::ProblemCode::Unreadable,
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
    /// The spec.
    pub spec: Spec,
    /// Its models, resolved against the catalog.
    pub priced: crate::pricing::PricedModels,
    /// The spec's approval record (`<spec>.approval.toml`) and its
    /// signature, if there is one.
    pub approval: Option<crate::approval::OnFile>,
}

/// Load and price every spec; all problems of all files, or nothing.
pub fn load_all(files: &[PathBuf], catalog: &Catalog) -> Result<Vec<Loaded>, Vec<Problem>> {
    load_all_with(files, catalog, &[]).map_err(|e| match e {
        spec::overrides::Error::Invalid(p) => p,
        // no override, no flag to be wrong
        spec::overrides::Error::Usage(m) => vec![problem_at(Path::new("--set"), &m)],
    })
}

/// [`load_all`] with `--set` overrides applied to every spec (or, with a
/// `FEATURE:` prefix, to that feature's): a flag whose PATH leads nowhere in
/// a spec, or whose FEATURE no spec has, is an [`spec::overrides::Error::Usage`];
/// problems at an overridden field name the flag (and, with several specs,
/// the spec).
pub fn load_all_with(
    files: &[PathBuf],
    catalog: &Catalog,
    set: &[spec::overrides::Override],
) -> Result<Vec<Loaded>, spec::overrides::Error> {
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for f in files {
        let mut mine = Vec::new();
        match spec::load_file_with(f, set) {
            Err(spec::overrides::Error::Usage(m)) => return Err(spec::overrides::Error::Usage(m)),
            Err(spec::overrides::Error::Invalid(p)) => mine.extend(p),
            Ok(s) => match (resolve(&s, catalog), crate::approval::OnFile::load_for(f)) {
                (Ok(priced), Ok(approval)) => loaded.push(Loaded {
                    spec: s,
                    priced,
                    approval,
                }),
                (priced, approval) => {
                    let mut p = priced.err().unwrap_or_default();
                    spec::overrides::attribute(&mut p, &s.overrides);
                    mine.extend(p);
                    mine.extend(approval.err().unwrap_or_default());
                }
            },
        }
        if files.len() > 1 && !set.is_empty() {
            // the same flag applies to every spec: say which one it broke
            let file = f.display().to_string();
            for p in &mut mine {
                if p.span.file.starts_with("--set ") {
                    p.span.file = format!("{} (in {file})", p.span.file).into();
                }
            }
        }
        problems.extend(mine);
    }
    for o in set {
        if let Some(id) = &o.feature
            && problems.is_empty()
            && !loaded.iter().any(|l| l.spec.feature.id == *id)
        {
            let ids: Vec<&str> = loaded.iter().map(|l| l.spec.feature.id.as_str()).collect();
            return Err(spec::overrides::Error::Usage(format!(
                "{}: no spec of this run has the feature id `{id}` (this run checks: {})",
                o.shown(),
                ids.join(", ")
            )));
        }
    }
    let mut ids: Vec<(&str, &str)> = Vec::new();
    for l in &loaded {
        if let Some((_, other)) = ids.iter().find(|(id, _)| *id == l.spec.feature.id) {
            problems.push(Problem {
                code: crate::source::ProblemCode::DuplicateId,
                span: l.spec.span(l.spec.feature.loc, "feature.id"),
                message: format!("feature id `{}` is also used by {other}", l.spec.feature.id),
                hint: Some("give every feature its own id".into()),
            });
        } else {
            ids.push((&l.spec.feature.id, &l.spec.file));
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(problems.into())
    }
}

/// Whether `spec` can be simulated over `trials` months within the work
/// limits (`sim::limits`): every path that simulates a spec checks it here,
/// so `check`, `approve`, `diff`, `report` and a program using the library
/// refuse the same specs with the same message.
pub fn within_limits(spec: &Spec, trials: usize) -> Result<(), Problem> {
    if trials == 0 {
        return Ok(());
    }
    sim::limits::check(spec, trials)
        .map(|_| ())
        .map_err(|e| too_large(spec, e))
}

/// [`within_limits`] for analysis `what`, which simulates `spec` about
/// `runs` times: each run within the single-run limits, and all of them
/// within the analysis limit.
pub fn within_limits_for(spec: &Spec, trials: usize, runs: f64, what: sim::limits::Analysis) -> Result<(), Problem> {
    within_limits(spec, trials)?;
    if trials == 0 {
        return Ok(());
    }
    sim::limits::check_runs(spec, trials, runs, what)
        .map(|_| ())
        .map_err(|e| too_large(spec, e))
}

fn too_large(spec: &Spec, e: sim::limits::TooLarge) -> Problem {
    Problem {
        code: crate::source::ProblemCode::OutOfRange,
        span: spec.span(e.loc, &e.path),
        message: e.message,
        hint: Some(e.hint),
    }
}

/// Compute everything for one loaded spec; a problem, and nothing
/// simulated, when the spec is too large to simulate at the trials asked
/// for ([`within_limits`]).
pub fn analyse(
    l: &Loaded,
    policy: &Policy,
    sim_opts: &Options,
    today: jiff::civil::Date,
) -> Result<FeatureReport, Problem> {
    analyse_with(l, policy, sim_opts, today, None, None)
}

/// [`analyse`], and with `observed` usage logs: each quantity they measure
/// compared with the spec's (the `observed-above-model` rule), and the month
/// simulated again with the observed distributions beside the spec's.
pub fn analyse_with(
    l: &Loaded,
    policy: &Policy,
    sim_opts: &Options,
    today: jiff::civil::Date,
    observed: Option<&observed::Observed>,
    runtime: Option<&crate::runtime::Deployed>,
) -> Result<FeatureReport, Problem> {
    within_limits(&l.spec, sim_opts.trials)?;
    let spec = &l.spec;
    let th = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let model = Model::new(spec, &l.priced, th.worst_case_quantile);
    let units = unit_costs(&model);
    let worst = worst_case(&model);
    let typical = sim::typical(&model);
    let opts = Options {
        confidence: th.confidence,
        label: crate::untrusted::clean(&spec.feature.id).into_owned(),
        ..sim_opts.clone()
    };
    let simulation = (opts.trials > 0).then(|| sim::simulate(&model, &opts));
    // The analysis simulates the spec about twice per uncertain input: past
    // the work limit of an analysis it is not computed, and the report
    // says so (the check itself goes on).
    let mut sensitivity_not_computed = None;
    let sensitivity = if opts.trials > 0 && opts.sensitivity {
        let runs = sim::sensitivity::runs(&model) as f64;
        match sim::limits::check_runs(spec, opts.trials, runs, sim::limits::Analysis::Sensitivity) {
            Ok(_) => Some(sim::sensitivity::analyse(&model, &opts)),
            Err(e) => {
                sensitivity_not_computed = Some(format!("{}; {}", e.message, e.hint));
                None
            }
        }
    } else {
        None
    };
    let drift = observed.map_or_else(Vec::new, |o| crate::calibrate::drift(spec, &o.observations));
    let runtime_cmp = runtime.map(|d| crate::runtime::compare(spec, &l.priced, d));
    let runtime_findings = runtime_cmp.as_ref().map_or(&[][..], |c| &c.findings[..]);
    let mut findings = evaluate(
        &FeatureFacts {
            spec,
            unit_costs: &units,
            typical: &typical,
            worst: &worst,
            sim: simulation.as_ref(),
            pricing: &l.priced.catalog,
            drift: &drift,
            runtime: runtime_findings,
        },
        policy,
        today,
    );
    if let Some(s) = &sensitivity {
        explain(&mut findings, s);
    }
    let approval = crate::approval::apply(spec, &l.priced, l.approval.as_ref(), &mut findings, policy, today);
    let verdict = verdict_of(&findings);
    let interactions = typical_interactions(&model, spec);
    let mean_cost = simulation.as_ref().and_then(|s| s.cost.mean).unwrap_or(typical.cost);
    let cost_at = crate::outcome::cost_at_confidence(simulation.as_ref(), &typical);
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
    let breach_probabilities = simulation.as_ref().map_or_else(Vec::new, |s| breaches(spec, s, &th));
    let scenario_effects = simulation.as_ref().map_or_else(Vec::new, |s| {
        s.scenarios
            .iter()
            .map(|x| ScenarioEffect::of(x, s.trials, s.confidence))
            .collect()
    });
    let observed_report = match observed {
        Some(o) => Some(observed::report(
            l,
            o,
            drift,
            &model_month(&typical, simulation.as_ref()),
            &opts,
            th.worst_case_quantile,
        )?),
        None => None,
    };
    Ok(FeatureReport {
        file: spec.file.to_string(),
        id: spec.feature.id.clone(),
        name: spec.feature.name.clone(),
        owner: spec.feature.owner.clone(),
        verdict,
        blocked_not_new: false,
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
        sensitivity,
        sensitivity_not_computed,
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
        scenario_effects,
        thresholds: th,
        assumptions: assumptions(spec, &l.priced),
        findings,
        limits: crate::report::limits::of(spec),
        approval,
        observed: observed_report,
        runtime: runtime_cmp,
        overrides: spec.overrides.clone(),
    })
}

/// Each finding about the simulated month's cost (`p95-over-budget`,
/// `infra-budget-share`) or its cost/revenue ratio
/// (`cost-revenue-over-max`, `cost-revenue-needs-approval`) gets, after its
/// help, the two inputs that move that figure most. Only the help changes:
/// what an approval binds to (the rule, the figure, the threshold) does not.
pub fn explain(findings: &mut [policy::Finding], s: &sim::sensitivity::Sensitivity) {
    use crate::policy::Rule;
    for f in findings {
        let ratio = match f.rule {
            Rule::P95OverBudget | Rule::InfraBudgetShare => false,
            Rule::CostRevenueOverMax | Rule::CostRevenueNeedsApproval => true,
            _ => continue,
        };
        if let Some(d) = s.drivers(ratio) {
            f.help = format!("{}. {d}", f.help.trim_end_matches('.'));
        }
    }
}

/// The spec's own month as the observed month is shown beside it.
fn model_month(typical: &sim::Typical, simulation: Option<&sim::SimResult>) -> crate::outcome::Month {
    crate::outcome::Month {
        mean_usd: simulation.and_then(|s| s.cost.mean).unwrap_or(typical.cost),
        at_confidence_usd: crate::outcome::cost_at_confidence(simulation, typical),
    }
}

/// The share of simulated months beyond each threshold of the policy; `None`
/// where the threshold does not apply to this feature (the verdict's own
/// rule: a cost/revenue ratio with no revenue, an infrastructure share with
/// no infrastructure budget).
fn breaches(spec: &Spec, sim: &sim::SimResult, th: &crate::policy::Thresholds) -> Vec<Breach> {
    let ratio_applies = crate::policy::rules::ratio_applies(spec, sim.ratio_samples.quantile(th.confidence));
    let cost = |name: &str, value: f64, applies: bool| Breach {
        threshold: name.to_string(),
        value,
        probability: applies.then(|| sim.cost_samples.share_above(value)),
    };
    let ratio = |name: &str, value: f64| Breach {
        threshold: name.to_string(),
        value,
        probability: ratio_applies.then(|| sim.ratio_samples.share_above(value)),
    };
    vec![
        cost("worst_case_monthly_usd", th.worst_case_monthly_usd, true),
        cost("p95_monthly_usd", th.p95_monthly_usd, true),
        ratio("approval_cost_revenue_ratio", th.approval_cost_revenue_ratio),
        ratio("max_cost_revenue_ratio", th.max_cost_revenue_ratio),
        cost(
            "infra_budget_share",
            th.infra_monthly_budget_usd * th.max_infra_budget_share,
            th.infra_monthly_budget_usd > 0.0,
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

/// Where a located number came from: the spec, or (not written) the default.
fn origin_at(loc: crate::source::Loc) -> spec::Origin {
    if loc.is_known() {
        spec::Origin::at(loc)
    } else {
        spec::Origin::Default
    }
}

/// Every input that enters the figures, with where it came from: the spec
/// (line and column), a measurement, costgate's default, or the price
/// catalog's entry.
pub fn assumptions(spec: &Spec, priced: &crate::pricing::PricedModels) -> Vec<Assumption> {
    use crate::fmt::{count as n, pct, usd};
    let q = |x: &spec::Quantity| Assumption {
        path: x.path.clone(),
        value: describe_dist(&x.dist),
        origin: x.origin.clone(),
    };
    let num = |x: &spec::Num, value: String| Assumption {
        path: x.path.clone(),
        value,
        origin: origin_at(x.loc),
    };
    let mut all: Vec<Assumption> = Vec::new();
    // models and their prices
    for m in &priced.models {
        let p = &m.price;
        let rate = crate::fmt::usd_per_mtok;
        let mut value = format!(
            "{} ({}): input {}, cached input {}, output {} per million tokens",
            p.id,
            p.provider,
            rate(p.input_usd_per_mtok),
            p.cached_input_usd_per_mtok.map_or("at the input price".into(), rate),
            rate(p.output_usd_per_mtok)
        );
        if let Some(w) = p.context_window {
            value.push_str(&format!("; context window {}", n(w)));
        }
        if let Some(o) = p.max_output_tokens {
            value.push_str(&format!("; output limit {}", n(o)));
        }
        let origin = match spec.model(&m.key) {
            Some(d) if p.is_from_spec() => origin_at(d.loc),
            _ => spec::Origin::Catalog {
                entry: p.id.clone(),
                source: p.source_or(&priced.catalog.name).to_string(),
            },
        };
        all.push(Assumption {
            path: format!("models.{}", m.key),
            value,
            origin,
        });
    }
    let i = &spec.interaction;
    all.push(q(&i.calls));
    all.push(q(&i.input_tokens));
    all.push(q(&i.output_tokens));
    all.push(q(&i.cached_input_share));
    for (x, name) in [
        (&i.max_calls, "max_calls"),
        (&i.max_input_tokens, "max_input_tokens"),
        (&i.max_output_tokens, "max_output_tokens"),
    ] {
        match x {
            Some(x) => all.push(num(x, n(x.value))),
            None => all.push(Assumption {
                path: format!("interaction.{name}"),
                value: match name {
                    "max_calls" => "none: one interaction's calls have no ceiling".into(),
                    "max_input_tokens" => "none: the model's context window".into(),
                    _ => "none: the model's output limit".into(),
                },
                origin: spec::Origin::Default,
            }),
        }
    }
    all.push(Assumption {
        path: "usage.days".into(),
        value: n(f64::from(spec.usage.days)),
        origin: origin_at(spec.usage.days_loc),
    });
    all.push(q(&spec.usage.active_share));
    all.push(q(&spec.usage.interactions_per_active_day));
    match &spec.usage.power_users {
        Some(p) => {
            all.push(num(&p.share, pct(p.share.value)));
            all.push(num(
                &p.multiplier,
                format!("{}x the interactions", n(p.multiplier.value)),
            ));
        }
        None => all.push(Assumption {
            path: "usage.power_users".into(),
            value: "none: every user has the same usage".into(),
            origin: spec::Origin::Default,
        }),
    }
    for t in &spec.tiers {
        match &t.audience {
            Audience::Users { users } => all.push(q(users)),
            Audience::Tenants {
                tenants,
                users_per_tenant,
            } => {
                all.push(q(tenants));
                all.push(q(users_per_tenant));
            }
        }
        match &t.price_usd_per_month {
            Some(p) => all.push(num(p, usd(p.value))),
            None => all.push(Assumption {
                path: format!("{}.price_usd_per_month", t.path),
                value: "none: no revenue is counted".into(),
                origin: spec::Origin::Default,
            }),
        }
        all.push(Assumption {
            path: format!("{}.model", t.path),
            value: t.model.clone(),
            origin: origin_at(t.model_loc),
        });
        if let Some(l) = &t.limit {
            if let Some(x) = &l.daily_tokens {
                all.push(num(x, format!("{} tokens a day", n(x.value))));
            }
            if let Some(x) = &l.monthly_tokens {
                all.push(num(x, format!("{} tokens a month", n(x.value))));
            }
            if let Some(x) = &l.warn_at {
                all.push(num(x, pct(x.value)));
            }
            all.push(Assumption {
                path: format!("{}.on_limit", l.path),
                value: l.on_limit.as_str().to_string(),
                origin: if l.on_limit_loc == l.loc {
                    spec::Origin::Default
                } else {
                    origin_at(l.on_limit_loc)
                },
            });
            if let Some(fb) = &l.fallback_model {
                all.push(Assumption {
                    path: format!("{}.fallback_model", l.path),
                    value: fb.clone(),
                    origin: origin_at(l.loc),
                });
            }
            match l.on_limit {
                spec::OnLimit::Shrink => all.push(Assumption {
                    path: format!("{}.shrink_to", l.path),
                    value: format!("{} of the output kept past the cap", pct(l.shrink_to)),
                    origin: origin_at(l.shrink_to_loc),
                }),
                spec::OnLimit::Throttle => all.push(Assumption {
                    path: format!("{}.throttle_to", l.path),
                    value: format!("{} of the demand past the cap served", pct(l.throttle_to)),
                    origin: origin_at(l.throttle_to_loc),
                }),
                _ => {}
            }
            if let Some(u) = &l.top_up {
                all.push(num(&u.price_usd, format!("{} a top-up", usd(u.price_usd.value))));
                all.push(num(
                    &u.amount,
                    format!("{} {} a top-up", n(u.amount.value), u.unit.as_str()),
                ));
                all.push(q(&u.uptake));
                all.push(num(
                    &u.max_per_month,
                    format!("at most {} top-ups a user a month", n(u.max_per_month.value)),
                ));
            }
        }
        if let Some(o) = &t.overage {
            all.push(num(
                &o.after_daily_tokens,
                format!("{} tokens a day", n(o.after_daily_tokens.value)),
            ));
            all.push(num(
                &o.usd_per_1k_tokens,
                format!("{} per 1,000 tokens", usd(o.usd_per_1k_tokens.value)),
            ));
        }
        if let Some(b) = &t.tenant_budget {
            match &b.monthly_drawn {
                // Drawn per tenant: the distribution, as every quantity.
                Some(d) => all.push(q(d)),
                None => all.push(num(
                    &b.monthly_usd,
                    format!("{} a tenant a month", usd(b.monthly_usd.value)),
                )),
            }
            let alerts: Vec<String> = b.alerts.iter().map(|a| pct(*a)).collect();
            all.push(Assumption {
                path: format!("{}.tenant_budget.on_limit", t.path),
                value: format!(
                    "{}; alerts at {}",
                    match b.on_limit {
                        spec::OnBudget::Block => "block",
                        spec::OnBudget::Notify => "notify",
                    },
                    alerts.join(", ")
                ),
                origin: origin_at(b.loc),
            });
        }
        for a in &t.accounts {
            all.push(q(&a.users));
            match &a.price_usd_per_month {
                Some(p) => all.push(num(p, usd(p.value))),
                None => all.push(Assumption {
                    path: format!("{}.price_usd_per_month", a.path),
                    value: "the tier's price".into(),
                    origin: spec::Origin::Default,
                }),
            }
            all.push(num(&a.monthly_usd, format!("{} a month", usd(a.monthly_usd.value))));
            let alerts: Vec<String> = a.alerts.iter().map(|x| pct(*x)).collect();
            all.push(Assumption {
                path: format!("{}.on_limit", a.path),
                value: format!(
                    "{}; alerts at {}",
                    if a.on_budget_block() { "block" } else { "notify" },
                    alerts.join(", ")
                ),
                origin: origin_at(a.loc),
            });
        }
    }
    for (name, level, b) in spec.breakers.levels() {
        let per = match level {
            spec::BreakerLevel::User => " a user",
            spec::BreakerLevel::Tenant => " a tenant",
            _ => "",
        };
        let mut what = match b.on_trip {
            spec::OnTrip::Block => format!("{}{per} a day, then blocks (breaker {name})", usd(b.limit.value)),
            spec::OnTrip::Throttle => format!(
                "{}{per} a day, then serves {} of the spend past it (breaker {name})",
                usd(b.limit.value),
                pct(b.factor)
            ),
            spec::OnTrip::Fallback => format!(
                "{}{per} a day, then serves the rest of the day with {} (breaker {name})",
                usd(b.limit.value),
                b.fallback_model.as_deref().unwrap_or_default()
            ),
            spec::OnTrip::Shrink => format!(
                "{}{per} a day, then keeps {} of the output past it (breaker {name})",
                usd(b.limit.value),
                pct(b.factor)
            ),
            spec::OnTrip::Notify => format!("{}{per} a day, then notifies only (breaker {name})", usd(b.limit.value)),
        };
        if !b.notify.is_empty() {
            let names: Vec<&str> = b.notify.iter().map(|w| w.as_str()).collect();
            what.push_str(&format!("; tells {}", names.join(", ")));
        }
        all.push(num(&b.limit, what));
    }
    if spec.scenarios.is_empty() {
        all.push(Assumption {
            path: "scenarios".into(),
            value: "none: no stress scenario is simulated".into(),
            origin: spec::Origin::Default,
        });
    }
    for (k, s) in spec.scenarios.iter().enumerate() {
        let effect = match &s.effect {
            spec::ScenarioEffect::Viral { usage_multiplier, days } => {
                format!("interactions x{} for {days} days", n(*usage_multiplier))
            }
            spec::ScenarioEffect::PowerUserDiscovery { power_share } => {
                format!("power users rise to {}", pct(*power_share))
            }
            spec::ScenarioEffect::RunawayLoop {
                calls_per_hour,
                hours_until_detected,
                tier,
            } => format!(
                "one client makes {} calls an hour for {} hours{}",
                n(*calls_per_hour),
                n(*hours_until_detected),
                tier.as_ref().map_or(String::new(), |t| format!(" (tier {t})"))
            ),
            spec::ScenarioEffect::PriceIncrease { price_multiplier } => {
                format!("prices x{} from a random day on", n(*price_multiplier))
            }
        };
        all.push(Assumption {
            path: format!("scenarios[{k}] {}", s.name),
            value: format!("{} a month: {effect}", pct(s.chance)),
            origin: origin_at(s.loc),
        });
    }
    if let Some(val) = &spec.feature.value {
        if let Some(x) = &val.units_per_interaction {
            all.push(num(x, n(x.value)));
        }
        if let Some(x) = &val.usd_per_unit {
            all.push(num(x, usd(x.value)));
        }
    }
    if let Some(b) = &spec.feature.baseline {
        all.push(num(&b.monthly_usd, usd(b.monthly_usd.value)));
    }
    // what a `--set` flag set, wholly or in part, came from the flag
    for a in &mut all {
        if let Some(o) = spec.overrides.iter().rev().find(|o| o.touches(&a.path)) {
            a.origin = spec::Origin::Override { flag: o.shown() };
        }
    }
    all
}

pub(crate) fn describe_dist(d: &crate::dist::Dist) -> String {
    use crate::dist::Dist;
    let n = |x: f64| crate::fmt::count(x);
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
        schema_version: crate::outcome::SCHEMA_VERSION,
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

/// An exception naming a feature no checked spec has matches nothing: it is
/// reported (`unused-exception`) with the first feature of the run.
fn unknown_feature_exceptions(features: &mut [FeatureReport], policy: &Policy) {
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
    let Some(f) = features.first_mut() else {
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
    policy::rules::sort_findings(&mut f.findings);
    f.verdict = verdict_of(&f.findings);
}

/// Run a whole check.
pub fn run(req: &Request) -> Result<CheckReport, Vec<Problem>> {
    run_with(req, None)
}

/// [`run`] with usage logs to compare the spec with (`check --observed`):
/// one spec only, since the logs are one feature's.
pub fn run_with(req: &Request, observed: Option<&observed::Observed>) -> Result<CheckReport, Vec<Problem>> {
    run_full(req, observed, None)
}

/// [`run_with`], and with a deployed gateway configuration to compare every
/// spec's limits with (`check --runtime`: the `runtime-limit-*` rules).
pub fn run_full(
    req: &Request,
    observed: Option<&observed::Observed>,
    runtime: Option<&crate::runtime::Deployed>,
) -> Result<CheckReport, Vec<Problem>> {
    run_what_if(req, observed, runtime, &[]).map_err(|e| match e {
        spec::overrides::Error::Invalid(p) => p,
        spec::overrides::Error::Usage(m) => vec![problem_at(Path::new("--set"), &m)],
    })
}

/// [`run_full`] with `--set` overrides applied to the specs before they are
/// validated ([`load_all_with`]): a what-if run. Each feature's report lists
/// the overrides that applied to it, and an approval on file never covers an
/// overridden run.
pub fn run_what_if(
    req: &Request,
    observed: Option<&observed::Observed>,
    runtime: Option<&crate::runtime::Deployed>,
    set: &[spec::overrides::Override],
) -> Result<CheckReport, spec::overrides::Error> {
    let files = spec_files(&req.paths)?;
    let loaded = load_all_with(&files, req.catalog, set)?;
    if observed.is_some() && loaded.len() != 1 {
        return Err(vec![Problem {
            code: crate::source::ProblemCode::InvalidValue,
            span: crate::source::Span::new(
                &std::sync::Arc::from("--observed"),
                crate::source::Loc::UNKNOWN,
                "observed",
            ),
            message: format!(
                "--observed compares one feature's logs with its spec, and {} specs were given",
                loaded.len()
            ),
            hint: Some("check the one spec the logs belong to".into()),
        }]
        .into());
    }
    // Bounded work at the trials asked for (specs were checked at the
    // default): every spec too large is named before any is simulated.
    let too_large: Vec<Problem> = loaded
        .iter()
        .filter_map(|l| {
            let mut p = [within_limits(&l.spec, req.sim.trials).err()?];
            spec::overrides::attribute(&mut p, &l.spec.overrides);
            let [p] = p;
            Some(p)
        })
        .collect();
    if !too_large.is_empty() {
        return Err(too_large.into());
    }
    let mut features: Vec<FeatureReport> = loaded
        .iter()
        .map(|l| analyse_with(l, req.policy, &req.sim, req.today, observed, runtime))
        .collect::<Result<_, _>>()
        .map_err(|p| spec::overrides::Error::Invalid(vec![p]))?;
    unknown_feature_exceptions(&mut features, req.policy);
    let portfolio = crate::portfolio::judge(&features, req.policy);
    let verdict = features
        .iter()
        .map(|f| f.verdict)
        .chain(portfolio.as_ref().map(|p| p.verdict))
        .max()
        .unwrap_or(Verdict::Pass);
    Ok(CheckReport {
        schema_version: crate::outcome::SCHEMA_VERSION,
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
