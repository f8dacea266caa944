//! The limits a spec sets and what each tells the users it stops: the
//! designed failure mode, shown beside what the limits do to users.

use crate::fmt::{self, pct, usd};
use crate::spec::{BreakerLevel, OnBudget, OnLimit, OnTrip, Spec};

pub use crate::outcome::LimitInfo;

fn at_cap(on: OnLimit, fallback: Option<&str>, shrink_to: f64, throttle_to: f64) -> String {
    match on {
        OnLimit::Block => "blocked until it resets".into(),
        OnLimit::Fallback => format!("served by `{}`", fallback.unwrap_or("the fallback model")),
        OnLimit::Shrink => format!("answers cut to {} of their length", pct(shrink_to)),
        OnLimit::Throttle => format!("slowed to {} of the demand", pct(throttle_to)),
    }
}

/// Every per-user cap, tenant budget and breaker of a spec.
pub fn of(spec: &Spec) -> Vec<LimitInfo> {
    let mut v = Vec::new();
    for t in &spec.tiers {
        if let Some(l) = &t.limit {
            let mut caps = Vec::new();
            if let Some(d) = &l.daily_tokens {
                caps.push(format!("{} tokens a day", fmt::count(d.value)));
            }
            if let Some(m) = &l.monthly_tokens {
                caps.push(format!("{} tokens a month", fmt::count(m.value)));
            }
            let mut limit = caps.join(", ");
            if let Some(w) = &l.warn_at {
                limit.push_str(&format!("; warned at {}", pct(w.value)));
            }
            v.push(LimitInfo {
                applies_to: format!("each `{}` user", t.name),
                limit,
                at_limit: match &l.top_up {
                    None => at_cap(l.on_limit, l.fallback_model.as_deref(), l.shrink_to, l.throttle_to),
                    Some(u) => format!(
                        "offered {} {} for {} (at most {} a month); otherwise {}",
                        fmt::count(u.amount.value),
                        u.unit.as_str(),
                        usd(u.price_usd.value),
                        fmt::count(u.max_per_month.value),
                        at_cap(l.on_limit, l.fallback_model.as_deref(), l.shrink_to, l.throttle_to)
                    ),
                },
                message: l.message.as_ref().map(|m| m.text.clone()),
            });
        }
        if let Some(b) = &t.tenant_budget {
            let alerts: Vec<String> = b.alerts.iter().map(|a| pct(*a)).collect();
            v.push(LimitInfo {
                applies_to: format!("each `{}` tenant", t.name),
                limit: format!(
                    "{}{} a month{}",
                    if b.monthly_drawn.is_some() {
                        "drawn per tenant, median "
                    } else {
                        ""
                    },
                    usd(b.monthly_usd.value),
                    if alerts.is_empty() {
                        String::new()
                    } else {
                        format!("; alerts at {}", alerts.join(", "))
                    }
                ),
                at_limit: match b.on_limit {
                    OnBudget::Block => "the tenant's AI stops for the month".into(),
                    OnBudget::Notify => "alerts only; service goes on".into(),
                },
                message: b.message.as_ref().map(|m| m.text.clone()),
            });
        }
        // Named accounts: one line for them all (a tier lists up to 200).
        if !t.accounts.is_empty() {
            let lo = t
                .accounts
                .iter()
                .map(|a| a.monthly_usd.value)
                .fold(f64::INFINITY, f64::min);
            let hi = t.accounts.iter().map(|a| a.monthly_usd.value).fold(0.0, f64::max);
            let blocking = t.accounts.iter().filter(|a| a.on_budget_block()).count();
            v.push(LimitInfo {
                applies_to: format!("each of `{}`'s {} named accounts", t.name, t.accounts.len()),
                limit: if lo == hi {
                    format!("its own budget, {} a month", usd(lo))
                } else {
                    format!("its own budget, {} to {} a month", usd(lo), usd(hi))
                },
                at_limit: match blocking {
                    0 => "alerts only; service goes on".into(),
                    n if n == t.accounts.len() => "the account's AI stops for the month".into(),
                    n => format!("the AI of {n} of them stops for the month; the others' alerts only"),
                },
                // Accounts are told what the tier's tenants are told.
                message: t
                    .tenant_budget
                    .as_ref()
                    .and_then(|b| b.message.as_ref())
                    .map(|m| m.text.clone()),
            });
        }
    }
    for (name, level, b) in spec.breakers.levels() {
        let who = match level {
            BreakerLevel::User => "the user is",
            BreakerLevel::Tenant => "the tenant's users are",
            BreakerLevel::Feature | BreakerLevel::Global => "everyone is",
        };
        let mut at_limit = match b.on_trip {
            OnTrip::Block => format!("{who} stopped for the day"),
            OnTrip::Throttle => format!("slow mode: {} of the demand served", pct(b.factor)),
            OnTrip::Fallback => format!(
                "the rest of the day is served by `{}`",
                b.fallback_model.as_deref().unwrap_or_default()
            ),
            OnTrip::Shrink => format!("answers cut to {} of their output", pct(b.factor)),
            OnTrip::Notify => "nothing is cut".into(),
        };
        if !b.notify.is_empty() {
            let names: Vec<&str> = b.notify.iter().map(|w| w.as_str()).collect();
            at_limit.push_str(&format!("; tells {}", names.join(", ")));
        }
        v.push(LimitInfo {
            applies_to: format!("breaker `{name}`"),
            limit: match level {
                BreakerLevel::User => format!("{} a user a day", usd(b.limit.value)),
                BreakerLevel::Tenant => format!("{} a tenant a day", usd(b.limit.value)),
                _ => format!("{} a day", usd(b.limit.value)),
            },
            at_limit,
            message: b.message.as_ref().map(|m| m.text.clone()),
        });
    }
    v
}
