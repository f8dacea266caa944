//! Price catalogs over HTTP, against servers this test starts on 127.0.0.1:
//! a good catalog, 404, 500 then 200, a server that never answers, a
//! garbage body, a body over the size limit, a redirect to plain http; and
//! a pinned snapshot that keeps pricing once the server is gone.

#[path = "support/cmd.rs"]
mod cmd;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use costgate::http::{FetchError, HttpOptions, fetch};
use predicates::prelude::*;

const LITELLM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/litellm-prices-2026-07.json"
);

/// What the server does with one connection.
#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>),
    Status(u16, &'static str),
    /// Read the request, then say nothing for this long.
    Silent(Duration),
    Redirect(String),
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 that answers connections with
/// `replies` in turn and stops after the last one (or after 15 s).
struct Server {
    addr: SocketAddr,
    /// The head (request line and headers) of every request received.
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let thread = std::thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(15);
            for reply in replies {
                let stream = loop {
                    match listener.accept() {
                        Ok((s, _)) => break Some(s),
                        Err(_) if Instant::now() < give_up => std::thread::sleep(Duration::from_millis(5)),
                        Err(_) => break None,
                    }
                };
                let Some(mut s) = stream else { return };
                s.set_nonblocking(false).unwrap();
                let head = read_request(&mut s);
                seen.lock().unwrap().push(head);
                match reply {
                    // hold the connection open without blocking the next one
                    Reply::Silent(d) => drop(std::thread::spawn(move || {
                        std::thread::sleep(d);
                        drop(s);
                    })),
                    reply => answer(&mut s, reply),
                }
            }
        });
        Server {
            addr,
            requests,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Wait for the server thread to end (it has answered every reply).
    fn stop(mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// The request's head, read up to the blank line.
fn read_request(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if !buf[0].is_ascii_uppercase() {
            break; // not HTTP (a TLS handshake): answer at once
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

fn answer(s: &mut TcpStream, reply: Reply) {
    let send = |s: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
        let _ = s.flush();
    };
    match reply {
        Reply::Ok(body) => send(s, "200 OK", "content-type: application/json\r\n", &body),
        Reply::Status(code, text) => send(s, &format!("{code} {text}"), "", text.as_bytes()),
        Reply::Silent(_) => unreachable!("held by the server loop"),
        Reply::Redirect(to) => send(s, "302 Found", &format!("location: {to}\r\n"), b""),
    }
}

fn catalog() -> Vec<u8> {
    std::fs::read(LITELLM).unwrap()
}

fn quick() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(10),
        max_bytes: 1 << 20,
        attempts: 3,
        backoff: Duration::from_millis(50),
    }
}

#[test]
fn a_good_catalog_downloads() {
    let srv = Server::start(vec![Reply::Ok(catalog())]);
    let body = fetch(&srv.url("/prices.json"), &quick()).unwrap();
    assert_eq!(body, catalog());
    let head = srv.requests().remove(0).to_ascii_lowercase();
    assert!(head.starts_with("get /prices.json http/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("\r\nuser-agent: costgate/{}\r\n", env!("CARGO_PKG_VERSION"))),
        "{head}"
    );
    srv.stop();
}

#[test]
fn a_404_is_not_retried() {
    let srv = Server::start(vec![Reply::Status(404, "Not Found")]);
    let url = srv.url("/missing.json");
    let e = fetch(&url, &quick()).unwrap_err();
    assert!(matches!(e, FetchError::Unavailable { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains(&url) && m.contains("HTTP 404 Not Found"), "{m}");
    assert_eq!(srv.hits(), 1);
    srv.stop();
}

#[test]
fn a_500_is_retried_until_the_catalog_comes() {
    let srv = Server::start(vec![
        Reply::Status(500, "Internal Server Error"),
        Reply::Status(503, "Service Unavailable"),
        Reply::Ok(catalog()),
    ]);
    assert_eq!(fetch(&srv.url("/p.json"), &quick()).unwrap().len(), catalog().len());
    assert_eq!(srv.hits(), 3);
    srv.stop();
}

#[test]
fn lasting_500s_give_up_naming_the_status_and_the_tries() {
    let srv = Server::start(vec![Reply::Status(502, "Bad Gateway"); 3]);
    let m = fetch(&srv.url("/p.json"), &quick()).unwrap_err().to_string();
    assert!(m.contains("HTTP 502 Bad Gateway") && m.contains("tried 3 times"), "{m}");
    srv.stop();
}

#[test]
fn a_server_that_never_answers_times_out() {
    let srv = Server::start(vec![Reply::Silent(2 * cmd::HANG)]);
    let opts = HttpOptions {
        timeout: Duration::from_millis(500),
        ..quick()
    };
    let start = Instant::now();
    let m = fetch(&srv.url("/p.json"), &opts).unwrap_err().to_string();
    assert!(start.elapsed() < cmd::HANG, "{:?}", start.elapsed());
    assert!(m.contains("no answer within 0.5 s"), "{m}");
    assert_eq!(srv.hits(), 1, "a timeout is not retried");
    srv.stop();
}

#[test]
fn nobody_listening_is_retried_then_unavailable() {
    // a port that was just free: connections are refused
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let m = fetch(&format!("http://{addr}/p.json"), &quick())
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("tried 3 times") && m.to_lowercase().contains("refused"),
        "{m}"
    );
}

#[test]
fn a_body_over_the_limit_is_not_read() {
    let srv = Server::start(vec![Reply::Ok(catalog())]);
    let opts = HttpOptions {
        max_bytes: 10_000,
        ..quick()
    };
    let e = fetch(&srv.url("/p.json"), &opts).unwrap_err();
    assert!(matches!(e, FetchError::TooLarge { limit: 10_000, .. }), "{e:?}");
    srv.stop();
}

#[test]
fn a_redirect_to_plain_http_is_refused() {
    let srv = Server::start(vec![Reply::Redirect("http://prices.invalid/p.json".into())]);
    let m = fetch(&srv.url("/p.json"), &quick()).unwrap_err().to_string();
    assert!(
        m.contains("http://prices.invalid/p.json") && m.contains("not https; refused"),
        "{m}"
    );
    srv.stop();
}

#[test]
fn a_redirect_within_loopback_is_followed() {
    let srv = Server::start(vec![Reply::Redirect("/moved.json".into()), Reply::Ok(catalog())]);
    assert!(!fetch(&srv.url("/p.json"), &quick()).unwrap().is_empty());
    srv.stop();
}

// ---------------------------------------------------------------- the CLI

fn spec() -> String {
    cmd::minimal_spec("anthropic/claude-sonnet-4-5", "gpt-4o-mini")
}

fn costgate(dir: &std::path::Path) -> Command {
    let mut c = cmd::costgate_on("2026-08-21");
    c.current_dir(dir).env("COSTGATE_HTTP_TIMEOUT", "1");
    c
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

#[test]
fn pin_then_stop_the_server_and_check_prices_the_same() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), spec()).unwrap();
    let srv = Server::start(vec![Reply::Ok(catalog()), Reply::Ok(catalog())]);
    let url = srv.url("/model_prices_and_context_window.json");

    // live from the URL
    let live = costgate(dir.path())
        .args([
            "check",
            "spec.yaml",
            "--trials",
            "200",
            "--allow-few-trials",
            "--format",
            "json",
            "--pricing",
            &url,
        ])
        .assert()
        .stderr(predicate::str::contains("pricing update"));
    let live = json(&live.get_output().stdout);
    assert_eq!(live["features"][0]["pricing"]["source"], url.as_str());

    // pinned
    costgate(dir.path())
        .args(["pricing", "update", "--from", &url])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Pinned 189 models from LiteLLM"))
        .stdout(predicate::str::contains("No earlier snapshot"));
    srv.stop();
    let pin = dir.path().join("costgate-prices.lock.toml");
    assert!(pin.is_file());

    // the server is gone: the snapshot prices the run, and the run says so
    let pinned = costgate(dir.path())
        .args([
            "check",
            "spec.yaml",
            "--trials",
            "200",
            "--allow-few-trials",
            "--format",
            "json",
        ])
        .assert()
        .stderr(predicate::str::contains("prices read from").not());
    let pinned = json(&pinned.get_output().stdout);
    let p = &pinned["features"][0]["pricing"];
    assert_eq!(p["pinned"], "costgate-prices.lock.toml");
    assert!(
        p["name"]
            .as_str()
            .unwrap()
            .starts_with("pinned snapshot costgate-prices.lock.toml (LiteLLM from http://127.0.0.1:")
    );
    assert_eq!(live["features"][0]["models"], pinned["features"][0]["models"]);
    assert_eq!(live["features"][0]["unit_costs"], pinned["features"][0]["unit_costs"]);
    let primary = &pinned["features"][0]["models"][0];
    assert_eq!(
        (
            primary["input_usd_per_mtok"].as_f64(),
            primary["output_usd_per_mtok"].as_f64()
        ),
        (Some(3.0), Some(15.0))
    );
    costgate(dir.path())
        .args(["check", "spec.yaml", "--trials", "200", "--allow-few-trials"])
        .assert()
        .stdout(predicate::str::contains(
            "Prices: pinned snapshot costgate-prices.lock.toml",
        ));

    // naming the dead URL explicitly is exit 69, and the snapshot is untouched
    let before = std::fs::read(&pin).unwrap();
    let start = Instant::now();
    costgate(dir.path())
        .args([
            "check",
            "spec.yaml",
            "--trials",
            "200",
            "--allow-few-trials",
            "--pricing",
            &url,
        ])
        .assert()
        .code(69)
        .stderr(predicate::str::contains(&url));
    assert!(start.elapsed() < cmd::HANG, "{:?}", start.elapsed());
    costgate(dir.path())
        .args(["pricing", "update", "--from", &url])
        .assert()
        .code(69);
    assert_eq!(std::fs::read(&pin).unwrap(), before);
}

#[test]
fn failed_updates_exit_69_or_65_and_leave_the_pin_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("costgate-prices.lock.toml");
    costgate(dir.path())
        .args(["pricing", "update", "--from", "builtin"])
        .assert()
        .code(0);
    let before = std::fs::read(&pin).unwrap();

    let srv = Server::start(vec![
        Reply::Status(404, "Not Found"),
        Reply::Silent(2 * cmd::HANG),
        Reply::Ok(b"<html><body>Pricing has moved</body></html>".to_vec()),
        Reply::Ok(
            br#"{"gpt-x": {"mode": "chat", "input_cost_per_token": "cheap", "output_cost_per_token": 1e-6}}"#.to_vec(),
        ),
        Reply::Ok(catalog()),
        Reply::Redirect("http://prices.invalid/p.json".into()),
    ]);
    let url = srv.url("/p.json");
    let update = |code: i32, says: &[&str]| {
        let a = costgate(dir.path())
            .env("COSTGATE_HTTP_MAX_BYTES", "100000")
            .args(["pricing", "update", "--from", &url])
            .assert()
            .code(code)
            .stdout(predicate::str::is_empty());
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        for s in says {
            assert!(err.contains(s), "stderr lacks {s:?}:\n{err}");
        }
        assert_eq!(std::fs::read(&pin).unwrap(), before, "the pin changed after: {err}");
    };
    update(69, &[&url, "HTTP 404 Not Found"]);
    let start = Instant::now();
    update(69, &[&url, "no answer within 1.0 s"]);
    assert!(start.elapsed() < cmd::HANG, "{:?}", start.elapsed());
    update(65, &[&url, "HTML"]);
    update(65, &[&url, "$[\"gpt-x\"].input_cost_per_token", "the string \"cheap\""]);
    update(65, &[&url, "larger than 100000 bytes", "COSTGATE_HTTP_MAX_BYTES"]);
    update(69, &["redirected to http://prices.invalid/p.json", "refused"]);
    srv.stop();
}

#[test]
fn https_goes_through_the_proxy_the_environment_names() {
    // The "proxy" is this test's loopback server: it sees the tunnel request
    // for the https host and refuses it, so nothing leaves the machine.
    let proxy = Server::start(vec![Reply::Status(403, "Forbidden")]);
    let dir = tempfile::tempdir().unwrap();
    costgate(dir.path())
        .env("HTTPS_PROXY", proxy.url(""))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .args(["pricing", "list", "--pricing", "https://prices.invalid/p.json"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains(
            "cannot fetch prices from https://prices.invalid/p.json",
        ));
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("CONNECT prices.invalid:443 "),
        "{}",
        requests[0]
    );
    proxy.stop();
}

#[test]
fn a_tls_handshake_that_fails_is_unavailable_not_a_crash() {
    // https:// to a server that speaks plain HTTP: rustls rejects the answer
    let srv = Server::start(vec![Reply::Status(400, "Bad Request")]);
    let url = format!("https://{}/p.json", srv.addr);
    let dir = tempfile::tempdir().unwrap();
    let a = costgate(dir.path())
        .args(["pricing", "list", "--pricing", &url])
        .assert()
        .code(69)
        .stderr(predicate::str::contains(format!("cannot fetch prices from {url}: ")));
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    assert!(srv.requests()[0].as_bytes()[0] == 0x16, "a TLS handshake record");
    srv.stop();
}

#[test]
fn plain_http_to_another_host_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    costgate(dir.path())
        .args(["pricing", "list", "--pricing", "http://prices.invalid/p.json"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("plain http is only allowed for loopback"));
}
