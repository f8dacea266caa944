//! `costs-more-than-baseline`: the AI way costs more than the way it replaces.

use super::{Check, Ctx, Level, Out, Rule, RuleDef, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::CostsMoreThanBaseline,
    code: "costs-more-than-baseline",
    default_level: Level::Warn,
    summary: "The feature costs more per month than the non-AI way of doing the job (`feature.baseline`).",
    help: "check that the value it adds justifies costing more than the non-AI way; cap or cheapen it otherwise",
    doc: "Fires when the mean monthly cost (simulated; the typical month without a simulation) is above \
          `feature.baseline.monthly_usd`, pointing at that figure. Not judged without a baseline.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    if let Some(b) = &c.spec.feature.baseline {
        let mean = c.facts.sim.and_then(|s| s.cost.mean).unwrap_or(c.facts.typical.cost);
        if mean > b.monthly_usd.value {
            out.push(
                &DEF,
                c.at(b.monthly_usd.loc, &b.monthly_usd.path),
                format!(
                    "the feature costs {} a month on average, more than {} ({}) it was meant to help",
                    usd(mean),
                    b.name,
                    usd(b.monthly_usd.value)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    fn with_baseline(usd: &str) -> String {
        GOOD.replace(
            "  value: {kind: revenue, unit: sale, units_per_interaction: 0.01}\n",
            &format!(
                "  value: {{kind: revenue, unit: sale, units_per_interaction: 0.01}}\n  baseline: {{name: the old way, monthly_usd: {usd}}}\n"
            ),
        )
    }

    #[test]
    fn fires_above_the_baseline_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        assert!(fired(&DEF, &with_baseline("100000000"), "").is_empty());
        let f = fired(&DEF, &with_baseline("1"), "");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span.as_ref().unwrap().path, "feature.baseline.monthly_usd");
    }
}
