//! `generic-limit-message`: a limit's message tells the user nothing they can act on.

use super::missing_limit_message::sites;
use super::{Check, Ctx, Level, Out, Rule, RuleDef, generic_message};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::GenericLimitMessage,
    code: "generic-limit-message",
    default_level: Level::Warn,
    summary: "A limit message gives no quota figure or no reset time, or is a bare \"Error 429\" / \"try again later\".",
    help: "say what was used of what quota and when it resets, e.g. \"You've used 90% of your daily AI quota (450/500 requests). Quota resets at midnight PST.\"",
    doc: "Fires for each message of a limit, tenant budget or breaker that is empty, a bare error (\"Error 429\", \
          \"try again later\", ...), or lacks a figure (a number or `{used}`, `{limit}`, `{remaining}`, `{percent}`) \
          or a reset time (`{reset}`, \"midnight\", \"tomorrow\", ...). The message says which is missing.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    for s in sites(c.spec) {
        if let Some(t) = s.message
            && let Some(why) = generic_message(&t.text)
        {
            out.push(
                &DEF,
                c.at(t.loc, &t.path),
                format!("the message of {} is generic: {why}", s.what),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_bare_error_message_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(
            &DEF,
            &GOOD.replace(
                "\"You've used {used}/{limit} free tokens today; they reset at {reset}.\"",
                "\"Error 429\"",
            ),
            "",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("bare error"), "{}", f[0].message);
    }
}
