//! `free-tier-without-hard-cap`: a tier that pays nothing can run up any cost.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::spec::OnLimit;

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::FreeTierWithoutHardCap,
    code: "free-tier-without-hard-cap",
    default_level: Level::Deny,
    summary: "A tier that pays nothing has no hard per-user cap with `on_limit: block`.",
    help: "give free users a daily token cap with `on_limit: block` and a message that says when it resets",
    doc: "Fires for each tier priced at 0 whose limit is missing or does not block (fallback, shrink, throttle, \
          overage): its users pay nothing, so nothing but a hard cap stops one of them from costing without end. \
          Points at the limit's `on_limit`, or at the tier when it has no limit.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    for t in &c.spec.tiers {
        if t.price_usd_per_month.as_ref().is_some_and(|p| p.value == 0.0) {
            let hard = t.limit.as_ref().is_some_and(|l| l.on_limit == OnLimit::Block);
            if !hard {
                let (loc, path, what) = match &t.limit {
                    Some(l) => (
                        l.on_limit_loc,
                        format!("{}.on_limit", l.path),
                        format!("its limit does `{}` instead of stopping", l.on_limit.as_str()),
                    ),
                    None => (t.loc, t.path.clone(), "it has no limit".to_string()),
                };
                out.push(
                    &DEF,
                    c.at(loc, &path),
                    format!("free tier `{}` has no hard cap: {what}", t.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_free_tier_that_does_not_block() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(
            &DEF,
            &GOOD.replace(
                "      daily_tokens: 20000\n      on_limit: block",
                "      daily_tokens: 20000\n      on_limit: throttle",
            ),
            "",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("does `throttle`"), "{}", f[0].message);
    }
}
