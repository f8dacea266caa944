//! `p95-over-budget`: the month at the policy's confidence is above its budget.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::P95OverBudget,
    code: "p95-over-budget",
    default_level: Level::Deny,
    summary: "The simulated month at the policy's confidence is above `p95_monthly_usd`.",
    help: "tighten per-user caps, lower tokens per interaction, cache more of the prompt, or use a cheaper model",
    doc: "Fires when the monthly cost at `confidence` (the simulated month's quantile; the typical month when \
          no simulation ran) is above `p95_monthly_usd`. Despite the name, the quantile is the policy's \
          `confidence`, and the message names it. The figure is `p95_monthly_usd`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    if c.cost_at > c.th.p95_monthly_usd {
        out.push(
            &DEF,
            c.at(c.spec.feature.loc, "feature"),
            format!(
                "the monthly cost {} is {}, above the policy's {}",
                c.basis,
                usd(c.cost_at),
                usd(c.th.p95_monthly_usd)
            ),
        )
        .figure = Some(Figure {
            name: "p95_monthly_usd".into(),
            value: c.cost_at,
            threshold: c.th.p95_monthly_usd,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_above_the_threshold_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, GOOD, "[thresholds]\np95_monthly_usd = 10\n");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("at p95 of the simulated month"),
            "{}",
            f[0].message
        );
        let f = fired(&DEF, GOOD, "[thresholds]\np95_monthly_usd = 10\nconfidence = 0.99\n");
        assert!(
            f[0].message.contains("at p99 of the simulated month"),
            "{}",
            f[0].message
        );
    }
}
