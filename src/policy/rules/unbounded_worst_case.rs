//! `unbounded-worst-case`: nothing bounds a tier's worst-case month.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::UnboundedWorstCase,
    code: "unbounded-worst-case",
    default_level: Level::Deny,
    summary: "Nothing bounds the worst-case month: a tier has no hard cap, blocking tenant budget or blocking breaker.",
    help: "add a hard per-user cap (`limit.daily_tokens` or `monthly_tokens` with `on_limit: block`), a blocking `tenant_budget`, or a blocking `breakers.global_daily_usd`",
    doc: "Fires once per tier whose worst-case month has no bound, with the reason the worst-case computation \
          gives (no limit, a limit that falls back or throttles instead of stopping, ...). It points at the \
          tier's `on_limit`, or at the tier when it has no limit. Judged only when the whole month has no \
          bound (a blocking breaker bounds it however the tiers are capped).",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let (spec, worst) = (c.spec, c.facts.worst);
    if worst.monthly_usd.is_some() {
        return;
    }
    for (tw, t) in worst.tiers.iter().zip(&spec.tiers) {
        if tw.monthly_usd.is_none() {
            let (loc, path) = match &t.limit {
                Some(l) => (l.on_limit_loc, format!("{}.on_limit", l.path)),
                None => (t.loc, t.path.clone()),
            };
            out.push(
                &DEF,
                c.at(loc, &path),
                format!("the worst-case month is unbounded: {}", tw.reason),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_tier_without_a_hard_cap_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(
            &DEF,
            &GOOD.replace(
                "      daily_tokens: 100000\n      on_limit: block",
                "      daily_tokens: 100000\n      on_limit: fallback\n      fallback_model: primary",
            ),
            "",
        );
        assert_eq!(f.len(), 1, "only the pro tier is unbounded");
        assert_eq!(f[0].span.as_ref().unwrap().path, "tiers[1].limit.on_limit");
    }
}
