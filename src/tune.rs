//! `costgate tune`: the most generous caps that pass the policy, and each
//! tier's frontier (cap → the month at confidence, cost/revenue, users
//! affected, unserved demand).
//!
//! Every candidate is simulated with the same seed and trials as the spec
//! itself (common random numbers): two candidates see the same months, so
//! their difference is far more precise than either figure, and each
//! tier's frontier is monotone in its cap.
//!
//! The search does not simulate the cross product of tiers × candidates.
//! Each tier's candidates are simulated with the other tiers at the spec's
//! caps (tiers × candidates simulations); the month of any combination is
//! then the spec's month with each tier's own cost and revenue replaced,
//! trial by trial. That is exact when the tiers' months add up
//! independently, which the search checks: if changing one tier's cap
//! changes another tier's month in any trial (a feature or global breaker,
//! or a shared budget couples them), the tiers are *coupled*, and every
//! step of the search is simulated as a whole instead.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::check::Loaded;
use crate::economics::{Model, worst_case};
use crate::policy::rules::Verdict;
use crate::policy::{Policy, Thresholds};
use crate::sim::month::Month;
use crate::sim::{self, Options as SimOptions, Sorted};
use crate::spec::{OnLimit, Spec};

/// What the search optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Pass the policy while blocking or degrading the fewest paying users
    /// (the default).
    Paying,
    /// The cheapest caps that pass, each tier still serving all but the
    /// policy's `max_unserved_share` of its demand.
    Cost,
    /// The fewest users hitting a cap with the month at confidence under
    /// a target.
    Users,
}

/// Which limits a search varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vary {
    /// Each tier's token cap (`limit.daily_tokens`, else `monthly_tokens`).
    pub caps: bool,
    /// Each tier's blocking tenant budget (`tenant_budget.monthly_usd` with
    /// `on_limit: block`; a budget that only notifies cuts nothing).
    pub budgets: bool,
    /// Each breaker's limit (`breakers.*.limit`, unless it only notifies).
    pub breakers: bool,
    /// What each tier's cap does past it (`limit.on_limit`: block, throttle,
    /// shrink, or fall back to another of the spec's models), at the
    /// recommended caps ([`Graceful`]). Off by default.
    pub on_limit: bool,
}

impl Default for Vary {
    fn default() -> Self {
        Vary {
            caps: true,
            budgets: true,
            breakers: true,
            on_limit: false,
        }
    }
}

/// A limit the search varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Knob {
    /// Tier `i`'s token cap.
    Cap(usize),
    /// Tier `i`'s tenant budget, USD a month.
    Budget(usize),
    /// A breaker's limit, USD a day.
    Breaker(crate::spec::BreakerLevel),
}

impl Knob {
    /// The tier whose month alone it moves when the tiers are independent
    /// (`None`: a breaker, which sees every tier's spend).
    fn tier(self) -> Option<usize> {
        match self {
            Knob::Cap(t) | Knob::Budget(t) => Some(t),
            Knob::Breaker(_) => None,
        }
    }
}

/// How to tune.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which limits to vary.
    pub vary: Vary,
    /// What to optimise.
    pub objective: Objective,
    /// Only these tiers (by name); empty: every tier with a cap.
    pub tiers: Vec<String>,
    /// Candidate caps per tier (at least 2).
    pub candidates: usize,
    /// With [`Objective::Users`]: the month at confidence may not pass this.
    pub max_p95_usd: Option<f64>,
    /// The simulation (seed, trials, threads).
    pub sim: SimOptions,
    /// The date the policy's rules are judged on (`--vary on-limit` checks
    /// each way's spec in full).
    pub today: jiff::civil::Date,
}

/// Default candidates per tier.
pub const DEFAULT_CANDIDATES: usize = 32;

/// Specs simulated together at most (`sim::Prepared::together`): more share
/// more work, and hold more figures and engines at once.
const TOGETHER: usize = 40;

/// The memory the kept figures of the specs simulated together may take.
const TOGETHER_BYTES: usize = 128 << 20;

/// How many candidates of `model` are simulated together at `trials`
/// trials: [`TOGETHER`], fewer when their kept figures ([`Row`], per trial)
/// would pass [`TOGETHER_BYTES`]. A spec with a monthly cap or top-ups keeps
/// a panel of simulated users per such tier and engine (about 1.5 MB in
/// each of the 32 batches): its candidates are simulated one at a time, as
/// plain simulations are, so that memory stays what one simulation takes.
fn together(model: &Model, trials: usize) -> usize {
    let panels = model.tiers.iter().any(|t| {
        t.cap
            .as_ref()
            .is_some_and(|c| c.monthly_tokens.is_some() || c.top_up.is_some())
    });
    if panels {
        return 1;
    }
    let row =
        std::mem::size_of::<Row>() + std::mem::size_of::<[f64; 8]>() * model.tiers.len().saturating_sub(INLINE_TIERS);
    (TOGETHER_BYTES / (trials.max(1) * row)).clamp(1, TOGETHER)
}

/// One candidate value of one limit, the other limits at the spec's values.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// The limit's value (a cap in tokens; a budget or a breaker's limit
    /// in USD: see [`Frontier::unit`]).
    pub cap: f64,
    /// The feature's month at the policy's confidence, USD.
    pub cost_at_confidence: f64,
    /// The feature's cost/revenue at confidence.
    pub ratio_at_confidence: f64,
    /// The worst-case month, USD (`None`: unbounded).
    pub worst_case_usd: Option<f64>,
    /// Share of the tier's users who hit a cap in a month (mean; every
    /// tier's, for a breaker).
    pub users_hit_share: f64,
    /// Share of the tier's active user-days blocked or degraded (mean).
    pub user_days_affected_share: f64,
    /// Share of the tier's demand not served (mean; every tier's, for a
    /// breaker).
    pub unserved_share: f64,
}

/// One limit's frontier.
#[derive(Clone, Debug, Serialize)]
pub struct Frontier {
    /// The tier (`all tiers` for a breaker).
    pub tier: String,
    /// The field varied (`tiers[1].limit.daily_tokens`,
    /// `tiers[2].tenant_budget.monthly_usd`, `breakers.feature_daily_usd.limit`).
    pub path: String,
    /// What the limit is: `cap`, `tenant budget` or `breaker`.
    pub kind: &'static str,
    /// Its unit: `tokens` or `usd`.
    pub unit: &'static str,
    /// Its value in the spec.
    pub current: f64,
    /// Whether the tier's users pay (their blocked days count for the
    /// default objective).
    pub paying: bool,
    /// The candidates, lowest cap first.
    pub points: Vec<Point>,
    /// The index of the recommended cap.
    pub chosen: usize,
}

/// A threshold and the figure at the recommendation.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What is compared.
    pub figure: String,
    /// Its value.
    pub value: f64,
    /// The policy's limit.
    pub limit: f64,
    /// Whether it is within.
    pub ok: bool,
}

/// What tuning found.
#[derive(Clone, Debug, Serialize)]
pub struct Tuning {
    /// The feature.
    pub feature: String,
    /// The objective.
    pub objective: Objective,
    /// Trials and seed of every simulation.
    pub trials: usize,
    /// The seed.
    pub seed: u64,
    /// The policy's confidence.
    pub confidence: f64,
    /// Whether the limits' effects do not add up tier by tier (a breaker
    /// varied, two limits of one tier, or one tier's cap changed another's
    /// month): every step of the search is simulated as a whole then.
    pub coupled: bool,
    /// When the search stopped at the work limit of an analysis before it
    /// finished: how far it got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Simulations run.
    pub simulations: usize,
    /// Per tier.
    pub frontiers: Vec<Frontier>,
    /// Whether the recommendation passes the thresholds caps can move.
    pub passes: bool,
    /// The thresholds at the recommendation.
    pub checks: Vec<Check>,
    /// When nothing in the searched range passes: which threshold caps
    /// alone cannot meet, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    /// Limits not varied, and why (a tier with no cap, a budget or a
    /// breaker that only notifies).
    pub not_tuned: Vec<String>,
    /// With `--vary on-limit`: per tier with a cap, what the cap does past
    /// it at the recommended caps, each way evaluated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub on_limit: Vec<Graceful>,
}

/// One way a tier's cap can act past it (`--vary on-limit`), evaluated at
/// the recommended caps (the other tiers at the ways chosen before it).
#[derive(Clone, Debug, Serialize)]
pub struct Way {
    /// `limit.on_limit`.
    pub on_limit: OnLimit,
    /// The model that serves past the cap, with `fallback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_model: Option<String>,
    /// The month at confidence.
    pub cost_at_confidence: f64,
    /// The cost/revenue ratio at confidence.
    pub ratio_at_confidence: f64,
    /// Share of the tier's demand not served (mean).
    pub unserved_share: f64,
    /// Whether every threshold tune moves passes.
    pub thresholds_pass: bool,
    /// The thresholds that fail (`worst-case month`: a cap that no longer
    /// blocks bounds no user's month unless a breaker does).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
    /// The verdict of `costgate check` on the spec with this way (its
    /// rules too: a free tier that does not block is denied by default),
    /// when the thresholds pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The rules that deny or ask for an approval with this way and not
    /// with the spec's (their codes): a way that adds one is not chosen,
    /// even when the spec's verdict is already as bad.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_rules: Vec<String>,
    /// This way is `on_limit: top_up` (block past the top-ups users buy).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub top_up: bool,
    /// Whether it may be chosen: the thresholds pass, the check's verdict
    /// is no worse than with the spec's way, and no rule denies or asks
    /// for an approval that does not with the spec's way.
    pub passes: bool,
}

impl Way {
    /// `block`, `fallback to KEY`, ...
    pub fn label(&self) -> String {
        match &self.fallback_model {
            Some(k) if self.on_limit == OnLimit::Fallback => format!("fallback to {k}"),
            _ if self.top_up => "top_up".to_string(),
            _ => self.on_limit.as_str().to_string(),
        }
    }
}

/// What a tier's cap does past it (`--vary on-limit`): every way the spec
/// can say, evaluated at the recommended caps, and the chosen one: of the
/// ways that pass, the one that leaves the least of the tier's demand
/// unserved (the same users reach the cap whatever it then does: a
/// cheaper model or shorter answers fail more gracefully than a block),
/// then the cheapest; with `--objective cost`, the cheapest.
#[derive(Clone, Debug, Serialize)]
pub struct Graceful {
    /// The tier.
    pub tier: String,
    /// The field (`tiers[1].limit.on_limit`).
    pub path: String,
    /// The way in the spec (an index into `ways`).
    pub current: usize,
    /// Every way.
    pub ways: Vec<Way>,
    /// The chosen way.
    pub chosen: usize,
}

/// The ways tier `ti`'s cap can act past it: block, throttle, shrink (at
/// the spec's `throttle_to` / `shrink_to`, else their defaults), a
/// fallback to each of the spec's other models, and the spec's own way
/// whatever it is (a fallback to the tier's own model). Empty without a
/// cap.
fn ways_of(spec: &Spec, ti: usize) -> Vec<(OnLimit, Option<String>)> {
    let t = &spec.tiers[ti];
    let Some(l) = &t.limit else {
        return Vec::new();
    };
    let mut v = vec![
        (OnLimit::Block, None),
        (OnLimit::Throttle, None),
        (OnLimit::Shrink, None),
    ];
    for m in &spec.models {
        if m.key != t.model {
            v.push((OnLimit::Fallback, Some(m.key.clone())));
        }
    }
    if l.on_limit == OnLimit::Fallback && !v.iter().any(|w| w.0 == OnLimit::Fallback && w.1 == l.fallback_model) {
        v.push((OnLimit::Fallback, l.fallback_model.clone()));
    }
    v
}

/// `spec` with tier `ti`'s cap acting past it as `way`.
fn set_way(spec: &mut Spec, ti: usize, way: &(OnLimit, Option<String>)) {
    if let Some(l) = spec.tiers[ti].limit.as_mut() {
        l.on_limit = way.0;
        if way.0 == OnLimit::Fallback {
            l.fallback_model = way.1.clone();
        }
        if let Some(t) = l.top_up.as_mut()
            && way.0 != OnLimit::Block
        {
            // `on_limit: top_up` stands for block past the top-ups.
            t.on_limit_top_up = false;
        }
    }
}

/// The tiers whose caps `--vary on-limit` varies (with `o`'s `--tier`s).
fn graceful_tiers(spec: &Spec, o: &Options) -> Vec<usize> {
    if !o.vary.on_limit {
        return Vec::new();
    }
    (0..spec.tiers.len())
        .filter(|&ti| o.tiers.is_empty() || o.tiers.contains(&spec.tiers[ti].name))
        .filter(|&ti| !ways_of(spec, ti).is_empty())
        .collect()
}

impl Tuning {
    /// The recommended value per tuned field: (path, current, new).
    pub fn changes(&self) -> Vec<(String, f64, f64)> {
        self.frontiers
            .iter()
            .map(|f| (f.path.clone(), f.current, f.points[f.chosen].cap))
            .collect()
    }

    /// The recommended ways past the caps that differ from the spec's
    /// (`--vary on-limit`): (field path, new value), the fallback model's
    /// field after its `on_limit`.
    pub fn way_changes(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for g in self.on_limit.iter().filter(|g| g.chosen != g.current) {
            let w = &g.ways[g.chosen];
            v.push((g.path.clone(), w.on_limit.as_str().to_string()));
            if let Some(k) = &w.fallback_model {
                let base = g.path.strip_suffix("on_limit").unwrap_or(&g.path);
                v.push((format!("{base}fallback_model"), k.clone()));
            }
        }
        v
    }
}

/// The spec with the recommended values.
pub fn apply(spec: &Spec, t: &Tuning) -> Spec {
    let mut s = spec.clone();
    for f in &t.frontiers {
        set_path(&mut s, &f.path, f.points[f.chosen].cap);
    }
    for g in &t.on_limit {
        if let Some(ti) = s.tiers.iter().position(|x| x.name == g.tier) {
            let w = &g.ways[g.chosen];
            set_way(&mut s, ti, &(w.on_limit, w.fallback_model.clone()));
        }
    }
    s
}

/// The number at `path` in `spec` (the limits tune varies), by its path.
fn num_at<'s>(spec: &'s mut Spec, path: &str) -> Option<&'s mut crate::spec::Num> {
    let b = &mut spec.breakers;
    let breakers = [
        b.user_daily_usd.as_mut(),
        b.tenant_daily_usd.as_mut(),
        b.feature_daily_usd.as_mut(),
        b.global_daily_usd.as_mut(),
    ];
    if let Some(n) = breakers
        .into_iter()
        .flatten()
        .map(|b| &mut b.limit)
        .find(|n| n.path == path)
    {
        return Some(n);
    }
    spec.tiers.iter_mut().find_map(|t| {
        let cap = t
            .limit
            .as_mut()
            .into_iter()
            .flat_map(|l| [l.daily_tokens.as_mut(), l.monthly_tokens.as_mut()])
            .flatten();
        let budget = t.tenant_budget.as_mut().map(|b| &mut b.monthly_usd);
        cap.chain(budget).find(|n| n.path == path)
    })
}

fn set_path(spec: &mut Spec, path: &str, v: f64) {
    if let Some(n) = num_at(spec, path) {
        n.value = v;
    }
}

/// The tokens of one typical interaction: the smallest cap worth trying.
fn one_interaction(spec: &Spec) -> f64 {
    let i = &spec.interaction;
    (i.calls.dist.central().max(1.0)) * (i.input_tokens.dist.central() + i.output_tokens.dist.central())
}

/// `n` caps from `lo` to `hi` on a geometric grid, with `current` among them.
fn grid(lo: f64, hi: f64, n: usize, current: f64) -> Vec<f64> {
    let n = n.max(2);
    let mut v: Vec<f64> = (0..n)
        .map(|k| {
            let x = lo * (hi / lo).powf(k as f64 / (n - 1) as f64);
            // Two significant figures: caps people write.
            let mag = 10f64.powf(x.log10().floor() - 1.0);
            (x / mag).round() * mag
        })
        .collect();
    v.push(current);
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// `n` amounts from `current / 16` to `8 x current` on a geometric grid
/// (two significant figures), with `current` among them.
fn usd_grid(current: f64, n: usize) -> Vec<f64> {
    grid(current / 16.0, current * 8.0, n, current)
}

/// The per-trial figures of one simulation that the search combines.
struct Run {
    cost: Vec<f64>,
    revenue: Vec<f64>,
    /// Per tier, per trial: (cost, revenue).
    tiers: Vec<Vec<(f64, f64)>>,
    /// Per tier, mean over trials: users hit, user-days affected, user-days,
    /// users, unserved tokens, demand tokens.
    effects: Vec<[f64; 6]>,
}

/// What the search reads of one month: its cost and revenue, and per tier
/// its cost, revenue and the six figures of [`Run::effects`] (users hit,
/// user-days affected, user-days, users, unserved and demand tokens).
/// The first [`INLINE_TIERS`] tiers' figures are kept in the row itself
/// (a search keeps millions of rows: an allocation each, made on the
/// workers and freed on one thread, cost more than the rest of a row's
/// keeping), any further ones in `more`.
struct Row {
    cost: f64,
    revenue: f64,
    tiers: usize,
    inline: [[f64; 8]; INLINE_TIERS],
    more: Vec<[f64; 8]>,
}

/// How many tiers' figures a [`Row`] keeps without allocating.
const INLINE_TIERS: usize = 4;

impl Row {
    fn of(m: &Month) -> Row {
        let mut row = Row {
            cost: m.cost,
            revenue: m.revenue,
            tiers: m.tiers.len(),
            inline: [[0.0; 8]; INLINE_TIERS],
            more: Vec::new(),
        };
        for (i, t) in m.tiers.iter().enumerate() {
            let f = [
                t.cost,
                t.revenue(),
                t.users_hit,
                t.blocked_user_days + t.degraded_user_days,
                t.user_days,
                t.users,
                t.unserved_tokens,
                t.demand_tokens,
            ];
            match row.inline.get_mut(i) {
                Some(slot) => *slot = f,
                None => row.more.push(f),
            }
        }
        row
    }

    /// Tier `i`'s figures.
    fn tier(&self, i: usize) -> &[f64; 8] {
        self.inline.get(i).unwrap_or_else(|| &self.more[i - INLINE_TIERS])
    }
}

impl Run {
    /// The runs of the models whose months these rows were kept of (per
    /// trial, in trial order, one row per model), in one pass over them.
    fn of_rows(per_trial: &[Vec<Row>]) -> Vec<Run> {
        let Some(first) = per_trial.first() else {
            return Vec::new();
        };
        let trials = per_trial.len();
        let mut runs: Vec<Run> = first
            .iter()
            .map(|r| Run {
                cost: Vec::with_capacity(trials),
                revenue: Vec::with_capacity(trials),
                tiers: (0..r.tiers).map(|_| Vec::with_capacity(trials)).collect(),
                effects: vec![[0.0; 6]; r.tiers],
            })
            .collect();
        let n = trials as f64;
        for rows in per_trial {
            for (run, r) in runs.iter_mut().zip(rows) {
                run.cost.push(r.cost);
                run.revenue.push(r.revenue);
                for (ti, (t, e)) in run.tiers.iter_mut().zip(&mut run.effects).enumerate() {
                    let f = r.tier(ti);
                    t.push((f[0], f[1]));
                    for (x, v) in e.iter_mut().zip(&f[2..]) {
                        *x += v / n;
                    }
                }
            }
        }
        runs
    }
}

fn share(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn ratio(cost: f64, revenue: f64) -> f64 {
    if revenue > 0.0 {
        cost / revenue
    } else if cost > 0.0 {
        f64::INFINITY
    } else {
        f64::NAN
    }
}

struct Figures {
    cost_at: f64,
    ratio_at: f64,
    worst: Option<f64>,
}

fn figures(cost: &[f64], revenue: &[f64], q: f64, worst: Option<f64>) -> Figures {
    let ratios: Vec<f64> = cost.iter().zip(revenue).map(|(c, r)| ratio(*c, *r)).collect();
    Figures {
        cost_at: Sorted::new(cost.to_vec()).quantile(q),
        ratio_at: Sorted::new(ratios.into_iter().filter(|r| !r.is_nan()).collect()).quantile(q),
        worst,
    }
}

fn checks(f: &Figures, th: &Thresholds, objective: Objective, max_p95: Option<f64>) -> Vec<Check> {
    let mut v = vec![
        Check {
            figure: format!("month at {}", crate::fmt::quantile_label(th.confidence)),
            value: f.cost_at,
            limit: th.p95_monthly_usd,
            ok: f.cost_at <= th.p95_monthly_usd,
        },
        Check {
            figure: format!("cost/revenue at {}", crate::fmt::quantile_label(th.confidence)),
            value: f.ratio_at,
            limit: th.max_cost_revenue_ratio,
            ok: f.ratio_at.is_nan() || f.ratio_at <= th.max_cost_revenue_ratio,
        },
        Check {
            figure: "worst-case month".into(),
            value: f.worst.unwrap_or(f64::INFINITY),
            limit: th.worst_case_monthly_usd,
            ok: f.worst.is_some_and(|w| w <= th.worst_case_monthly_usd),
        },
    ];
    if th.infra_monthly_budget_usd > 0.0 {
        let share = f.cost_at / th.infra_monthly_budget_usd;
        v.push(Check {
            figure: "share of the infrastructure budget".into(),
            value: share,
            limit: th.max_infra_budget_share,
            ok: share <= th.max_infra_budget_share,
        });
    }
    if objective == Objective::Users
        && let Some(m) = max_p95
    {
        v.push(Check {
            figure: "target month at confidence (--max-p95-usd)".into(),
            value: f.cost_at,
            limit: m,
            ok: f.cost_at <= m,
        });
    }
    v
}

/// How far the checks are from passing (0: they pass).
fn violation(cs: &[Check]) -> f64 {
    cs.iter()
        .filter(|c| !c.ok)
        .map(|c| {
            if c.value.is_finite() && c.limit > 0.0 {
                c.value / c.limit - 1.0
            } else {
                1e6
            }
        })
        .sum()
}

/// The limits of `spec` a search with `o` varies: (knob, path, current
/// value, candidates), and what is not varied and why.
#[allow(clippy::type_complexity)]
fn knobs(spec: &Spec, o: &Options) -> (Vec<(Knob, String, f64, Vec<f64>)>, Vec<String>) {
    let mut tuned = Vec::new();
    let mut not_tuned = Vec::new();
    let lo = one_interaction(spec).max(1.0);
    for (ti, t) in spec.tiers.iter().enumerate() {
        if !o.tiers.is_empty() && !o.tiers.contains(&t.name) {
            continue;
        }
        if o.vary.caps {
            let cap = t
                .limit
                .as_ref()
                .and_then(|l| l.daily_tokens.as_ref().or(l.monthly_tokens.as_ref()));
            match cap {
                Some(n) => {
                    let hi = (n.value * 8.0).max(lo * 100.0);
                    let lo_t = lo.min(n.value);
                    tuned.push((
                        Knob::Cap(ti),
                        n.path.clone(),
                        n.value,
                        grid(lo_t, hi, o.candidates, n.value),
                    ));
                }
                None => not_tuned.push(format!("{} (no cap to vary)", t.name)),
            }
        } else if o.vary.on_limit && t.limit.is_none() {
            not_tuned.push(format!("{} (no cap: nothing acts past one)", t.name));
        }
        if o.vary.budgets
            && let Some(b) = &t.tenant_budget
        {
            if b.on_limit == crate::spec::OnBudget::Block && b.monthly_usd.value > 0.0 {
                let n = &b.monthly_usd;
                tuned.push((
                    Knob::Budget(ti),
                    n.path.clone(),
                    n.value,
                    usd_grid(n.value, o.candidates),
                ));
            } else {
                not_tuned.push(format!(
                    "{}'s tenant budget (it only notifies: it cuts nothing)",
                    t.name
                ));
            }
        }
    }
    if o.vary.breakers && o.tiers.is_empty() {
        for (name, level, b) in spec.breakers.levels() {
            if b.on_trip == crate::spec::OnTrip::Notify || b.limit.value <= 0.0 {
                not_tuned.push(format!("breakers.{name} (it only notifies: it cuts nothing)"));
                continue;
            }
            let n = &b.limit;
            tuned.push((
                Knob::Breaker(level),
                n.path.clone(),
                n.value,
                usd_grid(n.value, o.candidates),
            ));
        }
    }
    (tuned, not_tuned)
}

/// The simulations a search with `o` runs before its search steps: the
/// spec, and one per candidate of each limit (what the work limit of an
/// analysis counts up front).
pub fn planned_runs(spec: &Spec, o: &Options) -> usize {
    let ways: usize = graceful_tiers(spec, o).iter().map(|&ti| ways_of(spec, ti).len()).sum();
    1 + knobs(spec, o).0.iter().map(|k| k.3.len()).sum::<usize>() + 2 * ways
}

/// Where a search got to ([`tune_within`]): the limits' indices, the
/// thresholds there (none if not even the first was known), and whether it
/// finished.
struct Walk {
    idx: Vec<usize>,
    cs: Option<Vec<Check>>,
    done: bool,
}

/// What a search asks of a combination ([`tune_within`]): its thresholds
/// if known; `true` when the search would ask for it whatever the answer
/// to its last question.
type Ask<'a> = dyn FnMut(&[usize], bool) -> Option<Vec<Check>> + 'a;

/// What the objective minimises in a tier's month: its user-days blocked or
/// degraded, or, when more, the user-days its unserved share of demand
/// stands for (a breaker or a budget cuts demand without blocking a cap).
fn tier_harm(e: &[f64; 6]) -> f64 {
    e[1].max(share(e[4], e[5]) * e[2])
}

/// Tune `l`'s limits under `policy`, within the work limit of an analysis
/// (see [`tune_within`]).
pub fn tune(l: &Loaded, policy: &Policy, o: &Options) -> Tuning {
    // Every whole simulation counts against the work limit of an analysis.
    let one_run = sim::limits::work(&l.spec, o.sim.trials.max(1)).steps.max(1.0);
    let budget = (sim::limits::MAX_ANALYSIS_STEPS / one_run).floor().max(1.0) as usize;
    tune_within(l, policy, o, budget)
}

/// [`tune`] with at most `budget` whole simulations: a coupled search that
/// reaches it stops where it got to and says so ([`Tuning::stopped`]);
/// each limit's own candidates are always simulated (the caller bounds
/// them up front with [`planned_runs`]).
pub fn tune_within(l: &Loaded, policy: &Policy, o: &Options, budget: usize) -> Tuning {
    search(l, policy, o, budget, true)
}

/// [`tune_within`] without guesses ahead: each combination a coupled search
/// needs is simulated when it needs it (the same search, in more passes
/// over the trials; for tests).
#[doc(hidden)]
pub fn tune_stepwise(l: &Loaded, policy: &Policy, o: &Options, budget: usize) -> Tuning {
    search(l, policy, o, budget, false)
}

/// [`tune_within`], with (`ahead`) or without guesses ahead.
fn search(l: &Loaded, policy: &Policy, o: &Options, budget: usize, ahead: bool) -> Tuning {
    let spec = &l.spec;
    let th = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let q = th.confidence;
    let sim_opts = SimOptions {
        confidence: q,
        progress: false,
        ..o.sim.clone()
    };
    let model_of = |s: &Spec| Model::new(s, &l.priced, th.worst_case_quantile);
    let worst_of = |s: &Spec| worst_case(&model_of(s)).monthly_usd;
    // The candidates differ from the spec only in limits: they share its
    // demand tables (the same bytes as drawing them again, at half the cost).
    let base_model = model_of(spec);
    let tables = sim::Tables::new(&base_model, &sim_opts);
    // The spec's engines, built once; each candidate's take from them what
    // it has alike (the tables of the tiers it does not change).
    let prepared = sim::Prepared::new(&base_model, &sim_opts, &tables);
    let simulations = std::cell::Cell::new(0usize);
    // Specs that differ in caps or breaker limits are simulated together
    // (what they share is worked out once per trial:
    // `sim::Prepared::together`), a knob's candidates at a time, each month
    // kept as the few figures the search reads.
    let at_once = together(&base_model, sim_opts.trials);
    let simulate_all = |specs: &[Spec]| -> Vec<Run> {
        let mut out = Vec::with_capacity(specs.len());
        for chunk in specs.chunks(at_once) {
            simulations.set(simulations.get() + chunk.len());
            let models: Vec<Model> = chunk.iter().map(model_of).collect();
            out.extend(Run::of_rows(&prepared.together_by_trial(&models, false, &Row::of)));
        }
        out
    };
    let base = simulate_all(std::slice::from_ref(spec)).remove(0);
    let (tuned, not_tuned) = knobs(spec, o);
    let paying: Vec<bool> = spec
        .tiers
        .iter()
        .map(|t| t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0) || !t.accounts.is_empty())
        .collect();
    // The combination of the limits' own runs is exact only when each
    // limit moves one tier, no tier has two, and no other tier's month
    // moves (checked trial by trial below).
    let mut owners: Vec<usize> = tuned.iter().filter_map(|k| k.0.tier()).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut coupled = owners.len() != tuned.len();
    // Each limit's candidates, the others at the spec's values.
    let mut runs: Vec<Vec<Run>> = Vec::new();
    for (knob, path, _, vals) in &tuned {
        let specs: Vec<Spec> = vals
            .iter()
            .map(|&v| {
                let mut s = spec.clone();
                set_path(&mut s, path, v);
                s
            })
            .collect();
        let mut rs = Vec::new();
        for r in simulate_all(&specs) {
            // Once coupled, the search simulates whole months: no need to
            // check the decomposition further.
            if !coupled && let Some(ti) = knob.tier() {
                let others_same = (0..r.tiers.len())
                    .filter(|j| *j != ti)
                    .all(|j| r.tiers[j] == base.tiers[j]);
                let rest = base.cost.iter().zip(&base.tiers[ti]).map(|(c, (tc, _))| c - tc);
                let sums_match = rest
                    .zip(&r.tiers[ti])
                    .zip(&r.cost)
                    .all(|((rest, (tc, _)), c)| (rest + tc - c).abs() <= 1e-9 * c.abs().max(1.0));
                if !others_same || !sums_match {
                    coupled = true;
                }
            }
            rs.push(r);
        }
        runs.push(rs);
    }
    // The month of a combination (index per limit), when not coupled.
    let combine = |idx: &[usize]| -> (Vec<f64>, Vec<f64>) {
        let mut cost = base.cost.clone();
        let mut revenue = base.revenue.clone();
        for (k, (knob, _, _, _)) in tuned.iter().enumerate() {
            let Some(ti) = knob.tier() else { continue };
            let r = &runs[k][idx[k]];
            for i in 0..cost.len() {
                cost[i] += r.tiers[ti][i].0 - base.tiers[ti][i].0;
                revenue[i] += r.tiers[ti][i].1 - base.tiers[ti][i].1;
            }
        }
        (cost, revenue)
    };
    let spec_of = |idx: &[usize]| -> Spec {
        let mut s = spec.clone();
        for (k, (_, path, _, vals)) in tuned.iter().enumerate() {
            set_path(&mut s, path, vals[idx[k]]);
        }
        s
    };
    // A limit's effect on the month, from its own runs: its tier's, or
    // (a breaker) every tier's.
    let effect = |k: usize, c: usize, f: &dyn Fn(usize, &[f64; 6]) -> f64| -> f64 {
        let e = &runs[k][c].effects;
        match tuned[k].0.tier() {
            Some(ti) => f(ti, &e[ti]),
            None => (0..e.len()).map(|ti| f(ti, &e[ti])).sum(),
        }
    };
    // The harm the objective minimises, from each limit's own runs.
    let harm = |idx: &[usize]| -> f64 {
        (0..tuned.len())
            .map(|k| {
                effect(k, idx[k], &|ti, e| match o.objective {
                    Objective::Paying if paying[ti] => tier_harm(e),
                    Objective::Paying | Objective::Cost => 0.0,
                    Objective::Users => e[0],
                })
            })
            .sum()
    };
    let mut stopped = false;
    let checks_at = |cost: &[f64], revenue: &[f64], idx: &[usize]| -> Vec<Check> {
        let f = figures(cost, revenue, q, worst_of(&spec_of(idx)));
        checks(&f, &th, o.objective, o.max_p95_usd)
    };
    // Each combination's thresholds, worked out once: from the limits' own
    // runs when the tiers are independent (exact), by a whole simulation
    // when they are coupled.
    let known: RefCell<HashMap<Vec<usize>, Vec<Check>>> = RefCell::new(HashMap::new());
    let exact = |idx: &[usize]| -> Option<Vec<Check>> {
        if let Some(cs) = known.borrow().get(idx) {
            return Some(cs.clone());
        }
        if coupled {
            return None;
        }
        let (c, r) = combine(idx);
        let cs = checks_at(&c, &r, idx);
        known.borrow_mut().insert(idx.to_vec(), cs.clone());
        Some(cs)
    };
    let simulate_into = |idxs: &[Vec<usize>]| {
        let specs: Vec<Spec> = idxs.iter().map(|i| spec_of(i)).collect();
        for (idx, r) in idxs.iter().zip(simulate_all(&specs)) {
            let cs = checks_at(&r.cost, &r.revenue, idx);
            known.borrow_mut().insert(idx.clone(), cs);
        }
    };
    // Exact, simulated if need be.
    let evaluate = |idx: &[usize]| -> Vec<Check> {
        exact(idx).unwrap_or_else(|| {
            simulate_into(&[idx.to_vec()]);
            exact(idx).expect("a combination just simulated")
        })
    };
    // Coupled, a guess of a combination's thresholds: the spec's month with
    // each limit's own change to it added, trial by trial (exact but for
    // how the limits' effects interact). It only chooses which
    // combinations to simulate together ahead of the search.
    let guessed: RefCell<HashMap<Vec<usize>, Vec<Check>>> = RefCell::new(HashMap::new());
    let guess = |idx: &[usize]| -> Vec<Check> {
        if let Some(cs) = guessed.borrow().get(idx) {
            return cs.clone();
        }
        let mut cost = base.cost.clone();
        let mut revenue = base.revenue.clone();
        for (k, &c) in idx.iter().enumerate() {
            let r = &runs[k][c];
            for i in 0..cost.len() {
                cost[i] += r.cost[i] - base.cost[i];
                revenue[i] += r.revenue[i] - base.revenue[i];
            }
        }
        let cs = checks_at(&cost, &revenue, idx);
        guessed.borrow_mut().insert(idx.to_vec(), cs.clone());
        cs
    };
    let top: Vec<usize> = tuned.iter().map(|(_, _, _, vals)| vals.len() - 1).collect();
    // The search for the fewest users affected (or under a target): from
    // the most generous values, tighten one limit by one step at a time
    // where it buys the most room per user affected, then give back what is
    // not needed. It asks `eval` for each combination's thresholds, saying
    // whether it would ask for it whatever the answer to its last question
    // (the other limits one step down, in a step of the descent); at the
    // first it is not told, it stops where it got to (not done).
    let walk = |eval: &mut Ask| -> Walk {
        let mut idx = top.clone();
        let Some(mut cs) = eval(&idx, false) else {
            return Walk {
                idx,
                cs: None,
                done: false,
            };
        };
        let mut steps = 0;
        while violation(&cs) > 0.0 && steps < 10_000 {
            steps += 1;
            let v0 = violation(&cs);
            let h0 = harm(&idx);
            let mut best: Option<(f64, usize, Vec<Check>)> = None;
            // Every limit one step down.
            for (n, k) in (0..idx.len()).filter(|&k| idx[k] > 0).enumerate() {
                let mut next = idx.clone();
                next[k] -= 1;
                let Some(cs2) = eval(&next, n > 0) else {
                    return Walk {
                        idx,
                        cs: Some(cs),
                        done: false,
                    };
                };
                let gain = v0 - violation(&cs2);
                let cost = (harm(&next) - h0).max(0.0);
                let score = gain / (cost + 1e-9);
                if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                    best = Some((score, k, cs2));
                }
            }
            match best {
                Some((_, k, cs2)) => {
                    idx[k] -= 1;
                    cs = cs2;
                }
                None => break,
            }
        }
        // Then give back what is not needed: loosen each limit while the
        // checks still pass.
        if violation(&cs) == 0.0 {
            let mut moved = true;
            while moved {
                moved = false;
                for k in 0..idx.len() {
                    if idx[k] < top[k] {
                        let mut next = idx.clone();
                        next[k] += 1;
                        let Some(cs2) = eval(&next, false) else {
                            return Walk {
                                idx,
                                cs: Some(cs),
                                done: false,
                            };
                        };
                        if violation(&cs2) == 0.0 {
                            idx = next;
                            cs = cs2;
                            moved = true;
                        }
                    }
                }
            }
        }
        Walk {
            idx,
            cs: Some(cs),
            done: true,
        }
    };
    // The recommendation, and the thresholds there (each combination is
    // evaluated once: a whole simulation when coupled).
    let (idx, mut cs) = match o.objective {
        Objective::Cost => {
            // Each limit at its smallest value that still serves enough.
            let idx: Vec<usize> = (0..tuned.len())
                .map(|k| {
                    let n = tuned[k].3.len();
                    (0..n)
                        .find(|&c| {
                            let unserved = effect(k, c, &|_, e| e[4]);
                            let demand = effect(k, c, &|_, e| e[5]);
                            share(unserved, demand) <= th.max_unserved_share.min(0.5)
                        })
                        .unwrap_or(n - 1)
                })
                .collect();
            let cs = evaluate(&idx);
            (idx, cs)
        }
        Objective::Paying | Objective::Users => {
            // Coupled, each combination the search needs is a whole
            // simulation, and the combinations simulated together share
            // most of the work. So the combinations it asks for whatever
            // the answers (a step's other limits) are simulated together,
            // and so are, while they prove right, those it would ask for
            // next if guesses were the answers. The search then runs on what
            // they give: the same steps as simulating each when it is
            // needed, in fewer passes over the trials.
            //
            // How many guesses ahead: at first as many as are simulated at
            // once; none after guesses led the search astray; then, after a
            // run of rounds (longer each time guesses led astray), a step's
            // worth, twice as many after each further run.
            let one_step = tuned.len().max(1);
            // Models worked out together share nothing but their trials'
            // draws (a user breaker: every tier's day is each model's own)
            // cost about as much apart: then no guesses.
            let shared = ahead && coupled && {
                let ends = [base_model.clone(), model_of(&spec_of(&vec![0; tuned.len()]))];
                let s = sim::sharing(&ends, &sim_opts, &tables);
                s.days || s.twins
            };
            let mut guesses = if shared { at_once } else { 0 };
            let mut sure = 0;
            let mut patience = 1;
            // The last round's guesses the search has not used (yet).
            let mut last: HashSet<Vec<usize>> = HashSet::new();
            loop {
                // The search on what is known so far, up to the first
                // combination it needs that is not.
                let mut missing = None;
                let w = walk(&mut |i, _| match exact(i) {
                    Some(cs) => {
                        last.remove(i);
                        Some(cs)
                    }
                    None => {
                        missing = Some(i.to_vec());
                        None
                    }
                });
                if w.done || stopped {
                    break (w.idx, w.cs.expect("the most generous combination is evaluated first"));
                }
                let missing = missing.expect("a walk stops only at a combination it is not told");
                if shared && last.is_empty() {
                    sure += 1;
                    if sure >= patience {
                        guesses = (2 * guesses).clamp(one_step, at_once);
                        sure = 0;
                    }
                } else if shared {
                    guesses = 0;
                    sure = 0;
                    patience = (2 * patience).min(64);
                }
                // Every simulation counts against the work limit; guesses
                // take at most half the room left.
                let room = budget.saturating_sub(simulations.get());
                let mut wanted = vec![missing];
                let mut guessed: Vec<Vec<usize>> = Vec::new();
                let guesses = guesses.min(room / 2);
                // Past the first unknown, whether each combination is asked
                // for whatever the answers so far.
                let mut past = false;
                let mut certain = true;
                walk(&mut |i, follows| {
                    if past && !follows {
                        certain = false;
                    }
                    if let Some(cs) = exact(i) {
                        return Some(cs);
                    }
                    if !past {
                        past = true;
                    } else if !wanted.iter().chain(&guessed).any(|w| w == i) {
                        if certain {
                            wanted.push(i.to_vec());
                        } else if guessed.len() < guesses.min(at_once.saturating_sub(wanted.len())) {
                            guessed.push(i.to_vec());
                        } else {
                            return None;
                        }
                    }
                    Some(guess(i))
                });
                if wanted.len() > room {
                    // At the work limit, the first one past it is the last
                    // simulated, and the search stops where it got to.
                    wanted.truncate(room + 1);
                    guessed.clear();
                    stopped = true;
                } else {
                    guessed.truncate(room - wanted.len());
                }
                last = guessed.iter().cloned().collect();
                wanted.extend(guessed);
                simulate_into(&wanted);
            }
        }
    };
    let mut passes = violation(&cs) == 0.0;
    let stopped = stopped.then(|| {
        format!(
            "the search stopped at the work limit of an analysis after {} simulations of {} trials; \
             the recommendation is where it got to (fewer `--trials` or `--candidates` let it finish)",
            crate::fmt::count(simulations.get() as f64),
            crate::fmt::count(sim_opts.trials as f64)
        )
    });
    let mut why_not = (!passes).then(|| {
        if let Some(s) = &stopped {
            return s.clone();
        }
        let tight: Vec<usize> = vec![0; idx.len()];
        let at_min = evaluate(&tight);
        let failing: Vec<String> = at_min
            .iter()
            .filter(|c| !c.ok)
            .map(|c| {
                let hint = if c.figure.starts_with("cost/revenue") {
                    ": every user costs more than they pay even within the smallest limits, so the price or the \
                     model must change"
                } else if c.figure.starts_with("worst") {
                    ": the worst case is bounded by something these limits do not move (a tier without a cap, a \
                     budget that only notifies)"
                } else {
                    ": limits alone cannot bring it down; the model or the price must change"
                };
                format!(
                    "{} is {} with every limit at its smallest ({}), above the policy's {}{hint}",
                    c.figure,
                    show(&c.figure, c.value),
                    if tuned.is_empty() {
                        "the limits as the spec writes them: none is varied".to_string()
                    } else {
                        tuned
                            .iter()
                            .map(|(knob, p, _, vals)| match knob {
                                Knob::Cap(_) => format!("{p} = {}", crate::fmt::count(vals[0])),
                                _ => format!("{p} = {}", crate::fmt::usd(vals[0])),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    show(&c.figure, c.limit)
                )
            })
            .collect();
        if failing.is_empty() {
            "no combination of the searched limits passes every threshold at once".to_string()
        } else {
            failing.join("; ")
        }
    });
    let frontiers = tuned
        .iter()
        .enumerate()
        .map(|(k, (knob, path, current, vals))| {
            let points = vals
                .iter()
                .enumerate()
                .map(|(c, &v)| {
                    let r = &runs[k][c];
                    let mut s = spec.clone();
                    set_path(&mut s, path, v);
                    let fg = figures(&r.cost, &r.revenue, q, worst_of(&s));
                    let e = |i: usize| effect(k, c, &|_, e| e[i]);
                    Point {
                        cap: v,
                        cost_at_confidence: fg.cost_at,
                        ratio_at_confidence: fg.ratio_at,
                        worst_case_usd: fg.worst,
                        users_hit_share: share(e(0), e(3)),
                        user_days_affected_share: share(e(1), e(2)),
                        unserved_share: share(e(4), e(5)),
                    }
                })
                .collect();
            let (tier, kind, unit, paying) = match knob {
                Knob::Cap(ti) => (spec.tiers[*ti].name.clone(), "cap", "tokens", paying[*ti]),
                Knob::Budget(ti) => (spec.tiers[*ti].name.clone(), "tenant budget", "usd", paying[*ti]),
                Knob::Breaker(_) => ("all tiers".to_string(), "breaker", "usd", paying.iter().any(|p| *p)),
            };
            Frontier {
                tier,
                path: path.clone(),
                kind,
                unit,
                current: *current,
                paying,
                points,
                chosen: idx[k],
            }
        })
        .collect();
    // What each cap does past it, at the recommended caps: every way
    // simulated whole (same trials and seed), a tier at a time in order,
    // the tiers before it at the ways chosen for them.
    let mut on_limit = Vec::new();
    // Without caps, budgets or breakers to vary, the ways are tried at the
    // spec's limits even when they fail there: another way past the cap
    // (a cheaper fallback model, a block) may be what passes.
    if (passes || tuned.is_empty()) && stopped.is_none() {
        let mut at = spec_of(&idx);
        for ti in graceful_tiers(spec, o) {
            let ways = ways_of(&at, ti);
            let limit = at.tiers[ti].limit.as_ref().expect("a tier with ways has a limit");
            let current = ways
                .iter()
                .position(|w| w.0 == limit.on_limit && (w.0 != OnLimit::Fallback || w.1 == limit.fallback_model))
                .expect("the spec's own way is among the ways");
            let path = format!("{}.on_limit", limit.path);
            let mut way_checks = Vec::new();
            let mut way_rules: Vec<Vec<String>> = Vec::new();
            let mut evaluated: Vec<Way> = ways
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let mut s = at.clone();
                    set_way(&mut s, ti, w);
                    let m = model_of(&s);
                    simulations.set(simulations.get() + 1);
                    let months = sim::months(&m, &sim_opts);
                    let cost: Vec<f64> = months.iter().map(|x| x.cost).collect();
                    let revenue: Vec<f64> = months.iter().map(|x| x.revenue).collect();
                    let (unserved, demand) = months
                        .iter()
                        .map(|x| &x.tiers[ti])
                        .fold((0.0, 0.0), |(u, d), t| (u + t.unserved_tokens, d + t.demand_tokens));
                    let f = figures(&cost, &revenue, q, worst_case(&m).monthly_usd);
                    let cs = checks(&f, &th, o.objective, o.max_p95_usd);
                    let thresholds_pass = violation(&cs) == 0.0;
                    let failing = cs.iter().filter(|c| !c.ok).map(|c| c.figure.clone()).collect();
                    way_checks.push(cs);
                    // The check in full (its rules read the way itself).
                    let top_up = s.tiers[ti]
                        .limit
                        .as_ref()
                        .and_then(|l| l.top_up.as_ref())
                        .is_some_and(|t| t.on_limit_top_up);
                    // The spec's own way is checked whatever its
                    // thresholds: the bar the other ways' checks meet.
                    let report = (thresholds_pass || i == current)
                        .then(|| {
                            simulations.set(simulations.get() + 1);
                            let loaded = Loaded {
                                spec: s,
                                priced: l.priced.clone(),
                                approval: None,
                            };
                            crate::check::analyse(&loaded, policy, &sim_opts, o.today).ok()
                        })
                        .flatten();
                    let verdict = report.as_ref().map(|r| r.verdict);
                    // The rules that gate (deny, or ask for an approval).
                    let gating: Vec<String> = report
                        .iter()
                        .flat_map(|r| &r.findings)
                        .filter(|f| f.level >= crate::policy::Level::Approve)
                        .map(|f| f.rule.code().to_string())
                        .collect();
                    way_rules.push(gating);
                    Way {
                        on_limit: w.0,
                        fallback_model: w.1.clone(),
                        cost_at_confidence: f.cost_at,
                        ratio_at_confidence: f.ratio_at,
                        unserved_share: share(unserved, demand),
                        thresholds_pass,
                        failing,
                        verdict,
                        new_rules: Vec::new(),
                        top_up,
                        passes: false,
                    }
                })
                .collect();
            let bar = evaluated[current].verdict;
            for (w, rules) in evaluated.iter_mut().zip(&way_rules) {
                w.new_rules = rules
                    .iter()
                    .filter(|r| !way_rules[current].contains(r))
                    .cloned()
                    .collect();
                w.new_rules.sort_unstable();
                w.new_rules.dedup();
                w.passes = w.thresholds_pass
                    && w.verdict.is_some()
                    && bar.is_none_or(|b| w.verdict <= Some(b))
                    && w.new_rules.is_empty();
            }
            // The current way passes (it is the recommendation's): a
            // change is made only for a way that passes too, and only for
            // a better one: on a tie the spec's way stays, and between
            // other ways the more graceful (later in the list: fallback,
            // shrink, throttle, then block).
            let key = |w: &Way| match o.objective {
                Objective::Cost => (w.cost_at_confidence, w.unserved_share),
                _ => (w.unserved_share, w.cost_at_confidence),
            };
            let chosen = (0..evaluated.len())
                .filter(|&i| evaluated[i].passes)
                .min_by(|&a, &b| {
                    key(&evaluated[a])
                        .partial_cmp(&key(&evaluated[b]))
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then_with(|| (b == current).cmp(&(a == current)))
                        .then_with(|| b.cmp(&a))
                })
                .unwrap_or(current);
            set_way(&mut at, ti, &ways[chosen]);
            // The thresholds at the recommendation: with every tier so far
            // at its chosen way.
            if evaluated[chosen].passes {
                cs = way_checks.swap_remove(chosen);
            }
            on_limit.push(Graceful {
                tier: at.tiers[ti].name.clone(),
                path,
                current,
                ways: evaluated,
                chosen,
            });
        }
        if !passes && violation(&cs) == 0.0 {
            passes = true;
            why_not = None;
        } else if let Some(w) = why_not.as_mut()
            && !on_limit.is_empty()
        {
            w.push_str("; and no way past the caps (block, throttle, shrink, a fallback model) passes either");
        }
    }
    Tuning {
        feature: spec.feature.id.clone(),
        objective: o.objective,
        trials: sim_opts.trials,
        seed: sim_opts.seed,
        confidence: q,
        coupled,
        stopped,
        simulations: simulations.get(),
        frontiers,
        passes,
        checks: cs,
        why_not,
        not_tuned,
        on_limit,
    }
}

/// A figure's value as the reports write it.
pub fn show(figure: &str, v: f64) -> String {
    if !v.is_finite() {
        return "unbounded".into();
    }
    if figure.starts_with("cost/revenue") || figure.starts_with("share") {
        crate::fmt::pct(v)
    } else {
        crate::fmt::usd(v)
    }
}

/// The frontiers as an SVG chart: one panel per tier, the month at
/// confidence against the cap (log scale), the policy's limit dashed, the
/// spec's cap as a vertical line and the recommendation as a dot.
pub fn svg(t: &Tuning, p95_limit: f64) -> String {
    use std::fmt::Write as _;
    let esc = crate::report::junit::escape;
    let (w, h, pad) = (640.0f64, 220.0f64, 48.0f64);
    let total_h = h * t.frontiers.len().max(1) as f64;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{total_h}\" viewBox=\"0 0 {w} {total_h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n"
    );
    let q = crate::fmt::quantile_label(t.confidence);
    for (k, f) in t.frontiers.iter().enumerate() {
        let y0 = k as f64 * h;
        let pts: Vec<(f64, f64)> = f
            .points
            .iter()
            .filter(|p| p.cap > 0.0 && p.cost_at_confidence.is_finite())
            .map(|p| (p.cap.ln(), p.cost_at_confidence))
            .collect();
        if pts.len() < 2 {
            continue;
        }
        let (xmin, xmax) = (pts[0].0, pts[pts.len() - 1].0);
        let ymax = pts
            .iter()
            .map(|p| p.1)
            .fold(0.0, f64::max)
            .max(if p95_limit.is_finite() {
                p95_limit.min(pts.iter().map(|p| p.1).fold(0.0, f64::max) * 1.5)
            } else {
                0.0
            })
            * 1.05;
        let x = |v: f64| pad + (v - xmin) / (xmax - xmin).max(1e-12) * (w - 2.0 * pad);
        let y = |v: f64| y0 + h - pad + -(v / ymax.max(1e-12)) * (h - 1.5 * pad);
        let _ = writeln!(
            o,
            "<text x=\"{pad}\" y=\"{:.1}\" font-weight=\"bold\">{} ({}): month at {q} by cap</text>",
            y0 + 16.0,
            esc(&f.path),
            esc(&f.tier)
        );
        let _ = writeln!(
            o,
            "<line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>",
            y(0.0),
            w - pad,
            y(0.0)
        );
        let line: Vec<String> = pts.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect();
        let _ = writeln!(
            o,
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>",
            line.join(" ")
        );
        if p95_limit.is_finite() && p95_limit <= ymax {
            let _ = writeln!(
                o,
                "<line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#d62728\" text-anchor=\"end\">policy {}</text>",
                y(p95_limit),
                w - pad,
                y(p95_limit),
                w - pad,
                y(p95_limit) - 3.0,
                esc(&crate::fmt::usd(p95_limit))
            );
        }
        if f.current > 0.0 {
            let cx = x(f.current.ln());
            let _ = writeln!(
                o,
                "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
                 <text x=\"{cx:.1}\" y=\"{:.1}\" fill=\"#666\" text-anchor=\"middle\">spec {}</text>",
                y0 + pad * 0.6,
                y(0.0),
                y(0.0) + 14.0,
                esc(&crate::fmt::count(f.current))
            );
        }
        let c = &f.points[f.chosen];
        if c.cap > 0.0 && c.cost_at_confidence.is_finite() {
            let _ = writeln!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#2ca02c\"/><text x=\"{:.1}\" y=\"{:.1}\">recommended {}: {}, {} of days affected</text>",
                x(c.cap.ln()),
                y(c.cost_at_confidence),
                x(c.cap.ln()) + 8.0,
                y(c.cost_at_confidence) - 8.0,
                esc(&crate::fmt::count(c.cap)),
                esc(&crate::fmt::usd(c.cost_at_confidence)),
                esc(&crate::fmt::pct(c.user_days_affected_share))
            );
        }
    }
    o.push_str("</svg>\n");
    o
}

pub mod page;
