//! `breaker-below-typical-day`: a breaker whose limit is below the typical
//! day of what it covers trips every day.

use super::{Check, Ctx, Level, Out, Rule, RuleDef, usd};
use crate::spec::{Audience, BreakerLevel};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::BreakerBelowTypicalDay,
    code: "breaker-below-typical-day",
    default_level: Level::Warn,
    summary: "A breaker's daily limit is below the typical day of what it covers, so it trips every day.",
    help: "raise the breaker's limit above the typical day it covers, or lower that day (a cheaper model, fewer tokens)",
    doc: "Fires for each breaker whose `limit` is below the typical day of what it counts, at central inputs \
          (every quantity at its median or mode, no scenario): a user breaker against a tier's typical active \
          user-day (interactions per active day x the typical interaction at the tier's model), a tenant breaker \
          against a tenant tier's typical tenant-day (users per tenant x active share x that user-day), a \
          feature or global breaker against the month at central inputs over its days. The message names \
          the day it is below and by how much.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let spec = c.spec;
    let per_interactions = spec.usage.interactions_per_active_day.central();
    let active = spec.usage.active_share.central();
    for (name, level, b) in spec.breakers.levels() {
        // The largest typical day among what it covers, and whose it is.
        let day: Option<(f64, String)> = match level {
            BreakerLevel::User => c
                .facts
                .unit_costs
                .iter()
                .map(|u| {
                    (
                        per_interactions * u.typical_interaction_usd,
                        format!("an active user-day of tier `{}`", u.tier),
                    )
                })
                .max_by(|a, b| a.0.total_cmp(&b.0)),
            BreakerLevel::Tenant => spec
                .tiers
                .iter()
                .zip(c.facts.unit_costs)
                .filter_map(|(t, u)| match &t.audience {
                    Audience::Tenants { users_per_tenant, .. } => Some((
                        users_per_tenant.central() * active * per_interactions * u.typical_interaction_usd,
                        format!("a tenant-day of tier `{}`", t.name),
                    )),
                    Audience::Users { .. } => None,
                })
                .max_by(|a, b| a.0.total_cmp(&b.0)),
            BreakerLevel::Feature | BreakerLevel::Global => Some((
                c.facts.typical.cost / f64::from(spec.usage.days.max(1)),
                "the feature's day at central inputs".to_string(),
            )),
        };
        let Some((typical, what)) = day else {
            continue;
        };
        if b.limit.value < typical {
            out.push(
                &DEF,
                c.at(b.limit.loc, &b.limit.path),
                format!(
                    "breaker `{name}` trips at {} a day, below {what} ({}): it would trip every day",
                    usd(b.limit.value),
                    usd(typical)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_limit_below_the_typical_day_only() {
        // GOOD's typical user-day is 3 interactions of about $0.002 each.
        let at = |level: &str, limit: f64| format!("{GOOD}breakers:\n  {level}: {{limit: {limit}, on_trip: block}}\n");
        let f = fired(&DEF, &at("user_daily_usd", 0.0001), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("an active user-day of tier"), "{}", f[0].message);
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("breakers.user_daily_usd.limit")
        );
        assert!(fired(&DEF, &at("user_daily_usd", 5.0), "").is_empty());
        let f = fired(&DEF, &at("global_daily_usd", 0.01), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("the feature's day"), "{}", f[0].message);
        assert!(fired(&DEF, &at("global_daily_usd", 100000.0), "").is_empty());
        // A tenant breaker covers tenant tiers only: GOOD has none.
        assert!(fired(&DEF, &at("tenant_daily_usd", 0.0001), "").is_empty());
    }
}
