//! The last line of every `check`: the run's verdict in words and the exit
//! code, which must agree with the process's exit status, including under
//! `--fail-on new` with a deny finding the baseline already had.

#[path = "support/cmd.rs"]
mod cmd;
#[path = "support/git.rs"]
mod git_support;

use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

/// `check` of `args`: exit status, stdout, stderr.
fn check(dir: Option<&Path>, args: &[&str]) -> (i32, String, String) {
    let mut c = cmd::costgate_on("2026-11-28");
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c
        .args(["--color", "never", "check", "--trials", "300", "--allow-few-trials"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or("")
}

#[test]
fn the_last_line_gives_the_verdict_and_the_exit_code_it_gives() {
    for (spec, code, words) in [
        ("tiered-assistant.yaml", 0, "passed"),
        ("support-assistant.yaml", 2, "needs approval"),
        ("enterprise-copilot.yaml", 1, "blocked"),
    ] {
        let path = example(spec);
        let (got, out, err) = check(None, &[path.to_str().unwrap()]);
        assert_eq!(got, code, "{spec}: {err}");
        assert_eq!(last_line(&out), format!("Verdict: {words} (exit {code})."), "{spec}");
        // a machine format keeps stdout to itself: the line goes to stderr
        let (got, out, err) = check(None, &["--format", "json", path.to_str().unwrap()]);
        assert_eq!(got, code);
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
        assert_eq!(last_line(&err), format!("Verdict: {words} (exit {code})."), "{spec}");
        // --quiet prints nothing, the line included
        let (got, out, err) = check(None, &["-q", path.to_str().unwrap()]);
        assert_eq!((got, out.as_str()), (code, ""));
        assert!(!err.contains("Verdict"), "{err}");
    }
}

#[test]
fn fail_on_new_says_an_old_block_does_not_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_support::git(root, &["init", "-q", "-b", "main"]);
    std::fs::create_dir(root.join("specs")).unwrap();
    std::fs::copy(example("enterprise-copilot.yaml"), root.join("specs/copilot.yaml")).unwrap();
    git_support::git(root, &["add", "-A"]);
    git_support::git(root, &["commit", "-q", "-m", "base"]);

    // Without the baseline: blocked, and the feature line says so plainly.
    let (code, out, _) = check(Some(root), &["specs"]);
    assert_eq!(code, 1);
    assert!(!out.contains("not new"), "{out}");
    assert_eq!(last_line(&out), "Verdict: blocked (exit 1).");

    // Its deny findings are all at the baseline: they do not fail the run,
    // its approval finding still does (exit 2), and every line agrees.
    let (code, out, err) = check(Some(root), &["specs", "--baseline-ref", "main", "--fail-on", "new"]);
    assert_eq!(code, 2, "{err}");
    let feature_line = out.lines().nth(1).unwrap();
    assert!(
        feature_line.starts_with("  BLOCKED  blocked, not new: not failing this run (--fail-on new)."),
        "{feature_line}"
    );
    assert_eq!(
        last_line(&out),
        "Verdict: needs approval (exit 2); 1 feature blocked only by deny findings the baseline already had (--fail-on new)."
    );

    // --fail-on any (the default) with the same baseline: still blocked, no "not new".
    let (code, out, _) = check(Some(root), &["specs", "--baseline-ref", "main"]);
    assert_eq!(code, 1);
    assert!(!out.contains("not new"), "{out}");
    assert_eq!(last_line(&out), "Verdict: blocked (exit 1).");
}
