//! `costgate approve` and what `check` makes of the approval afterwards, as a
//! user meets them: each case in its own folder, the date fixed with
//! COSTGATE_TODAY, a small simulation for speed.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const TRIALS: &str = "300";

fn costgate(today: &str) -> Command {
    cmd::costgate_on(today)
}

/// A folder with one example spec and a policy beside it.
fn workspace(example: &str, policy: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(example);
    let spec = d.path().join(example);
    std::fs::copy(from, &spec).unwrap();
    std::fs::write(d.path().join("costgate.toml"), policy).unwrap();
    (d, spec)
}

fn check(spec: &Path, today: &str) -> assert_cmd::assert::Assert {
    costgate(today)
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg(spec)
        .assert()
}

fn approve(spec: &Path, today: &str, expires: &str) -> assert_cmd::assert::Assert {
    costgate(today)
        .args([
            "approve",
            "--trials",
            TRIALS,
            "--allow-few-trials",
            "--by",
            "cfo@example.com",
            "--role",
            "CFO",
        ])
        .args([
            "--reason",
            "Keeps our largest workspaces; revisit after Q1",
            "--expires",
            expires,
        ])
        .arg(spec)
        .assert()
}

const POLICY: &str = "[approvals]\nmax_drift = 0.05\n";

#[test]
fn an_approval_lets_the_spec_through_and_leaves_the_spec_alone() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    let before = std::fs::read(&spec).unwrap();
    check(&spec, "2026-11-28")
        .code(2)
        .stdout(predicate::str::contains("NEEDS APPROVAL"));
    approve(&spec, "2026-11-28", "2027-02-28")
        .code(0)
        .stdout(predicate::str::contains(
            "Recorded the approval of `support-assistant` by cfo@example.com (CFO), until 2027-02-28",
        ))
        .stdout(predicate::str::contains(
            "cost-revenue-needs-approval: cost_revenue_ratio",
        ))
        .stdout(predicate::str::contains("within 5% of what was approved"));
    assert_eq!(std::fs::read(&spec).unwrap(), before, "the spec is not touched");

    let record = std::fs::read_to_string(spec.with_file_name("support-assistant.approval.toml")).unwrap();
    for want in [
        "by = \"cfo@example.com\"",
        "role = \"CFO\"",
        "approved_on = \"2026-11-28\"",
        "expires = \"2027-02-28\"",
        "fingerprint = \"sha256:",
        "rule = \"cost-revenue-needs-approval\"",
        "name = \"cost_revenue_ratio\"",
        "spec_sha256 = ",
        "id = \"claude-sonnet-4-5\"",
        "input_usd_per_mtok = 3.0",
    ] {
        assert!(record.contains(want), "{want} missing from:\n{record}");
    }
    // no temporary file is left beside it
    let names: Vec<String> = std::fs::read_dir(spec.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    // the report a CFO signs shows the fingerprint the record carries
    let out = costgate("2026-11-28")
        .args(["report", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
        .arg(&spec)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fp = v["features"][0]["approval"]["fingerprint"].as_str().unwrap();
    assert!(
        record.contains(&format!("fingerprint = \"{fp}\"")),
        "{fp} not in the record"
    );
    assert_eq!(v["features"][0]["approval"]["record"]["matches"], true);

    check(&spec, "2026-12-15")
        .code(0)
        .stdout(predicate::str::contains("Passes with a recorded approval"))
        .stdout(predicate::str::contains(
            "by cfo@example.com (CFO) on 2026-11-28, until 2027-02-28",
        ));
    // the report shows the approval in its sign-off block
    costgate("2026-12-15")
        .args([
            "report",
            "--format",
            "markdown",
            "--trials",
            TRIALS,
            "--allow-few-trials",
        ])
        .arg(&spec)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("| approved by | cfo@example.com |"))
        .stdout(predicate::str::contains("exactly the ones approved"));
}

#[test]
fn a_spec_that_costs_more_than_approved_needs_approval_again() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    let text = std::fs::read_to_string(&spec).unwrap();
    let dearer = text.replace(
        "output_tokens: {p50: 400, p95: 1200}",
        "output_tokens: {p50: 600, p95: 1800}",
    );
    assert_ne!(dearer, text);
    std::fs::write(&spec, dearer).unwrap();
    check(&spec, "2026-12-01")
        .code(2)
        .stdout(predicate::str::contains("NEEDS APPROVAL"))
        .stdout(predicate::str::is_match(
            r"approval: approved at \d+% by cfo@example\.com \(CFO\) on 2026-11-28; now \d+%, worse by more than the 5% drift the policy allows \(at most \d+%\)",
        ).unwrap());
}

#[test]
fn a_cheaper_spec_stays_covered_and_says_it_changed() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("max_calls: 6", "max_calls: 5")).unwrap();
    check(&spec, "2026-12-01")
        .code(0)
        .stdout(predicate::str::contains("changed since, within the 5% drift"));
}

#[test]
fn an_expired_approval_no_longer_covers() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2026-12-31").code(0);
    check(&spec, "2026-12-31").code(0);
    check(&spec, "2027-01-01").code(2).stdout(predicate::str::contains(
        "the approval by cfo@example.com (CFO) on 2026-11-28 expired on 2026-12-31",
    ));
}

#[test]
fn a_hand_edited_approval_does_not_cover() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    let path = spec.with_file_name("support-assistant.approval.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited: String = text
        .lines()
        .map(|l| if l.starts_with("value = ") { "value = 0.9" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, edited).unwrap();
    check(&spec, "2026-12-01").code(2).stdout(predicate::str::contains(
        "approval edited after it was recorded: `figures` changed",
    ));
}

/// The note a JSON check gives the approval finding.
fn approval_note(spec: &Path, today: &str) -> (i32, String) {
    let out = costgate(today)
        .args(["check", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
        .arg(spec)
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let note = v["features"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "cost-revenue-needs-approval")
        .map(|x| x["approval"]["note"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    (out.status.code().unwrap(), note)
}

#[test]
fn every_field_of_a_record_is_bound_and_an_edit_is_named() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2026-12-31").code(0);
    let path = spec.with_file_name("support-assistant.approval.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[seal]"), "{text}");
    for (from, to, field) in [
        ("expires = \"2026-12-31\"", "expires = \"9999-12-31\"", "expires"),
        ("by = \"cfo@example.com\"", "by = \"ceo@example.com\"", "by"),
        ("role = \"CFO\"", "role = \"CEO\"", "role"),
        (
            "reason = \"Keeps our largest workspaces; revisit after Q1\"",
            "reason = \"ok\"",
            "reason",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        let (code, note) = approval_note(&spec, "2026-12-01");
        assert_eq!(code, 2, "{field}: {note}");
        assert!(
            note.starts_with(&format!("approval edited after it was recorded: `{field}` changed")),
            "{field}: {note}"
        );
    }
    // a later expiry is not a later approval: the edited record is void even
    // after its real expiry
    std::fs::write(&path, text.replace("2026-12-31", "9999-12-31")).unwrap();
    assert_eq!(approval_note(&spec, "2027-06-01").0, 2);
    // raising the approved figure and recomputing the fingerprint (all an
    // unkeyed hash asked for) is detected too
    let mut r = costgate::approval::Record::parse("r", &text).unwrap();
    r.figures[0].value = r.figures[0].value.map(|v| v * 2.0);
    r.fingerprint = costgate::approval::fingerprint(&r.feature, &r.inputs, &r.figures);
    let forged = toml::to_string(&r).unwrap();
    std::fs::write(&path, &forged).unwrap();
    let (code, note) = approval_note(&spec, "2026-12-01");
    assert_eq!(code, 2);
    assert!(note.contains("`figures` changed"), "{note}");
    // the record as written covers, and says it is unsigned
    std::fs::write(&path, &text).unwrap();
    let (code, note) = approval_note(&spec, "2026-12-01");
    assert_eq!(code, 0, "{note}");
    assert!(note.ends_with("; unsigned"), "{note}");
}

#[test]
fn a_record_copied_beside_another_spec_with_the_same_id_does_not_cover_it() {
    let (d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    let record = spec.with_file_name("support-assistant.approval.toml");
    // a second spec with the same feature id, a little dearer: within the
    // drift, the record's figures would cover it
    let text = std::fs::read_to_string(&spec).unwrap();
    let other = d.path().join("support-assistant-v2.yaml");
    std::fs::write(&other, text.replace("max_calls: 6", "max_calls: 5")).unwrap();
    std::fs::copy(&record, d.path().join("support-assistant-v2.approval.toml")).unwrap();
    let (code, note) = approval_note(&other, "2026-12-01");
    assert_eq!(code, 2, "{note}");
    assert!(
        note.contains("is for the spec `support-assistant.yaml`, not `support-assistant-v2.yaml`"),
        "{note}"
    );
}

#[test]
fn a_record_binds_the_spec_path_within_the_repository() {
    let (d, spec) = workspace("support-assistant.yaml", POLICY);
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .arg("-C")
            .arg(d.path())
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    };
    git(&["init", "-q"]);
    let specs = d.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let spec_in = specs.join("support-assistant.yaml");
    std::fs::rename(&spec, &spec_in).unwrap();
    approve(&spec_in, "2026-11-28", "2027-02-28").code(0);
    let record = std::fs::read_to_string(specs.join("support-assistant.approval.toml")).unwrap();
    assert!(record.contains("spec = \"specs/support-assistant.yaml\""), "{record}");
    assert_eq!(approval_note(&spec_in, "2026-12-01").0, 0);
    // spec and record moved together to another folder: the record is for
    // the old path
    let moved = d.path().join("elsewhere");
    std::fs::rename(&specs, &moved).unwrap();
    let (code, note) = approval_note(&moved.join("support-assistant.yaml"), "2026-12-01");
    assert_eq!(code, 2, "{note}");
    assert!(
        note.contains("is for the spec `specs/support-assistant.yaml`, not `elsewhere/support-assistant.yaml`"),
        "{note}"
    );
}

#[test]
fn a_drift_of_zero_means_exactly_as_approved() {
    let (_d, spec) = workspace("support-assistant.yaml", "[approvals]\nmax_drift = 0\n");
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    // the same run: the same figures
    check(&spec, "2026-12-01").code(0);
    // a hair dearer: not covered without drift
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("cached_input_share: 0.3", "cached_input_share: 0.28"),
    )
    .unwrap();
    check(&spec, "2026-12-01")
        .code(2)
        .stdout(predicate::str::contains("worse by more than the 0% drift"));
    // the same edit under the default drift is still covered
    std::fs::write(spec.with_file_name("costgate.toml"), "").unwrap();
    check(&spec, "2026-12-01")
        .code(0)
        .stdout(predicate::str::contains("within the 5% drift"));
}

#[test]
fn approving_what_needs_no_approval_or_an_expiry_in_the_past_is_a_usage_error() {
    let (_d, spec) = workspace("consumer-chat.toml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28")
        .code(64)
        .stderr(predicate::str::contains("needs no approval"))
        .stderr(predicate::str::contains("nothing was recorded"));
    assert!(!spec.with_file_name("consumer-chat.approval.toml").exists());

    let (_d2, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2026-11-27")
        .code(64)
        .stderr(predicate::str::contains("--expires 2026-11-27 is in the past"));
    approve(&spec, "2026-11-28", "next spring")
        .code(64)
        .stderr(predicate::str::contains("is not a date"));
    costgate("2026-11-28")
        .args(["approve", "--by", " ", "--reason", "r", "--expires", "2027-01-01"])
        .arg(&spec)
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--by is empty"));
    assert!(!spec.with_file_name("support-assistant.approval.toml").exists());
}

#[test]
fn an_approval_never_covers_a_deny_finding() {
    let (_d, spec) = workspace("enterprise-copilot.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28")
        .code(0)
        .stderr(predicate::str::contains("an approval never covers those"));
    check(&spec, "2026-12-01")
        .code(1)
        .stdout(predicate::str::contains("BLOCKED"));
}

#[test]
fn an_unreadable_approval_record_is_invalid_input() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    std::fs::write(
        spec.with_file_name("support-assistant.approval.toml"),
        "format = 1\nby = [\n",
    )
    .unwrap();
    check(&spec, "2026-12-01")
        .code(65)
        .stderr(predicate::str::contains("support-assistant.approval.toml"))
        .stderr(predicate::str::contains("not a valid approval record"));
}

#[test]
fn a_folder_where_the_signature_goes_records_nothing() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    let sig = spec.with_file_name("support-assistant.approval.toml.sig");
    std::fs::create_dir(&sig).unwrap();
    let a = approve(&spec, "2026-11-28", "2027-02-28").code(73);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("it is a folder; nothing was recorded"), "{err}");
    assert!(!spec.with_file_name("support-assistant.approval.toml").exists());
}

#[test]
fn a_signature_that_is_a_fifo_is_an_error_not_a_wait() {
    let (_d, spec) = workspace("support-assistant.yaml", POLICY);
    approve(&spec, "2026-11-28", "2027-02-28").code(0);
    let sig = spec.with_file_name("support-assistant.approval.toml.sig");
    let ok = std::process::Command::new("mkfifo").arg(&sig).status().unwrap();
    assert!(ok.success());
    // Were the FIFO opened for reading, the check would wait for a writer for ever.
    costgate("2026-12-01")
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg(&spec)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(65)
        .stderr(predicate::str::contains("is a FIFO"));
}
