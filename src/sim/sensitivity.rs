//! Sensitivity: what each uncertain input does to the policy's figures.
//!
//! For every input that is not fixed (each quantity given as a distribution,
//! each scenario's chance, each priced model's prices) the month is
//! simulated again twice, with that input at its low end and at its high
//! end and every other input at its distribution, and the month's cost and
//! cost/revenue ratio are read at the policy's `confidence`:
//!
//! | input | low end | high end |
//! | --- | --- | --- |
//! | a quantity with a distribution | its 5th percentile | its 95th percentile |
//! | a scenario's chance | 0 (never) | 1 (every month) |
//! | a model's prices | every rate x 0.8 | every rate x 1.2 |
//!
//! A quantity at an end is that one value in every draw (every user-day for
//! the per-user-day quantities: calls, tokens, interactions; every trial for
//! the shared ones: users, tenants, shares, uptake, budgets).
//!
//! Common random numbers: every variant runs the base run's trials (the
//! same seed, the same streams, the same batches' demand tables where the
//! input does not enter them; a model's prices enter them linearly, so its
//! variants run on the base tables with that model's costs scaled), and a pinned quantity keeps its form so that
//! it takes the same random numbers as before. The difference between a
//! variant's figure and the base's is then far more precise than either.
//! Its standard error is the batch standard error of the difference's
//! linearisation: a quantile `Q` of `n` trials moves by `-(F(Q) - q) / f(Q)`
//! when the share `F` of trials at or below it moves, so the difference
//! `Q_v - Q_b` has the per-trial influence `s_v 1{x_v <= Q_v} - s_b 1{x_b
//! <= Q_b}` (`s = 1/f`, the slope of the quantile function, from the order
//! statistics one binomial standard deviation either side), whose mean's
//! standard error [`Batches::mean_se`] gives (the batches' own tables
//! included).
//!
//! Same spec and seed, same bytes, whatever the thread count: every trial's
//! figures are computed on their own streams and collected in trial order.

use rayon::prelude::*;
use serde::Serialize;

use super::demand::{Demand, stream};

use super::month::{self, Draw, Engine};
use super::{BATCH_CLASS_SAMPLES, Batches, Options, Sorted, ratio};
use crate::dist::Dist;
use crate::economics::{Customers, Model};

/// The share either side of the median that a quantity's ends sit at: the
/// 5th and the 95th percentiles.
pub const END_QUANTILE: f64 = 0.05;
/// What a model's prices are multiplied by at the low and the high end.
pub const PRICE_ENDS: (f64, f64) = (0.8, 1.2);

/// What kind of input it is (how its ends are chosen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A quantity with a distribution: its 5th and 95th percentiles.
    Quantity,
    /// A scenario's chance: 0 and 1.
    ScenarioChance,
    /// A model's prices: x0.8 and x1.2.
    ModelPrice,
}

/// The figures with one input at one end, and their change from the base
/// run with its standard error (`None`: not defined, as a ratio without
/// revenue).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct End {
    /// The input's value there (the price multiplier for a model's prices).
    pub value: f64,
    /// The month's cost at the policy's confidence, USD.
    pub cost_usd: Option<f64>,
    /// Its change from the base run, USD.
    pub cost_change_usd: Option<f64>,
    /// The standard error of that change.
    pub cost_change_se_usd: Option<f64>,
    /// Cost/revenue at the policy's confidence.
    pub cost_revenue_ratio: Option<f64>,
    /// Its change from the base run.
    pub ratio_change: Option<f64>,
    /// The standard error of that change.
    pub ratio_change_se: Option<f64>,
}

/// One uncertain input and what its ends do.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InputEffect {
    /// The input, as the spec names it (`usage.interactions_per_active_day`,
    /// `tiers.pro.users`, `scenarios.viral.chance`, `models.gpt-4o.prices`).
    pub input: String,
    /// How its ends are chosen.
    pub kind: InputKind,
    /// The figures at its low end.
    pub low: End,
    /// The figures at its high end.
    pub high: End,
    /// How far the cost moves between the ends (high minus low), USD: the
    /// order of the list.
    pub cost_swing_usd: f64,
    /// How far the ratio moves between the ends (`None`: not defined).
    pub ratio_swing: Option<f64>,
}

/// The sensitivity of one feature's figures to its inputs.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sensitivity {
    /// The quantile the figures are read at (the policy's confidence).
    pub confidence: f64,
    /// Trials of every run (the base run's).
    pub trials: usize,
    /// The seed every run shares.
    pub seed: u64,
    /// The base run's month cost at confidence, USD.
    pub base_cost_usd: Option<f64>,
    /// The base run's cost/revenue at confidence.
    pub base_cost_revenue_ratio: Option<f64>,
    /// Every uncertain input, the largest cost swing first (ties: the
    /// larger ratio swing, then by name).
    pub inputs: Vec<InputEffect>,
}

impl Sensitivity {
    /// The inputs that move the cost most, largest first (at most `n`,
    /// only those that move it at all).
    pub fn top_for_cost(&self, n: usize) -> Vec<&InputEffect> {
        self.inputs
            .iter()
            .filter(|i| i.cost_swing_usd.abs() > 0.0)
            .take(n)
            .collect()
    }

    /// The inputs that move the cost/revenue ratio most, largest first.
    pub fn top_for_ratio(&self, n: usize) -> Vec<&InputEffect> {
        let mut v: Vec<&InputEffect> = self
            .inputs
            .iter()
            .filter(|i| i.ratio_swing.is_some_and(|s| s.abs() > 0.0))
            .collect();
        v.sort_by(|a, b| {
            b.ratio_swing
                .unwrap_or(0.0)
                .abs()
                .total_cmp(&a.ratio_swing.unwrap_or(0.0).abs())
                .then_with(|| a.input.cmp(&b.input))
        });
        v.truncate(n);
        v
    }
}

/// Whether a variant changes the demand tables (rebuilt for it) or only
/// the trials' shared draws (the base tables kept).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    Tables,
    Trial,
    /// Model `i`'s prices: they enter the tables linearly, so the variant
    /// runs on the base tables with that model's costs scaled.
    Prices(usize),
}

struct Input {
    name: String,
    kind: InputKind,
    scope: Scope,
    ends: (f64, f64),
    low: Model,
    high: Model,
}

/// `d` pinned at `x`, in the same form so that a draw takes the same random
/// numbers: a lognormal with p50 = p95 = x, a triangle or a normal of zero
/// width, as many samples as before all equal to `x`. A PERT pinned keeps
/// its shape over a range a billionth of its own (its beta draw takes the
/// same random numbers), starting at `x`.
pub(crate) fn pinned(d: &Dist, x: f64) -> Dist {
    match d {
        Dist::Fixed { .. } => Dist::fixed(x),
        Dist::LogNormal { .. } => Dist::LogNormal {
            p50: x,
            p95: x,
            min: None,
            max: None,
        },
        Dist::Triangular { .. } => Dist::Triangular {
            low: x,
            mode: x,
            high: x,
        },
        Dist::Normal { .. } => Dist::Normal {
            mean: x,
            sd: 0.0,
            min: x,
            max: x,
        },
        Dist::Pert { low, mode, high } => {
            let k = 1e-9;
            Dist::Pert {
                low: x,
                mode: x + (mode - low) * k,
                high: x + (high - low) * k,
            }
        }
        Dist::Empirical { samples } => Dist::Empirical {
            samples: vec![x; samples.len()],
        },
    }
}

fn ends_of(d: &Dist) -> (f64, f64) {
    (d.quantile(END_QUANTILE), d.quantile(1.0 - END_QUANTILE))
}

/// Every uncertain input of `m`, in the model's order, with its two variants.
fn inputs(m: &Model) -> Vec<Input> {
    let mut out = Vec::new();
    let mut quantity = |name: String, scope: Scope, d: &Dist, set: &dyn Fn(&mut Model, Dist)| {
        if d.is_fixed() {
            return;
        }
        // The ends as the engine uses them: calls are at least 1 and within
        // `max_calls`, tokens within their `max_*_tokens`.
        let clip = |x: f64| match name.as_str() {
            "interaction.calls" => x.max(1.0).min(m.max_calls.unwrap_or(f64::INFINITY)),
            "interaction.input_tokens" => x.min(m.max_input_tokens.unwrap_or(f64::INFINITY)),
            "interaction.output_tokens" => x.min(m.max_output_tokens.unwrap_or(f64::INFINITY)),
            _ => x,
        };
        let (lo, hi) = ends_of(d);
        let (lo, hi) = (clip(lo), clip(hi));
        let (mut low, mut high) = (m.clone(), m.clone());
        set(&mut low, pinned(d, lo));
        set(&mut high, pinned(d, hi));
        out.push(Input {
            name,
            kind: InputKind::Quantity,
            scope,
            ends: (lo, hi),
            low,
            high,
        });
    };
    quantity("interaction.calls".into(), Scope::Tables, &m.calls, &|x, d| x.calls = d);
    quantity(
        "interaction.input_tokens".into(),
        Scope::Tables,
        &m.input_tokens,
        &|x, d| x.input_tokens = d,
    );
    quantity(
        "interaction.output_tokens".into(),
        Scope::Tables,
        &m.output_tokens,
        &|x, d| x.output_tokens = d,
    );
    quantity(
        "interaction.cached_input_share".into(),
        Scope::Trial,
        &m.cached_share,
        &|x, d| x.cached_share = d,
    );
    quantity("usage.active_share".into(), Scope::Trial, &m.active_share, &|x, d| {
        x.active_share = d
    });
    quantity(
        "usage.interactions_per_active_day".into(),
        Scope::Tables,
        &m.interactions,
        &|x, d| x.interactions = d,
    );
    for (ti, t) in m.tiers.iter().enumerate() {
        let tier = &t.name;
        match &t.customers {
            Customers::Users(d) => quantity(format!("tiers.{tier}.users"), Scope::Trial, d, &|x, d| {
                x.tiers[ti].customers = Customers::Users(d)
            }),
            Customers::Tenants {
                tenants,
                users_per_tenant,
            } => {
                quantity(format!("tiers.{tier}.tenants"), Scope::Trial, tenants, &|x, d| {
                    if let Customers::Tenants { tenants, .. } = &mut x.tiers[ti].customers {
                        *tenants = d;
                    }
                });
                quantity(
                    format!("tiers.{tier}.users_per_tenant"),
                    Scope::Trial,
                    users_per_tenant,
                    &|x, d| {
                        if let Customers::Tenants { users_per_tenant, .. } = &mut x.tiers[ti].customers {
                            *users_per_tenant = d;
                        }
                    },
                );
            }
        }
        for (k, a) in t.accounts.iter().enumerate() {
            quantity(
                format!("tiers.{tier}.accounts.{}.users", a.name),
                Scope::Trial,
                &a.users,
                &|x, d| x.tiers[ti].accounts[k].users = d,
            );
        }
        if let Some(d) = t.budget.as_ref().and_then(|b| b.drawn.as_ref()) {
            quantity(
                format!("tiers.{tier}.tenant_budget.monthly_usd"),
                Scope::Trial,
                d,
                &|x, d| {
                    if let Some(b) = x.tiers[ti].budget.as_mut() {
                        b.drawn = Some(d);
                    }
                },
            );
        }
        if let Some(u) = t.top_up() {
            quantity(
                format!("tiers.{tier}.limit.top_up.uptake"),
                Scope::Trial,
                &u.uptake,
                &|x, d| {
                    if let Some(u) = x.tiers[ti].cap.as_mut().and_then(|c| c.top_up.as_mut()) {
                        u.uptake = d;
                    }
                },
            );
        }
    }
    for (si, s) in m.scenarios.iter().enumerate() {
        let (mut low, mut high) = (m.clone(), m.clone());
        low.scenarios[si].chance = 0.0;
        high.scenarios[si].chance = 1.0;
        out.push(Input {
            name: format!("scenarios.{}.chance", s.name),
            kind: InputKind::ScenarioChance,
            scope: Scope::Trial,
            ends: (0.0, 1.0),
            low,
            high,
        });
    }
    for (pi, p) in m.prices.iter().enumerate() {
        let scaled = |k: f64| {
            let mut x = m.clone();
            let q = &mut x.prices[pi];
            q.input_usd_per_mtok *= k;
            q.output_usd_per_mtok *= k;
            q.cached_input_usd_per_mtok = q.cached_input_usd_per_mtok.map(|v| v * k);
            q.cache_write_usd_per_mtok = q.cache_write_usd_per_mtok.map(|v| v * k);
            if let Some(lc) = q.above.as_mut() {
                lc.input_usd_per_mtok *= k;
                lc.output_usd_per_mtok *= k;
                lc.cached_input_usd_per_mtok = lc.cached_input_usd_per_mtok.map(|v| v * k);
            }
            x
        };
        if p.input_usd_per_mtok == 0.0 && p.output_usd_per_mtok == 0.0 {
            continue;
        }
        out.push(Input {
            name: format!("models.{}.prices", p.id),
            kind: InputKind::ModelPrice,
            scope: Scope::Prices(pi),
            ends: PRICE_ENDS,
            low: scaled(PRICE_ENDS.0),
            high: scaled(PRICE_ENDS.1),
        });
    }
    out
}

/// How many batches [`simulate`] works on at once (each holds the tables
/// of every set of engines).
const BATCHES_AT_ONCE: usize = 4;

/// Where the demand tables of a set of engines come from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source<'m> {
    /// Drawn for the base model.
    Base,
    /// Drawn for this model (its calls, tokens or interactions differ).
    Own(&'m Model),
    /// The base model's, with model `.0`'s costs multiplied by `.1`
    /// ([`priced_at`]).
    Priced(usize, f64),
}

/// The engines of one model, one per batch, on the tables of `source`.
#[derive(Clone, Copy, Debug)]
struct Set<'m> {
    model: &'m Model,
    source: Source<'m>,
}

/// One simulation of the analysis: the set of engines it runs on, and the
/// model its trials draw their shared quantities from (the set's own, or
/// the base with one of them pinned).
#[derive(Clone, Copy, Debug)]
struct Run<'m> {
    set: usize,
    draw: &'m Model,
}

/// Each trial's (cost, revenue) in each of `runs` (on `sets`, whose tables
/// are drawn as [`super::months`] draws `base`'s), trial `i` on its own
/// stream as [`super::simulate`] runs it: a run's column is what its set's
/// model gives, drawing as its `draw`, byte for byte.
///
/// A few batches at a time ([`BATCHES_AT_ONCE`], each with the tables of
/// every set: the memory held grows with the number of sets, not of
/// batches), their trials in parallel, and trial by trial every run
/// together:
/// - a run on the first run's set whose trial draws what the first run's
///   did (the same draw, the random stream at the same place: a scenario's
///   chance that changed nothing this trial) has its month;
/// - the first run's month writes its noise's normal numbers on a tape,
///   and every other run whose noise starts where the first's did reads
///   them back ([`month::Noise`]): the same numbers, not drawn again.
fn simulate<'m>(
    base: &'m Model,
    sets: &[Set<'m>],
    runs: &[Run],
    opts: &Options,
    batches: &Batches,
) -> Vec<Vec<(f64, f64)>> {
    // Every set's engine of batch `b`, built like `like` (the first
    // batch's: what does not depend on the tables is worked out once).
    let engines = |b: usize, like: Option<&[Engine]>| -> Vec<Engine> {
        let seed = super::batch_seed(opts, b);
        // The base's tables and those of the sets whose tables are
        // assembled alike (only calls or tokens differ) in one walk; the
        // others each by itself.
        let walk_alike = |s: &Set<'m>| -> Option<&'m Model> {
            match s.source {
                Source::Own(m) if Demand::alike(base, m) => Some(m),
                _ => None,
            }
        };
        let mut models = vec![base];
        models.extend(sets.iter().filter_map(walk_alike));
        let mut alike = Demand::sampled_alike(&models, BATCH_CLASS_SAMPLES, seed).into_iter();
        let drawn = alike.next().expect("the base's tables");
        let own: Vec<Option<Demand>> = sets
            .par_iter()
            .map(|s| match s.source {
                Source::Own(m) if walk_alike(s).is_none() => Some(Demand::sampled(m, BATCH_CLASS_SAMPLES, seed)),
                Source::Priced(pi, k) => Some(priced_at(&drawn, pi, k)),
                Source::Own(_) | Source::Base => None,
            })
            .collect();
        let mut drawn = Some(drawn);
        sets.iter()
            .zip(own)
            .enumerate()
            .map(|(k, (s, d))| {
                let d = match (d, s.source) {
                    (Some(d), _) => d,
                    (None, Source::Own(_)) => alike.next().expect("a table per set walked alike"),
                    (None, _) => drawn.take().expect("one set on the base's tables"),
                };
                Engine::owning(s.model, d, seed, like.map(|l| &l[k]))
            })
            .collect()
    };
    let first = engines(0, None);
    // Each trial's figures in every run.
    // The first run's draw and figures are kept, and its tape starts
    // where its draw left the stream.
    let trial = |es: &[Engine], tape: &mut month::Tape, i: usize| -> Vec<(f64, f64)> {
        let start = stream(opts.seed, i as u64);
        let mut first: Option<(Draw, (f64, f64))> = None;
        runs.iter()
            .map(|r| {
                let engine = &es[r.set];
                let mut rng = start.clone();
                let draw = engine.draw_as(r.draw, &mut rng);
                if let Some((d, x)) = &first
                    && r.set == runs[0].set
                    && *d == draw
                    && tape.starts_at(&rng)
                {
                    return *x;
                }
                let noise = if first.is_none() {
                    month::Noise::record(&mut rng, tape)
                } else {
                    month::Noise::replay(&mut rng, tape)
                };
                let m = engine.month_in(&draw, Some(noise));
                let x = (m.cost, m.revenue);
                if first.is_none() {
                    first = Some((draw, x));
                }
                x
            })
            .collect()
    };
    let mut per_trial: Vec<Vec<(f64, f64)>> = Vec::with_capacity(batches.trials);
    for wave in (0..batches.count).step_by(BATCHES_AT_ONCE) {
        let rows: Vec<Vec<Vec<(f64, f64)>>> = (wave..(wave + BATCHES_AT_ONCE).min(batches.count))
            .into_par_iter()
            .map(|b| {
                let built;
                let es = if b == 0 {
                    &first
                } else {
                    built = engines(b, Some(&first));
                    &built
                };
                batches
                    .trials_of(b)
                    .into_par_iter()
                    .map_init(month::Tape::default, |tape, i| trial(es, tape, i))
                    .collect()
            })
            .collect();
        per_trial.extend(rows.into_iter().flatten());
    }
    // One column per run, in trial order.
    (0..runs.len())
        .map(|k| per_trial.iter().map(|t| t[k]).collect())
        .collect()
}

/// `d` with model `pi`'s costs multiplied by `k`: the tables of every
/// rate of that model multiplied by `k` (a cost is tokens times a rate), on
/// the same draws.
fn priced_at(d: &Demand, pi: usize, k: f64) -> Demand {
    let mut d = d.clone();
    for s in &mut d.classes {
        for x in &mut s.cost[pi] {
            *x = [x[0] * k, x[1] * k, x[2] * k];
        }
    }
    d
}

/// The `q` quantile of the defined values, and the slope of the quantile
/// function there (from the order statistics one binomial standard
/// deviation either side).
fn quantile_and_slope(values: &[f64], q: f64) -> Option<(f64, f64)> {
    let s = Sorted::new(values.iter().copied().filter(|v| !v.is_nan()).collect());
    let n = s.values().len();
    if n == 0 {
        return None;
    }
    let x = s.quantile(q);
    if !x.is_finite() {
        return None;
    }
    let h = (q * (1.0 - q) / n as f64).sqrt().max(1.0 / n as f64);
    let (lo, hi) = ((q - h).max(0.0), (q + h).min(1.0));
    let (a, b) = (s.quantile(lo), s.quantile(hi));
    let slope = if hi > lo && a.is_finite() && b.is_finite() {
        (b - a) / (hi - lo)
    } else {
        0.0
    };
    Some((x, slope))
}

/// The `q` quantile of `var` less that of `base` (paired trials), and its
/// standard error (see the module's documentation).
fn difference(batches: &Batches, base: &[f64], var: &[f64], q: f64) -> (Option<f64>, Option<f64>, Option<f64>) {
    let (Some((qb, sb)), Some((qv, sv))) = (quantile_and_slope(base, q), quantile_and_slope(var, q)) else {
        let v = quantile_and_slope(var, q).map(|x| x.0);
        return (v, None, None);
    };
    let psi: Vec<f64> = base
        .iter()
        .zip(var)
        .map(|(b, v)| {
            if b.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                sv * f64::from(u8::from(*v <= qv)) - sb * f64::from(u8::from(*b <= qb))
            }
        })
        .collect();
    let se = batches.mean_se(&psi);
    (Some(qv), Some(qv - qb), se.is_finite().then_some(se))
}

fn end(value: f64, batches: &Batches, base: &[(f64, f64)], var: &[(f64, f64)], q: f64) -> End {
    let cost = |x: &[(f64, f64)]| x.iter().map(|t| t.0).collect::<Vec<f64>>();
    let ratios = |x: &[(f64, f64)]| x.iter().map(|t| ratio(t.0, t.1)).collect::<Vec<f64>>();
    let (c, dc, dc_se) = difference(batches, &cost(base), &cost(var), q);
    let (r, dr, dr_se) = difference(batches, &ratios(base), &ratios(var), q);
    End {
        value,
        cost_usd: c,
        cost_change_usd: dc,
        cost_change_se_usd: dc_se,
        cost_revenue_ratio: r,
        ratio_change: dr,
        ratio_change_se: dr_se,
    }
}

/// The simulations the analysis of `model` runs, about: the base run, and
/// two per uncertain input (what the work limit of an analysis counts).
pub fn runs(model: &Model) -> usize {
    1 + 2 * inputs(model).len()
}

/// The sensitivity of `model`'s month to each of its uncertain inputs, with
/// the base run of `opts` (its seed, trials, threads and confidence).
pub fn analyse(model: &Model, opts: &Options) -> Sensitivity {
    super::in_pool(opts, || analyse_here(model, opts))
}

/// The simulations of the analysis of `model` with its inputs `list`: the
/// base run first, then each input's low and high end; and the sets of
/// engines they run on.
fn plan<'m>(model: &'m Model, list: &'m [Input]) -> (Vec<Set<'m>>, Vec<Run<'m>>) {
    let mut sets = vec![Set {
        model,
        source: Source::Base,
    }];
    let mut runs = vec![Run { set: 0, draw: model }];
    for i in list {
        for (end, k) in [(&i.low, i.ends.0), (&i.high, i.ends.1)] {
            let source = match i.scope {
                // Only the trials' shared draws differ: the base engines.
                Scope::Trial => {
                    runs.push(Run { set: 0, draw: end });
                    continue;
                }
                Scope::Tables => Source::Own(end),
                Scope::Prices(pi) => Source::Priced(pi, k),
            };
            runs.push(Run {
                set: sets.len(),
                draw: end,
            });
            sets.push(Set { model: end, source });
        }
    }
    (sets, runs)
}

fn analyse_here(model: &Model, opts: &Options) -> Sensitivity {
    let q = opts.confidence;
    let batches = Batches::new(opts.trials.max(1));
    let list = inputs(model);
    let (sets, runs) = plan(model, &list);
    let columns = simulate(model, &sets, &runs, opts, &batches);
    let base = &columns[0];
    let mut effects = Vec::with_capacity(list.len());
    for (n, i) in list.iter().enumerate() {
        let low = end(i.ends.0, &batches, base, &columns[1 + 2 * n], q);
        let high = end(i.ends.1, &batches, base, &columns[2 + 2 * n], q);
        let swing = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        effects.push(InputEffect {
            input: i.name.clone(),
            kind: i.kind,
            cost_swing_usd: swing(low.cost_usd, high.cost_usd).unwrap_or(0.0),
            ratio_swing: swing(low.cost_revenue_ratio, high.cost_revenue_ratio),
            low,
            high,
        });
    }
    effects.sort_by(|a, b| {
        b.cost_swing_usd
            .abs()
            .total_cmp(&a.cost_swing_usd.abs())
            .then_with(|| {
                b.ratio_swing
                    .unwrap_or(0.0)
                    .abs()
                    .total_cmp(&a.ratio_swing.unwrap_or(0.0).abs())
            })
            .then_with(|| a.input.cmp(&b.input))
    });
    let costs: Vec<f64> = base.iter().map(|t| t.0).collect();
    let ratios: Vec<f64> = base.iter().map(|t| ratio(t.0, t.1)).collect();
    Sensitivity {
        confidence: q,
        trials: batches.trials,
        seed: opts.seed,
        base_cost_usd: quantile_and_slope(&costs, q).map(|x| x.0),
        base_cost_revenue_ratio: quantile_and_slope(&ratios, q).map(|x| x.0),
        inputs: effects,
    }
}

impl InputEffect {
    /// A value of this input, formatted as the reports show it: a share or
    /// a chance as a percentage, a budget in dollars, prices as their
    /// multiplier, a count or a number of tokens as a number.
    pub fn shown(&self, v: f64) -> String {
        match self.kind {
            InputKind::ScenarioChance => crate::fmt::pct(v),
            InputKind::ModelPrice => format!("x{v}"),
            InputKind::Quantity if self.input.ends_with("share") || self.input.ends_with("uptake") => {
                crate::fmt::pct(v)
            }
            InputKind::Quantity if self.input.ends_with("monthly_usd") => crate::fmt::usd(v),
            InputKind::Quantity => crate::fmt::count(v),
        }
    }

    /// `input (low -> high: +$change)`: the ends and how far the cost (or,
    /// with `ratio`, the cost/revenue ratio) moves between them.
    pub fn phrase(&self, ratio: bool) -> String {
        let change = if ratio {
            self.ratio_swing
                .map_or("n/a".into(), |d| format!("{:+.1} points", d * 100.0))
        } else {
            crate::fmt::signed_usd(self.cost_swing_usd)
        };
        format!(
            "{} ({} -> {}: {change})",
            self.input,
            self.shown(self.low.value),
            self.shown(self.high.value)
        )
    }
}

impl Sensitivity {
    /// The sentence a finding's help gives: the two inputs that move the
    /// month's cost (or, with `ratio`, its cost/revenue) most. `None`
    /// when no input moves it.
    pub fn drivers(&self, ratio: bool) -> Option<String> {
        let top = if ratio {
            self.top_for_ratio(2)
        } else {
            self.top_for_cost(2)
        };
        let label = crate::fmt::quantile_label(self.confidence);
        let what = if ratio {
            format!("cost/revenue at {label}")
        } else {
            format!("{label} month")
        };
        let names: Vec<String> = top.iter().map(|i| i.phrase(ratio)).collect();
        match names.as_slice() {
            [] => None,
            [a] => Some(format!("{what} is most sensitive to {a}.")),
            [a, b, ..] => Some(format!("{what} is most sensitive to {a} and {b}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_difference_standard_error_matches_its_spread_over_repeats() {
        // Paired trials: the base x ~ N(0, 1), the variant x + 0.3 + 0.5 z
        // (z ~ N(0, 1) independent): the p95 of each, and their difference,
        // over n = 2,000 trials in 32 batches, repeated 300 times. The
        // reported standard error must average the spread of the
        // difference within 15% (the spread over 300 repeats is itself
        // known to ~4%; the batch estimate of each SE has 31 degrees of
        // freedom, ~13% each, ~0.7% on the average).
        let n = 2000;
        let b = Batches::new(n);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let (mut diffs, mut ses) = (Vec::new(), Vec::new());
        for _ in 0..300 {
            let base: Vec<f64> = (0..n)
                .map(|_| crate::dist::norm_inv(crate::dist::open01(&mut rng)))
                .collect();
            let var: Vec<f64> = base
                .iter()
                .map(|x| x + 0.3 + 0.5 * crate::dist::norm_inv(crate::dist::open01(&mut rng)))
                .collect();
            let (_, d, se) = difference(&b, &base, &var, 0.95);
            diffs.push(d.unwrap());
            ses.push(se.unwrap());
        }
        let k = diffs.len() as f64;
        let m = diffs.iter().sum::<f64>() / k;
        let sd = (diffs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        let se = ses.iter().sum::<f64>() / k;
        assert!((se / sd - 1.0).abs() < 0.15, "reported {se} vs spread {sd}");
        // the true difference: p95 of N(0.3, 1.25) less p95 of N(0, 1)
        let want = 0.3 + crate::dist::Z95 * (1.25f64.sqrt() - 1.0);
        assert!((m - want).abs() < 4.0 * sd / k.sqrt() + 0.01, "mean {m} vs {want}");
        // identical runs: no difference and no error
        let base: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let (_, d, se) = difference(&b, &base, &base, 0.95);
        assert_eq!((d, se), (Some(0.0), Some(0.0)));
    }

    fn example() -> Model {
        load(
            "tiered-assistant.yaml",
            include_str!("../../specs/tiered-assistant.yaml"),
        )
    }

    fn load(name: &str, yaml: &str) -> Model {
        let spec = crate::spec::load_str(name, yaml).unwrap_or_else(|p| panic!("{p:?}"));
        let priced = crate::pricing::resolve(&spec, &crate::pricing::builtin()).unwrap();
        Model::new(&spec, &priced, 0.999)
    }

    /// What a run gives computed the plain way, as the analysis did before
    /// it worked its runs out together: every batch's tables drawn for the
    /// set (or scaled from the base's), the set's engines on them, and each
    /// trial's month drawn as `draw` with its noise drawn afresh.
    fn reference(base: &Model, s: Set, draw: &Model, opts: &Options) -> Vec<(f64, f64)> {
        let batches = Batches::new(opts.trials);
        let seed = |b: usize| crate::sim::batch_seed(opts, b);
        let demand: Vec<Demand> = (0..batches.count)
            .map(|b| match s.source {
                Source::Base => Demand::sampled(base, BATCH_CLASS_SAMPLES, seed(b)),
                Source::Own(v) => Demand::sampled(v, BATCH_CLASS_SAMPLES, seed(b)),
                Source::Priced(pi, k) => priced_at(&Demand::sampled(base, BATCH_CLASS_SAMPLES, seed(b)), pi, k),
            })
            .collect();
        let first = Engine::on_tables(s.model, &demand[0], seed(0));
        let rest: Vec<Engine> = (1..batches.count)
            .map(|b| Engine::on_tables_like(s.model, &demand[b], seed(b), &first))
            .collect();
        let engines: Vec<&Engine> = std::iter::once(&first).chain(&rest).collect();
        (0..batches.trials)
            .map(|i| {
                let e = engines[batches.of(i)];
                let mut rng = stream(opts.seed, i as u64);
                let d = e.draw_as(draw, &mut rng);
                let m = e.month(&d, Some(&mut rng));
                (m.cost, m.revenue)
            })
            .collect()
    }

    /// One run by itself: `model` drawing as `draw`, on `source`'s tables.
    fn alone(base: &Model, model: &Model, source: Source, draw: &Model, opts: &Options) -> Vec<(f64, f64)> {
        let batches = Batches::new(opts.trials);
        simulate(base, &[Set { model, source }], &[Run { set: 0, draw }], opts, &batches).swap_remove(0)
    }

    fn bits(x: &[(f64, f64)]) -> Vec<(u64, u64)> {
        x.iter().map(|(a, b)| (a.to_bits(), b.to_bits())).collect()
    }

    #[test]
    fn a_price_variant_on_scaled_tables_is_the_run_on_tables_drawn_at_that_price() {
        // Prices enter the tables linearly: each trial's month on the base
        // tables with one model's costs scaled is the month on tables drawn
        // afresh at the scaled prices, to rounding (the order of a product
        // and a sum), for every model and both ends.
        let m = example();
        let opts = Options {
            trials: 64,
            threads: Some(2),
            ..Options::default()
        };
        let base = alone(&m, &m, Source::Base, &m, &opts);
        let mut seen = 0;
        for i in inputs(&m) {
            let Scope::Prices(pi) = i.scope else { continue };
            seen += 1;
            for (k, v) in [(i.ends.0, &i.low), (i.ends.1, &i.high)] {
                let on_scaled = alone(&m, v, Source::Priced(pi, k), v, &opts);
                let fresh = alone(&m, v, Source::Own(v), v, &opts);
                let mut moved = false;
                for ((a, b), c) in on_scaled.iter().zip(&fresh).zip(&base) {
                    assert!(
                        (a.0 - b.0).abs() <= 1e-9 * b.0.abs().max(1.0),
                        "{} x{k}: {a:?} vs {b:?}",
                        i.name
                    );
                    assert!(
                        (a.1 - b.1).abs() <= 1e-9 * b.1.abs().max(1.0),
                        "{} x{k}: {a:?} vs {b:?}",
                        i.name
                    );
                    moved |= (a.0 - c.0).abs() > 1e-6 * c.0.abs();
                }
                assert!(moved, "{} x{k} moves the month", i.name);
            }
        }
        assert_eq!(seen, 2, "both of the example's models are priced inputs");
    }

    #[test]
    fn every_run_worked_out_together_is_the_run_alone_byte_for_byte() {
        // The analysis works every run out together, a few batches at a
        // time: the tables alike walked once, a trial's noise read from the
        // first run's tape, a month the first run has reused. Each run's
        // column must be what the plain way gives it (`reference`), and a
        // run on its own tables what its model's own months give
        // (`sim::months`), to the bit; each end of each input in its place.
        // The tiered example has every kind of input (tables walked alike
        // and not, prices, trial draws, scenarios' chances); the thread's
        // tiers have a user breaker, whose draws end a tape.
        let cases = [
            (example(), 48, true),
            (
                load(
                    "tiers-from-the-thread.yaml",
                    include_str!("../../specs/tiers-from-the-thread.yaml"),
                ),
                64,
                false,
            ),
        ];
        for (m, trials, every_kind) in &cases {
            let opts = Options {
                trials: *trials,
                threads: Some(2),
                ..Options::default()
            };
            let list = inputs(m);
            let (sets, runs) = plan(m, &list);
            assert_eq!(runs.len(), 1 + 2 * list.len());
            for (n, i) in list.iter().enumerate() {
                assert!(std::ptr::eq(runs[1 + 2 * n].draw, &i.low), "{}", i.name);
                assert!(std::ptr::eq(runs[2 + 2 * n].draw, &i.high), "{}", i.name);
            }
            let kinds: std::collections::BTreeSet<&str> = runs
                .iter()
                .map(|r| match sets[r.set].source {
                    Source::Base => "trial draws",
                    Source::Own(v) if Demand::alike(m, v) => "tables walked alike",
                    Source::Own(_) => "tables of their own",
                    Source::Priced(..) => "prices",
                })
                .collect();
            assert!(!*every_kind || kinds.len() == 4, "{kinds:?}");
            assert!(*every_kind || m.breaker_at(crate::spec::BreakerLevel::User).is_some());
            let together = simulate(m, &sets, &runs, &opts, &Batches::new(opts.trials));
            for (k, r) in runs.iter().enumerate() {
                let s = sets[r.set];
                let plain = reference(m, s, r.draw, &opts);
                assert_eq!(bits(&together[k]), bits(&plain), "run {k}");
                if let Source::Own(v) = s.source {
                    let own: Vec<(f64, f64)> = crate::sim::months(v, &opts)
                        .iter()
                        .map(|x| (x.cost, x.revenue))
                        .collect();
                    assert_eq!(bits(&together[k]), bits(&own), "run {k} and its model's own months");
                }
            }
        }
    }

    #[test]
    fn a_pinned_quantity_takes_the_same_random_numbers() {
        // Each form pinned draws its one value and leaves the stream where
        // the original leaves it.
        let forms = [
            Dist::LogNormal {
                p50: 3.0,
                p95: 9.0,
                min: None,
                max: Some(20.0),
            },
            Dist::Triangular {
                low: 1.0,
                mode: 2.0,
                high: 5.0,
            },
            Dist::Normal {
                mean: 5.0,
                sd: 1.0,
                min: 0.0,
                max: 9.0,
            },
            Dist::Pert {
                low: 1.0,
                mode: 2.0,
                high: 5.0,
            },
            Dist::Empirical {
                samples: vec![1.0, 2.0, 4.0],
            },
        ];
        for d in forms {
            let p = pinned(&d, 4.5);
            let (mut a, mut b) = (stream(3, 1), stream(3, 1));
            for _ in 0..200 {
                d.sample(&mut a);
                let x = p.sample(&mut b);
                assert!((x - 4.5).abs() < 1e-6, "{d:?}: {x}");
                assert_eq!(a.next_u64(), b.next_u64(), "{d:?}");
            }
        }
    }

    #[test]
    fn a_scenario_at_either_end_takes_the_base_draws_words_and_keeps_its_start_uniform() {
        // The example's viral scenario (chance 0.1, 3 days: 28 possible
        // starting days) and runaway loop (chance 0.02, a start anywhere in
        // the first 720 - 6 hours), each at chance 1 and at chance 0, drawn
        // as the engine of the example draws: every trial leaves the stream
        // where the example's own draw leaves it (so the months replay its
        // noise), the event happens every month or never, where the example
        // has it too it starts when the example's does, and where only the
        // variant has it its start is uniform: for the viral days a
        // chi-square over the 28 days below its 0.1% point (27 degrees of
        // freedom: 55.5), for the loop the mean hour within four standard
        // errors of the middle (uniform: sd = range / sqrt(12)).
        let m = example();
        let e = Engine::central(&m);
        let n = 20_000;
        for (si, slots) in [(0usize, Some(28usize)), (2, None)] {
            assert!(m.scenarios[si].chance < 0.2);
            for at in [0.0, 1.0] {
                let mut v = m.clone();
                v.scenarios[si].chance = at;
                let (mut counts, mut hours) = (vec![0usize; slots.unwrap_or(1)], Vec::new());
                for i in 0..n {
                    let (mut a, mut b) = (stream(5, i), stream(5, i));
                    let own = e.draw(&mut a);
                    let d = e.draw_as(&v, &mut b);
                    assert!(a == b, "trial {i}: the stream moved on differently");
                    let find = |x: &Draw| x.events.iter().find(|ev| ev.scenario == si).map(|ev| ev.start_hour);
                    let others = |x: &Draw| {
                        x.events
                            .iter()
                            .filter(|ev| ev.scenario != si)
                            .map(|ev| (ev.scenario, ev.start_hour.to_bits()))
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(others(&own), others(&d), "trial {i}: another scenario changed");
                    match (find(&own), find(&d)) {
                        (_, None) => assert_eq!(at, 0.0, "trial {i}: no event at chance 1"),
                        (Some(x), Some(y)) => assert_eq!(x, y, "trial {i}"),
                        (None, Some(h)) => {
                            assert_eq!(at, 1.0, "trial {i}: an event at chance 0");
                            match slots {
                                Some(_) => counts[(h / 24.0) as usize] += 1,
                                None => hours.push(h),
                            }
                        }
                    }
                    assert_eq!(at == 1.0, find(&d).is_some());
                }
                if at == 0.0 {
                    continue;
                }
                if let Some(k) = slots {
                    let total: usize = counts.iter().sum();
                    let want = total as f64 / k as f64;
                    let chi2: f64 = counts.iter().map(|&c| (c as f64 - want).powi(2) / want).sum();
                    assert!(total > n as usize * 8 / 10, "{total}");
                    assert!(
                        chi2 < 55.5,
                        "viral starts not uniform over the days: chi2 {chi2}, {counts:?}"
                    );
                } else {
                    let range = 30.0 * 24.0 - 6.0;
                    let k = hours.len() as f64;
                    let mean = hours.iter().sum::<f64>() / k;
                    let se = range / 12f64.sqrt() / k.sqrt();
                    assert!(hours.iter().all(|h| (0.0..range).contains(h)));
                    assert!(
                        (mean - range / 2.0).abs() < 4.0 * se,
                        "loop start mean {mean} vs {}",
                        range / 2.0
                    );
                }
            }
        }
    }
}
