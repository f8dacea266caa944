//! `costgate init`: the starter files it writes pass `costgate check` with
//! the built-in defaults, for every `--like`; it never overwrites anything;
//! a model the catalog does not list is a clear usage error.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn costgate() -> Command {
    cmd::costgate_on("2026-11-30")
}

const FILES: [&str; 3] = ["costgate.toml", ".github/workflows/costgate.yml", "specs"];

fn init(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    costgate().arg("init").args(args).arg("-o").arg(dir).assert()
}

#[test]
fn every_like_writes_a_spec_that_passes_the_check_with_the_defaults() {
    for like in ["chat", "code", "agent", "summarize"] {
        for tiers in ["free,pro", "free,pro,enterprise", "free", "enterprise"] {
            let d = tempfile::tempdir().unwrap();
            init(d.path(), &["--like", like, "--tiers", tiers]).success();
            for f in FILES {
                assert!(d.path().join(f).exists(), "{like} {tiers}: {f}");
            }
            // The check finds the costgate.toml init wrote (the defaults written
            // out) and the spec in specs/, as a user running `costgate check` there.
            let out = costgate()
                .current_dir(d.path())
                .args(["check", "--trials", "2000"])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{like} {tiers}:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!stdout.contains("Policy: built-in defaults"), "{stdout}");
            assert!(!stdout.contains("deny "), "{like} {tiers}: {stdout}");
            assert!(!stdout.contains("-0.0"), "no negative zero: {like} {tiers}: {stdout}");
            // ...and with the built-in policy itself (no file at all).
            std::fs::remove_file(d.path().join("costgate.toml")).unwrap();
            costgate()
                .current_dir(d.path())
                .args(["check", "--trials", "2000"])
                .assert()
                .code(0);
        }
    }
}

#[test]
fn the_spec_cites_the_trace_and_states_its_assumptions() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &["--like", "agent"]).success();
    let spec = std::fs::read_to_string(d.path().join("specs/ai-agent.yaml")).unwrap();
    for want in [
        "origin: reference",
        "Azure LLM inference trace 2023",
        "AzureLLMInferenceTrace_code.csv",
        "CC-BY 4.0",
        "Assumed, not measured",
    ] {
        assert!(spec.contains(want), "missing {want:?} in\n{spec}");
    }
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &["--like", "chat"]).success();
    let spec = std::fs::read_to_string(d.path().join("specs/ai-chat.yaml")).unwrap();
    assert!(spec.contains("AzureLLMInferenceTrace_conv.csv"), "{spec}");
}

#[test]
fn the_policy_written_is_the_built_in_defaults() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &[]).success();
    let written = std::fs::read(d.path().join("costgate.toml")).unwrap();
    let shown = costgate().args(["policy", "--defaults"]).output().unwrap();
    assert_eq!(written, shown.stdout);
}

#[test]
fn a_second_init_overwrites_nothing() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &["--like", "code"]).success();
    let spec = d.path().join("specs/ai-code-assistant.yaml");
    std::fs::write(&spec, "edited by hand\n").unwrap();
    init(d.path(), &["--like", "code"]).code(73).stderr(
        predicate::str::contains("ai-code-assistant.yaml").and(predicate::str::contains("nothing was written")),
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), "edited by hand\n");
}

#[test]
fn one_file_in_the_way_means_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(".github/workflows")).unwrap();
    std::fs::write(d.path().join(".github/workflows/costgate.yml"), "mine\n").unwrap();
    init(d.path(), &[])
        .code(73)
        .stderr(predicate::str::contains("costgate.yml (a regular file)"));
    assert!(!d.path().join("costgate.toml").exists());
    assert!(!d.path().join("specs").exists());
    assert_eq!(
        std::fs::read_to_string(d.path().join(".github/workflows/costgate.yml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_folder_or_a_link_in_the_way_is_refused() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("costgate.toml")).unwrap();
    init(d.path(), &[])
        .code(73)
        .stderr(predicate::str::contains("costgate.toml (a folder)"));
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", d.path().join("costgate.toml")).unwrap();
    init(d.path(), &[])
        .code(73)
        .stderr(predicate::str::contains("costgate.toml (a symbolic link)"));
    assert!(!d.path().join("specs").exists());
}

#[test]
fn an_unknown_model_is_a_usage_error_naming_close_ones() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &["--model", "gpt-4.1-mimi"]).code(64).stderr(
        predicate::str::contains("--model `gpt-4.1-mimi` is not in the price catalog")
            .and(predicate::str::contains("gpt-4.1-mini")),
    );
    assert!(std::fs::read_dir(d.path()).unwrap().next().is_none(), "nothing written");
    init(d.path(), &["--model", "x\u{1b}[31m"]).code(64);
    init(d.path(), &["--tiers", "free,free"])
        .code(64)
        .stderr(predicate::str::contains("twice"));
    init(d.path(), &["--tiers", "gold"]).code(64);
}

#[test]
fn a_known_model_is_written_into_the_spec() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &["--model", "gpt-4.1-mini"]).success();
    let spec = std::fs::read_to_string(d.path().join("specs/ai-chat.yaml")).unwrap();
    assert!(spec.contains("  primary: gpt-4.1-mini\n"), "{spec}");
}

#[test]
fn policy_names_the_policy_that_applies_here() {
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &[]).success();
    costgate()
        .current_dir(d.path())
        .arg("policy")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("costgate.toml"));
    std::fs::write(d.path().join("costgate.toml"), "[thresholds]\nconfidence = 2\n").unwrap();
    costgate()
        .current_dir(d.path())
        .arg("policy")
        .assert()
        .code(65)
        .stderr(predicate::str::contains("`thresholds.confidence`"));
    costgate()
        .args(["policy", "--defaults", "--policy", "x.toml"])
        .assert()
        .code(64);
}

/// The workflow `init` writes is the README's complete workflow, byte for
/// byte: the two cannot drift apart.
#[test]
fn the_workflow_is_the_readmes() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = readme
        .split("A complete workflow:\n\n```yaml\n")
        .nth(1)
        .expect("the README shows a complete workflow");
    let block = &after[..after.find("```").expect("the block ends")];
    let d = tempfile::tempdir().unwrap();
    init(d.path(), &[]).success();
    let written = std::fs::read_to_string(d.path().join(".github/workflows/costgate.yml")).unwrap();
    assert_eq!(written, block);
}
