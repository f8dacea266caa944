//! One month of the feature, given the shared draws of a trial.
//!
//! The per-user variation is in the demand tables ([`super::demand`]): a
//! tier's day costs its active users times the expected cost of a user-day
//! of each class. What is shared by every user (how many there are, how
//! active they are, which scenarios happen and when, prices) comes in the
//! [`Draw`]. Monthly caps act on each user's month, through a fixed panel of
//! simulated users (Monte Carlo) or the class's fluid month (central).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::demand::{DayStats, Demand, STREAM_PANEL, Samples, UserDay, stream, user_day};
use crate::dist::stochastic_count;
use rand_distr::Distribution;

use crate::dist::{Dist, open01};
use crate::economics::{Customers, Effect, Model};
use crate::spec::OnLimit;

/// Panel users per tier with a monthly cap.
pub const PANEL_USERS: usize = 2048;

/// The shared quantities of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// Per tier: users, or users of each tenant.
    pub customers: Vec<TierDraw>,
    pub active: f64,
    pub cached: f64,
    /// Scenarios that happen, with when.
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TierDraw {
    Users(f64),
    Tenants(Vec<f64>),
    /// More tenants than [`TENANT_REPS`]: representative tenants, stratified
    /// over `users_per_tenant`, each standing for `weight` tenants. `users`
    /// is the representative's own size (what its budget sees); `mass` the
    /// mean size of the tenants it stands for (what they cost together),
    /// whose spread over trials is that of `weight` independent tenants.
    Sampled {
        users: Vec<f64>,
        mass: Vec<f64>,
        weight: f64,
    },
}

impl TierDraw {
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

/// Tenants of a tier simulated one by one; past this, the tier's tenants are
/// simulated through this many representatives (see [`TenantStrata`]).
pub const TENANT_REPS: usize = 64;
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

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub scenario: usize,
    /// Start, in hours from the start of the month (days start at 24 x d).
    pub start_hour: f64,
}

/// What one month came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Month {
    pub cost: f64,
    pub revenue: f64,
    pub tiers: Vec<TierMonth>,
    /// Days each breaker tripped.
    pub breaker_days: Vec<u32>,
    /// Scenarios that happened.
    pub happened: Vec<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierMonth {
    pub cost: f64,
    pub subscription_revenue: f64,
    pub overage_revenue: f64,
    pub users: f64,
    pub user_days: f64,
    pub warned_user_days: f64,
    pub degraded_user_days: f64,
    pub blocked_user_days: f64,
    pub users_hit: f64,
    pub demand_tokens: f64,
    pub served_tokens: f64,
    pub unserved_tokens: f64,
    /// Per alert threshold of the tenant budget: tenants that crossed it.
    pub tenant_alerts: Vec<f64>,
}

impl TierMonth {
    pub fn revenue(&self) -> f64 {
        self.subscription_revenue + self.overage_revenue
    }
}

/// The prepared engine for one feature.
pub struct Engine<'m> {
    pub model: &'m Model,
    pub demand: Demand,
    /// [tier][class] at the central cached share.
    stats: Vec<Vec<DayStats>>,
    panels: Vec<Option<Panel>>,
    /// Typical tokens and cost parts of one call (for runaway loops).
    loop_call_tokens: f64,
    loop_call_out: f64,
    /// Per tier: the worst case of one tenant's users, and the strata moments.
    tenant_strata: Vec<Option<(f64, TenantStrata)>>,
    /// Per tier, what the worst case lets one user cost (a `block` cap at
    /// the dearest rate): a day at base prices, and a month at the worst
    /// price multiplier. No trial goes past them.
    bounds: Vec<Bound>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bound {
    day: Option<f64>,
    month: Option<f64>,
}

/// A fixed set of simulated users (common random numbers across trials) for
/// monthly caps.
struct Panel {
    class_u: Vec<f64>,
    /// [user * days + day]
    active_u: Vec<f32>,
    sample: Vec<u32>,
}

impl<'m> Engine<'m> {
    /// The central (deterministic) engine.
    pub fn central(model: &'m Model) -> Self {
        Self::build(model, Demand::central(model), None)
    }

    /// The Monte Carlo engine, its tables drawn from `seed`.
    pub fn sampled(model: &'m Model, seed: u64) -> Self {
        Self::sampled_sized(model, super::demand::CLASS_SAMPLES, seed)
    }

    /// The Monte Carlo engine with `size` samples per class of user-day.
    pub fn sampled_sized(model: &'m Model, size: usize, seed: u64) -> Self {
        Self::build(model, Demand::sampled(model, size, seed), Some(seed))
    }

    fn build(model: &'m Model, demand: Demand, seed: Option<u64>) -> Self {
        let c = model.cached_share.central();
        let stats = model
            .tiers
            .iter()
            .map(|t| {
                demand
                    .classes
                    .iter()
                    .map(|s| DayStats::new(s, t.model, t.fallback, t.cap.as_ref(), t.overage.map(|o| o.0), c))
                    .collect()
            })
            .collect();
        let days = model.days as usize;
        let panels = model
            .tiers
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                let seed = seed?;
                t.cap.as_ref()?.monthly_tokens?;
                let mut rng = stream(seed, STREAM_PANEL + ti as u64);
                let n = demand.classes[0].len() as u64;
                Some(Panel {
                    class_u: (0..PANEL_USERS).map(|_| open01(&mut rng)).collect(),
                    active_u: (0..PANEL_USERS * days).map(|_| open01(&mut rng) as f32).collect(),
                    sample: (0..PANEL_USERS * days).map(|_| (rng.next_u64() % n) as u32).collect(),
                })
            })
            .collect();
        let q = model.worst_case_quantile;
        let tenant_strata = model
            .tiers
            .iter()
            .map(|t| match &t.customers {
                Customers::Tenants { users_per_tenant, .. } => {
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
                    day: cap.and_then(|c| c.daily_tokens).map(|d| d * rate),
                    month: cap.and_then(|c| c.block_bound(days as f64)).map(|x| x * rate * pm),
                }
            })
            .collect();
        Engine {
            model,
            demand,
            stats,
            panels,
            tenant_strata,
            loop_call_tokens: model.typical_input() + model.typical_output(),
            loop_call_out: model.typical_output(),
            bounds,
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
        }
    }

    /// Draw the shared quantities of one trial. Customer counts follow the
    /// rule of every count ([`stochastic_count`]): rounded stochastically to
    /// a whole number, then clipped at the value the worst case reads, so no
    /// trial has more customers than the worst case.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Draw {
        let m = self.model;
        let q = m.worst_case_quantile;
        let count = |d: &Dist, hi: f64, rng: &mut R| stochastic_count(d.sample(rng), 0.0, hi, rng);
        let customers = m
            .tiers
            .iter()
            .zip(&self.tenant_strata)
            .map(|(t, strata)| match (&t.customers, strata) {
                (
                    Customers::Tenants {
                        tenants,
                        users_per_tenant,
                    },
                    Some((worst, strata)),
                ) => {
                    let n = count(tenants, tenants.worst(q).round(), rng) as usize;
                    if n <= TENANT_REPS {
                        TierDraw::Tenants((0..n).map(|_| count(users_per_tenant, *worst, rng)).collect())
                    } else {
                        self.represented(users_per_tenant, *worst, strata, n, rng)
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
            if open01(rng) >= s.chance {
                continue;
            }
            let start_hour = match s.effect {
                Effect::Viral { days: len, .. } => {
                    let span = (days - len as f64).max(0.0) + 1.0;
                    (open01(rng) * span).floor().min(span - 1.0) * 24.0
                }
                Effect::Loop { hours, .. } => open01(rng) * (days * 24.0 - hours).max(0.0),
                _ => (open01(rng) * days).floor().min(days - 1.0) * 24.0,
            };
            events.push(Event {
                scenario: i,
                start_hour,
            });
        }
        Draw {
            customers,
            active,
            cached,
            events,
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
    pub fn month(&self, draw: &Draw, mut noise: Option<&mut ChaCha8Rng>) -> Month {
        let m = self.model;
        let days = m.days as usize;
        let a = draw.active;
        let c = draw.cached;
        let nt = m.tiers.len();

        // What each day looks like: viral slot, power share, price multiplier.
        let mut slot = vec![0usize; days];
        let mut viral_mult = vec![1.0f64; days];
        let mut power = vec![m.power_share; days];
        let mut pm = vec![1.0f64; days];
        let mut loops: Vec<(usize, f64, f64, f64)> = Vec::new(); // (tier, start, hours, cph)
        let mut happened = vec![false; m.scenarios.len()];
        for e in &draw.events {
            happened[e.scenario] = true;
            let d0 = (e.start_hour / 24.0).floor() as usize;
            match m.scenarios[e.scenario].effect {
                Effect::Viral { multiplier, days: len } => {
                    for d in d0..(d0 + len as usize).min(days) {
                        if multiplier > viral_mult[d] {
                            viral_mult[d] = multiplier;
                            slot[d] = self.demand.slot_of(multiplier);
                        }
                    }
                }
                Effect::PowerShare { share } => {
                    for p in power.iter_mut().skip(d0) {
                        *p = p.max(share);
                    }
                }
                Effect::Prices { multiplier } => {
                    for p in pm.iter_mut().skip(d0) {
                        *p *= multiplier;
                    }
                }
                Effect::Loop {
                    calls_per_hour,
                    hours,
                    tier,
                } => loops.push((tier, e.start_hour, hours, calls_per_hour)),
            }
        }

        // Monthly caps: the share r[d][k] of what the daily cap let through
        // that the monthly cap cuts, for class k (0 normal, 1 power), and the
        // share of users and user-days it hits.
        let mut monthly: Vec<Option<MonthlyCut>> = vec![None; nt];
        for (ti, t) in m.tiers.iter().enumerate() {
            let Some(cap_m) = t.cap.as_ref().and_then(|c| c.monthly_tokens) else {
                continue;
            };
            monthly[ti] = Some(match &self.panels[ti] {
                Some(panel) => self.panel_month(ti, panel, cap_m, a, c, &slot, &power),
                None => self.fluid_month(ti, cap_m, a, &slot),
            });
        }

        let mut out = Month {
            tiers: vec![TierMonth::default(); nt],
            breaker_days: vec![0; m.breakers.len()],
            happened,
            ..Month::default()
        };
        let mut tenant_spend: Vec<Vec<f64>> = draw
            .customers
            .iter()
            // A represented tier has one more entry: the tenant a runaway
            // loop runs in, which stands for itself alone.
            .map(|d| {
                d.tenants()
                    .map_or_else(Vec::new, |(v, w)| vec![0.0; v.len() + usize::from(w > 1.0)])
            })
            .collect();
        let mut loop_used: Vec<f64> = vec![0.0; loops.len()];

        // Each tier's (or tenant's) count of power users, drawn once a month:
        // its deviation from the expected count, in standard deviations.
        let power_z: Vec<Vec<f64>> = draw
            .customers
            .iter()
            .map(|cd| {
                let k = cd.tenants().map_or(1, |(v, _)| v.len());
                (0..k)
                    .map(|_| match noise.as_deref_mut() {
                        Some(rng) => rand_distr::StandardNormal.sample(&mut *rng),
                        None => 0.0,
                    })
                    .collect()
            })
            .collect();
        // Users of each tier in this trial (a tenant tier's sum, once).
        let tier_users: Vec<f64> = draw.customers.iter().map(TierDraw::users).collect();
        // Per-day buffers, reused across the month's days.
        let mut day_cost = vec![0.0f64; nt];
        let mut day_served = vec![0.0f64; nt];
        let mut day_overage = vec![0.0f64; nt];
        let mut day_active = vec![0.0f64; nt];
        // Each budgeted tenant's spend today (every entry is written each day).
        let mut tenant_day: Vec<Vec<f64>> = tenant_spend.clone();
        for d in 0..days {
            for v in [&mut day_cost, &mut day_served, &mut day_overage, &mut day_active] {
                v.fill(0.0);
            }
            for (ti, t) in m.tiers.iter().enumerate() {
                let p = power[d];
                let k0 = self.demand.class(slot[d], false);
                let k1 = self.demand.class(slot[d], true);
                let (s0, s1) = (&self.stats[ti][k0], &self.stats[ti][k1]);
                let (r0, r1, h0, h1) = match &monthly[ti] {
                    Some(mc) => (mc.r[d][0], mc.r[d][1], mc.hit_days[d][0], mc.hit_days[d][1]),
                    None => (0.0, 0.0, 0.0, 0.0),
                };
                let cap = t.cap.as_ref();
                let u0 = user_day(s0, cap, r0, c);
                let u1 = user_day(s1, cap, r1, c);
                let mix = |f: fn(&UserDay) -> f64| (1.0 - p) * f(&u0) + p * f(&u1);
                let cost = mix(|u| u.cost) * pm[d];
                let ov_rate = t.overage.map_or(0.0, |o| o.1 / 1000.0);
                let overage_tok =
                    ((1.0 - p) * s0.overage_tokens * (1.0 - r0) + p * s1.overage_tokens * (1.0 - r1)) * ov_rate;
                // The spread a user adds to the day, for the cost and the
                // overage revenue of the same user-days (variances and their
                // covariance, per user, USD), and what a power user adds
                // over an ordinary one (a user keeps their class all month,
                // so the count of power users is drawn once a month).
                let (vc, vo, cv, dc, dov) = match monthly[ti].as_ref() {
                    // A monthly cap: from the panel, whose users live their
                    // whole month (class and cap included), scaled so that
                    // the days add up to the spread of its user-months.
                    Some(mc) => {
                        let [vc, vo, cv] = mc.day_var[d];
                        (
                            vc * pm[d] * pm[d],
                            vo * ov_rate * ov_rate,
                            cv * pm[d] * ov_rate,
                            0.0,
                            0.0,
                        )
                    }
                    // Otherwise from the tables, rescaled to today's
                    // conditions by how today's mean compares with the table's.
                    None => {
                        let one = |st: &DayStats, u: &UserDay, r: f64| {
                            let k = if st.cost_ref > 0.0 { u.cost / st.cost_ref } else { 0.0 };
                            let (mc, mo) = (a * u.cost * pm[d], a * st.overage_tokens * (1.0 - r) * ov_rate);
                            // E[x²] − E[x]² cancels to rounding noise when every
                            // user-day is alike; below it there is no spread.
                            let clean = |v: f64, m: f64| if v > 1e-9 * m * m { v } else { 0.0 };
                            let vc = clean(a * st.cost_sq * (k * pm[d]).powi(2) - mc * mc, mc);
                            let vo = clean(a * st.overage_sq * ((1.0 - r) * ov_rate).powi(2) - mo * mo, mo);
                            let cv = a * st.cost_overage * k * pm[d] * (1.0 - r) * ov_rate - mc * mo;
                            (vc, vo, cv, mc, mo)
                        };
                        let (vc0, vo0, cv0, mc0, mo0) = one(s0, &u0, r0);
                        let (vc1, vo1, cv1, mc1, mo1) = one(s1, &u1, r1);
                        let w = |x0: f64, x1: f64| (1.0 - p) * x0 + p * x1;
                        (w(vc0, vc1), w(vo0, vo1), w(cv0, cv1), mc1 - mc0, mo1 - mo0)
                    }
                };
                // The overage's noise: the part explained by the cost's draw
                // (same users), and an independent rest.
                let (ov_beta, ov_rest) = if vc > 0.0 {
                    let b = cv / vc;
                    (b, (vo - b * cv).max(0.0).sqrt())
                } else {
                    (0.0, vo.max(0.0).sqrt())
                };
                let power_sd = (p * (1.0 - p)).sqrt();
                let hit = (1.0 - p) * s0.p_hit.max(h0) + p * s1.p_hit.max(h1);
                let warn = (1.0 - p) * s0.p_warn + p * s1.p_warn;
                let day_bound = self.bounds[ti].day.map(|b| b * pm[d]);
                let tm = &mut out.tiers[ti];
                let users = tier_users[ti];
                let n_act = users * a;
                day_active[ti] = n_act;
                tm.user_days += n_act;
                tm.warned_user_days += n_act * warn;
                match cap.map(|c| c.on_limit) {
                    Some(OnLimit::Block) => tm.blocked_user_days += n_act * hit,
                    Some(_) => tm.degraded_user_days += n_act * hit,
                    None => {}
                }
                tm.demand_tokens += n_act * ((1.0 - p) * s0.demand_tokens + p * s1.demand_tokens);
                tm.unserved_tokens += n_act * mix(|u| u.unserved_tokens);
                let served = n_act * mix(|u| u.served_tokens);
                // The spread of `n_users` users' day: (cost, overage revenue),
                // `zp` the month's draw of their count of power users.
                let mut noise_of = |n_users: f64, zp: f64| -> (f64, f64) {
                    match noise.as_deref_mut() {
                        // Always draw, so trials keep common random numbers across specs.
                        Some(rng) => {
                            let z: f64 = rand_distr::StandardNormal.sample(&mut *rng);
                            let z2: f64 = rand_distr::StandardNormal.sample(&mut *rng);
                            let extra_power = n_users.sqrt() * power_sd * zp;
                            let c = (n_users * vc).sqrt() * z;
                            (
                                c + extra_power * dc,
                                ov_beta * c + n_users.sqrt() * ov_rest * z2 + extra_power * dov,
                            )
                        }
                        None => (0.0, 0.0),
                    }
                };
                match (draw.customers[ti].tenants(), &t.budget) {
                    (Some((tenants, _)), Some(b)) => {
                        let mut total = 0.0;
                        let mut overage = 0.0;
                        for (j, &u) in tenants.iter().enumerate() {
                            // The day of all the users entry `j` stands for
                            // (a tenant's, or a representative's `w` tenants'),
                            // with their spread; the entry's own day, what its
                            // budget sees, is its share of it.
                            let group = draw.customers[ti].group_users(j);
                            let (nc, no) = noise_of(group, power_z[ti][j]);
                            let mut x = (group * a * cost + nc).max(0.0);
                            let mut ov = (group * a * overage_tok + no).max(0.0);
                            if let Some(bd) = day_bound {
                                x = x.min(group * bd);
                            }
                            let own = if group > 0.0 { u / group } else { 0.0 };
                            if b.block {
                                let left = (b.monthly_usd - tenant_spend[ti][j]).max(0.0);
                                if x * own > left {
                                    let cut = 1.0 - left / (x * own);
                                    tm.blocked_user_days += group * a * cut;
                                    ov *= 1.0 - cut;
                                    x *= 1.0 - cut;
                                }
                            }
                            tenant_day[ti][j] = x * own;
                            total += x;
                            overage += ov;
                        }
                        // The loop tenant's entry, if any: written by the loops below.
                        if let Some(extra) = tenant_day[ti].get_mut(tenants.len()) {
                            *extra = 0.0;
                        }
                        let demand_cost = n_act * cost;
                        let kept = if demand_cost > 0.0 {
                            (total / demand_cost).min(1.0)
                        } else {
                            1.0
                        };
                        day_served[ti] = served * kept;
                        tm.unserved_tokens += served * (1.0 - kept);
                        day_overage[ti] = overage;
                        day_cost[ti] = total;
                    }
                    _ => {
                        let (nc, no) = noise_of(users, power_z[ti].first().copied().unwrap_or(0.0));
                        day_cost[ti] = (n_act * cost + nc).max(0.0);
                        day_served[ti] = served;
                        day_overage[ti] = (n_act * overage_tok + no).max(0.0);
                    }
                }
            }
            // Runaway loops: one client of the tier, bounded by the caps that
            // apply to it (what its ordinary use leaves of its daily cap).
            for (li, &(ti, start, hours, cph)) in loops.iter().enumerate() {
                let lo = start.max(d as f64 * 24.0);
                let hi = (start + hours).min((d + 1) as f64 * 24.0);
                if hi <= lo {
                    continue;
                }
                let t = &m.tiers[ti];
                let tokens = cph * (hi - lo) * self.loop_call_tokens;
                let out_tokens = cph * (hi - lo) * self.loop_call_out;
                let price = &m.prices[t.model];
                let per_tok =
                    price.call_cost(m.typical_input(), m.typical_output(), c) / self.loop_call_tokens.max(1e-300);
                let mut allowance = f64::INFINITY;
                if let Some(cap) = &t.cap {
                    if let Some(dl) = cap.daily_tokens {
                        let ordinary = self.stats[ti][self.demand.class(slot[d], false)].sp_tok;
                        allowance = (dl - ordinary).max(0.0);
                    }
                    if let Some(ml) = cap.monthly_tokens {
                        allowance = allowance.min((ml - loop_used[li]).max(0.0));
                    }
                }
                let within = tokens.min(allowance);
                loop_used[li] += within;
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
                cost *= pm[d];
                let tm = &mut out.tiers[ti];
                tm.demand_tokens += tokens;
                tm.unserved_tokens += tokens - served;
                // The loop runs in one tenant, whose budget bounds it: a
                // tenant simulated on its own is the first; in a represented
                // tier, the entry kept for it (one tenant, not a stratum).
                if let (Some(b), Some(row)) = (&t.budget, tenant_day.get_mut(ti))
                    && !row.is_empty()
                {
                    let reps = draw.customers[ti].tenants().map_or(0, |(v, _)| v.len());
                    let j = if row.len() > reps { reps } else { 0 };
                    let left = if b.block {
                        (b.monthly_usd - tenant_spend[ti][j] - row[j]).max(0.0)
                    } else {
                        f64::INFINITY
                    };
                    let add = cost.min(left);
                    row[j] += add;
                    day_cost[ti] += add;
                    day_served[ti] += if cost > 0.0 { served * add / cost } else { served };
                    continue;
                }
                day_cost[ti] += cost;
                day_served[ti] += served;
            }

            // No tier's day goes past what the worst case lets its users cost.
            for (ti, c) in day_cost.iter_mut().enumerate() {
                if let Some(b) = self.bounds[ti].day {
                    *c = c.min(tier_users[ti] * b * pm[d]);
                }
            }
            // Breakers act on the day's total.
            let mut total: f64 = day_cost.iter().sum();
            let mut scale = 1.0;
            for (bi, b) in m.breakers.iter().enumerate() {
                if total > b.limit_usd {
                    out.breaker_days[bi] += 1;
                    let kept = match b.throttle {
                        None => b.limit_usd,
                        Some(f) => b.limit_usd + f * (total - b.limit_usd),
                    };
                    let s = kept / total;
                    scale *= s;
                    total = kept;
                    for (ti, tm) in out.tiers.iter_mut().enumerate() {
                        let cut_days = day_active[ti] * (1.0 - s);
                        if b.throttle.is_none() {
                            tm.blocked_user_days += cut_days;
                        } else {
                            tm.degraded_user_days += cut_days;
                        }
                    }
                }
            }
            for ti in 0..nt {
                let tm = &mut out.tiers[ti];
                tm.cost += day_cost[ti] * scale;
                tm.served_tokens += day_served[ti] * scale;
                tm.unserved_tokens += day_served[ti] * (1.0 - scale);
                tm.overage_revenue += day_overage[ti] * scale;
                if let Some(b) = &m.tiers[ti].budget {
                    if tm.tenant_alerts.is_empty() {
                        tm.tenant_alerts = vec![0.0; b.alerts.len()];
                    }
                    let (n, w) = draw.customers[ti].tenants().map_or((0, 1.0), |(v, w)| (v.len(), w));
                    for (j, x) in tenant_day[ti].iter().enumerate() {
                        // A representative stands for `w` tenants; the loop
                        // tenant's entry past them, for one.
                        let w = if j < n { w } else { 1.0 };
                        let before = tenant_spend[ti][j];
                        let after = before + x * scale;
                        for (ai, &al) in b.alerts.iter().enumerate() {
                            let th = al * b.monthly_usd;
                            if before < th && after >= th {
                                tm.tenant_alerts[ai] += w;
                            }
                        }
                        tenant_spend[ti][j] = after;
                    }
                }
            }
        }

        // Users and revenue.
        for (ti, t) in m.tiers.iter().enumerate() {
            let tm = &mut out.tiers[ti];
            let users = draw.customers[ti].users();
            // Nor its month.
            if let Some(b) = self.bounds[ti].month {
                tm.cost = tm.cost.min(users * b);
            }
            tm.users = users;
            let payers = draw.customers[ti].payers();
            tm.subscription_revenue = payers * t.price.unwrap_or(0.0);
            tm.users_hit = users
                * match &monthly[ti] {
                    Some(mc) => mc.users_hit,
                    None => self.users_hit_daily(ti, a, &slot, &power),
                };
        }
        out.cost = out.tiers.iter().map(|t| t.cost).sum();
        out.revenue = out.tiers.iter().map(TierMonth::revenue).sum();
        out
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
        let daily = tier.cap.as_ref().and_then(|c| c.daily_tokens);
        // Each panel user's cost and overage tokens, by day and over the
        // month: how much of the spread of independent days survives in the
        // month (a capped user's month is fixed whatever their days).
        // sums of cost, cost², overage, overage², cost x overage
        let mut day_x = vec![[0.0f64; 5]; days];
        let mut month_x = [0.0f64; 5];
        let mut served_sum = vec![[0.0f64; 2]; days];
        let mut cut_sum = vec![[0.0f64; 2]; days];
        let mut active_n = vec![[0.0f64; 2]; days];
        let mut cut_n = vec![[0.0f64; 2]; days];
        let mut hit_users = 0usize;
        let a32 = a as f32;
        for u in 0..PANEL_USERS {
            let cu = panel.class_u[u];
            let mut cum = 0.0;
            let mut hit = false;
            let (mut mc, mut mo) = (0.0, 0.0);
            for d in 0..days {
                let i = u * days + d;
                if panel.active_u[i] >= a32 {
                    continue;
                }
                let k = (cu < power[d]) as usize;
                let s: &Samples = &self.demand.classes[self.demand.class(slot[d], k == 1)];
                let si = panel.sample[i] as usize;
                let t = s.tokens[si];
                let served = daily.map_or(t, |dl| t.min(dl));
                if daily.is_some_and(|dl| t > dl) {
                    hit = true;
                }
                let room = (cap_m - cum).max(0.0);
                let cut = (served - room).max(0.0);
                served_sum[d][k] += served;
                cut_sum[d][k] += cut;
                active_n[d][k] += 1.0;
                if cut > 0.0 {
                    cut_n[d][k] += 1.0;
                    hit = true;
                }
                cum += served - cut;
                let one = DayStats::one(s, si, tier.model, tier.fallback, daily);
                let r = if served > 0.0 { cut / served } else { 0.0 };
                let ud = user_day(&one, tier.cap.as_ref(), r, c);
                let ov = tier.overage.map_or(0.0, |o| (ud.served_tokens - o.0).max(0.0));
                let x = &mut day_x[d];
                x[0] += ud.cost;
                x[1] += ud.cost * ud.cost;
                x[2] += ov;
                x[3] += ov * ov;
                x[4] += ud.cost * ov;
                mc += ud.cost;
                mo += ov;
            }
            hit_users += hit as usize;
            month_x[0] += mc;
            month_x[1] += mc * mc;
            month_x[2] += mo;
            month_x[3] += mo * mo;
            month_x[4] += mc * mo;
        }
        let n = PANEL_USERS as f64;
        let cov = |x: &[f64; 5], i: usize, j: usize, k: usize| x[k] / n - x[i] / n * (x[j] / n);
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
