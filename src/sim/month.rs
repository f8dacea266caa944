//! One month of the feature, given the shared draws of a trial.
//!
//! The per-user variation is in the demand tables ([`super::demand`]): a
//! tier's day costs its active users times the expected cost of a user-day
//! of each class. What is shared by every user (how many there are, how
//! active they are, which scenarios happen and when, prices) comes in the
//! [`Draw`]. Monthly caps act on each user's month, through a fixed panel of
//! simulated users (Monte Carlo) or the class's fluid month (central).

use std::borrow::Cow;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::day::{DayScale, DayShape, RunawayLoop, book_cut_days, trip_breakers_into, trip_one};
use super::demand::{DayStats, Demand, STREAM_PANEL, Samples, UserDay, stream, user_day, user_day_bought};
use crate::dist::stochastic_count;
use rand_distr::Distribution;

use crate::dist::{Dist, open01};
use crate::economics::{BudgetModel, CapModel, Customers, Effect, Model, PastTrip, TierModel};
use crate::spec::BreakerLevel;
use crate::spec::OnLimit;

pub use crate::spec::limits::{PANEL_USERS, TENANT_REPS};

mod noise;
mod topup;

pub(crate) use noise::{Noise, Tape};

/// The shared quantities of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// Per tier: users, or users of each tenant.
    pub customers: Vec<TierDraw>,
    /// Share of users active (each day of the trial).
    pub active: f64,
    /// Share of input billed at the cached rate.
    pub cached: f64,
    /// Scenarios that happen, with when.
    pub events: Vec<Event>,
    /// Per tier, the share of the users reaching its cap who buy a top-up
    /// (0 for a tier without one).
    pub uptake: Vec<f64>,
    /// Per tier, the users of each named account (empty without accounts).
    pub accounts: Vec<Vec<f64>>,
    /// Per tier with a budget drawn per tenant, each entry of
    /// [`TierDraw::tenants`]' budget, USD a month (empty otherwise: the
    /// budget's `monthly_usd`).
    pub budgets: Vec<Vec<f64>>,
}

impl Draw {
    /// The users of tier `ti`: its tenants' (or users) and its accounts'.
    pub fn tier_users(&self, ti: usize) -> f64 {
        self.customers[ti].users() + self.accounts.get(ti).map_or(0.0, |v| v.iter().sum())
    }
}

/// One tier's customers in a trial.
#[derive(Clone, Debug, PartialEq)]
pub enum TierDraw {
    /// Users.
    Users(f64),
    /// The users of each tenant.
    Tenants(Vec<f64>),
    /// More tenants than [`TENANT_REPS`]: representative tenants, stratified
    /// over `users_per_tenant`, each standing for `weight` tenants. `users`
    /// is the representative's own size (what its budget sees); `mass` the
    /// mean size of the tenants it stands for (what they cost together),
    /// whose spread over trials is that of `weight` independent tenants.
    Sampled {
        /// Each representative's own users.
        users: Vec<f64>,
        /// The mean size of the tenants each stands for.
        mass: Vec<f64>,
        /// Tenants each representative stands for.
        weight: f64,
    },
}

impl TierDraw {
    /// The tier's users in all.
    pub fn users(&self) -> f64 {
        match self {
            TierDraw::Users(n) => *n,
            TierDraw::Tenants(v) => v.iter().sum(),
            TierDraw::Sampled { mass, weight, .. } => weight * mass.iter().sum::<f64>(),
        }
    }

    /// Tenants simulated one by one, and how many tenants each stands for.
    pub fn tenants(&self) -> Option<(&[f64], f64)> {
        match self {
            TierDraw::Users(_) => None,
            TierDraw::Tenants(v) => Some((v, 1.0)),
            TierDraw::Sampled { users, weight, .. } => Some((users, *weight)),
        }
    }

    /// Paying customers: users, or tenants.
    pub fn payers(&self) -> f64 {
        match self {
            TierDraw::Users(n) => *n,
            TierDraw::Tenants(v) => v.len() as f64,
            TierDraw::Sampled { users, weight, .. } => weight * users.len() as f64,
        }
    }

    /// The users that entry `j` of [`Self::tenants`] stands for in all: a
    /// tenant's own, or a representative's `weight` tenants together.
    pub fn group_users(&self, j: usize) -> f64 {
        match self {
            TierDraw::Users(n) => *n,
            TierDraw::Tenants(v) => v[j],
            TierDraw::Sampled { mass, weight, .. } => weight * mass[j],
        }
    }
}

/// Points per stratum when the strata's moments are computed.
const STRATUM_POINTS: usize = 64;

/// The moments that keep the spread of a represented tier's total users
/// right: the mean and variance of one tenant's users (as drawn: truncated
/// at the worst case), and the variance a stratified draw of
/// [`TENANT_REPS`] keeps (the sum of the strata's own variances).
#[derive(Clone, Debug, Default)]
struct TenantStrata {
    var: f64,
    strata_var: f64,
    /// Each stratum's mean.
    means: Vec<f64>,
}

impl TenantStrata {
    /// The strata of tenants that all have `x` users.
    fn point(x: f64) -> Self {
        TenantStrata {
            var: 0.0,
            strata_var: 0.0,
            means: vec![x; TENANT_REPS],
        }
    }

    fn new(d: &Dist, worst: f64) -> Self {
        let k = TENANT_REPS;
        let mut all = (0.0, 0.0);
        let mut strata_var = 0.0;
        let mut means = Vec::with_capacity(k);
        for s in 0..k {
            let (mut s1, mut s2) = (0.0, 0.0);
            for j in 0..STRATUM_POINTS {
                let u = (s as f64 + (j as f64 + 0.5) / STRATUM_POINTS as f64) / k as f64;
                let x = d.quantile(u).min(worst).max(0.0);
                s1 += x;
                s2 += x * x;
            }
            let n = STRATUM_POINTS as f64;
            strata_var += (s2 / n - (s1 / n).powi(2)).max(0.0);
            means.push(s1 / n);
            all.0 += s1;
            all.1 += s2;
        }
        let n = (k * STRATUM_POINTS) as f64;
        TenantStrata {
            var: (all.1 / n - (all.0 / n).powi(2)).max(0.0),
            strata_var,
            means,
        }
    }
}

/// A scenario that happens in a trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Index of the scenario.
    pub scenario: usize,
    /// Start, in hours from the start of the month (days start at 24 x d).
    pub start_hour: f64,
}

/// What one month came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Month {
    /// Cost, USD.
    pub cost: f64,
    /// Revenue, USD.
    pub revenue: f64,
    /// Per tier.
    pub tiers: Vec<TierMonth>,
    /// Days each breaker tripped (a user or tenant breaker: days on which
    /// it tripped at least once).
    pub breaker_days: Vec<u32>,
    /// Times each breaker tripped: days (feature, global), user-days (user),
    /// tenant-days (tenant).
    pub breaker_trips: Vec<f64>,
    /// Scenarios that happened.
    pub happened: Vec<bool>,
}

impl Month {
    /// A month of `m` with nothing in it yet: a row per tier (with one per
    /// named account) and per breaker; `happened` the scenarios that did.
    pub fn empty(m: &Model, happened: Vec<bool>) -> Month {
        let mut out = Month {
            happened,
            ..Month::default()
        };
        out.reset(m);
        out
    }

    /// Back to [`Self::empty`] of `m` (its scenarios kept), reusing what it
    /// has allocated.
    fn reset(&mut self, m: &Model) {
        self.cost = 0.0;
        self.revenue = 0.0;
        self.tiers.truncate(m.tiers.len());
        self.tiers.resize_with(m.tiers.len(), TierMonth::default);
        for (tm, t) in self.tiers.iter_mut().zip(&m.tiers) {
            let mut alerts = std::mem::take(&mut tm.account_alerts);
            let mut breached = std::mem::take(&mut tm.account_breached);
            let mut tenants = std::mem::take(&mut tm.tenant_alerts);
            *tm = TierMonth::default();
            alerts.clear();
            alerts.resize(t.accounts.len(), 0.0);
            breached.clear();
            breached.resize(t.accounts.len(), false);
            tenants.clear();
            tm.account_alerts = alerts;
            tm.account_breached = breached;
            tm.tenant_alerts = tenants;
        }
        self.breaker_days.clear();
        self.breaker_days.resize(m.breakers.len(), 0);
        self.breaker_trips.clear();
        self.breaker_trips.resize(m.breakers.len(), 0.0);
    }
}

/// One tier's month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierMonth {
    /// Cost, USD.
    pub cost: f64,
    /// Subscriptions, USD.
    pub subscription_revenue: f64,
    /// Overage billing, USD.
    pub overage_revenue: f64,
    /// Users.
    pub users: f64,
    /// Active user-days.
    pub user_days: f64,
    /// User-days warned (past `warn_at`).
    pub warned_user_days: f64,
    /// User-days degraded (fallback, shrink, throttle, slow mode).
    pub degraded_user_days: f64,
    /// User-days blocked.
    pub blocked_user_days: f64,
    /// Users who hit a limit at least once.
    pub users_hit: f64,
    /// Tokens asked for.
    pub demand_tokens: f64,
    /// Tokens served.
    pub served_tokens: f64,
    /// Tokens not served.
    pub unserved_tokens: f64,
    /// Per alert threshold of the tenant budget: tenants that crossed it.
    pub tenant_alerts: Vec<f64>,
    /// Top-ups bought.
    pub topups: f64,
    /// Top-ups, USD.
    pub topup_revenue: f64,
    /// Per named account: the alerts of its budget it crossed.
    pub account_alerts: Vec<f64>,
    /// Per named account: whether its spend reached its budget.
    pub account_breached: Vec<bool>,
}

impl TierMonth {
    /// Subscriptions, overage and top-ups, USD.
    pub fn revenue(&self) -> f64 {
        self.subscription_revenue + self.overage_revenue + self.topup_revenue
    }
}

/// The prepared engine for one feature.
pub struct Engine<'m> {
    /// The priced feature.
    pub model: &'m Model,
    /// The demand tables (owned, or shared by engines that differ only in
    /// what the tables do not depend on: see [`super::Tables`]).
    pub demand: Cow<'m, Demand>,
    /// [tier][class] at the central cached share.
    stats: Vec<Vec<DayStats>>,
    panels: Vec<Option<std::sync::Arc<Panel>>>,
    /// Per tier with a top-up, its panel (Monte Carlo).
    topup_panels: Vec<Option<std::sync::Arc<topup::TopUpPanel>>>,
    /// Typical tokens and cost parts of one call (for runaway loops).
    loop_call_tokens: f64,
    loop_call_out: f64,
    /// Per tier: the worst case of one tenant's users, and the strata moments.
    tenant_strata: Vec<Option<(f64, TenantStrata)>>,
    /// Per tier and class, the user-days sorted by cost for the user
    /// breaker (empty without one).
    user_trips: Vec<Vec<TripTable>>,
    /// Per tier, what the worst case lets one user cost (a `block` cap at
    /// the dearest rate): a day at base prices, and a month at the worst
    /// price multiplier. No trial goes past them.
    bounds: Vec<Bound>,
    /// Per tier, whether its day reads nothing the month has booked so
    /// far (see [`Self::shared_day`]).
    shareable: Vec<bool>,
    /// The seed of the tables and panels (`None`: the central engine).
    seed: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bound {
    day: Option<f64>,
    month: Option<f64>,
}

/// Per tier, its monthly cut and its top-ups' month ([`Engine::cuts`]).
type Cuts = (Vec<Option<MonthlyCut>>, Vec<Option<topup::TopUpMonth>>);

/// Engines whose months can be worked out together
/// ([`Engine::months_together`]), and the tiers whose days they share.
#[derive(Clone, Debug)]
pub(crate) struct Together {
    /// Per tier: whether every engine's day of it is shareable (its day
    /// reads nothing booked so far; see [`Engine::shared_day`]).
    shareable: Vec<bool>,
    /// Per tier and engine: the first engine that has the tier alike (whose
    /// day of it the engine books).
    rep: Vec<Vec<usize>>,
    /// Whether some engine has monthly cuts or top-ups (each engine's own,
    /// swapped into the trial while its figures are worked out).
    cuts: bool,
    /// Per engine: the engine it is a twin of, if any. Twins differ only in
    /// the limits of the breakers on the day's total, the twin's no higher
    /// than its lead's: until a day on which either trips a breaker, the
    /// twin's month is its lead's, booked once.
    twin: Vec<Option<usize>>,
}

/// What [`Engine::months_together`] reuses from one trial to the next: the
/// engines' ledgers and days, and the day's scratch.
pub(crate) struct Scratch {
    ledgers: Vec<Ledger>,
    days: Vec<DayTotals>,
    /// [engine * tiers + tier]: each engine's day of each tier.
    sds: Vec<SharedDay>,
    z: Vec<f64>,
    scale: DayScale,
    /// Per engine: whether its month is still its twin's lead's
    /// ([`Together::twin`]).
    attached: Vec<bool>,
    /// Whether the months count their tenants' budget alerts
    /// ([`Ledger::alerts`]).
    alerts: bool,
}

impl Scratch {
    /// For months with (`alerts`) or without their tenants' budget alerts.
    pub(crate) fn new(alerts: bool) -> Scratch {
        Scratch {
            ledgers: Vec::new(),
            days: Vec::new(),
            sds: Vec::new(),
            z: Vec::new(),
            scale: DayScale::default(),
            attached: Vec::new(),
            alerts,
        }
    }
}

/// What one batch's day tables ([`DayStats`] per class) depend on beside
/// the demand tables: the tier's model and fallback, its caps, its overage
/// allowance, and the cached share.
#[derive(Clone, Debug, PartialEq)]
struct StatsKey {
    model: usize,
    fallback: Option<usize>,
    cap: Option<CapModel>,
    overage_after: Option<f64>,
    cached: f64,
}

/// Day tables worked out on one batch's demand tables, by what else they
/// depend on ([`Engine::on_tables_cached`]).
#[derive(Debug, Default)]
pub(crate) struct StatsCache(std::sync::Mutex<Vec<(StatsKey, Vec<DayStats>)>>);

impl StatsCache {
    /// The tables of `key`, worked out by `work` the first time.
    fn get_or(&self, key: StatsKey, work: impl FnOnce() -> Vec<DayStats>) -> Vec<DayStats> {
        let lock = || self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, v)) = lock().iter().find(|(k, _)| *k == key) {
            return v.clone();
        }
        let v = work();
        lock().push((key, v.clone()));
        v
    }
}

impl Together {
    /// `None` unless the engines stand on the same demand tables and seed
    /// and their models differ at most in the tiers' caps and the breakers'
    /// limits, without a user breaker (whose trips are drawn: how many
    /// numbers depends on the limits).
    pub(crate) fn new(engines: &[&Engine]) -> Option<Together> {
        let e0 = engines.first()?;
        let m0 = e0.model;
        if m0.breaker_at(BreakerLevel::User).is_some() {
            return None;
        }
        for e in &engines[1..] {
            if !std::ptr::eq(&*e.demand, &*e0.demand) || e.seed != e0.seed {
                return None;
            }
            let mut m = e.model.clone();
            if m.tiers.len() != m0.tiers.len() || m.breakers.len() != m0.breakers.len() {
                return None;
            }
            for (t, t0) in m.tiers.iter_mut().zip(&m0.tiers) {
                t.cap.clone_from(&t0.cap);
            }
            for (b, b0) in m.breakers.iter_mut().zip(&m0.breakers) {
                b.limit_usd = b0.limit_usd;
            }
            if m != *m0 {
                return None;
            }
        }
        let shareable = (0..m0.tiers.len())
            .map(|ti| engines.iter().all(|e| e.shareable[ti]))
            .collect();
        let rep: Vec<Vec<usize>> = (0..m0.tiers.len())
            .map(|ti| {
                (0..engines.len())
                    .map(|k| {
                        (0..k)
                            .find(|&j| engines[j].model.tiers[ti] == engines[k].model.tiers[ti])
                            .unwrap_or(k)
                    })
                    .collect()
            })
            .collect();
        let cuts = engines.iter().any(|e| {
            e.model
                .tiers
                .iter()
                .any(|t| t.top_up().is_some() || t.cap.as_ref().is_some_and(|c| c.monthly_tokens.is_some()))
        });
        let n = engines.len();
        // Twins: every tier alike, the same bounds, the same breakers but
        // for the limits of those on the day's total.
        let alike = |j: usize, k: usize| {
            (0..m0.tiers.len()).all(|ti| rep[ti][j] == rep[ti][k])
                && engines[j].bounds == engines[k].bounds
                && engines[j]
                    .model
                    .breakers
                    .iter()
                    .zip(&engines[k].model.breakers)
                    .all(|(a, b)| a.level.is_day_total() || a.limit_usd == b.limit_usd)
        };
        let covers = |j: usize, k: usize| {
            engines[j]
                .model
                .breakers
                .iter()
                .zip(&engines[k].model.breakers)
                .all(|(a, b)| a.limit_usd >= b.limit_usd)
        };
        let twin = (0..n)
            .map(|k| {
                let class: Vec<usize> = (0..n).filter(|&j| alike(j, k)).collect();
                // The lead: the first of the class whose limits cover every
                // other's (the same for every engine of the class).
                let lead = class.iter().copied().find(|&j| class.iter().all(|&i| covers(j, i)))?;
                (lead != k).then_some(lead)
            })
            .collect();
        Some(Together {
            shareable,
            rep,
            cuts,
            twin,
        })
    }

    /// Whether some engine is another's twin ([`Self::twin`]).
    pub(crate) fn has_twins(&self) -> bool {
        self.twin.iter().any(Option::is_some)
    }

    /// Whether some engine shares another's day of some tier.
    pub(crate) fn shares(&self) -> bool {
        self.shareable
            .iter()
            .zip(&self.rep)
            .any(|(s, rep)| *s && rep.iter().enumerate().any(|(k, r)| *r != k))
    }
}

/// A fixed set of simulated users (common random numbers across trials) for
/// monthly caps.
struct Panel {
    /// Each user's draw for the power-user class, in ascending order.
    class_u: Vec<f64>,
    /// [day * PANEL_USERS + user]
    active_u: Vec<f32>,
    sample: Vec<u32>,
    /// [class][sample]: each user-day's figures as functions of the share
    /// `r` the monthly cap cuts and the cached share `c`.
    rows: Vec<Vec<PanelRow>>,
}

/// One sampled user-day under a tier's caps, priced once per batch instead
/// of once per trial and user. [`user_day`] is linear in `r` (the share of
/// what the daily cap lets through that the monthly cap cuts) and in `c`
/// (the cached share) for every `on_limit`, so four evaluations at the
/// corners give it everywhere:
/// cost = a0 + a1·c + r·(b0 + b1·c), served = s0 + r·s1.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct PanelRow {
    /// Tokens the daily cap lets through.
    within_daily: f64,
    cost: [f64; 4],
    served: [f64; 2],
    /// Whether the daily cap cut this user-day.
    daily_hit: bool,
}

impl PanelRow {
    fn new(s: &Samples, si: usize, tier: &TierModel) -> PanelRow {
        let daily = tier.cap.as_ref().and_then(|c| c.daily_tokens);
        let one = DayStats::one(s, si, tier.model, tier.fallback, daily);
        let at = |r: f64, c: f64| user_day(&one, tier.cap.as_ref(), r, c);
        let (u00, u01, u10, u11) = (at(0.0, 0.0), at(0.0, 1.0), at(1.0, 0.0), at(1.0, 1.0));
        let t = s.tokens[si];
        PanelRow {
            within_daily: daily.map_or(t, |dl| t.min(dl)),
            daily_hit: daily.is_some_and(|dl| t > dl),
            cost: [
                u00.cost,
                u01.cost - u00.cost,
                u10.cost - u00.cost,
                u11.cost - u10.cost - u01.cost + u00.cost,
            ],
            served: [u00.served_tokens, u10.served_tokens - u00.served_tokens],
        }
    }

    #[inline]
    fn cost(&self, r: f64, c: f64) -> f64 {
        let k = &self.cost;
        k[0] + k[1] * c + r * (k[2] + k[3] * c)
    }

    #[inline]
    fn served(&self, r: f64) -> f64 {
        self.served[0] + r * self.served[1]
    }
}

impl<'m> Engine<'m> {
    /// The central (deterministic) engine.
    pub fn central(model: &'m Model) -> Self {
        Self::build(model, Cow::Owned(Demand::central(model)), None, None, None)
    }

    /// The Monte Carlo engine, its tables drawn from `seed`.
    pub fn sampled(model: &'m Model, seed: u64) -> Self {
        Self::sampled_sized(model, super::demand::CLASS_SAMPLES, seed)
    }

    /// The Monte Carlo engine with `size` samples per class of user-day.
    pub fn sampled_sized(model: &'m Model, size: usize, seed: u64) -> Self {
        Self::build(
            model,
            Cow::Owned(Demand::sampled(model, size, seed)),
            Some(seed),
            None,
            None,
        )
    }

    /// The Monte Carlo engine on tables drawn (from `seed`) for another
    /// model: the same engine as [`Self::sampled_sized`] would build when
    /// `model` differs from the tables' model only in what the tables do not
    /// depend on (caps, budgets, breakers, revenue: see [`super::Tables`]).
    pub fn on_tables(model: &'m Model, demand: &'m Demand, seed: u64) -> Self {
        Self::build(model, Cow::Borrowed(demand), Some(seed), None, None)
    }

    /// [`Self::sampled_sized`], taking from `like` what [`Self::on_tables_like`] does.
    pub(crate) fn sampled_like(model: &'m Model, size: usize, seed: u64, like: &Engine) -> Self {
        Self::build(
            model,
            Cow::Owned(Demand::sampled(model, size, seed)),
            Some(seed),
            Some(like),
            None,
        )
    }

    /// [`Self::on_tables`], taking from `like` what it has already worked
    /// out and would be worked out again the same: the tables of each tier
    /// it has alike on the same demand tables and seed, and the strata of
    /// each tier of tenants alike. The same engine, built in less time.
    pub(crate) fn on_tables_like(model: &'m Model, demand: &'m Demand, seed: u64, like: &Engine) -> Self {
        Self::build(model, Cow::Borrowed(demand), Some(seed), Some(like), None)
    }

    /// [`Self::on_tables_like`] (without `like`, [`Self::on_tables`]) on
    /// tables of its own.
    pub(crate) fn owning(model: &'m Model, demand: Demand, seed: u64, like: Option<&Engine>) -> Self {
        Self::build(model, Cow::Owned(demand), Some(seed), like, None)
    }

    /// [`Self::on_tables_like`], taking a tier's day tables from `cache` when
    /// an engine on the same tables worked them out before (and keeping
    /// there those it works out): the same engine, built in less time when
    /// the same caps come back (a search's steps).
    pub(crate) fn on_tables_cached(
        model: &'m Model,
        demand: &'m Demand,
        seed: u64,
        like: &Engine,
        cache: &StatsCache,
    ) -> Self {
        Self::build(model, Cow::Borrowed(demand), Some(seed), Some(like), Some(cache))
    }

    fn build(
        model: &'m Model,
        demand: Cow<'m, Demand>,
        seed: Option<u64>,
        like: Option<&Engine>,
        cache: Option<&StatsCache>,
    ) -> Self {
        let c = model.cached_share.central();
        // Tier `ti`'s tables as `like` has them, when they are the same.
        let same_tables = |ti: usize| {
            like.filter(|e| {
                std::ptr::eq(&*e.demand, &*demand)
                    && e.seed == seed
                    && e.model.cached_share == model.cached_share
                    && e.model.days == model.days
                    && e.model.tiers.get(ti) == model.tiers.get(ti)
            })
        };
        let stats = model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                if let Some(e) = same_tables(ti) {
                    return e.stats[ti].clone();
                }
                let work = || {
                    demand
                        .classes
                        .iter()
                        .map(|s| DayStats::new(s, t.model, t.fallback, t.cap.as_ref(), t.overage.map(|o| o.0), c))
                        .collect()
                };
                match cache {
                    // Only beside `like`, on the same tables and seed.
                    Some(cache) if like.is_some_and(|e| std::ptr::eq(&*e.demand, &*demand) && e.seed == seed) => {
                        let key = StatsKey {
                            model: t.model,
                            fallback: t.fallback,
                            cap: t.cap.clone(),
                            overage_after: t.overage.map(|o| o.0),
                            cached: c,
                        };
                        cache.get_or(key, work)
                    }
                    _ => work(),
                }
            })
            .collect();
        let days = model.days as usize;
        let panels = model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                if let Some(e) = same_tables(ti) {
                    return e.panels[ti].clone();
                }
                let seed = seed?;
                t.cap.as_ref()?.monthly_tokens?;
                let mut rng = stream(seed, STREAM_PANEL + ti as u64);
                let n = demand.classes[0].len() as u64;
                let mut class_u: Vec<f64> = (0..PANEL_USERS).map(|_| open01(&mut rng)).collect();
                class_u.sort_by(f64::total_cmp);
                Some(std::sync::Arc::new(Panel {
                    class_u,
                    active_u: (0..PANEL_USERS * days).map(|_| open01(&mut rng) as f32).collect(),
                    sample: (0..PANEL_USERS * days).map(|_| (rng.next_u64() % n) as u32).collect(),
                    rows: demand
                        .classes
                        .iter()
                        .map(|s| (0..s.len()).map(|si| PanelRow::new(s, si, t)).collect())
                        .collect(),
                }))
            })
            .collect();
        let topup_panels = model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                if let Some(e) = same_tables(ti) {
                    return e.topup_panels[ti].clone();
                }
                t.cap.as_ref()?.top_up.as_ref()?;
                Some(std::sync::Arc::new(topup::TopUpPanel::new(
                    seed?,
                    ti,
                    days,
                    &demand.classes,
                    t,
                )))
            })
            .collect();
        let q = model.worst_case_quantile;
        let tenant_strata = model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| match &t.customers {
                Customers::Tenants { users_per_tenant, .. } => {
                    // The strata depend on the users per tenant and the
                    // worst-case quantile alone.
                    if let Some(e) = like
                        && e.model.worst_case_quantile == q
                        && let Some(Customers::Tenants {
                            users_per_tenant: u, ..
                        }) = e.model.tiers.get(ti).map(|t| &t.customers)
                        && u == users_per_tenant
                        && let Some(Some(x)) = e.tenant_strata.get(ti)
                    {
                        return Some(x.clone());
                    }
                    let worst = users_per_tenant.worst(q);
                    Some((worst, TenantStrata::new(users_per_tenant, worst)))
                }
                Customers::Users(_) => None,
            })
            .collect();
        let pm = model.worst_price_multiplier();
        let bounds = model
            .tiers
            .iter()
            .map(|t| {
                let rate = model.dearest_rate(t);
                let cap = t.cap.as_ref().filter(|c| c.on_limit == OnLimit::Block);
                Bound {
                    // A user may spend the month's top-ups in one day.
                    day: cap.and_then(|c| c.daily_tokens.map(|d| (d + c.top_up_tokens()) * rate)),
                    month: cap.and_then(|c| c.block_bound(days as f64)).map(|x| x * rate * pm),
                }
            })
            .collect();
        let (user_breaker, tenant_breaker) = (
            model.breaker_at(BreakerLevel::User).is_some(),
            model.breaker_at(BreakerLevel::Tenant).is_some(),
        );
        let shareable = model
            .tiers
            .iter()
            .map(|t| {
                !user_breaker && !tenant_breaker && t.accounts.is_empty() && t.budget.as_ref().is_none_or(|b| !b.block)
            })
            .collect();
        let user_trips = if model.breaker_at(BreakerLevel::User).is_some() {
            model
                .tiers
                .iter()
                .enumerate()
                .map(|(ti, t)| match same_tables(ti).filter(|e| !e.user_trips.is_empty()) {
                    Some(e) => e.user_trips[ti].clone(),
                    None => demand
                        .classes
                        .iter()
                        .map(|s| TripTable::new(s, t.model, t.fallback, t.cap.as_ref(), c))
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Engine {
            model,
            demand,
            stats,
            user_trips,
            panels,
            topup_panels,
            tenant_strata,
            loop_call_tokens: model.typical_input() + model.typical_output(),
            loop_call_out: model.typical_output(),
            bounds,
            shareable,
            seed,
        }
    }

    /// The shared quantities at their central values, no scenario.
    pub fn central_draw(&self) -> Draw {
        let m = self.model;
        Draw {
            customers: m
                .tiers
                .iter()
                .map(|t| match &t.customers {
                    Customers::Users(d) => TierDraw::Users(d.central()),
                    Customers::Tenants {
                        tenants,
                        users_per_tenant,
                    } => {
                        let n = tenants.central().round();
                        if n as usize > TENANT_REPS {
                            // Identical tenants: one stands for all.
                            TierDraw::Sampled {
                                users: vec![users_per_tenant.central()],
                                mass: vec![users_per_tenant.central()],
                                weight: n,
                            }
                        } else {
                            TierDraw::Tenants(vec![users_per_tenant.central(); n as usize])
                        }
                    }
                })
                .collect(),
            active: m.active_share.central(),
            cached: m.cached_share.central(),
            events: Vec::new(),
            uptake: m
                .tiers
                .iter()
                .map(|t| t.top_up().map_or(0.0, |u| u.uptake.central().clamp(0.0, 1.0)))
                .collect(),
            accounts: m
                .tiers
                .iter()
                .map(|t| t.accounts.iter().map(|a| a.users.central().round()).collect())
                .collect(),
            budgets: vec![Vec::new(); m.tiers.len()],
        }
    }

    /// Draw the shared quantities of one trial. Customer counts follow the
    /// rule of every count ([`stochastic_count`]): rounded stochastically to
    /// a whole number, then clipped at the value the worst case reads, so no
    /// trial has more customers than the worst case.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Draw {
        self.draw_as(self.model, rng)
    }

    /// [`Self::draw`] with the shared quantities drawn from `m`, a copy of
    /// the engine's model that differs at most in the distributions drawn
    /// here (customers, active and cached shares, scenarios' chances,
    /// top-up uptake, accounts' users, drawn tenant budgets): the
    /// sensitivity analysis pins one of them and keeps the demand tables.
    /// A `users_per_tenant` pinned to one value has that value's strata. A
    /// scenario's chance that differs from the engine's takes the same
    /// words of the stream as the engine's model would (its event's start
    /// drawn from the uniform that decided it where only it has the
    /// event), so that the months of both go on from the same state.
    pub(crate) fn draw_as<R: Rng + ?Sized>(&self, m: &Model, rng: &mut R) -> Draw {
        let q = m.worst_case_quantile;
        let count = |d: &Dist, hi: f64, rng: &mut R| stochastic_count(d.sample(rng), 0.0, hi, rng);
        let customers: Vec<TierDraw> = m
            .tiers
            .iter()
            .zip(&self.tenant_strata)
            .zip(&self.model.tiers)
            .map(|((t, strata), own)| match (&t.customers, strata) {
                (
                    Customers::Tenants {
                        tenants,
                        users_per_tenant,
                    },
                    Some((worst, strata)),
                ) => {
                    let n = count(tenants, tenants.worst(q).round(), rng) as usize;
                    let pinned;
                    let changed = !matches!(&own.customers, Customers::Tenants { users_per_tenant: u, .. } if u == users_per_tenant);
                    let (worst, strata) = if changed {
                        let x = users_per_tenant.central().min(*worst).max(0.0);
                        pinned = TenantStrata::point(x);
                        (x, &pinned)
                    } else {
                        (*worst, strata)
                    };
                    if n <= TENANT_REPS {
                        TierDraw::Tenants((0..n).map(|_| count(users_per_tenant, worst, rng)).collect())
                    } else {
                        self.represented(users_per_tenant, worst, strata, n, rng)
                    }
                }
                (Customers::Users(d), _) | (Customers::Tenants { tenants: d, .. }, None) => {
                    TierDraw::Users(count(d, d.worst(q), rng))
                }
            })
            .collect();
        let active = m.active_share.sample(rng).clamp(0.0, 1.0);
        let cached = m.cached_share.sample(rng).clamp(0.0, 1.0);
        let days = m.days as f64;
        let mut events = Vec::new();
        for (i, s) in m.scenarios.iter().enumerate() {
            // Whether the event happens here, and whether it does in the
            // engine's own model (a variant with another chance takes the
            // same words of the stream as the engine's model: its months
            // then replay the same noise). Happening where the own model's
            // would not (`u` between the chances), its start is drawn
            // from `u` itself: uniform there, and nothing else reads it.
            let u = open01(rng);
            let own = self.model.scenarios.get(i).map_or(s.chance, |o| o.chance);
            let (here, there) = (u < s.chance, u < own);
            let x = match (here, there) {
                (false, false) => continue,
                (true, true) => open01(rng),
                (false, true) => {
                    let _ = open01(rng);
                    continue;
                }
                (true, false) => (u - own) / (s.chance - own),
            };
            let start_hour = match s.effect {
                Effect::Viral { days: len, .. } => {
                    let span = (days - len as f64).max(0.0) + 1.0;
                    (x * span).floor().min(span - 1.0) * 24.0
                }
                Effect::Loop { hours, .. } => x * (days * 24.0 - hours).max(0.0),
                _ => (x * days).floor().min(days - 1.0) * 24.0,
            };
            events.push(Event {
                scenario: i,
                start_hour,
            });
        }
        // Drawn last, and only for tiers with a top-up: other specs keep
        // their draws.
        let uptake = m
            .tiers
            .iter()
            .map(|t| t.top_up().map_or(0.0, |u| u.uptake.sample(rng).clamp(0.0, 1.0)))
            .collect();
        // Drawn after everything else, and only for tiers that have them, so
        // that a spec without them keeps its random streams.
        let accounts = m
            .tiers
            .iter()
            .map(|t| {
                t.accounts
                    .iter()
                    .map(|a| count(&a.users, a.users.worst(q).round(), rng))
                    .collect()
            })
            .collect();
        let budgets = m
            .tiers
            .iter()
            .zip(&customers)
            .map(
                |(t, cd)| match (t.budget.as_ref().and_then(|b| b.drawn.as_ref()), cd.tenants()) {
                    // Each tenant's budget, clipped at the value the worst case reads.
                    (Some(d), Some((v, _))) => v.iter().map(|_| d.sample(rng).clamp(0.0, d.worst(q))).collect(),
                    _ => Vec::new(),
                },
            )
            .collect();
        Draw {
            customers,
            active,
            cached,
            events,
            uptake,
            accounts,
            budgets,
        }
    }

    /// `n` tenants through [`TENANT_REPS`] representatives, one drawn in each
    /// stratum of `users_per_tenant`, each standing for `w = n / TENANT_REPS`
    /// tenants. The representatives keep the spread of tenant sizes (what
    /// budgets act on). What the `w` tenants of a stratum weigh together is
    /// the stratum's mean plus the representative's deviation from it over
    /// sqrt(w) (the spread of a mean of `w`), and the spread between strata
    /// that stratifying removes (`n * var` less the strata's own) is put back
    /// by one shared draw: the tier's total users keep the mean and the
    /// spread of `n` independent tenants.
    fn represented<R: Rng + ?Sized>(
        &self,
        d: &Dist,
        worst: f64,
        strata: &TenantStrata,
        n: usize,
        rng: &mut R,
    ) -> TierDraw {
        let k = TENANT_REPS as f64;
        let weight = n as f64 / k;
        let users: Vec<f64> = (0..TENANT_REPS)
            .map(|s| {
                let x = d.quantile((s as f64 + open01(rng)) / k);
                stochastic_count(x, 0.0, worst, rng)
            })
            .collect();
        let shrink = weight.sqrt().recip();
        let mut mass: Vec<f64> = users
            .iter()
            .zip(&strata.means)
            .map(|(u, m)| (m + (u - m) * shrink).max(0.0))
            .collect();
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        let missing = (n as f64 * strata.var - weight * strata.strata_var).max(0.0);
        let total = weight * mass.iter().sum::<f64>();
        if total > 0.0 {
            let f = (1.0 + z * missing.sqrt() / total).max(0.0);
            for x in &mut mass {
                *x *= f;
            }
        }
        TierDraw::Sampled { users, mass, weight }
    }

    /// Evaluate one month. `noise` adds the spread that a finite number of
    /// users gives a day's total (Monte Carlo); `None` gives the expectation.
    ///
    /// The month is read top-down: the day shape (scenarios), the monthly
    /// caps' cut, then each day: each tier's day (`Self::tier_day`), the
    /// runaway loops (`Self::loop_day`), the worst-case bound, the
    /// breakers ([`trip_breakers`]) and the day's settlement into the month
    /// and the tenants' budgets (`Self::settle_day`); last the month's
    /// users and revenue (`Self::settle_month`).
    pub fn month(&self, draw: &Draw, noise: Option<&mut ChaCha8Rng>) -> Month {
        self.month_in(draw, noise.map(Noise::plain))
    }

    /// [`Self::month`] with its noise as a [`Noise`] (perhaps read from a
    /// tape of the same stream's normal numbers).
    pub(crate) fn month_in(&self, draw: &Draw, mut noise: Option<Noise<'_>>) -> Month {
        let m = self.model;
        let shape = DayShape::new(m, draw);
        let slot: Vec<usize> = shape.viral.iter().map(|&v| self.viral_slot(v)).collect();
        let cuts = self.cuts(draw, &slot, &shape.power);
        let mut ledger = Ledger::new(m, draw, &shape);
        let trial = self.trial(draw, shape, slot, cuts, &ledger, &mut noise);
        let mut day = DayTotals::new(m.tiers.len());
        let mut scale = DayScale::default();
        for d in 0..trial.shape.days() {
            day.start();
            let today = trial.today(d);
            for ti in 0..m.tiers.len() {
                self.tier_day(&trial, today, ti, &mut day, &mut ledger, &mut noise);
            }
            self.end_day(&trial, today, &mut day, &mut ledger, &mut scale);
        }
        self.end_month(&trial, &mut ledger);
        ledger.out
    }

    /// What the trial's days share ([`Trial`]): the month's draws of power
    /// users (from `noise`), the tenant entries and alert thresholds (from
    /// `ledger`'s shape), each tier's users.
    fn trial<'a>(
        &self,
        draw: &'a Draw,
        shape: DayShape,
        slot: Vec<usize>,
        (monthly, topups): Cuts,
        ledger: &Ledger,
        noise: &mut Option<Noise<'_>>,
    ) -> Trial<'a> {
        let nt = self.model.tiers.len();
        let power_z = power_counts(draw, noise);
        let entries = (0..nt).map(|ti| self.tier_entries(draw, &power_z, ti)).collect();
        let alerts = (0..nt).map(|ti| self.alert_thresholds(draw, ledger, ti)).collect();
        Trial {
            draw,
            power_z,
            entries,
            alerts,
            tier_users: (0..draw.customers.len()).map(|ti| draw.tier_users(ti)).collect(),
            shape,
            slot,
            monthly,
            topups,
        }
    }

    /// The rest of a day once every tier's day is booked: the runaway
    /// loops, the worst-case bound, the breakers (into `scale`, reused day
    /// after day) and the day's settlement.
    fn end_day(&self, trial: &Trial, today: Today, day: &mut DayTotals, ledger: &mut Ledger, scale: &mut DayScale) {
        self.before_breakers(trial, today, day, ledger);
        self.breakers_and_settle(trial, day, ledger, scale);
    }

    /// The runaway loops and the worst-case bound of a day whose tiers'
    /// days are booked ([`Self::end_day`], up to the breakers).
    fn before_breakers(&self, trial: &Trial, today: Today, day: &mut DayTotals, ledger: &mut Ledger) {
        for (li, lp) in trial.shape.loops.iter().enumerate() {
            self.loop_day(trial, today, li, lp, day, ledger);
        }
        // No tier's day goes past what the worst case lets its users cost.
        for (ti, c) in day.cost.iter_mut().enumerate() {
            if let Some(b) = self.bounds[ti].day {
                *c = c.min(trial.tier_users[ti] * b * today.prices);
            }
        }
    }

    /// Whether some breaker on the day's total trips on `day` (as
    /// [`trip_breakers_into`] sums and compares it: a total not at or below
    /// the limit trips it): with none, the breakers change nothing and
    /// count nothing.
    fn trips(&self, day: &DayTotals) -> bool {
        let total: f64 = day.cost.iter().sum();
        self.model.breakers.iter().any(|b| {
            b.level.is_day_total()
                && !matches!(
                    total.partial_cmp(&b.limit_usd),
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                )
        })
    }

    /// The rest of [`Self::end_day`]: the breakers, then the day's
    /// settlement.
    fn breakers_and_settle(&self, trial: &Trial, day: &DayTotals, ledger: &mut Ledger, scale: &mut DayScale) {
        trip_breakers_into(
            self.model,
            &day.cost,
            &day.active,
            trial.draw.cached,
            &mut ledger.out,
            scale,
        );
        self.settle_day(trial, day, scale, ledger);
    }

    /// The month once its days are done: the tenants' alerts, then its
    /// users and revenue.
    fn end_month(&self, trial: &Trial, ledger: &mut Ledger) {
        self.tenant_alerts(trial, ledger);
        self.settle_month(trial, &mut ledger.out);
    }

    /// The months of `engines` in one trial (`draw`, then `noise`), worked
    /// out together: each is byte for byte its own [`Self::month`], and what
    /// they share is done once: the day shape, the month's draws, and the
    /// day of every tier they all have alike and whose day reads nothing
    /// booked so far ([`Self::shared_day`]). A tier they differ in is worked
    /// out engine by engine from the same random state; the month's noise
    /// then goes on from where each left it (the same place: every draw of
    /// a tier's day is made whatever its limits). Each engine then applies
    /// its own loops, bounds, breakers and settlement. `together` is
    /// [`Together::new`] of the same engines.
    pub(crate) fn months_together(
        engines: &[&Engine],
        together: &Together,
        draw: &Draw,
        noise: &mut ChaCha8Rng,
        scratch: &mut Scratch,
        each: &mut dyn FnMut(usize, &Month),
    ) {
        let e0 = engines[0];
        let m = e0.model;
        let nt = m.tiers.len();
        let shape = DayShape::new(m, draw);
        let slot: Vec<usize> = shape.viral.iter().map(|&v| e0.viral_slot(v)).collect();
        // Each other engine's monthly cuts and top-ups, swapped into the
        // trial (which has the reference's) while its figures are worked
        // out; none when no engine has any (every engine's are the same).
        let mut own: Vec<Cuts> = if together.cuts {
            engines[1..].iter().map(|e| e.cuts(draw, &slot, &shape.power)).collect()
        } else {
            Vec::new()
        };
        let cuts = e0.cuts(draw, &slot, &shape.power);
        let Scratch {
            ledgers,
            days,
            sds,
            z,
            scale,
            attached,
            alerts,
        } = scratch;
        attached.clear();
        attached.extend(together.twin.iter().map(Option::is_some));
        for (k, e) in engines.iter().enumerate() {
            match ledgers.get_mut(k) {
                Some(l) => l.reset(e.model, draw, &shape),
                None => ledgers.push(Ledger::new(e.model, draw, &shape)),
            }
            ledgers[k].alerts = *alerts;
        }
        days.resize_with(engines.len(), || DayTotals::new(nt));
        sds.resize_with(engines.len() * nt, SharedDay::default);
        // A new trial (and perhaps another batch's engines): no day's
        // expectation holds.
        for sd in sds.iter_mut() {
            sd.memo = None;
        }
        let mut trial = e0.trial(draw, shape, slot, cuts, &ledgers[0], &mut Some(Noise::plain(noise)));
        let swap = |trial: &mut Trial, own: &mut [Cuts], k: usize| {
            if k > 0 && !own.is_empty() {
                std::mem::swap(&mut trial.monthly, &mut own[k - 1].0);
                std::mem::swap(&mut trial.topups, &mut own[k - 1].1);
            }
        };
        for d in 0..trial.shape.days() {
            for x in days.iter_mut() {
                x.start();
            }
            let today = trial.today(d);
            for ti in 0..nt {
                if together.shareable[ti] {
                    // From the same draws, the day of each distinct version
                    // of the tier, worked out once (by the first engine that
                    // has it) and booked by every engine that has it.
                    let noisy = draw_normals(e0.shared_draws(&trial, ti), &mut Some(Noise::plain(noise)), z);
                    let rep = &together.rep[ti];
                    for (k, e) in engines.iter().enumerate() {
                        if rep[k] == k {
                            swap(&mut trial, &mut own, k);
                            e.shared_day(&trial, today, ti, noisy.then_some(&z[..]), &mut sds[k * nt + ti]);
                            swap(&mut trial, &mut own, k);
                        }
                        if !attached[k] {
                            sds[rep[k] * nt + ti].apply(ti, &mut days[k], &mut ledgers[k]);
                        }
                    }
                    continue;
                }
                let start = noise.clone();
                let mut end = None;
                for (k, e) in engines.iter().enumerate() {
                    if attached[k] {
                        continue;
                    }
                    let mut rng = start.clone();
                    swap(&mut trial, &mut own, k);
                    e.tier_day(
                        &trial,
                        today,
                        ti,
                        &mut days[k],
                        &mut ledgers[k],
                        &mut Some(Noise::plain(&mut rng)),
                    );
                    swap(&mut trial, &mut own, k);
                    debug_assert!(
                        end.as_ref().is_none_or(|x| *x == rng),
                        "a tier's day drew as many numbers"
                    );
                    end = Some(rng);
                }
                if let Some(e) = end {
                    *noise = e;
                }
            }
            for (k, e) in engines.iter().enumerate() {
                if !attached[k] {
                    swap(&mut trial, &mut own, k);
                    e.before_breakers(&trial, today, &mut days[k], &mut ledgers[k]);
                    swap(&mut trial, &mut own, k);
                }
            }
            // A twin whose lead or itself trips a breaker today goes on from
            // its lead's month as it stands before the breakers.
            for k in 0..engines.len() {
                if let (true, Some(j)) = (attached[k], together.twin[k])
                    && (engines[j].trips(&days[j]) || engines[k].trips(&days[j]))
                {
                    attached[k] = false;
                    ledgers[k] = ledgers[j].clone();
                    days[k] = days[j].clone();
                }
            }
            for (k, e) in engines.iter().enumerate() {
                if !attached[k] {
                    swap(&mut trial, &mut own, k);
                    e.breakers_and_settle(&trial, &days[k], &mut ledgers[k], scale);
                    swap(&mut trial, &mut own, k);
                }
            }
        }
        for (k, e) in engines.iter().enumerate() {
            if !attached[k] {
                swap(&mut trial, &mut own, k);
                e.end_month(&trial, &mut ledgers[k]);
                swap(&mut trial, &mut own, k);
            }
        }
        for (k, (twin, &on)) in together.twin.iter().zip(attached.iter()).enumerate() {
            let j = match twin {
                Some(j) if on => *j,
                _ => k,
            };
            each(k, &ledgers[j].out);
        }
    }

    /// Each tier's monthly cut (a monthly cap, or a top-up's), and what its
    /// top-ups did.
    fn cuts(&self, draw: &Draw, slot: &[usize], power: &[f64]) -> Cuts {
        let mut monthly = self.monthly_cuts(draw, slot, power);
        let mut topups = Vec::with_capacity(self.model.tiers.len());
        for (ti, mc) in monthly.iter_mut().enumerate() {
            let uptake = draw.uptake.get(ti).copied().unwrap_or(0.0);
            let t = self.top_up_month(ti, draw.active, draw.cached, uptake, slot, power);
            if let Some((cut, tu)) = t {
                *mc = Some(cut);
                topups.push(Some(tu));
            } else {
                topups.push(None);
            }
        }
        (monthly, topups)
    }

    /// The demand tables' slot of a day at viral multiplier `v` (0: ordinary).
    fn viral_slot(&self, v: f64) -> usize {
        if v > 1.0 { self.demand.slot_of(v) } else { 0 }
    }

    /// Monthly caps: per tier with one, the share of what the daily cap let
    /// through that the monthly cap cuts, per day and class, and the share of
    /// users and user-days it hits.
    fn monthly_cuts(&self, draw: &Draw, slot: &[usize], power: &[f64]) -> Vec<Option<MonthlyCut>> {
        self.model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                // A tier with a top-up: its own panel (`Self::top_up_month`).
                if t.top_up().is_some() {
                    return None;
                }
                let cap_m = t.cap.as_ref().and_then(|c| c.monthly_tokens)?;
                Some(match &self.panels[ti] {
                    Some(panel) => self.panel_month(ti, panel, cap_m, draw.active, draw.cached, slot, power),
                    None => self.fluid_month(ti, cap_m, draw.active, slot),
                })
            })
            .collect()
    }

    /// A tier's average active user-day today: its two classes (ordinary and
    /// power users) after the monthly cap's cut.
    fn class_mix(&self, trial: &Trial, today: Today, ti: usize) -> ClassMix<'_> {
        let stats = [
            &self.stats[ti][self.demand.class(today.slot, false)],
            &self.stats[ti][self.demand.class(today.slot, true)],
        ];
        let (cut, hit_days) = match &trial.monthly[ti] {
            Some(mc) => (mc.r[today.d], mc.hit_days[today.d]),
            None => ([0.0; 2], [0.0; 2]),
        };
        let cap = self.model.tiers[ti].cap.as_ref();
        let c = trial.draw.cached;
        // The share of what is past the caps that top-ups serve.
        let b = trial.topups[ti].as_ref().map_or([0.0; 2], |t| t.bought[today.d]);
        ClassMix {
            p: today.power,
            stats,
            cut,
            hit_days,
            days: [
                user_day_bought(stats[0], cap, cut[0], b[0], c),
                user_day_bought(stats[1], cap, cut[1], b[1], c),
            ],
        }
    }

    /// The spread a user adds to a tier's day, for the cost and the overage
    /// revenue of the same user-days (variances and their covariance, per
    /// user, USD), and what a power user adds over an ordinary one (a user
    /// keeps their class all month, so the count of power users is drawn
    /// once a month).
    fn user_spread(&self, trial: &Trial, today: Today, ti: usize, mix: &ClassMix, ov_rate: f64) -> UserSpread {
        let pm = today.prices;
        match trial.monthly[ti].as_ref() {
            // A monthly cap: from the panel, whose users live their whole
            // month (class and cap included), scaled so that the days add up
            // to the spread of its user-months.
            Some(mc) => {
                let [vc, vo, cv] = mc.day_var[today.d];
                UserSpread {
                    cost_var: vc * pm * pm,
                    overage_var: vo * ov_rate * ov_rate,
                    cov: cv * pm * ov_rate,
                    power_cost: 0.0,
                    power_overage: 0.0,
                }
            }
            // Otherwise from the tables, rescaled to today's conditions by
            // how today's mean compares with the table's.
            None => {
                let a = trial.draw.active;
                let one = |st: &DayStats, u: &UserDay, r: f64| {
                    let k = if st.cost_ref > 0.0 { u.cost / st.cost_ref } else { 0.0 };
                    let (mc, mo) = (a * u.cost * pm, a * st.overage_tokens * (1.0 - r) * ov_rate);
                    // E[x²] − E[x]² cancels to rounding noise when every
                    // user-day is alike; below it there is no spread.
                    let clean = |v: f64, m: f64| if v > 1e-9 * m * m { v } else { 0.0 };
                    let vc = clean(a * st.cost_sq * (k * pm).powi(2) - mc * mc, mc);
                    let vo = clean(a * st.overage_sq * ((1.0 - r) * ov_rate).powi(2) - mo * mo, mo);
                    let cv = a * st.cost_overage * k * pm * (1.0 - r) * ov_rate - mc * mo;
                    (vc, vo, cv, mc, mo)
                };
                let (vc0, vo0, cv0, mc0, mo0) = one(mix.stats[0], &mix.days[0], mix.cut[0]);
                let (vc1, vo1, cv1, mc1, mo1) = one(mix.stats[1], &mix.days[1], mix.cut[1]);
                let w = |x0: f64, x1: f64| (1.0 - mix.p) * x0 + mix.p * x1;
                UserSpread {
                    cost_var: w(vc0, vc1),
                    overage_var: w(vo0, vo1),
                    cov: w(cv0, cv1),
                    power_cost: mc1 - mc0,
                    power_overage: mo1 - mo0,
                }
            }
        }
    }

    /// One tier's day: its users' expected day booked into the month (user-
    /// days warned, hit, tokens asked and not served), and its cost, tokens
    /// served and overage revenue with the spread of its users, each
    /// budgeted tenant stopped at what its budget has left.
    fn tier_day(
        &self,
        trial: &Trial,
        today: Today,
        ti: usize,
        day: &mut DayTotals,
        ledger: &mut Ledger,
        noise: &mut Option<Noise<'_>>,
    ) {
        if self.shareable[ti] {
            // The ledger's parts each step uses, borrowed apart (its
            // day of the tier is neither moved out nor back).
            let Ledger {
                out,
                tenant_day,
                normals,
                shared,
                alerts,
                ..
            } = ledger;
            let noisy = draw_normals(self.shared_draws(trial, ti), noise, normals);
            let s = &mut shared[ti];
            self.shared_day(trial, today, ti, noisy.then_some(&normals[..]), s);
            s.book(ti, day, out, tenant_day, *alerts);
            return;
        }
        let t = &self.model.tiers[ti];
        let (mean, mix, mut spread) = self.day_mean(trial, today, ti);
        let mut td = mean.td;
        let user_trip = self.user_breaker_day(trial, today, ti, &mix, &mut td, &mut spread);
        mean.book(ti, day, &mut ledger.out.tiers[ti]);
        let (n_act, users) = (mean.n_act, trial.tier_users[ti]);
        let mut served = mean.served;
        if let Some((bi, ut)) = user_trip {
            // The user-days the user breaker trips: expected, and in a Monte
            // Carlo month drawn (binomial over the day's active users) so
            // that days without a trip happen as often as they would.
            let expected = n_act * ut.p;
            let trips = match noise.as_mut() {
                Some(n) if expected > 0.0 => rand_distr::Binomial::new(n_act.round() as u64, ut.p.clamp(0.0, 1.0))
                    .map_or(expected, |d| d.sample(n.rng()) as f64),
                _ => expected,
            };
            ledger.out.breaker_trips[bi] += trips;
            if trips > 0.0 {
                ledger.out.breaker_days[bi] += 1;
            }
            let tm = &mut ledger.out.tiers[ti];
            book_cut_days(tm, self.model.breakers[bi].action, expected);
            tm.unserved_tokens += n_act * ut.served_lost;
            served -= n_act * ut.served_lost;
        }
        let tenant_breaker = self.model.breaker_at(BreakerLevel::Tenant).is_some();
        match (trial.draw.customers[ti].tenants(), &t.budget) {
            (Some((tenants, _)), b) if b.is_some() || tenant_breaker || !t.accounts.is_empty() => {
                let tday = self.tenants_day(trial, ti, tenants.len(), &td, ledger, noise);
                let demand_cost = n_act * td.cost;
                let kept = if demand_cost > 0.0 {
                    (tday.before_breaker / demand_cost).min(1.0)
                } else {
                    1.0
                } * tday.served_share;
                day.served[ti] = served * kept;
                ledger.out.tiers[ti].unserved_tokens += served * (1.0 - kept);
                day.overage[ti] = tday.overage;
                day.cost[ti] = tday.total;
            }
            _ => {
                let dev = td
                    .noise
                    .draw(users, trial.power_z[ti].first().copied().unwrap_or(0.0), noise);
                day.cost[ti] = (n_act * td.cost + dev.cost).max(0.0);
                day.served[ti] = served;
                day.overage[ti] = (n_act * td.overage + dev.overage).max(0.0);
            }
        }
    }

    /// [`Self::tier_day`] of a tier whose day reads nothing the month has
    /// booked so far ([`Engine::shareable`]: no user or tenant breaker, no
    /// named account, no blocking budget): the same arithmetic in the same
    /// order, its bookings kept in `out` for [`SharedDay::apply`], so that
    /// engines that share the tier share its day ([`Engine::months_together`]).
    ///
    /// `z`: the day's normal draws ([`Self::shared_draws`] of them, drawn
    /// before the day is worked out, in the order the day uses them; `None`
    /// without noise).
    fn shared_day(&self, trial: &Trial, today: Today, ti: usize, z: Option<&[f64]>, out: &mut SharedDay) {
        let t = &self.model.tiers[ti];
        // The day's expectation: worked out again only when what it reads
        // changes (without a monthly cut or top-ups, the day's slot, share
        // of power users and prices: the same most days of a trial).
        let key = (today.slot, today.power.to_bits(), today.prices.to_bits());
        let steady = trial.monthly[ti].is_none() && trial.topups[ti].is_none();
        if !(steady && out.memo == Some(key)) {
            out.mean = self.day_mean(trial, today, ti).0;
            out.memo = steady.then_some(key);
        }
        let DayMean { td, served, n_act, .. } = out.mean;
        let users = trial.tier_users[ti];
        out.tenants = None;
        match (trial.draw.customers[ti].tenants(), &t.budget) {
            (Some((tenants, _)), Some(_)) => {
                // `Self::tenants_day` without a tenant breaker or accounts:
                // two draws per entry, drawn first.
                let n = tenants.len();
                let entries = &trial.entries[ti];
                let m = n.min(entries.len());
                // Without noise, zeros (never read: the deviation is none).
                let zs: &[f64] = match z {
                    Some(z) => &z[..2 * m],
                    None => {
                        out.zeros.clear();
                        out.zeros.resize(2 * m, 0.0);
                        &out.zeros
                    }
                };
                out.spent.clear();
                out.spent.resize(m, 0.0);
                out.tenant_day.clear();
                out.tenant_day.resize(m, 0.0);
                let mut blocked = 0.0;
                let (total, overage) = tenants_no_breaker(
                    &entries[..m],
                    zs,
                    z.is_some(),
                    &td,
                    &out.spent,
                    &mut out.tenant_day,
                    &mut blocked,
                );
                let demand_cost = n_act * td.cost;
                let kept = if demand_cost > 0.0 {
                    (total / demand_cost).min(1.0)
                } else {
                    1.0
                };
                out.served = served * kept;
                out.tenants = Some(served * (1.0 - kept));
                out.overage = overage;
                out.cost = total;
            }
            _ => {
                let zp = trial.power_z[ti].first().copied().unwrap_or(0.0);
                let dev = td.noise.deviate(users.sqrt(), zp, z.map(|z| (z[0], z[1])));
                out.cost = (n_act * td.cost + dev.cost).max(0.0);
                out.served = served;
                out.overage = (n_act * td.overage + dev.overage).max(0.0);
            }
        }
    }

    /// A tier's expected day, before its users' noise, the user breaker
    /// and the tenants: what [`Self::tier_day`] and [`Self::shared_day`]
    /// book of it ([`DayMean`]), with the classes' mix and the spread of a
    /// user that the user breaker rescales.
    fn day_mean(&self, trial: &Trial, today: Today, ti: usize) -> (DayMean, ClassMix<'_>, UserSpread) {
        let t = &self.model.tiers[ti];
        let mix = self.class_mix(trial, today, ti);
        let p = mix.p;
        let [s0, s1] = mix.stats;
        let [r0, r1] = mix.cut;
        let [h0, h1] = mix.hit_days;
        let ov_rate = t.overage.map_or(0.0, |o| o.1 / 1000.0);
        let spread = self.user_spread(trial, today, ti, &mix, ov_rate);
        let td = TierDay {
            cost: mix.mix(|u| u.cost) * today.prices,
            overage: ((1.0 - p) * s0.overage_tokens * (1.0 - r0) + p * s1.overage_tokens * (1.0 - r1)) * ov_rate,
            bound: self.bounds[ti].day.map(|b| b * today.prices),
            noise: DayNoise::new(&spread, p),
        };
        // With a top-up, the user-days left past the caps (those top-ups
        // covered are served in full) are the panel's.
        let hit = match &trial.topups[ti] {
            Some(_) => (1.0 - p) * h0 + p * h1,
            None => (1.0 - p) * s0.p_hit.max(h0) + p * s1.p_hit.max(h1),
        };
        let warn = (1.0 - p) * s0.p_warn + p * s1.p_warn;
        let n_act = trial.tier_users[ti] * trial.draw.active;
        let mean = DayMean {
            n_act,
            warned: n_act * warn,
            topup: match (&trial.topups[ti], t.top_up()) {
                (Some(tu), Some(top)) => {
                    let [k0, k1] = tu.purchases[today.d];
                    let bought = n_act * ((1.0 - p) * k0 + p * k1);
                    Some((bought, bought * top.price_usd))
                }
                _ => None,
            },
            cut: t.cap.as_ref().map(|c| (c.on_limit == OnLimit::Block, n_act * hit)),
            demand: n_act * ((1.0 - p) * s0.demand_tokens + p * s1.demand_tokens),
            unserved: n_act * mix.mix(|u| u.unserved_tokens),
            served: n_act * mix.mix(|u| u.served_tokens),
            td,
        };
        (mean, mix, spread)
    }

    /// How many normal numbers [`Self::shared_day`] of tier `ti` reads:
    /// two per tenant entry in a tier of budgeted tenants, else two.
    fn shared_draws(&self, trial: &Trial, ti: usize) -> usize {
        match (trial.draw.customers[ti].tenants(), &self.model.tiers[ti].budget) {
            (Some(_), Some(_)) => 2 * trial.entries[ti].len(),
            _ => 2,
        }
    }

    /// The user breaker on a tier's day: each user-day of a class is its
    /// table's user-day ([`TripTable`]) scaled to today (prices, cached
    /// share, the monthly cap's cut: by how today's mean compares with the
    /// table's); past the breaker's limit, the rest of the user's day gets
    /// its action. Replaces the day's mean cost and its spread, and scales
    /// the overage revenue by the tokens still served. Returns the breaker
    /// and what it did per active user-day.
    fn user_breaker_day(
        &self,
        trial: &Trial,
        today: Today,
        ti: usize,
        mix: &ClassMix,
        td: &mut TierDay,
        spread: &mut UserSpread,
    ) -> Option<(usize, TripDay)> {
        let (bi, b) = self.model.breaker_at(BreakerLevel::User)?;
        let tables = self.user_trips.get(ti)?;
        let q = self.model.past_trip(b, ti, trial.draw.cached);
        let class = |k: usize| {
            let tb = &tables[self.demand.class(today.slot, k == 1)];
            let u = &mix.days[k];
            if tb.cost_ref <= 0.0 || u.cost <= 0.0 {
                return TripDay::default();
            }
            let ks = if tb.served_ref > 0.0 {
                u.served_tokens / tb.served_ref
            } else {
                0.0
            };
            tb.eval(today.prices * u.cost / tb.cost_ref, ks, b.limit_usd, q)
        };
        let (t0, t1) = (class(0), class(1));
        let p = mix.p;
        let w = |x0: f64, x1: f64| (1.0 - p) * x0 + p * x1;
        let before = td.cost;
        let after = w(t0.cost, t1.cost);
        let served = mix.mix(|u| u.served_tokens);
        let lost = w(t0.served_lost, t1.served_lost);
        let sr = if served > 0.0 { (served - lost) / served } else { 1.0 };
        // The spread of the day as cut: from the tables' second moments
        // (with a monthly cap, the panel's spread scaled by the mean's cut).
        let a = trial.draw.active;
        let clean = |v: f64, m: f64| if v > 1e-9 * m * m { v } else { 0.0 };
        let new_var = if trial.monthly[ti].is_some() {
            if before > 0.0 {
                spread.cost_var * (after / before).powi(2)
            } else {
                0.0
            }
        } else {
            let v = |t: &TripDay| clean(a * t.cost_sq - (a * t.cost).powi(2), a * t.cost);
            w(v(&t0), v(&t1))
        };
        let r = if spread.cost_var > 0.0 {
            (new_var / spread.cost_var).sqrt()
        } else {
            0.0
        };
        spread.cov *= r * sr;
        spread.cost_var = new_var;
        spread.overage_var *= sr * sr;
        spread.power_overage *= sr;
        if trial.monthly[ti].is_none() {
            spread.power_cost = a * (t1.cost - t0.cost);
        } else if before > 0.0 {
            spread.power_cost *= after / before;
        }
        td.cost = after;
        td.overage *= sr;
        td.noise = DayNoise::new(spread, p);
        Some((
            bi,
            TripDay {
                p: w(t0.p, t1.p),
                cost: after,
                cost_sq: 0.0,
                served_lost: lost,
            },
        ))
    }

    /// The day of a tier of budgeted tenants, entry by entry (`n` tenants
    /// or representatives, then the named accounts): each stopped at what
    /// its budget has left (a blocking budget). Writes each entry's own
    /// spend today into the ledger; returns the tier's cost and overage
    /// revenue.
    ///
    /// The day's normal draws are drawn first, in the order the entries use
    /// them (two for each entry's day, two more for a representative's own
    /// day under a tenant breaker), then the entries are walked with the
    /// figures that hold all month ([`Trial::entries`]).
    fn tenants_day(
        &self,
        trial: &Trial,
        ti: usize,
        n: usize,
        td: &TierDay,
        ledger: &mut Ledger,
        noise: &mut Option<Noise<'_>>,
    ) -> TenantsDay {
        let breaker = self.model.breaker_at(BreakerLevel::Tenant);
        let q = breaker.map(|(_, br)| self.model.past_trip(br, ti, trial.draw.cached));
        let entries = &trial.entries[ti];
        let own_draws = |e: &Entry| breaker.is_some() && e.weight > 1.0;
        // Without noise, zeros (never read: `noisy` says so).
        let mut z = std::mem::take(&mut ledger.normals);
        z.clear();
        z.resize(entries.iter().map(|e| if own_draws(e) { 4 } else { 2 }).sum(), 0.0);
        let noisy = match noise.as_mut() {
            Some(n) => {
                n.fill(&mut z);
                true
            }
            None => false,
        };
        let mut total = 0.0;
        let mut overage = 0.0;
        let mut before_breaker = 0.0;
        let mut served_kept = 0.0;
        let mut trips = 0.0;
        let mut zi = 0;
        let mut first = 0;
        if breaker.is_none() {
            // No tenant breaker: the tenants (or representatives) in one
            // tight loop, the arithmetic of `Self::entry_day` in its order.
            let m = n.min(entries.len());
            let x = tenants_no_breaker(
                &entries[..m],
                &z[..2 * m],
                noisy,
                td,
                &ledger.tenant_spend[ti],
                &mut ledger.tenant_day[ti],
                &mut ledger.out.tiers[ti].blocked_user_days,
            );
            (total, overage) = x;
            (before_breaker, served_kept) = (x.0, x.0);
            zi = 2 * m;
            first = m;
        }
        for (j, e) in entries.iter().enumerate().skip(first) {
            let k = if own_draws(e) { 4 } else { 2 };
            let zs = &z[zi..zi + k];
            zi += k;
            let spent = if j < n {
                ledger.tenant_spend[ti].get(j).copied().unwrap_or(0.0)
            } else {
                ledger.account_spend[ti][j - n]
            };
            let r = self.entry_day(ti, e, spent, noisy.then_some(zs), td, breaker, q, &mut ledger.out);
            if j < n {
                if let Some(x) = ledger.tenant_day[ti].get_mut(j) {
                    *x = r.own_kept;
                }
            } else {
                ledger.account_day[ti][j - n] = r.own_kept;
            }
            before_breaker += r.before;
            served_kept += r.served_kept;
            trips += r.trips;
            total += r.kept;
            overage += r.overage;
        }
        ledger.normals = z;
        if trips > 0.0
            && let Some((bi, _)) = breaker
        {
            ledger.out.breaker_days[bi] += 1;
        }
        // The loop tenant's entry, if any: written by the loops.
        if let Some(extra) = ledger.tenant_day[ti].get_mut(n) {
            *extra = 0.0;
        }
        TenantsDay {
            total,
            overage,
            before_breaker,
            served_share: if before_breaker > 0.0 && trips > 0.0 {
                served_kept / before_breaker
            } else {
                1.0
            },
        }
    }

    /// Tier `ti`'s budget drawn for tenant entry `j` (the loop tenant's
    /// entry past the representatives, and a budget not drawn per tenant:
    /// `monthly_usd`).
    fn budget_of(&self, draw: &Draw, ti: usize, j: usize, b: &BudgetModel) -> f64 {
        draw.budgets
            .get(ti)
            .and_then(|v| v.get(j))
            .copied()
            .unwrap_or(b.monthly_usd)
    }

    /// The entries of tier `ti` that [`Self::tenants_day`] walks, with the
    /// figures that hold all month: its tenants (or representatives), then
    /// its named accounts. Empty for a tier of users.
    fn tier_entries(&self, draw: &Draw, power_z: &[Vec<f64>], ti: usize) -> Vec<Entry> {
        let customers = &draw.customers[ti];
        let Some((tenants, weight)) = customers.tenants() else {
            return Vec::new();
        };
        let t = &self.model.tiers[ti];
        let a = draw.active;
        let n = tenants.len();
        let accounts = draw.accounts.get(ti).map_or(&[][..], Vec::as_slice);
        let pz = |j: usize| power_z[ti].get(j).copied().unwrap_or(0.0);
        let entry = |group: f64, own: f64, weight: f64, budget: Option<(f64, bool)>, zp: f64| Entry {
            group,
            sqrt_group: group.sqrt(),
            active: group * a,
            own,
            sqrt_own: own.sqrt(),
            own_active: own * a,
            share: if group > 0.0 { own / group } else { 0.0 },
            weight,
            budget,
            zp,
        };
        let mut v = Vec::with_capacity(n + accounts.len());
        for (j, &own) in tenants.iter().enumerate() {
            let budget = t.budget.as_ref().map(|b| (self.budget_of(draw, ti, j, b), b.block));
            v.push(entry(customers.group_users(j), own, weight, budget, pz(j)));
        }
        // Each named account is a tenant of its own with its own budget.
        for (k, &own) in accounts.iter().enumerate() {
            let ab = &t.accounts[k].budget;
            v.push(entry(own, own, 1.0, Some((ab.monthly_usd, ab.block)), pz(n + k)));
        }
        v
    }

    /// The thresholds of tier `ti`'s tenant budget alerts in USD for each of
    /// its entries in [`Ledger::tenant_spend`] (the loop tenant's included).
    fn alert_thresholds(&self, draw: &Draw, ledger: &Ledger, ti: usize) -> Option<AlertThresholds> {
        let b = self.model.tiers[ti].budget.as_ref()?;
        let k = b.alerts.len();
        let entries = ledger.tenant_spend[ti].len();
        let mut th = Vec::with_capacity(entries * k);
        for j in 0..entries {
            let budget = self.budget_of(draw, ti, j, b);
            th.extend(b.alerts.iter().map(|al| al * budget));
        }
        Some(AlertThresholds { per_entry: k, th })
    }

    /// One entry's day in a tier of tenants (a tenant, a representative or
    /// a named account, `spent` its budget's spend so far; `z` its normal
    /// draws, `None` without noise): the day of all the users it stands
    /// for with their spread, stopped at what its budget has left (a
    /// blocking budget), then the tenant breaker on its own day.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn entry_day(
        &self,
        ti: usize,
        e: &Entry,
        spent: f64,
        z: Option<&[f64]>,
        td: &TierDay,
        breaker: Option<(usize, &crate::economics::BreakerModel)>,
        q: Option<PastTrip>,
        out: &mut Month,
    ) -> EntryDay {
        // The day of all the users the entry stands for (a tenant's, or a
        // representative's `w` tenants'), with their spread; the entry's
        // own day, what its budget sees, is its share of it.
        let dev = td.noise.deviate(e.sqrt_group, e.zp, z.map(|z| (z[0], z[1])));
        let mut x = (e.active * td.cost + dev.cost).max(0.0);
        let mut ov = (e.active * td.overage + dev.overage).max(0.0);
        if let Some(bd) = td.bound {
            x = x.min(e.group * bd);
        }
        let own = e.share;
        let mut budget_kept = 1.0;
        if let Some((monthly, true)) = e.budget {
            let left = (monthly - spent).max(0.0);
            if x * own > left {
                let cut = 1.0 - left / (x * own);
                out.tiers[ti].blocked_user_days += e.active * cut;
                ov *= 1.0 - cut;
                x *= 1.0 - cut;
                budget_kept = 1.0 - cut;
            }
        }
        let mut r = EntryDay {
            before: x,
            kept: x,
            served_kept: x,
            ..EntryDay::default()
        };
        if let (Some((bi, br)), Some(q)) = (breaker, q) {
            // The tenant's own day: a tenant simulated on its own is its
            // entry; a representative draws its own day with the spread
            // of one tenant of its size (not the shrunk spread of the
            // mean of `w`), so that it trips as that tenant would, and
            // the `w` tenants it stands for trip with it.
            let own_day = if e.weight > 1.0 {
                let d = td.noise.deviate(e.sqrt_own, e.zp, z.map(|z| (z[2], z[3])));
                let mut y = (e.own_active * td.cost + d.cost).max(0.0);
                if let Some(bd) = td.bound {
                    y = y.min(e.own * bd);
                }
                y * budget_kept
            } else {
                x
            };
            if let Some(t) = trip_one(own_day, 1.0, br.limit_usd, q) {
                let past = t.past;
                r.kept = x * (1.0 - past * (1.0 - q.cost));
                ov *= 1.0 - past * (1.0 - q.served);
                r.served_kept = x * (1.0 - past * (1.0 - q.served));
                r.trips = e.weight;
                out.breaker_trips[bi] += e.weight;
                book_cut_days(&mut out.tiers[ti], br.action, e.active * past);
            }
        }
        r.own_kept = r.kept * own;
        r.overage = ov;
        r
    }

    /// What runaway loop `lp` (the `li`-th) asks for and costs on `today`:
    /// one client of its tier, bounded by the caps that apply to it (what
    /// its ordinary use leaves of its daily cap, what the loop has left of
    /// its monthly cap), the part past them handled as the tier's `on_limit`
    /// says.
    fn loop_spend(&self, trial: &Trial, today: Today, lp: &RunawayLoop, used: &mut f64) -> Option<LoopSpend> {
        let hours = lp.hours_on(today.d);
        if hours <= 0.0 {
            return None;
        }
        let m = self.model;
        let c = trial.draw.cached;
        let t = &m.tiers[lp.tier];
        let tokens = lp.calls_per_hour * hours * self.loop_call_tokens;
        let out_tokens = lp.calls_per_hour * hours * self.loop_call_out;
        let price = &m.prices[t.model];
        let per_tok = price.call_cost(m.typical_input(), m.typical_output(), c) / self.loop_call_tokens.max(1e-300);
        let mut allowance = f64::INFINITY;
        if let Some(cap) = &t.cap {
            if let Some(dl) = cap.daily_tokens {
                let ordinary = self.stats[lp.tier][self.demand.class(today.slot, false)].sp_tok;
                allowance = (dl - ordinary).max(0.0);
            }
            if let Some(ml) = cap.monthly_tokens {
                allowance = allowance.min((ml - *used).max(0.0));
            }
        }
        let within = tokens.min(allowance);
        *used += within;
        let past = tokens - within;
        let past_out = if tokens > 0.0 { out_tokens * past / tokens } else { 0.0 };
        let mut cost = within * per_tok;
        let mut served = within;
        if past > 0.0
            && let Some(cap) = &t.cap
        {
            match cap.on_limit {
                OnLimit::Block => {}
                OnLimit::Fallback => {
                    let fb = &m.prices[t.fallback.unwrap_or(t.model)];
                    cost += past * fb.call_cost(m.typical_input(), m.typical_output(), c)
                        / self.loop_call_tokens.max(1e-300);
                    served += past;
                }
                OnLimit::Shrink => {
                    let r = price.rates(m.typical_input());
                    cost += past * per_tok - (1.0 - cap.shrink_to) * past_out * r.output;
                    served += past - (1.0 - cap.shrink_to) * past_out;
                }
                OnLimit::Throttle => {
                    cost += cap.throttle_to * past * per_tok;
                    served += cap.throttle_to * past;
                }
            }
        } else if past > 0.0 {
            cost += past * per_tok;
            served += past;
        }
        cost *= today.prices;
        Some(LoopSpend { tokens, served, cost })
    }

    /// Runaway loop `lp` (the `li`-th) on `today`, booked into its tier's
    /// day. The loop runs in one tenant, whose budget bounds it: a tenant
    /// simulated on its own is the first; in a represented tier, the entry
    /// kept for it (one tenant, not a stratum).
    fn loop_day(
        &self,
        trial: &Trial,
        today: Today,
        li: usize,
        lp: &RunawayLoop,
        day: &mut DayTotals,
        ledger: &mut Ledger,
    ) {
        let Some(spend) = self.loop_spend(trial, today, lp, &mut ledger.loop_used[li]) else {
            return;
        };
        let ti = lp.tier;
        let t = &self.model.tiers[ti];
        let tm = &mut ledger.out.tiers[ti];
        tm.demand_tokens += spend.tokens;
        tm.unserved_tokens += spend.tokens - spend.served;
        if let (Some(b), Some(row)) = (&t.budget, ledger.tenant_day.get_mut(ti))
            && !row.is_empty()
        {
            let reps = trial.draw.customers[ti].tenants().map_or(0, |(v, _)| v.len());
            let j = if row.len() > reps { reps } else { 0 };
            let budget = b
                .block
                .then(|| self.budget_of(trial.draw, ti, j, b) - ledger.tenant_spend[ti][j]);
            book_within(&spend, budget, &mut row[j], day, ti);
            return;
        }
        // A tier of named accounts alone: the loop runs in its first
        // account, whose budget bounds it (as the brute force's first user
        // of the tier is that account's).
        if ledger.tenant_day.get(ti).is_none_or(Vec::is_empty)
            && let Some(acc) = t.accounts.first()
            && let Some(row) = ledger.account_day.get_mut(ti)
        {
            let b = &acc.budget;
            let budget = b.block.then(|| b.monthly_usd - ledger.account_spend[ti][0]);
            book_within(&spend, budget, &mut row[0], day, ti);
            return;
        }
        day.cost[ti] += spend.cost;
        day.served[ti] += spend.served;
    }

    /// The day, as the breakers kept it (`scale`: per tier, the share of its
    /// cost and of its tokens), into the month;
    /// each budgeted tenant's spend into its budget, counting the alerts it
    /// crosses.
    fn settle_day(&self, trial: &Trial, day: &DayTotals, scale: &DayScale, ledger: &mut Ledger) {
        for (ti, t) in self.model.tiers.iter().enumerate() {
            let tm = &mut ledger.out.tiers[ti];
            let (scale, served) = (scale.cost[ti], scale.served[ti]);
            tm.cost += day.cost[ti] * scale;
            tm.served_tokens += day.served[ti] * served;
            tm.unserved_tokens += day.served[ti] * (1.0 - served);
            tm.overage_revenue += day.overage[ti] * served;
            for (k, acc) in t.accounts.iter().enumerate() {
                let before = ledger.account_spend[ti][k];
                let after = before + ledger.account_day[ti][k] * scale;
                let b = &acc.budget;
                tm.account_alerts[k] += crossed(&b.alerts, b.monthly_usd, before, after) as f64;
                tm.account_breached[k] |= breached(b.monthly_usd, after);
                ledger.account_spend[ti][k] = after;
            }
            let Some(al) = &trial.alerts[ti] else {
                continue;
            };
            if !ledger.alerts && self.shareable[ti] {
                continue;
            }
            if tm.tenant_alerts.is_empty() {
                tm.tenant_alerts.resize(al.per_entry, 0.0);
            }
            // The alerts they cross are counted once the month is done
            // (`Self::tenant_alerts`).
            for (x, s) in ledger.tenant_day[ti].iter().zip(ledger.tenant_spend[ti].iter_mut()) {
                *s += x * scale;
            }
        }
    }

    /// Each tier's tenant budget alerts: the tenants whose month's spend
    /// crossed each threshold. A spend only grows (every day adds what was
    /// kept of a cost, never less than zero) from zero, so a threshold above
    /// zero is crossed on one day exactly when the month ends at or past
    /// it. A representative stands for `w` tenants, the loop tenant's entry
    /// past them for one: whole numbers of 64ths, added exactly in any order.
    fn tenant_alerts(&self, trial: &Trial, ledger: &mut Ledger) {
        for (ti, al) in trial.alerts.iter().enumerate() {
            let Some(al) = al else { continue };
            let tm = &mut ledger.out.tiers[ti];
            if tm.tenant_alerts.is_empty() {
                continue;
            }
            let (n, w) = trial.draw.customers[ti]
                .tenants()
                .map_or((0, 1.0), |(v, w)| (v.len(), w));
            for (j, &spent) in ledger.tenant_spend[ti].iter().enumerate() {
                let w = if j < n { w } else { 1.0 };
                let th = &al.th[j * al.per_entry..(j + 1) * al.per_entry];
                for (ai, &th) in th.iter().enumerate() {
                    if 0.0 < th && spent >= th {
                        tm.tenant_alerts[ai] += w;
                    }
                }
            }
        }
    }

    /// The month's users, revenue and users hit by a cap, each tier's cost
    /// held to what the worst case lets its users cost, and the totals.
    fn settle_month(&self, trial: &Trial, out: &mut Month) {
        let a = trial.draw.active;
        for (ti, t) in self.model.tiers.iter().enumerate() {
            let tm = &mut out.tiers[ti];
            let customers = &trial.draw.customers[ti];
            let users = trial.draw.tier_users(ti);
            if let Some(b) = self.bounds[ti].month {
                tm.cost = tm.cost.min(users * b);
            }
            tm.users = users;
            // The other tenants pay the tier's price; each account its own.
            tm.subscription_revenue =
                customers.payers() * t.price.unwrap_or(0.0) + t.accounts.iter().map(|a| a.price).sum::<f64>();
            tm.users_hit = users
                * match &trial.monthly[ti] {
                    Some(mc) => mc.users_hit,
                    None => self.users_hit_daily(ti, a, &trial.slot, &trial.shape.power),
                };
        }
        out.cost = out.tiers.iter().map(|t| t.cost).sum();
        out.revenue = out.tiers.iter().map(TierMonth::revenue).sum();
    }

    /// Share of users who pass a daily cap at least once: each active day is
    /// a fresh chance.
    fn users_hit_daily(&self, ti: usize, a: f64, slot: &[usize], power: &[f64]) -> f64 {
        let mut miss = [1.0f64, 1.0];
        for &s in slot {
            for (k, mk) in miss.iter_mut().enumerate() {
                *mk *= 1.0 - a * self.stats[ti][self.demand.class(s, k == 1)].p_hit;
            }
        }
        let p = power.iter().copied().fold(0.0f64, f64::max);
        (1.0 - p) * (1.0 - miss[0]) + p * (1.0 - miss[1])
    }

    fn fluid_month(&self, ti: usize, cap_m: f64, a: f64, slot: &[usize]) -> MonthlyCut {
        let days = slot.len();
        let mut r = vec![[0.0f64; 2]; days];
        let mut hit_days = vec![[0.0f64; 2]; days];
        let mut hit_users = [0.0f64; 2];
        for k in 0..2 {
            let mut cum = 0.0;
            for d in 0..days {
                let served = a * self.stats[ti][self.demand.class(slot[d], k == 1)].sp_tok;
                if served <= 0.0 {
                    continue;
                }
                let room = (cap_m - cum).max(0.0);
                if served > room {
                    r[d][k] = 1.0 - room / served;
                    hit_days[d][k] = 1.0;
                    hit_users[k] = 1.0;
                }
                cum += served.min(room);
            }
        }
        let p = self.model.power_share;
        let daily = self.users_hit_daily(ti, a, slot, &vec![p; days]);
        MonthlyCut {
            r,
            hit_days,
            users_hit: daily.max((1.0 - p) * hit_users[0] + p * hit_users[1]),
            day_var: vec![[0.0; 3]; days],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn panel_month(
        &self,
        ti: usize,
        panel: &Panel,
        cap_m: f64,
        a: f64,
        c: f64,
        slot: &[usize],
        power: &[f64],
    ) -> MonthlyCut {
        let days = slot.len();
        let tier = &self.model.tiers[ti];
        // Each panel user's cost and overage tokens, by day and over the
        // month: how much of the spread of independent days survives in the
        // month (a capped user's month is fixed whatever their days).
        // Sums of cost, cost², overage, overage², cost x overage; over the
        // month, the covariance is not needed (the days' covariance is
        // scaled by the geometric mean of the two variances' factors).
        let mut day_x = vec![[0.0f64; 5]; days];
        let mut month_x = [0.0f64; 4];
        let mut served_sum = vec![[0.0f64; 2]; days];
        let mut cut_sum = vec![[0.0f64; 2]; days];
        let mut active_n = vec![[0.0f64; 2]; days];
        let mut cut_n = vec![[0.0f64; 2]; days];
        let a32 = a as f32;
        let over_at = tier.overage.map_or(f64::INFINITY, |o| o.0);
        // Day by day across the panel; the users are in order of their
        // class draw, so a day's power users are its first `npow`, priced
        // from one class table, and the others from the other.
        let users = PANEL_USERS;
        let mut cum = vec![0.0f64; users];
        let mut hit = vec![false; users];
        let mut mc = vec![0.0f64; users];
        let mut mo = vec![0.0f64; users];
        for d in 0..days {
            let npow = panel.class_u.partition_point(|&x| x < power[d]);
            let act = &panel.active_u[d * users..(d + 1) * users];
            let smp = &panel.sample[d * users..(d + 1) * users];
            for (k, range) in [(0, npow..users), (1, 0..npow)] {
                let rows = &panel.rows[self.demand.class(slot[d], k == 1)];
                let (mut served_s, mut cut_s, mut act_n, mut cut_k) = (0.0, 0.0, 0.0, 0.0);
                let mut x = [0.0f64; 5];
                for u in range {
                    if act[u] >= a32 {
                        continue;
                    }
                    let row = &rows[smp[u] as usize];
                    let served = row.within_daily;
                    let room = (cap_m - cum[u]).max(0.0);
                    let cut = (served - room).max(0.0);
                    served_s += served;
                    cut_s += cut;
                    act_n += 1.0;
                    cum[u] += served - cut;
                    let (cost, got) = if cut > 0.0 {
                        cut_k += 1.0;
                        hit[u] = true;
                        let r = cut / served;
                        (row.cost(r, c), row.served(r))
                    } else {
                        hit[u] |= row.daily_hit;
                        (row.cost[0] + row.cost[1] * c, row.served[0])
                    };
                    // Past no overage threshold (infinite), no overage.
                    let ov = (got - over_at).max(0.0);
                    x[0] += cost;
                    x[1] += cost * cost;
                    x[2] += ov;
                    x[3] += ov * ov;
                    x[4] += cost * ov;
                    mc[u] += cost;
                    mo[u] += ov;
                }
                served_sum[d][k] = served_s;
                cut_sum[d][k] = cut_s;
                active_n[d][k] = act_n;
                cut_n[d][k] = cut_k;
                for (to, v) in day_x[d].iter_mut().zip(x) {
                    *to += v;
                }
            }
        }
        let hit_users = hit.iter().filter(|&&h| h).count();
        for (&c_u, &o_u) in mc.iter().zip(&mo) {
            month_x[0] += c_u;
            month_x[1] += c_u * c_u;
            month_x[2] += o_u;
            month_x[3] += o_u * o_u;
        }
        let n = PANEL_USERS as f64;
        let cov = |x: &[f64], i: usize, j: usize, k: usize| x[k] / n - x[i] / n * (x[j] / n);
        let scale = |i: usize, k: usize| {
            let by_day: f64 = day_x.iter().map(|x| cov(x, i, i, k).max(0.0)).sum();
            if by_day > 0.0 {
                cov(&month_x, i, i, k).max(0.0) / by_day
            } else {
                1.0
            }
        };
        let (kc, ko) = (scale(0, 1), scale(2, 3));
        let day_var = day_x
            .iter()
            .map(|x| {
                // E[x²] − E[x]² cancels to rounding noise when every user-day
                // is alike; below it there is no spread.
                let clean = |v: f64, m: f64| if v > 1e-9 * m * m { v } else { 0.0 };
                let (vc, vo) = (clean(cov(x, 0, 0, 1), x[0] / n), clean(cov(x, 2, 2, 3), x[2] / n));
                let cv = if vc > 0.0 && vo > 0.0 { cov(x, 0, 2, 4) } else { 0.0 };
                [kc * vc, ko * vo, (kc * ko).sqrt() * cv]
            })
            .collect();
        let mut r = vec![[0.0f64; 2]; days];
        let mut hit_days = vec![[0.0f64; 2]; days];
        for d in 0..days {
            for k in 0..2 {
                if served_sum[d][k] > 0.0 {
                    r[d][k] = cut_sum[d][k] / served_sum[d][k];
                }
                if active_n[d][k] > 0.0 {
                    hit_days[d][k] = cut_n[d][k] / active_n[d][k];
                }
            }
        }
        MonthlyCut {
            r,
            hit_days,
            users_hit: hit_users as f64 / PANEL_USERS as f64,
            day_var,
        }
    }
}

#[derive(Clone, Debug)]
struct MonthlyCut {
    r: Vec<[f64; 2]>,
    hit_days: Vec<[f64; 2]>,
    users_hit: f64,
    /// Per day, the spread one user adds (cost at base prices and overage
    /// tokens: variances and covariance), scaled so that the days add up to
    /// the spread of a user's month. (Zero in the central engine.)
    day_var: Vec<[f64; 3]>,
}

/// [`Engine::tenants_day`] without a tenant breaker, for the tier's
/// tenants (or representatives) `entries` (`z`: two normal draws each,
/// read if `noisy`): each one's day, stopped at what its blocking budget
/// has left, its own share written into [`Ledger::tenant_day`]. Returns
/// the cost and overage revenue. The same arithmetic as
/// [`Engine::entry_day`]'s, in the same order (so the same bytes), without
/// the per-entry lookups.
fn tenants_no_breaker(
    entries: &[Entry],
    z: &[f64],
    noisy: bool,
    td: &TierDay,
    spend: &[f64],
    today: &mut [f64],
    blocked: &mut f64,
) -> (f64, f64) {
    let n = entries.len();
    let spend = &spend[..n];
    let today = &mut today[..n];
    let (mut total, mut overage) = (0.0, 0.0);
    for (((e, &spent), own_kept), zs) in entries.iter().zip(spend).zip(today.iter_mut()).zip(z.chunks_exact(2)) {
        let dev = td.noise.deviate(e.sqrt_group, e.zp, noisy.then_some((zs[0], zs[1])));
        let mut x = (e.active * td.cost + dev.cost).max(0.0);
        let mut ov = (e.active * td.overage + dev.overage).max(0.0);
        if let Some(bd) = td.bound {
            x = x.min(e.group * bd);
        }
        let own = e.share;
        if let Some((monthly, true)) = e.budget {
            let left = (monthly - spent).max(0.0);
            if x * own > left {
                let cut = 1.0 - left / (x * own);
                *blocked += e.active * cut;
                ov *= 1.0 - cut;
                x *= 1.0 - cut;
            }
        }
        *own_kept = x * own;
        total += x;
        overage += ov;
    }
    (total, overage)
}

/// Book a runaway loop's day in the tenant (or account) it runs in: what
/// its blocking budget has left this month (`budget`, before today's spend
/// `spent_today`; `None`: it only alerts) bounds what the loop adds.
fn book_within(spend: &LoopSpend, budget: Option<f64>, spent_today: &mut f64, day: &mut DayTotals, ti: usize) {
    let left = budget.map_or(f64::INFINITY, |b| (b - *spent_today).max(0.0));
    let add = spend.cost.min(left);
    *spent_today += add;
    day.cost[ti] += add;
    day.served[ti] += if spend.cost > 0.0 {
        spend.served * add / spend.cost
    } else {
        spend.served
    };
}

/// One day of a trial, as every tier sees it.
#[derive(Clone, Copy, Debug)]
struct Today {
    d: usize,
    /// The demand tables' slot (0: an ordinary day; else a viral one).
    slot: usize,
    /// Share of power users.
    power: f64,
    /// Price multiplier.
    prices: f64,
}

/// What a trial's days share: its draw, the shape of its days, the monthly
/// caps' cut and the month's draws of power users.
struct Trial<'a> {
    draw: &'a Draw,
    shape: DayShape,
    /// Per day, the demand tables' slot.
    slot: Vec<usize>,
    /// Per tier with a monthly cap or a top-up, what it cuts.
    monthly: Vec<Option<MonthlyCut>>,
    /// Per tier with a top-up, what top-ups did.
    topups: Vec<Option<topup::TopUpMonth>>,
    /// Per tier (or tenant): the deviation of its count of power users from
    /// the expected count, in standard deviations (drawn once a month).
    power_z: Vec<Vec<f64>>,
    /// Per tier of tenants, the entries [`Engine::tenants_day`] walks.
    entries: Vec<Vec<Entry>>,
    /// Per tier with a tenant budget, its alerts' thresholds.
    alerts: Vec<Option<AlertThresholds>>,
    /// Users of each tier (a tenant tier's sum, once).
    tier_users: Vec<f64>,
}

impl Trial<'_> {
    /// Day `d` as every tier sees it.
    fn today(&self, d: usize) -> Today {
        Today {
            d,
            slot: self.slot[d],
            power: self.shape.power[d],
            prices: self.shape.prices[d],
        }
    }
}

/// The draws of [`Trial::power_z`]: one per tier, or per tenant of a tier
/// of tenants; zero without noise.
fn power_counts(draw: &Draw, noise: &mut Option<Noise<'_>>) -> Vec<Vec<f64>> {
    draw.customers
        .iter()
        .enumerate()
        .map(|(ti, cd)| {
            // A tier of tenants: one per tenant entry, then one per named account.
            let k = cd.tenants().map_or(1, |(v, _)| v.len()) + draw.accounts.get(ti).map_or(0, Vec::len);
            (0..k)
                .map(|_| match noise.as_mut() {
                    Some(n) => n.normal(),
                    None => 0.0,
                })
                .collect()
        })
        .collect()
}

/// What the month has booked so far, and the running spend of the budgets.
#[derive(Clone)]
struct Ledger {
    out: Month,
    /// Per tier, each budgeted tenant's spend this month. A represented tier
    /// has one more entry: the tenant a runaway loop runs in, which stands
    /// for itself alone.
    tenant_spend: Vec<Vec<f64>>,
    /// The same entries' spend today (every entry is written each day).
    tenant_day: Vec<Vec<f64>>,
    /// Per tier, each named account's spend this month, and today.
    account_spend: Vec<Vec<f64>>,
    account_day: Vec<Vec<f64>>,
    /// Per runaway loop, the tokens its client used within the monthly cap.
    loop_used: Vec<f64>,
    /// A tier of tenants' normal draws for the day (reused day after day).
    normals: Vec<f64>,
    /// Each shareable tier's day (reused day after day).
    shared: Vec<SharedDay>,
    /// Whether the spend of each tenant of a shareable tier is followed
    /// (for its budget's alerts: nothing else reads it, as such a budget
    /// never blocks). Without, the month has no tenant alerts.
    alerts: bool,
}

impl Ledger {
    fn new(m: &Model, draw: &Draw, shape: &DayShape) -> Ledger {
        let mut l = Ledger {
            out: Month::default(),
            tenant_spend: Vec::new(),
            tenant_day: Vec::new(),
            account_spend: Vec::new(),
            account_day: Vec::new(),
            loop_used: Vec::new(),
            normals: Vec::new(),
            shared: Vec::new(),
            alerts: true,
        };
        l.reset(m, draw, shape);
        l
    }

    /// Back to [`Self::new`] of the same arguments, reusing what it has
    /// allocated (a trial after another).
    fn reset(&mut self, m: &Model, draw: &Draw, shape: &DayShape) {
        self.out.reset(m);
        self.out.happened.clone_from(&shape.happened);
        let entries = |d: &TierDraw| d.tenants().map_or(0, |(v, w)| v.len() + usize::from(w > 1.0));
        zero_rows(&mut self.tenant_spend, draw.customers.iter().map(entries));
        zero_rows(&mut self.tenant_day, draw.customers.iter().map(entries));
        zero_rows(&mut self.account_spend, m.tiers.iter().map(|t| t.accounts.len()));
        zero_rows(&mut self.account_day, m.tiers.iter().map(|t| t.accounts.len()));
        self.loop_used.clear();
        self.loop_used.resize(shape.loops.len(), 0.0);
        self.shared.resize_with(m.tiers.len(), SharedDay::default);
        for sd in &mut self.shared {
            sd.memo = None;
        }
    }
}

/// `rows` as one row of zeros per size in `sizes`, reusing their memory.
fn zero_rows(rows: &mut Vec<Vec<f64>>, sizes: impl ExactSizeIterator<Item = usize>) {
    rows.resize_with(sizes.len(), Vec::new);
    for (row, n) in rows.iter_mut().zip(sizes) {
        row.clear();
        row.resize(n, 0.0);
    }
}

/// One day's figures per tier, before the breakers (reused day after day).
#[derive(Clone)]
struct DayTotals {
    cost: Vec<f64>,
    served: Vec<f64>,
    /// Overage revenue.
    overage: Vec<f64>,
    /// Active users.
    active: Vec<f64>,
}

impl DayTotals {
    fn new(tiers: usize) -> DayTotals {
        DayTotals {
            cost: vec![0.0; tiers],
            served: vec![0.0; tiers],
            overage: vec![0.0; tiers],
            active: vec![0.0; tiers],
        }
    }

    /// A new day: nothing to clear, as each tier's day sets its four
    /// figures before anything adds to or reads them (`Engine::tier_day`,
    /// `SharedDay::apply`). Debug builds fill them with NaN, so that a
    /// figure read before the day sets it spoils the month and fails the
    /// tests.
    #[inline]
    fn start(&mut self) {
        #[cfg(debug_assertions)]
        for v in [&mut self.cost, &mut self.served, &mut self.overage, &mut self.active] {
            v.fill(f64::NAN);
        }
    }
}

/// A tier's average active user-day today, per class (0 ordinary, 1 power
/// users), after the monthly cap's cut.
struct ClassMix<'e> {
    /// Share of power users.
    p: f64,
    stats: [&'e DayStats; 2],
    /// Share of what the daily cap let through that the monthly cap cuts.
    cut: [f64; 2],
    /// Share of user-days the monthly cap hits.
    hit_days: [f64; 2],
    days: [UserDay; 2],
}

impl ClassMix<'_> {
    /// A figure of the average user-day, over both classes.
    fn mix(&self, f: fn(&UserDay) -> f64) -> f64 {
        (1.0 - self.p) * f(&self.days[0]) + self.p * f(&self.days[1])
    }
}

/// The spread one user adds to a tier's day (see [`Engine::user_spread`]).
struct UserSpread {
    /// Variance of the cost, of the overage revenue, and their covariance.
    cost_var: f64,
    overage_var: f64,
    cov: f64,
    /// What a power user adds over an ordinary one: cost, overage revenue.
    power_cost: f64,
    power_overage: f64,
}

/// How the day of `n` users deviates from its expectation.
#[derive(Clone, Copy, Debug, Default)]
struct DayNoise {
    /// The sd of one user's day cost.
    cost_sd: f64,
    /// The overage's deviation: the part explained by the cost's (same
    /// users), and the sd of an independent rest.
    ov_beta: f64,
    ov_rest: f64,
    /// The sd of a user's class (power or not).
    power_sd: f64,
    power_cost: f64,
    power_overage: f64,
}

/// A deviation of a day's cost and overage revenue (USD).
struct Deviation {
    cost: f64,
    overage: f64,
}

impl DayNoise {
    fn new(s: &UserSpread, p: f64) -> DayNoise {
        let (ov_beta, ov_rest) = if s.cost_var > 0.0 {
            let b = s.cov / s.cost_var;
            (b, (s.overage_var - b * s.cov).max(0.0).sqrt())
        } else {
            (0.0, s.overage_var.max(0.0).sqrt())
        };
        DayNoise {
            cost_sd: s.cost_var.max(0.0).sqrt(),
            ov_beta,
            ov_rest,
            power_sd: (p * (1.0 - p)).sqrt(),
            power_cost: s.power_cost,
            power_overage: s.power_overage,
        }
    }

    /// The spread of `n_users` users' day, `zp` the month's draw of their
    /// count of power users; none without noise. Always draws (two normal
    /// numbers), so trials keep common random numbers across specs.
    fn draw(&self, n_users: f64, zp: f64, noise: &mut Option<Noise<'_>>) -> Deviation {
        let z = noise.as_mut().map(|n| {
            let z = n.normal();
            let z2 = n.normal();
            (z, z2)
        });
        self.deviate(n_users.sqrt(), zp, z)
    }

    /// [`Self::draw`] from its two normal draws `z` (`None`: no noise),
    /// `sqrt_n` the square root of the number of users.
    #[inline]
    fn deviate(&self, sqrt_n: f64, zp: f64, z: Option<(f64, f64)>) -> Deviation {
        match z {
            Some((z, z2)) => {
                let extra_power = sqrt_n * self.power_sd * zp;
                let c = sqrt_n * self.cost_sd * z;
                Deviation {
                    cost: c + extra_power * self.power_cost,
                    overage: self.ov_beta * c + sqrt_n * self.ov_rest * z2 + extra_power * self.power_overage,
                }
            }
            None => Deviation {
                cost: 0.0,
                overage: 0.0,
            },
        }
    }
}

/// A tier's expected day per active user, with the spread its users add.
#[derive(Clone, Copy, Debug, Default)]
struct TierDay {
    /// Cost (USD, at today's prices) and overage revenue (USD).
    cost: f64,
    overage: f64,
    /// Most one user can cost today (a blocking daily cap), if bounded.
    bound: Option<f64>,
    noise: DayNoise,
}

/// A runaway loop's day: tokens asked, tokens served, cost at today's prices.
struct LoopSpend {
    tokens: f64,
    served: f64,
    cost: f64,
}

/// How many of the `alerts` shares of `budget` a spend going from `before`
/// to `after` crosses.
pub(crate) fn crossed(alerts: &[f64], budget: f64, before: f64, after: f64) -> usize {
    alerts
        .iter()
        .filter(|&&al| before < al * budget && after >= al * budget)
        .count()
}

/// Whether a month's spend reached the budget (a blocking budget holds the
/// spend at it, up to rounding).
pub(crate) fn breached(budget: f64, spend: f64) -> bool {
    spend >= budget * (1.0 - 1e-9)
}

/// One entry of a tier of tenants ([`Engine::entry_day`]), in the figures
/// that hold all month.
struct Entry {
    /// The users it stands for in all, their square root, and those of
    /// them active on a day.
    group: f64,
    sqrt_group: f64,
    active: f64,
    /// Its own users (a tenant's own size; a representative's differs from
    /// its group), their square root, those active on a day, and their
    /// share of the group (what its budget sees).
    own: f64,
    sqrt_own: f64,
    own_active: f64,
    share: f64,
    /// Tenants it stands for.
    weight: f64,
    /// Its budget (USD a month) and whether it blocks.
    budget: Option<(f64, bool)>,
    /// The month's draw of its count of power users.
    zp: f64,
}

/// A tier's tenant budget alerts in USD for each entry of
/// [`Ledger::tenant_spend`] ([`Engine::alert_thresholds`]).
struct AlertThresholds {
    /// Alerts per entry.
    per_entry: usize,
    /// [entry * per_entry + alert]
    th: Vec<f64>,
}

/// What [`Engine::entry_day`] came to.
#[derive(Default)]
struct EntryDay {
    /// Cost after the budget, before and after the tenant breaker.
    before: f64,
    kept: f64,
    /// The entry's own share of `kept` (what its budget counts).
    own_kept: f64,
    /// Cost still serving tokens after the breaker (as `before` is cut).
    served_kept: f64,
    /// Tenant-days tripped.
    trips: f64,
    /// Overage revenue.
    overage: f64,
}

/// `n` standard normal numbers from `noise` into `z`; false (and `z`
/// untouched) without noise.
fn draw_normals(n: usize, noise: &mut Option<Noise<'_>>, z: &mut Vec<f64>) -> bool {
    let Some(noise) = noise.as_mut() else {
        return false;
    };
    z.clear();
    z.resize(n, 0.0);
    noise.fill(z);
    true
}

/// What [`Engine::shared_day`] books for a tier's day, in the order
/// [`SharedDay::apply`] books it (the order of [`Engine::tier_day`]).
#[derive(Clone, Debug, Default)]
struct SharedDay {
    /// The day's expectation ([`Engine::day_mean`]).
    mean: DayMean,
    /// A tier of budgeted tenants: the tokens its budgets left unserved
    /// ([`Self::tenant_day`] holds each entry's own spend today).
    tenants: Option<f64>,
    cost: f64,
    served: f64,
    overage: f64,
    tenant_day: Vec<f64>,
    /// Scratch: zero draws (no noise), and a spend of zero per entry (a
    /// budget that does not block never reads it).
    zeros: Vec<f64>,
    spent: Vec<f64>,
    /// What the expectation was worked out for this trial (the day's slot,
    /// share of power users and prices), when it holds until they change;
    /// cleared for each trial.
    memo: Option<(usize, u64, u64)>,
}

/// A tier's expected day, before its users' noise, the user breaker and
/// the tenants ([`Engine::day_mean`]).
#[derive(Clone, Copy, Debug, Default)]
struct DayMean {
    /// Active users, and the user-days warned.
    n_act: f64,
    warned: f64,
    /// Top-ups bought, and their revenue.
    topup: Option<(f64, f64)>,
    /// User-days cut by the caps: (blocked rather than degraded, user-days).
    cut: Option<(bool, f64)>,
    /// Tokens asked for, not served, and served (before the user breaker
    /// and the tenants' budgets).
    demand: f64,
    unserved: f64,
    served: f64,
    /// The day per active user, with the spread its users add.
    td: TierDay,
}

impl DayMean {
    /// Its active users into the day, and what it books into the tier's
    /// month, in [`Engine::tier_day`]'s order.
    fn book(&self, ti: usize, day: &mut DayTotals, tm: &mut TierMonth) {
        day.active[ti] = self.n_act;
        tm.user_days += self.n_act;
        tm.warned_user_days += self.warned;
        if let Some((bought, revenue)) = self.topup {
            tm.topups += bought;
            tm.topup_revenue += revenue;
        }
        match self.cut {
            Some((true, x)) => tm.blocked_user_days += x,
            Some((false, x)) => tm.degraded_user_days += x,
            None => {}
        }
        tm.demand_tokens += self.demand;
        tm.unserved_tokens += self.unserved;
    }
}

impl SharedDay {
    fn apply(&self, ti: usize, day: &mut DayTotals, ledger: &mut Ledger) {
        self.book(ti, day, &mut ledger.out, &mut ledger.tenant_day, ledger.alerts);
    }

    /// [`Self::apply`] to a ledger's month, its tenants' spend today, and
    /// whether it follows their alerts.
    fn book(&self, ti: usize, day: &mut DayTotals, out: &mut Month, tenant_day: &mut [Vec<f64>], alerts: bool) {
        self.mean.book(ti, day, &mut out.tiers[ti]);
        if let Some(lost) = self.tenants {
            if alerts {
                let n = self.tenant_day.len();
                let row = &mut tenant_day[ti];
                row[..n].copy_from_slice(&self.tenant_day);
                // The loop tenant's entry, if any: written by the loops.
                if let Some(extra) = row.get_mut(n) {
                    *extra = 0.0;
                }
            }
            out.tiers[ti].unserved_tokens += lost;
        }
        day.cost[ti] = self.cost;
        day.served[ti] = self.served;
        day.overage[ti] = self.overage;
    }
}

/// A tier of tenants' day ([`Engine::tenants_day`]).
struct TenantsDay {
    /// Cost and overage revenue, after budgets and the tenant breaker.
    total: f64,
    overage: f64,
    /// Cost after the budgets, before the tenant breaker.
    before_breaker: f64,
    /// Share of the tokens the tenant breaker left served.
    served_share: f64,
}

/// A class's user-days under a tier's daily cap, sorted by cost, for the
/// user breaker: each sample's cost (base prices, central cached share, no
/// monthly cut) and tokens served, with prefix sums of cost, cost², tokens
/// and tokens / cost.
#[derive(Clone, Debug, Default)]
struct TripTable {
    x: Vec<f64>,
    cx: Vec<f64>,
    cx2: Vec<f64>,
    cs: Vec<f64>,
    csx: Vec<f64>,
    /// Mean cost and mean tokens served of a user-day.
    cost_ref: f64,
    served_ref: f64,
}

/// What the user breaker does to an average active user-day of a class.
#[derive(Clone, Copy, Debug, Default)]
struct TripDay {
    /// Share of user-days it trips.
    p: f64,
    /// Mean and mean squared cost (USD, today) after it.
    cost: f64,
    cost_sq: f64,
    /// Mean tokens it leaves unserved.
    served_lost: f64,
}

impl TripTable {
    fn new(s: &Samples, model: usize, fallback: Option<usize>, cap: Option<&CapModel>, cached: f64) -> TripTable {
        let daily = cap.and_then(|c| c.daily_tokens);
        let mut v: Vec<(f64, f64)> = (0..s.len())
            .map(|i| {
                let u = user_day(&DayStats::one(s, i, model, fallback, daily), cap, 0.0, cached);
                (u.cost, u.served_tokens)
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let n = v.len();
        let mut t = TripTable {
            x: Vec::with_capacity(n),
            cx: vec![0.0; n + 1],
            cx2: vec![0.0; n + 1],
            cs: vec![0.0; n + 1],
            csx: vec![0.0; n + 1],
            ..TripTable::default()
        };
        for (i, &(x, sv)) in v.iter().enumerate() {
            t.x.push(x);
            t.cx[i + 1] = t.cx[i] + x;
            t.cx2[i + 1] = t.cx2[i] + x * x;
            t.cs[i + 1] = t.cs[i] + sv;
            t.csx[i + 1] = t.csx[i] + if x > 0.0 { sv / x } else { 0.0 };
        }
        if n > 0 {
            t.cost_ref = t.cx[n] / n as f64;
            t.served_ref = t.cs[n] / n as f64;
        }
        t
    }

    /// The class's user-days at `k` x their table cost and `ks` x their
    /// tokens, under a user breaker of `limit` USD whose action leaves `q`
    /// of what is past it.
    fn eval(&self, k: f64, ks: f64, limit: f64, q: PastTrip) -> TripDay {
        let n = self.x.len();
        if n == 0 || k <= 0.0 {
            return TripDay::default();
        }
        let l = limit / k;
        let i = self.x.partition_point(|&x| x <= l);
        let cnt = (n - i) as f64;
        let nf = n as f64;
        let s1 = self.cx[n] - self.cx[i];
        let s2 = self.cx2[n] - self.cx2[i];
        let kept_l = l * (1.0 - q.cost);
        let cost = k * (self.cx[i] + cnt * kept_l + q.cost * s1) / nf;
        let cost_sq =
            k * k * (self.cx2[i] + cnt * kept_l * kept_l + 2.0 * kept_l * q.cost * s1 + q.cost * q.cost * s2) / nf;
        let past_served = (self.cs[n] - self.cs[i]) - l * (self.csx[n] - self.csx[i]);
        TripDay {
            p: cnt / nf,
            cost,
            cost_sq,
            served_lost: ks * (1.0 - q.served) * past_served.max(0.0) / nf,
        }
    }
}
