//! `costgate validate` and `costgate check --no-simulate`: the specs and the
//! policy read, validated and priced without simulating, with `check`'s
//! problems and exit codes.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn costgate() -> Command {
    cmd::costgate_on("2026-11-28")
}

fn specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

#[test]
fn valid_specs_pass_without_a_verdict() {
    // The examples include a blocked and an approval-needing feature: check
    // exits 1, validate and check --no-simulate 0 (nothing is simulated).
    costgate()
        .arg("check")
        .arg(specs())
        .args(["--trials", "500", "--allow-few-trials"])
        .assert()
        .code(1);
    costgate()
        .arg("validate")
        .arg(specs())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("valid: 5 specs").and(predicate::str::contains("nothing simulated")));
    costgate()
        .args(["check", "--no-simulate"])
        .arg(specs())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("valid: 5 specs"));
    costgate()
        .args(["validate", "-q"])
        .arg(specs())
        .assert()
        .code(0)
        .stdout("");
}

const BROKEN: &str = "costgate: 1
feature:
  id: t
  value: {kind: revenu}
models:
  primary: claude-sonet-4-5
interaction:
  input_tokens: {p50: 1800, p95: 6000}
  output_tokens: {p50: 350, p95: 1100}
  max_cals: 4
usage:
  active_share: 0.5
  interactions_per_active_day: {p50: 3, p95: 14}
tiers:
  - name: pro
    users: 100
    price_usd_per_month: 50
";

#[test]
fn problems_are_reported_as_check_reports_them() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("broken.yaml");
    std::fs::write(&p, BROKEN).unwrap();
    let check = costgate().arg("check").arg(&p).output().unwrap();
    assert_eq!(check.status.code(), Some(65));
    for args in [vec!["validate"], vec!["check", "--no-simulate"]] {
        let out = costgate().args(&args).arg(&p).output().unwrap();
        assert_eq!(out.status.code(), Some(65), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&check.stderr),
            "{args:?}"
        );
        assert!(out.stdout.is_empty());
    }
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("broken.yaml:4:17: `feature.value.kind`"), "{stderr}");
    assert!(stderr.contains("[unknown-field]"), "{stderr}");
}

#[test]
fn an_unknown_model_and_a_bad_policy_are_caught() {
    let d = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(specs().join("support-assistant.yaml")).unwrap();
    let p = d.path().join("a.yaml");
    std::fs::write(&p, spec.replace("claude-sonnet-4-5", "claude-sonnet-4-5-typo")).unwrap();
    costgate()
        .arg("validate")
        .arg(&p)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("claude-sonnet-4-5-typo"));
    std::fs::write(&p, &spec).unwrap();
    costgate().arg("validate").arg(&p).assert().code(0);
    std::fs::write(d.path().join("costgate.toml"), "[thresholds]\nconfidence = 2\n").unwrap();
    costgate()
        .arg("validate")
        .arg(&p)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("costgate.toml:2:14: `thresholds.confidence`"));
}

#[test]
fn no_simulate_applies_the_overrides_and_the_work_limit_at_the_trials_asked() {
    let p = specs().join("tiered-assistant.yaml");
    costgate()
        .args(["check", "--no-simulate", "--set", "tiers.pro.limit.daily_tokens=-5"])
        .arg(&p)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("--set tiers.pro.limit.daily_tokens=-5"));
    // A spec valid at the default trials but too large at a million.
    let big = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench/worst-tiers.yaml");
    costgate().args(["check", "--no-simulate"]).arg(&big).assert().code(0);
    costgate()
        .args(["check", "--no-simulate", "--trials", "1000000"])
        .arg(&big)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("too large to simulate"));
}

#[test]
fn no_simulate_refuses_the_flags_of_a_simulation() {
    costgate()
        .args(["check", "--no-simulate", "--format", "json"])
        .arg(specs())
        .assert()
        .code(64);
}
