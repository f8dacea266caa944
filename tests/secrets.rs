//! Secrets in a `--pricing` URL (`user:password@`, `?access_token=`, `key`,
//! `signature`, ...) are used to fetch and never printed or written: not in
//! the pinned snapshot, the report's footer, the JSON, the step summary or
//! an error message. And a redirect to a URL costgate cannot fetch says so.

#[path = "support/cmd.rs"]
mod cmd;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

const LITELLM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/litellm-prices-2026-07.json"
);
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/consumer-chat.toml");

const PASSWORD: &str = "pw-Hunter2-secret";
const TOKEN: &str = "tok-9f8e7d6c5b4a-secret";
const SIG: &str = "sig-0a1b2c3d-secret";

/// A server on 127.0.0.1 answering every connection with `status`,
/// `headers` and `body`, until the test ends.
fn serve(status: &'static str, headers: &'static str, body: Vec<u8>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    addr
}

fn secret_url(addr: SocketAddr) -> String {
    format!(
        "http://prices:{PASSWORD}@{addr}/prices.json?v=2&access_token={TOKEN}&X-Amz-Signature={SIG}&api_key={TOKEN}"
    )
}

fn costgate(dir: &Path) -> Command {
    let mut c = cmd::costgate_on("2026-11-28");
    c.current_dir(dir)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY");
    c
}

#[track_caller]
fn assert_no_secret(what: &str, s: &str) {
    for secret in [PASSWORD, TOKEN, SIG] {
        assert!(!s.contains(secret), "{what} shows a secret:\n{s}");
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn secrets_in_a_pricing_url_reach_no_file_and_no_output() {
    let addr = serve(
        "200 OK",
        "content-type: application/json\r\n",
        std::fs::read(LITELLM).unwrap(),
    );
    let url = secret_url(addr);
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();

    // pinned: the snapshot names the source without its secrets
    let out = costgate(d.path())
        .args(["pricing", "update", "--from", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_secret("pricing update (stdout)", &text(&out.stdout));
    assert_no_secret("pricing update (stderr)", &text(&out.stderr));
    let pin = std::fs::read_to_string(d.path().join("costgate-prices.lock.toml")).unwrap();
    assert_no_secret("the pinned snapshot", &pin);
    assert!(
        pin.contains(&format!("http://***@{addr}/prices.json?v=2&access_token=***")),
        "{pin}"
    );

    // live: the table's footer, the JSON, the note on stderr, the step summary
    let summary = d.path().join("summary.md");
    for format in ["table", "json", "markdown"] {
        let out = costgate(d.path())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args([
                "check",
                "--trials",
                "200",
                "--allow-few-trials",
                "--pricing",
                &url,
                "--format",
                format,
                SPEC,
            ])
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(matches!(out.status.code(), Some(0..=2)), "{stderr}");
        assert!(
            stdout.contains("prices.json"),
            "{format}: the source is named:\n{stdout}"
        );
        assert_no_secret(&format!("check --format {format}"), &stdout);
        assert_no_secret("check (stderr)", &stderr);
    }
    assert_no_secret("the step summary", &std::fs::read_to_string(&summary).unwrap());
    // pricing list and show name the catalog too
    for args in [vec!["pricing", "list"], vec!["pricing", "show", "gemini-2.5-flash"]] {
        let out = costgate(d.path())
            .args(&args)
            .args(["--pricing", &url])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_no_secret(&args.join(" "), &text(&out.stdout));
    }
}

#[test]
fn failures_name_the_url_redacted() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        serve("404 Not Found", "", b"no".to_vec()),
        serve("200 OK", "", b"this is not a catalog".to_vec()),
        serve("200 OK", "", b"{\"a\": 1,\n \"b\": }".to_vec()),
    ];
    for addr in cases {
        let url = secret_url(addr);
        let out = costgate(d.path())
            .args([
                "check",
                "--trials",
                "200",
                "--allow-few-trials",
                "--pricing",
                &url,
                SPEC,
            ])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(matches!(out.status.code(), Some(65 | 69)), "{stderr}");
        assert!(stderr.contains(&format!("http://***@{addr}/prices.json")), "{stderr}");
        assert_no_secret("the error", &stderr);
    }
    // a URL refused before any request
    let out = costgate(d.path())
        .args([
            "check",
            "--pricing",
            &format!("http://u:{PASSWORD}@prices.example/p.json?token={TOKEN}"),
            SPEC,
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert_no_secret("a refused URL", &stderr);
}

#[test]
fn a_redirect_to_a_scheme_costgate_does_not_fetch_says_so() {
    let addr = serve("302 Found", "location: file:///etc/passwd\r\n", Vec::new());
    let d = tempfile::tempdir().unwrap();
    let out = costgate(d.path())
        .args(["check", "--pricing", &format!("http://{addr}/p.json"), SPEC])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains("file:///etc/passwd") && stderr.contains("not an http(s) URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("HTTP 302 Found"), "{stderr}");
}
