//! `worst-case-over-budget`: the deterministic worst-case month is above the policy's.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::WorstCaseOverBudget,
    code: "worst-case-over-budget",
    default_level: Level::Deny,
    summary: "The deterministic worst-case month is above `worst_case_monthly_usd`.",
    help: "lower the caps that bound the worst case (daily/monthly tokens, tenant budgets, the global breaker) or route capped traffic to a cheaper model",
    doc: "Fires when the worst-case month (every user at every cap, counts at `worst_case_quantile`) is bounded \
          and above `worst_case_monthly_usd`. It names what sets the bound (the blocking breaker, else the tier \
          with the dearest worst case) and points at it. The figure is `worst_case_monthly_usd`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let (spec, worst) = (c.spec, c.facts.worst);
    let Some(w) = worst.monthly_usd else { return };
    if w <= c.th.worst_case_monthly_usd {
        return;
    }
    let biggest = worst.tiers.iter().zip(&spec.tiers).max_by(|a, b| {
        a.0.monthly_usd
            .unwrap_or(0.0)
            .total_cmp(&b.0.monthly_usd.unwrap_or(0.0))
    });
    let (span, who) = match (&worst.bounded_by_breaker, biggest) {
        (Some(b), _) => {
            let br = spec.breakers.iter().find(|(n, _)| n == b).map(|(_, br)| br);
            (
                br.and_then(|br| c.at(br.limit.loc, &br.limit.path)),
                format!("the `{b}` breaker"),
            )
        }
        (None, Some((_, t))) => (
            t.limit.as_ref().map_or(c.at(t.loc, &t.path), |l| c.at(l.loc, &l.path)),
            format!("tier `{}`", t.name),
        ),
        _ => (None, String::new()),
    };
    out.push(
        &DEF,
        span,
        format!(
            "the worst-case month is {} (set by {who}), above the policy's {}",
            usd(w),
            usd(c.th.worst_case_monthly_usd)
        ),
    )
    .figure = Some(Figure {
        name: "worst_case_monthly_usd".into(),
        value: w,
        threshold: c.th.worst_case_monthly_usd,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_above_the_threshold_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, GOOD, "[thresholds]\nworst_case_monthly_usd = 100\n");
        assert_eq!(f.len(), 1);
        let fig = f[0].figure.as_ref().unwrap();
        assert!(fig.value > 100.0 && fig.threshold == 100.0, "{fig:?}");
        assert!(f[0].message.contains("set by tier `"), "{}", f[0].message);
    }
}
