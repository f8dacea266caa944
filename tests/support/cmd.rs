//! What many test files share: the `costgate` command builder, the
//! minimal spec, the bound that only a hang exceeds, and the folder tests run
//! in. Include it with `#[path = "support/cmd.rs"] mod cmd;` (each test file
//! uses part of it).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// The binary with the GitHub Actions environment removed (so that output
/// does not depend on where the tests run) and expiries judged on `today`.
pub fn costgate_on(today: &str) -> Command {
    let mut c = Command::cargo_bin("costgate").unwrap();
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("COSTGATE_TODAY", today)
        .env_remove("COLUMNS");
    c
}

/// A bound on wall time that only a hang (waiting for a peer, an unbounded
/// parse) passes, whatever the machine's speed or load: tests that something
/// does not wait use it instead of a tight budget, which belongs in a benchmark.
pub const HANG: Duration = Duration::from_secs(60);

/// The smallest spec a check accepts: one tier of one model, with a daily
/// limit that falls back to `fallback`.
pub fn minimal_spec(primary: &str, fallback: &str) -> String {
    format!(
        "costgate: 1
feature:
  id: t
  value: {{kind: revenue}}
models:
  primary: {primary}
  fallback: {fallback}
interaction:
  calls: {{p50: 1, p95: 3}}
  input_tokens: {{p50: 1800, p95: 6000}}
  output_tokens: {{p50: 350, p95: 1100}}
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: {{low: 0.3, mode: 0.45, high: 0.7}}
  interactions_per_active_day: {{p50: 3, p95: 14}}
tiers:
  - name: pro
    users: {{low: 200, mode: 400, high: 800}}
    price_usd_per_month: 50
    model: primary
    limit:
      daily_tokens: 100000
      on_limit: fallback
      fallback_model: fallback
      message: \"You've used {{used}}/{{limit}} tokens today. It resets at {{reset}}.\"
"
    )
}

/// Tests that name example files relative to the repository (`specs/x.yaml`,
/// as a user in the repository root types them, and as snapshots show them)
/// rely on cargo running integration tests in the package's folder; no test
/// changes the process's current folder (tests run in parallel threads).
pub fn assert_in_manifest_dir() {
    let here = std::fs::canonicalize(std::env::current_dir().unwrap()).unwrap();
    let manifest = std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert_eq!(here, manifest, "cargo runs integration tests in the package folder");
}
