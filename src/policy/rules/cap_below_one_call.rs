//! `cap-below-one-call`: a token cap below one typical call of the tier's
//! model serves a user who reaches it nothing useful.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::fmt::count;
use crate::spec::OnLimit;

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::CapBelowOneCall,
    code: "cap-below-one-call",
    default_level: Level::Deny,
    summary: "A tier's daily or monthly token cap is below one typical call (input + output), so a user who reaches it gets nothing useful.",
    help: "raise the cap to at least one typical interaction (the message gives the figure), or drop the tier",
    doc: "Fires for each `limit.daily_tokens` and `limit.monthly_tokens` below the tokens of one typical call: \
          the central input tokens plus the central output tokens of a call (each within the spec's \
          `max_input_tokens` / `max_output_tokens`). The engine serves the cap's share of each call, as if \
          a user could use half an answer; this rule says that such a tier serves nobody (the thread's \
          50-token free tier against a 1,900-token call). The message gives the cap, the call, and the \
          smallest cap that serves one typical interaction (the typical call times the central calls per \
          interaction, within `max_calls`). Deny when the cap blocks (`on_limit: block`, or `top_up`: who \
          does not buy is blocked); warn when it falls back, shrinks or throttles (users still get \
          something, at a degraded level). A level the policy sets for the rule applies to both.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let (tin, tout, interaction) = c.spec.interaction.typical_tokens();
    let call = tin + tout;
    // The policy's `[rules]` level, when it sets one, applies to every cap.
    let set_by_policy = c.policy.levels.iter().any(|(r, _)| *r == Rule::CapBelowOneCall);
    for t in &c.spec.tiers {
        let Some(limit) = &t.limit else { continue };
        for (cap, per) in [(&limit.daily_tokens, "a day"), (&limit.monthly_tokens, "a month")] {
            let Some(cap) = cap else { continue };
            if cap.value >= call {
                continue;
            }
            let blocks = limit.on_limit == OnLimit::Block;
            let f = out.push(
                &DEF,
                c.at(cap.loc, &cap.path),
                format!(
                    "tier `{}` caps a user at {} tokens {per}, below one typical call ({} tokens: {} input + {} output): \
                     a user who reaches it gets nothing useful; the smallest cap that serves one typical interaction is {} tokens",
                    t.name,
                    count(cap.value),
                    count(call),
                    count(tin),
                    count(tout),
                    count(interaction.ceil())
                ),
            );
            if !blocks && !set_by_policy {
                f.level = Level::Warn;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    /// GOOD (typical call: 1,000 input + 200 output tokens, 1 call an
    /// interaction) with the free tier's daily cap and `on_limit` replaced.
    fn spec(daily: u32, on_limit: &str) -> String {
        GOOD.replacen(
            "      daily_tokens: 20000\n",
            &format!("      daily_tokens: {daily}\n"),
            1,
        )
        .replacen("on_limit: block", &format!("on_limit: {on_limit}"), 1)
    }

    #[test]
    fn fires_below_one_call_only_deny_when_it_blocks() {
        let f = fired(&DEF, &spec(1199, "block"), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].level, Level::Deny);
        for part in [
            "1,199 tokens a day",
            "1,200 tokens: 1,000 input + 200 output",
            "1,200 tokens",
        ] {
            assert!(f[0].message.contains(part), "{part}: {}", f[0].message);
        }
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("tiers[0].limit.daily_tokens")
        );
        // At one call it serves one call.
        assert!(fired(&DEF, &spec(1200, "block"), "").is_empty());
        assert!(fired(&DEF, GOOD, "").is_empty());
        // A cap that shrinks still serves something: warn.
        let f = fired(&DEF, &spec(50, "shrink"), "");
        assert_eq!(f.iter().map(|x| x.level).collect::<Vec<_>>(), vec![Level::Warn]);
        // The policy's level applies to both.
        let f = fired(&DEF, &spec(50, "shrink"), "[rules]\ncap-below-one-call = \"deny\"\n");
        assert_eq!(f[0].level, Level::Deny);
    }

    #[test]
    fn a_monthly_cap_and_several_calls_an_interaction_are_counted() {
        // 3 calls an interaction: one typical interaction is 3,600 tokens.
        let s = GOOD
            .replacen("  max_calls: 2\n", "  calls: 3\n  max_calls: 4\n", 1)
            .replacen("      daily_tokens: 20000\n", "      monthly_tokens: 1000\n", 1);
        let f = fired(&DEF, &s, "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("1,000 tokens a month"), "{}", f[0].message);
        assert!(
            f[0].message.ends_with("one typical interaction is 3,600 tokens"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("tiers[0].limit.monthly_tokens")
        );
    }
}
