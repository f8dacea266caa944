//! The pull-request comment against a fake GitHub API on loopback.

mod support;

use std::time::{Duration, Instant};

use costgate::github::{Behavior, Github, GithubError, MARKER, Outcome};
use support::cmd::HANG;
use support::fake_github::{Canned, FakeGithub};

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

#[test]
fn the_comment_is_found_however_many_pages_of_comments_come_before_it() {
    // 51 full pages: listing used to stop at page 50 and post a duplicate
    let gh = FakeGithub::start();
    {
        let mut s = gh.state.lock().unwrap();
        for i in 0..5_050 {
            s.comments.push((i + 1, format!("chatter {i}")));
        }
        s.comments.push((9_000, format!("{MARKER}\nold")));
    }
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let r = api.sync(7, "new", Behavior::Update, false).unwrap();
    assert!(matches!(r, Outcome::Updated { id: 9_000, .. }), "{r:?}");
    assert_eq!(gh.comments().len(), 5_051, "no duplicate was posted");
    let gets = gh.seen().iter().filter(|s| s.method == "GET").count();
    assert_eq!(gets, 51, "every page read once, following Link: rel=next");
}

#[test]
fn a_next_page_on_another_host_is_refused_so_the_token_stays_home() {
    let gh = FakeGithub::start();
    gh.state.lock().unwrap().script.push_back(Canned {
        status: 200,
        headers: vec![("Link".into(), "<https://evil.test/steal?page=2>; rel=\"next\"".into())],
        body: "[]".into(),
    });
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
    assert!(err.to_string().contains("not on the API's address"), "{err}");
    assert_eq!(gh.seen().len(), 1);
}

#[test]
fn a_rate_limit_waits_for_retry_after_then_goes_on() {
    let gh = FakeGithub::start();
    gh.state
        .lock()
        .unwrap()
        .script
        .push_back(Canned::error(429, &[("Retry-After", "1")], "API rate limit exceeded"));
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let start = Instant::now();
    let r = api.sync(7, "x", Behavior::Update, false).unwrap();
    assert!(matches!(r, Outcome::Created { .. }), "{r:?}");
    assert!(start.elapsed() >= Duration::from_millis(950), "{:?}", start.elapsed());
    let methods: Vec<String> = gh.seen().iter().map(|s| s.method.clone()).collect();
    assert_eq!(methods, ["GET", "GET", "POST"]);
}

#[test]
fn rate_limits_say_rate_limited_not_permissions_and_the_wait_is_bounded() {
    type Case<'a> = (u16, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        // primary limit exhausted, reset far away
        (
            403,
            &[("x-ratelimit-remaining", "0"), ("Retry-After", "3600")],
            "API rate limit exceeded",
        ),
        // a secondary rate limit without headers
        (
            403,
            &[],
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        ),
        // 429 asking for longer than costgate waits
        (429, &[("Retry-After", "120")], "Too many requests"),
        (429, &[], "Too many requests"),
    ];
    for (status, headers, message) in cases {
        let gh = FakeGithub::start();
        gh.state
            .lock()
            .unwrap()
            .script
            .push_back(Canned::error(status, headers, message));
        let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
        let start = Instant::now();
        let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, GithubError::RateLimited { .. }), "{status}: {msg}");
        assert!(msg.contains("rate limited"), "{msg}");
        assert!(!msg.contains("pull-requests: write"), "{msg}");
        assert!(start.elapsed() < HANG, "it does not sleep past its budget");
    }
    // repeated limits stop once the total wait would pass the budget
    let gh = FakeGithub::start();
    for _ in 0..5 {
        gh.state
            .lock()
            .unwrap()
            .script
            .push_back(Canned::error(429, &[("Retry-After", "1")], "slow down"));
    }
    let api = Github::new(&gh.url, "o/r", TOKEN)
        .unwrap()
        .with_rate_limit_budget(Duration::from_millis(1_500));
    let start = Instant::now();
    let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
    assert!(matches!(err, GithubError::RateLimited { .. }), "{err}");
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    assert_eq!(gh.seen().len(), 2, "one wait of 1 s fits in 1.5 s, a second does not");
    // `Retry-After: 0` is no licence to ask again at once: a second at least
    // between tries, so the budget ends the loop
    let gh = FakeGithub::start();
    for _ in 0..10 {
        gh.state
            .lock()
            .unwrap()
            .script
            .push_back(Canned::error(429, &[("Retry-After", "0")], "slow down"));
    }
    let api = Github::new(&gh.url, "o/r", TOKEN)
        .unwrap()
        .with_rate_limit_budget(Duration::from_millis(1_500));
    let err = api.sync(7, "x", Behavior::Update, false).unwrap_err();
    assert!(matches!(err, GithubError::RateLimited { .. }), "{err}");
    assert_eq!(gh.seen().len(), 2, "one wait of 1 s fits in 1.5 s, a second does not");
    // a plain 403 is still a permissions problem
    let gh = FakeGithub::start();
    gh.state.lock().unwrap().script.push_back(Canned::error(
        403,
        &[("x-ratelimit-remaining", "4999")],
        "Resource not accessible by integration",
    ));
    let err = Github::new(&gh.url, "o/r", TOKEN)
        .unwrap()
        .sync(7, "x", Behavior::Update, false)
        .unwrap_err();
    assert!(err.to_string().contains("pull-requests: write"), "{err}");
}

#[test]
fn a_redirect_to_a_non_http_url_says_so() {
    // `file:` (no host) is left by the HTTP client as the 302 itself;
    // `ftp:` reaches the redirect rule: both say where it pointed and why not
    for to in ["file:///etc/passwd", "ftp://files.test/comments"] {
        let gh = FakeGithub::start();
        gh.state.lock().unwrap().script.push_back(Canned {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: String::new(),
        });
        let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
        let err = api.sync(7, "x", Behavior::Update, false).unwrap_err().to_string();
        assert!(err.contains(to) && err.contains("not an http(s) URL"), "{err}");
        assert!(!err.contains("302 Found") && !err.contains("answered 302"), "{err}");
    }
}

#[test]
fn a_token_echoed_by_github_is_redacted() {
    let gh = FakeGithub::start();
    gh.state.lock().unwrap().fail_with = Some((401, format!("Bad credentials: token {TOKEN} is revoked")));
    let api = Github::new(&gh.url, "o/r", TOKEN).unwrap();
    let msg = api.sync(7, "x", Behavior::Update, false).unwrap_err().to_string();
    assert!(msg.contains("Bad credentials: token *** is revoked"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
}

#[test]
fn credentials_in_the_api_url_are_never_shown() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://octo:hunter2secret@{}", l.local_addr().unwrap());
    drop(l);
    let api = Github::new(&url, "o/r", TOKEN).unwrap();
    let msg = api.sync(7, "x", Behavior::Update, false).unwrap_err().to_string();
    assert!(msg.contains("http://***@127.0.0.1"), "{msg}");
    assert!(!msg.contains("hunter2secret") && !msg.contains("octo"), "{msg}");
    // refused before any request: still redacted
    let err = Github::new("http://octo:hunter2secret@example.test", "o/r", TOKEN)
        .err()
        .unwrap()
        .to_string();
    assert!(!err.contains("hunter2secret"), "{err}");
}
