//! The slow, obviously-correct simulator: every user, every day, every
//! interaction, every call. It exists to check the fast engine
//! ([`super::month`]) in tests: given the same shared draw of a trial, both
//! must agree in distribution. It shares with the engine only the spec's
//! documented semantics, not its shortcuts (no demand tables, no classes,
//! no panel, no variance term).

use rand::Rng;

use super::demand::{draw_call, draw_calls, stochastic_round};
use super::month::{Draw, Month, TierDraw, TierMonth};
use crate::dist::open01;
use crate::economics::{Effect, Model};
use crate::spec::OnLimit;

/// One month, simulated user by user. Users counts are rounded to whole users.
pub fn month<R: Rng + ?Sized>(m: &Model, draw: &Draw, rng: &mut R) -> Month {
    let days = m.days as usize;
    let nt = m.tiers.len();
    let c = draw.cached;

    // The shape of each day, from the draw.
    let mut viral = vec![1.0f64; days];
    let mut power = vec![m.power_share; days];
    let mut pm = vec![1.0f64; days];
    let mut happened = vec![false; m.scenarios.len()];
    let mut loops = Vec::new();
    for e in &draw.events {
        happened[e.scenario] = true;
        let d0 = (e.start_hour / 24.0).floor() as usize;
        match m.scenarios[e.scenario].effect {
            Effect::Viral { multiplier, days: len } => {
                for v in viral.iter_mut().skip(d0).take(len as usize) {
                    *v = v.max(multiplier);
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

    // Every user of every tier: (tier, tenant index or usize::MAX, class uniform).
    struct User {
        tier: usize,
        tenant: usize,
        class_u: f64,
        month_tokens: f64,
        hit: bool,
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
                    });
                }
            }
            TierDraw::Tenants(v) | TierDraw::Sampled { users: v, .. } => {
                // A representative stands for `weight` tenants: the brute
                // simulator (tests, small tiers) simulates it once.
                for (j, n) in v.iter().enumerate() {
                    for _ in 0..n.round() as usize {
                        users.push(User {
                            tier: ti,
                            tenant: j,
                            class_u: open01(rng),
                            month_tokens: 0.0,
                            hit: false,
                        });
                    }
                }
            }
        }
    }
    // The loop client of each loop: the first user of its tier.
    let loop_user: Vec<Option<usize>> = loops
        .iter()
        .map(|(t, ..)| users.iter().position(|u| u.tier == *t))
        .collect();

    let mut out = Month {
        tiers: vec![TierMonth::default(); nt],
        breaker_days: vec![0; m.breakers.len()],
        happened,
        ..Month::default()
    };
    let mut tenant_spend: Vec<Vec<f64>> = draw
        .customers
        .iter()
        .map(|d| match d {
            TierDraw::Tenants(v) | TierDraw::Sampled { users: v, .. } => vec![0.0; v.len()],
            _ => Vec::new(),
        })
        .collect();
    let (tin, tout) = (m.typical_input(), m.typical_output());

    for d in 0..days {
        let mut day_cost = vec![0.0f64; nt];
        let mut day_served = vec![0.0f64; nt];
        let mut day_overage = vec![0.0f64; nt];
        let mut day_active = vec![0.0f64; nt];
        let mut tenant_day: Vec<Vec<f64>> = tenant_spend.iter().map(|v| vec![0.0; v.len()]).collect();
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
                let (_, start, hours, cph) = loops[li];
                let lo = start.max(d as f64 * 24.0);
                let hi = (start + hours).min((d + 1) as f64 * 24.0);
                if hi > lo {
                    let calls = cph * (hi - lo);
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
            let f = within / tokens;
            let mut cost = f * cost_p;
            let mut served = within;
            let past = 1.0 - f;
            if past > 0.0 {
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
            let overage = t
                .overage
                .map_or(0.0, |(after, rate)| (served - after).max(0.0) * rate / 1000.0);
            if u.tenant != usize::MAX
                && let Some(b) = &t.budget
            {
                if b.block {
                    let left = (b.monthly_usd - tenant_spend[u.tier][u.tenant] - tenant_day[u.tier][u.tenant]).max(0.0);
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
        }
        // Breakers on the day's total.
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
                    if b.throttle.is_none() {
                        tm.blocked_user_days += day_active[ti] * (1.0 - s);
                    } else {
                        tm.degraded_user_days += day_active[ti] * (1.0 - s);
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
                for (j, x) in tenant_day[ti].iter().enumerate() {
                    let before = tenant_spend[ti][j];
                    let after = before + x * scale;
                    for (ai, al) in b.alerts.iter().enumerate() {
                        let th = al * b.monthly_usd;
                        if before < th && after >= th {
                            tm.tenant_alerts[ai] += 1.0;
                        }
                    }
                    tenant_spend[ti][j] = after;
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
        tm.users = n_users;
        tm.subscription_revenue = payers * t.price.unwrap_or(0.0);
        tm.users_hit = users.iter().filter(|u| u.tier == ti && u.hit).count() as f64;
    }
    out.cost = out.tiers.iter().map(|t| t.cost).sum();
    out.revenue = out.tiers.iter().map(TierMonth::revenue).sum();
    out
}
