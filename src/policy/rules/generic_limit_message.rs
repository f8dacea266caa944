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
          or a reset time (`{reset}`, \"midnight\", \"tomorrow\", ...). The message of a limit that offers a \
          top-up (`limit.top_up`) must also name its price (`{price}`, or the amount in dollars such as \
          `$5`): a user offered a purchase is told what it costs. The message says which is missing.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    for s in sites(c.spec) {
        let Some(t) = s.message else { continue };
        if let Some(why) = generic_message(&t.text) {
            out.push(
                &DEF,
                c.at(t.loc, &t.path),
                format!("the message of {} is generic: {why}", s.what),
            );
        } else if let Some(price) = s.top_up_price
            && !names_price(&t.text, price)
        {
            out.push_help(
                &DEF,
                c.at(t.loc, &t.path),
                format!(
                    "the message of {} offers a top-up but does not name its price ({})",
                    s.what,
                    crate::fmt::usd(price)
                ),
                "name the top-up's price in the message, e.g. \"$5 gets you 500 more requests\" (or `{price}`)",
            );
        }
    }
}

/// Whether `text` names `price` (USD): `{price}`, or a dollar amount equal
/// to it (`$5`, `$5.00`, `$4.99`, `US$5`).
fn names_price(text: &str, price: f64) -> bool {
    if text.contains("{price}") {
        return true;
    }
    text.match_indices('$').any(|(i, _)| {
        let amount: String = text[i + 1..]
            .chars()
            .take_while(|ch| ch.is_ascii_digit() || *ch == '.' || *ch == ',')
            .filter(|ch| *ch != ',')
            .collect();
        let amount = amount.trim_end_matches('.');
        amount.parse::<f64>().is_ok_and(|v| (v - price).abs() < 0.005)
    })
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

    /// GOOD with a $5 top-up on the free tier and its message replaced.
    fn top_up(message: &str) -> String {
        GOOD.replacen(
            "      on_limit: block\n",
            "      on_limit: top_up\n      top_up: {price_usd: 5, interactions: 500, uptake: 0.05, max_per_month: 2}\n",
            1,
        )
        .replacen(
            "\"You've used {used}/{limit} free tokens today; they reset at {reset}.\"",
            message,
            1,
        )
    }

    #[test]
    fn a_message_offering_a_top_up_must_name_its_price() {
        let f = fired(
            &DEF,
            &top_up("\"You've used {used}/{limit} free tokens today; they reset at {reset}. Buy more?\""),
            "",
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("does not name its price ($5.00)"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("tiers[0].limit.message")
        );
        for named in [
            "\"You've used {used}/{limit} free tokens today; they reset at {reset}. $5 gets you 500 more requests.\"",
            "\"You've used {used}/{limit} free tokens today; they reset at {reset}. 500 more for $5.00.\"",
            "\"You've used {used}/{limit} free tokens today; they reset at {reset}. 500 more for {price}.\"",
        ] {
            assert!(fired(&DEF, &top_up(named), "").is_empty(), "{named}");
        }
        // Another amount is not its price.
        let wrong = "\"You've used {used}/{limit} free tokens today; they reset at {reset}. $4 gets you 500 more.\"";
        assert_eq!(fired(&DEF, &top_up(wrong), "").len(), 1);
    }
}
