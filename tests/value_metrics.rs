//! Cost per unit of value, value/cost, the baseline and the budget share,
//! pinned with hand-computed figures.

#[path = "support/report.rs"]
mod report;

use costgate::policy::Policy;
use costgate::report::FeatureReport;

fn feature(yaml: &str) -> FeatureReport {
    report::feature_of(yaml, &Policy::default(), 200)
}

const SPEC: &str = "costgate: 1
feature:
  id: v
  value: {kind: retention, unit: saved ticket, units_per_interaction: 0.25, usd_per_unit: 6}
  baseline: {name: support team, monthly_usd: 1000}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 1}
usage: {active_share: 0.5, interactions_per_active_day: 10, power_users: {share: 0.1, multiplier: 3}}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn value_per_unit_and_value_over_cost() {
    let f = feature(SPEC);
    // interactions: 1,000 users x 0.5 active x 30 days x 10 x (0.9 + 0.1 x 3) = 180,000
    let v = f.value.as_ref().unwrap();
    assert!(
        close(v.interactions_per_month, 180_000.0),
        "{}",
        v.interactions_per_month
    );
    // cost: 180,000 interactions x $0.0105 = $1,890; units: 45,000 saved tickets
    assert!(close(f.typical.cost, 1890.0), "{}", f.typical.cost);
    assert!(close(v.units_per_month.unwrap(), 45_000.0));
    assert!(close(v.cost_per_unit_usd.unwrap(), 1890.0 / 45_000.0));
    // value: 45,000 x $6 = $270,000 against $1,890
    assert!(close(v.value_usd_per_month.unwrap(), 270_000.0));
    assert!(close(v.value_cost_ratio.unwrap(), 270_000.0 / 1890.0));
}

#[test]
fn baseline_and_budget_share() {
    let f = feature(SPEC);
    let b = f.baseline.as_ref().unwrap();
    assert_eq!(b.monthly_usd, 1000.0);
    // the inputs are fixed, but which of the users are active on a day is
    // not: the simulated mean is the typical month within its standard error
    let sim = f.simulation.as_ref().unwrap();
    let (mean, se) = (sim.cost.mean.unwrap(), sim.cost.mean_se.unwrap());
    assert_eq!(b.feature_mean_monthly_usd, mean);
    assert!((mean - 1890.0).abs() < 4.0 * se + 1e-9, "{mean} ± {se}");
    assert!(close(b.difference_usd, mean - 1000.0));
    assert!(f.findings.iter().any(|x| x.rule.code() == "costs-more-than-baseline"));
    // the month at p95 over the default $250,000 infrastructure budget
    let p95 = sim.cost.at_confidence.unwrap();
    assert!(close(f.budget_share.share_at_confidence.unwrap(), p95 / 250_000.0));
}

#[test]
fn a_value_without_units_gives_no_per_unit_figure() {
    let f = feature(&SPEC.replace(", units_per_interaction: 0.25, usd_per_unit: 6", ""));
    let v = f.value.unwrap();
    assert_eq!(v.cost_per_unit_usd, None);
    assert_eq!(v.value_cost_ratio, None);
}
