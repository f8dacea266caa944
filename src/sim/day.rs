//! What every user of a day shares: the day's shape (which scenarios act on
//! it) and the breakers on the day's total. Both simulators use these (the
//! fast engine, [`super::month`], and the brute-force one, [`super::brute`]):
//! they are the spec's documented semantics, not a shortcut of the engine,
//! so sharing them leaves the per-user paths that the brute force checks
//! independent.

use super::month::{Draw, Month, TierMonth};
use crate::economics::{Effect, Model, PastTrip, TripAction};

/// A runaway loop: one client of `tier` calling `calls_per_hour` from
/// `start_hour` (from the start of the month) for `hours`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunawayLoop {
    /// Index of the client's tier.
    pub tier: usize,
    /// When it starts, in hours from the start of the month.
    pub start_hour: f64,
    /// How long it runs, in hours.
    pub hours: f64,
    /// Calls an hour.
    pub calls_per_hour: f64,
}

impl RunawayLoop {
    /// Hours of day `d` the loop runs (zero when it does not).
    pub fn hours_on(&self, d: usize) -> f64 {
        let lo = self.start_hour.max(d as f64 * 24.0);
        let hi = (self.start_hour + self.hours).min((d + 1) as f64 * 24.0);
        (hi - lo).max(0.0)
    }
}

/// The shape of each day of a trial's month, from its scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct DayShape {
    /// Usage multiplier of a viral spike (1 on an ordinary day; the largest
    /// when spikes overlap).
    pub viral: Vec<f64>,
    /// Share of power users (a discovery scenario raises it for good).
    pub power: Vec<f64>,
    /// Price multiplier (price scenarios compound from their day on).
    pub prices: Vec<f64>,
    /// Runaway loops that happen, in the order of the draw's events.
    pub loops: Vec<RunawayLoop>,
    /// Per scenario: whether it happened.
    pub happened: Vec<bool>,
}

impl DayShape {
    /// The day shape of one trial of `m`, given its draw.
    pub fn new(m: &Model, draw: &Draw) -> DayShape {
        let days = m.days as usize;
        let mut shape = DayShape {
            viral: vec![1.0; days],
            power: vec![m.power_share; days],
            prices: vec![1.0; days],
            loops: Vec::new(),
            happened: vec![false; m.scenarios.len()],
        };
        for e in &draw.events {
            shape.happened[e.scenario] = true;
            let d0 = (e.start_hour / 24.0).floor() as usize;
            match m.scenarios[e.scenario].effect {
                Effect::Viral { multiplier, days: len } => {
                    for v in shape.viral.iter_mut().skip(d0).take(len as usize) {
                        *v = v.max(multiplier);
                    }
                }
                Effect::PowerShare { share } => {
                    for p in shape.power.iter_mut().skip(d0) {
                        *p = p.max(share);
                    }
                }
                Effect::Prices { multiplier } => {
                    for p in shape.prices.iter_mut().skip(d0) {
                        *p *= multiplier;
                    }
                }
                Effect::Loop {
                    calls_per_hour,
                    hours,
                    tier,
                } => shape.loops.push(RunawayLoop {
                    tier,
                    start_hour: e.start_hour,
                    hours,
                    calls_per_hour,
                }),
            }
        }
        shape
    }

    /// Days in the month.
    pub fn days(&self) -> usize {
        self.viral.len()
    }
}

/// What the day-total breakers kept of each tier's day: the share of its
/// cost, and of its tokens served.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayScale {
    /// Per tier, the share of its day's cost kept.
    pub cost: Vec<f64>,
    /// Per tier, the share of its day's tokens served.
    pub served: Vec<f64>,
}

/// Trip the day-total breakers (feature, global) on the day's total of
/// `day_cost` (per tier), in the spec's order, each on what the ones before
/// it kept. Counts the day for each breaker that trips in
/// `out.breaker_days` and `out.breaker_trips`, and books the user-days it
/// cut (`day_active` per tier, times the share of the day past its limit)
/// as blocked or degraded (a `notify` breaker cuts nothing). Returns the
/// share of each tier's cost and tokens kept. `cached` is the trial's
/// cached share (what a fallback or shrink re-prices at, see
/// [`Model::past_trip`]).
pub fn trip_breakers(m: &Model, day_cost: &[f64], day_active: &[f64], cached: f64, out: &mut Month) -> DayScale {
    let mut scale = DayScale {
        cost: Vec::new(),
        served: Vec::new(),
    };
    trip_breakers_into(m, day_cost, day_active, cached, out, &mut scale);
    scale
}

/// [`trip_breakers`] into `scale` (reused day after day).
pub fn trip_breakers_into(
    m: &Model,
    day_cost: &[f64],
    day_active: &[f64],
    cached: f64,
    out: &mut Month,
    scale: &mut DayScale,
) {
    let nt = day_cost.len();
    let mut total: f64 = day_cost.iter().sum();
    scale.cost.clear();
    scale.cost.resize(nt, 1.0);
    scale.served.clear();
    scale.served.resize(nt, 1.0);
    for (bi, b) in m.breakers.iter().enumerate() {
        if !b.level.is_day_total() || total <= b.limit_usd {
            continue;
        }
        out.breaker_days[bi] += 1;
        out.breaker_trips[bi] += 1.0;
        match b.action {
            TripAction::Block | TripAction::Throttle(_) => {
                let kept = match b.throttle {
                    None => b.limit_usd,
                    Some(f) => b.limit_usd + f * (total - b.limit_usd),
                };
                let s = kept / total;
                for (c, v) in scale.cost.iter_mut().zip(scale.served.iter_mut()) {
                    *c *= s;
                    *v *= s;
                }
                total = kept;
                for (tm, active) in out.tiers.iter_mut().zip(day_active) {
                    let cut_days = active * (1.0 - s);
                    if b.throttle.is_none() {
                        tm.blocked_user_days += cut_days;
                    } else {
                        tm.degraded_user_days += cut_days;
                    }
                }
            }
            TripAction::Notify => {}
            TripAction::Fallback(_) | TripAction::Shrink(_) => {
                // The share of the day past the limit, re-priced tier by tier.
                let e = (total - b.limit_usd) / total;
                for (ti, active) in day_active.iter().enumerate() {
                    let q = m.past_trip(b, ti, cached);
                    scale.cost[ti] *= 1.0 - e * (1.0 - q.cost);
                    scale.served[ti] *= 1.0 - e * (1.0 - q.served);
                    out.tiers[ti].degraded_user_days += active * e;
                }
                total = day_cost.iter().zip(&scale.cost).map(|(c, s)| c * s).sum();
            }
        }
    }
}

/// What a breaker leaves of a day of `cost` (USD) and `served` tokens
/// past its limit `limit`: the share `e` of the day past the limit gets
/// the breaker's action `q`. `None` when it does not trip.
pub fn trip_one(cost: f64, served: f64, limit: f64, q: PastTrip) -> Option<Tripped> {
    if cost <= limit {
        return None;
    }
    let e = (cost - limit) / cost;
    Some(Tripped {
        past: e,
        cost: limit + q.cost * (cost - limit),
        served_lost: e * (1.0 - q.served) * served,
    })
}

/// What [`trip_one`] left of a day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tripped {
    /// Share of the day past the limit.
    pub past: f64,
    /// Cost kept (USD).
    pub cost: f64,
    /// Tokens no longer served.
    pub served_lost: f64,
}

/// Book the user-days a breaker's trip cut: `days` user-days, as blocked
/// (`block`), degraded (throttle, fallback, shrink) or not at all (`notify`).
pub fn book_cut_days(tm: &mut TierMonth, action: TripAction, days: f64) {
    match action {
        TripAction::Block => tm.blocked_user_days += days,
        TripAction::Notify => {}
        _ => tm.degraded_user_days += days,
    }
}
