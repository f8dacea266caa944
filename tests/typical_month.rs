//! The deterministic month at central values, pinned with hand-computed figures.

use costgate::economics::Model;
use costgate::sim::month::Engine;
use costgate::sim::typical;

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models:
  primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}
  cheap: {input_usd_per_mtok: 0.3, output_usd_per_mtok: 1.5}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 10}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn uncapped_month_is_users_days_interactions_times_call_cost() {
    // 1,000 users x 30 days x 10 interactions x (1,000 x $3/M + 500 x $15/M)
    let t = typical(&model(BASE));
    assert!(close(t.cost, 3150.0), "{}", t.cost);
    assert!(close(t.revenue, 20_000.0));
    assert!(close(t.cost_revenue_ratio.unwrap(), 3150.0 / 20_000.0));
    assert!(close(t.margin, 20_000.0 - 3150.0));
}

#[test]
fn a_daily_block_cap_cuts_each_user_day_to_the_cap() {
    // 15,000 tokens asked a day, 12,000 served: 4/5 of $3,150
    let y = BASE.replace(
        "model: primary}",
        "model: primary, limit: {daily_tokens: 12000, on_limit: block}}",
    );
    assert!(close(typical(&model(&y)).cost, 2520.0));
}

#[test]
fn fallback_serves_the_excess_on_the_cheaper_model() {
    // 4/5 at full price, 1/5 at a tenth of it: 2,520 + 63
    let y = BASE.replace(
        "model: primary}",
        "model: primary, limit: {daily_tokens: 12000, on_limit: fallback, fallback_model: cheap}}",
    );
    assert!(close(typical(&model(&y)).cost, 2583.0));
}

#[test]
fn shrink_and_throttle_serve_documented_shares_of_the_excess() {
    // shrink: excess 1/5 of the day, output cut to half: 1/5 x (30 x 1,000 x 10 x ... )
    // per user-day the excess costs 0.2 x (10 x (0.003 + 0.0075)) = 0.021; shrunk: 0.2 x 10 x (0.003 + 0.00375) = 0.0135
    let y = BASE.replace(
        "model: primary}",
        "model: primary, limit: {daily_tokens: 12000, on_limit: shrink}}",
    );
    assert!(close(typical(&model(&y)).cost, 2520.0 + 30_000.0 * 0.0135));
    let y = BASE.replace(
        "model: primary}",
        "model: primary, limit: {daily_tokens: 12000, on_limit: throttle, throttle_to: 0.25}}",
    );
    assert!(close(typical(&model(&y)).cost, 2520.0 + 0.25 * 630.0));
}

#[test]
fn a_monthly_cap_stops_each_user_when_the_month_is_used_up() {
    // 15,000 tokens a day; 300,000 a month is used up after 20 days: 2/3 of $3,150
    let y = BASE.replace("model: primary}", "model: primary, limit: {monthly_tokens: 300000}}");
    assert!(close(typical(&model(&y)).cost, 2100.0));
}

#[test]
fn overage_is_billed_on_tokens_past_the_allowance() {
    // 15,000 served a day, 10,000 included: 5,000 x $0.02/1k = $0.10 a user-day
    let y = BASE.replace(
        "model: primary}",
        "model: primary, overage: {after_daily_tokens: 10000, usd_per_1k_tokens: 0.02}}",
    );
    let t = typical(&model(&y));
    assert!(close(t.tiers[0].overage_revenue, 1000.0 * 30.0 * 0.10));
    assert!(close(t.revenue, 20_000.0 + 3000.0));
}

#[test]
fn power_users_multiply_their_share_of_demand() {
    // 10% of users at 5x: mean multiplier 0.9 + 0.5 = 1.4
    let y = BASE.replace(
        "interactions_per_active_day: 10}",
        "interactions_per_active_day: 10, power_users: {share: 0.1, multiplier: 5}}",
    );
    assert!(close(typical(&model(&y)).cost, 3150.0 * 1.4));
    // with the 12,000 cap, normal users are cut to 12,000 and power users too
    let y = y.replace("model: primary}", "model: primary, limit: {daily_tokens: 12000}}");
    assert!(close(typical(&model(&y)).cost, 2520.0));
}

#[test]
fn active_share_and_cache_discount_apply() {
    // 45% active; 40% of input cached at $0.30/M instead of $3/M
    let y = BASE
        .replace("active_share: 1", "active_share: 0.45")
        .replace("output_tokens: 500}", "output_tokens: 500, cached_input_share: 0.4}")
        .replace(
            "primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}",
            "primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15, cached_input_usd_per_mtok: 0.3}",
        );
    let per_call = 600.0 * 3e-6 + 400.0 * 0.3e-6 + 500.0 * 15e-6;
    assert!(close(typical(&model(&y)).cost, 1000.0 * 0.45 * 30.0 * 10.0 * per_call));
}

#[test]
fn tenant_budgets_block_at_the_budget_and_count_alerts() {
    let y = BASE.replace(
        "  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}",
        "  - {name: ent, tenants: 4, users_per_tenant: 250, price_usd_per_month: 5000, model: primary, tenant_budget: {monthly_usd: 500, on_limit: block}}",
    );
    // each tenant would spend 3,150 / 4 = 787.5; the budget stops it at 500
    let m = model(&y);
    let t = typical(&m);
    assert!(close(t.cost, 2000.0), "{}", t.cost);
    assert!(close(t.revenue, 20_000.0));
    // The default alerts are at 80%, 100% and 120% of the budget. A tenant
    // spends 787.5 / 30 = 26.25 a day: it crosses $400 on day 16 and is
    // stopped at $500 on day 20, so each of the 4 tenants crosses the first
    // two alerts once and never the third.
    let engine = Engine::central(&m);
    let month = engine.month(&engine.central_draw(), None);
    assert_eq!(month.tiers[0].tenant_alerts, vec![4.0, 4.0, 0.0]);
    // A notifying budget does not stop the tenants: each passes all three.
    let notify = model(&y.replace("on_limit: block", "on_limit: notify"));
    let engine = Engine::central(&notify);
    let month = engine.month(&engine.central_draw(), None);
    assert!(close(month.cost, 3150.0), "{}", month.cost);
    assert_eq!(month.tiers[0].tenant_alerts, vec![4.0, 4.0, 4.0]);
}

#[test]
fn a_blocking_breaker_caps_each_day() {
    let y = format!("{BASE}breakers:\n  feature_daily_usd: {{limit: 80, on_trip: block}}\n");
    // the day costs 105; the breaker holds it at 80
    let m = model(&y);
    assert!(close(typical(&m).cost, 2400.0));
    // it trips every day, and blocks 25/105 of the day's 1,000 users
    let engine = Engine::central(&m);
    let month = engine.month(&engine.central_draw(), None);
    assert_eq!(month.breaker_days, vec![30]);
    assert!(close(month.tiers[0].blocked_user_days, 30.0 * 1000.0 * 25.0 / 105.0));
    assert_eq!(month.tiers[0].degraded_user_days, 0.0);
    let y = format!("{BASE}breakers:\n  feature_daily_usd: {{limit: 80, on_trip: throttle, factor: 0.5}}\n");
    assert!(close(typical(&model(&y)).cost, 30.0 * (80.0 + 12.5)));
}
