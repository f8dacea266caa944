//! Top-ups: a paid top-up at a tier's cap. Users who reach the cap buy with
//! the trial's `uptake` (a user is a buyer or not for the whole month); a
//! buyer buys, each time a day goes past the caps, as many top-ups as that
//! day needs, at most `max_per_month` in the month; what a top-up buys and
//! the day does not use stays for later days of the month. What top-ups
//! cover is served at the tier's model; the rest past the caps gets the
//! tier's `on_limit`.
//!
//! Whether a user has bought, and how much of it is left, lasts all month,
//! so a tier with a top-up is followed through a fixed panel of simulated
//! users (Monte Carlo), as a tier with a monthly cap is (and its monthly
//! cap, if any, with it), or through the class's fluid month (central).
//! The result is the tier's [`MonthlyCut`] (the monthly cap's cut, the
//! user-days left past the caps, the users who reached them, the spread of
//! a user's month) and what top-ups did ([`TopUpMonth`]).

use rand::Rng;

use super::{Engine, MonthlyCut, PANEL_USERS};
use crate::dist::open01;
use crate::economics::TierModel;
use crate::sim::demand::{DayStats, Samples, stream, user_day_bought};

/// The random streams of the top-up panels (one per tier), apart from
/// every other stream of a run.
const STREAM_TOPUP_PANEL: u64 = 1 << 44;

/// A fixed set of simulated users of one tier (common random numbers
/// across trials): class, buyer, activity and user-day sample.
pub(super) struct TopUpPanel {
    /// Each user's draw for the power-user class, in ascending order.
    class_u: Vec<f64>,
    buyer_u: Vec<f64>,
    /// [day * PANEL_USERS + user]
    active_u: Vec<f32>,
    sample: Vec<u32>,
    /// [class][sample]: each sampled user-day priced once per batch.
    rows: Vec<Vec<TopUpRow>>,
}

/// One sampled user-day of a tier with a top-up. [`user_day_bought`] is
/// `(1 - b)·user_day(r, c) + b·full(c)`, where `user_day` is linear in the
/// monthly cap's cut `r` and the cached share `c`, and `full` (everything
/// served at the tier's model) linear in `c`: corner evaluations give it
/// everywhere.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct TopUpRow {
    tokens: f64,
    within_daily: f64,
    /// cost = a0 + a1·c + r·(b0 + b1·c) before top-ups.
    cost: [f64; 4],
    /// Everything served at the tier's model: f0 + f1·c.
    full: [f64; 2],
}

impl TopUpRow {
    fn new(s: &Samples, si: usize, tier: &TierModel) -> TopUpRow {
        let cap = tier.cap.as_ref();
        let daily = cap.and_then(|c| c.daily_tokens);
        let one = DayStats::one(s, si, tier.model, tier.fallback, daily);
        let at = |r: f64, c: f64| user_day_bought(&one, cap, r, 0.0, c).cost;
        let full = |c: f64| user_day_bought(&one, cap, 0.0, 1.0, c).cost;
        let (u00, u01, u10, u11) = (at(0.0, 0.0), at(0.0, 1.0), at(1.0, 0.0), at(1.0, 1.0));
        let t = s.tokens[si];
        TopUpRow {
            tokens: t,
            within_daily: daily.map_or(t, |dl| t.min(dl)),
            cost: [u00, u01 - u00, u10 - u00, u11 - u10 - u01 + u00],
            full: [full(0.0), full(1.0) - full(0.0)],
        }
    }

    /// The day's cost with a cut `r`, a share `b` of what is past the caps
    /// bought, at cached share `c`.
    #[inline]
    fn cost(&self, r: f64, b: f64, c: f64) -> f64 {
        let k = &self.cost;
        let ud = k[0] + k[1] * c + r * (k[2] + k[3] * c);
        if b > 0.0 {
            ud + b * (self.full[0] + self.full[1] * c - ud)
        } else {
            ud
        }
    }
}

impl TopUpPanel {
    /// The panel of tier `ti`, from the engine's `seed`, drawing user-days
    /// among `samples` per class.
    pub(super) fn new(seed: u64, ti: usize, days: usize, classes: &[Samples], tier: &TierModel) -> TopUpPanel {
        let mut rng = stream(seed, STREAM_TOPUP_PANEL + ti as u64);
        let n = classes.first().map_or(0, Samples::len).max(1) as u64;
        let mut class_u: Vec<f64> = (0..PANEL_USERS).map(|_| open01(&mut rng)).collect();
        class_u.sort_by(f64::total_cmp);
        TopUpPanel {
            class_u,
            buyer_u: (0..PANEL_USERS).map(|_| open01(&mut rng)).collect(),
            active_u: (0..PANEL_USERS * days).map(|_| open01(&mut rng) as f32).collect(),
            sample: (0..PANEL_USERS * days).map(|_| (rng.next_u64() % n) as u32).collect(),
            rows: classes
                .iter()
                .map(|s| (0..s.len()).map(|si| TopUpRow::new(s, si, tier)).collect())
                .collect(),
        }
    }
}

/// What a tier's top-ups did, per day and class (0 ordinary, 1 power users).
#[derive(Clone, Debug)]
pub(super) struct TopUpMonth {
    /// Share of the tokens past the caps that top-ups served.
    pub bought: Vec<[f64; 2]>,
    /// Top-ups bought per active user-day.
    pub purchases: Vec<[f64; 2]>,
}

/// How many top-ups a buyer buys for what a day needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Buying {
    /// Whole top-ups, rounded up (a simulated user).
    Whole,
    /// Exactly what is needed (the central month's average user).
    Fluid,
}

/// One user's top-up state through the month, and the step of one day.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Wallet {
    /// Tokens bought and not used yet.
    pub balance: f64,
    /// Top-ups bought so far this month.
    pub bought: f64,
}

/// What one day past the caps came to under a top-up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Covered {
    /// Tokens past the caps that top-ups served.
    pub tokens: f64,
    /// Top-ups bought today.
    pub purchases: f64,
    /// Tokens past the caps that top-ups did not serve.
    pub uncovered: f64,
}

impl Wallet {
    /// A day with `past` tokens past the caps: the balance first, then (a
    /// buyer) as many top-ups of `size` tokens as the rest needs, at most
    /// `max` in the month, bought as `buying` says.
    pub(super) fn day(&mut self, past: f64, buyer: bool, size: f64, max: f64, buying: Buying) -> Covered {
        if past <= 0.0 {
            return Covered::default();
        }
        let from_balance = past.min(self.balance);
        self.balance -= from_balance;
        let need = past - from_balance;
        let mut purchases = 0.0;
        if buyer && need > 0.0 && self.bought < max && size > 0.0 {
            let k = need / size;
            purchases = match buying {
                Buying::Whole => k.ceil(),
                Buying::Fluid => k,
            }
            .min(max - self.bought);
            self.bought += purchases;
            self.balance += purchases * size;
        }
        let more = need.min(self.balance);
        self.balance -= more;
        Covered {
            tokens: from_balance + more,
            purchases,
            uncovered: need - more,
        }
    }
}

impl Engine<'_> {
    /// The month of tier `ti` (which offers a top-up) at active share `a`,
    /// cached share `c`, uptake `uptake`: through its panel, or (the
    /// central engine) the fluid month.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn top_up_month(
        &self,
        ti: usize,
        a: f64,
        c: f64,
        uptake: f64,
        slot: &[usize],
        power: &[f64],
    ) -> Option<(MonthlyCut, TopUpMonth)> {
        let cap = self.model.tiers[ti].cap.as_ref()?;
        cap.top_up.as_ref()?;
        Some(match self.topup_panels.get(ti).and_then(Option::as_ref) {
            Some(panel) => self.top_up_panel(ti, panel, a, c, uptake, slot, power),
            None => self.top_up_fluid(ti, a, uptake, slot),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn top_up_panel(
        &self,
        ti: usize,
        panel: &TopUpPanel,
        a: f64,
        c: f64,
        uptake: f64,
        slot: &[usize],
        power: &[f64],
    ) -> (MonthlyCut, TopUpMonth) {
        let days = slot.len();
        let tier = &self.model.tiers[ti];
        let cap = tier.cap.as_ref();
        let top = cap.and_then(|c| c.top_up.as_ref()).expect("a tier with a top-up");
        let cap_m = cap.and_then(|c| c.monthly_tokens).unwrap_or(f64::INFINITY);
        // Per day and class: sums of tokens within the daily cap, cut by the
        // monthly one, past both, covered by top-ups; top-ups bought; active
        // user-days, and those left past the caps.
        let mut served_sum = vec![[0.0f64; 2]; days];
        let mut cut_sum = vec![[0.0f64; 2]; days];
        let mut past_sum = vec![[0.0f64; 2]; days];
        let mut covered_sum = vec![[0.0f64; 2]; days];
        let mut bought_sum = vec![[0.0f64; 2]; days];
        let mut active_n = vec![[0.0f64; 2]; days];
        let mut left_n = vec![[0.0f64; 2]; days];
        // Each user's cost by day and over the month (sums of x and x²):
        // how much of the spread of independent days survives in the month.
        let mut day_x = vec![[0.0f64; 2]; days];
        let mut month_x = [0.0f64; 2];
        let a32 = a as f32;
        // Day by day across the panel; the users are in order of their
        // class draw, so a day's power users are its first `npow`.
        let users = PANEL_USERS;
        let buyer: Vec<bool> = panel.buyer_u.iter().map(|&x| x < uptake).collect();
        let mut wallet = vec![Wallet::default(); users];
        let mut cum = vec![0.0f64; users];
        let mut hit = vec![false; users];
        let mut mc = vec![0.0f64; users];
        for d in 0..days {
            let npow = panel.class_u.partition_point(|&x| x < power[d]);
            let act = &panel.active_u[d * users..(d + 1) * users];
            let smp = &panel.sample[d * users..(d + 1) * users];
            for (k, range) in [(0, npow..users), (1, 0..npow)] {
                let rows = &panel.rows[self.demand.class(slot[d], k == 1)];
                let mut sums = [0.0f64; 7];
                let mut x = [0.0f64; 2];
                for u in range {
                    if act[u] >= a32 {
                        continue;
                    }
                    let row = &rows[smp[u] as usize];
                    let served = row.within_daily;
                    let room = (cap_m - cum[u]).max(0.0);
                    let cut = (served - room).max(0.0);
                    cum[u] += served - cut;
                    let past = row.tokens - served + cut;
                    let cost = if past > 0.0 {
                        hit[u] = true;
                        let cov = wallet[u].day(past, buyer[u], top.tokens, top.max_per_month, Buying::Whole);
                        sums[3] += cov.tokens;
                        sums[4] += cov.purchases;
                        if cov.uncovered > 0.0 {
                            sums[6] += 1.0;
                        }
                        let r = if served > 0.0 { cut / served } else { 0.0 };
                        row.cost(r, cov.tokens / past, c)
                    } else {
                        row.cost(0.0, 0.0, c)
                    };
                    sums[0] += served;
                    sums[1] += cut;
                    sums[2] += past;
                    sums[5] += 1.0;
                    x[0] += cost;
                    x[1] += cost * cost;
                    mc[u] += cost;
                }
                served_sum[d][k] = sums[0];
                cut_sum[d][k] = sums[1];
                past_sum[d][k] = sums[2];
                covered_sum[d][k] = sums[3];
                bought_sum[d][k] = sums[4];
                active_n[d][k] = sums[5];
                left_n[d][k] = sums[6];
                day_x[d][0] += x[0];
                day_x[d][1] += x[1];
            }
        }
        let hit_users = hit.iter().filter(|&&h| h).count();
        for &m in &mc {
            month_x[0] += m;
            month_x[1] += m * m;
        }
        let n = PANEL_USERS as f64;
        let var = |x: &[f64; 2]| x[1] / n - (x[0] / n).powi(2);
        let by_day: f64 = day_x.iter().map(|x| var(x).max(0.0)).sum();
        let kc = if by_day > 0.0 {
            var(&month_x).max(0.0) / by_day
        } else {
            1.0
        };
        let day_var = day_x
            .iter()
            .map(|x| {
                // E[x²] − E[x]² cancels to rounding noise when every user-day
                // is alike; below it there is no spread.
                let (v, m) = (var(x), x[0] / n);
                [if v > 1e-9 * m * m { kc * v } else { 0.0 }, 0.0, 0.0]
            })
            .collect();
        let ratio = |x: &[[f64; 2]], of: &[[f64; 2]]| -> Vec<[f64; 2]> {
            x.iter()
                .zip(of)
                .map(|(x, o)| [0, 1].map(|k| if o[k] > 0.0 { x[k] / o[k] } else { 0.0 }))
                .collect()
        };
        (
            MonthlyCut {
                r: ratio(&cut_sum, &served_sum),
                hit_days: ratio(&left_n, &active_n),
                users_hit: hit_users as f64 / n,
                day_var,
            },
            TopUpMonth {
                bought: ratio(&covered_sum, &past_sum),
                purchases: ratio(&bought_sum, &active_n),
            },
        )
    }

    /// The central month: each class's average user (active a share `a` of
    /// each day, so using `a` x its active day), a buyer or not, its
    /// top-ups fluid (not rounded up to whole ones).
    fn top_up_fluid(&self, ti: usize, a: f64, uptake: f64, slot: &[usize]) -> (MonthlyCut, TopUpMonth) {
        let days = slot.len();
        let tier = &self.model.tiers[ti];
        let cap = tier.cap.as_ref().expect("a tier with a top-up");
        let top = cap.top_up.as_ref().expect("a tier with a top-up");
        let cap_m = cap.monthly_tokens.unwrap_or(f64::INFINITY);
        let mut r = vec![[0.0f64; 2]; days];
        let mut left = vec![[0.0f64; 2]; days];
        let mut bought = vec![[0.0f64; 2]; days];
        let mut purchases = vec![[0.0f64; 2]; days];
        let mut monthly_hit = [false; 2];
        for k in 0..2 {
            let mut cum = 0.0;
            let mut wallets = [Wallet::default(); 2];
            for d in 0..days {
                let st = &self.stats[ti][self.demand.class(slot[d], k == 1)];
                let served = a * st.sp_tok;
                let room = (cap_m - cum).max(0.0);
                let cut = (served - room).max(0.0);
                cum += served - cut;
                if cut > 0.0 {
                    monthly_hit[k] = true;
                }
                if served > 0.0 {
                    r[d][k] = cut / served;
                }
                let past = cut + a * st.ex_tok;
                if past <= 0.0 || a <= 0.0 {
                    continue;
                }
                // [non-buyers, buyers], weighted by uptake.
                let w = [1.0 - uptake, uptake];
                let mut covered = 0.0;
                for (j, wallet) in wallets.iter_mut().enumerate() {
                    let cov = wallet.day(past, j == 1, top.tokens, top.max_per_month, Buying::Fluid);
                    covered += w[j] * cov.tokens;
                    purchases[d][k] += w[j] * cov.purchases / a;
                    if cov.uncovered > 1e-9 * past {
                        left[d][k] += w[j];
                    }
                }
                bought[d][k] = covered / past;
            }
        }
        let p = self.model.power_share;
        let daily = self.users_hit_daily(ti, a, slot, &vec![p; days]);
        let monthly = (1.0 - p) * f64::from(u8::from(monthly_hit[0])) + p * f64::from(u8::from(monthly_hit[1]));
        (
            MonthlyCut {
                r,
                hit_days: left,
                users_hit: daily.max(monthly),
                day_var: vec![[0.0; 3]; days],
            },
            TopUpMonth { bought, purchases },
        )
    }
}
