//! `missing-unit-economics`: the feature has no value, or a tier has no price.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::MissingUnitEconomics,
    code: "missing-unit-economics",
    default_level: Level::Deny,
    summary: "The feature has no value, or a tier has no price: cost cannot be judged against what it earns.",
    help: "add `feature.value` with `kind` (revenue | retention | engagement), the `unit` of value and `units_per_interaction`",
    doc: "Fires once when `feature.value` is missing (pointing at `feature`), and once per tier with no \
          `price_usd_per_month` (pointing at the tier). Without a value the thresholds for its kind cannot be \
          chosen and nothing says what the cost buys; without a price a tier's cost cannot be set against its revenue.",
    check: Check::Feature(check),
};

const TIER_HELP: &str = "add `price_usd_per_month` (0 for a free tier)";

fn check(c: &Ctx, out: &mut Out) {
    let spec = c.spec;
    if spec.feature.value.is_none() {
        out.push(
            &DEF,
            c.at(spec.feature.loc, "feature.value"),
            format!("feature `{}` says nothing of the value it brings", spec.feature.id),
        );
    }
    for t in &spec.tiers {
        if t.price_usd_per_month.is_none() {
            out.push_help(
                &DEF,
                c.at(t.loc, &t.path),
                format!(
                    "tier `{}` has no `price_usd_per_month`: its cost cannot be set against revenue",
                    t.name
                ),
                TIER_HELP,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_without_a_value_or_a_tier_price_and_not_with_both() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(
            &DEF,
            &GOOD.replace(
                "  value: {kind: revenue, unit: sale, units_per_interaction: 0.01}\n",
                "",
            ),
            "",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span.as_ref().unwrap().path, "feature.value");
        assert_eq!(f[0].help, DEF.help);
        let f = fired(&DEF, &GOOD.replace("    price_usd_per_month: 20\n", ""), "");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("tier `pro`"), "{}", f[0].message);
        assert_eq!(f[0].help, TIER_HELP);
    }
}
