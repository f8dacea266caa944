//! Figures of the simulation pinned by closed forms: breaker trips and the
//! user-days they cut, a scenario's cost with and without it, and the share
//! of months past a policy threshold (breach probabilities).
//!
//! The specs fix everything but the number of users (triangular 1,000 ·
//! 2,000 · 4,000): one call of 1,000 input and 500 output tokens a day per
//! user, every user active, so a day costs N x $0.0105 exactly and every
//! user-day is alike (no finite-users spread). Each figure is then a
//! function of N alone, computed here on a grid of 200,000 quantiles of N
//! (truncated where the engine truncates it, at the 99.9th percentile).
//! Users are whole numbers, rounded stochastically; thresholds sit half-way
//! between two whole numbers, where rounding changes the share past them by
//! a second-order term (below 1e-6). Tolerances are four standard errors
//! of the figure over the trials, computed from the same grid.

use assert_cmd::Command;
use costgate::economics::{Customers, Model};
use costgate::sim::{Options, simulate};

const SPEC: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 1}
usage: {active_share: 1, interactions_per_active_day: 1}
tiers:
  - {name: pro, users: {low: 1000, mode: 2000, high: 4000}, price_usd_per_month: 20, model: primary}
";
/// A user-day: 1,000 x $3/M + 500 x $15/M.
const DAY: f64 = 0.0105;
const TRIALS: usize = 4000;

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

/// The users of a trial, as drawn: a fine grid of the quantiles of the
/// tier's distribution, truncated at the worst case (sorted).
fn users(m: &Model) -> Vec<f64> {
    let Customers::Users(d) = &m.tiers[0].customers else {
        panic!("a tier of users")
    };
    let worst = d.worst(0.999);
    let k = 200_000;
    (0..k)
        .map(|i| d.quantile((i as f64 + 0.5) / k as f64).min(worst))
        .collect()
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0.0);
    for x in v {
        s += x;
        n += 1.0;
    }
    s / n
}

/// Share of the grid at or below `x`.
fn cdf(grid: &[f64], x: f64) -> f64 {
    grid.partition_point(|v| *v <= x) as f64 / grid.len() as f64
}

fn run(m: &Model) -> costgate::sim::SimResult {
    simulate(
        m,
        &Options {
            trials: TRIALS,
            ..Options::default()
        },
    )
}

fn assert_within(what: &str, got: f64, want: f64, se: f64) {
    assert!(se > 0.0, "{what}: the standard error must not be zero");
    assert!(
        (got - want).abs() < 4.0 * se,
        "{what}: {got:.5} vs closed form {want:.5} (4 SE = {:.5})",
        4.0 * se
    );
}

#[test]
fn breakers_trip_on_the_days_past_their_limit_and_cut_those_users() {
    // The breaker trips on a day when N x $0.0105 passes its limit, set at
    // t = 2,600.5 users: every day of a month alike, so it trips on all 30
    // days of a share P(N > t) of the months, none of the others. Blocking,
    // it keeps the limit: of the N users active that day it cuts N - t, so
    // the share of user-days blocked is E[(N - t)+] / E[N]; throttling at
    // 0.5, it keeps the limit plus half the rest and degrades half as many.
    let t = 2600.5;
    let limit = t * DAY;
    let grid = users(&model(SPEC));
    let p = 1.0 - cdf(&grid, t);
    let en = mean(grid.iter().copied());
    let past = mean(grid.iter().map(|n| (n - t).max(0.0)));
    let share = past / en;
    // The shares are ratios of sums over trials: their SE is the SD of
    // (Y - share x N) over sqrt(trials) E[N], Y = (N - t)+.
    let share_se =
        mean(grid.iter().map(|n| ((n - t).max(0.0) - share * n).powi(2))).sqrt() / en / (TRIALS as f64).sqrt();
    let p_se = (p * (1.0 - p) / TRIALS as f64).sqrt();
    assert!(
        (0.1..0.5).contains(&p),
        "the breaker must trip in some months, not all ({p})"
    );

    let block = run(&model(&format!(
        "{SPEC}breakers:\n  feature_daily_usd: {{limit: {limit}, on_trip: block}}\n"
    )));
    let b = &block.breakers[0];
    assert_within("trips share (block)", b.trips_share, p, p_se);
    assert_within("mean days tripped (block)", b.mean_days_tripped, 30.0 * p, 30.0 * p_se);
    let e = &block.tiers[0].effects;
    assert_within("user-days blocked", e.user_days_blocked_share, share, share_se);
    assert_eq!(e.user_days_degraded_share, 0.0);
    // The month costs 30 x min(N x $0.0105, limit).
    let cost = mean(grid.iter().map(|n| 30.0 * (n * DAY).min(limit)));
    let cost_sd = mean(grid.iter().map(|n| (30.0 * (n * DAY).min(limit) - cost).powi(2))).sqrt();
    assert_within(
        "mean month (block)",
        block.cost.mean.unwrap(),
        cost,
        cost_sd / (TRIALS as f64).sqrt(),
    );

    let throttle = run(&model(&format!(
        "{SPEC}breakers:\n  feature_daily_usd: {{limit: {limit}, on_trip: throttle, factor: 0.5}}\n"
    )));
    let b = &throttle.breakers[0];
    assert_within("trips share (throttle)", b.trips_share, p, p_se);
    let e = &throttle.tiers[0].effects;
    assert_within(
        "user-days degraded",
        e.user_days_degraded_share,
        0.5 * share,
        0.5 * share_se,
    );
    assert_eq!(e.user_days_blocked_share, 0.0);
}

#[test]
fn a_scenario_shows_the_cost_at_confidence_with_and_without_it() {
    // Prices double from a day d0 drawn uniformly over the month (chance
    // 0.5). Without it a month costs 30 x N x $0.0105; with it
    // (d0 + 2 (30 - d0)) x N x $0.0105 = (60 - d0) x N x $0.0105. The p95 of
    // each: the quantile of N for the first; for the second the x where the
    // mixture over d0 of P(N <= x / ((60 - d0) $0.0105)) is 0.95. Their SE
    // is that of an order statistic of the trials on each side:
    // sqrt(q(1 - q) / n) over the density at the quantile.
    let m = model(&format!(
        "{SPEC}scenarios:\n  - {{name: prices, chance: 0.5, price_multiplier: 2}}\n"
    ));
    let grid = users(&m);
    let r = run(&m);
    let s = &r.scenarios[0];
    let q = r.confidence;
    assert_within("happened share", s.happened_share, 0.5, (0.25 / TRIALS as f64).sqrt());
    let n_with = s.happened_share * TRIALS as f64;
    let n_without = TRIALS as f64 - n_with;

    let cdf_without = |x: f64| cdf(&grid, x / (30.0 * DAY));
    let cdf_with = |x: f64| mean((0..30).map(|d0| cdf(&grid, x / ((60.0 - d0 as f64) * DAY))));
    let solve = |f: &dyn Fn(f64) -> f64| {
        let (mut lo, mut hi) = (0.0, 60.0 * 4000.0 * DAY);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if f(mid) < q { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    };
    let se = |f: &dyn Fn(f64) -> f64, x: f64, n: f64| {
        let h = 0.01 * x;
        let density = (f(x + h) - f(x - h)) / (2.0 * h);
        (q * (1.0 - q) / n).sqrt() / density
    };
    let without = solve(&cdf_without);
    let with = solve(&cdf_with);
    // one user's rounding, on top
    let round = 60.0 * DAY;
    assert_within(
        "cost at confidence without the scenario",
        s.cost_at_confidence_without.unwrap(),
        without,
        se(&cdf_without, without, n_without) + round / 4.0,
    );
    assert_within(
        "cost at confidence with the scenario",
        s.cost_at_confidence_with.unwrap(),
        with,
        se(&cdf_with, with, n_with) + round / 4.0,
    );
    assert!(with > 1.3 * without, "the scenario must matter: {with} vs {without}");
}

#[test]
fn breach_probabilities_are_the_share_of_months_past_each_threshold() {
    // A policy's p95 threshold at 30 x 2,600.5 users x $0.0105: a month is
    // past it when N > 2,600.5, so the breach probability is P(N > 2,600.5)
    // within four binomial standard errors; the worst-case threshold, far
    // above any month, is never passed.
    let grid = users(&model(SPEC));
    let t = 2600.5;
    let p = 1.0 - cdf(&grid, t);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.yaml"), SPEC).unwrap();
    std::fs::write(
        dir.path().join("costgate.toml"),
        format!(
            "[thresholds]\np95_monthly_usd = {}\nworst_case_monthly_usd = 1000000\n",
            30.0 * t * DAY
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("costgate")
        .unwrap()
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("COSTGATE_TODAY", "2026-11-28")
        .arg("check")
        .arg(dir.path().join("f.yaml"))
        .args([
            "--format",
            "json",
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let breaches = v["features"][0]["breach_probabilities"].as_array().unwrap();
    let of = |name: &str| {
        breaches
            .iter()
            .find(|b| b["threshold"] == name)
            .unwrap_or_else(|| panic!("no breach of {name}: {breaches:?}"))["probability"]
            .as_f64()
            .unwrap()
    };
    assert_within(
        "P(month > p95 threshold)",
        of("p95_monthly_usd"),
        p,
        (p * (1.0 - p) / TRIALS as f64).sqrt(),
    );
    assert_eq!(of("worst_case_monthly_usd"), 0.0);
}
