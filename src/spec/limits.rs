//! Bounded work: what simulating a spec costs, estimated from its structure
//! before anything runs, and the limits a spec (with `--trials`) must stay
//! under. The estimate adds up, over the engine's parts, how many inner steps
//! they take and how much memory they hold, so the limits hold jointly (many
//! tiers x many tenants x many scenarios x many trials), not one at a time.
//!
//! The weights are calibrated on the engine (`costgate bench`, README
//! "Accuracy and speed"): a spec at the step limit runs in under 10 s on two
//! cores at the default trials; the memory limit keeps the peak under 1 GB.
//!
//! The engine's sizes (batches, samples per class, representatives, panels)
//! are defined here, below the engine, and the engine reads them from here:
//! decoding a spec refuses one past the limits without depending on the
//! engine, and the estimate cannot drift from the sizes the engine uses.

use std::collections::HashSet;

use crate::source::Loc;
use crate::spec::{Audience, ScenarioEffect, Spec};

/// Simulated months when `--trials` is not given.
pub const DEFAULT_TRIALS: usize = 10_000;
/// Batches of trials, each with its own demand tables (fewer when there
/// are fewer trials).
pub const BATCHES: usize = 32;
/// Samples per class of user-day in each batch's demand tables.
pub const BATCH_CLASS_SAMPLES: usize = 4096;
/// Pooled interactions per user-day sample of a table (a table of `size`
/// samples per class draws from a pool of `POOL_PER_SAMPLE * size`).
pub const POOL_PER_SAMPLE: usize = 2;
/// Interactions summed one by one in a user-day; past this, the rest are
/// added at the pool's mean (their relative spread is below 1/16 of one's).
pub(crate) const EXACT_INTERACTIONS: usize = 256;
/// Calls drawn one by one in an interaction of the pool; past this, the rest
/// are added at the mean of a call (so the pool's cost does not grow with
/// `calls`; the relative spread of the rest is below 1/16 of one call's).
pub(crate) const EXACT_CALLS: usize = 256;
/// Panel users per tier with a monthly cap or a top-up.
pub const PANEL_USERS: usize = 2048;
/// Tenants of a tier simulated one by one; past this, the tier's tenants are
/// simulated through this many representatives (see
/// `sim::month::TenantStrata`).
pub const TENANT_REPS: usize = 64;

/// Most steps a run may take (about 10 s on two cores; see the module doc).
pub const MAX_STEPS: f64 = 6.0e9;
/// Most steps an analysis that simulates the spec many times may take in
/// all (`costgate tune`'s candidates, the sensitivity analysis's variants):
/// 32 single runs at the step limit, about 5 minutes on two cores.
pub const MAX_ANALYSIS_STEPS: f64 = 32.0 * MAX_STEPS;
/// Most memory a run may hold, in bytes.
pub const MAX_BYTES: f64 = 768.0 * 1024.0 * 1024.0;
/// Steps per panel user and day of a tier with a monthly cap. Measured on
/// the release build at 10,000 trials (README "Bounded work"): two such
/// tiers took 15.3 s of CPU, about 12 ns, so 3.7 steps, a panel user-day.
const PANEL_STEP: f64 = 4.0;
/// Steps per panel user and day of a tier with a top-up (its own panel,
/// which follows its monthly cap too): a buyer's wallet each day past the
/// caps. Measured as above: a free tier with a top-up beside a pro tier
/// with a monthly cap took 22.5 s of CPU, 14.8 s of it the top-up's, about
/// 24 ns, so 7.3 steps, a panel user-day.
const TOPUP_PANEL_STEP: f64 = 8.0;
/// Steps per quantile of a PERT distribution (60 evaluations of the
/// incomplete beta function; calibrated on 7 represented tiers of PERT
/// tenants, README "Bounded work").
const PERT_QUANTILE: f64 = 9000.0;
/// Most simulated months (`--trials`).
pub const MAX_TRIALS: u64 = 1_000_000;

/// The cost of simulating a spec, and the part that costs the most.
#[derive(Clone, Debug, PartialEq)]
pub struct Work {
    /// Inner steps of the engine, in all.
    pub steps: f64,
    /// Memory held at the peak, in bytes.
    pub bytes: f64,
    /// The largest part, in words.
    pub largest: String,
}

/// Why a spec cannot be simulated within the limits.
#[derive(Clone, Debug, PartialEq)]
pub struct TooLarge {
    /// Where the spec is pointed at (its first tier).
    pub loc: Loc,
    /// The field path pointed at (`tiers`).
    pub path: String,
    /// What is too large, with the figures.
    pub message: String,
    /// What to reduce.
    pub hint: String,
}

/// The quantile at which the spec's counts (tenants, calls, interactions)
/// are sized: the policy's default `worst_case_quantile`. The limits are
/// checked when a spec is read, before any policy is (a policy may read a
/// higher quantile; the counts past [`TENANT_REPS`] and the exact calls and
/// interactions cost no more).
pub const SIZING_QUANTILE: f64 = 0.999;

/// Estimate the work of simulating `spec` over `trials` months.
pub fn work(spec: &Spec, trials: usize) -> Work {
    let q = SIZING_QUANTILE;
    let n = trials.max(1) as f64;
    let days = spec.usage.days as f64;
    let tiers = spec.tiers.len() as f64;
    let models = spec.models.len().max(1) as f64;
    let viral: HashSet<u64> = spec
        .scenarios
        .iter()
        .filter_map(|s| match s.effect {
            ScenarioEffect::Viral { usage_multiplier, .. } => Some(usage_multiplier.to_bits()),
            _ => None,
        })
        .collect();
    let classes = 2.0 * (viral.len() as f64 + 1.0);
    let loops = spec
        .scenarios
        .iter()
        .filter(|s| matches!(s.effect, ScenarioEffect::RunawayLoop { .. }))
        .count() as f64;
    let calls = {
        let w = spec.interaction.calls.dist.worst(q);
        spec.interaction.max_calls.as_ref().map_or(w, |m| w.min(m.value))
    };
    let interactions = spec.usage.interactions_per_active_day.dist.worst(q);

    // Each batch of trials builds its own demand tables and panels (see
    // `sim::simulate`): `batches` sets of them, each of `CLASS_SAMPLES`
    // samples per class drawn from a pool of `POOL_SIZE` interactions.
    let batches = BATCHES.min(trials.max(1)) as f64;
    const CLASS_SAMPLES: usize = BATCH_CLASS_SAMPLES;
    const POOL_SIZE: usize = POOL_PER_SAMPLE * BATCH_CLASS_SAMPLES;
    let mut parts: Vec<(f64, String)> = Vec::new();
    // Demand tables: a pool of interactions, then each class of user-day.
    parts.push((
        batches * POOL_SIZE as f64 * calls.clamp(1.0, EXACT_CALLS as f64) * (1.0 + models) * 4.0,
        "calls per interaction".into(),
    ));
    parts.push((
        batches
            * classes
            * CLASS_SAMPLES as f64
            * interactions.clamp(1.0, EXACT_INTERACTIONS as f64)
            * (1.0 + models)
            * 2.0,
        format!("{} classes of user-day (viral scenarios) x {} models", classes, models),
    ));
    parts.push((
        batches * tiers * classes * CLASS_SAMPLES as f64 * 30.0,
        "tiers x classes of user-day".into(),
    ));
    // Every month: each tier each day, tenants, panels for monthly caps.
    // Quantiles of PERT distributions are found by bisection (60 steps of
    // the incomplete beta function): the interactions' in each class of the
    // demand tables, users per tenant in the tenant strata (per batch) and
    // for each represented tenant (per trial).
    let pert = |d: &crate::dist::Dist| matches!(d, crate::dist::Dist::Pert { .. });
    if pert(&spec.usage.interactions_per_active_day.dist) {
        parts.push((
            batches * classes * CLASS_SAMPLES as f64 * PERT_QUANTILE,
            "PERT quantiles (by bisection) of interactions_per_active_day".into(),
        ));
    }
    let mut pert_tenants = 0.0;
    for t in &spec.tiers {
        if let Audience::Tenants {
            tenants,
            users_per_tenant,
        } = &t.audience
            && pert(&users_per_tenant.dist)
        {
            pert_tenants += batches * 4096.0 * PERT_QUANTILE;
            if tenants.dist.worst(q).round() > TENANT_REPS as f64 {
                pert_tenants += n * TENANT_REPS as f64 * PERT_QUANTILE;
            }
        }
    }
    parts.push((pert_tenants, "PERT quantiles (by bisection) of users_per_tenant".into()));
    let mut per_trial_tiers = days * tiers * 60.0 + tiers * 40.0 * n.log2();
    let mut per_trial_tenants = 0.0;
    let mut per_trial_panels = 0.0;
    let mut panel_tiers = 0.0;
    let mut alerts = 0.0;
    let mut account_bytes = 0.0;
    for t in &spec.tiers {
        if let Audience::Tenants { tenants, .. } = &t.audience {
            let simulated = tenants.dist.worst(q).round().min(TENANT_REPS as f64 + 1.0);
            per_trial_tenants += simulated * 60.0;
            if let Some(b) = &t.tenant_budget {
                per_trial_tenants += simulated * days * (25.0 + 4.0 * b.alerts.len() as f64);
                alerts += b.alerts.len() as f64;
            } else if spec.breakers.tenant_daily_usd.is_some() {
                per_trial_tenants += simulated * days * 25.0;
            }
            // A budget drawn per tenant: one draw per simulated tenant (a
            // PERT's by bisection).
            if let Some(q) = t.tenant_budget.as_ref().and_then(|b| b.monthly_drawn.as_ref()) {
                per_trial_tenants += simulated * if pert(&q.dist) { PERT_QUANTILE } else { 60.0 };
            }
            // Named accounts: tenants of their own, each with its budget,
            // every day; their users drawn once (a PERT's by bisection).
            for a in &t.accounts {
                per_trial_tenants += 60.0 + days * (25.0 + 4.0 * a.alerts.len() as f64);
                if pert(&a.users.dist) {
                    per_trial_tenants += PERT_QUANTILE;
                }
                account_bytes += 16.0 + 8.0 * a.alerts.len() as f64;
            }
        }
        // A tier with a monthly cap, or with a top-up (whose own panel
        // follows its monthly cap too), follows one panel.
        if let Some(l) = &t.limit
            && (l.monthly_tokens.is_some() || l.top_up.is_some())
        {
            let step = if l.top_up.is_some() {
                TOPUP_PANEL_STEP
            } else {
                PANEL_STEP
            };
            per_trial_panels += PANEL_USERS as f64 * days * step;
            panel_tiers += 1.0;
        }
    }
    // A scenario's months are summarised one scenario at a time, on one core.
    per_trial_tiers += days * loops * 80.0 + spec.scenarios.len() as f64 * 120.0;
    parts.push((n * per_trial_tiers, format!("{tiers} tiers x {days} days x {n} trials")));
    parts.push((n * per_trial_tenants, "tenants x days x trials".into()));
    parts.push((
        n * per_trial_panels,
        format!(
            "{panel_tiers} tiers with a monthly cap or a top-up x {days} days x {n} trials (each follows {PANEL_USERS} simulated users)"
        ),
    ));
    // A user breaker: per tier and class, its user-days sorted by cost with
    // five prefix sums; each day of each tier a binary search per class.
    let user_breaker = spec.breakers.user_daily_usd.is_some() as u8 as f64;
    parts.push((
        user_breaker * batches * tiers * classes * CLASS_SAMPLES as f64 * (80.0 + (CLASS_SAMPLES as f64).log2()),
        "tiers x classes of user-day for the user breaker".into(),
    ));
    parts.push((
        user_breaker * n * days * tiers * 2.0 * (CLASS_SAMPLES as f64).log2() * 4.0,
        "the user breaker x tiers x days x trials".into(),
    ));
    let steps: f64 = parts.iter().map(|p| p.0).sum();
    let largest = parts
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|p| p.1.clone())
        .unwrap_or_default();

    // Memory: demand tables, panels, and what each month keeps until summarised.
    let tables = batches
        * ((classes * CLASS_SAMPLES as f64 + POOL_SIZE as f64) * 8.0 * (2.0 + 3.0 * models)
            + tiers * classes * 256.0
            + user_breaker * tiers * classes * CLASS_SAMPLES as f64 * 8.0 * 7.0);
    let panels = batches * panel_tiers * PANEL_USERS as f64 * days * 8.0;
    let month = 160.0
        + tiers * 200.0
        + alerts * 8.0
        + account_bytes
        + spec.scenarios.len() as f64
        + 8.0
            * (spec.breakers.feature_daily_usd.is_some() as u8 + spec.breakers.global_daily_usd.is_some() as u8) as f64
        + 16.0 * (spec.breakers.user_daily_usd.is_some() as u8 + spec.breakers.tenant_daily_usd.is_some() as u8) as f64;
    let bytes = tables + panels + n * (month + 64.0);
    Work { steps, bytes, largest }
}

/// Whether work `w` is within both limits.
fn within(w: &Work) -> bool {
    w.steps.is_finite() && w.steps <= MAX_STEPS && w.bytes.is_finite() && w.bytes <= MAX_BYTES
}

/// The most trials in `fits..too_many` that keep `spec` within the limits,
/// given that `fits` trials do and `too_many` do not (the work grows with
/// the trials).
fn most_trials(spec: &Spec, fits: usize, too_many: usize) -> usize {
    most_trials_where(fits, too_many, |n| within(&work(spec, n)))
}

/// The most trials in `fits..too_many` for which `fit` holds, by bisection,
/// given that it holds at `fits` and not at `too_many` (work grows with the
/// trials).
fn most_trials_where(mut fits: usize, mut too_many: usize, fit: impl Fn(usize) -> bool) -> usize {
    while too_many - fits > 1 {
        let mid = fits + (too_many - fits) / 2;
        if fit(mid) {
            fits = mid;
        } else {
            too_many = mid;
        }
    }
    fits
}

/// An analysis that simulates a spec many times, bounded by
/// [`MAX_ANALYSIS_STEPS`] in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analysis {
    /// `costgate tune`: one simulation per candidate (and per search step
    /// when coupled).
    Tune,
    /// The sensitivity analysis: two simulations per uncertain input.
    Sensitivity,
}

impl Analysis {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Analysis::Tune => "tune",
            Analysis::Sensitivity => "the sensitivity analysis",
        }
    }

    /// What else than fewer trials makes it smaller, if anything.
    fn fewer(self) -> Option<&'static str> {
        match self {
            Analysis::Tune => {
                Some("search fewer candidates (`--candidates`), kinds of limit (`--vary`) or tiers (`--tier`)")
            }
            Analysis::Sensitivity => None,
        }
    }
}

/// `Ok` when analysis `what`, which simulates `spec` about `runs` times
/// over `trials` months, stays within [`MAX_ANALYSIS_STEPS`] (each run
/// within the single-run limits: check those first with [`check`]). The
/// hint says how many trials fit, or what else to reduce.
pub fn check_runs(spec: &Spec, trials: usize, runs: f64, what: Analysis) -> Result<Work, TooLarge> {
    let runs = runs.max(1.0);
    let fits_in = |steps: f64| (steps * runs).is_finite() && steps * runs <= MAX_ANALYSIS_STEPS;
    let w = work(spec, trials);
    let total = w.steps * runs;
    if fits_in(w.steps) {
        return Ok(w);
    }
    let fits = most_trials_where(0, trials.max(1), |n| fits_in(work(spec, n).steps));
    let hint = match (fits >= 100, what.fewer()) {
        (true, Some(fewer)) => format!(
            "at most {} trials fit (`--trials {fits}`), or {fewer}",
            crate::fmt::count(fits as f64)
        ),
        (true, None) => format!(
            "at most {} trials fit (`--trials {fits}`)",
            crate::fmt::count(fits as f64)
        ),
        (false, Some(fewer)) => fewer.to_string(),
        (false, None) => format!(
            "its largest part is {}; use fewer tiers, tenants, viral scenarios, models or days",
            w.largest
        ),
    };
    Err(TooLarge {
        loc: spec.tiers.first().map_or(spec.feature.loc, |t| t.loc),
        path: "tiers".into(),
        message: format!(
            "{} simulates the spec about {runs:.0} times: at {} trials that needs about {:.1}x the work costgate \
             allows an analysis ({:.1e} of {:.1e} steps)",
            what.name(),
            crate::fmt::count(trials as f64),
            total / MAX_ANALYSIS_STEPS,
            total,
            MAX_ANALYSIS_STEPS
        ),
        hint,
    })
}

/// `Ok` when `spec` can be simulated over `trials` months within the limits.
///
/// The hint names the cause: when the spec fits at the default trials (as
/// every spec that validated does) and only the trials asked for are too
/// many, it says how many fit; otherwise it names the spec's largest part,
/// which fewer trials would not fix.
pub fn check(spec: &Spec, trials: usize) -> Result<Work, TooLarge> {
    let w = work(spec, trials);
    if within(&w) {
        return Ok(w);
    }
    let default = DEFAULT_TRIALS;
    let trials_cause = trials > default && within(&work(spec, default));
    let hint = if trials_cause {
        let n = most_trials(spec, default, trials);
        format!(
            "the spec itself fits: it is the {} trials asked for; at most {} fit (`--trials {n}`)",
            crate::fmt::count(trials as f64),
            crate::fmt::count(n as f64)
        )
    } else {
        format!(
            "its largest part is {}; use fewer tiers, tenants, viral scenarios, models or days",
            w.largest
        )
    };
    let fail = |what: String| TooLarge {
        loc: spec.tiers.first().map_or(spec.feature.loc, |t| t.loc),
        path: "tiers".into(),
        message: format!("the spec is too large to simulate: {what}"),
        hint: hint.clone(),
    };
    if !w.steps.is_finite() || w.steps > MAX_STEPS {
        return Err(fail(format!(
            "at {trials} trials it needs about {:.1}x the work costgate allows ({:.1e} of {:.1e} steps)",
            w.steps / MAX_STEPS,
            w.steps,
            MAX_STEPS
        )));
    }
    Err(fail(format!(
        "at {trials} trials it needs about {:.0} MB of memory; costgate allows {:.0} MB",
        w.bytes / 1048576.0,
        MAX_BYTES / 1048576.0
    )))
}
