//! `.gitlab/costgate.gitlab-ci.yml`, the GitLab CI template: valid YAML, a
//! job that uploads the Code Quality report it writes, pinned to this
//! version, and whose `costgate` command lines run: each is run here, with
//! the template's variables, on a copy of the examples; and its install
//! block takes the checksum-verified release binary, building with cargo
//! only when there is no release (a fake release server on loopback).

#[path = "support/cmd.rs"]
mod cmd;

#[path = "support/fake_release.rs"]
mod fake_release;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

const TEMPLATE: &str = ".gitlab/costgate.gitlab-ci.yml";

fn template() -> (String, Value) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(TEMPLATE)).unwrap();
    let yaml: Value = serde_saphyr::from_str(&text).expect("the template is valid YAML");
    (text, yaml)
}

/// `$NAME` and `"$NAME"` replaced by the variables' values (as the job's
/// shell would, without quotes: the template splits them on spaces).
fn expand(line: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = line.replace('"', "");
    // longest names first, so `$COSTGATE_ARGS` is not read as `$COSTGATE_A...`
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for n in names {
        out = out.replace(&format!("${n}"), &vars[n]);
    }
    out
}

#[test]
fn the_template_uploads_the_code_quality_report_it_writes() {
    let (text, yaml) = template();
    let job = &yaml["costgate"];
    assert!(job.is_object(), "a `costgate` job");
    let report = job["artifacts"]["reports"]["codequality"].as_str().unwrap();
    assert_eq!(
        job["artifacts"]["when"], "always",
        "the report is uploaded when the gate fails"
    );
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let writer = script
        .iter()
        .find(|l| l.contains("--format gitlab"))
        .expect("a line writes the Code Quality report");
    assert!(writer.contains(&format!("-o {report}")), "{writer}");
    // the last line is the gate: its exit code is the job's
    let last = script.last().unwrap();
    assert!(last.starts_with("costgate check") && !last.contains("||"), "{last}");
    // pinned to this version, in the variables and in the include shown
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(job["variables"]["COSTGATE_VERSION"], version);
    assert!(
        text.contains(&format!("costgate/costgate/v{version}/.gitlab/costgate.gitlab-ci.yml")),
        "the include in the comment names this version"
    );
    // runs on merge requests and the default branch
    let rules = job["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["if"].as_str().unwrap().contains("merge_request_event"))
    );
}

#[test]
fn the_templates_costgate_commands_run() {
    cmd::assert_in_manifest_dir();
    let (_, yaml) = template();
    let job = &yaml["costgate"];
    let mut vars: BTreeMap<String, String> = job["variables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    // what a user sets: fewer trials here, for the test's time
    vars.insert("COSTGATE_ARGS".into(), "--trials 2000".into());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    for e in std::fs::read_dir("specs").unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("specs").join(e.file_name())).unwrap();
    }
    let lines: Vec<String> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| l.starts_with("costgate "))
        .map(|l| expand(l, &vars))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let mut codes = Vec::new();
    for line in &lines {
        let command = line.split("||").next().unwrap();
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = cmd::costgate_on("2026-11-28")
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        codes.push(out.status.code());
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "`{command}` is a valid costgate command: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // the examples are blocked (exit 1) in both runs
    assert_eq!(codes, [Some(1), Some(1)]);
    let report = job["artifacts"]["reports"]["codequality"].as_str().unwrap();
    let issues: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join(report)).unwrap()).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(!issues.is_empty());
    assert!(
        issues
            .iter()
            .all(|i| i["location"]["path"].as_str().unwrap().starts_with("specs/"))
    );
}

/// The template's install block, run as the job's shell would, with the
/// installer and the release served from `server` and `cargo` a stand-in
/// that records that it was called. Returns the run and whether it built.
fn install_block(server: &fake_release::Server, version: &str, dir: &Path) -> (std::process::Output, bool) {
    let (_, yaml) = template();
    let job = &yaml["costgate"];
    let block = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.contains("install.sh"))
        .expect("a script step installs costgate");
    let (bin, marker) = fake_release::fake_cargo(dir);
    let root = dir.join("root");
    let out = std::process::Command::new("bash")
        .args(["-eo", "pipefail", "-c", block])
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()))
        .env("COSTGATE_VERSION", version)
        .env("COSTGATE_ROOT", &root)
        .env("COSTGATE_INSTALLER", format!("{}/install.sh", server.base))
        .env("COSTGATE_RELEASE_URL", format!("{}/dl", server.base))
        .env("COSTGATE_TARGET", fake_release::TARGET)
        .output()
        .unwrap();
    (out, marker.exists())
}

#[test]
fn the_template_installs_the_verified_release_and_builds_only_without_one() {
    let (_, yaml) = template();
    let installer = yaml["costgate"]["variables"]["COSTGATE_INSTALLER"].as_str().unwrap();
    assert!(
        installer.ends_with("/v$COSTGATE_VERSION/.github/actions/costgate/install.sh"),
        "{installer}"
    );
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/actions/costgate/install.sh")).unwrap();
    let with = |sum: Option<&str>, sub: &str| {
        let mut files = fake_release::release(&dir.path().join(sub), sum);
        files.insert("/install.sh".into(), script.clone());
        fake_release::serve(files, Default::default())
    };
    let good = with(None, "a");
    let (out, built) = install_block(&good, "0.9.1", &dir.path().join("ok"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!built);
    assert!(dir.path().join("ok/root/bin/costgate").is_file());
    // no such release: cargo install of that version
    let (out, built) = install_block(&good, "0.9.2", &dir.path().join("none"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(built);
    let args = std::fs::read_to_string(dir.path().join("none/cargo-called")).unwrap();
    assert!(args.contains("--version 0.9.2") && args.contains("--locked"), "{args}");
    // a checksum mismatch fails the job, without a build
    let bad = with(Some(&"ef".repeat(32)), "b");
    let (out, built) = install_block(&bad, "0.9.1", &dir.path().join("bad"));
    assert!(!out.status.success());
    assert!(!built);
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
}
