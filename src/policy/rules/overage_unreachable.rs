//! `overage-unreachable`: overage billing that starts at or above a blocking
//! daily cap can never be billed.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::fmt::count;
use crate::spec::OnLimit;

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::OverageUnreachable,
    code: "overage-unreachable",
    default_level: Level::Warn,
    summary: "A tier's overage starts at or above its blocking daily cap, so it is never billed.",
    help: "start the overage below the daily cap (`overage.after_daily_tokens`), or let the cap fall back, shrink or throttle instead of blocking",
    doc: "Fires for each tier whose `overage.after_daily_tokens` is at or above its `limit.daily_tokens` while \
          `limit.on_limit` is `block`: a user is stopped at the cap before a single billed token, so the \
          overage revenue the tier was designed around is zero (the simulation already counts it as zero; \
          this says why). A cap that falls back, shrinks or throttles keeps serving past it, so its overage \
          can be reached and the rule does not fire.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    for t in &c.spec.tiers {
        let (Some(limit), Some(overage)) = (&t.limit, &t.overage) else {
            continue;
        };
        let Some(cap) = &limit.daily_tokens else {
            continue;
        };
        let after = &overage.after_daily_tokens;
        if limit.on_limit == OnLimit::Block && after.value >= cap.value {
            out.push(
                &DEF,
                c.at(after.loc, &after.path),
                format!(
                    "tier `{}` bills overage after {} tokens a day, but its daily cap blocks at {}: no user can reach it",
                    t.name,
                    count(after.value),
                    count(cap.value)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    /// GOOD with the pro tier's blocking daily cap of 100,000 tokens, billed
    /// overage past `after` tokens a day, and its `on_limit` replaced.
    fn spec(after: u32, on_limit: &str) -> String {
        let pro = GOOD.find("  - name: pro").expect("GOOD has a pro tier");
        let (head, tail) = GOOD.split_at(pro);
        let tail = tail.replacen("on_limit: block", &format!("on_limit: {on_limit}"), 1);
        let tail = tail.replacen(
            "    model: primary\n",
            &format!("    model: primary\n    overage: {{after_daily_tokens: {after}, usd_per_1k_tokens: 0.02}}\n"),
            1,
        );
        format!("{head}{tail}")
    }

    #[test]
    fn fires_for_an_overage_at_or_past_a_blocking_daily_cap_only() {
        let f = fired(&DEF, &spec(150_000, "block"), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("150,000") && f[0].message.contains("100,000"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("tiers[1].overage.after_daily_tokens")
        );
        assert_eq!(
            fired(&DEF, &spec(100_000, "block"), "").len(),
            1,
            "at the cap: no token past it"
        );
        assert!(
            fired(&DEF, &spec(50_000, "block"), "").is_empty(),
            "below the cap it is reached"
        );
        assert!(
            fired(&DEF, &spec(150_000, "shrink"), "").is_empty(),
            "shrink keeps serving past the cap"
        );
        assert!(fired(&DEF, GOOD, "").is_empty());
    }
}
