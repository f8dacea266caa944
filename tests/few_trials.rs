//! `--trials` below the minimum of a run that gates (1,000): refused with
//! exit 64 by `check` and `comment`, or run with `--allow-few-trials` and a
//! warning giving the standard error of the figure the verdict reads.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = cmd::costgate_on("2026-11-28").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn check_and_comment_refuse_fewer_than_1000_trials() {
    let spec = example("tiered-assistant.yaml");
    let spec = spec.to_str().unwrap();
    let (code, out, err) = run(&["check", "--trials", "5", spec]);
    assert_eq!(code, 64, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("--trials 5 is below the minimum of 1,000"), "{err}");
    assert!(err.contains("--allow-few-trials"), "{err}");
    // comment refuses before it reads a token or opens a connection
    let (code, _, err) = run(&[
        "comment", "github", "--pr", "1", "--repo", "o/r", "--trials", "999", spec,
    ]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("--trials 999 is below the minimum of 1,000 for `comment`"),
        "{err}"
    );
    // the minimum itself is accepted
    let (code, _, err) = run(&["check", "--trials", "1000", "-q", spec]);
    assert_eq!(code, 0, "{err}");
    // diff does not gate (it exits 0 whatever it shows): no minimum
    let (code, _, err) = run(&["diff", "--trials", "50", spec, spec]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn comment_names_the_minimum_when_the_token_is_there() {
    let spec = example("tiered-assistant.yaml");
    let out = cmd::costgate_on("2026-11-28")
        .env("GITHUB_TOKEN", "not-a-real-token")
        .args(["comment", "github", "--pr", "1", "--repo", "o/r"])
        .args(["--api-url", "http://127.0.0.1:9", "--trials", "10"])
        .arg(&spec)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains("--trials 10 is below the minimum of 1,000 for `comment`"),
        "{err}"
    );
}

#[test]
fn allowed_few_trials_warn_with_the_standard_error_of_the_gated_figure() {
    let spec = example("support-assistant.yaml");
    let spec = spec.to_str().unwrap();
    let (code, out, err) = run(&[
        "check",
        "--trials",
        "200",
        "--allow-few-trials",
        "--format",
        "json",
        spec,
    ]);
    assert_eq!(code, 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cost = &v["features"][0]["simulation"]["cost"];
    let at = cost["at_confidence"].as_f64().unwrap();
    let se = cost["at_confidence_se"].as_f64().unwrap();
    assert!(se > 0.0 && se < at, "a standard error of the p95: {se} of {at}");
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: 200 trials"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(warning.contains("below the minimum of 1,000"), "{warning}");
    assert!(
        warning.contains(&format!(
            "`support-assistant` month at p95 {} ± {} (one standard error)",
            costgate::fmt::usd(at),
            costgate::fmt::usd(se)
        )),
        "{warning}"
    );
    // At the minimum, no warning.
    let (_, _, err) = run(&[
        "check",
        "--trials",
        "1000",
        "--allow-few-trials",
        "--format",
        "json",
        spec,
    ]);
    assert!(!err.contains("warning: "), "{err}");
    // --quiet prints nothing
    let (_, _, err) = run(&["check", "--trials", "200", "--allow-few-trials", "-q", spec]);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn one_trial_has_no_standard_error_and_says_so() {
    let spec = example("tiered-assistant.yaml");
    let (_, _, err) = run(&[
        "check",
        "--trials",
        "1",
        "--allow-few-trials",
        "--format",
        "json",
        spec.to_str().unwrap(),
    ]);
    assert!(
        err.contains("warning: 1 trial, below the minimum")
            && err.contains("its standard error cannot be estimated from 1 trial"),
        "{err}"
    );
}
