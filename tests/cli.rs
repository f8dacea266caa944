//! The command line as a user meets it: every exit code, and one test per
//! class of bad input asserting that the message names the file, line,
//! column and field.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn costgate() -> Command {
    cmd::costgate_on("2026-11-28")
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

const VALID: &str = "costgate: 1
feature:
  id: t
  value: {kind: revenue}
models:
  primary: claude-sonnet-4-5
  fallback: claude-haiku-4-5
interaction:
  calls: {p50: 1, p95: 3}
  input_tokens: {p50: 1800, p95: 6000}
  output_tokens: {p50: 350, p95: 1100}
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: {low: 0.3, mode: 0.45, high: 0.7}
  interactions_per_active_day: {p50: 3, p95: 14}
tiers:
  - name: pro
    users: {low: 200, mode: 400, high: 800}
    price_usd_per_month: 50
    model: primary
    limit:
      daily_tokens: 100000
      on_limit: block
      message: \"You've used {used}/{limit} tokens today. It resets at {reset}.\"
";

/// Write `text` as `name` in a fresh folder and check it.
fn check_text(name: &str, text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    let out = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(&p)
        .assert();
    drop(dir);
    out
}

fn bad(name: &str, text: &str, expect: &[&str]) {
    let a = check_text(name, text).code(65).stdout(predicate::str::is_empty());
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    for e in expect {
        assert!(err.contains(e), "stderr lacks {e:?}:\n{err}");
    }
    assert!(err.contains("nothing was checked"), "{err}");
}

#[test]
fn the_valid_fixture_passes() {
    check_text("t.yaml", VALID).code(0);
}

#[test]
fn exit_0_when_the_spec_passes() {
    costgate()
        .args(["check", "--trials", "300", "--allow-few-trials"])
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS"));
}

#[test]
fn exit_1_when_a_deny_finding_blocks() {
    costgate()
        .args(["check", "--trials", "300", "--allow-few-trials"])
        .arg(example("enterprise-copilot.yaml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("unbounded-worst-case"))
        .stdout(predicate::str::contains("enterprise-copilot.yaml:"));
}

#[test]
fn exit_2_when_approval_is_needed() {
    costgate()
        .args(["check", "--trials", "300", "--allow-few-trials"])
        .arg(example("support-assistant.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("Needs your approval"));
}

#[test]
fn the_most_severe_verdict_wins_over_several_specs() {
    costgate()
        .args(["check", "--trials", "300", "--allow-few-trials", "--quiet"])
        .arg(example("tiered-assistant.yaml"))
        .arg(example("support-assistant.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty());
    costgate()
        .args(["check", "--trials", "300", "--allow-few-trials", "--quiet"])
        .arg(example(""))
        .assert()
        .code(1);
}

#[test]
fn exit_64_on_bad_flags() {
    costgate()
        .args(["check", "--trials", "many", "--allow-few-trials"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--trials"));
    costgate().args(["check", "--no-such-flag"]).assert().code(64);
    costgate().args(["frobnicate"]).assert().code(64);
    costgate().assert().code(64);
    costgate().args(["check", "--format", "pdf"]).assert().code(64);
}

#[test]
fn help_documents_the_exit_codes() {
    costgate()
        .args(["check", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("65  invalid input"))
        .stdout(predicate::str::contains("69  a pricing source"));
}

#[test]
fn exit_70_on_an_internal_error() {
    // A test hook: makes the check panic where a bug would, to pin that a
    // panic becomes exit 70 with a message rather than a crash.
    costgate()
        .env("COSTGATE_TEST_PANIC", "1")
        .args(["check", "--trials", "10", "--allow-few-trials"])
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .code(70)
        .stderr(predicate::str::contains("internal error"));
}

#[test]
fn a_missing_path_is_invalid_input() {
    costgate()
        .args(["check", "no/such/spec.yaml"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("no such file"));
}

#[test]
fn output_goes_to_a_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    costgate()
        .args([
            "check",
            "--trials",
            "200",
            "--allow-few-trials",
            "--format",
            "json",
            "--output",
        ])
        .arg(&out)
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["features"][0]["id"], "tiered-assistant");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

#[test]
fn a_failed_run_writes_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.yaml");
    std::fs::write(&spec, VALID.replace("costgate: 1", "costgate: 7")).unwrap();
    let out = dir.path().join("report.json");
    costgate()
        .args(["check", "--format", "json", "--output"])
        .arg(&out)
        .arg(&spec)
        .assert()
        .code(65);
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn no_color_and_color_always() {
    let run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut c = costgate();
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = c.args(args).arg(example("tiered-assistant.yaml")).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        run(
            &["check", "--trials", "100", "--allow-few-trials", "--color", "always"],
            None
        )
        .contains("\x1b[")
    );
    assert!(
        !run(
            &["check", "--trials", "100", "--allow-few-trials"],
            Some(("NO_COLOR", "1"))
        )
        .contains("\x1b[")
    );
    assert!(
        !run(
            &["check", "--trials", "100", "--allow-few-trials", "--color", "never"],
            None
        )
        .contains("\x1b[")
    );
}

#[test]
fn the_policy_is_found_for_a_bare_file_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("costgate.toml"), "[thresholds]\np95_monthly_usd = 10\n").unwrap();
    std::fs::write(dir.path().join("t.yaml"), VALID).unwrap();
    costgate()
        .current_dir(dir.path())
        .args(["check", "--trials", "100", "--allow-few-trials", "t.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("costgate.toml"));
}

#[test]
fn the_policy_used_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("costgate.toml"), "[thresholds]\np95_monthly_usd = 10\n").unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/t.yaml"), VALID).unwrap();
    costgate()
        .args(["check", "--trials", "100", "--allow-few-trials"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("costgate.toml"))
        .stdout(predicate::str::contains("p95-over-budget"));
    costgate()
        .args(["check", "--trials", "100", "--allow-few-trials"])
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .stdout(predicate::str::contains("built-in defaults"));
}

// ---------------------------------------------------------------- bad input

#[test]
fn negative_numbers() {
    bad(
        "t.yaml",
        &VALID.replace("price_usd_per_month: 50", "price_usd_per_month: -5"),
        &["t.yaml:21:26", "tiers[0].price_usd_per_month", "negative"],
    );
}

#[test]
fn non_finite_numbers() {
    bad(
        "t.yaml",
        &VALID.replace("daily_tokens: 100000", "daily_tokens: .nan"),
        &["t.yaml:24:21", "tiers[0].limit.daily_tokens", "not a finite number"],
    );
    bad(
        "t.yaml",
        &VALID.replace("max_calls: 4", "max_calls: .inf"),
        &["t.yaml:12:14", "interaction.max_calls"],
    );
}

#[test]
fn shares_outside_zero_to_one() {
    bad(
        "t.yaml",
        &VALID.replace("high: 0.7}", "high: 1.7}"),
        &["t.yaml:16:", "usage.active_share.high", "between 0 and 1"],
    );
}

#[test]
fn p95_below_p50() {
    bad(
        "t.yaml",
        &VALID.replace("{p50: 350, p95: 1100}", "{p50: 350, p95: 110}"),
        &[
            "t.yaml:11:",
            "interaction.output_tokens.p95",
            "p95 (110) is below p50 (350)",
        ],
    );
}

#[test]
fn low_mode_high_out_of_order() {
    bad(
        "t.yaml",
        &VALID.replace("{low: 200, mode: 400, high: 800}", "{low: 500, mode: 400, high: 800}"),
        &["t.yaml:20:", "tiers[0].users.mode", "low (500) is above mode (400)"],
    );
    bad(
        "t.yaml",
        &VALID.replace("{low: 200, mode: 400, high: 800}", "{low: 200, mode: 900, high: 800}"),
        &["mode (900) is above high (800)"],
    );
}

#[test]
fn unknown_model_names_the_closest() {
    bad(
        "t.yaml",
        &VALID.replace("primary: claude-sonnet-4-5", "primary: claude-sonet-4.5"),
        &[
            "t.yaml:6:12",
            "models.primary",
            "unknown model `claude-sonet-4.5`",
            "claude-sonnet-4.5",
        ],
    );
}

#[test]
fn undefined_fallback_model() {
    bad(
        "t.yaml",
        &VALID.replace("on_limit: block", "on_limit: fallback\n      fallback_model: cheaper"),
        &[
            "t.yaml:26:23",
            "tiers[0].limit.fallback_model",
            "`cheaper` is not defined under `models:`",
        ],
    );
}

#[test]
fn duplicate_tier_names() {
    let twice = format!("{VALID}{}", &VALID[VALID.find("  - name: pro").unwrap()..]);
    bad("t.yaml", &twice, &["t.yaml:27:5", "duplicate tier name `pro`"]);
}

#[test]
fn on_limit_values_that_do_not_exist() {
    bad(
        "t.yaml",
        &VALID.replace("on_limit: block", "on_limit: blok"),
        &["t.yaml:25:17", "tiers[0].limit.on_limit", "did you mean `block`?"],
    );
}

#[test]
fn unknown_fields_are_typos() {
    bad(
        "t.yaml",
        &VALID.replace("max_calls: 4", "max_call: 4"),
        &[
            "t.yaml:12:3",
            "interaction.max_call",
            "unknown field",
            "did you mean `max_calls`?",
        ],
    );
}

#[test]
fn another_format_version() {
    bad(
        "t.yaml",
        &VALID.replace("costgate: 1", "costgate: 2"),
        &["t.yaml:1:11", "unsupported spec format version 2"],
    );
}

#[test]
fn every_problem_of_every_file_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        VALID.replace("max_calls: 4", "max_calls: -1"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        VALID
            .replace("id: t", "id: u")
            .replace("high: 0.7}", "high: 2}")
            .replace("on_limit: block", "on_limit: x"),
    )
    .unwrap();
    let a = costgate().arg("check").arg(dir.path()).assert().code(65);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("a.yaml:12:14"), "{err}");
    assert!(err.contains("b.yaml:16:"), "{err}");
    assert!(err.contains("b.yaml:25:17"), "{err}");
    assert!(err.contains("3 problems"), "{err}");
}

#[test]
fn yaml_syntax_errors_point_at_the_place() {
    bad(
        "t.yaml",
        &VALID.replace("  max_calls: 4", "  max_calls: [4"),
        &["t.yaml:", "invalid YAML"],
    );
}

#[test]
fn toml_specs_and_their_errors() {
    let toml = std::fs::read_to_string(example("consumer-chat.toml")).unwrap();
    bad(
        "c.toml",
        &toml.replace("price_usd_per_month = 8", "price_usd_per_month = -8"),
        &["c.toml:48:23", "tiers[1].price_usd_per_month"],
    );
    bad(
        "c.toml",
        &toml.replace("[usage]", "[usage\n"),
        &["c.toml:", "invalid TOML"],
    );
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let start = std::time::Instant::now();
    check_text("bomb.yaml", &bomb).code(65);
    check_text("deep.yaml", &("[".repeat(100_000) + &"]".repeat(100_000))).code(65);
    let huge = format!("{VALID}# {}\n", "x".repeat(9 * 1024 * 1024));
    check_text("huge.yaml", &huge)
        .code(65)
        .stderr(predicate::str::contains("at most"));
    assert!(start.elapsed() < cmd::HANG, "{:?}", start.elapsed());
}

#[test]
fn not_utf8_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bin.yaml");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    costgate()
        .arg("check")
        .arg(&p)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("not UTF-8"));
}

#[test]
fn breaker_levels_are_validated_with_field_paths() {
    let with = |b: &str| format!("{VALID}breakers:\n{b}");
    bad(
        "b1.yaml",
        &with("  user_daily_usd: {limit: 1, on_trip: fallback}\n"),
        &["breakers.user_daily_usd.fallback_model", "needs `fallback_model`"],
    );
    bad(
        "b2.yaml",
        &with("  tenant_daily_usd: {limit: 1, on_trip: fallback, fallback_model: nope}\n"),
        &["breakers.tenant_daily_usd.fallback_model"],
    );
    bad(
        "b3.yaml",
        &with("  user_daily_usd: {limit: 1, notify: [pager]}\n"),
        &["breakers.user_daily_usd.notify[0]", "on-call"],
    );
    bad(
        "b4.yaml",
        &with("  user_daily_usd: {limit: 1, on_trip: notify}\n"),
        &["breakers.user_daily_usd.notify", "needs `notify`"],
    );
    bad(
        "b5.yaml",
        &with("  user_daily_usd: {limit: 1, on_trip: block, colour: red}\n"),
        &["breakers.user_daily_usd.colour"],
    );
    bad(
        "b6.yaml",
        &with("  team_daily_usd: {limit: 1}\n"),
        &["breakers.team_daily_usd"],
    );
    bad(
        "b7.yaml",
        &with("  global_daily_usd: {limit: 1, on_trip: panic}\n"),
        &["breakers.global_daily_usd.on_trip", "notify"],
    );
}

#[test]
fn the_report_gives_trips_pages_and_alerts_per_breaker_level() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("levels.yaml");
    std::fs::write(
        &p,
        format!(
            "{VALID}breakers:\n  user_daily_usd: {{limit: 0.05, on_trip: fallback, fallback_model: fallback, notify: [user]}}\n  global_daily_usd: {{limit: 0.5, on_trip: notify, notify: [on-call]}}\n"
        ),
    )
    .unwrap();
    let out = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lv = &v["features"][0]["simulation"]["breaker_levels"];
    assert_eq!(lv["breakers"][0]["level"], "user");
    assert_eq!(lv["breakers"][1]["on_trip"], "notify");
    // $0.50 a day is far below the day's spend: it pages every day.
    assert_eq!(lv["oncall_pages_per_month"].as_f64(), Some(30.0));
    assert!(lv["breakers"][0]["p95_trips_per_month"].as_f64().unwrap() > 0.0);
    let text = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(&p)
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("user breaker user_daily_usd (fallback): trips in"),
        "{text}"
    );
    assert!(text.contains("on-call pages: 30.0 a month"), "{text}");
    let md = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "markdown"])
        .arg(&p)
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("Expected on-call pages: 30.0 a month."), "{md}");
    // A policy threshold turns it into a finding that blocks.
    std::fs::write(
        dir.path().join("costgate.toml"),
        "[thresholds]\nmax_oncall_pages_per_month = 4\n",
    )
    .unwrap();
    let out = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["features"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"oncall-pages-over-max"), "{rules:?}");
    assert!(rules.contains(&"breaker-below-typical-day"), "{rules:?}");
}
