//! `portfolio-over-budget`: judged on the features of a run together, in
//! `portfolio::evaluate`; here for its code, level and texts.

use super::{Check, Level, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::PortfolioOverBudget,
    code: "portfolio-over-budget",
    default_level: Level::Deny,
    summary: "The features checked together cost more than the `[portfolio]` budget, or take more of the infrastructure budget than `max_infra_budget_share` (the portfolio's, else the thresholds') allows.",
    help: "cap or cheapen the features that contribute most, or agree a larger AI budget in the policy",
    doc: "Fires when the features of one run, each at its policy's confidence, add up to more than \
          `portfolio.monthly_budget_usd`, or to more of `infra_monthly_budget_usd` than \
          `portfolio.max_infra_budget_share` (else the thresholds' `max_infra_budget_share`) allows. The \
          message names the features that contribute most. Reported with feature `portfolio`.",
    check: Check::Portfolio,
};
