//! `costgate diff` and `check --baseline-ref`, on a temporary git repository
//! with a base commit and a change.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

#[path = "support/git.rs"]
mod git_support;
use git_support::git;

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)).unwrap()
}

/// A repository whose first commit has the tiered and copilot examples.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    git(&root, &["init", "-q", "-b", "main"]);
    std::fs::create_dir(root.join("specs")).unwrap();
    std::fs::write(root.join("specs/tiered.yaml"), example("tiered-assistant.yaml")).unwrap();
    std::fs::write(root.join("specs/copilot.yaml"), example("enterprise-copilot.yaml")).unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "base"]);
    (dir, root)
}

fn costgate(root: &Path) -> Command {
    let mut c = Command::cargo_bin("costgate").unwrap();
    c.current_dir(root)
        .env("COSTGATE_TODAY", "2026-11-28")
        .args(["--color", "never"]);
    c
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn diff_against_a_ref_shows_the_deltas() {
    let (_d, root) = repo();
    // The change: twice the pro users, and a new feature.
    let tiered = example("tiered-assistant.yaml").replace(
        "users: {low: 2000, mode: 4000, high: 8000}",
        "users: {low: 4000, mode: 8000, high: 16000}",
    );
    std::fs::write(root.join("specs/tiered.yaml"), tiered).unwrap();
    std::fs::write(root.join("specs/chat.toml"), example("consumer-chat.toml")).unwrap();
    let out = costgate(&root)
        .args([
            "diff",
            "--base-ref",
            "main",
            "specs",
            "--format",
            "json",
            "--trials",
            "500",
            "--allow-few-trials",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["added"], serde_json::json!(["consumer-chat"]));
    assert_eq!(v["removed"], serde_json::json!([]));
    let f = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "tiered-assistant")
        .unwrap();
    let t = &f["typical"];
    let (before, after) = (t["before"].as_f64().unwrap(), t["after"].as_f64().unwrap());
    assert!(after > before, "{t}");
    assert!((t["delta"].as_f64().unwrap() - (after - before)).abs() < 1e-9);
    assert!((t["delta_share"].as_f64().unwrap() - (after / before - 1.0)).abs() < 1e-12);
    // the pro tier's typical cost doubles; the others do not move
    let base_typ = &v["features"][0];
    assert!(base_typ.is_object());
    // the worst case is bounded by the same breaker on both sides
    assert_eq!(f["worst_case"]["delta"].as_f64(), Some(0.0));
    let copilot = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "enterprise-copilot")
        .unwrap();
    assert_eq!(copilot["typical"]["delta"].as_f64(), Some(0.0));
    assert!(copilot["findings_new"].as_array().unwrap().is_empty());
    assert!(!copilot["findings_unchanged"].as_array().unwrap().is_empty());

    let md = costgate(&root)
        .args([
            "diff",
            "--base-ref",
            "main",
            "specs",
            "--format",
            "markdown",
            "--trials",
            "300",
            "--allow-few-trials",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("| tiered-assistant | pass → **pass** |"), "{md}");
    assert!(md.contains("**added**: `consumer-chat`"), "{md}");
}

#[test]
fn diff_of_two_folders() {
    let (_d, root) = repo();
    std::fs::create_dir(root.join("next")).unwrap();
    std::fs::write(root.join("next/tiered.yaml"), example("tiered-assistant.yaml")).unwrap();
    let out = costgate(&root)
        .args([
            "diff",
            "specs",
            "next",
            "--format",
            "json",
            "--trials",
            "300",
            "--allow-few-trials",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["removed"], serde_json::json!(["enterprise-copilot"]));
    assert_eq!(
        v["features"][0]["at_confidence"]["delta"].as_f64(),
        Some(0.0),
        "same spec, same seed"
    );
}

#[test]
fn fail_on_new_passes_an_old_violation_and_blocks_a_new_one() {
    let (_d, root) = repo();
    // Nothing changed: the copilot's deny findings are pre-existing. They no
    // longer block; its approval finding still asks for an approval (2).
    costgate(&root)
        .args(["check", "specs", "--trials", "300", "--allow-few-trials"])
        .assert()
        .code(1);
    costgate(&root)
        .args([
            "check",
            "specs",
            "--trials",
            "300",
            "--allow-few-trials",
            "--baseline-ref",
            "main",
            "--fail-on",
            "new",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("0 deny findings new"));
    // Without --fail-on new the baseline changes nothing.
    costgate(&root)
        .args([
            "check",
            "specs",
            "--trials",
            "300",
            "--allow-few-trials",
            "--baseline-ref",
            "main",
        ])
        .assert()
        .code(1);
    // A new violation: the tiered free tier loses its hard stop.
    let broken = example("tiered-assistant.yaml").replace(
        "      on_limit: block               # free users get a hard stop",
        "      on_limit: throttle",
    );
    assert_ne!(broken, example("tiered-assistant.yaml"));
    std::fs::write(root.join("specs/tiered.yaml"), broken).unwrap();
    costgate(&root)
        .args([
            "check",
            "specs",
            "--trials",
            "300",
            "--allow-few-trials",
            "--baseline-ref",
            "main",
            "--fail-on",
            "new",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("1 deny finding new"));
}

#[test]
fn a_ref_before_the_specs_existed_is_an_empty_base() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    std::fs::write(root.join("README"), "x").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "first"]);
    std::fs::create_dir(root.join("specs")).unwrap();
    std::fs::write(root.join("specs/tiered.yaml"), example("tiered-assistant.yaml")).unwrap();
    let v = json(
        &costgate(root)
            .args([
                "diff",
                "--base-ref",
                "main",
                "--format",
                "json",
                "--trials",
                "200",
                "--allow-few-trials",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(v["added"], serde_json::json!(["tiered-assistant"]));
}

#[test]
fn a_bad_ref_is_a_usage_error() {
    let (_d, root) = repo();
    costgate(&root)
        .args(["diff", "--base-ref", "no-such-branch", "specs"])
        .assert()
        .code(64)
        .stderr(predicates::str::contains("not a commit"));
    costgate(&root).args(["diff", "specs"]).assert().code(64);
}

#[test]
fn a_mistyped_base_folder_is_an_error_not_an_empty_base() {
    let (_d, root) = repo();
    costgate(&root)
        .args(["diff", "spces", "specs", "--trials", "100", "--allow-few-trials"])
        .assert()
        .code(65)
        .stderr(predicates::str::contains("no such file or folder"));
    // an existing folder without specs is an empty base: everything is added
    std::fs::create_dir(root.join("empty")).unwrap();
    let v = json(
        &costgate(&root)
            .args([
                "diff",
                "empty",
                "specs",
                "--format",
                "json",
                "--trials",
                "100",
                "--allow-few-trials",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(v["added"].as_array().unwrap().len(), 2);
}

#[test]
fn a_base_ref_outside_a_git_repository_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/t.yaml"), example("tiered-assistant.yaml")).unwrap();
    costgate(dir.path())
        .args(["diff", "--base-ref", "main", "specs"])
        .assert()
        .code(64)
        .stderr(predicates::str::contains("git"));
}

#[test]
fn diff_runtime_catches_a_change_that_loosens_only_the_gateway() {
    let (_d, root) = repo();
    // The gateway configuration committed beside the specs, as exported.
    let out = costgate(&root)
        .args(["export", "--to", "envoy", "specs/tiered.yaml", "-o", "gateway"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cfg = "gateway/tiered-assistant/envoy/costgate-limits.yaml";
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "gateway"]);
    // The pull request: the free tier's cap raised in the gateway only.
    let text = std::fs::read_to_string(root.join(cfg)).unwrap();
    std::fs::write(root.join(cfg), text.replacen("requests: 40000", "requests: 90000", 1)).unwrap();
    let out = costgate(&root)
        .args([
            "diff",
            "--base-ref",
            "main",
            "specs/tiered.yaml",
            "--format",
            "json",
            "--trials",
            "300",
            "--allow-few-trials",
            "--runtime",
            cfg,
        ])
        .output()
        .unwrap();
    let d = json(&out);
    let new: Vec<&str> = d["features"][0]["findings_new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(new, ["runtime-limit-looser"], "{d:#}");
    assert!(
        d["features"][0]["findings_resolved"].as_array().unwrap().is_empty(),
        "{d:#}"
    );
}
