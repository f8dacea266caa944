//! `infra-budget-share`: the feature takes too much of the infrastructure budget.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, pct, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::InfraBudgetShare,
    code: "infra-budget-share",
    default_level: Level::Deny,
    summary: "The month at the policy's confidence takes more than `max_infra_budget_share` of `infra_monthly_budget_usd`.",
    help: "cap usage, or agree a larger share of the infrastructure budget in the policy",
    doc: "Fires when the monthly cost at `confidence` divided by `infra_monthly_budget_usd` is above \
          `max_infra_budget_share`; not judged when the infrastructure budget is 0. The figure is \
          `infra_budget_share`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let th = &c.th;
    if th.infra_monthly_budget_usd > 0.0 {
        let share = c.cost_at / th.infra_monthly_budget_usd;
        if share > th.max_infra_budget_share {
            out.push(
                &DEF,
                c.at(c.spec.feature.loc, "feature"),
                format!(
                    "{} the feature costs {} a month, {} of the {} infrastructure budget (policy: at most {})",
                    c.basis,
                    usd(c.cost_at),
                    pct(share),
                    usd(th.infra_monthly_budget_usd),
                    pct(th.max_infra_budget_share)
                ),
            )
            .figure = Some(Figure {
                name: "infra_budget_share".into(),
                value: share,
                threshold: th.max_infra_budget_share,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_above_the_share_only_and_not_without_a_budget() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let tight = "[thresholds]\ninfra_monthly_budget_usd = 1000\nmax_infra_budget_share = 0.001\n";
        let f = fired(&DEF, GOOD, tight);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].figure.as_ref().unwrap().threshold, 0.001);
        let none = "[thresholds]\ninfra_monthly_budget_usd = 0\nmax_infra_budget_share = 0.001\n";
        assert!(fired(&DEF, GOOD, none).is_empty());
    }
}
