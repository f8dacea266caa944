//! The portfolio: every feature a run covers, added up against one AI budget.
//!
//! A feature can look affordable alone while the features together take too
//! much of the infrastructure budget; the portfolio is where finance sees all
//! of them at once.
//! The features' months at the policy's percentile are added up: that reads
//! their bad months as coinciding (a viral week lifts every feature of the
//! product), the cautious reading for a budget.

use crate::fmt::{pct, usd};
use crate::outcome::FeatureReport;
pub use crate::outcome::{FeatureShare, PortfolioReport};
use crate::policy::Policy;
use crate::policy::rules::{Finding, Rule, verdict_of};

/// Judge the features together: `None` for a single feature with no
/// `[portfolio]` in the policy.
pub fn judge(features: &[FeatureReport], policy: &Policy) -> Option<PortfolioReport> {
    if features.is_empty() || (features.len() < 2 && policy.portfolio.is_none()) {
        return None;
    }
    let total: f64 = features.iter().map(FeatureReport::cost_at_confidence).sum();
    let mean: f64 = features
        .iter()
        .map(|f| {
            f.simulation
                .as_ref()
                .and_then(|s| s.cost.mean)
                .unwrap_or(f.typical.cost)
        })
        .sum();
    let worst: Option<f64> = features.iter().map(|f| f.worst_case.monthly_usd).sum();
    let mut shares: Vec<FeatureShare> = features
        .iter()
        .map(|f| FeatureShare {
            feature: f.id.clone(),
            at_confidence_monthly_usd: f.cost_at_confidence(),
            share: if total > 0.0 {
                f.cost_at_confidence() / total
            } else {
                0.0
            },
        })
        .collect();
    shares.sort_by(|a, b| b.share.total_cmp(&a.share).then_with(|| a.feature.cmp(&b.feature)));
    let pf = policy.portfolio.as_ref();
    let infra = pf
        .and_then(|p| p.infra_monthly_budget_usd)
        .unwrap_or(policy.thresholds.infra_monthly_budget_usd);
    let infra_share = (infra > 0.0).then(|| total / infra);
    let top = |n: usize| -> String {
        shares
            .iter()
            .take(n)
            .map(|s| format!("{} {} ({})", s.feature, usd(s.at_confidence_monthly_usd), pct(s.share)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let span = pf.and_then(|p| policy.span(p.loc, "portfolio"));
    let mut findings = Vec::new();
    let level = policy.level(Rule::PortfolioOverBudget);
    let mut push = |message: String, value: f64, threshold: f64, name: &str| {
        findings.push(Finding {
            rule: Rule::PortfolioOverBudget,
            level,
            feature: "portfolio".into(),
            message,
            help: Rule::PortfolioOverBudget.help().into(),
            span: span.clone(),
            figure: Some(crate::policy::rules::Figure {
                name: name.into(),
                value,
                threshold,
            }),
            exception: None,
            approval: None,
        });
    };
    if let Some(budget) = pf.and_then(|p| p.monthly_budget_usd)
        && total > budget
    {
        push(
            format!(
                "the {} features checked cost {} a month together at their policy percentile, above the portfolio budget of {}; most of it: {}",
                features.len(),
                usd(total),
                usd(budget),
                top(3)
            ),
            total,
            budget,
            "portfolio.monthly_budget_usd",
        );
    }
    // The share of the infrastructure budget the features take together is
    // judged even without a `[portfolio]` section: against its
    // `max_infra_budget_share`, else the thresholds' one (which every
    // feature is held to on its own, and which is at most 100%).
    let (max, max_name) = match pf.and_then(|p| p.max_infra_budget_share) {
        Some(m) => (m, "portfolio.max_infra_budget_share"),
        None => (policy.thresholds.max_infra_budget_share, "max_infra_budget_share"),
    };
    if let Some(share) = infra_share
        && share > max
    {
        let whose = if max_name == "max_infra_budget_share" {
            format!(
                "policy limit {}: the thresholds' `max_infra_budget_share`, as no `[portfolio]` limit is set",
                pct(max)
            )
        } else {
            format!("portfolio limit {}", pct(max))
        };
        let over = if share > 1.0 {
            ", more than the whole budget"
        } else {
            ""
        };
        push(
            format!(
                "the {} features checked take {} of the {} infrastructure budget together{over} ({whose}); most of it: {}",
                features.len(),
                pct(share),
                usd(infra),
                top(3)
            ),
            share,
            max,
            max_name,
        );
    }
    let verdict = verdict_of(&findings);
    Some(PortfolioReport {
        features: features.len(),
        mean_monthly_usd: mean,
        at_confidence_monthly_usd: total,
        worst_case_monthly_usd: worst,
        monthly_budget_usd: pf.and_then(|p| p.monthly_budget_usd),
        infra_budget_share: infra_share,
        shares,
        findings,
        verdict,
    })
}
