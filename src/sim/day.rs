//! What every user of a day shares: the day's shape (which scenarios act on
//! it) and the breakers on the day's total. Both simulators use these (the
//! fast engine, [`super::month`], and the brute-force one, [`super::brute`]):
//! they are the spec's documented semantics, not a shortcut of the engine,
//! so sharing them leaves the per-user paths that the brute force checks
//! independent.

use super::month::{Draw, Month};
use crate::economics::{Effect, Model};

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

/// Trip the breakers on the day's total of `day_cost` (per tier), in the
/// spec's order, each on what the ones before it kept. Counts the day for
/// each breaker that trips in `out.breaker_days`, and books the user-days it
/// cut (`day_active` per tier, times the share it cut) as blocked or
/// degraded. Returns the share of the day's cost kept.
pub fn trip_breakers(m: &Model, day_cost: &[f64], day_active: &[f64], out: &mut Month) -> f64 {
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
            for (tm, active) in out.tiers.iter_mut().zip(day_active) {
                let cut_days = active * (1.0 - s);
                if b.throttle.is_none() {
                    tm.blocked_user_days += cut_days;
                } else {
                    tm.degraded_user_days += cut_days;
                }
            }
        }
    }
    scale
}
