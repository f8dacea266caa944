//! `paying-users-blocked`: the caps turn paying customers away.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, pct};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::PayingUsersBlocked,
    code: "paying-users-blocked",
    default_level: Level::Warn,
    summary: "Limits block more than `max_paying_blocked_share` of a paying tier's active user-days: the cap protects the budget by turning customers away.",
    help: "raise the cap, or degrade instead of blocking (`on_limit: fallback`, `shrink` or `throttle`, or overage billing) so paying users keep working",
    doc: "Fires for each tier priced above 0 where the simulation shows limits blocking more than \
          `max_paying_blocked_share` of its active user-days, pointing at the tier's limit. Needs a \
          simulation: a library caller that runs none gets no finding. The figure is `max_paying_blocked_share`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let Some(s) = c.facts.sim else { return };
    for (t, ts) in c.spec.tiers.iter().zip(&s.tiers) {
        let paying = t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0);
        let blocked = ts.effects.user_days_blocked_share;
        if paying && blocked > c.th.max_paying_blocked_share {
            let (loc, path) = t.limit_site();
            out.push(
                &DEF,
                c.at(loc, path),
                format!(
                    "limits block {} of the active days of paying tier `{}` ({} of its users hit a limit in a month); policy allows {}",
                    pct(blocked),
                    t.name,
                    pct(ts.effects.users_hit_share),
                    pct(c.th.max_paying_blocked_share)
                ),
            )
            .figure = Some(Figure {
                name: "max_paying_blocked_share".into(),
                value: blocked,
                threshold: c.th.max_paying_blocked_share,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_tightly_capped_paying_tier_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let tight = GOOD.replace("      daily_tokens: 100000\n", "      daily_tokens: 3000\n");
        let f = fired(&DEF, &tight, "");
        assert_eq!(f.len(), 1, "the free tier is not judged");
        assert!(f[0].message.contains("paying tier `pro`"), "{}", f[0].message);
    }
}
