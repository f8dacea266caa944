//! The work limit (trials x the simulated work of a spec) holds on every
//! path that simulates, not only `costgate check`: `approve`, `report`,
//! `diff` and a program calling the library are refused the same way, and
//! the hint names the cause (the trials asked for, or the spec itself).

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use costgate::check::{self, Loaded, Request};

const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: gpt-4o}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 1}
tiers:
";

/// A spec of `n` tiers of 100 users: 20 fit at the default trials and not
/// at 1,000,000; 1,000 do not fit at all.
fn tiers(n: usize) -> String {
    let mut y = BASE.to_string();
    for i in 0..n {
        y.push_str(&format!(
            "  - {{name: t{i}, users: 100, price_usd_per_month: 20, model: primary}}\n"
        ));
    }
    y
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn today() -> jiff::civil::Date {
    "2026-11-28".parse().unwrap()
}

fn opts(trials: usize) -> costgate::sim::Options {
    costgate::sim::Options {
        seed: costgate::sim::DEFAULT_SEED,
        trials,
        threads: None,
        confidence: 0.95,
        progress: false,
        label: String::new(),
        sensitivity: false,
    }
}

/// The hint when only the trials are too many: how many fit, not the spec.
fn assert_trials_hint(hint: &str) {
    assert!(hint.contains("the spec itself fits"), "{hint}");
    assert!(hint.contains("1,000,000 trials asked for"), "{hint}");
    assert!(hint.contains("at most ") && hint.contains("`--trials "), "{hint}");
    assert!(!hint.contains("fewer tiers"), "{hint}");
}

#[test]
fn approve_is_refused_a_run_too_large_to_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "t.yaml", &tiers(20));
    let start = std::time::Instant::now();
    let out = cmd::costgate_on("2026-11-28")
        .current_dir(dir.path())
        .args(["approve", "--trials", "1000000", "--by", "cfo@example.com"])
        .args(["--reason", "r", "--expires", "2027-01-01"])
        .arg(&spec)
        .timeout(cmd::HANG)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(start.elapsed() < cmd::HANG, "{:?}", start.elapsed());
    assert!(
        err.contains("t.yaml:7:") && err.contains("too large to simulate"),
        "{err}"
    );
    assert!(err.contains("at 1000000 trials"), "{err}");
    assert!(err.contains("the spec itself fits"), "{err}");
    assert!(!dir.path().join("t.approval.toml").exists(), "nothing recorded");
}

#[test]
fn report_and_diff_say_the_trials_are_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.yaml", &tiers(20));
    for args in [
        &["report", "--format", "json", "t.yaml"][..],
        &["diff", "t.yaml", "t.yaml"][..],
    ] {
        let out = cmd::costgate_on("2026-11-28")
            .current_dir(dir.path())
            .args(args)
            .args(["--trials", "1000000"])
            .timeout(cmd::HANG)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{args:?}: {err}");
        assert!(err.contains("too large to simulate"), "{args:?}: {err}");
        assert_trials_hint(&err);
    }
}

#[test]
fn the_library_refuses_it_on_every_entry_and_the_fitting_count_fits() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.yaml", &tiers(20));
    let spec = costgate::spec::load_file(&path).unwrap();
    let catalog = costgate::pricing::builtin();
    let policy = costgate::policy::Policy::default();
    // `check::analyse`, what `approve` calls: a problem, nothing simulated
    let loaded = Loaded {
        priced: costgate::pricing::resolve(&spec, &catalog).unwrap(),
        spec: spec.clone(),
        approval: None,
    };
    let Err(p) = check::analyse(&loaded, &policy, &opts(1_000_000), today()) else {
        panic!("refused")
    };
    assert_eq!(p.code.as_str(), "out-of-range");
    assert!(p.message.contains("too large to simulate"), "{}", p.message);
    assert_trials_hint(p.hint.as_deref().unwrap());
    // `check::run`, with the policy and prices of `check::Inputs`
    let inputs = check::Inputs::resolve(std::slice::from_ref(&path), check::Choice::default(), today()).unwrap();
    let req = Request {
        paths: vec![path.clone()],
        policy: &inputs.policy,
        catalog: &inputs.catalog,
        sim: opts(1_000_000),
        today: today(),
    };
    let Err(ps) = check::run(&req) else { panic!("refused") };
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_trials_hint(ps[0].hint.as_deref().unwrap());
    // The count the hint names fits, and one more does not.
    let hint = ps[0].hint.clone().unwrap();
    let n: usize = hint
        .split("`--trials ")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((costgate::sim::DEFAULT_TRIALS..1_000_000).contains(&n), "{n}");
    assert!(check::within_limits(&spec, n).is_ok());
    assert!(check::within_limits(&spec, n + 1).is_err());
}

#[test]
fn a_spec_too_large_at_any_trials_is_not_told_to_use_fewer_trials() {
    let ps = costgate::spec::load_str("t.yaml", &tiers(1000)).unwrap_err();
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].code.as_str(), "out-of-range", "as the README's code table says");
    let hint = ps[0].hint.as_deref().unwrap();
    assert!(hint.contains("largest part") && hint.contains("fewer tiers"), "{hint}");
    assert!(
        !hint.contains("--trials") && !hint.contains("fewer trials"),
        "the trials are not the cause: {hint}"
    );
}
