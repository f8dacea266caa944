//! The pull-request comment against a fake GitHub API on loopback.

mod support;

use costgate::github::{Behavior, Github, GithubError, MARKER, Outcome};
use support::fake_github::FakeGithub;

const TOKEN: &str = "ghs_testTOKEN1234567890";

#[test]
fn first_run_posts_and_the_second_updates_the_same_comment() {
    let gh = FakeGithub::start();
    // someone else's comment is left alone
    gh.state.lock().unwrap().comments.push((1, "LGTM".into()));
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let first = api.sync(7, "report v1", Behavior::Update, false).unwrap();
    let Outcome::Created { id, .. } = first else {
        panic!("{first:?}")
    };
    let second = api.sync(7, "report v2", Behavior::Update, false).unwrap();
    assert_eq!(
        second,
        Outcome::Updated {
            id,
            url: format!("https://github.test/o/r/pull/7#issuecomment-{id}")
        }
    );
    let comments = gh.comments();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1], (id, format!("{MARKER}\nreport v2")));
    let seen = gh.seen();
    let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);
    assert!(seen[3].path.ends_with(&format!("/repos/o/r/issues/comments/{id}")));
    assert!(seen[1].body.contains(MARKER) && seen[1].body.contains("report v1"));
    for s in &seen {
        assert_eq!(s.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    }
}

#[test]
fn skip_if_unchanged_sends_nothing_when_the_body_is_the_same() {
    let gh = FakeGithub::start();
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    api.sync(7, "same", Behavior::Update, true).unwrap();
    let again = api.sync(7, "same", Behavior::Update, true).unwrap();
    assert!(matches!(again, Outcome::Unchanged { .. }));
    assert_eq!(gh.seen().iter().filter(|s| s.method != "GET").count(), 1);
}

#[test]
fn new_and_delete_and_new() {
    let gh = FakeGithub::start();
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    api.sync(7, "a", Behavior::New, false).unwrap();
    api.sync(7, "b", Behavior::New, false).unwrap();
    assert_eq!(gh.comments().len(), 2);
    let r = api.sync(7, "c", Behavior::DeleteAndNew, false).unwrap();
    assert!(matches!(r, Outcome::Created { .. }));
    let c = gh.comments();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1, format!("{MARKER}\nc"));
    assert_eq!(gh.seen().iter().filter(|s| s.method == "DELETE").count(), 2);
}

#[test]
fn comments_past_the_first_page_are_found() {
    let gh = FakeGithub::start();
    {
        let mut s = gh.state.lock().unwrap();
        for i in 0..150 {
            s.comments.push((i + 1, format!("chatter {i}")));
        }
        s.comments.push((500, format!("{MARKER}\nold")));
    }
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let r = api.sync(7, "new", Behavior::Update, false).unwrap();
    assert!(matches!(r, Outcome::Updated { id: 500, .. }), "{r:?}");
}

#[test]
fn error_statuses_say_what_to_fix_and_never_show_the_token() {
    for (status, expect) in [
        (401, "the token is missing, wrong or expired"),
        (403, "pull-requests: write"),
        (404, "check --repo / GITHUB_REPOSITORY and --pr"),
        (422, "refused the comment's content"),
    ] {
        let gh = FakeGithub::start();
        gh.state.lock().unwrap().fail_with = Some((status, "GitHub says no".into()));
        let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
        let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, GithubError::Status { status: s, .. } if s == status));
        assert!(msg.contains(expect), "{status}: {msg}");
        assert!(msg.contains("GitHub says no"), "{msg}");
        assert!(!msg.contains(TOKEN), "{msg}");
    }
}

#[test]
fn an_unreachable_api_is_an_unreachable_error() {
    // a port nobody listens on
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let api = Github::new(&url, "o/r", TOKEN).unwrap();
    let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
    assert!(matches!(err, GithubError::Unreachable { .. }), "{err}");
    assert!(!err.to_string().contains(TOKEN));
}
