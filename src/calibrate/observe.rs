//! The streaming aggregation: [`Observer`] takes calls one at a time and
//! keeps only histograms and per-user-day, per-user, per-tenant and
//! per-interaction aggregates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::Options;
use crate::logs::Call;

/// Most distinct model names kept apart in the model mix; calls of further
/// models are counted together as "(other models)".
pub const MAX_MODELS: usize = 256;

const DAY_S: f64 = 86_400.0;

/// A hasher for keys that are already 64-bit hashes or small integers: each
/// word is mixed in with the SplitMix64 finaliser (the tables are keyed by
/// ids the logs chose; the mix spreads them, SipHash's keyed defence adds
/// nothing the id hash did not already give up).
#[derive(Default, Clone, Copy)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let mut z = (self.0 ^ x).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64);
    }
}

/// A hash map over [`Mix`].
pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<Mix>>;

/// Calls, input and output tokens of one model.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ModelTotals {
    pub calls: u64,
    pub input: f64,
    pub output: f64,
}

/// One interaction keyed by its hashed id.
#[derive(Clone, Copy, Debug)]
struct Ix {
    user: Option<u64>,
    first_s: Option<f64>,
    calls: u64,
}

/// A run of one user's calls no more than `gap_s` apart (an interaction
/// when the log has no interaction id): end time (ms) and calls, keyed by
/// its start time (ms).
type Runs = BTreeMap<i64, (i64, u64)>;

/// Streaming aggregation of calls: feed every call with [`Observer::add`],
/// then [`Observer::finish`].
///
/// Memory: per-call token counts are exact histograms (one entry per distinct
/// value); calls are grouped into interactions by their hashed id (one small
/// entry per interaction) or, without one, into runs of a user's calls no
/// more than `gap_s` apart (one entry per run, exact whatever the order of
/// the calls); beyond that, one counter per user-day, per user and per
/// tenant. Nothing is kept per call.
pub struct Observer {
    gap_ms: i64,
    records: u64,
    untimed: u64,
    without_user: u64,
    ungrouped: u64,
    first_s: Option<f64>,
    last_s: Option<f64>,
    input: Map<u64, u64>,
    output: Map<u64, u64>,
    cached_calls: u64,
    cached_sums: [f64; 5],
    models: BTreeMap<String, ModelTotals>,
    other_models: ModelTotals,
    unnamed_model: ModelTotals,
    ixs: Map<u64, Ix>,
    runs: Map<u64, Runs>,
    user_days: Map<(u64, i64), u64>,
    users: Map<u64, Option<u64>>,
    tenants: Map<u64, TenantAcc>,
}

#[derive(Default)]
struct TenantAcc {
    users: HashSet<u64, BuildHasherDefault<Mix>>,
    spend: f64,
    calls: u64,
    unpriced: u64,
}

impl Observer {
    /// An empty observer.
    pub fn new(opts: &Options) -> Self {
        Observer {
            gap_ms: (opts.gap_s.max(0.0) * 1000.0).round() as i64,
            records: 0,
            untimed: 0,
            without_user: 0,
            ungrouped: 0,
            first_s: None,
            last_s: None,
            input: Map::default(),
            output: Map::default(),
            cached_calls: 0,
            cached_sums: [0.0; 5],
            models: BTreeMap::new(),
            other_models: ModelTotals::default(),
            unnamed_model: ModelTotals::default(),
            ixs: Map::default(),
            runs: Map::default(),
            user_days: Map::default(),
            users: Map::default(),
            tenants: Map::default(),
        }
    }

    /// Count one call.
    pub fn add(&mut self, c: &Call) {
        self.records += 1;
        *self.input.entry(c.input_tokens).or_insert(0) += 1;
        *self.output.entry(c.output_tokens).or_insert(0) += 1;
        let (tin, tout) = (c.input_tokens as f64, c.output_tokens as f64);
        if let Some(k) = c.cached_tokens {
            let k = (k.min(c.input_tokens)) as f64;
            self.cached_calls += 1;
            let s = &mut self.cached_sums;
            s[0] += k;
            s[1] += tin;
            s[2] += k * k;
            s[3] += tin * tin;
            s[4] += k * tin;
        }
        let slot = match &c.model {
            None => &mut self.unnamed_model,
            Some(m) => {
                if !self.models.contains_key(m) && self.models.len() < MAX_MODELS {
                    self.models.insert(m.clone(), ModelTotals::default());
                }
                self.models.get_mut(m).unwrap_or(&mut self.other_models)
            }
        };
        slot.calls += 1;
        slot.input += tin;
        slot.output += tout;

        let time = c.time_s.filter(|t| t.is_finite());
        match time {
            Some(t) => {
                self.first_s = Some(self.first_s.map_or(t, |f| f.min(t)));
                self.last_s = Some(self.last_s.map_or(t, |l| l.max(t)));
            }
            None => self.untimed += 1,
        }
        match c.user {
            Some(u) => {
                let e = self.users.entry(u).or_insert(None);
                if e.is_none() {
                    *e = c.tenant;
                }
                if let Some(t) = time {
                    *self.user_days.entry((u, day_of(t))).or_insert(0) += 1;
                }
            }
            None => self.without_user += 1,
        }
        if let Some(tn) = c.tenant {
            let acc = self.tenants.entry(tn).or_default();
            if let Some(u) = c.user {
                acc.users.insert(u);
            }
            acc.calls += 1;
            match c.spend_usd.filter(|s| s.is_finite() && *s >= 0.0) {
                Some(s) => acc.spend += s,
                None => acc.unpriced += 1,
            }
        }
        // Interactions: by id, else by runs of the user's calls.
        match (c.interaction, c.user, time) {
            (Some(id), _, _) => {
                let ix = self.ixs.entry(id).or_insert(Ix {
                    user: c.user,
                    first_s: time,
                    calls: 0,
                });
                ix.calls += 1;
                if ix.user.is_none() {
                    ix.user = c.user;
                }
                if let Some(t) = time {
                    ix.first_s = Some(ix.first_s.map_or(t, |f| f.min(t)));
                }
            }
            (None, Some(u), Some(t)) => {
                let runs = self.runs.entry(u).or_default();
                insert_run(runs, (t * 1000.0).round() as i64, self.gap_ms);
            }
            _ => self.ungrouped += 1,
        }
    }

    /// The aggregates, in a fixed order (sorted by hashed id), ready to fit.
    pub fn finish(self) -> Observations {
        // Interactions per user-day, each counted on the day of its first call.
        let mut ix_per_day: Map<(u64, i64), u64> = Map::default();
        let mut calls_per_ix: Map<u64, u64> = Map::default();
        for ix in self.ixs.values() {
            *calls_per_ix.entry(ix.calls).or_insert(0) += 1;
            if let (Some(u), Some(t)) = (ix.user, ix.first_s) {
                *ix_per_day.entry((u, day_of(t))).or_insert(0) += 1;
            }
        }
        for (u, runs) in &self.runs {
            for (start, (_, calls)) in runs {
                *calls_per_ix.entry(*calls).or_insert(0) += 1;
                *ix_per_day.entry((*u, day_of(*start as f64 / 1000.0))).or_insert(0) += 1;
            }
        }
        let interactions: u64 = calls_per_ix.values().sum();
        // Users with their days' interaction counts.
        let mut by_user: BTreeMap<u64, Vec<(i64, u64)>> = BTreeMap::new();
        for &(u, d) in self.user_days.keys() {
            let n = ix_per_day.get(&(u, d)).copied().unwrap_or(0);
            by_user.entry(u).or_default().push((d, n));
        }
        let mut daily_active: BTreeMap<i64, u64> = BTreeMap::new();
        let users: Vec<UserObs> = by_user
            .into_iter()
            .map(|(u, mut days)| {
                days.sort_unstable();
                for (d, _) in &days {
                    *daily_active.entry(*d).or_insert(0) += 1;
                }
                UserObs {
                    id: u,
                    days: days.into_iter().map(|(_, n)| n).collect(),
                }
            })
            .collect();
        let mut tenants: Vec<(u64, TenantObs)> = self
            .tenants
            .into_iter()
            .map(|(id, a)| {
                (
                    id,
                    TenantObs {
                        users: a.users.len() as u64,
                        spend_usd: a.spend,
                        calls: a.calls,
                        unpriced_calls: a.unpriced,
                    },
                )
            })
            .collect();
        tenants.sort_by_key(|t| t.0);
        let mut models: Vec<(String, ModelTotals)> = self.models.into_iter().collect();
        if self.other_models.calls > 0 {
            models.push(("(other models)".to_string(), self.other_models));
        }
        if self.unnamed_model.calls > 0 {
            models.push(("(no model named)".to_string(), self.unnamed_model));
        }
        let user_count = self.users.len() as u64;
        Observations {
            records: self.records,
            untimed: self.untimed,
            without_user: self.without_user,
            ungrouped: self.ungrouped,
            first_s: self.first_s,
            last_s: self.last_s,
            input: sorted_counts(&self.input),
            output: sorted_counts(&self.output),
            cached_calls: self.cached_calls,
            cached_sums: self.cached_sums,
            models,
            interactions,
            calls_per_interaction: sorted_counts(&calls_per_ix),
            user_count,
            users,
            daily_active,
            tenants: tenants.into_iter().map(|t| t.1).collect(),
        }
    }
}

fn sorted_counts(h: &Map<u64, u64>) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = h.iter().map(|(a, b)| (*a, *b)).collect();
    v.sort_unstable();
    v
}

/// The UTC day (days since the epoch) of a time in seconds.
pub(crate) fn day_of(t: f64) -> i64 {
    (t / DAY_S).floor() as i64
}

/// Add a call at `t` (ms) to a user's runs: it joins (and may bridge) the
/// runs it is within `gap` of. Runs stay more than `gap` apart, so the result
/// does not depend on the order calls arrive in.
fn insert_run(runs: &mut Runs, t: i64, gap: i64) {
    let (mut start, mut end, mut calls) = (t, t, 1u64);
    if let Some((&s, &(e, c))) = runs.range(..=t).next_back()
        && e.saturating_add(gap) >= t
    {
        runs.remove(&s);
        start = s;
        end = e.max(t);
        calls += c;
    }
    while let Some((&s, &(e, c))) = runs.range(start..).next() {
        if s > end.saturating_add(gap) {
            break;
        }
        runs.remove(&s);
        end = end.max(e);
        calls += c;
    }
    runs.insert(start, (end, calls));
}

/// One user's active days: interactions started on each, in day order.
#[derive(Clone, Debug)]
pub(crate) struct UserObs {
    #[allow(dead_code)]
    pub id: u64,
    pub days: Vec<u64>,
}

impl UserObs {
    pub fn mean(&self) -> f64 {
        self.days.iter().sum::<u64>() as f64 / self.days.len() as f64
    }
}

/// One tenant's totals.
#[derive(Clone, Debug)]
pub(crate) struct TenantObs {
    pub users: u64,
    pub spend_usd: f64,
    #[allow(dead_code)]
    pub calls: u64,
    pub unpriced_calls: u64,
}

/// What the logs showed, aggregated ([`Observer::finish`]); read by
/// [`super::fit`] and [`super::drift`].
#[derive(Clone, Debug)]
pub struct Observations {
    pub(crate) records: u64,
    pub(crate) untimed: u64,
    pub(crate) without_user: u64,
    pub(crate) ungrouped: u64,
    pub(crate) first_s: Option<f64>,
    pub(crate) last_s: Option<f64>,
    pub(crate) input: Vec<(u64, u64)>,
    pub(crate) output: Vec<(u64, u64)>,
    pub(crate) cached_calls: u64,
    /// Σcached, Σinput, Σcached², Σinput², Σcached·input over calls that
    /// report cached tokens.
    pub(crate) cached_sums: [f64; 5],
    pub(crate) models: Vec<(String, ModelTotals)>,
    pub(crate) interactions: u64,
    pub(crate) calls_per_interaction: Vec<(u64, u64)>,
    pub(crate) user_count: u64,
    pub(crate) users: Vec<UserObs>,
    pub(crate) daily_active: BTreeMap<i64, u64>,
    pub(crate) tenants: Vec<TenantObs>,
}

impl Observations {
    /// Records read.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Distinct users named.
    pub fn users(&self) -> u64 {
        self.user_count
    }

    /// Active user-days (a user with at least one timed call on a UTC day).
    pub fn user_days(&self) -> u64 {
        self.users.iter().map(|u| u.days.len() as u64).sum()
    }

    /// Days from the first call's UTC day to the last's, both included
    /// (0 without timed calls).
    pub fn period_days(&self) -> u64 {
        match (self.first_s, self.last_s) {
            (Some(f), Some(l)) => day_of(l).saturating_sub(day_of(f)).saturating_add(1).max(1) as u64,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_do_not_depend_on_the_order_of_calls() {
        let times = [0, 10, 100, 55, 160, 400, 1000, 1050, 460];
        let mut a = Runs::new();
        for t in times {
            insert_run(&mut a, t, 60);
        }
        let mut b = Runs::new();
        let mut sorted = times;
        sorted.sort();
        for t in sorted.iter().rev() {
            insert_run(&mut b, *t, 60);
        }
        assert_eq!(a, b);
        // 0,10,55,100,160 | 400,460 | 1000,1050
        let calls: Vec<u64> = a.values().map(|v| v.1).collect();
        assert_eq!(calls, vec![5, 2, 2]);
    }

    #[test]
    fn hostile_calls_are_counted_without_panic_or_unbounded_work() {
        let opts = Options::default();
        let mut o = Observer::new(&opts);
        let call = |t: Option<f64>, input: u64, cached: Option<u64>| Call {
            time_s: t,
            user: Some(1),
            tenant: Some(2),
            interaction: None,
            model: Some("m".into()),
            input_tokens: input,
            output_tokens: u64::MAX,
            cached_tokens: cached,
            spend_usd: Some(f64::NAN),
        };
        for t in [
            Some(-1e300),
            Some(1e300),
            Some(f64::NAN),
            Some(f64::INFINITY),
            None,
            Some(0.0),
        ] {
            o.add(&call(t, u64::MAX, Some(u64::MAX)));
            o.add(&call(t, 0, Some(5)));
        }
        let obs = o.finish();
        assert_eq!(obs.records(), 12);
        assert_eq!(obs.untimed, 6, "NaN, infinite and missing times are untimed");
        assert!(obs.period_days() > super::super::MAX_PERIOD_DAYS);
        let opts = Options {
            population: Some(10.0),
            ..Options::default()
        };
        let cal = super::super::fit(&obs, &opts);
        assert!(
            cal.unmeasured.iter().any(|u| u.0 == "usage.active_share"),
            "{:?}",
            cal.unmeasured
        );
        assert!(
            cal.unmeasured.iter().any(|u| u.0 == "tenants.monthly_spend_usd"),
            "NaN spend is not a price"
        );
        let share = cal.get("interaction.cached_input_share").unwrap();
        assert!(
            share.dist.central() <= 1.0,
            "cached tokens beyond the input count as the input"
        );
    }
}
