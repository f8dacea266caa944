//! Several features judged together against one AI budget.

use std::path::Path;

use assert_cmd::Command;

fn specs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

fn run(policy: &str, paths: &[std::path::PathBuf]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("costgate.toml");
    std::fs::write(&pol, policy).unwrap();
    let out = Command::cargo_bin("costgate")
        .unwrap()
        .env("COSTGATE_TODAY", "2026-11-28")
        .args([
            "check",
            "--format",
            "json",
            "--trials",
            "400",
            "--allow-few-trials",
            "--policy",
        ])
        .arg(&pol)
        .args(paths)
        .output()
        .unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn the_portfolio_adds_up_every_feature_with_its_share() {
    let (_, v) = run("", &[specs()]);
    let p = &v["portfolio"];
    assert_eq!(p["features"], 5);
    let total = p["at_confidence_monthly_usd"].as_f64().unwrap();
    let sum: f64 = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["simulation"]["cost"]["at_confidence"].as_f64().unwrap())
        .sum();
    assert!((total - sum).abs() < 1e-6 * total);
    let shares: f64 = p["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9);
    // largest first
    assert_eq!(p["shares"][0]["feature"], "enterprise-copilot");
    assert!(p["worst_case_monthly_usd"].is_null(), "one feature is unbounded");
}

#[test]
fn a_portfolio_over_budget_blocks_and_names_the_biggest_contributors() {
    let passing = [
        specs().join("tiered-assistant.yaml"),
        specs().join("consumer-chat.toml"),
    ];
    let (code, v) = run("[portfolio]\nmonthly_budget_usd = 5000\n", &passing);
    assert_eq!(code, 1);
    let f = &v["portfolio"]["findings"][0];
    assert_eq!(f["rule"], "portfolio-over-budget");
    assert_eq!(f["level"], "deny");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("tiered-assistant") && msg.contains("consumer-chat"),
        "{msg}"
    );
    assert!(
        msg.find("tiered-assistant").unwrap() < msg.find("consumer-chat").unwrap(),
        "{msg}"
    );
    assert!(f["span"]["line"].as_u64().unwrap() == 1);
    // the same features under a budget they fit pass
    let (code, v) = run("[portfolio]\nmonthly_budget_usd = 50000\n", &passing);
    assert_eq!(code, 0);
    assert!(v["portfolio"]["findings"].as_array().unwrap().is_empty());
}

#[test]
fn an_infra_share_limit_is_judged_on_the_sum() {
    let passing = [
        specs().join("tiered-assistant.yaml"),
        specs().join("consumer-chat.toml"),
    ];
    let (code, v) = run(
        "[portfolio]\ninfra_monthly_budget_usd = 100000\nmax_infra_budget_share = 0.05\n",
        &passing,
    );
    assert_eq!(code, 1, "{}", v["portfolio"]);
    assert_eq!(
        v["portfolio"]["findings"][0]["figure"]["name"],
        "portfolio.max_infra_budget_share"
    );
}

#[test]
fn one_feature_without_a_portfolio_policy_has_no_portfolio() {
    let (_, v) = run("", &[specs().join("tiered-assistant.yaml")]);
    assert!(v["portfolio"].is_null());
}

#[test]
fn a_portfolio_without_a_budget_is_invalid() {
    let (code, _) = {
        let dir = tempfile::tempdir().unwrap();
        let pol = dir.path().join("costgate.toml");
        std::fs::write(&pol, "[portfolio]\n").unwrap();
        let out = Command::cargo_bin("costgate")
            .unwrap()
            .args(["check", "--policy"])
            .arg(&pol)
            .arg(specs())
            .output()
            .unwrap();
        (out.status.code().unwrap(), ())
    };
    assert_eq!(code, 65);
}
