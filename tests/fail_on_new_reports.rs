//! `check --fail-on new` with a feature blocked only by deny findings the
//! baseline already had: the exit code does not count it, and every report
//! says so as the terminal does ("blocked, not new: not failing this run"):
//! the Markdown report (and so the PR comment), the GitHub job summary,
//! the `--format github` annotations and the HTML report. None of them
//! labels it a bare BLOCKED.

#[path = "support/cmd.rs"]
mod cmd;
#[path = "support/git.rs"]
mod git_support;
#[path = "support/report.rs"]
mod report;

use std::path::Path;

use costgate::check::{FailOn, apply_baseline};
use costgate::policy::{Policy, Verdict};
use costgate::report::{github, html, markdown};

const NOT_NEW: &str = "not new: not failing this run";

/// Every `BLOCKED` label in `s` says it is not new.
fn no_bare_blocked(what: &str, s: &str) {
    let n = s.matches("BLOCKED").count();
    assert!(n > 0, "{what}: no BLOCKED label at all:\n{s}");
    assert_eq!(
        s.matches(&format!("BLOCKED, {NOT_NEW}")).count(),
        n,
        "{what}: a bare BLOCKED:\n{s}"
    );
}

#[test]
fn markdown_html_and_github_say_an_old_block_does_not_fail_the_run() {
    // enterprise-copilot is blocked; judged against itself every deny
    // finding is old.
    let base = report::check(
        &Policy::default(),
        vec![report::example("enterprise-copilot.yaml")],
        300,
    );
    assert_eq!(base.verdict, Verdict::Blocked);
    let mut r = base.clone();
    let count = apply_baseline(&mut r, &base, FailOn::New);
    assert_eq!(count.new, 0);
    assert!(r.features[0].blocked_not_new);
    assert_ne!(r.exit_code, 1, "the block does not fail the run");

    let md = markdown::render(&r);
    no_bare_blocked("markdown", &md);
    assert!(
        md.contains(&format!("blocked, {NOT_NEW} (--fail-on new). Blocked: ")),
        "the headline reads as the terminal's feature line:\n{md}"
    );
    assert!(
        md.contains(&format!("1 blocked (1 of them {NOT_NEW}, --fail-on new)")),
        "{md}"
    );
    let comment = markdown::render_within(&r, 20_000);
    no_bare_blocked("comment", &comment);

    let page = html::render(&r);
    no_bare_blocked("html", &page);
    assert!(page.contains(&format!("blocked, {NOT_NEW} (--fail-on new). Blocked: ")));

    let gh = github::render(&r);
    assert!(gh.contains("::error "), "{gh}");
    assert!(
        !gh.contains("(blocks)"),
        "an old deny finding does not block this run:\n{gh}"
    );
    // (a title is a property: its `,` and `:` escaped for the runner)
    assert!(gh.contains("(blocked%2C not new%3A not failing this run)::"), "{gh}");
    assert!(gh.contains(&format!("1 of them {NOT_NEW}")), "{gh}");

    // Under --fail-on any nothing changes: the plain label, no note.
    let mut any = base.clone();
    apply_baseline(&mut any, &base, FailOn::Any);
    let md = markdown::render(&any);
    assert!(md.contains(": BLOCKED\n"), "{md}");
    assert!(!md.contains("not new"), "{md}");
    assert!(github::render(&any).contains("(blocks)"));
}

fn check(dir: &Path, args: &[&str], summary: &Path) -> (i32, String, String) {
    let out = cmd::costgate_on("2026-11-28")
        .current_dir(dir)
        .env("GITHUB_STEP_SUMMARY", summary)
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

#[test]
fn the_job_summary_and_the_markdown_format_agree_with_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_support::git(root, &["init", "-q", "-b", "main"]);
    std::fs::create_dir(root.join("specs")).unwrap();
    std::fs::copy(
        report::example("enterprise-copilot.yaml"),
        root.join("specs/copilot.yaml"),
    )
    .unwrap();
    git_support::git(root, &["add", "-A"]);
    git_support::git(root, &["commit", "-q", "-m", "base"]);
    let summary = root.join("summary.md");

    let flags = ["specs", "--baseline-ref", "main", "--fail-on", "new"];
    let (code, out, err) = check(root, &flags, &summary);
    assert_eq!(
        code, 2,
        "the approval still needs one; the old block does not fail:\n{err}"
    );
    assert!(out.contains(&format!("BLOCKED  blocked, {NOT_NEW}")), "{out}");
    no_bare_blocked("step summary", &std::fs::read_to_string(&summary).unwrap());

    let mut md = flags.to_vec();
    md.extend(["--format", "markdown"]);
    let (code, out, err) = check(root, &md, &root.join("summary2.md"));
    assert_eq!(code, 2, "{err}");
    no_bare_blocked("--format markdown", &out);
}
