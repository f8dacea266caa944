//! `cost-revenue-needs-approval`: the cost/revenue ratio is for an executive to accept.

use super::cost_revenue_over_max::who_pays;
use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, pct, ratio_applies};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::CostRevenueNeedsApproval,
    code: "cost-revenue-needs-approval",
    default_level: Level::Approve,
    summary: "Cost/revenue at the policy's confidence is above `approval_cost_revenue_ratio`: an executive decides.",
    help: "record an executive approval with `costgate approve`, or bring the ratio under the threshold",
    doc: "Fires when cost/revenue at `confidence` is above `approval_cost_revenue_ratio` but not above \
          `max_cost_revenue_ratio` (there `cost-revenue-over-max` fires instead). At level `approve` the run \
          exits 2 until a recorded approval covers the figure (`costgate approve`). The figure is \
          `cost_revenue_ratio`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let r = c.ratio_at;
    if ratio_applies(c.spec, r) && r <= c.th.max_cost_revenue_ratio && r > c.th.approval_cost_revenue_ratio {
        out.push(
            &DEF,
            c.at(c.spec.feature.loc, "feature"),
            format!(
                "{} the feature costs {} of {}; policy asks for approval above {}",
                c.basis,
                pct(r),
                who_pays(c.spec),
                pct(c.th.approval_cost_revenue_ratio)
            ),
        )
        .figure = Some(Figure {
            name: "cost_revenue_ratio".into(),
            value: r,
            threshold: c.th.approval_cost_revenue_ratio,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_between_the_approval_threshold_and_the_maximum() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, GOOD, "[thresholds]\napproval_cost_revenue_ratio = 0.001\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].level, Level::Approve);
        let over = "[thresholds]\napproval_cost_revenue_ratio = 0.001\nmax_cost_revenue_ratio = 0.002\n";
        assert!(
            fired(&DEF, GOOD, over).is_empty(),
            "over the maximum is not also an approval"
        );
    }
}
