//! A fake GitHub REST API on loopback, enough for issue comments: list
//! (100 a page, with GitHub's `Link: rel="next"` header), create, update,
//! delete. It records every request it saw, and can answer the next
//! requests with canned replies (a rate limit, a redirect) first.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    pub comments: Vec<(u64, String)>,
    pub next_id: u64,
    pub seen: Vec<Seen>,
    /// Answer every request with this status (and GitHub's error shape).
    pub fail_with: Option<(u16, String)>,
    /// Answer the next requests with these, in turn, before anything else.
    pub script: VecDeque<Canned>,
    /// The server's own address, for `Link` headers.
    pub base: String,
}

/// A canned answer: status, extra headers, body.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

// not every test binary that includes the fake uses every helper
#[allow(dead_code)]
impl Canned {
    /// GitHub's error shape with `message`.
    pub fn error(status: u16, headers: &[(&str, &str)], message: &str) -> Canned {
        Canned {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: serde_json::json!({"message": message, "documentation_url": "https://docs.github.com"}).to_string(),
        }
    }
}

pub struct FakeGithub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGithub {
    pub fn start() -> FakeGithub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            base: url.clone(),
            ..State::default()
        }));
        let st = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let st = Arc::clone(&st);
                thread::spawn(move || handle(stream, &st));
            }
        });
        FakeGithub { url, state }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn comments(&self) -> Vec<(u64, String)> {
        self.state.lock().unwrap().comments.clone()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let (mut len, mut auth) = (0usize, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((&h, ""));
        let v = v.trim().to_string();
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.parse().unwrap_or(0),
            "authorization" => auth = Some(v),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let body = String::from_utf8_lossy(&body).to_string();
    let (status, headers, json) = {
        let mut s = state.lock().unwrap();
        s.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            authorization: auth,
            body: body.clone(),
        });
        if let Some(c) = s.script.pop_front() {
            (c.status, c.headers, c.body)
        } else if let Some((code, msg)) = &s.fail_with {
            (
                *code,
                Vec::new(),
                serde_json::json!({"message": msg, "documentation_url": "https://docs.github.com"}).to_string(),
            )
        } else {
            route(&mut s, &method, &path, &body)
        }
    };
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        302 => "Found",
        _ => "Error",
    };
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{json}",
        json.len()
    );
}

fn comment_json(id: u64, body: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "body": body, "html_url": format!("https://github.test/o/r/pull/7#issuecomment-{id}")})
}

type Answer = (u16, Vec<(String, String)>, String);

fn route(s: &mut State, method: &str, path: &str, body: &str) -> Answer {
    let (status, json) = route_json(s, method, path, body);
    let mut headers = Vec::new();
    // like GitHub: a `Link` header naming the next page while there is one
    if method == "GET" && status == 200 && path.contains("/comments") {
        let page = page_of(path);
        if s.comments.len() > page * 100 {
            let path_only = path.split('?').next().unwrap_or(path);
            let last = s.comments.len().div_ceil(100);
            headers.push((
                "Link".to_string(),
                format!(
                    "<{b}{path_only}?per_page=100&page={n}>; rel=\"next\", <{b}{path_only}?per_page=100&page={last}>; rel=\"last\"",
                    b = s.base,
                    n = page + 1
                ),
            ));
        }
    }
    (status, headers, json)
}

/// The `page=` of a listing (1 when absent).
fn page_of(path: &str) -> usize {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

fn route_json(s: &mut State, method: &str, path: &str, body: &str) -> (u16, String) {
    let path_only = path.split('?').next().unwrap_or(path);
    let text = || {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["body"].as_str().map(String::from))
    };
    match (method, path_only.split('/').collect::<Vec<_>>().as_slice()) {
        ("GET", ["", "repos", _, _, "issues", _, "comments"]) => {
            let page = page_of(path);
            let all: Vec<_> = s.comments.iter().map(|(id, b)| comment_json(*id, b)).collect();
            let chunk: Vec<_> = all.into_iter().skip((page - 1) * 100).take(100).collect();
            (200, serde_json::Value::Array(chunk).to_string())
        }
        ("POST", ["", "repos", _, _, "issues", _, "comments"]) => {
            let id = s.next_id;
            s.next_id += 1;
            let b = text().unwrap_or_default();
            s.comments.push((id, b.clone()));
            (201, comment_json(id, &b).to_string())
        }
        ("PATCH", ["", "repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let b = text().unwrap_or_default();
            match s.comments.iter_mut().find(|(i, _)| *i == id) {
                Some(c) => {
                    c.1 = b.clone();
                    (200, comment_json(id, &b).to_string())
                }
                None => (404, serde_json::json!({"message": "Not Found"}).to_string()),
            }
        }
        ("DELETE", ["", "repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            s.comments.retain(|(i, _)| *i != id);
            (204, String::new())
        }
        _ => (404, serde_json::json!({"message": "Not Found"}).to_string()),
    }
}
