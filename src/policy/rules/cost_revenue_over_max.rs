//! `cost-revenue-over-max`: the feature costs too large a share of what it earns.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, pct, ratio_applies};
use crate::spec::Spec;

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::CostRevenueOverMax,
    code: "cost-revenue-over-max",
    default_level: Level::Deny,
    summary: "Cost/revenue at the policy's confidence is above `max_cost_revenue_ratio`.",
    help: "raise prices or overage, cap usage harder, or make each interaction cheaper",
    doc: "Fires when cost/revenue at `confidence` is above `max_cost_revenue_ratio`. Judged only when the \
          ratio applies: some tier is priced above 0, or the month has revenue (overage). Above this \
          threshold `cost-revenue-needs-approval` does not also fire. The figure is `cost_revenue_ratio`.",
    check: Check::Feature(check),
};

/// Who pays, for the cost/revenue messages: the paying tiers, by name.
pub(super) fn who_pays(spec: &Spec) -> String {
    let paying = spec
        .tiers
        .iter()
        .filter(|t| t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0))
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if paying.is_empty() {
        "its customers".to_string()
    } else {
        format!("what customers pay ({paying})")
    }
}

fn check(c: &Ctx, out: &mut Out) {
    if ratio_applies(c.spec, c.ratio_at) && c.ratio_at > c.th.max_cost_revenue_ratio {
        out.push(
            &DEF,
            c.at(c.spec.feature.loc, "feature"),
            format!(
                "{} the feature costs {} of {}; the policy blocks above {}",
                c.basis,
                pct(c.ratio_at),
                who_pays(c.spec),
                pct(c.th.max_cost_revenue_ratio)
            ),
        )
        .figure = Some(Figure {
            name: "cost_revenue_ratio".into(),
            value: c.ratio_at,
            threshold: c.th.max_cost_revenue_ratio,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_above_the_maximum_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, GOOD, "[thresholds]\nmax_cost_revenue_ratio = 0.001\n");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("what customers pay (pro)"), "{}", f[0].message);
    }
}
