//! Calibration: the statistics that turn usage logs into a spec's
//! quantities ([`fit`]), and that compare a spec in force with what
//! production shows ([`drift`]).
//!
//! Calls ([`crate::logs::Call`]) stream through an [`Observer`], which keeps
//! only histograms and per-user-day, per-user, per-tenant and per-interaction
//! aggregates; [`fit`] then chooses, for each quantity the logs can measure,
//! the spec form that fits it (`{p50, p95}`, `{mean, sd}` or `{samples}`) by
//! the worst relative error of its quantiles p50..p99, and gives each tail
//! figure a bootstrap interval. [`apply`] writes the fitted quantities into a
//! spec (origin `measured`).
//!
//! Documented constants: [`DEFAULT_GAP_S`], [`DEFAULT_POWER_K`],
//! [`BOOTSTRAP_B`], [`MIN_TAIL_USERS`], [`MIN_TAIL_USER_DAYS`],
//! [`FIT_TOLERANCE`], [`MEAN_TOLERANCE`], [`EMPIRICAL_BINS`].

mod drift;
mod observe;
mod sample;

use serde::Serialize;

use crate::dist::{Dist, Z95};
use crate::source::Loc;
use crate::spec::{Audience, Num, Origin, PowerUsers, Quantity, Spec};

pub use drift::{Drift, drift};
pub use observe::{MAX_MODELS, Observations, Observer};
use sample::{COUNT, Range, SHARE, Sample, choose, percentile_interval, rng_for, with_p95};

/// Calls of one user no more than this many seconds apart (start to start)
/// are one interaction, when the log has no trace, session or conversation
/// id: a model call of an agent or a retry starts within a minute of the
/// previous one's start (a long answer streams for tens of seconds), while a
/// person reading an answer and asking again takes longer.
pub const DEFAULT_GAP_S: f64 = 60.0;

/// Users whose mean interactions per active day is above this many times the
/// median user's are power users.
pub const DEFAULT_POWER_K: f64 = 3.0;

/// Bootstrap resamples for every interval (fewer for very large logs: at
/// most [`BOOTSTRAP_WORK`] unit-weights are drawn per quantity, and never
/// fewer than [`BOOTSTRAP_MIN_B`] resamples).
pub const BOOTSTRAP_B: usize = 200;
/// The least number of resamples a very large log gets.
pub const BOOTSTRAP_MIN_B: usize = 50;
/// Unit-weights drawn per quantity at most (resamples x distinct units).
pub const BOOTSTRAP_WORK: f64 = 5e7;

/// Fewer users than this and the tail cannot be told: the p99 user of 200
/// users is the second-largest, of 50 it does not exist in the sample.
pub const MIN_TAIL_USERS: u64 = 200;
/// Fewer active user-days than this and the tail cannot be told (10
/// user-days above the p99).
pub const MIN_TAIL_USER_DAYS: u64 = 1000;

/// A parametric form is written when its worst relative quantile error over
/// p50, p90, p95 and p99 is at most this; otherwise the samples are.
pub const FIT_TOLERANCE: f64 = 0.10;

/// A parametric form is written only when its mean is also within this of
/// the observed mean (the month's cost is a sum: its mean is what it adds up).
pub const MEAN_TOLERANCE: f64 = 0.05;

/// An empirical fit of more observations than this is written as this many
/// equal-probability bin means (the mean is kept exactly; each quantile is
/// within the width of the bin that holds it, 0.1% of the probability).
pub const EMPIRICAL_BINS: usize = 1000;

/// The active share is measured over at most this many days (ten years): a
/// log whose times span more has wrong times.
pub const MAX_PERIOD_DAYS: u64 = 3660;

/// The quantiles of every fit table.
pub const TABLE_QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// The default bootstrap seed.
pub const DEFAULT_SEED: u64 = 13;

/// Which figure a tail is written as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FitMode {
    /// The upper end of the 90% bootstrap interval of each tail figure (the
    /// p95 of a distribution; a share of power users and their multiplier),
    /// and the lower end of the cached share's interval: the figures that
    /// cost more, since a small sample understates its tail.
    #[default]
    Tail,
    /// The point estimates.
    Central,
}

/// What [`fit`] is asked to do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Options {
    /// The users the feature has (active or not); needed for the active
    /// share. `None`: the active share is not measured.
    pub population: Option<f64>,
    /// Tail figures at the upper end of their interval, or central.
    pub fit: FitMode,
    /// Seconds that group a user's calls into one interaction when calls
    /// carry no interaction id ([`DEFAULT_GAP_S`]).
    pub gap_s: f64,
    /// Power users: mean interactions per active day above `power_k` times
    /// the median user's ([`DEFAULT_POWER_K`]).
    pub power_k: f64,
    /// The bootstrap's seed ([`DEFAULT_SEED`]).
    pub seed: u64,
    /// Days a month has, to turn the logs' period into a month (30).
    pub days_in_month: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            population: None,
            fit: FitMode::Tail,
            gap_s: DEFAULT_GAP_S,
            power_k: DEFAULT_POWER_K,
            seed: DEFAULT_SEED,
            days_in_month: 30.0,
        }
    }
}

/// One row of a fit table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitRow {
    /// The quantile (0.5 for p50).
    pub q: f64,
    /// The observed quantile (inverse of the empirical distribution function).
    pub observed: f64,
    /// The written distribution's quantile.
    pub fitted: f64,
}

/// A candidate form and how well it fits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// `{p50, p95}`, `{mean, sd}` or `{samples}`.
    pub form: String,
    /// Worst relative quantile error over p50..p99.
    pub worst_error: f64,
    /// Relative error of its mean.
    pub mean_error: f64,
}

/// A tail figure's bootstrap interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// The figure (`p95`, `share`, `multiplier`, `mean`).
    pub figure: &'static str,
    /// Its point estimate.
    pub point: f64,
    /// Lower end of the 90% interval (5th percentile of the resamples).
    pub low: f64,
    /// Upper end (95th percentile).
    pub high: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// The seed they were drawn with.
    pub seed: u64,
    /// What was resampled (`calls`, `users`...).
    pub unit: &'static str,
}

/// A quantity fitted from the logs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fitted {
    /// The spec field path (`interaction.input_tokens`; `tiers[].users_per_tenant`
    /// for every tier of tenants; `tenants.monthly_spend_usd` is reported, not
    /// a spec field).
    pub path: String,
    /// The distribution written.
    pub dist: Dist,
    /// Why this form.
    pub why_this_form: String,
    /// Observed against fitted quantiles p50/p90/p95/p99 (empty for a single
    /// figure such as a share).
    pub table: Vec<FitRow>,
    /// The candidates' worst quantile errors.
    pub candidates: Vec<Candidate>,
    /// The tail figure's 90% bootstrap interval.
    pub interval: Option<Interval>,
    /// Observations behind it.
    pub n: u64,
    /// What one observation is: `calls`, `interactions`, `user-days`,
    /// `users`, `tenants`, `days`.
    pub unit: &'static str,
}

/// One model's share of the calls and tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelShare {
    /// The model as the log names it (untrusted text: make it inert before
    /// printing).
    pub model: String,
    /// Its calls.
    pub calls: u64,
    /// Its share of calls.
    pub call_share: f64,
    /// Its share of tokens (input + output).
    pub token_share: f64,
}

/// Where the figures came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Provenance {
    /// Records (calls) read.
    pub records: u64,
    /// Distinct users.
    pub users: u64,
    /// Active user-days.
    pub user_days: u64,
    /// Interactions formed.
    pub interactions: u64,
    /// Tenants.
    pub tenants: u64,
    /// First call, seconds since the epoch.
    pub first_s: Option<f64>,
    /// Last call.
    pub last_s: Option<f64>,
    /// UTC days from the first to the last, both included.
    pub period_days: u64,
    /// Calls without a time (they count for per-call figures, not for days).
    pub untimed: u64,
    /// Calls without a user.
    pub without_user: u64,
}

/// What [`fit`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// The fitted quantities.
    pub fitted: Vec<Fitted>,
    /// Quantities the logs cannot measure, with why: the spec keeps them.
    pub unmeasured: Vec<(String, String)>,
    /// What the report must say about the figures (small samples, calls left
    /// out).
    pub warnings: Vec<String>,
    /// Share of calls and tokens per model, when several models appear (the
    /// spec has no form for a mix: reported only).
    pub model_mix: Vec<ModelShare>,
    /// Records, users, user-days, period.
    pub provenance: Provenance,
    /// The options it was fitted with.
    pub options: Options,
}

impl Calibration {
    /// The fitted quantity at `path`.
    pub fn get(&self, path: &str) -> Option<&Fitted> {
        self.fitted.iter().find(|f| f.path == path)
    }
}

/// Resamples for `units` distinct weights (see [`BOOTSTRAP_B`]).
fn resamples(units: usize) -> usize {
    let b = (BOOTSTRAP_WORK / units.max(1) as f64) as usize;
    b.clamp(BOOTSTRAP_MIN_B, BOOTSTRAP_B)
}

/// Fit a sample: choose its form, bootstrap its p95 with `rep` (one
/// resample's p95), and write the tail per the options.
#[allow(clippy::too_many_arguments)]
fn fit_sample(
    path: &str,
    unit: &'static str,
    boot_unit: &'static str,
    s: &Sample,
    r: Range,
    opts: &Options,
    units: usize,
    mut rep: impl FnMut(&mut rand_chacha::ChaCha8Rng) -> f64,
) -> Fitted {
    let choice = choose(s, r);
    let b = resamples(units);
    let mut rng = rng_for(opts.seed, path);
    let reps: Vec<f64> = (0..b).map(|_| rep(&mut rng)).collect();
    let (low, high) = percentile_interval(reps);
    let point = s.quantile(0.95);
    let mut why = choice.why;
    let dist = match opts.fit {
        FitMode::Tail if high > choice.dist.quantile(0.95) => {
            why.push_str(&format!(
                "; p95 written at the upper end of its 90% interval ({})",
                fmt_num(high)
            ));
            with_p95(&choice.dist, high, r)
        }
        _ => choice.dist,
    };
    Fitted {
        path: path.to_string(),
        table: sample::table(s, &dist),
        dist,
        why_this_form: why,
        candidates: choice.candidates,
        interval: Some(Interval {
            figure: "p95",
            point,
            low,
            high,
            resamples: b,
            seed: opts.seed,
            unit: boot_unit,
        }),
        n: s.total().round() as u64,
        unit,
    }
}

fn fmt_num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        format!("{x:.4}")
    }
}

/// A histogram sample, bootstrapped by Poisson weights per distinct value
/// (multinomial resampling of the units behind the counts).
fn fit_counts(path: &str, unit: &'static str, counts: &[(u64, u64)], r: Range, opts: &Options) -> Fitted {
    let s = Sample::from_pairs(counts.iter().map(|(v, c)| (*v as f64, *c as f64)).collect());
    fit_sample(path, unit, unit, &s, r, opts, counts.len(), |rng| {
        s.poisson_resample(rng).quantile(0.95)
    })
}

const AT_LEAST_ONE: Range = Range {
    lo: 1.0,
    hi: f64::INFINITY,
};

/// Fit every quantity the observations can measure.
pub fn fit(obs: &Observations, opts: &Options) -> Calibration {
    let mut fitted = Vec::new();
    let mut unmeasured: Vec<(String, String)> = Vec::new();
    let mut warnings = Vec::new();
    let user_days = obs.user_days();
    let period_days = obs.period_days();

    if obs.records == 0 {
        warnings.push("no records: nothing was measured".to_string());
        for p in ALL_PATHS {
            unmeasured.push((p.to_string(), "no records".to_string()));
        }
        return Calibration {
            fitted,
            unmeasured,
            warnings,
            model_mix: Vec::new(),
            provenance: provenance(obs),
            options: opts.clone(),
        };
    }

    // Per call.
    fitted.push(fit_counts("interaction.input_tokens", "calls", &obs.input, COUNT, opts));
    fitted.push(fit_counts(
        "interaction.output_tokens",
        "calls",
        &obs.output,
        COUNT,
        opts,
    ));
    match cached_share(obs, opts) {
        Some(f) => fitted.push(f),
        None => unmeasured.push((
            "interaction.cached_input_share".into(),
            "no record says how many input tokens were cached".into(),
        )),
    }

    // Per interaction.
    if obs.interactions > 0 {
        fitted.push(fit_counts(
            "interaction.calls",
            "interactions",
            &obs.calls_per_interaction,
            AT_LEAST_ONE,
            opts,
        ));
    } else {
        unmeasured.push((
            "interaction.calls".into(),
            "no interaction ids, and no user with timed calls to group by time gap".into(),
        ));
    }
    if obs.ungrouped > 0 {
        warnings.push(format!(
            "{} calls have neither an interaction id nor a user and time: they are in no interaction",
            obs.ungrouped
        ));
    }
    if obs.untimed > 0 {
        warnings.push(format!(
            "{} calls have no time: they count for the per-call figures but form no user-day",
            obs.untimed
        ));
    }

    // Per user-day.
    if obs.users.is_empty() {
        let why = if obs.user_count == 0 {
            "no user ids in the logs"
        } else {
            "no timed calls of a named user: no user-days"
        };
        for p in [
            "usage.interactions_per_active_day",
            "usage.active_share",
            "usage.power_users.share",
            "usage.power_users.multiplier",
        ] {
            unmeasured.push((p.to_string(), why.to_string()));
        }
    } else {
        if (obs.users.len() as u64) < MIN_TAIL_USERS || user_days < MIN_TAIL_USER_DAYS {
            warnings.push(format!(
                "{} users over {} user-days: too few to say anything about the tail (costgate needs at least {} users and {} user-days); the tail figures are written at the upper end of their intervals only with --fit tail, and even that understates what a larger population will show",
                obs.users.len(),
                user_days,
                MIN_TAIL_USERS,
                MIN_TAIL_USER_DAYS
            ));
        }
        per_user(obs, opts, &mut fitted, &mut unmeasured, &mut warnings);
        match (opts.population, period_days) {
            (Some(_), d) if d > MAX_PERIOD_DAYS => unmeasured.push((
                "usage.active_share".into(),
                format!("the calls span {d} days, more than {MAX_PERIOD_DAYS}: check their times"),
            )),
            (Some(n), d) if n > 0.0 && d > 0 => fitted.push(active_share(obs, n, opts, &mut warnings)),
            _ => unmeasured.push((
                "usage.active_share".into(),
                "needs the population (the users the feature has, active or not)".into(),
            )),
        }
    }

    // Per tenant.
    tenant_fits(obs, opts, period_days, &mut fitted, &mut unmeasured);

    // Model mix.
    let model_mix = if obs.models.len() > 1 {
        let calls: u64 = obs.models.iter().map(|m| m.1.calls).sum();
        let tokens: f64 = obs.models.iter().map(|m| m.1.input + m.1.output).sum();
        warnings.push(format!(
            "{} models appear; the spec has no form for a model mix: see the mix, and price the tiers' models accordingly",
            obs.models.len()
        ));
        obs.models
            .iter()
            .map(|(name, t)| ModelShare {
                model: name.clone(),
                calls: t.calls,
                call_share: t.calls as f64 / calls.max(1) as f64,
                token_share: if tokens > 0.0 {
                    (t.input + t.output) / tokens
                } else {
                    0.0
                },
            })
            .collect()
    } else {
        Vec::new()
    };

    Calibration {
        fitted,
        unmeasured,
        warnings,
        model_mix,
        provenance: provenance(obs),
        options: opts.clone(),
    }
}

const ALL_PATHS: [&str; 10] = [
    "interaction.input_tokens",
    "interaction.output_tokens",
    "interaction.cached_input_share",
    "interaction.calls",
    "usage.interactions_per_active_day",
    "usage.active_share",
    "usage.power_users.share",
    "usage.power_users.multiplier",
    "tiers[].users_per_tenant",
    "tenants.monthly_spend_usd",
];

fn provenance(obs: &Observations) -> Provenance {
    Provenance {
        records: obs.records,
        users: obs.user_count,
        user_days: obs.user_days(),
        interactions: obs.interactions,
        tenants: obs.tenants.len() as u64,
        first_s: obs.first_s,
        last_s: obs.last_s,
        period_days: obs.period_days(),
        untimed: obs.untimed,
        without_user: obs.without_user,
    }
}

/// The token-weighted cached share Σcached / Σinput over calls that report
/// it, with a delta-method standard error for a ratio of means (calls are the
/// unit): the 90% interval is the estimate ± 1.645 standard errors.
fn cached_share(obs: &Observations, opts: &Options) -> Option<Fitted> {
    let n = obs.cached_calls as f64;
    let [sk, si, skk, sii, ski] = obs.cached_sums;
    if obs.cached_calls == 0 || si <= 0.0 {
        return None;
    }
    let r = sk / si;
    let se = if n > 1.0 {
        let resid = (skk - 2.0 * r * ski + r * r * sii) / (n - 1.0);
        let ibar = si / n;
        (resid.max(0.0) / n).sqrt() / ibar
    } else {
        f64::NAN
    };
    let (low, high) = ((r - Z95 * se).max(0.0), (r + Z95 * se).min(1.0));
    let written = match opts.fit {
        FitMode::Tail if low.is_finite() => low,
        _ => r,
    };
    Some(Fitted {
        path: "interaction.cached_input_share".into(),
        dist: Dist::fixed(written),
        why_this_form: format!(
            "the share of input tokens read from the cache over {} calls (Σcached / Σinput){}",
            obs.cached_calls,
            if opts.fit == FitMode::Tail && written < r {
                "; written at the lower end of its 90% interval (less caching costs more)"
            } else {
                ""
            }
        ),
        table: Vec::new(),
        candidates: Vec::new(),
        interval: Some(Interval {
            figure: "share",
            point: r,
            low,
            high,
            resamples: 0,
            seed: opts.seed,
            unit: "calls",
        }),
        n: obs.cached_calls,
        unit: "calls",
    })
}

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Power users under `k`: (is power, per user), given per-user weights
/// (bootstrap) — the weighted median of the users' means.
fn classify(means: &[f64], weights: &[f64], k: f64) -> Vec<bool> {
    let mut order: Vec<(f64, f64)> = means
        .iter()
        .zip(weights)
        .filter(|p| *p.1 > 0.0)
        .map(|(m, w)| (*m, *w))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = order.iter().map(|p| p.1).sum();
    let mut cum = 0.0;
    let mut med = 0.0;
    for (m, w) in &order {
        cum += w;
        if cum >= 0.5 * total {
            med = *m;
            break;
        }
    }
    means.iter().map(|m| *m > k * med).collect()
}

/// Share and multiplier of power users, given per-user weights.
fn power_figures(obs: &Observations, means: &[f64], w: &[f64], k: f64, population: Option<f64>) -> (f64, f64) {
    let power = classify(means, w, k);
    let (mut np, mut nu) = (0.0, 0.0);
    let (mut sp, mut dp, mut so, mut dord) = (0.0, 0.0, 0.0, 0.0);
    for ((u, &p), &wu) in obs.users.iter().zip(&power).zip(w) {
        if wu == 0.0 {
            continue;
        }
        let s = u.days.iter().sum::<u64>() as f64;
        let d = u.days.len() as f64;
        nu += wu;
        if p {
            np += wu;
            sp += wu * s;
            dp += wu * d;
        } else {
            so += wu * s;
            dord += wu * d;
        }
    }
    let denom = population.map_or(nu, |n| n * nu / obs.users.len() as f64);
    let share = if denom > 0.0 { np / denom } else { f64::NAN };
    let mult = if dp > 0.0 && dord > 0.0 && so > 0.0 {
        (sp / dp) / (so / dord)
    } else {
        f64::NAN
    };
    (share, mult)
}

fn per_user(
    obs: &Observations,
    opts: &Options,
    fitted: &mut Vec<Fitted>,
    unmeasured: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) {
    let means: Vec<f64> = obs.users.iter().map(|u| u.mean()).collect();
    let ones = vec![1.0; means.len()];
    let power = classify(&means, &ones, opts.power_k);
    let med = median(&mut means.clone());
    let np = power.iter().filter(|p| **p).count();
    // Interactions per active day of the ordinary users (the spec's power
    // users make `multiplier` times as many).
    let hist = |w: &[f64]| -> Sample {
        let mut h: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
        for ((u, &p), &wu) in obs.users.iter().zip(&power).zip(w) {
            if p || wu == 0.0 {
                continue;
            }
            for &d in &u.days {
                *h.entry(d).or_insert(0.0) += wu;
            }
        }
        Sample::from_pairs(h.into_iter().map(|(v, c)| (v as f64, c)).collect())
    };
    let s = hist(&ones);
    let n_users = obs.users.len();
    let user_days = obs.user_days() as usize;
    let mut f = fit_sample(
        "usage.interactions_per_active_day",
        "user-days",
        "users",
        &s,
        COUNT,
        opts,
        user_days,
        |rng| {
            let w: Vec<f64> = (0..n_users).map(|_| sample::poisson(1.0, rng)).collect();
            let r = hist(&w);
            if r.is_empty() { f64::NAN } else { r.quantile(0.95) }
        },
    );
    if np > 0 {
        f.why_this_form.push_str(&format!(
            "; over the user-days of the {} ordinary users ({} power users, mean above {} x the median user's {}, are the multiplier)",
            n_users - np,
            np,
            opts.power_k,
            fmt_num(med)
        ));
    }
    fitted.push(f);

    if np == 0 {
        let why = format!(
            "no user's mean interactions per active day is above {} x the median user's ({})",
            opts.power_k,
            fmt_num(med)
        );
        unmeasured.push(("usage.power_users.share".into(), why.clone()));
        unmeasured.push(("usage.power_users.multiplier".into(), why));
        return;
    }
    let (share, mult) = power_figures(obs, &means, &ones, opts.power_k, opts.population);
    let b = resamples(n_users);
    let mut rng = rng_for(opts.seed, "usage.power_users");
    let (mut rs, mut rm) = (Vec::with_capacity(b), Vec::with_capacity(b));
    for _ in 0..b {
        let w: Vec<f64> = (0..n_users).map(|_| sample::poisson(1.0, &mut rng)).collect();
        let (s, m) = power_figures(obs, &means, &w, opts.power_k, opts.population);
        rs.push(s);
        rm.push(m);
    }
    if np < 10 {
        warnings.push(format!(
            "only {np} power users: their share and multiplier are rough (see the intervals)"
        ));
    }
    for (path, figure, point, reps, max) in [
        ("usage.power_users.share", "share", share, rs, 1.0),
        ("usage.power_users.multiplier", "multiplier", mult, rm, f64::INFINITY),
    ] {
        let (low, high) = percentile_interval(reps);
        let written = match opts.fit {
            FitMode::Tail if high.is_finite() && high > point => high.min(max),
            _ => point,
        };
        fitted.push(Fitted {
            path: path.into(),
            dist: Dist::fixed(written),
            why_this_form: format!(
                "users whose mean interactions per active day is above {} x the median user's ({}): {np} of {n_users}{}",
                opts.power_k,
                fmt_num(med),
                if written != point {
                    "; written at the upper end of its 90% interval"
                } else {
                    ""
                }
            ),
            table: Vec::new(),
            candidates: Vec::new(),
            interval: Some(Interval {
                figure,
                point,
                low,
                high,
                resamples: b,
                seed: opts.seed,
                unit: "users",
            }),
            n: n_users as u64,
            unit: "users",
        });
    }
}

/// The share of the population active on each day of the period (days
/// without a call count as 0), bootstrapped over days.
fn active_share(obs: &Observations, population: f64, opts: &Options, warnings: &mut Vec<String>) -> Fitted {
    let first = obs.first_s.map_or(0, observe::day_of);
    let days = obs.period_days().max(1) as i64;
    let mut peak = 0u64;
    let shares: Vec<(f64, f64)> = (0..days)
        .map(|i| {
            let a = obs.daily_active.get(&(first + i)).copied().unwrap_or(0);
            peak = peak.max(a);
            ((a as f64 / population).min(1.0), 1.0)
        })
        .collect();
    if (peak as f64) > population {
        warnings.push(format!(
            "{peak} users were active on one day, more than the population of {population}: the share is capped at 1"
        ));
    }
    let s = Sample::from_pairs(shares);
    let n = days as usize;
    fit_sample("usage.active_share", "days", "days", &s, SHARE, opts, n, |rng| {
        s.poisson_resample(rng).quantile(0.95)
    })
}

fn tenant_fits(
    obs: &Observations,
    opts: &Options,
    period_days: u64,
    fitted: &mut Vec<Fitted>,
    unmeasured: &mut Vec<(String, String)>,
) {
    if obs.tenants.is_empty() {
        for p in ["tiers[].users_per_tenant", "tenants.monthly_spend_usd"] {
            unmeasured.push((p.into(), "no tenant ids in the logs".into()));
        }
        return;
    }
    let per_tenant = |vals: Vec<f64>, path: &str, r: Range| {
        let s = Sample::from_pairs(vals.iter().map(|v| (*v, 1.0)).collect());
        let n = vals.len();
        fit_sample(path, "tenants", "tenants", &s, r, opts, n, |rng| {
            let w: Vec<(f64, f64)> = vals.iter().map(|v| (*v, sample::poisson(1.0, rng))).collect();
            let r = Sample::from_pairs(w);
            if r.is_empty() { f64::NAN } else { r.quantile(0.95) }
        })
    };
    let users: Vec<f64> = obs
        .tenants
        .iter()
        .map(|t| t.users as f64)
        .filter(|u| *u > 0.0)
        .collect();
    if users.is_empty() {
        unmeasured.push(("tiers[].users_per_tenant".into(), "no user ids with the tenants".into()));
    } else {
        fitted.push(per_tenant(users, "tiers[].users_per_tenant", AT_LEAST_ONE));
    }
    let unpriced: u64 = obs.tenants.iter().map(|t| t.unpriced_calls).sum();
    if unpriced > 0 {
        unmeasured.push((
            "tenants.monthly_spend_usd".into(),
            format!("{unpriced} calls of tenants have no recorded spend (the figure would be too low)"),
        ));
    } else if period_days == 0 {
        unmeasured.push(("tenants.monthly_spend_usd".into(), "no timed calls: no period".into()));
    } else {
        let k = opts.days_in_month / period_days as f64;
        let spend: Vec<f64> = obs.tenants.iter().map(|t| t.spend_usd * k).collect();
        let mut f = per_tenant(spend, "tenants.monthly_spend_usd", COUNT);
        f.why_this_form.push_str(&format!(
            "; each tenant's recorded spend over {period_days} days x {}/{period_days}",
            opts.days_in_month
        ));
        fitted.push(f);
    }
}

/// The spec with every fitted quantity replaced (origin `measured`, at the
/// quantity's place in the spec), to simulate the month with the observed
/// distributions. `tiers[].users_per_tenant` goes to every tier of tenants;
/// power users are set only when both their share and multiplier were
/// fitted; `tenants.monthly_spend_usd` is not a spec field and is left out.
pub fn apply(spec: &Spec, cal: &Calibration) -> Spec {
    let mut out = spec.clone();
    let note = format!(
        "calibrated from {} records, {} users, {} user-days",
        cal.provenance.records, cal.provenance.users, cal.provenance.user_days
    );
    let set = |q: &mut Quantity, d: &Dist| {
        q.dist = d.clone();
        q.origin = Origin::Measured {
            line: q.loc.line,
            column: q.loc.column,
            note: note.clone(),
        };
    };
    for f in &cal.fitted {
        match f.path.as_str() {
            "interaction.input_tokens" => set(&mut out.interaction.input_tokens, &f.dist),
            "interaction.output_tokens" => set(&mut out.interaction.output_tokens, &f.dist),
            "interaction.cached_input_share" => set(&mut out.interaction.cached_input_share, &f.dist),
            "interaction.calls" => set(&mut out.interaction.calls, &f.dist),
            "usage.interactions_per_active_day" => set(&mut out.usage.interactions_per_active_day, &f.dist),
            "usage.active_share" => set(&mut out.usage.active_share, &f.dist),
            "tiers[].users_per_tenant" => {
                for t in &mut out.tiers {
                    if let Audience::Tenants { users_per_tenant, .. } = &mut t.audience {
                        set(users_per_tenant, &f.dist);
                    }
                }
            }
            _ => {}
        }
    }
    if let (Some(s), Some(m)) = (
        cal.get("usage.power_users.share"),
        cal.get("usage.power_users.multiplier"),
    ) {
        let num = |v: f64, path: &str, old: Option<&Num>| Num {
            value: v,
            loc: old.map_or(Loc::UNKNOWN, |o| o.loc),
            path: path.to_string(),
        };
        let old = out.usage.power_users.take();
        out.usage.power_users = Some(PowerUsers {
            share: num(
                s.dist.central(),
                "usage.power_users.share",
                old.as_ref().map(|p| &p.share),
            ),
            multiplier: num(
                m.dist.central(),
                "usage.power_users.multiplier",
                old.as_ref().map(|p| &p.multiplier),
            ),
        });
    }
    out
}
