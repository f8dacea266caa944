//! Files costgate reads and writes, as a hostile contributor or a careless
//! user would hand them over: the policy is the repository's own, inputs are
//! regular files read within bounds, outputs are written safely (exit 73
//! naming the target), and a closed pipe ends the output quietly.
//!
//! No test here writes to a real device path: a device is reached through a
//! symlink in a temporary folder, so that a broken build replaces the link,
//! never `/dev/null`.

#![cfg(unix)]

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};
use std::time::Duration;

use assert_cmd::Command;

#[path = "support/git.rs"]
mod git_support;
use git_support::git;

fn costgate() -> Command {
    let mut c = cmd::costgate_on("2026-11-28");
    c.args(["--color", "never"])
        // Nothing here may wait: a FIFO read would hang the old code.
        .timeout(Duration::from_secs(60));
    c
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn mkfifo(p: &Path) {
    assert!(Proc::new("mkfifo").arg(p).status().unwrap().success());
}

/// A policy that lets the copilot example through (it is blocked by default).
const LAX: &str = "[rules]
unbounded-worst-case = \"allow\"
p95-over-budget = \"allow\"
infra-budget-share = \"allow\"
cost-revenue-needs-approval = \"allow\"
";

// ------------------------------------------------------------- policy ----

#[test]
fn a_policy_above_the_repository_is_not_used() {
    let d = tempfile::tempdir().unwrap();
    // The lax policy does pass the spec when it is the one named.
    std::fs::write(d.path().join("costgate.toml"), LAX).unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("specs")).unwrap();
    std::fs::copy(example("enterprise-copilot.yaml"), repo.join("specs/copilot.yaml")).unwrap();
    costgate()
        .args(["check", "--trials", "200", "--allow-few-trials", "--policy"])
        .arg(d.path().join("costgate.toml"))
        .arg(repo.join("specs"))
        .assert()
        .code(0);
    // Found by walking up, it would be the parent folder's, not the repository's.
    let a = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(repo.join("specs"))
        .assert()
        .code(1);
    assert!(stdout(&a).contains("Policy: built-in defaults"), "{}", stdout(&a));
    // The repository's own policy is found, and named.
    std::fs::write(repo.join("costgate.toml"), LAX).unwrap();
    let a = costgate()
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(repo.join("specs"))
        .assert()
        .code(0);
    assert!(stdout(&a).contains("costgate.toml"), "{}", stdout(&a));
}

#[test]
fn the_base_side_never_uses_a_policy_from_the_temporary_folder() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(repo.join("specs")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let tiered = std::fs::read_to_string(example("tiered-assistant.yaml")).unwrap();
    std::fs::write(repo.join("specs/tiered.yaml"), &tiered).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    // The change: a hundred times the pro users, over the p95 budget (new).
    let grown = tiered.replace(
        "users: {low: 2000, mode: 4000, high: 8000}",
        "users: {low: 200000, mode: 400000, high: 800000}",
    );
    assert_ne!(grown, tiered);
    std::fs::write(repo.join("specs/tiered.yaml"), grown).unwrap();
    // A strict policy where the base is checked out: the base would breach
    // the same rule, and the new breach would look old.
    let tmp = d.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(
        tmp.join("costgate.toml"),
        "[thresholds]\np95_monthly_usd = 1\nworst_case_monthly_usd = 1\n",
    )
    .unwrap();
    let a = costgate()
        .current_dir(&repo)
        .env("TMPDIR", &tmp)
        .args([
            "check",
            "specs",
            "--trials",
            "200",
            "--allow-few-trials",
            "--baseline-ref",
            "main",
            "--fail-on",
            "new",
        ])
        .assert()
        .code(1);
    assert!(stderr(&a).contains("1 deny finding new"), "{}", stderr(&a));

    // With no policy at the base, the head's policy judges both sides.
    std::fs::write(repo.join("costgate.toml"), "[thresholds]\np95_monthly_usd = 1\n").unwrap();
    costgate()
        .current_dir(&repo)
        .env("TMPDIR", &tmp)
        .args([
            "check",
            "specs",
            "--trials",
            "200",
            "--allow-few-trials",
            "--baseline-ref",
            "main",
            "--fail-on",
            "new",
        ])
        .assert()
        .stderr(predicates::str::contains("0 deny findings new"));
}

// -------------------------------------------------------------- reads ----

#[test]
fn inputs_that_are_not_regular_files_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let spec = d.path().join("t.yaml");
    std::fs::copy(example("tiered-assistant.yaml"), &spec).unwrap();

    // A spec given by name that is a device, and one that is a FIFO.
    let a = costgate().args(["check", "/dev/zero"]).assert().code(65);
    assert!(
        stderr(&a).contains("/dev/zero: is a character device"),
        "{}",
        stderr(&a)
    );
    let fifo = d.path().join("fifo.yaml");
    mkfifo(&fifo);
    let a = costgate().arg("check").arg(&fifo).assert().code(65);
    assert!(stderr(&a).contains("fifo.yaml: is a FIFO"), "{}", stderr(&a));

    // In a folder: a FIFO and a link to /dev/zero named as specs.
    let specs = d.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::copy(&spec, specs.join("t.yaml")).unwrap();
    mkfifo(&specs.join("pipe.yaml"));
    std::os::unix::fs::symlink("/dev/zero", specs.join("zero.yaml")).unwrap();
    let a = costgate().arg("check").arg(&specs).assert().code(65);
    let err = stderr(&a);
    assert!(err.contains("pipe.yaml: is a FIFO"), "{err}");
    assert!(err.contains("zero.yaml: is a character device"), "{err}");

    // The policy, the price catalog, the pin and the approval record.
    let a = costgate()
        .args(["check", "--policy", "/dev/zero"])
        .arg(&spec)
        .assert()
        .code(65);
    assert!(
        stderr(&a).contains("/dev/zero: is a character device"),
        "{}",
        stderr(&a)
    );
    let a = costgate()
        .args(["check", "--pricing", "/dev/zero"])
        .arg(&spec)
        .assert()
        .code(65);
    assert!(
        stderr(&a).contains("/dev/zero: is a character device"),
        "{}",
        stderr(&a)
    );
    let pinned = d.path().join("pinned");
    std::fs::create_dir_all(pinned.join(".git")).unwrap();
    std::fs::copy(&spec, pinned.join("t.yaml")).unwrap();
    mkfifo(&pinned.join("costgate-prices.lock.toml"));
    let a = costgate().arg("check").arg(pinned.join("t.yaml")).assert().code(65);
    assert!(
        stderr(&a).contains("costgate-prices.lock.toml: is a FIFO"),
        "{}",
        stderr(&a)
    );
    mkfifo(&d.path().join("t.approval.toml"));
    let a = costgate()
        .args(["check", "--trials", "100", "--allow-few-trials"])
        .arg(&spec)
        .assert()
        .code(65);
    assert!(stderr(&a).contains("t.approval.toml: is a FIFO"), "{}", stderr(&a));
}

#[test]
fn a_symlink_loop_is_named() {
    let d = tempfile::tempdir().unwrap();
    let specs = d.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::copy(example("tiered-assistant.yaml"), specs.join("t.yaml")).unwrap();
    // A folder that links back to its parent.
    std::os::unix::fs::symlink("..", specs.join("up")).unwrap();
    let a = costgate().arg("check").arg(&specs).assert().code(65);
    assert!(stderr(&a).contains("a symlink loop: leads back to"), "{}", stderr(&a));
    std::fs::remove_file(specs.join("up")).unwrap();
    // A link to itself.
    std::os::unix::fs::symlink("self.yaml", specs.join("self.yaml")).unwrap();
    let a = costgate().arg("check").arg(&specs).assert().code(65);
    assert!(stderr(&a).contains("self.yaml: a symlink loop"), "{}", stderr(&a));
    let a = costgate().arg("check").arg(specs.join("self.yaml")).assert().code(65);
    assert!(stderr(&a).contains("self.yaml: a symlink loop"), "{}", stderr(&a));
}

#[test]
fn an_unreadable_spec_folder_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let d = tempfile::tempdir().unwrap();
    let specs = d.path().join("specs");
    let locked = specs.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::copy(example("tiered-assistant.yaml"), specs.join("t.yaml")).unwrap();
    std::fs::copy(example("enterprise-copilot.yaml"), locked.join("c.yaml")).unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = Proc::new(env!("CARGO_BIN_EXE_costgate"));
    cmd.env("COSTGATE_TODAY", "2026-11-28")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Permissions do not bind root: run costgate as `nobody`, if it can.
        let can = Proc::new(env!("CARGO_BIN_EXE_costgate"))
            .arg("--version")
            .uid(65534)
            .gid(65534)
            .output()
            .is_ok_and(|o| o.status.success());
        if !can {
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
            // Written to stderr directly: the harness swallows eprintln! of a passing test.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\nSKIPPED an_unreadable_spec_folder_is_an_error: running as root, and user `nobody` cannot \
                 run the costgate binary here, so an unreadable folder could NOT be made.\n"
            );
            return;
        }
        cmd.uid(65534).gid(65534);
    }
    let out = cmd
        .args(["check", "--trials", "100", "--allow-few-trials"])
        .arg(&specs)
        .output()
        .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(
        err.contains("locked: cannot read the folder: Permission denied"),
        "{err}"
    );
}

#[test]
fn the_same_file_named_twice_is_checked_once() {
    let d = tempfile::tempdir().unwrap();
    let specs = d.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::copy(example("tiered-assistant.yaml"), specs.join("a.yaml")).unwrap();
    std::os::unix::fs::symlink("a.yaml", specs.join("b.yaml")).unwrap();
    let a = costgate()
        .args(["check", "--trials", "100", "--allow-few-trials", "--format", "json"])
        .arg(specs.join("a.yaml"))
        .arg(specs.join(".").join("a.yaml"))
        .arg(&specs)
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 1, "{v}");
}

// ------------------------------------------------------------- writes ----

fn check_to(out: &Path) -> Command {
    let mut c = costgate();
    c.args([
        "check",
        "--trials",
        "100",
        "--allow-few-trials",
        "--format",
        "json",
        "-o",
    ])
    .arg(out)
    .arg(example("tiered-assistant.yaml"));
    c
}

#[test]
fn output_onto_a_device_is_written_into_it() {
    let d = tempfile::tempdir().unwrap();
    let null = d.path().join("null");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    check_to(&null).assert().code(0);
    assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_symlink());
    // A full disk is an error (73), naming the target, not a temporary file.
    let full = d.path().join("full.json");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    let a = check_to(&full).assert().code(73);
    let err = stderr(&a);
    assert!(
        err.contains(&format!("cannot write {}: No space left on device", full.display())),
        "{err}"
    );
    assert!(!err.contains(".full.json."), "no temporary file: {err}");
    assert!(std::fs::symlink_metadata(&full).unwrap().file_type().is_symlink());
    // /dev/stdout: the report goes to standard output.
    let out = d.path().join("out");
    std::os::unix::fs::symlink("/dev/stdout", &out).unwrap();
    let a = check_to(&out).assert().code(0);
    assert!(stdout(&a).contains("\"schema_version\": "), "{}", stdout(&a));
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
}

#[test]
fn output_onto_a_fifo_is_written_into_it() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("report.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    check_to(&fifo).assert().code(0);
    // Still a FIFO (checked first: were it replaced, the reader would wait forever).
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let text = reader.join().unwrap();
    assert!(text.contains("\"schema_version\": "), "{text}");
}

#[test]
fn a_read_only_target_is_refused_not_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("report.json");
    std::fs::write(&p, "keep").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let a = check_to(&p).assert().code(73);
    assert!(stderr(&a).contains("is read-only"), "{}", stderr(&a));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "keep");
}

#[test]
fn a_symlink_target_is_written_through() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("reports")).unwrap();
    let real = d.path().join("reports/latest.json");
    std::fs::write(&real, "old").unwrap();
    let link = d.path().join("report.json");
    std::os::unix::fs::symlink("reports/latest.json", &link).unwrap();
    check_to(&link).assert().code(0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(text.contains("\"schema_version\": "), "{text}");
    assert_eq!(std::fs::read_dir(d.path().join("reports")).unwrap().count(), 1);
}

#[test]
fn a_missing_folder_or_a_folder_as_output_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let a = check_to(d.path()).assert().code(73);
    assert!(
        stderr(&a).contains(&format!("cannot write {}: is a folder", d.path().display())),
        "{}",
        stderr(&a)
    );
    let missing = d.path().join("no/such/report.json");
    let a = check_to(&missing).assert().code(73);
    assert!(stderr(&a).contains("does not exist"), "{}", stderr(&a));
    // report and diff write the same way
    costgate()
        .args(["report", "--trials", "100", "--allow-few-trials", "-o"])
        .arg(d.path())
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .code(73);
    costgate()
        .args(["diff", "--trials", "100", "--allow-few-trials", "-o"])
        .arg(d.path())
        .arg(example("tiered-assistant.yaml"))
        .arg(example("tiered-assistant.yaml"))
        .assert()
        .code(73);
}

#[test]
fn help_documents_exit_73() {
    for cmd in ["check", "report", "approve"] {
        costgate()
            .args([cmd, "--help"])
            .assert()
            .code(0)
            .stdout(predicates::str::contains("73"));
    }
}

/// Run costgate with its standard output a pipe whose reader is gone.
fn closed_pipe(args: &[&str]) -> std::process::Output {
    let mut child = Proc::new(env!("CARGO_BIN_EXE_costgate"))
        .env("COSTGATE_TODAY", "2026-11-28")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_broken_pipe_ends_quietly_with_the_verdicts_exit_code() {
    let copilot = example("enterprise-copilot.yaml");
    let html = closed_pipe(&[
        "report",
        "--trials",
        "100",
        "--allow-few-trials",
        "--format",
        "html",
        copilot.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&html.stderr);
    assert_eq!(html.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
    // check: the verdict (blocked) is the exit code.
    let specs = example("");
    let check = closed_pipe(&[
        "check",
        "--trials",
        "100",
        "--allow-few-trials",
        "--format",
        "json",
        specs.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error:"), "{err}");
    // every other command prints through the same function
    let rules = closed_pipe(&["rules"]);
    let err = String::from_utf8_lossy(&rules.stderr);
    assert_eq!(rules.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    let tiered = example("tiered-assistant.yaml");
    let bench = closed_pipe(&[
        "bench",
        "--runs",
        "1",
        "--trials",
        "50",
        "--allow-few-trials",
        tiered.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&bench.stderr);
    assert_eq!(bench.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let d = tempfile::tempdir().unwrap();
    let spec = d.path().join("support.yaml");
    std::fs::copy(example("support-assistant.yaml"), &spec).unwrap();
    let approve = closed_pipe(&[
        "approve",
        "--trials",
        "100",
        "--allow-few-trials",
        "--by",
        "cfo@example.com",
        "--reason",
        "r",
        "--expires",
        "2027-02-28",
        spec.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&approve.stderr);
    assert_eq!(approve.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn pricing_update_refuses_a_pin_that_check_could_not_read() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let pin = dir.join("costgate-prices.lock.toml");
    costgate()
        .current_dir(dir)
        .args(["pricing", "update", "--from", "builtin"])
        .assert()
        .code(0);
    let before = std::fs::read(&pin).unwrap();
    // 30,000 models with long names: a 9 MB LiteLLM file, a pin over 8 MiB.
    let entry = r#"{"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}"#;
    let long = "x".repeat(200);
    let models: Vec<String> = (0..30_000).map(|i| format!(r#""gpt-{i}-{long}": {entry}"#)).collect();
    std::fs::write(dir.join("big.json"), format!("{{{}}}", models.join(","))).unwrap();
    let a = costgate()
        .current_dir(dir)
        .args(["pricing", "update", "--from", "big.json"])
        .assert()
        .code(65);
    assert!(
        stderr(&a).contains("more than the 8388608 bytes `costgate check` reads"),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("the previous snapshot is kept"), "{}", stderr(&a));
    assert_eq!(std::fs::read(&pin).unwrap(), before);
    // and the kept pin still prices a check
    let spec = dir.join("t.yaml");
    std::fs::copy(example("tiered-assistant.yaml"), &spec).unwrap();
    costgate()
        .current_dir(dir)
        .args(["check", "--trials", "100", "--allow-few-trials", "t.yaml"])
        .assert()
        .code(0);
}
