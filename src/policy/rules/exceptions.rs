//! `stale-exception` and `unused-exception`: the policy's exceptions,
//! applied to a feature's findings after every other rule has run.

use super::{Check, Ctx, Finding, Level, Rule, RuleDef};

pub(super) const STALE: RuleDef = RuleDef {
    rule: Rule::StaleException,
    code: "stale-exception",
    default_level: Level::Warn,
    summary: "A policy exception has expired; it no longer applies.",
    help: "remove it, or renew it with a new expiry and reason",
    doc: "Fires for each `[[exceptions]]` entry of the feature whose `expires` date is before today, pointing \
          at the exception. An expired exception lowers nothing: the finding it covered is back at its level.",
    check: Check::Exceptions,
};

pub(super) const UNUSED: RuleDef = RuleDef {
    rule: Rule::UnusedException,
    code: "unused-exception",
    default_level: Level::Warn,
    summary: "A policy exception matches no finding of the feature it names.",
    help: "remove it: the feature no longer breaks that rule",
    doc: "Fires for each live `[[exceptions]]` entry of the feature whose rule gives no finding for it, and \
          for an exception naming a feature that no checked spec has (reported with the run's first feature).",
    check: Check::Exceptions,
};

fn finding(def: &RuleDef, c: &Ctx, message: String, span: Option<crate::source::Span>) -> Finding {
    Finding {
        rule: def.rule,
        level: c.policy.level(def.rule),
        feature: c.spec.feature.id.clone(),
        message,
        help: def.help.into(),
        span,
        figure: None,
        exception: None,
        approval: None,
    }
}

/// Lower the findings a live exception covers to `allow` (with its reason);
/// report the expired exceptions and the ones that cover nothing.
pub(super) fn apply(c: &Ctx, findings: &mut Vec<Finding>) {
    let (spec, policy) = (c.spec, c.policy);
    for e in &policy.exceptions {
        if e.feature != spec.feature.id {
            continue;
        }
        let expired = e.expires.parse::<jiff::civil::Date>().is_ok_and(|d| d < c.today);
        let span = policy.span(e.loc, "exceptions");
        if expired {
            findings.push(finding(
                &STALE,
                c,
                format!(
                    "the exception for `{}` expired on {}; it no longer applies",
                    e.rule, e.expires
                ),
                span,
            ));
            continue;
        }
        let mut used = false;
        for x in findings.iter_mut().filter(|x| x.rule.code() == e.rule) {
            x.exception = Some(format!("{} (until {})", e.reason, e.expires));
            x.level = Level::Allow;
            used = true;
        }
        if !used {
            findings.push(finding(
                &UNUSED,
                c,
                format!("the exception for `{}` matches no finding of `{}`", e.rule, e.feature),
                span,
            ));
        }
    }
}
