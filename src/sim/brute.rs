//! The slow, obviously-correct simulator: every user, every day, every
//! interaction, every call. It exists to check the fast engine
//! ([`super::month`]) in tests: given the same shared draw of a trial, both
//! must agree in distribution. It shares with the engine only the spec's
//! documented semantics, not its shortcuts (no demand tables, no classes,
//! no panel, no variance term). What it shares with the engine is not under
//! test: the shape of each day from the scenarios and the breakers on the
//! day's total ([`super::day`]).
//!
//! It is no oracle for a represented tier ([`TierDraw::Sampled`], more
//! tenants than [`super::month::TENANT_REPS`]): it simulates each of the 64
//! representatives once, as if the tier had 64 tenants, ignoring the
//! `weight` tenants each stands for and their `mass`. Compare it with the
//! engine on tiers of at most 64 tenants.

use rand::Rng;

use super::day::{DayShape, book_cut_days, trip_breakers, trip_one};
use super::demand::{draw_call, draw_calls, stochastic_round};
use super::month::{Draw, Month, TierDraw, TierMonth, breached, crossed};
use crate::dist::open01;
use crate::economics::Model;
use crate::spec::{BreakerLevel, OnLimit};

/// One month, simulated user by user. Users counts are rounded to whole users.
pub fn month<R: Rng + ?Sized>(m: &Model, draw: &Draw, rng: &mut R) -> Month {
    let days = m.days as usize;
    let nt = m.tiers.len();
    let c = draw.cached;

    // The shape of each day, from the draw (the spec's semantics, shared
    // with the engine).
    let DayShape {
        viral,
        power,
        prices: pm,
        loops,
        happened,
    } = DayShape::new(m, draw);

    // Every user of every tier: (tier, tenant index or usize::MAX, class uniform).
    struct User {
        tier: usize,
        tenant: usize,
        class_u: f64,
        month_tokens: f64,
        hit: bool,
        /// Buys top-ups when past the cap (drawn once, for a tier with one).
        buyer: bool,
        /// Top-up tokens bought and not used, and top-ups bought this month.
        balance: f64,
        bought: f64,
    }
    let mut users = Vec::new();
    for (ti, d) in draw.customers.iter().enumerate() {
        match d {
            TierDraw::Users(n) => {
                for _ in 0..n.round() as usize {
                    users.push(User {
                        tier: ti,
                        tenant: usize::MAX,
                        class_u: open01(rng),
                        month_tokens: 0.0,
                        hit: false,
                        buyer: buys(m, draw, ti, rng),
                        balance: 0.0,
                        bought: 0.0,
                    });
                }
            }
            TierDraw::Tenants(v) | TierDraw::Sampled { users: v, .. } => {
                // A representative stands for `weight` tenants: the brute
                // simulator (tests, small tiers) simulates it once.
                // Named accounts follow, as tenants `v.len() + k`.
                let accounts = draw.accounts.get(ti).map_or(&[][..], Vec::as_slice);
                for (j, n) in v.iter().chain(accounts).enumerate() {
                    for _ in 0..n.round() as usize {
                        users.push(User {
                            tier: ti,
                            tenant: j,
                            class_u: open01(rng),
                            month_tokens: 0.0,
                            hit: false,
                            buyer: buys(m, draw, ti, rng),
                            balance: 0.0,
                            bought: 0.0,
                        });
                    }
                }
            }
        }
    }
    // Each tenant's budget (USD a month) and whether it blocks: the tier's
    // (drawn per tenant, or its `monthly_usd`), each account's own.
    let budgets: Vec<Vec<Option<(f64, bool)>>> = draw
        .customers
        .iter()
        .enumerate()
        .map(|(ti, d)| {
            let t = &m.tiers[ti];
            match d {
                TierDraw::Tenants(v) | TierDraw::Sampled { users: v, .. } => (0..v.len())
                    .map(|j| {
                        t.budget.as_ref().map(|b| {
                            let drawn = draw.budgets.get(ti).and_then(|x| x.get(j)).copied();
                            (drawn.unwrap_or(b.monthly_usd), b.block)
                        })
                    })
                    .chain(t.accounts.iter().map(|a| Some((a.budget.monthly_usd, a.budget.block))))
                    .collect(),
                TierDraw::Users(_) => Vec::new(),
            }
        })
        .collect();
    // The loop client of each loop: the first user of its tier.
    let loop_user: Vec<Option<usize>> = loops
        .iter()
        .map(|lp| users.iter().position(|u| u.tier == lp.tier))
        .collect();
    // A runaway loop's client does not buy top-ups.
    for &lu in loop_user.iter().flatten() {
        users[lu].buyer = false;
    }

    let mut out = Month::empty(m, happened);
    let mut tenant_spend: Vec<Vec<f64>> = budgets.iter().map(|v| vec![0.0; v.len()]).collect();
    let (tin, tout) = (m.typical_input(), m.typical_output());
    let user_breaker = m.breaker_at(BreakerLevel::User);
    let tenant_breaker = m.breaker_at(BreakerLevel::Tenant);
    // Per tier of tenants, each tenant's day: cost, tokens served, overage
    // revenue, active users (for the tenant breaker).
    let tenant_rows: Vec<usize> = tenant_spend.iter().map(Vec::len).collect();

    for d in 0..days {
        let mut day_cost = vec![0.0f64; nt];
        let mut day_served = vec![0.0f64; nt];
        let mut day_overage = vec![0.0f64; nt];
        let mut day_active = vec![0.0f64; nt];
        let mut tenant_day: Vec<Vec<f64>> = tenant_spend.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut user_tripped = vec![false; m.breakers.len()];
        let mut tenant_own: Vec<Vec<[f64; 4]>> = tenant_rows.iter().map(|&n| vec![[0.0; 4]; n]).collect();
        for (ui, u) in users.iter_mut().enumerate() {
            let t = &m.tiers[u.tier];
            let is_loop_client: Vec<usize> = loop_user
                .iter()
                .enumerate()
                .filter(|(_, lu)| **lu == Some(ui))
                .map(|(li, _)| li)
                .collect();
            let active = open01(rng) < draw.active;
            if !active && is_loop_client.is_empty() {
                continue;
            }
            let price = &m.prices[t.model];
            let fb = &m.prices[t.fallback.unwrap_or(t.model)];
            // What this user asks for today, call by call.
            let (mut tokens, mut out_tok) = (0.0, 0.0);
            let (mut cost_p, mut cost_f, mut out_cost_p) = (0.0, 0.0, 0.0);
            if active {
                day_active[u.tier] += 1.0;
                if u.tenant != usize::MAX {
                    tenant_own[u.tier][u.tenant][3] += 1.0;
                }
                out.tiers[u.tier].user_days += 1.0;
                let mult = viral[d] * if u.class_u < power[d] { m.power_multiplier } else { 1.0 };
                let n = stochastic_round(m.interactions.sample(rng) * mult, rng).max(0.0) as usize;
                for _ in 0..n {
                    for _ in 0..draw_calls(m, rng) as usize {
                        let (i, o) = draw_call(m, rng);
                        tokens += i + o;
                        out_tok += o;
                        cost_p += price.call_cost(i, o, c);
                        cost_f += fb.call_cost(i, o, c);
                        out_cost_p += o * price.rates(i).output;
                    }
                }
            }
            for &li in &is_loop_client {
                let hours = loops[li].hours_on(d);
                if hours > 0.0 {
                    let calls = loops[li].calls_per_hour * hours;
                    tokens += calls * (tin + tout);
                    out_tok += calls * tout;
                    cost_p += calls * price.call_cost(tin, tout, c);
                    cost_f += calls * fb.call_cost(tin, tout, c);
                    out_cost_p += calls * tout * price.rates(tin).output;
                }
            }
            if tokens <= 0.0 {
                continue;
            }
            let tm = &mut out.tiers[u.tier];
            tm.demand_tokens += tokens;
            // Caps: the daily cap, then what is left of the monthly one.
            let cap = t.cap.as_ref();
            let daily = cap.and_then(|c| c.daily_tokens).unwrap_or(f64::INFINITY);
            let within_daily = tokens.min(daily);
            let room = cap
                .and_then(|c| c.monthly_tokens)
                .map_or(f64::INFINITY, |mt| (mt - u.month_tokens).max(0.0));
            let within = within_daily.min(room);
            u.month_tokens += within;
            if within < tokens {
                u.hit = true;
            }
            if let Some(w) = cap.and_then(|c| c.warn_at).zip(cap.and_then(|c| c.daily_tokens))
                && tokens >= w.0 * w.1
            {
                tm.warned_user_days += 1.0;
            }
            // A top-up: what is past the caps is served, at the tier's model,
            // from what the user bought before, then (a buyer) from as many
            // top-ups as the rest needs, at most `max_per_month` a month.
            let mut covered = 0.0;
            let mut uncovered = tokens - within;
            if let Some(top) = cap.and_then(|c| c.top_up.as_ref())
                && within < tokens
            {
                let past_tok = tokens - within;
                let from_balance = past_tok.min(u.balance);
                u.balance -= from_balance;
                let need = past_tok - from_balance;
                if u.buyer && need > 0.0 && u.bought < top.max_per_month && top.tokens > 0.0 {
                    let k = (need / top.tokens).ceil().min(top.max_per_month - u.bought);
                    u.bought += k;
                    u.balance += k * top.tokens;
                    tm.topups += k;
                    tm.topup_revenue += k * top.price_usd;
                }
                let more = need.min(u.balance);
                u.balance -= more;
                covered = from_balance + more;
                uncovered = need - more;
            }
            let f = within / tokens;
            let fc = covered / tokens;
            let mut cost = (f + fc) * cost_p;
            let mut served = within + covered;
            let past = uncovered / tokens;
            if uncovered > 0.0 {
                match cap.map(|c| c.on_limit) {
                    Some(OnLimit::Block) => tm.blocked_user_days += 1.0,
                    Some(OnLimit::Fallback) => {
                        cost += past * cost_f;
                        served += past * tokens;
                        tm.degraded_user_days += 1.0;
                    }
                    Some(OnLimit::Shrink) => {
                        let s = cap.map_or(0.5, |c| c.shrink_to);
                        cost += past * (cost_p - (1.0 - s) * out_cost_p);
                        served += past * (tokens - (1.0 - s) * out_tok);
                        tm.degraded_user_days += 1.0;
                    }
                    Some(OnLimit::Throttle) => {
                        let th = cap.map_or(0.5, |c| c.throttle_to);
                        cost += past * th * cost_p;
                        served += past * th * tokens;
                        tm.degraded_user_days += 1.0;
                    }
                    None => unreachable!("no cap, nothing past it"),
                }
            }
            tm.unserved_tokens += tokens - served;
            cost *= pm[d];
            // The user breaker on this user's day: past its limit, the rest
            // of the day gets its action.
            if let Some((bi, b)) = user_breaker
                && let Some(tr) = trip_one(cost, served, b.limit_usd, m.past_trip(b, u.tier, c))
            {
                out.breaker_trips[bi] += 1.0;
                user_tripped[bi] = true;
                book_cut_days(tm, b.action, 1.0);
                cost = tr.cost;
                served -= tr.served_lost;
                tm.unserved_tokens += tr.served_lost;
            }
            let overage = t
                .overage
                .map_or(0.0, |(after, rate)| (served - after).max(0.0) * rate / 1000.0);
            if u.tenant != usize::MAX
                && let Some((monthly, block)) = budgets[u.tier][u.tenant]
            {
                if block {
                    let left = (monthly - tenant_spend[u.tier][u.tenant] - tenant_day[u.tier][u.tenant]).max(0.0);
                    if cost > left {
                        let kept = if cost > 0.0 { left / cost } else { 1.0 };
                        tm.blocked_user_days += 1.0 - kept;
                        tm.unserved_tokens += served * (1.0 - kept);
                        served *= kept;
                        cost = left;
                    }
                }
                tenant_day[u.tier][u.tenant] += cost;
            }
            day_cost[u.tier] += cost;
            day_served[u.tier] += served;
            day_overage[u.tier] += overage;
            if u.tenant != usize::MAX {
                let row = &mut tenant_own[u.tier][u.tenant];
                row[0] += cost;
                row[1] += served;
                row[2] += overage;
            }
        }
        // The tenant breaker on each tenant's day: past its limit, the rest
        // of the day of the tenant's users gets its action.
        if let Some((bi, b)) = tenant_breaker {
            let mut tripped = false;
            for (ti, rows) in tenant_own.iter().enumerate() {
                let q = m.past_trip(b, ti, c);
                for (j, row) in rows.iter().enumerate() {
                    let Some(tr) = trip_one(row[0], row[1], b.limit_usd, q) else {
                        continue;
                    };
                    tripped = true;
                    out.breaker_trips[bi] += 1.0;
                    let cut = row[0] - tr.cost;
                    day_cost[ti] -= cut;
                    day_served[ti] -= tr.served_lost;
                    day_overage[ti] -= row[2] * tr.past * (1.0 - q.served);
                    if let Some(x) = tenant_day[ti].get_mut(j) {
                        *x -= cut;
                    }
                    let tm = &mut out.tiers[ti];
                    tm.unserved_tokens += tr.served_lost;
                    book_cut_days(tm, b.action, row[3] * tr.past);
                }
            }
            if tripped {
                out.breaker_days[bi] += 1;
            }
        }
        for (bi, t) in user_tripped.iter_mut().enumerate() {
            if *t {
                out.breaker_days[bi] += 1;
                *t = false;
            }
        }
        // Breakers on the day's total (shared with the engine).
        let sc = trip_breakers(m, &day_cost, &day_active, c, &mut out);
        for ti in 0..nt {
            let tm = &mut out.tiers[ti];
            let (scale, kept) = (sc.cost[ti], sc.served[ti]);
            tm.cost += day_cost[ti] * scale;
            tm.served_tokens += day_served[ti] * kept;
            tm.unserved_tokens += day_served[ti] * (1.0 - kept);
            tm.overage_revenue += day_overage[ti] * kept;
            let t = &m.tiers[ti];
            if tm.tenant_alerts.is_empty()
                && let Some(b) = &t.budget
            {
                tm.tenant_alerts = vec![0.0; b.alerts.len()];
            }
            let n = tenant_day[ti].len() - t.accounts.len();
            for (j, x) in tenant_day[ti].iter().enumerate() {
                let before = tenant_spend[ti][j];
                let after = before + x * scale;
                tenant_spend[ti][j] = after;
                if j >= n {
                    // A named account: its own alerts, and whether it breached.
                    let (k, b) = (j - n, &t.accounts[j - n].budget);
                    tm.account_alerts[k] += crossed(&b.alerts, b.monthly_usd, before, after) as f64;
                    tm.account_breached[k] |= breached(b.monthly_usd, after);
                } else if let (Some(b), Some((monthly, _))) = (&t.budget, budgets[ti][j]) {
                    for (ai, al) in b.alerts.iter().enumerate() {
                        let th = al * monthly;
                        if before < th && after >= th {
                            tm.tenant_alerts[ai] += 1.0;
                        }
                    }
                }
            }
        }
    }
    for (ti, t) in m.tiers.iter().enumerate() {
        let tm = &mut out.tiers[ti];
        let (n_users, payers) = match &draw.customers[ti] {
            TierDraw::Users(n) => (n.round(), n.round()),
            TierDraw::Tenants(v) | TierDraw::Sampled { users: v, .. } => {
                (v.iter().map(|x| x.round()).sum(), v.len() as f64)
            }
        };
        let account_users: f64 = draw.accounts.get(ti).map_or(0.0, |v| v.iter().map(|x| x.round()).sum());
        tm.users = n_users + account_users;
        tm.subscription_revenue = payers * t.price.unwrap_or(0.0) + t.accounts.iter().map(|a| a.price).sum::<f64>();
        tm.users_hit = users.iter().filter(|u| u.tier == ti && u.hit).count() as f64;
    }
    out.cost = out.tiers.iter().map(|t| t.cost).sum();
    out.revenue = out.tiers.iter().map(TierMonth::revenue).sum();
    out
}

/// Whether a user of tier `ti` buys top-ups: with the trial's uptake, for a
/// tier that offers one (no draw otherwise, so other specs keep theirs).
fn buys<R: Rng + ?Sized>(m: &Model, draw: &Draw, ti: usize, rng: &mut R) -> bool {
    m.tiers[ti].top_up().is_some() && open01(rng) < draw.uptake.get(ti).copied().unwrap_or(0.0)
}
