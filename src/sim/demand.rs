//! What one active user asks for in one day, as a table of samples.
//!
//! A user-day is `n` interactions (drawn from `interactions_per_active_day`,
//! times the power-user or viral multiplier, rounded stochastically to a whole
//! number with the same mean), each of `calls` LLM calls (a whole number, at
//! most `max_calls`), each with its input and output tokens (clipped to
//! `max_input_tokens` / `max_output_tokens`). For each sample the table keeps
//! the tokens and, per priced model, the cost split into uncached input,
//! cached input and output, so the cached share and price changes of a trial
//! apply without resampling.
//!
//! A user-day is assembled from a pool of sampled interactions by adding
//! their input and output tokens (and those of the calls past each
//! long-context threshold): a call's cost is linear in them at every model,
//! so the costs follow from the sums, and the work of assembling does not
//! grow with the number of priced models.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dist::{open01, stochastic_count};
use crate::economics::{CapModel, Model};

/// Cost of some tokens at base prices: [uncached-input rate, cached-input
/// rate, output]; the uncached and cached parts both cover all input tokens,
/// so a cached share `c` costs `(1-c)*x[0] + c*x[1] + x[2]`.
pub type Parts = [f64; 3];

/// The cost of `x` at cached share `c`.
#[inline]
pub fn combine(x: &Parts, c: f64) -> f64 {
    (1.0 - c) * x[0] + c * x[1] + x[2]
}

#[inline]
fn add(a: &mut Parts, b: &Parts, k: f64) {
    a[0] += b[0] * k;
    a[1] += b[1] * k;
    a[2] += b[2] * k;
}

/// Samples of one class of user-day (normal or power user, on a normal or a
/// viral day). Structure of arrays; `cost[m][i]` is sample `i` at model `m`.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Tokens of each sample.
    pub tokens: Vec<f64>,
    /// Output tokens of each sample.
    pub out: Vec<f64>,
    /// Cost parts of each sample, per model.
    pub cost: Vec<Vec<Parts>>,
}

impl Samples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// The user-day classes of a feature: index `slot * 2 + power`, where slot 0
/// is an ordinary day and slot `k` a viral day at `viral_multipliers[k-1]`.
#[derive(Clone, Debug)]
pub struct Demand {
    /// The distinct viral multipliers, one slot each after the ordinary day.
    pub viral_multipliers: Vec<f64>,
    /// The samples of each class.
    pub classes: Vec<Samples>,
}

impl Demand {
    /// The class index of a slot, for power users or not.
    pub fn class(&self, slot: usize, power: bool) -> usize {
        slot * 2 + power as usize
    }

    pub(crate) fn slot_of(&self, multiplier: f64) -> usize {
        self.viral_multipliers
            .iter()
            .position(|&m| m == multiplier)
            .map_or(0, |i| i + 1)
    }

    fn multipliers(m: &Model) -> Vec<f64> {
        let mut v: Vec<f64> = m
            .scenarios
            .iter()
            .filter_map(|s| match s.effect {
                crate::economics::Effect::Viral { multiplier, .. } => Some(multiplier),
                _ => None,
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    }

    /// One sample per class at the central values (the deterministic month).
    pub fn central(m: &Model) -> Demand {
        let viral = Self::multipliers(m);
        let (tin, tout) = (m.typical_input(), m.typical_output());
        let calls = m.typical_calls();
        let per_call: Vec<Parts> = m
            .prices
            .iter()
            .map(|p| {
                let r = p.rates(tin);
                [tin * r.input, tin * r.cached_input, tout * r.output]
            })
            .collect();
        let mut classes = Vec::new();
        for slot in 0..=viral.len() {
            for power in [false, true] {
                let n = m.interactions.central() * class_multiplier(m, &viral, slot, power) * calls;
                classes.push(Samples {
                    tokens: vec![n * (tin + tout)],
                    out: vec![n * tout],
                    cost: per_call.iter().map(|c| vec![[c[0] * n, c[1] * n, c[2] * n]]).collect(),
                });
            }
        }
        Demand {
            viral_multipliers: viral,
            classes,
        }
    }

    /// `size` samples per class, drawn from the spec's distributions.
    pub fn sampled(m: &Model, size: usize, seed: u64) -> Demand {
        Self::sampled_alike(&[m], size, seed).swap_remove(0)
    }

    /// Whether the tables of `a` and `b` are assembled from the same
    /// interaction counts and pool draws ([`Self::sampled_alike`]): the
    /// same interactions per user-day, scenarios' multipliers, power
    /// users' multiplier and long-context thresholds (the width of a row
    /// of the pool). What an interaction is (its calls, tokens and prices)
    /// may differ.
    pub fn alike(a: &Model, b: &Model) -> bool {
        a.interactions == b.interactions
            && a.power_multiplier == b.power_multiplier
            && thresholds(a) == thresholds(b)
            && Self::multipliers(a) == Self::multipliers(b)
    }

    /// [`Self::sampled`] of each of `models`, all [`Self::alike`] (else
    /// each is drawn by itself), byte for byte: each model's pool of
    /// interactions is its own, and one walk draws the user-days'
    /// interaction counts and pool indices that every model's walk would
    /// draw, adding each model's interactions as its own walk adds them.
    pub fn sampled_alike(models: &[&Model], size: usize, seed: u64) -> Vec<Demand> {
        let Some(m) = models.first() else {
            return Vec::new();
        };
        if models.len() > 1 && !models.iter().all(|x| Self::alike(m, x)) {
            return models.iter().map(|x| Self::sampled(x, size, seed)).collect();
        }
        let viral = Self::multipliers(m);
        let pools: Vec<Pool> = models
            .iter()
            .map(|x| Pool::new(x, POOL_PER_SAMPLE * size, seed))
            .collect();
        // At most `Pool::ALIKE` pools per walk (each walk from the same
        // state of the class's stream: the same draws).
        let groups: Vec<(&[Pool], std::borrow::Cow<[f64]>)> =
            pools.chunks(Pool::ALIKE).map(|g| (g, Pool::side_by_side(g))).collect();
        let mut out: Vec<Demand> = models
            .iter()
            .map(|_| Demand {
                viral_multipliers: viral.clone(),
                classes: Vec::new(),
            })
            .collect();
        for slot in 0..=viral.len() {
            for power in [false, true] {
                let mult = class_multiplier(m, &viral, slot, power);
                let rng = stream(seed, STREAM_CLASSES + (slot * 2 + power as usize) as u64);
                let walk = |g: &[Pool], rows: &[f64]| {
                    let (rng, go) = (&mut rng.clone(), (g, rows, *m, mult, size));
                    match g.len() {
                        1 => Pool::user_days::<1>(go, rng),
                        2 => Pool::user_days::<2>(go, rng),
                        3 => Pool::user_days::<3>(go, rng),
                        4 => Pool::user_days::<4>(go, rng),
                        5 => Pool::user_days::<5>(go, rng),
                        6 => Pool::user_days::<6>(go, rng),
                        7 => Pool::user_days::<7>(go, rng),
                        _ => Pool::user_days::<{ Pool::ALIKE }>(go, rng),
                    }
                };
                let samples = groups.iter().flat_map(|(g, rows)| walk(g, rows));
                for (d, s) in out.iter_mut().zip(samples) {
                    d.classes.push(s);
                }
            }
        }
        out
    }
}

fn class_multiplier(m: &Model, viral: &[f64], slot: usize, power: bool) -> f64 {
    let v = if slot == 0 { 1.0 } else { viral[slot - 1] };
    v * if power { m.power_multiplier } else { 1.0 }
}

/// Independent random streams derived from the run's seed.
pub fn stream(seed: u64, id: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(id);
    r
}

pub(crate) const STREAM_CLASSES: u64 = 1 << 40;
pub(crate) const STREAM_POOL: u64 = 1 << 41;
pub(crate) const STREAM_PANEL: u64 = 1 << 42;
/// The seeds of the batches' tables (see [`super::BATCHES`]).
pub const STREAM_BATCH: u64 = 1 << 43;

/// Samples per class of user-day in a Monte Carlo run.
pub const CLASS_SAMPLES: usize = 32_768;
pub use crate::spec::limits::POOL_PER_SAMPLE;
pub(crate) use crate::spec::limits::{EXACT_CALLS, EXACT_INTERACTIONS};
/// Calls drawn, on their own stream, for the mean of a call.
const MEAN_CALLS: usize = 16_384;
pub(crate) const STREAM_MEAN_CALL: u64 = STREAM_POOL + 1;

/// The distinct thresholds of input tokens per call past which a priced
/// model of `m` bills other rates (long-context pricing), in order.
fn thresholds(m: &Model) -> Vec<f64> {
    let mut v: Vec<f64> = m
        .prices
        .iter()
        .filter_map(|p| p.above.as_ref().map(|a| a.threshold_tokens))
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// What a set of tokens is summed as: input tokens, output tokens, then
/// for each threshold of `thresholds` the input and output tokens of the
/// calls past it. A cost is linear in these (a call's rates depend only on
/// whether its input passes a threshold), so a user-day's cost parts at
/// every model follow from its sums ([`Pricing::parts`]).
fn add_call(row: &mut [f64], thresholds: &[f64], i: f64, o: f64, k: f64) {
    row[0] += i * k;
    row[1] += o * k;
    for (h, &th) in thresholds.iter().enumerate() {
        if i > th {
            row[2 + 2 * h] += i * k;
            row[3 + 2 * h] += o * k;
        }
    }
}

/// A priced model's rates, on the sums [`add_call`] keeps.
#[derive(Clone, Copy, Debug)]
struct Pricing {
    base: crate::pricing::Rates,
    /// The index of its threshold and its rates past it.
    above: Option<(usize, crate::pricing::Rates)>,
}

impl Pricing {
    fn of(m: &Model, thresholds: &[f64]) -> Vec<Pricing> {
        m.prices
            .iter()
            .map(|p| Pricing {
                base: p.rates(0.0),
                above: p.above.as_ref().map(|a| {
                    let h = thresholds
                        .iter()
                        .position(|t| *t == a.threshold_tokens)
                        .expect("every threshold listed");
                    (h, p.rates(f64::INFINITY))
                }),
            })
            .collect()
    }

    /// The cost parts of sums `x`.
    #[inline]
    fn parts(&self, x: &[f64]) -> Parts {
        let b = &self.base;
        match self.above {
            None => [x[0] * b.input, x[0] * b.cached_input, x[1] * b.output],
            Some((h, a)) => {
                let (ih, oh) = (x[2 + 2 * h], x[3 + 2 * h]);
                let (il, ol) = (x[0] - ih, x[1] - oh);
                [
                    il * b.input + ih * a.input,
                    il * b.cached_input + ih * a.cached_input,
                    ol * b.output + oh * a.output,
                ]
            }
        }
    }
}

/// The mean sums ([`add_call`]) of one call.
fn mean_call(m: &Model, thresholds: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = stream(seed, STREAM_MEAN_CALL);
    let mut x = vec![0.0; Pool::width(thresholds)];
    let k = 1.0 / MEAN_CALLS as f64;
    for _ in 0..MEAN_CALLS {
        let (i, out) = draw_call(m, &mut rng);
        add_call(&mut x, thresholds, i, out, k);
    }
    x
}

/// Round `x` to a whole number, up with probability frac(x): same mean.
#[inline]
pub fn stochastic_round<R: Rng + ?Sized>(x: f64, rng: &mut R) -> f64 {
    stochastic_count(x, f64::NEG_INFINITY, f64::INFINITY, rng)
}

/// Draw one call's tokens: (input, output), clipped to the spec's limits.
pub fn draw_call<R: Rng + ?Sized>(m: &Model, rng: &mut R) -> (f64, f64) {
    let i = m.input_tokens.sample(rng);
    let o = m.output_tokens.sample(rng);
    (
        m.max_input_tokens.map_or(i, |x| i.min(x)),
        m.max_output_tokens.map_or(o, |x| o.min(x)),
    )
}

/// Draw one interaction's number of calls: a whole number in 1..=max_calls.
pub fn draw_calls<R: Rng + ?Sized>(m: &Model, rng: &mut R) -> f64 {
    stochastic_count(m.calls.sample(rng), 1.0, m.max_calls.unwrap_or(f64::INFINITY), rng)
}

/// A pool of sampled interactions that user-days are assembled from.
struct Pool {
    /// [interaction * width ..]: one interaction's sums ([`add_call`]) side
    /// by side, so assembling a user-day reads one run of memory per
    /// interaction whatever the number of priced models.
    rows: Vec<f64>,
    /// Interactions in the pool.
    len: usize,
    /// The mean interaction's sums.
    mean: Vec<f64>,
    /// Each priced model's rates on the sums.
    pricing: Vec<Pricing>,
}

impl Pool {
    fn width(thresholds: &[f64]) -> usize {
        2 + 2 * thresholds.len()
    }

    fn new(m: &Model, size: usize, seed: u64) -> Pool {
        let mut rng = stream(seed, STREAM_POOL);
        let th = thresholds(m);
        let width = Self::width(&th);
        let mut p = Pool {
            rows: Vec::with_capacity(size * width),
            len: size,
            mean: vec![0.0; width],
            pricing: Pricing::of(m, &th),
        };
        let mut mean: Option<Vec<f64>> = None;
        let mut row = vec![0.0; width];
        for _ in 0..size {
            let calls = draw_calls(m, &mut rng);
            let exact = (calls as usize).min(EXACT_CALLS);
            row.fill(0.0);
            let rest = calls - exact as f64;
            if rest > 0.0 {
                let mc = mean.get_or_insert_with(|| mean_call(m, &th, seed));
                for (a, b) in row.iter_mut().zip(mc.iter()) {
                    *a += b * rest;
                }
            }
            for _ in 0..exact {
                let (i, out) = draw_call(m, &mut rng);
                add_call(&mut row, &th, i, out, 1.0);
            }
            p.rows.extend_from_slice(&row);
        }
        let n = size as f64;
        for (j, x) in p.mean.iter_mut().enumerate() {
            *x = p.rows.iter().skip(j).step_by(width).sum::<f64>() / n;
        }
        p
    }

    /// The rows of `pools` (of the same length and width) side by side:
    /// interaction `j` of every pool in one run of memory, so that a walk
    /// for every pool reads one place per interaction.
    fn side_by_side(pools: &[Pool]) -> std::borrow::Cow<'_, [f64]> {
        match pools {
            [one] => std::borrow::Cow::Borrowed(&one.rows),
            _ => {
                let width = pools[0].mean.len();
                let mut rows = Vec::with_capacity(pools.len() * pools[0].rows.len());
                for j in 0..pools[0].len {
                    for p in pools {
                        rows.extend_from_slice(&p.rows[j * width..(j + 1) * width]);
                    }
                }
                std::borrow::Cow::Owned(rows)
            }
        }
    }

    /// The most pools one walk adds to.
    const ALIKE: usize = 8;

    /// `size` user-days with interactions x `mult` for each of `NP` pools
    /// (of models [`Demand::alike`] `m`; `rows` their rows side by side),
    /// stratified on the interactions draw (one draw per 1/size of its
    /// distribution). One walk: each user-day's interaction count and pool
    /// indices are drawn once for every pool. `NP` is known when compiled.
    fn user_days<const NP: usize>(
        (pools, rows, m, mult, size): (&[Pool], &[f64], &Model, f64, usize),
        rng: &mut ChaCha8Rng,
    ) -> Vec<Samples> {
        assert_eq!(pools.len(), NP, "a walk of as many pools as it is built for");
        let mut out: Vec<Samples> = pools
            .iter()
            .map(|p| Samples {
                tokens: Vec::with_capacity(size),
                out: Vec::with_capacity(size),
                cost: vec![Vec::with_capacity(size); p.pricing.len()],
            })
            .collect();
        let width = pools[0].mean.len();
        let stride = width * NP;
        // The pool's size is a power of two in a Monte Carlo run: the index
        // is then a mask, the same number as the remainder.
        let pool_n = pools[0].len as u64;
        let mask = pool_n.is_power_of_two().then_some(pool_n - 1);
        let index = |x: u64| {
            (match mask {
                Some(mk) => x & mk,
                None => x % pool_n,
            }) as usize
        };
        let rows2 = rows.as_chunks::<2>().0;
        // Each pool's sums for the sample (reused sample after sample),
        // laid out as a row of `rows`.
        let mut acc = vec![0.0; stride];
        for k in 0..size {
            let u = (k as f64 + open01(rng)) / size as f64;
            let n = stochastic_count(m.interactions.quantile(u) * mult, 0.0, f64::INFINITY, rng);
            let exact = (n as usize).min(EXACT_INTERACTIONS);
            let rest = n - exact as f64;
            for (a, pool) in acc.chunks_exact_mut(width).zip(pools) {
                for (x, mean) in a.iter_mut().zip(&pool.mean) {
                    *x = mean * rest;
                }
            }
            if width == 2 {
                // No thresholds: every pool's sums in registers.
                let mut sums = [[0.0; 2]; NP];
                for (x, a) in sums.iter_mut().zip(acc.chunks_exact(2)) {
                    *x = [a[0], a[1]];
                }
                for _ in 0..exact {
                    let j = index(rng.next_u64());
                    let at: &[[f64; 2]; NP] = rows2[j * NP..(j + 1) * NP].try_into().expect("a row per pool");
                    for (x, r) in sums.iter_mut().zip(at) {
                        x[0] += r[0];
                        x[1] += r[1];
                    }
                }
                for (x, a) in sums.iter().zip(acc.chunks_exact_mut(2)) {
                    a.copy_from_slice(x);
                }
            } else {
                for _ in 0..exact {
                    let j = index(rng.next_u64());
                    for (a, b) in acc.iter_mut().zip(&rows[j * stride..(j + 1) * stride]) {
                        *a += *b;
                    }
                }
            }
            for ((s, pool), x) in out.iter_mut().zip(pools).zip(acc.chunks_exact(width)) {
                s.tokens.push(x[0] + x[1]);
                s.out.push(x[1]);
                for (c, pr) in s.cost.iter_mut().zip(&pool.pricing) {
                    c.push(pr.parts(x));
                }
            }
        }
        out
    }
}

/// A class of user-day under one tier's daily cap: averages per active
/// user-day, split into what the cap lets through and what it does not.
#[derive(Clone, Copy, Debug, Default)]
pub struct DayStats {
    /// Tokens asked for.
    pub demand_tokens: f64,
    /// Within the daily cap: tokens, output tokens, cost at the tier's model
    /// and at its fallback model.
    pub sp_tok: f64,
    /// Output tokens within the cap.
    pub sp_out: f64,
    /// Cost parts within the cap at the tier's model.
    pub sp_p: Parts,
    /// Cost parts within the cap at the fallback model.
    pub sp_f: Parts,
    /// Beyond the daily cap.
    pub ex_tok: f64,
    /// Output tokens beyond the cap.
    pub ex_out: f64,
    /// Cost parts beyond the cap at the tier's model.
    pub ex_p: Parts,
    /// Cost parts beyond the cap at the fallback model.
    pub ex_f: Parts,
    /// Share of user-days past the cap, and past `warn_at` x cap.
    pub p_hit: f64,
    /// Share of user-days past `warn_at` x cap.
    pub p_warn: f64,
    /// Mean tokens past the overage allowance (with nothing cut monthly).
    pub overage_tokens: f64,
    /// Mean and mean squared cost of a user-day at base prices, the central
    /// cached share and no monthly cut (for the spread that a finite number
    /// of users adds; rescaled to a trial's conditions).
    pub cost_ref: f64,
    /// Mean squared cost of a user-day (see `cost_ref`).
    pub cost_sq: f64,
    /// Mean squared overage tokens and mean cost x overage tokens of a
    /// user-day under the same conditions (the overage revenue's spread and
    /// its correlation with the cost's).
    pub overage_sq: f64,
    /// Mean of cost x overage tokens of a user-day (see `overage_sq`).
    pub cost_overage: f64,
}

impl DayStats {
    /// The statistics of class samples `s` on a tier of `model` (with its
    /// `fallback`), under its daily `cap` and overage allowance.
    pub fn new(
        s: &Samples,
        model: usize,
        fallback: Option<usize>,
        cap: Option<&CapModel>,
        overage_after: Option<f64>,
        cached: f64,
    ) -> DayStats {
        let n = s.len() as f64;
        let daily = cap.and_then(|c| c.daily_tokens);
        let warn = match (daily, cap.and_then(|c| c.warn_at)) {
            (Some(d), Some(w)) => Some(d * w),
            _ => None,
        };
        let fb = fallback.unwrap_or(model);
        let mut st = DayStats::default();
        for i in 0..s.len() {
            let t = s.tokens[i];
            let f = match daily {
                Some(d) if t > d => d / t,
                _ => 1.0,
            };
            st.demand_tokens += t;
            st.sp_tok += f * t;
            st.sp_out += f * s.out[i];
            add(&mut st.sp_p, &s.cost[model][i], f);
            add(&mut st.sp_f, &s.cost[fb][i], f);
            let e = 1.0 - f;
            if e > 0.0 {
                st.p_hit += 1.0;
                st.ex_tok += e * t;
                st.ex_out += e * s.out[i];
                add(&mut st.ex_p, &s.cost[model][i], e);
                add(&mut st.ex_f, &s.cost[fb][i], e);
            }
            if warn.is_some_and(|w| t >= w) {
                st.p_warn += 1.0;
            }
            let one = user_day(&DayStats::one(s, i, model, fallback, daily), cap, 0.0, cached);
            let ov = overage_after.map_or(0.0, |after| (one.served_tokens - after).max(0.0));
            st.overage_tokens += ov;
            st.cost_ref += one.cost;
            st.cost_sq += one.cost * one.cost;
            st.overage_sq += ov * ov;
            st.cost_overage += one.cost * ov;
        }
        let k = 1.0 / n;
        for v in [
            &mut st.demand_tokens,
            &mut st.sp_tok,
            &mut st.sp_out,
            &mut st.ex_tok,
            &mut st.ex_out,
            &mut st.p_hit,
            &mut st.p_warn,
            &mut st.overage_tokens,
            &mut st.cost_ref,
            &mut st.cost_sq,
            &mut st.overage_sq,
            &mut st.cost_overage,
        ] {
            *v *= k;
        }
        for p in [&mut st.sp_p, &mut st.sp_f, &mut st.ex_p, &mut st.ex_f] {
            *p = scale(p, k);
        }
        st
    }
}

impl DayStats {
    /// Sample `i` of a class on its own, split at the daily cap `daily`.
    #[inline(always)]
    pub fn one(s: &Samples, i: usize, model: usize, fallback: Option<usize>, daily: Option<f64>) -> DayStats {
        let fb = fallback.unwrap_or(model);
        let t = s.tokens[i];
        let f = match daily {
            Some(d) if t > d => d / t,
            _ => 1.0,
        };
        let e = 1.0 - f;
        DayStats {
            sp_tok: f * t,
            sp_out: f * s.out[i],
            sp_p: scale(&s.cost[model][i], f),
            sp_f: scale(&s.cost[fb][i], f),
            ex_tok: e * t,
            ex_out: e * s.out[i],
            ex_p: scale(&s.cost[model][i], e),
            ex_f: scale(&s.cost[fb][i], e),
            ..DayStats::default()
        }
    }
}

fn scale(x: &Parts, k: f64) -> Parts {
    [x[0] * k, x[1] * k, x[2] * k]
}

/// What an average active user-day of a class costs and gets, once the
/// monthly cap has cut a share `r` of what the daily cap let through.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UserDay {
    /// USD at base prices.
    pub cost: f64,
    /// Tokens served.
    pub served_tokens: f64,
    /// Tokens asked for and not served.
    pub unserved_tokens: f64,
    /// Tokens served in a degraded way (fallback model, shrunk, throttled).
    pub degraded_tokens: f64,
}

/// Apply the tier's `on_limit` to the part past the caps.
#[inline]
pub fn user_day(st: &DayStats, cap: Option<&CapModel>, r: f64, c: f64) -> UserDay {
    use crate::spec::OnLimit;
    let within = (1.0 - r) * combine(&st.sp_p, c);
    let Some(cap) = cap else {
        return UserDay {
            cost: combine(&st.sp_p, c),
            served_tokens: st.sp_tok,
            ..UserDay::default()
        };
    };
    let past_tok = r * st.sp_tok + st.ex_tok;
    match cap.on_limit {
        OnLimit::Block => UserDay {
            cost: within,
            served_tokens: (1.0 - r) * st.sp_tok,
            unserved_tokens: past_tok,
            degraded_tokens: 0.0,
        },
        OnLimit::Fallback => UserDay {
            cost: within + r * combine(&st.sp_f, c) + combine(&st.ex_f, c),
            served_tokens: st.sp_tok + st.ex_tok,
            unserved_tokens: 0.0,
            degraded_tokens: past_tok,
        },
        OnLimit::Shrink => {
            let s = cap.shrink_to;
            let shrunk = |x: &Parts| (1.0 - c) * x[0] + c * x[1] + s * x[2];
            let cut = (1.0 - s) * (r * st.sp_out + st.ex_out);
            UserDay {
                cost: within + r * shrunk(&st.sp_p) + shrunk(&st.ex_p),
                served_tokens: st.sp_tok + st.ex_tok - cut,
                unserved_tokens: cut,
                degraded_tokens: past_tok - cut,
            }
        }
        OnLimit::Throttle => {
            let th = cap.throttle_to;
            UserDay {
                cost: within + th * (r * combine(&st.sp_p, c) + combine(&st.ex_p, c)),
                served_tokens: (1.0 - r) * st.sp_tok + th * past_tok,
                unserved_tokens: (1.0 - th) * past_tok,
                degraded_tokens: th * past_tok,
            }
        }
    }
}

/// [`user_day`] with a share `b` of what is past the caps served from
/// top-ups: at the tier's model, in full; the rest gets the tier's
/// `on_limit`. `b = 0` is [`user_day`] exactly.
#[inline]
pub fn user_day_bought(st: &DayStats, cap: Option<&CapModel>, r: f64, b: f64, c: f64) -> UserDay {
    let ud = user_day(st, cap, r, c);
    if b <= 0.0 || cap.is_none() {
        return ud;
    }
    // Everything past the caps served at the tier's model.
    let full_cost = (1.0 - r) * combine(&st.sp_p, c) + r * combine(&st.sp_p, c) + combine(&st.ex_p, c);
    let full_served = st.sp_tok + st.ex_tok;
    UserDay {
        cost: ud.cost + b * (full_cost - ud.cost),
        served_tokens: ud.served_tokens + b * (full_served - ud.served_tokens),
        unserved_tokens: (1.0 - b) * ud.unserved_tokens,
        degraded_tokens: (1.0 - b) * ud.degraded_tokens,
    }
}
