//! `stale-pricing`: the pinned prices are older than the policy allows.

use std::sync::Arc;

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::source::{Loc, Span};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::StalePricing,
    code: "stale-pricing",
    default_level: Level::Warn,
    summary: "The pinned price snapshot is older than `pricing.max_age_days`.",
    help: "run `costgate pricing update` to pin current prices, and review the changes it prints",
    doc: "Fires when the prices come from a pinned snapshot whose `checked` date is more than the policy's \
          `pricing.max_age_days` before today, pointing at the snapshot file. Not judged without \
          `max_age_days` or without a pin.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let pricing = c.facts.pricing;
    if let (Some(max), Some(file)) = (c.policy.max_pin_age_days, &pricing.pinned)
        && let Ok(checked) = pricing.checked.parse::<jiff::civil::Date>()
        && let Ok(age) = c.today.since(checked).map(|s| s.get_days())
        && f64::from(age) > max
    {
        out.push(
            &DEF,
            Some(Span::new(&Arc::from(file.as_str()), Loc::UNKNOWN, "checked")),
            format!(
                "the pinned price snapshot {file} was checked on {checked}, {age} days ago: older than the {max} days `pricing.max_age_days` allows"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired, fired_with};
    use super::*;

    #[test]
    fn fires_for_a_pin_older_than_the_policy_allows_only() {
        let pin = |checked: &'static str| {
            move |c: &mut crate::pricing::CatalogInfo| {
                c.pinned = Some("costgate.prices.toml".into());
                c.checked = checked.into();
            }
        };
        let policy = "[pricing]\nmax_age_days = 30\n";
        assert!(fired(&DEF, GOOD, policy).is_empty(), "no pin");
        assert!(fired_with(&DEF, GOOD, policy, pin("2026-11-01")).is_empty(), "27 days");
        assert!(fired_with(&DEF, GOOD, "", pin("2020-01-01")).is_empty(), "no max age");
        let f = fired_with(&DEF, GOOD, policy, pin("2026-10-01"));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("58 days ago"), "{}", f[0].message);
        assert_eq!(&*f[0].span.as_ref().unwrap().file, "costgate.prices.toml");
    }
}
