//! The Monte Carlo month: many trials of [`month::Engine::month`], seeded,
//! in parallel, with the same bytes of output whatever the thread count.
//!
//! Each trial draws the quantities every user shares (how many users, how
//! active, which scenarios happen and when) from its own random stream,
//! derived from the seed and the trial's index; the per-user variation sits in
//! demand tables. The trials are split into [`BATCHES`] consecutive batches,
//! each with demand tables (and monthly-cap panels) drawn independently, so
//! the tables' sampling error shows in the spread of the batches and the
//! standard errors, computed from the batches, include it. See the README's
//! model reference.

pub mod brute;
pub mod day;
pub mod demand;
pub mod month;
mod progress;
pub mod sensitivity;

use rand::Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::economics::Model;
use demand::stream;
use month::{Engine, Month};

/// The work limits a spec is refused past, and the engine's sizes they are
/// computed from; defined with the spec (which is refused at decoding).
pub use crate::spec::limits;
pub use crate::spec::limits::{BATCH_CLASS_SAMPLES, BATCHES, DEFAULT_TRIALS};

/// The seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 20_240_601;

/// How to run the simulation.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed every random stream derives from.
    pub seed: u64,
    /// Simulated months.
    pub trials: usize,
    /// `None`: all cores.
    pub threads: Option<usize>,
    /// The percentile the policy reads (its `confidence`).
    pub confidence: f64,
    /// Whether to print progress on stderr.
    pub progress: bool,
    /// What the progress bar names (the feature's id, made inert); empty:
    /// no name.
    pub label: String,
    /// Whether to run the sensitivity analysis ([`sensitivity`]) beside
    /// the month.
    pub sensitivity: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: DEFAULT_SEED,
            trials: DEFAULT_TRIALS,
            threads: None,
            confidence: 0.95,
            progress: false,
            label: String::new(),
            sensitivity: false,
        }
    }
}

/// A distribution's summary with the Monte Carlo standard errors.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// Mean of the months.
    pub mean: Option<f64>,
    /// Standard error of the mean.
    pub mean_se: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// The largest month.
    pub max: Option<f64>,
    /// The figure's bad side at the policy's `confidence`, and its standard
    /// error: the `confidence` quantile of cost and cost/revenue (higher is
    /// worse), the `1 − confidence` quantile of revenue and margin (lower is
    /// worse). `at_quantile` says which quantile it is.
    pub at_confidence: Option<f64>,
    /// Standard error of `at_confidence`.
    pub at_confidence_se: Option<f64>,
    /// The quantile `at_confidence` is read at.
    pub at_quantile: f64,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Sorted values; quantiles interpolate between order statistics (type 7).
#[derive(Clone, Debug, Default)]
pub struct Sorted(Vec<f64>);

impl Sorted {
    /// `v`, sorted.
    pub fn new(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Sorted(v)
    }

    /// The values, in ascending order.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    /// The `q` quantile of the values.
    pub fn quantile(&self, q: f64) -> f64 {
        let v = &self.0;
        if v.is_empty() {
            return f64::NAN;
        }
        let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        if lo == hi || v[lo] == v[hi] {
            v[lo]
        } else {
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        }
    }

    /// Standard error of the `q` quantile from the spread of the order
    /// statistics one binomial standard deviation either side of it.
    pub fn quantile_se(&self, q: f64) -> f64 {
        let n = self.0.len() as f64;
        if n < 2.0 {
            return f64::NAN;
        }
        let delta = (n * q * (1.0 - q)).sqrt() / n;
        0.5 * (self.quantile((q + delta).min(1.0)) - self.quantile((q - delta).max(0.0)))
    }

    /// Share of values strictly above `x`.
    pub fn share_above(&self, x: f64) -> f64 {
        let n = self.0.len();
        if n == 0 {
            return 0.0;
        }
        let idx = self.0.partition_point(|v| *v <= x);
        (n - idx) as f64 / n as f64
    }

    /// Mean, percentiles and standard errors, with the bad side read at `confidence`.
    pub fn summary(&self, confidence: f64) -> Summary {
        let v = &self.0;
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = if n > 1.0 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Summary {
            mean: finite(mean),
            mean_se: finite((var / n).sqrt()),
            p50: finite(self.quantile(0.5)),
            p90: finite(self.quantile(0.9)),
            p95: finite(self.quantile(0.95)),
            p99: finite(self.quantile(0.99)),
            max: v.last().copied().and_then(finite),
            at_confidence: finite(self.quantile(confidence)),
            at_confidence_se: finite(self.quantile_se(confidence)),
            at_quantile: confidence,
        }
    }
}

/// Cost over revenue: infinite for a cost without revenue, undefined (NaN,
/// reported as no figure) with neither.
fn ratio(cost: f64, revenue: f64) -> f64 {
    if revenue > 0.0 {
        cost / revenue
    } else if cost > 0.0 {
        f64::INFINITY
    } else {
        f64::NAN
    }
}

/// One tier's simulated month.
#[derive(Clone, Debug, Serialize)]
pub struct TierSim {
    /// The tier.
    pub tier: String,
    /// Its cost.
    pub cost: Summary,
    /// Its revenue.
    pub revenue: Summary,
    /// Its cost / revenue.
    pub cost_revenue_ratio: Summary,
    /// Its revenue minus its cost.
    pub margin: Summary,
    /// What its limits did to its users.
    pub effects: LimitEffects,
    /// The share of the tokens asked for that were not served, month by
    /// month, read at the policy's `confidence` (its bad side: the
    /// `confidence` quantile), over the months in which the tier asked for
    /// anything; `None` when it never did. Not in the JSON report (the
    /// `tier-serves-nobody` finding gives it).
    #[serde(skip)]
    pub unserved_share_at_confidence: Option<f64>,
    /// What its top-up sold (a tier that offers one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_ups: Option<TopUpSim>,
    /// Its named accounts that breach their budget most often (at most
    /// [`TOP_ACCOUNTS`], most often first; none without accounts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts_breaching_most: Vec<AccountSim>,
}

/// A tier's top-ups, as simulated (means over trials).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TopUpSim {
    /// Top-ups bought a month.
    pub purchases_per_month: f64,
    /// What they earn a month, USD (included in the tier's revenue).
    pub revenue_usd_per_month: f64,
    /// Share of months in which at least one was bought.
    pub months_with_purchase_share: f64,
}

/// The most named accounts a tier's report lists.
pub const TOP_ACCOUNTS: usize = 5;

/// A named account, as simulated.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AccountSim {
    /// Its name.
    pub account: String,
    /// Its budget, USD a month.
    pub monthly_usd: f64,
    /// Share of months in which its spend reached its budget.
    pub breach_share: f64,
    /// Mean alerts of its budget a month.
    pub alerts_per_month: f64,
}

/// What the limits did to users (means over trials).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LimitEffects {
    /// Share of users who hit a limit at least once in the month.
    pub users_hit_share: f64,
    /// Shares of active user-days warned (past `warn_at`), degraded
    /// (fallback, shrink, throttle, slow mode) and blocked.
    pub user_days_warned_share: f64,
    /// Share of active user-days degraded.
    pub user_days_degraded_share: f64,
    /// Share of active user-days blocked.
    pub user_days_blocked_share: f64,
    /// Share of the tokens asked for that were not served.
    pub demand_unserved_share: f64,
    /// Per tenant-budget alert threshold: mean tenants crossing it a month.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenant_alerts: Vec<TenantAlert>,
}

/// A tenant-budget alert threshold, as simulated.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TenantAlert {
    /// The share of the budget it fires at.
    pub at: f64,
    /// Mean tenants crossing it a month.
    pub tenants_per_month: f64,
    /// Share of trials in which at least one tenant crossed it.
    pub trials_share: f64,
}

/// A breaker, as simulated.
#[derive(Clone, Debug, Serialize)]
pub struct BreakerSim {
    /// Its field name.
    pub breaker: String,
    /// Share of trials in which it tripped at least once.
    pub trips_share: f64,
    /// Mean days a month it was tripped.
    pub mean_days_tripped: f64,
}

/// Per breaker level, how often each breaker trips and what that costs the
/// people behind it (only for specs that use breaker levels, see
/// [`crate::spec::Breakers::has_levels`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BreakerLevels {
    /// Each breaker's trips.
    pub breakers: Vec<BreakerTrips>,
    /// Mean trips a month of the breakers whose `notify` names `on-call`.
    pub oncall_pages_per_month: f64,
    /// Mean trips a month of the breakers whose `notify` names
    /// `account-manager`, plus the tenant budget alerts.
    pub account_manager_alerts_per_month: f64,
    /// Of which tenant budget alerts (every threshold of every tier).
    pub tenant_budget_alerts_per_month: f64,
}

/// How often one breaker trips.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BreakerTrips {
    /// Its field name (`user_daily_usd`).
    pub breaker: String,
    /// What its limit counts.
    pub level: crate::spec::BreakerLevel,
    /// What it does when it trips.
    pub on_trip: crate::spec::OnTrip,
    /// Who is told when it trips.
    pub notify: Vec<crate::spec::NotifyWho>,
    /// Share of months with at least one trip.
    pub months_with_trip_share: f64,
    /// Trips a month (days for a feature or global breaker, user-days for a
    /// user breaker, tenant-days for a tenant breaker): mean and p95.
    pub mean_trips_per_month: f64,
    /// The 95th percentile of trips a month.
    pub p95_trips_per_month: f64,
}

/// A stress scenario, as simulated.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioSim {
    /// Its name.
    pub scenario: String,
    /// Its chance per month, as the spec gives it.
    pub chance: f64,
    /// Share of trials in which it happened.
    pub happened_share: f64,
    /// Monthly cost at the policy's percentile in the trials where it
    /// happened and where it did not.
    pub cost_at_confidence_with: Option<f64>,
    /// The same, in the trials where it did not happen.
    pub cost_at_confidence_without: Option<f64>,
    /// Their Monte Carlo standard errors (`null` with fewer than two months).
    pub cost_at_confidence_with_se: Option<f64>,
    /// The standard error of `cost_at_confidence_without`.
    pub cost_at_confidence_without_se: Option<f64>,
}

/// The distribution of the month.
#[derive(Clone, Debug, Serialize)]
pub struct SimResult {
    /// The seed.
    pub seed: u64,
    /// Simulated months.
    pub trials: usize,
    /// The percentile the policy reads.
    pub confidence: f64,
    /// The month's cost.
    pub cost: Summary,
    /// Its revenue.
    pub revenue: Summary,
    /// Its cost / revenue.
    pub cost_revenue_ratio: Summary,
    /// Its revenue minus its cost.
    pub margin: Summary,
    /// Per tier.
    pub tiers: Vec<TierSim>,
    /// Per breaker.
    pub breakers: Vec<BreakerSim>,
    /// Per breaker level, for specs that use levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_levels: Option<BreakerLevels>,
    /// Per stress scenario.
    pub scenarios: Vec<ScenarioSim>,
    /// Every month's cost, sorted (the reports' histogram).
    #[serde(skip)]
    pub cost_samples: Sorted,
    /// Every month's cost / revenue, sorted.
    #[serde(skip)]
    pub ratio_samples: Sorted,
}

/// Run the Monte Carlo simulation.
pub fn simulate(model: &Model, opts: &Options) -> SimResult {
    let months = months(model, opts);
    let batches = Batches::new(opts.trials.max(1));
    summarise(model, opts, &months, &batches)
}

/// Every simulated month, in trial order (what [`simulate`] summarises):
/// two models that differ only in a cap see the same random numbers.
pub fn months(model: &Model, opts: &Options) -> Vec<Month> {
    months_with(model, opts, None)
}

/// The demand tables of every batch of a run: what a user-day asks for, in
/// tokens and in cost at each model's prices. They depend on the model's
/// usage, interaction, scenarios' multipliers and prices, and not on its
/// caps, budgets, breakers or revenue; so the candidates of a search over
/// those (`costgate tune`) draw them once and share them. [`months_on`]
/// with them gives the same bytes as [`months`].
pub struct Tables {
    demand: Vec<demand::Demand>,
}

impl Tables {
    /// The tables `months(model, opts)` would draw.
    pub fn new(model: &Model, opts: &Options) -> Tables {
        let batches = Batches::new(opts.trials.max(1));
        let go = || {
            (0..batches.count)
                .into_par_iter()
                .map(|b| demand::Demand::sampled(model, BATCH_CLASS_SAMPLES, batch_seed(opts, b)))
                .collect()
        };
        Tables {
            demand: in_pool(opts, go),
        }
    }
}

/// [`months`] of `model` on `tables` drawn for a model that differs from it
/// at most in its caps, budgets, breakers or revenue (see [`Tables`]).
pub fn months_on(model: &Model, opts: &Options, tables: &Tables) -> Vec<Month> {
    months_with(model, opts, Some(tables))
}

/// [`months_on`] of each of `models` (all on `tables`): trial by trial,
/// the months of models that differ at most in their tiers' caps and their
/// breakers' limits are worked out together, sharing what they have alike
/// ([`Engine::months_together`]); other sets one model at a time. The same
/// months, byte for byte, as one [`months_on`] per model. Without
/// `alerts`, as `costgate tune` works them out: months worked out together
/// leave out the tenants' budget alerts (`tenant_alerts` empty), the other
/// figures the same.
pub fn months_together_on(models: &[Model], opts: &Options, tables: &Tables, alerts: bool) -> Vec<Vec<Month>> {
    let Some(first) = models.first() else {
        return Vec::new();
    };
    Prepared::new(first, opts, tables).together(models, alerts, &|m: &Month| m.clone())
}

/// A model's engines on its tables, one per batch, built once: the
/// months of models that differ from it in limits, whose engines take
/// from these what they have alike ([`Prepared::together`]).
pub struct Prepared<'a> {
    opts: Options,
    batches: Batches,
    engines: Vec<Engine<'a>>,
    /// Per batch, the day tables of the tiers the models' engines have
    /// worked out so far (a search comes back to the same caps).
    stats: Vec<month::StatsCache>,
}

impl<'a> Prepared<'a> {
    /// The engines of `model` on `tables` (drawn for it, or for a model that
    /// differs from it at most in what the tables do not depend on).
    pub fn new(model: &'a Model, opts: &Options, tables: &'a Tables) -> Prepared<'a> {
        let batches = Batches::new(opts.trials.max(1));
        let engines = in_pool(opts, || {
            let first = Engine::on_tables(model, &tables.demand[0], batch_seed(opts, 0));
            let rest: Vec<Engine> = (1..batches.count)
                .into_par_iter()
                .map(|b| Engine::on_tables_like(model, &tables.demand[b], batch_seed(opts, b), &first))
                .collect();
            std::iter::once(first).chain(rest).collect()
        });
        Prepared {
            opts: opts.clone(),
            stats: (0..batches.count).map(|_| month::StatsCache::default()).collect(),
            batches,
            engines,
        }
    }

    /// Each of `models`' months ([`months_on`] on the same tables), each
    /// month passed through `reduce` as it is made (what is kept of it), in
    /// trial order per model. Without `alerts`, months worked out together
    /// leave out their tenants' budget alerts (see
    /// [`months_together_on`]). Trial by trial, models that differ at most in
    /// their tiers' caps and their breakers' limits are worked out together,
    /// sharing what they have alike ([`Engine::months_together`]); other
    /// sets one model at a time. Byte for byte what one [`months_on`] per
    /// model gives.
    pub fn together<R: Send>(
        &self,
        models: &[Model],
        alerts: bool,
        reduce: &(dyn Fn(&Month) -> R + Sync),
    ) -> Vec<Vec<R>> {
        let per_trial = self.together_by_trial(models, alerts, reduce);
        let mut out: Vec<Vec<R>> = models.iter().map(|_| Vec::with_capacity(per_trial.len())).collect();
        for rows in per_trial {
            for (k, r) in rows.into_iter().enumerate() {
                out[k].push(r);
            }
        }
        out
    }

    /// [`Prepared::together`], trial by trial: each trial's figures, one
    /// per model in `models`' order (without the second copy that moving
    /// them to each model's would hold for a moment).
    pub fn together_by_trial<R: Send>(
        &self,
        models: &[Model],
        alerts: bool,
        reduce: &(dyn Fn(&Month) -> R + Sync),
    ) -> Vec<Vec<R>> {
        if models.is_empty() {
            return Vec::new();
        }
        let opts = &self.opts;
        let trials = opts.trials.max(1);
        let go = || {
            let engines: Vec<Vec<Engine>> = (0..self.batches.count)
                .into_par_iter()
                .map(|b| {
                    let base = &self.engines[b];
                    let (seed, demand) = (batch_seed(opts, b), &*base.demand);
                    models
                        .iter()
                        .map(|m| Engine::on_tables_cached(m, demand, seed, base, &self.stats[b]))
                        .collect()
                })
                .collect();
            let refs: Vec<Vec<&Engine>> = engines.iter().map(|es| es.iter().collect()).collect();
            // What the engines share depends on the models alone (every
            // batch's stand on that batch's tables and seed): worked out on
            // the first batch's, for all.
            let together = refs.first().and_then(|es| month::Together::new(es));
            // Each worker reuses its scratch (ledgers, days) trial after trial.
            let run = |scratch: &mut month::Scratch, i: usize| -> Vec<R> {
                let b = self.batches.of(i);
                let es = &refs[b];
                match &together {
                    Some(t) => {
                        let mut rng = stream(opts.seed, i as u64);
                        let draw = es[0].draw(&mut rng);
                        let mut out = Vec::with_capacity(es.len());
                        Engine::months_together(es, t, &draw, &mut rng, scratch, &mut |_, m| out.push(reduce(m)));
                        out
                    }
                    None => es
                        .iter()
                        .map(|e| {
                            let mut rng = stream(opts.seed, i as u64);
                            let draw = e.draw(&mut rng);
                            reduce(&e.month(&draw, Some(&mut rng)))
                        })
                        .collect(),
                }
            };
            (0..trials)
                .into_par_iter()
                .map_init(|| month::Scratch::new(alerts), run)
                .collect()
        };
        in_pool(opts, go)
    }
}

/// What [`months_together_on`] of some models shares between them
/// ([`sharing`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sharing {
    /// Some tier's day is worked out once for several models (rather than
    /// each model's alone).
    pub days: bool,
    /// Some model's month is followed for another (a twin: they differ only
    /// in the limits of the breakers on the day's total) until a day on
    /// which either trips a breaker.
    pub twins: bool,
}

/// What [`months_together_on`] of `models` shares between them.
pub fn sharing(models: &[Model], opts: &Options, tables: &Tables) -> Sharing {
    let seed = batch_seed(opts, 0);
    let engines: Vec<Engine> = models
        .iter()
        .map(|m| Engine::on_tables(m, &tables.demand[0], seed))
        .collect();
    month::Together::new(&engines.iter().collect::<Vec<_>>()).map_or_else(Sharing::default, |t| Sharing {
        days: t.shares(),
        twins: t.has_twins(),
    })
}

/// The seed of batch `b`'s demand tables.
pub(crate) fn batch_seed(opts: &Options, b: usize) -> u64 {
    stream(opts.seed, demand::STREAM_BATCH + b as u64).next_u64()
}

/// `go` on `opts.threads` threads (the global pool without).
pub(crate) fn in_pool<T: Send>(opts: &Options, go: impl FnOnce() -> T + Send) -> T {
    match opts.threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .expect("thread pool");
            pool.install(go)
        }
        None => go(),
    }
}

fn months_with(model: &Model, opts: &Options, tables: Option<&Tables>) -> Vec<Month> {
    let trials = opts.trials.max(1);
    let batches = Batches::new(trials);
    let go = || {
        // The first batch's engine, then the others like it (what does not
        // depend on the tables is worked out once).
        let build = |b: usize, like: Option<&Engine>| {
            let seed = batch_seed(opts, b);
            match (tables, like) {
                (Some(t), Some(e)) => Engine::on_tables_like(model, &t.demand[b], seed, e),
                (Some(t), None) => Engine::on_tables(model, &t.demand[b], seed),
                (None, Some(e)) => Engine::sampled_like(model, BATCH_CLASS_SAMPLES, seed, e),
                (None, None) => Engine::sampled_sized(model, BATCH_CLASS_SAMPLES, seed),
            }
        };
        let first = build(0, None);
        let rest: Vec<Engine> = (1..batches.count)
            .into_par_iter()
            .map(|b| build(b, Some(&first)))
            .collect();
        let engines: Vec<Engine> = std::iter::once(first).chain(rest).collect();
        let run = |i: usize| -> Month {
            let engine = &engines[batches.of(i)];
            let mut rng = stream(opts.seed, i as u64);
            let draw = engine.draw(&mut rng);
            engine.month(&draw, Some(&mut rng))
        };
        collect(trials, opts.progress.then_some(opts.label.as_str()), &run)
    };
    in_pool(opts, go)
}

/// Trials `i` split into `count` consecutive batches of (nearly) equal size.
#[derive(Clone, Copy, Debug)]
pub struct Batches {
    /// Batches.
    pub count: usize,
    /// Trials.
    pub trials: usize,
}

impl Batches {
    /// The batches of `trials` trials ([`BATCHES`], fewer for fewer trials).
    pub fn new(trials: usize) -> Self {
        Batches {
            count: BATCHES.min(trials).max(1),
            trials,
        }
    }

    /// The batch of trial `i`.
    pub fn of(&self, i: usize) -> usize {
        i * self.count / self.trials.max(1)
    }

    /// The trials of batch `b` ([`Self::of`] of each is `b`), in order.
    pub fn trials_of(&self, b: usize) -> std::ops::Range<usize> {
        let t = self.trials.max(1);
        (b * t).div_ceil(self.count)..((b + 1) * t).div_ceil(self.count)
    }

    /// Standard error of the mean of `values` (in trial order), from the
    /// spread of the batches' sums: trials of one batch share its tables, so
    /// this counts the tables' sampling error as well as the trials'. An
    /// undefined value (NaN: a ratio with neither cost nor revenue) is left
    /// out: the standard error of the mean of the defined ones. NaN with
    /// fewer than two batches holding a defined value.
    pub fn mean_se(&self, values: &[f64]) -> f64 {
        if values.len() != self.trials {
            return f64::NAN;
        }
        let defined = || values.iter().enumerate().filter(|(_, v)| !v.is_nan());
        let n = defined().count();
        let mean = defined().map(|(_, v)| v).sum::<f64>() / n as f64;
        let mut sums = vec![(0.0f64, 0.0f64); self.count];
        for (i, v) in defined() {
            let s = &mut sums[self.of(i)];
            s.0 += v;
            s.1 += 1.0;
        }
        let b = sums.iter().filter(|(_, k)| *k > 0.0).count();
        if b < 2 {
            return f64::NAN;
        }
        // Linearised (ratio) estimator, exact for equal batches:
        // var = b/(b-1) x sum over batches of (S_b - n_b x mean)² / n².
        let ss: f64 = sums.iter().map(|(s, k)| (s - k * mean).powi(2)).sum();
        (b as f64 / (b as f64 - 1.0) * ss).sqrt() / n as f64
    }

    /// Standard error of the `q` quantile: the standard error of the share
    /// of trials at or below it (from the batches, as for the mean), turned
    /// into the quantile's scale by the order statistics that far either side.
    /// NaN when that share has none (a single batch), as the mean's; the
    /// quantile of the defined values when some are NaN.
    pub fn quantile_se(&self, values: &[f64], sorted: &Sorted, q: f64) -> f64 {
        let x = sorted.quantile(q);
        if !x.is_finite() {
            return f64::NAN;
        }
        let below: Vec<f64> = values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    f64::NAN
                } else {
                    f64::from(u8::from(*v <= x))
                }
            })
            .collect();
        let delta = self.mean_se(&below);
        if delta.is_nan() {
            return f64::NAN;
        }
        0.5 * (sorted.quantile((q + delta).min(1.0)) - sorted.quantile((q - delta).max(0.0)))
    }

    /// [`Sorted::summary`] of the defined `values` (in trial order; NaN is
    /// undefined), its standard errors from the batches.
    pub fn summary(&self, values: Vec<f64>, q: f64) -> (Summary, Sorted) {
        let sorted = Sorted::new(values.iter().copied().filter(|v| !v.is_nan()).collect());
        let mut s = sorted.summary(q);
        s.mean_se = s.mean.and_then(|_| finite(self.mean_se(&values)));
        s.at_confidence_se = s
            .at_confidence
            .and_then(|_| finite(self.quantile_se(&values, &sorted, q)));
        (s, sorted)
    }
}

/// Every trial's month, in trial order; with a progress bar on stderr when
/// `progress` names what is simulated (`Some("")`: nothing named).
fn collect(trials: usize, progress: Option<&str>, run: &(dyn Fn(usize) -> Month + Sync)) -> Vec<Month> {
    if let Some(label) = progress {
        use indicatif::{ParallelProgressIterator, ProgressBar, ProgressState, ProgressStyle};
        let bar = ProgressBar::new(trials as u64);
        bar.set_prefix(if label.is_empty() {
            String::new()
        } else {
            format!(" {label}")
        });
        bar.set_style(
            ProgressStyle::with_template("{spinner} simulating{prefix}: {months} months [{bar:30}] {left}")
                .expect("valid template")
                .with_key("months", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let n = |x: u64| crate::fmt::count(x as f64);
                    let _ = write!(w, "{} of {}", n(s.pos()), n(s.len().unwrap_or(0)));
                })
                .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&progress::time_left(s.elapsed(), s.pos(), s.len().unwrap_or(0)));
                })
                .progress_chars("=> "),
        );
        let out = (0..trials)
            .into_par_iter()
            .progress_with(bar.clone())
            .map(run)
            .collect();
        bar.finish_and_clear();
        out
    } else {
        (0..trials).into_par_iter().map(run).collect()
    }
}

/// Tier `ti` of month `m` (a function, not a closure, so that the borrow
/// of the month is what it returns).
fn tier_of(m: &Month, ti: usize) -> &month::TierMonth {
    &m.tiers[ti]
}

fn summarise(model: &Model, opts: &Options, months: &[Month], batches: &Batches) -> SimResult {
    let q = opts.confidence;
    let low = crate::fmt::low_quantile(q);
    let n = months.len() as f64;
    // each figure read on its bad side: `q` for cost and ratio, `low` for revenue and margin;
    // a ratio over the trials where it is defined (the batches skip NaN)
    let col = |f: &dyn Fn(&Month) -> f64, at: f64| batches.summary(months.iter().map(f).collect(), at);
    let (cost_summary, cost) = col(&|m| m.cost, q);
    let (revenue, _) = col(&|m| m.revenue, low);
    let (ratio_summary, ratios) = col(&|m| ratio(m.cost, m.revenue), q);
    let (margin, _) = col(&|m| m.revenue - m.cost, low);
    let tiers: Vec<TierSim> = model
        .tiers
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            let sum = |f: &dyn Fn(&month::TierMonth) -> f64| months.iter().map(|m| f(&m.tiers[ti])).sum::<f64>();
            let user_days = sum(&|t| t.user_days);
            let users = sum(&|t| t.users);
            let demand = sum(&|t| t.demand_tokens);
            let share = |x: f64, of: f64| if of > 0.0 { x / of } else { 0.0 };
            let tenant_alerts = t
                .budget
                .as_ref()
                .map(|b| {
                    b.alerts
                        .iter()
                        .enumerate()
                        .map(|(ai, &at)| {
                            let per = |m: &Month| m.tiers[ti].tenant_alerts.get(ai).copied().unwrap_or(0.0);
                            TenantAlert {
                                at,
                                tenants_per_month: months.iter().map(per).sum::<f64>() / n,
                                trials_share: months.iter().filter(|m| per(m) > 0.0).count() as f64 / n,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut accounts: Vec<AccountSim> = t
                .accounts
                .iter()
                .enumerate()
                .map(|(k, a)| AccountSim {
                    account: a.name.clone(),
                    monthly_usd: a.budget.monthly_usd,
                    breach_share: months
                        .iter()
                        .filter(|m| m.tiers[ti].account_breached.get(k).copied().unwrap_or(false))
                        .count() as f64
                        / n,
                    alerts_per_month: months
                        .iter()
                        .map(|m| m.tiers[ti].account_alerts.get(k).copied().unwrap_or(0.0))
                        .sum::<f64>()
                        / n,
                })
                .collect();
            // Most often first; ties in the spec's order (a stable sort).
            accounts.sort_by(|a, b| b.breach_share.total_cmp(&a.breach_share));
            accounts.truncate(TOP_ACCOUNTS);
            TierSim {
                tier: t.name.clone(),
                accounts_breaching_most: accounts,
                cost: col(&|m| tier_of(m, ti).cost, q).0,
                // revenue and margin: their bad side is the low one
                revenue: col(&|m| tier_of(m, ti).revenue(), low).0,
                cost_revenue_ratio: col(&|m| ratio(tier_of(m, ti).cost, tier_of(m, ti).revenue()), q).0,
                margin: col(&|m| tier_of(m, ti).revenue() - tier_of(m, ti).cost, low).0,
                effects: LimitEffects {
                    users_hit_share: share(sum(&|t| t.users_hit), users),
                    user_days_warned_share: share(sum(&|t| t.warned_user_days), user_days),
                    user_days_degraded_share: share(sum(&|t| t.degraded_user_days), user_days),
                    user_days_blocked_share: share(sum(&|t| t.blocked_user_days), user_days),
                    demand_unserved_share: share(sum(&|t| t.unserved_tokens), demand),
                    tenant_alerts,
                },
                unserved_share_at_confidence: {
                    let v: Vec<f64> = months
                        .iter()
                        .map(|m| &m.tiers[ti])
                        .filter(|t| t.demand_tokens > 0.0)
                        .map(|t| t.unserved_tokens / t.demand_tokens)
                        .collect();
                    (!v.is_empty()).then(|| Sorted::new(v).quantile(q))
                },
                top_ups: t.top_up().map(|_| TopUpSim {
                    purchases_per_month: sum(&|t| t.topups) / n,
                    revenue_usd_per_month: sum(&|t| t.topup_revenue) / n,
                    months_with_purchase_share: months.iter().filter(|m| m.tiers[ti].topups > 0.0).count() as f64 / n,
                }),
            }
        })
        .collect();
    let breakers = model
        .breakers
        .iter()
        .enumerate()
        .map(|(bi, b)| BreakerSim {
            breaker: b.name.to_string(),
            trips_share: months.iter().filter(|m| m.breaker_days[bi] > 0).count() as f64 / n,
            mean_days_tripped: months.iter().map(|m| m.breaker_days[bi] as f64).sum::<f64>() / n,
        })
        .collect();
    let breaker_levels = model.breaker_levels.then(|| breaker_levels(model, months, &tiers));
    let scenarios = model
        .scenarios
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let with = Sorted::new(months.iter().filter(|m| m.happened[si]).map(|m| m.cost).collect());
            let without = Sorted::new(months.iter().filter(|m| !m.happened[si]).map(|m| m.cost).collect());
            ScenarioSim {
                scenario: s.name.clone(),
                chance: s.chance,
                happened_share: with.values().len() as f64 / n,
                cost_at_confidence_with: (!with.values().is_empty()).then(|| with.quantile(q)),
                cost_at_confidence_without: (!without.values().is_empty()).then(|| without.quantile(q)),
                cost_at_confidence_with_se: finite(with.quantile_se(q)),
                cost_at_confidence_without_se: finite(without.quantile_se(q)),
            }
        })
        .collect();
    SimResult {
        seed: opts.seed,
        trials: months.len(),
        confidence: q,
        cost: cost_summary,
        revenue,
        cost_revenue_ratio: ratio_summary,
        margin,
        tiers,
        breakers,
        breaker_levels,
        scenarios,
        cost_samples: cost,
        ratio_samples: ratios,
    }
}

/// How often each breaker trips over `months`, with the pages and alerts.
pub fn breaker_levels(model: &Model, months: &[Month], tiers: &[TierSim]) -> BreakerLevels {
    let n = months.len().max(1) as f64;
    let breakers: Vec<BreakerTrips> = model
        .breakers
        .iter()
        .enumerate()
        .map(|(bi, b)| {
            let trips: Vec<f64> = months.iter().map(|m| m.breaker_trips[bi]).collect();
            BreakerTrips {
                breaker: b.name.to_string(),
                level: b.level,
                on_trip: b.on_trip,
                notify: b.notify.clone(),
                months_with_trip_share: trips.iter().filter(|&&t| t > 0.0).count() as f64 / n,
                mean_trips_per_month: trips.iter().sum::<f64>() / n,
                p95_trips_per_month: if trips.is_empty() {
                    0.0
                } else {
                    Sorted::new(trips).quantile(0.95)
                },
            }
        })
        .collect();
    let sum = |f: &dyn Fn(&crate::economics::BreakerModel) -> bool| -> f64 {
        model
            .breakers
            .iter()
            .zip(&breakers)
            .filter(|(b, _)| f(b))
            .map(|(_, t)| t.mean_trips_per_month)
            .sum()
    };
    // Every account's alerts, not only those of the accounts listed.
    let account_alerts: f64 = months
        .iter()
        .map(|m| m.tiers.iter().flat_map(|t| &t.account_alerts).sum::<f64>())
        .sum::<f64>()
        / n;
    let budget_alerts: f64 = tiers
        .iter()
        .flat_map(|t| t.effects.tenant_alerts.iter().map(|a| a.tenants_per_month))
        .sum::<f64>()
        + account_alerts;
    // An empty sum of floats is -0.0 (printed `-0.0`): + 0.0 makes it 0.
    BreakerLevels {
        oncall_pages_per_month: sum(&|b| b.pages) + 0.0,
        account_manager_alerts_per_month: sum(&|b| b.alerts_account_manager) + budget_alerts + 0.0,
        tenant_budget_alerts_per_month: budget_alerts + 0.0,
        breakers,
    }
}

/// The typical month: every quantity at its central value, no scenario.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Typical {
    /// Cost.
    pub cost: f64,
    /// Revenue.
    pub revenue: f64,
    /// Cost / revenue (`None`: no revenue).
    pub cost_revenue_ratio: Option<f64>,
    /// Revenue minus cost.
    pub margin: f64,
    /// Per tier.
    pub tiers: Vec<TypicalTier>,
}

/// One tier's month at central values.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TypicalTier {
    /// The tier.
    pub tier: String,
    /// Its users (tenants times users per tenant).
    pub users: f64,
    /// Its cost.
    pub cost: f64,
    /// Its revenue: subscriptions, overage and top-ups.
    pub revenue: f64,
    /// Subscriptions.
    pub subscription_revenue: f64,
    /// Overage billing.
    pub overage_revenue: f64,
    /// Top-ups (a tier that offers one), USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_up_revenue: Option<f64>,
    /// Top-ups bought in the month (fluid: not rounded to whole top-ups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_ups_per_month: Option<f64>,
    /// Cost / revenue (`None`: no revenue).
    pub cost_revenue_ratio: Option<f64>,
    /// Revenue minus cost.
    pub margin: f64,
}

/// The deterministic month at central values.
pub fn typical(model: &Model) -> Typical {
    let engine = Engine::central(model);
    let m = engine.month(&engine.central_draw(), None);
    Typical {
        cost: m.cost,
        revenue: m.revenue,
        cost_revenue_ratio: finite(ratio(m.cost, m.revenue)),
        margin: m.revenue - m.cost,
        tiers: model
            .tiers
            .iter()
            .zip(&m.tiers)
            .map(|(t, x)| TypicalTier {
                tier: t.name.clone(),
                users: x.users,
                cost: x.cost,
                revenue: x.revenue(),
                subscription_revenue: x.subscription_revenue,
                overage_revenue: x.overage_revenue,
                top_up_revenue: t.top_up().map(|_| x.topup_revenue),
                top_ups_per_month: t.top_up().map(|_| x.topups),
                cost_revenue_ratio: finite(ratio(x.cost, x.revenue())),
                margin: x.revenue() - x.cost,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let s = Sorted::new(vec![4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(s.quantile(0.0), 1.0);
        assert_eq!(s.quantile(0.5), 3.0);
        assert_eq!(s.quantile(1.0), 5.0);
        // h = 4 x 0.95 = 3.8: 4 + 0.8 x (5 - 4)
        assert!((s.quantile(0.95) - 4.8).abs() < 1e-12);
    }

    #[test]
    fn share_above_counts_strictly_greater_values() {
        let s = Sorted::new(vec![1.0, 2.0, 2.0, 3.0]);
        assert_eq!(s.share_above(2.0), 0.25);
        assert_eq!(s.share_above(0.0), 1.0);
        assert_eq!(s.share_above(3.0), 0.0);
        assert_eq!(Sorted::new(vec![]).share_above(1.0), 0.0);
    }

    #[test]
    fn the_percentile_standard_error_matches_its_spread_over_repeats() {
        // Standard normal samples of n = 4,000: the p95 estimate's standard
        // error is sqrt(q(1-q)/n) / pdf(z95) = 0.0335. Compare the reported
        // SE with the spread of the estimate over 400 repeats (the sd of an
        // sd over 400 repeats is ~3.5%: allow 20%).
        let n = 4000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut estimates = Vec::new();
        let mut reported = Vec::new();
        for _ in 0..400 {
            let v: Vec<f64> = (0..n)
                .map(|_| crate::dist::norm_inv(crate::dist::open01(&mut rng)))
                .collect();
            let s = Sorted::new(v);
            estimates.push(s.quantile(0.95));
            reported.push(s.quantile_se(0.95));
        }
        let m = estimates.iter().sum::<f64>() / 400.0;
        let sd = (estimates.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 399.0).sqrt();
        let se = reported.iter().sum::<f64>() / 400.0;
        let theory = (0.95f64 * 0.05 / n as f64).sqrt() / crate::dist::norm_pdf(crate::dist::Z95);
        assert!((sd / theory - 1.0).abs() < 0.2, "spread {sd} vs theory {theory}");
        assert!((se / theory - 1.0).abs() < 0.2, "reported {se} vs theory {theory}");
    }

    #[test]
    fn batch_standard_errors_are_unbiased_for_independent_trials() {
        // Independent standard normal trials, n = 1,000 in 32 batches (of 31
        // and 32): the batch estimate of the mean's variance must average
        // 1/n. Each estimate has 31 degrees of freedom (relative SD of the
        // variance sqrt(2/31) = 25%); over 400 repeats the average's is
        // 1.3%: allow 6%. The quantile's SE must average its theoretical
        // sqrt(q(1-q)/n)/pdf(z) within 10% (its estimate is noisier).
        let n = 1000;
        let b = Batches::new(n);
        assert_eq!(b.count, 32);
        assert_eq!((b.of(0), b.of(n - 1)), (0, 31));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (mut var, mut qse) = (0.0, 0.0);
        for _ in 0..400 {
            let v: Vec<f64> = (0..n)
                .map(|_| crate::dist::norm_inv(crate::dist::open01(&mut rng)))
                .collect();
            let se = b.mean_se(&v);
            var += se * se / 400.0;
            let sorted = Sorted::new(v.clone());
            qse += b.quantile_se(&v, &sorted, 0.95) / 400.0;
        }
        assert!((var * n as f64 - 1.0).abs() < 0.06, "n x var {}", var * n as f64);
        let theory = (0.95f64 * 0.05 / n as f64).sqrt() / crate::dist::norm_pdf(crate::dist::Z95);
        assert!((qse / theory - 1.0).abs() < 0.1, "quantile se {qse} vs {theory}");
        // one trial: no standard error
        assert!(Batches::new(1).mean_se(&[1.0]).is_nan());
    }

    #[test]
    fn one_batch_gives_no_quantile_standard_error() {
        // One trial (one batch): the share below the quantile has no
        // standard error, so neither has the quantile (not zero).
        let b = Batches::new(1);
        let (s, _) = b.summary(vec![5.0], 0.95);
        assert_eq!((s.mean, s.at_confidence), (Some(5.0), Some(5.0)));
        assert_eq!((s.mean_se, s.at_confidence_se), (None, None));
        assert!(b.quantile_se(&[5.0], &Sorted::new(vec![5.0]), 0.95).is_nan());
    }

    #[test]
    fn batch_standard_errors_skip_undefined_trials() {
        // Independent standard normal trials, n = 1,000 in 32 batches, every
        // tenth undefined (NaN, as a ratio with neither cost nor revenue):
        // the standard error is that of the mean of the 900 defined ones,
        // its variance averaging 1/900 (31 degrees of freedom per estimate,
        // 400 repeats: a relative SE of 1.3%; allow 6%). The quantile's
        // averages its theoretical sqrt(q(1-q)/900)/pdf(z) within 10%.
        let n = 1000;
        let b = Batches::new(n);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let (mut var, mut qse) = (0.0, 0.0);
        for _ in 0..400 {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    let x = crate::dist::norm_inv(crate::dist::open01(&mut rng));
                    if i % 10 == 3 { f64::NAN } else { x }
                })
                .collect();
            let (s, _) = b.summary(v, 0.95);
            var += s.mean_se.unwrap().powi(2) / 400.0;
            qse += s.at_confidence_se.unwrap() / 400.0;
        }
        assert!((var * 900.0 - 1.0).abs() < 0.06, "900 x var {}", var * 900.0);
        let theory = (0.95f64 * 0.05 / 900.0).sqrt() / crate::dist::norm_pdf(crate::dist::Z95);
        assert!((qse / theory - 1.0).abs() < 0.1, "quantile se {qse} vs {theory}");
        // nothing defined: no standard error
        assert!(b.mean_se(&vec![f64::NAN; n]).is_nan());
    }

    #[test]
    fn summaries_report_the_mean_and_its_standard_error() {
        let s = Sorted::new((1..=100).map(f64::from).collect()).summary(0.9);
        assert_eq!(s.mean, Some(50.5));
        // sample sd of 1..=100 is 29.011; over sqrt(100)
        assert!((s.mean_se.unwrap() - 2.9011491975882).abs() < 1e-9);
        assert_eq!(s.max, Some(100.0));
        assert_eq!(s.at_confidence, s.p90);
        // no revenue: an infinite ratio is "not defined", not a number
        let r = Sorted::new(vec![f64::INFINITY; 3]).summary(0.95);
        assert_eq!((r.mean, r.p95), (None, None));
    }
}
