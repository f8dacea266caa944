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

use super::day::{DayShape, RunawayLoop, trip_breakers};
use super::demand::{DayStats, Demand, STREAM_PANEL, Samples, UserDay, stream, user_day};
use crate::dist::stochastic_count;
use rand_distr::Distribution;

use crate::dist::{Dist, open01};
use crate::economics::{BudgetModel, Customers, Effect, Model};
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
    /// Per tier with a tenant budget, its alerts' thresholds in USD.
    alert_usd: Vec<Vec<f64>>,
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
        let alert_usd = model
            .tiers
            .iter()
            .map(|t| {
                t.budget
                    .as_ref()
                    .map_or_else(Vec::new, |b| b.alerts.iter().map(|al| al * b.monthly_usd).collect())
            })
            .collect();
        Engine {
            model,
            demand,
            stats,
            alert_usd,
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
    ///
    /// The month is read top-down: the day shape (scenarios), the monthly
    /// caps' cut, then each day: each tier's day ([`Self::tier_day`]), the
    /// runaway loops ([`Self::loop_day`]), the worst-case bound, the
    /// breakers ([`trip_breakers`]) and the day's settlement into the month
    /// and the tenants' budgets ([`Self::settle_day`]); last the month's
    /// users and revenue ([`Self::settle_month`]).
    pub fn month(&self, draw: &Draw, mut noise: Option<&mut ChaCha8Rng>) -> Month {
        let m = self.model;
        let shape = DayShape::new(m, draw);
        let slot: Vec<usize> = shape.viral.iter().map(|&v| self.viral_slot(v)).collect();
        let monthly = self.monthly_cuts(draw, &slot, &shape.power);
        let mut ledger = Ledger::new(m, draw, &shape);
        let power_z = power_counts(draw, &mut noise);
        let entries = budget_entries(m, draw, &power_z);
        let trial = Trial {
            draw,
            power_z,
            entries,
            tier_users: draw.customers.iter().map(TierDraw::users).collect(),
            shape,
            slot,
            monthly,
        };
        let mut day = DayTotals::new(m.tiers.len());
        for d in 0..trial.shape.days() {
            day.clear();
            let today = Today {
                d,
                slot: trial.slot[d],
                power: trial.shape.power[d],
                prices: trial.shape.prices[d],
            };
            for ti in 0..m.tiers.len() {
                self.tier_day(&trial, today, ti, &mut day, &mut ledger, &mut noise);
            }
            for (li, lp) in trial.shape.loops.iter().enumerate() {
                self.loop_day(&trial, today, li, lp, &mut day, &mut ledger);
            }
            // No tier's day goes past what the worst case lets its users cost.
            for (ti, c) in day.cost.iter_mut().enumerate() {
                if let Some(b) = self.bounds[ti].day {
                    *c = c.min(trial.tier_users[ti] * b * today.prices);
                }
            }
            let scale = trip_breakers(m, &day.cost, &day.active, &mut ledger.out);
            self.settle_day(&trial, &day, scale, &mut ledger);
        }
        self.settle_month(&trial, ledger.out)
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
        ClassMix {
            p: today.power,
            stats,
            cut,
            hit_days,
            days: [user_day(stats[0], cap, cut[0], c), user_day(stats[1], cap, cut[1], c)],
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
        noise: &mut Option<&mut ChaCha8Rng>,
    ) {
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
        let hit = (1.0 - p) * s0.p_hit.max(h0) + p * s1.p_hit.max(h1);
        let warn = (1.0 - p) * s0.p_warn + p * s1.p_warn;
        let a = trial.draw.active;
        let users = trial.tier_users[ti];
        let n_act = users * a;
        day.active[ti] = n_act;
        let tm = &mut ledger.out.tiers[ti];
        tm.user_days += n_act;
        tm.warned_user_days += n_act * warn;
        match t.cap.as_ref().map(|c| c.on_limit) {
            Some(OnLimit::Block) => tm.blocked_user_days += n_act * hit,
            Some(_) => tm.degraded_user_days += n_act * hit,
            None => {}
        }
        tm.demand_tokens += n_act * ((1.0 - p) * s0.demand_tokens + p * s1.demand_tokens);
        tm.unserved_tokens += n_act * mix.mix(|u| u.unserved_tokens);
        let served = n_act * mix.mix(|u| u.served_tokens);
        match (trial.draw.customers[ti].tenants(), &t.budget) {
            (Some(_), Some(b)) => {
                let (total, overage) = self.tenants_day(trial, ti, b, &td, ledger, noise);
                let demand_cost = n_act * td.cost;
                let kept = if demand_cost > 0.0 {
                    (total / demand_cost).min(1.0)
                } else {
                    1.0
                };
                day.served[ti] = served * kept;
                ledger.out.tiers[ti].unserved_tokens += served * (1.0 - kept);
                day.overage[ti] = overage;
                day.cost[ti] = total;
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

    /// The day of a tier of budgeted tenants, entry by entry: each stopped at
    /// what its budget has left (a blocking budget). Writes each entry's own
    /// spend today into the ledger; returns the tier's cost and overage
    /// revenue.
    fn tenants_day(
        &self,
        trial: &Trial,
        ti: usize,
        b: &BudgetModel,
        td: &TierDay,
        ledger: &mut Ledger,
        noise: &mut Option<&mut ChaCha8Rng>,
    ) -> (f64, f64) {
        let entries = &trial.entries[ti];
        let spend = &ledger.tenant_spend[ti];
        let today = &mut ledger.tenant_day[ti];
        let blocked = &mut ledger.out.tiers[ti].blocked_user_days;
        let mut total = 0.0;
        let mut overage = 0.0;
        let mut rng = noise.as_deref_mut();
        for (j, e) in entries.iter().enumerate() {
            // The day of all the users entry `j` stands for (a tenant's, or a
            // representative's `w` tenants'), with their spread; the entry's
            // own day, what its budget sees, is its share of it.
            let dev = match rng.as_deref_mut() {
                Some(rng) => td.noise.deviate(e.group, e.sqrt_group, e.zp, rng),
                None => Deviation {
                    cost: 0.0,
                    overage: 0.0,
                },
            };
            let mut x = (e.active * td.cost + dev.cost).max(0.0);
            let mut ov = (e.active * td.overage + dev.overage).max(0.0);
            if let Some(bd) = td.bound {
                x = x.min(e.group * bd);
            }
            if b.block {
                let left = (b.monthly_usd - spend[j]).max(0.0);
                if x * e.own > left {
                    let cut = 1.0 - left / (x * e.own);
                    *blocked += e.active * cut;
                    ov *= 1.0 - cut;
                    x *= 1.0 - cut;
                }
            }
            today[j] = x * e.own;
            total += x;
            overage += ov;
        }
        // The loop tenant's entry, if any: written by the loops.
        if let Some(extra) = today.get_mut(entries.len()) {
            *extra = 0.0;
        }
        (total, overage)
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
            let left = if b.block {
                (b.monthly_usd - ledger.tenant_spend[ti][j] - row[j]).max(0.0)
            } else {
                f64::INFINITY
            };
            let add = spend.cost.min(left);
            row[j] += add;
            day.cost[ti] += add;
            day.served[ti] += if spend.cost > 0.0 {
                spend.served * add / spend.cost
            } else {
                spend.served
            };
            return;
        }
        day.cost[ti] += spend.cost;
        day.served[ti] += spend.served;
    }

    /// The day, as the breakers kept a share `scale` of it, into the month;
    /// each budgeted tenant's spend into its budget, counting the alerts it
    /// crosses.
    fn settle_day(&self, trial: &Trial, day: &DayTotals, scale: f64, ledger: &mut Ledger) {
        for (ti, t) in self.model.tiers.iter().enumerate() {
            let tm = &mut ledger.out.tiers[ti];
            tm.cost += day.cost[ti] * scale;
            tm.served_tokens += day.served[ti] * scale;
            tm.unserved_tokens += day.served[ti] * (1.0 - scale);
            tm.overage_revenue += day.overage[ti] * scale;
            let Some(b) = &t.budget else {
                continue;
            };
            if tm.tenant_alerts.is_empty() {
                tm.tenant_alerts = vec![0.0; b.alerts.len()];
            }
            let (n, w) = trial.draw.customers[ti]
                .tenants()
                .map_or((0, 1.0), |(v, w)| (v.len(), w));
            // The alerts' thresholds in USD, and the lowest and highest: a
            // day that crosses none of the range crosses none of them.
            let th = &self.alert_usd[ti];
            let lo = th.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = th.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let spend = &mut ledger.tenant_spend[ti];
            for (j, (x, s)) in ledger.tenant_day[ti].iter().zip(spend.iter_mut()).enumerate() {
                let before = *s;
                let after = before + x * scale;
                if after >= lo && before < hi {
                    // A representative stands for `w` tenants; the loop
                    // tenant's entry past them, for one.
                    let w = if j < n { w } else { 1.0 };
                    for (ai, &th) in th.iter().enumerate() {
                        if before < th && after >= th {
                            tm.tenant_alerts[ai] += w;
                        }
                    }
                }
                *s = after;
            }
        }
    }

    /// The month's users, revenue and users hit by a cap, each tier's cost
    /// held to what the worst case lets its users cost, and the totals.
    fn settle_month(&self, trial: &Trial, mut out: Month) -> Month {
        let a = trial.draw.active;
        for (ti, t) in self.model.tiers.iter().enumerate() {
            let tm = &mut out.tiers[ti];
            let customers = &trial.draw.customers[ti];
            let users = customers.users();
            if let Some(b) = self.bounds[ti].month {
                tm.cost = tm.cost.min(users * b);
            }
            tm.users = users;
            tm.subscription_revenue = customers.payers() * t.price.unwrap_or(0.0);
            tm.users_hit = users
                * match &trial.monthly[ti] {
                    Some(mc) => mc.users_hit,
                    None => self.users_hit_daily(ti, a, &trial.slot, &trial.shape.power),
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
        // Sums of cost, cost², overage, overage², cost x overage; over the
        // month, the covariance is not needed (the days' covariance is
        // scaled by the geometric mean of the two variances' factors).
        let mut day_x = vec![[0.0f64; 5]; days];
        let mut month_x = [0.0f64; 4];
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
    /// Per tier with a monthly cap, what it cuts.
    monthly: Vec<Option<MonthlyCut>>,
    /// Per tier (or tenant): the deviation of its count of power users from
    /// the expected count, in standard deviations (drawn once a month).
    power_z: Vec<Vec<f64>>,
    /// Per tier of budgeted tenants, its entries (empty for other tiers).
    entries: Vec<Vec<Entry>>,
    /// Users of each tier (a tenant tier's sum, once).
    tier_users: Vec<f64>,
}

/// An entry of a tier of budgeted tenants (a tenant, or a representative
/// standing for `w` tenants), in the figures that hold all month.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The users the entry stands for in all, and their square root.
    group: f64,
    sqrt_group: f64,
    /// Of them, those active on a day.
    active: f64,
    /// The share of them that is the entry's own (what its budget sees).
    own: f64,
    /// The month's draw of their count of power users.
    zp: f64,
}

/// [`Trial::entries`]: computed once a month, not each day.
fn budget_entries(m: &Model, draw: &Draw, power_z: &[Vec<f64>]) -> Vec<Vec<Entry>> {
    let a = draw.active;
    m.tiers
        .iter()
        .zip(&draw.customers)
        .zip(power_z)
        .map(|((t, cd), zs)| match (cd.tenants(), &t.budget) {
            (Some((tenants, _)), Some(_)) => tenants
                .iter()
                .enumerate()
                .map(|(j, &u)| {
                    let group = cd.group_users(j);
                    Entry {
                        group,
                        sqrt_group: group.sqrt(),
                        active: group * a,
                        own: if group > 0.0 { u / group } else { 0.0 },
                        zp: zs[j],
                    }
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The draws of [`Trial::power_z`]: one per tier, or per tenant of a tier
/// of tenants; zero without noise.
fn power_counts(draw: &Draw, noise: &mut Option<&mut ChaCha8Rng>) -> Vec<Vec<f64>> {
    draw.customers
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
        .collect()
}

/// What the month has booked so far, and the running spend of the budgets.
struct Ledger {
    out: Month,
    /// Per tier, each budgeted tenant's spend this month. A represented tier
    /// has one more entry: the tenant a runaway loop runs in, which stands
    /// for itself alone.
    tenant_spend: Vec<Vec<f64>>,
    /// The same entries' spend today (every entry is written each day).
    tenant_day: Vec<Vec<f64>>,
    /// Per runaway loop, the tokens its client used within the monthly cap.
    loop_used: Vec<f64>,
}

impl Ledger {
    fn new(m: &Model, draw: &Draw, shape: &DayShape) -> Ledger {
        let tenant_spend: Vec<Vec<f64>> = draw
            .customers
            .iter()
            .map(|d| {
                d.tenants()
                    .map_or_else(Vec::new, |(v, w)| vec![0.0; v.len() + usize::from(w > 1.0)])
            })
            .collect();
        Ledger {
            out: Month {
                tiers: vec![TierMonth::default(); m.tiers.len()],
                breaker_days: vec![0; m.breakers.len()],
                happened: shape.happened.clone(),
                ..Month::default()
            },
            tenant_day: tenant_spend.clone(),
            tenant_spend,
            loop_used: vec![0.0; shape.loops.len()],
        }
    }
}

/// One day's figures per tier, before the breakers (reused day after day).
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

    fn clear(&mut self) {
        for v in [&mut self.cost, &mut self.served, &mut self.overage, &mut self.active] {
            v.fill(0.0);
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
struct DayNoise {
    cost_var: f64,
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
            cost_var: s.cost_var,
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
    fn draw(&self, n_users: f64, zp: f64, noise: &mut Option<&mut ChaCha8Rng>) -> Deviation {
        match noise.as_deref_mut() {
            Some(rng) => self.deviate(n_users, n_users.sqrt(), zp, rng),
            None => Deviation {
                cost: 0.0,
                overage: 0.0,
            },
        }
    }

    /// [`Self::draw`] with noise, `sqrt_n` the square root of `n_users`
    /// (computed once a month by the callers that draw every day).
    #[inline]
    fn deviate(&self, n_users: f64, sqrt_n: f64, zp: f64, rng: &mut ChaCha8Rng) -> Deviation {
        let z: f64 = rand_distr::StandardNormal.sample(&mut *rng);
        let z2: f64 = rand_distr::StandardNormal.sample(&mut *rng);
        let extra_power = sqrt_n * self.power_sd * zp;
        let c = (n_users * self.cost_var).sqrt() * z;
        Deviation {
            cost: c + extra_power * self.power_cost,
            overage: self.ov_beta * c + sqrt_n * self.ov_rest * z2 + extra_power * self.power_overage,
        }
    }
}

/// A tier's expected day per active user, with the spread its users add.
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
