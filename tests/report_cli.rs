//! `costgate report` and the CI formats of `costgate check` as a CI job meets
//! them: files written, exit codes, annotations beside the table under GitHub
//! Actions, the job summary appended.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn costgate() -> Command {
    let mut c = cmd::costgate_on("2026-11-28");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn example(name: &str) -> PathBuf {
    Path::new("specs").join(name)
}

#[test]
fn report_writes_html_and_exits_0_whatever_the_verdict() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("report.html");
    costgate()
        .args(["report", "--trials", "200", "--allow-few-trials", "-o"])
        .arg(&out)
        .arg(example("enterprise-copilot.yaml"))
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("wrote"))
        .stderr(predicate::str::contains("1 blocked"));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("BLOCKED"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("<script"));
}

#[test]
fn report_markdown_and_json_go_to_stdout() {
    costgate()
        .args([
            "report",
            "--format",
            "markdown",
            "--trials",
            "200",
            "--allow-few-trials",
        ])
        .arg(example("support-assistant.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("# 🟡 costgate: 1 feature checked"))
        .stdout(predicate::str::contains("### Sign-off"));
    let out = costgate()
        .args(["report", "--format", "json", "--trials", "200", "--allow-few-trials"])
        .arg(example("support-assistant.yaml"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "needs_approval");
    assert!(
        v["features"][0]["approval"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn check_writes_each_ci_format_and_keeps_the_exit_code() {
    let d = tempfile::tempdir().unwrap();
    for (format, probe) in [
        ("sarif", "\"version\": \"2.1.0\""),
        ("junit", "<testsuites name=\"costgate\""),
        ("markdown", "# 🟡 costgate"),
        ("github", "::warning file=specs/support-assistant.yaml,line="),
    ] {
        let out = d.path().join(format!("out.{format}"));
        costgate()
            .args([
                "check",
                "--trials",
                "200",
                "--allow-few-trials",
                "--format",
                format,
                "-o",
            ])
            .arg(&out)
            .arg(example("support-assistant.yaml"))
            .assert()
            .code(2)
            .stdout("");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(probe), "{format}: {text}");
    }
}

#[test]
fn under_github_actions_the_table_comes_with_annotations_and_a_job_summary() {
    let d = tempfile::tempdir().unwrap();
    let summary = d.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    costgate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(example("support-assistant.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("NEEDS APPROVAL"))
        .stdout(predicate::str::contains(
            "::warning file=specs/support-assistant.yaml,line=14,col=3,title=costgate%3A cost-revenue-needs-approval (needs exec approval)::",
        ))
        .stdout(predicate::str::contains("::notice file=specs/support-assistant.yaml,line=24"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n# 🟡 costgate: 1 feature checked"),
        "appended: {md}"
    );

    // an explicit format is that format alone
    let out = costgate()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "json"])
        .arg(example("support-assistant.yaml"))
        .output()
        .unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok());
    costgate()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "table"])
        .arg(example("support-assistant.yaml"))
        .assert()
        .stdout(predicate::str::contains("::warning").not());
    // outside GitHub Actions: no annotations
    costgate()
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(example("support-assistant.yaml"))
        .assert()
        .stdout(predicate::str::contains("::warning").not());
}

#[test]
fn a_summary_that_cannot_be_written_does_not_change_the_verdict() {
    let d = tempfile::tempdir().unwrap();
    costgate()
        .env("GITHUB_STEP_SUMMARY", d.path().join("no/such/dir/summary.md"))
        .args(["check", "--trials", "200", "--allow-few-trials", "-q"])
        .arg(example("support-assistant.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot append the summary"));
}

#[test]
fn absolute_spec_paths_are_reported_relative_to_the_working_directory() {
    let abs = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/support-assistant.yaml");
    costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "github"])
        .arg(&abs)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "::warning file=specs/support-assistant.yaml,line=14,col=3,",
        ));
    let out = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--format", "sarif"])
        .arg(&abs)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "specs/support-assistant.yaml"
    );
}
