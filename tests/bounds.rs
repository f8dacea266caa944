//! Bounded work for any valid input, and the wrong figures and unclear
//! messages found on the way (issue 9).
//!
//! The engine's cost does not grow with calls per interaction nor with
//! tenants past [`TENANT_REPS`]; what it still costs is estimated from the
//! spec and refused past the limits, jointly. The statistical tests here
//! check that the shortcuts keep the figures' meaning, with tolerances from
//! their standard errors.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::Path;

use assert_cmd::Command;
use costgate::economics::Model;
use costgate::sim::demand::stream;
use costgate::sim::limits;
use costgate::sim::month::{Engine, TENANT_REPS};
use costgate::sim::{Options, simulate};

fn costgate() -> Command {
    cmd::costgate_on("2026-11-28")
}

const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: gpt-4o}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 1}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

fn problems(file: &str, text: &str) -> Vec<costgate::source::Problem> {
    costgate::spec::load_str(file, text).expect_err("the spec should be refused")
}

/// Run the CLI on `text` saved as `name`; (exit code, stdout, stderr).
fn run(name: &str, text: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let out = costgate()
        .current_dir(dir.path())
        .arg("check")
        .arg(name)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn normal_sf(z: f64) -> f64 {
    1.0 - costgate::dist::norm_cdf(z)
}

// ------------------------------------------------------------ engine ----

#[test]
fn calls_past_the_exact_count_keep_their_mean_and_cost_nothing_more() {
    // 100,000 calls per interaction at p50 without `max_calls`: the old
    // engine drew every call (hours); the pool now draws 256 and adds the
    // rest at a call's mean. Tokens are fixed, so a call costs exactly
    // 1000 x $2.5/M + 500 x $10/M = $0.0075 and the month's expected cost is
    // users x days x E[calls] x $0.0075, E[calls] = p50 exp(sigma^2 / 2).
    // The pool's mean of calls has a relative standard error of cv/sqrt(65,536)
    // = 1.0% (cv = 2.46), the user-day table's another 1.4%: 6% is over
    // four standard errors.
    let y = BASE
        .replace("interaction: {", "interaction: {calls: {p50: 100000, p95: 1000000}, ")
        .replace("users: 1000", "users: 10");
    let m = model(&y);
    let r = simulate(
        &m,
        &Options {
            trials: 200,
            ..Options::default()
        },
    );
    let sigma = 10f64.ln() / 1.6448536269514722;
    let expected = 10.0 * 30.0 * 100_000.0 * (0.5 * sigma * sigma).exp() * 0.0075;
    let mean = r.cost.mean.unwrap();
    assert!(
        (mean / expected - 1.0).abs() < 0.06,
        "mean month {mean:.0} vs expected {expected:.0}"
    );
}

const TENANTS: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: gpt-4o}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 1}
tiers:
  - name: org
    tenants: N
    users_per_tenant: {p50: 20, p95: 200}
    price_usd_per_month: 500
    model: primary
    tenant_budget: {monthly_usd: 22.5, alerts: [0.5, 1.0, 2.0], on_limit: notify}
";

#[test]
fn many_tenants_are_simulated_through_representatives_with_the_right_total() {
    // 2,000 tenants: each trial simulates TENANT_REPS of them. The tier's
    // total users must keep the mean n mu and the spread sqrt(n) sigma of
    // 2,000 independent tenants (mu, sigma of one tenant as drawn: truncated
    // at the worst case; computed here on a fine grid of its quantiles).
    let m = model(&TENANTS.replace("tenants: N", "tenants: 2000"));
    let engine = Engine::sampled(&m, 11);
    let costgate::economics::Customers::Tenants { users_per_tenant, .. } = &m.tiers[0].customers else {
        panic!("a tier of tenants")
    };
    let worst = users_per_tenant.worst(0.999);
    let k = 200_000;
    let (mut s1, mut s2) = (0.0, 0.0);
    for i in 0..k {
        let x = users_per_tenant.quantile((i as f64 + 0.5) / k as f64).min(worst);
        s1 += x;
        s2 += x * x;
    }
    let mu = s1 / k as f64;
    let sd = (s2 / k as f64 - mu * mu).sqrt();
    let n = 2000.0;
    let draws = 4000;
    let totals: Vec<f64> = (0..draws)
        .map(|i| {
            let d = engine.draw(&mut stream(3, i));
            let (reps, w) = d.customers[0].tenants().unwrap();
            assert!(reps.len() <= TENANT_REPS, "{} tenants simulated", reps.len());
            assert_eq!(w * reps.len() as f64, n);
            d.customers[0].users()
        })
        .collect();
    let mean = totals.iter().sum::<f64>() / draws as f64;
    let spread = (totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (draws - 1) as f64).sqrt();
    // The mean's standard error is spread / sqrt(4000); the spread's about
    // 1.1% (a little more for a skewed total): 4 SE and 8%.
    let se = sd * n.sqrt() / (draws as f64).sqrt();
    assert!(
        (mean - n * mu).abs() < 4.0 * se,
        "mean {mean:.0} vs {:.0} (se {se:.0})",
        n * mu
    );
    assert!(
        (spread / (sd * n.sqrt()) - 1.0).abs() < 0.08,
        "spread {spread:.0} vs {:.0}",
        sd * n.sqrt()
    );
}

#[test]
fn tenant_budget_alerts_keep_their_share_through_representatives() {
    // Everything but tenant size is fixed: a user costs $0.0075 x 30 = $0.225
    // a month, so a tenant crosses the alerts at 0.5, 1 and 2 x $22.5 when it
    // has 50, 100 and 200 users: P(users >= x) = 1 - Phi(ln(x/20)/sigma).
    // Checked with 60 tenants (each simulated) and 2,000 (representatives):
    // the 60-tenant share over 1,000 trials has a standard error under
    // 0.0018, the represented one less; 0.012 is over four.
    let sigma = 10f64.ln() / 1.6448536269514722;
    let expected: Vec<f64> = [50.0f64, 100.0, 200.0]
        .iter()
        .map(|x| normal_sf((x / 20.0).ln() / sigma))
        .collect();
    for n in [60usize, 2000] {
        let m = model(&TENANTS.replace("tenants: N", &format!("tenants: {n}")));
        let r = simulate(
            &m,
            &Options {
                trials: 1000,
                ..Options::default()
            },
        );
        let alerts = &r.tiers[0].effects.tenant_alerts;
        for (a, want) in alerts.iter().zip(&expected) {
            let share = a.tenants_per_month / n as f64;
            assert!(
                (share - want).abs() < 0.012,
                "{n} tenants, alert at {}: share {share:.4} vs {want:.4}",
                a.at
            );
        }
    }
}

#[test]
fn represented_tenants_cost_what_they_would_one_by_one() {
    // Small tenants (median 1.5 users): many of a stratum's draws round to no
    // user at all, yet the tenants it stands for have some. The cost per
    // tenant must be the same whether each tenant is simulated (60) or the
    // tier goes through representatives (2,000): cost is linear in users here
    // (a notify-only budget). 4 standard errors of the difference.
    let per_tenant = |n: usize| {
        let spec = TENANTS
            .replace("tenants: N", &format!("tenants: {n}"))
            .replace("{p50: 20, p95: 200}", "{p50: 1.5, p95: 4}");
        let r = simulate(
            &model(&spec),
            &Options {
                trials: 1000,
                ..Options::default()
            },
        );
        let (mean, se) = (r.cost.mean.unwrap(), r.cost.mean_se.unwrap());
        (mean / n as f64, se / n as f64)
    };
    let (one_by_one, se1) = per_tenant(60);
    let (represented, se2) = per_tenant(2000);
    let se = se1.hypot(se2);
    assert!(
        (represented - one_by_one).abs() < 4.0 * se,
        "per tenant: represented {represented:.5} vs one by one {one_by_one:.5} (se {se:.5})"
    );
}

#[test]
fn a_runaway_loop_in_a_represented_tier_alerts_as_one_tenant() {
    // A loop in one of 2,000 tenants spends $90 in its first day; ordinary
    // use stays far below the budget. Each month the loop happens, one
    // tenant crosses each alert: one, not the 31 tenants a representative
    // stands for.
    let spec = format!(
        "{}scenarios:\n  - {{name: loop, chance: 1, calls_per_hour: 3000, hours_until_detected: 6}}\n",
        TENANTS
            .replace("tenants: N", "tenants: 2000")
            .replace("{p50: 20, p95: 200}", "{p50: 2, p95: 4}")
            .replace("monthly_usd: 22.5", "monthly_usd: 50")
    );
    let r = simulate(
        &model(&spec),
        &Options {
            trials: 200,
            ..Options::default()
        },
    );
    for a in &r.tiers[0].effects.tenant_alerts {
        assert!(
            (a.tenants_per_month - 1.0).abs() < 1e-9,
            "alert at {}: {} tenants a month",
            a.at,
            a.tenants_per_month
        );
    }
}

// ------------------------------------------------------------ limits ----

fn tiers(n: usize, each: &str) -> String {
    let mut y = BASE.replace(
        "  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}\n",
        "",
    );
    for i in 0..n {
        y.push_str(&format!(
            "  - {{name: t{i}, {each}, price_usd_per_month: 20, model: primary}}\n"
        ));
    }
    y
}

#[test]
fn a_spec_too_large_to_simulate_is_refused_at_validation() {
    // 1,000 tiers took 58 s and 1.2 GB; 10,000 ran away.
    for n in [1000, 10_000] {
        let ps = problems("t.yaml", &tiers(n, "users: 100"));
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert_eq!(ps[0].span.path, "tiers");
        assert!(ps[0].span.line > 0, "a position");
        assert!(ps[0].message.contains("too large to simulate"), "{}", ps[0].message);
    }
}

#[test]
fn the_limits_hold_jointly() {
    // Each dimension alone is accepted; together they are refused.
    let monthly = "users: 100, limit: {monthly_tokens: 1000000}";
    let few = tiers(1, monthly);
    assert!(costgate::spec::load_str("t.yaml", &few).is_ok());
    let mut scenarios = String::from("scenarios:\n");
    for i in 0..20 {
        scenarios.push_str(&format!(
            "  - {{name: v{i}, chance: 0.1, usage_multiplier: {}, days: 2}}\n",
            2 + i
        ));
    }
    let viral = format!("{}{scenarios}", tiers(1, "users: 100"));
    assert!(costgate::spec::load_str("t.yaml", &viral).is_ok());
    let both = format!("{}{scenarios}", tiers(60, monthly));
    let ps = problems("t.yaml", &both);
    assert!(ps[0].message.contains("too large to simulate"), "{ps:#?}");
}

#[test]
fn the_parts_that_ran_past_ten_seconds_are_refused() {
    // Measured on the release build (README "Bounded work"): 4 tiers with
    // monthly caps took 70 s of CPU, 7 tiers of PERT tenants 110 s, 29,134
    // scenarios 36 s (and 270 s of wall time, summarised on one core), 314
    // runaway loops 18 s; each validated. Now each is refused with the part
    // that costs the most, and a smaller one still validates.
    let refused = |yaml: &str, part: &str| {
        let ps = problems("t.yaml", yaml);
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert!(ps[0].message.contains("too large to simulate"), "{}", ps[0].message);
        assert!(ps[0].hint.as_deref().unwrap_or("").contains(part), "{:?}", ps[0].hint);
    };
    let monthly = "users: 100, limit: {monthly_tokens: 1000000}";
    refused(&tiers(3, monthly), "monthly cap");
    assert!(costgate::spec::load_str("t.yaml", &tiers(2, monthly)).is_ok());
    // A top-up's panel took about twice a monthly cap's (a free tier with a
    // top-up beside a pro tier with a monthly cap: 12 s of wall time): one
    // validates, with a monthly cap beside it it does not.
    let top_up = "users: 100, limit: {daily_tokens: 20000, on_limit: top_up, top_up: {price_usd: 5, tokens: 40000, uptake: 0.1, max_per_month: 3}, message: \"Used {used} of {limit}; $5 buys 40,000 more tokens, or wait until {reset}.\"}";
    assert!(costgate::spec::load_str("t.yaml", &tiers(1, top_up)).is_ok());
    let beside = tiers(1, monthly)
        .split("tiers:\n")
        .nth(1)
        .unwrap()
        .replace("name: t0", "name: m0");
    refused(&format!("{}{beside}", tiers(1, top_up)), "top-up");
    let pert = "tenants: 2000, users_per_tenant: {low: 1, mode: 20, high: 400, shape: pert}";
    refused(&tiers(1, pert), "PERT");
    let lognormal = "tenants: 2000, users_per_tenant: {p50: 20, p95: 400}";
    assert!(costgate::spec::load_str("t.yaml", &tiers(1, lognormal)).is_ok());
    let scenarios = |n: usize, each: &str| {
        let mut y = format!("{BASE}scenarios:\n");
        for i in 0..n {
            y.push_str(&format!("  - {{name: s{i}, chance: 1, {each}}}\n"));
        }
        y
    };
    refused(&scenarios(6000, "usage_multiplier: 2, days: 1"), "tiers x");
    assert!(costgate::spec::load_str("t.yaml", &scenarios(100, "usage_multiplier: 2, days: 1")).is_ok());
    refused(
        &scenarios(300, "calls_per_hour: 3600, hours_until_detected: 48"),
        "tiers x",
    );
}

#[test]
fn the_worst_case_fixtures_validate() {
    // The benchmark's worst cases (README "Bounded work") stay valid specs.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench");
    for name in [
        "worst-tiers.yaml",
        "worst-days.yaml",
        "worst-viral.yaml",
        "worst-calls.yaml",
        "worst-alerts.yaml",
        "worst-tenant-tiers.yaml",
        "monthly-caps.yaml",
        "top-ups.yaml",
        "worst-interactions.yaml",
        "budgeted-tenants.yaml",
    ] {
        let spec = costgate::spec::load_file(&dir.join(name)).unwrap_or_else(|p| panic!("{name}: {p:#?}"));
        let w = limits::check(&spec, costgate::sim::DEFAULT_TRIALS).unwrap();
        assert!(
            w.steps > 0.5 * limits::MAX_STEPS || name == "budgeted-tenants.yaml",
            "{name}: {w:?}"
        );
    }
}

#[test]
fn every_example_is_well_within_the_limits() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let spec = costgate::spec::load_file(&e.path()).unwrap();
        let w = limits::check(&spec, costgate::sim::DEFAULT_TRIALS).unwrap();
        assert!(w.steps < 0.25 * limits::MAX_STEPS, "{}: {w:?}", e.path().display());
        // An eighth of the memory limit: the thread's example (a user breaker
        // over three tiers) keeps, besides its demand tables (~50 MB), each
        // tier's user-days sorted for the user breaker (32 batches x 3 tiers
        // x 2 classes x 4,096 x 56 bytes = 44 MB): 88 MB of the 768.
        assert!(w.bytes < 0.125 * limits::MAX_BYTES, "{}: {w:?}", e.path().display());
    }
}

#[test]
fn trials_are_bounded_alone_and_with_the_spec() {
    // --trials 10,000,000 took 2.8 GB: past the documented maximum it is a
    // usage error; under it, a spec whose months would not fit is refused.
    let (code, _, err) = run("t.yaml", BASE, &["--trials", "10000000"]);
    assert_eq!(code, 64, "{err}");
    let (code, _, err) = run("t.yaml", &tiers(20, "users: 100"), &["--trials", "1000000"]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("t.yaml:") && err.contains("too large to simulate"),
        "{err}"
    );
}

// ------------------------------------------------ figures and messages ----

#[test]
fn numbers_past_the_limit_are_refused_with_their_field_in_yaml_and_toml() {
    let ps = problems("t.yaml", &BASE.replace("users: 1000", "users: 1e308"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "tiers[0].users");
    assert_eq!((ps[0].span.line, ps[0].span.column), (7, 24));
    let toml = "costgate = 1
[feature]
id = \"f\"
value = {kind = \"revenue\"}
[models]
primary = \"gpt-4o\"
[interaction]
input_tokens = {p50 = 1000, p95 = 2e9}
output_tokens = 500
[usage]
active_share = 1
interactions_per_active_day = 1
[[tiers]]
name = \"pro\"
users = 1000
price_usd_per_month = 20
";
    let ps = problems("t.toml", toml);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "interaction.input_tokens.p95");
    assert_eq!(ps[0].span.line, 8);
    // The limit itself is accepted.
    assert!(costgate::spec::load_str("t.yaml", &BASE.replace("users: 1000", "users: 1e9")).is_ok());
    let (code, _, err) = run("t.yaml", &BASE.replace("users: 1000", "users: 1e308"), &[]);
    assert_eq!(code, 65);
    assert!(err.contains("t.yaml:7:24") && err.contains("tiers[0].users"), "{err}");
}

#[test]
fn zero_users_give_an_undefined_ratio_not_zero() {
    let y = BASE.replace("users: 1000", "users: 0");
    let (_, out, err) = run(
        "t.yaml",
        &y,
        &["--format", "json", "--trials", "200", "--allow-few-trials"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let f = &v["features"][0];
    assert!(f["typical"]["cost_revenue_ratio"].is_null(), "{}", f["typical"]);
    assert!(
        f["simulation"]["cost_revenue_ratio"]["p95"].is_null(),
        "{}",
        f["simulation"]
    );
    let (_, table, _) = run(
        "t.yaml",
        &y,
        &["--trials", "200", "--allow-few-trials", "--color", "never"],
    );
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("cost / revenue"))
        .unwrap();
    assert!(!row.contains('%'), "{row}");
    assert!(row.contains('—'), "{row}");
}

#[test]
fn an_exception_for_a_feature_no_spec_has_is_unused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), BASE).unwrap();
    std::fs::write(
        dir.path().join("costgate.toml"),
        "[[exceptions]]\nrule = \"missing-call-limit\"\nfeature = \"no-such-feature\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
    )
    .unwrap();
    let out = costgate()
        .current_dir(dir.path())
        .args([
            "check",
            "t.yaml",
            "--trials",
            "200",
            "--allow-few-trials",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["features"][0]["findings"].as_array().unwrap();
    let unused: Vec<_> = findings.iter().filter(|f| f["rule"] == "unused-exception").collect();
    assert_eq!(unused.len(), 1, "{findings:#?}");
    assert!(unused[0]["message"].as_str().unwrap().contains("no-such-feature"));
    assert_eq!(unused[0]["span"]["line"], 1, "{:#}", unused[0]);
}

#[test]
fn yaml_budget_errors_are_plain_words_once() {
    let deep = format!("a: {}{}\n", "[".repeat(70), "]".repeat(70));
    let (code, _, err) = run("t.yaml", &deep, &[]);
    assert_eq!(code, 65);
    let first = err.lines().next().unwrap();
    assert!(first.starts_with("error: t.yaml:1:"), "{err}");
    assert_eq!(first.matches("error").count(), 1, "{err}");
    assert!(!err.contains("line 1 column"), "{err}");
    assert!(!err.contains('{') && !err.contains("budget breached"), "{err}");
    assert!(first.contains("deeper than 64 levels"), "{err}");
    let two = format!("{BASE}---\n{BASE}");
    let (code, _, err) = run("t.yaml", &two, &[]);
    assert_eq!(code, 65);
    assert!(err.contains("only one document per spec"), "{err}");
    assert!(!err.contains("Documents"), "{err}");
}

#[test]
fn toml_recursion_errors_name_the_line() {
    let deep = format!("costgate = 1\n\na = {}{}\n", "[".repeat(3000), "]".repeat(3000));
    let (code, _, err) = run("t.toml", &deep, &[]);
    assert_eq!(code, 65);
    assert!(err.starts_with("error: t.toml:3:"), "{err}");
}

#[test]
fn one_mistake_gives_one_error() {
    // A scenario mixing two effects: not also "unknown field" for each.
    let mixed = format!(
        "{BASE}scenarios: [{{name: x, chance: 0.1, usage_multiplier: 2, days: 3, calls_per_hour: 5, hours_until_detected: 2}}]\n"
    );
    let ps = problems("t.yaml", &mixed);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].message.contains("mixes effects"));
    // A negative own-model price.
    let neg = BASE.replace(
        "{primary: gpt-4o}",
        "{primary: {input_usd_per_mtok: -1, output_usd_per_mtok: 2}, cheap: gpt-4o-mini}",
    );
    let ps = problems("t.yaml", &neg);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "models.primary.input_usd_per_mtok");
}

#[test]
fn contradictory_bounds_and_long_spikes_are_refused() {
    let cases = [
        (
            BASE.replace(
                "interactions_per_active_day: 1",
                "interactions_per_active_day: {p50: 10, p95: 20, max: 5}",
            ),
            "usage.interactions_per_active_day.max",
        ),
        (
            BASE.replace(
                "interactions_per_active_day: 1",
                "interactions_per_active_day: {p50: 10, p95: 20, min: 25}",
            ),
            "usage.interactions_per_active_day.min",
        ),
        (
            format!("{BASE}scenarios: [{{name: v, chance: 0.1, usage_multiplier: 2, days: 31}}]\n"),
            "scenarios[0].days",
        ),
        (
            format!(
                "{}scenarios: [{{name: v, chance: 0.1, usage_multiplier: 2, days: 8}}]\n",
                BASE.replace("usage: {", "usage: {days: 7, ")
            ),
            "scenarios[0].days",
        ),
    ];
    for (y, path) in cases {
        let ps = problems("t.yaml", &y);
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert_eq!(ps[0].span.path, path);
    }
    // A spike as long as the month is fine.
    let ok = format!("{BASE}scenarios: [{{name: v, chance: 0.1, usage_multiplier: 2, days: 30}}]\n");
    assert!(costgate::spec::load_str("t.yaml", &ok).is_ok());
}

#[test]
fn specs_are_sized_at_the_policys_default_worst_case_quantile() {
    // The limits are checked when a spec is read, before any policy: they
    // read the counts at the quantile a policy reads by default.
    assert_eq!(
        limits::SIZING_QUANTILE,
        costgate::policy::Thresholds::default().worst_case_quantile
    );
}

#[test]
fn represented_tenants_trip_the_tenant_breaker_as_they_would_one_by_one() {
    // Every user-day alike ($0.012, $0.024 on the 6 days of a certain x2
    // spike); tenants of 3 users: $0.036 a day, $0.072 on a spike day. A
    // tenant breaker at $0.05 trips on each tenant's 6 spike days: 6 trips a
    // tenant a month, whether the tier's tenants are simulated one by one
    // (40) or through representatives (200); blocking, a tenant's month
    // costs 24 x 0.036 + 6 x 0.05.
    for n in [40usize, 200] {
        let spec = format!(
            "costgate: 1
feature: {{id: f, value: {{kind: revenue}}}}
models: {{primary: {{input_usd_per_mtok: 3, output_usd_per_mtok: 15}}}}
interaction: {{calls: 1, input_tokens: 1000, output_tokens: 200}}
usage: {{active_share: 1, interactions_per_active_day: 2}}
tiers:
  - {{name: ent, tenants: {n}, users_per_tenant: 3, price_usd_per_month: 500, model: primary}}
breakers:
  tenant_daily_usd: {{limit: 0.05, on_trip: block, notify: [account-manager]}}
scenarios:
  - {{name: spike, chance: 1, usage_multiplier: 2, days: 6}}
"
        );
        let r = simulate(
            &model(&spec),
            &Options {
                trials: 20,
                ..Options::default()
            },
        );
        let lv = r.breaker_levels.as_ref().expect("breaker levels reported");
        let want = 6.0 * n as f64;
        assert!(
            (lv.breakers[0].mean_trips_per_month - want).abs() < 1e-6 * want,
            "{n} tenants: {} trips",
            lv.breakers[0].mean_trips_per_month
        );
        assert!((lv.account_manager_alerts_per_month - want).abs() < 1e-6 * want);
        let cost = n as f64 * (24.0 * 0.036 + 6.0 * 0.05);
        let got = r.cost.mean.unwrap();
        assert!((got - cost).abs() < 1e-6 * cost, "{n} tenants: cost {got} vs {cost}");
    }
}

#[test]
fn breaker_levels_give_the_same_figures_whatever_the_thread_count() {
    // User and tenant breakers in a represented tier (300 tenants): the same
    // seed gives the same trips, pages, alerts and cost on 1 and 3 threads.
    let spec = format!(
        "{}breakers:\n  user_daily_usd: {{limit: 0.004, on_trip: throttle, factor: 0.5, notify: user}}\n  tenant_daily_usd: {{limit: 0.05, on_trip: notify, notify: [account-manager, on-call]}}\n",
        TENANTS.replace("tenants: N", "tenants: 300").replace(
            "interactions_per_active_day: 1",
            "interactions_per_active_day: {p50: 1, p95: 4}"
        )
    );
    let m = model(&spec);
    let run = |threads: usize| {
        simulate(
            &m,
            &Options {
                trials: 64,
                threads: Some(threads),
                ..Options::default()
            },
        )
    };
    let (a, b) = (run(1), run(3));
    let (la, lb) = (a.breaker_levels.unwrap(), b.breaker_levels.unwrap());
    assert!(la.breakers.iter().all(|x| x.mean_trips_per_month > 0.0), "{la:?}");
    assert_eq!(la, lb);
    assert_eq!(a.cost.mean, b.cost.mean);
}
