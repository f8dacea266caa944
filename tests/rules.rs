//! Every rule fires where it should, with its level, its place in the spec
//! and a message that says what to change; exceptions lower, expire and
//! are reported when unused.

#[path = "support/report.rs"]
mod report;

use costgate::policy::{self, Finding, Level, Policy, Rule};
use report::GOOD;

fn findings_with(yaml: &str, policy: &Policy) -> Vec<Finding> {
    report::findings_of(yaml, policy)
}

fn findings(yaml: &str) -> Vec<Finding> {
    findings_with(yaml, &Policy::default())
}

fn one(fs: &[Finding], rule: Rule) -> &Finding {
    let v: Vec<_> = fs.iter().filter(|f| f.rule == rule).collect();
    assert!(
        !v.is_empty(),
        "{} did not fire; got {:?}",
        rule.code(),
        fs.iter().map(|f| f.rule.code()).collect::<Vec<_>>()
    );
    v[0]
}

fn line(f: &Finding) -> u32 {
    f.span.as_ref().map_or(0, |s| s.line)
}

#[test]
fn the_good_spec_has_no_findings() {
    let fs = findings(GOOD);
    assert!(fs.is_empty(), "{:#?}", fs);
}

#[test]
fn missing_unit_economics() {
    let fs = findings(&GOOD.replace(
        "  value: {kind: revenue, unit: sale, units_per_interaction: 0.01}\n",
        "",
    ));
    assert_eq!(one(&fs, Rule::MissingUnitEconomics).level, Level::Deny);
    let fs = findings(&GOOD.replace("    price_usd_per_month: 20\n", ""));
    let f = one(&fs, Rule::MissingUnitEconomics);
    assert!(f.message.contains("tier `pro`"), "{}", f.message);
    assert_eq!(line(f), 25);
}

#[test]
fn unbounded_worst_case_names_the_tier_and_why() {
    let fs = findings(&GOOD.replace(
        "      daily_tokens: 100000\n      on_limit: block",
        "      daily_tokens: 100000\n      on_limit: fallback\n      fallback_model: primary",
    ));
    let f = one(&fs, Rule::UnboundedWorstCase);
    assert_eq!(f.level, Level::Deny);
    assert!(
        f.message.contains("tier `pro`") && f.message.contains("on_limit: fallback"),
        "{}",
        f.message
    );
    assert_eq!(line(f), 31, "points at on_limit");
}

#[test]
fn free_tier_without_hard_cap() {
    let fs = findings(&GOOD.replace(
        "      daily_tokens: 20000\n      on_limit: block",
        "      daily_tokens: 20000\n      on_limit: throttle",
    ));
    let f = one(&fs, Rule::FreeTierWithoutHardCap);
    assert!(f.message.contains("free tier `free`"));
    assert_eq!(line(f), 23, "points at on_limit");
}

#[test]
fn missing_and_generic_limit_messages() {
    let fs = findings(&GOOD.replace(
        "      message: \"You've used {used}/{limit} free tokens today; they reset at {reset}.\"\n",
        "",
    ));
    assert_eq!(one(&fs, Rule::MissingLimitMessage).level, Level::Warn);
    let fs = findings(&GOOD.replace(
        "\"You've used {used}/{limit} free tokens today; they reset at {reset}.\"",
        "\"Error 429\"",
    ));
    let f = one(&fs, Rule::GenericLimitMessage);
    assert_eq!(line(f), 24);
    assert!(f.help.contains("resets"), "{}", f.help);
}

#[test]
fn budgets_and_ratios() {
    let policy = policy::load_str(
        "costgate.toml",
        "[thresholds]\nworst_case_monthly_usd = 100\np95_monthly_usd = 10\napproval_cost_revenue_ratio = 0.001\ninfra_monthly_budget_usd = 1000\nmax_infra_budget_share = 0.001\nmax_cost_per_call_usd = 0.001\n",
    )
    .unwrap();
    let fs = findings_with(GOOD, &policy);
    for rule in [
        Rule::WorstCaseOverBudget,
        Rule::P95OverBudget,
        Rule::CostRevenueNeedsApproval,
        Rule::InfraBudgetShare,
        Rule::CostPerCallOverMax,
    ] {
        let f = one(&fs, rule);
        let fig = f
            .figure
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no figure", rule.code()));
        assert!(fig.value > fig.threshold, "{}: {fig:?}", rule.code());
    }
    assert_eq!(one(&fs, Rule::CostRevenueNeedsApproval).level, Level::Approve);
    let over = policy::load_str("costgate.toml", "[thresholds]\nmax_cost_revenue_ratio = 0.001\n").unwrap();
    let fs = findings_with(GOOD, &over);
    assert_eq!(one(&fs, Rule::CostRevenueOverMax).level, Level::Deny);
    assert!(
        !fs.iter().any(|f| f.rule == Rule::CostRevenueNeedsApproval),
        "over max is not also an approval"
    );
}

#[test]
fn costs_more_than_baseline() {
    let y = GOOD.replace(
        "  value: {kind: revenue, unit: sale, units_per_interaction: 0.01}\n",
        "  value: {kind: revenue, unit: sale, units_per_interaction: 0.01}\n  baseline: {name: the old way, monthly_usd: 1}\n",
    );
    let f = one(&findings(&y), Rule::CostsMoreThanBaseline).clone();
    assert!(f.message.contains("the old way"));
    assert_eq!(line(&f), 5);
}

#[test]
fn paying_users_blocked() {
    // a tight hard cap on the paying tier: most of its active days end blocked
    let y = GOOD.replace("      daily_tokens: 100000\n", "      daily_tokens: 3000\n");
    let fs = findings(&y);
    let f = one(&fs, Rule::PayingUsersBlocked);
    assert_eq!(f.level, Level::Warn);
    assert!(f.message.contains("paying tier `pro`"), "{}", f.message);
    assert_eq!(line(f), 30, "points at the limit");
    let fig = f.figure.as_ref().unwrap();
    assert!(fig.value > 0.05 && fig.threshold == 0.05, "{fig:?}");
    // the free tier is as tightly capped in GOOD's terms without a finding
    assert!(fs.iter().filter(|f| f.rule == Rule::PayingUsersBlocked).count() == 1);
}

#[test]
fn missing_call_limit() {
    assert_eq!(
        one(&findings(&GOOD.replace("  max_calls: 2\n", "")), Rule::MissingCallLimit).level,
        Level::Warn
    );
}

#[test]
fn rule_levels_are_set_by_policy() {
    let p = policy::load_str("costgate.toml", "[rules]\nmissing-call-limit = \"deny\"\n").unwrap();
    let fs = findings_with(&GOOD.replace("  max_calls: 2\n", ""), &p);
    assert_eq!(one(&fs, Rule::MissingCallLimit).level, Level::Deny);
    let p = policy::load_str("costgate.toml", "[rules]\nmissing-call-limit = \"allow\"\n").unwrap();
    assert_eq!(
        one(
            &findings_with(&GOOD.replace("  max_calls: 2\n", ""), &p),
            Rule::MissingCallLimit
        )
        .level,
        Level::Allow
    );
}

#[test]
fn exceptions_lower_expire_and_are_reported_unused() {
    let y = GOOD.replace("  max_calls: 2\n", "");
    let p = policy::load_str(
        "costgate.toml",
        "[rules]\nmissing-call-limit = \"deny\"\n[[exceptions]]\nrule = \"missing-call-limit\"\nfeature = \"good\"\nreason = \"agent loop capped by the gateway\"\nexpires = \"2027-01-31\"\n",
    )
    .unwrap();
    let fs = findings_with(&y, &p);
    let f = one(&fs, Rule::MissingCallLimit);
    assert_eq!(f.level, Level::Allow);
    assert!(f.exception.as_deref().unwrap().contains("agent loop capped"));

    let expired = policy::load_str(
        "costgate.toml",
        "[rules]\nmissing-call-limit = \"deny\"\n[[exceptions]]\nrule = \"missing-call-limit\"\nfeature = \"good\"\nreason = \"r\"\nexpires = \"2026-01-31\"\n",
    )
    .unwrap();
    let fs = findings_with(&y, &expired);
    assert_eq!(one(&fs, Rule::MissingCallLimit).level, Level::Deny);
    let stale = one(&fs, Rule::StaleException);
    assert!(stale.message.contains("expired on 2026-01-31"));
    assert_eq!(stale.span.as_ref().unwrap().line, 3);

    let fs = findings_with(GOOD, &p);
    assert!(one(&fs, Rule::UnusedException).message.contains("matches no finding"));
}
