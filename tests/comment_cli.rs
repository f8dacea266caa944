//! `costgate comment github` end to end against a fake GitHub API on loopback.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::fake_github::FakeGithub;

const TOKEN: &str = "ghs_secretSECRETsecret42";

fn spec(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

fn comment(gh: &FakeGithub, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("costgate")
        .unwrap()
        .env("COSTGATE_TODAY", "2026-11-28")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", &gh.url)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args([
            "comment",
            "github",
            "--pr",
            "7",
            "--trials",
            "300",
            "--allow-few-trials",
        ])
        .args(extra)
        .arg(spec("support-assistant.yaml"))
        .output()
        .unwrap()
}

fn no_token(out: &std::process::Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(TOKEN), "the token leaked: {all}");
}

#[test]
fn posts_then_updates_in_place_and_exits_with_the_verdict() {
    let gh = FakeGithub::start();
    let first = comment(&gh, &[]);
    no_token(&first);
    assert_eq!(
        first.status.code(),
        Some(2),
        "needs approval: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("posted the report on pull request #7"));
    let second = comment(&gh, &[]);
    no_token(&second);
    assert_eq!(second.status.code(), Some(2));
    let seen = gh.seen();
    let writes: Vec<(&str, &str)> = seen
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[0], ("POST", "/repos/acme/app/issues/7/comments"));
    assert_eq!(writes[1].0, "PATCH");
    let c = gh.comments();
    assert_eq!(c.len(), 1, "one comment, updated in place");
    assert!(
        writes[1]
            .1
            .ends_with(&format!("/repos/acme/app/issues/comments/{}", c[0].0))
    );
    assert!(c[0].1.starts_with(costgate::github::MARKER));
    assert!(c[0].1.contains("support-assistant"));
    assert!(c[0].1.chars().count() <= costgate::github::MAX_COMMENT_CHARS);
    for s in &seen {
        assert_eq!(s.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(!s.body.contains(TOKEN));
    }
    // unchanged: nothing written
    let third = comment(&gh, &["--skip-if-unchanged"]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("unchanged"));
    assert_eq!(gh.seen().iter().filter(|s| s.method != "GET").count(), 2);
}

#[test]
fn error_statuses_exit_69_with_what_to_fix() {
    for (status, expect) in [
        (401, "token is missing, wrong or expired"),
        (403, "pull-requests: write"),
        (404, "GITHUB_REPOSITORY"),
        (422, "refused"),
    ] {
        let gh = FakeGithub::start();
        gh.state.lock().unwrap().fail_with = Some((status, "no".into()));
        let out = comment(&gh, &[]);
        no_token(&out);
        assert_eq!(out.status.code(), Some(69), "{status}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{status}: {err}");
    }
}

#[test]
fn without_a_token_it_says_how_to_pass_one() {
    let gh = FakeGithub::start();
    let out = Command::cargo_bin("costgate")
        .unwrap()
        .env_remove("GITHUB_TOKEN")
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", &gh.url)
        .args(["comment", "github", "--pr", "7"])
        .arg(spec("support-assistant.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_TOKEN is not set"));
    assert!(gh.seen().is_empty());
}
