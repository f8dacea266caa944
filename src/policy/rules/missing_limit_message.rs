//! `missing-limit-message`: users are stopped with nothing said to them.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::source::Loc;
use crate::spec::{OnBudget, OnTrip, Spec, Text};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::MissingLimitMessage,
    code: "missing-limit-message",
    default_level: Level::Warn,
    summary: "A limit, tenant budget or breaker that stops or degrades users has no message for them.",
    help: "add `message`: say what was used of what quota and when it resets, e.g. \"You've used {used}/{limit} tokens today. It resets at {reset}.\"",
    doc: "Fires for each tier limit, blocking tenant budget and breaker with no `message`, pointing at it. \
          A user who hits a cap and is told nothing files a bug or leaves; the message is part of the limit.",
    check: Check::Feature(check),
};

/// A place where users can be stopped or degraded, and its message.
pub(super) struct Site<'a> {
    pub message: &'a Option<Text>,
    pub loc: Loc,
    /// Where a missing message belongs.
    pub path: String,
    /// "tier `free`'s limit", "breaker `global_daily_usd`", ...
    pub what: String,
    /// Whether it stops users (a missing message is a finding).
    pub stops: bool,
    /// The price of the top-up it offers, if any (its message must name it).
    pub top_up_price: Option<f64>,
}

/// Every limit, tenant budget and breaker, in spec order (tiers' limits
/// and tenant budgets first, then the breakers).
pub(super) fn sites(spec: &Spec) -> Vec<Site<'_>> {
    let mut v = Vec::new();
    for t in &spec.tiers {
        if let Some(l) = &t.limit {
            v.push(Site {
                message: &l.message,
                loc: l.loc,
                path: format!("{}.message", l.path),
                what: format!("tier `{}`'s limit", t.name),
                stops: true,
                top_up_price: l.top_up.as_ref().map(|u| u.price_usd.value),
            });
        }
        if let Some(b) = &t.tenant_budget {
            v.push(Site {
                message: &b.message,
                loc: b.loc,
                path: format!("{}.tenant_budget.message", t.path),
                what: format!("tier `{}`'s tenant budget", t.name),
                stops: b.on_limit == OnBudget::Block,
                top_up_price: None,
            });
        }
    }
    for (name, b) in spec.breakers.iter() {
        v.push(Site {
            message: &b.message,
            loc: b.loc,
            path: format!("{}.message", b.path),
            what: format!("breaker `{name}`"),
            // A breaker that only notifies stops and degrades nobody.
            stops: b.on_trip != OnTrip::Notify,
            top_up_price: None,
        });
    }
    v
}

fn check(c: &Ctx, out: &mut Out) {
    for s in sites(c.spec) {
        if s.message.is_none() && s.stops {
            out.push(
                &DEF,
                c.at(s.loc, &s.path),
                format!("{} has no message for the users it stops", s.what),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_limit_without_a_message() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(
            &DEF,
            &GOOD.replace(
                "      message: \"You've used {used}/{limit} free tokens today; they reset at {reset}.\"\n",
                "",
            ),
            "",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span.as_ref().unwrap().path, "tiers[0].limit.message");
        assert!(f[0].message.starts_with("tier `free`'s limit"), "{}", f[0].message);
    }

    #[test]
    fn a_breaker_that_only_notifies_needs_no_message() {
        // It stops nobody: the account manager or on-call is told instead.
        let with = |on: &str| {
            format!("{GOOD}breakers:\n  global_daily_usd: {{limit: 100, on_trip: {on}, notify: [on-call]}}\n")
        };
        assert!(fired(&DEF, &with("notify"), "").is_empty());
        let f = fired(&DEF, &with("block"), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].span.as_ref().unwrap().path, "breakers.global_daily_usd.message");
    }
}
