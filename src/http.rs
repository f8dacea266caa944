//! The HTTP client: HTTPS (rustls), bounded in time and size. It downloads
//! price catalogs (`pricing::source`) and talks to the GitHub API (`github`).
//!
//! - Plain `http://` only to loopback addresses (127.0.0.0/8, `[::1]`), and
//!   redirects are held to the same rule.
//! - A connect timeout, a timeout per attempt, and one deadline for the
//!   whole download including retries, so a dead source fails well within
//!   a minute.
//! - Connection errors and 5xx/429 answers are retried with exponential
//!   backoff; 4xx answers and a server that stops answering are not.
//! - The body is read up to a size limit.
//! - `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` are honoured
//!   (loopback sources never go through a proxy).
//! - The User-Agent is `costgate/<version>`.

use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::untrusted::{redact_url, redact_urls_in};

/// Timeouts, retries and size limits of a download.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Longest wait to connect.
    pub connect_timeout: Duration,
    /// Longest one attempt may take, from connecting to the body's last byte.
    pub timeout: Duration,
    /// Longest the whole download may take, retries and backoff included.
    pub deadline: Duration,
    /// Largest body read, in bytes.
    pub max_bytes: u64,
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(50),
            max_bytes: 32 * 1024 * 1024,
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Environment variables that tune downloads (seconds may be fractional).
pub const ENV_TIMEOUT: &str = "COSTGATE_HTTP_TIMEOUT";
pub(crate) const ENV_MAX_BYTES: &str = "COSTGATE_HTTP_MAX_BYTES";

impl HttpOptions {
    /// The defaults, with `COSTGATE_HTTP_TIMEOUT` (seconds per attempt, also
    /// capping the connect timeout) and `COSTGATE_HTTP_MAX_BYTES` applied.
    pub fn from_env() -> Result<HttpOptions, String> {
        let mut o = HttpOptions::default();
        if let Ok(s) = std::env::var(ENV_TIMEOUT)
            && !s.is_empty()
        {
            let secs: f64 = s
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0 && *v <= 600.0)
                .ok_or_else(|| format!("{ENV_TIMEOUT}=`{s}` is not a number of seconds between 0 and 600"))?;
            o.timeout = Duration::from_secs_f64(secs);
            o.connect_timeout = o.connect_timeout.min(o.timeout);
            o.deadline = o.deadline.max(o.timeout);
        }
        if let Ok(s) = std::env::var(ENV_MAX_BYTES)
            && !s.is_empty()
        {
            o.max_bytes = s
                .parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{ENV_MAX_BYTES}=`{s}` is not a positive number of bytes"))?;
        }
        Ok(o)
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL itself is refused (not https, not parseable).
    #[error("{0}")]
    BadUrl(String),
    #[error("cannot fetch prices from {url}: {reason}")]
    /// No answer, or an error status, after every attempt.
    Unavailable {
        /// The address (redacted).
        url: String,
        /// Why.
        reason: String,
    },
    #[error(
        "the response from {url} is larger than {limit} bytes: not read as a price catalog (set {ENV_MAX_BYTES} to allow more)"
    )]
    /// The body is larger than the limit.
    TooLarge {
        /// The address (redacted).
        url: String,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// `Ok` for https URLs, and plain http to a loopback address.
/// Messages name the URL with its secrets redacted.
pub fn check_url(s: &str) -> Result<Url, String> {
    let shown = redact_url(s);
    let url = Url::parse(s).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{shown}`: plain http is only allowed for loopback addresses (127.0.0.1, [::1]); use https://"
        )),
        other => Err(format!("`{shown}`: costgate fetches prices over https, not `{other}`")),
    }
}

/// An IP literal in 127.0.0.0/8 or `[::1]` (a name such as `localhost`
/// could resolve anywhere, so it does not count).
fn is_loopback(url: &Url) -> bool {
    url.host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

/// The reqwest builder for `url`: timeouts, redirect rule, proxies, agent.
pub fn client(url: &Url, opts: &HttpOptions) -> Result<reqwest::blocking::Client, String> {
    // reqwest is built without a crypto provider: install ring (once).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::blocking::Client::builder()
        .user_agent(concat!("costgate/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(opts.connect_timeout)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                let e = "more than 5 redirects".to_string();
                return attempt.error(e);
            }
            match check_url(attempt.url().as_str()) {
                Ok(_) => attempt.follow(),
                Err(_) => {
                    let to = redact_url(attempt.url().as_str());
                    let e = if attempt.url().scheme() == "http" {
                        format!("redirected to {to}, which is not https; refused")
                    } else {
                        format!("redirected to `{to}`, which is not an http(s) URL: refused")
                    };
                    attempt.error(e)
                }
            }
        }));
    if is_loopback(url) {
        b = b.no_proxy();
    }
    b.build().map_err(|e| describe(&e))
}

/// GET `url` with retries; the body, or why there is none.
pub fn fetch(url: &str, opts: &HttpOptions) -> Result<Vec<u8>, FetchError> {
    let parsed = check_url(url).map_err(FetchError::BadUrl)?;
    // the URL as messages show it
    let url = &redact_url(url);
    let unavailable = |reason: String| FetchError::Unavailable {
        url: url.to_string(),
        reason,
    };
    let client = client(&parsed, opts).map_err(unavailable)?;
    let start = Instant::now();
    // why the first and the latest attempts failed, where they were retried
    let mut first = String::new();
    let mut last = String::new();
    for attempt in 1..=opts.attempts.max(1) {
        if attempt > 1 {
            let wait = opts.backoff * 2u32.pow(attempt - 2);
            if start.elapsed() + wait >= opts.deadline {
                break;
            }
            std::thread::sleep(wait);
        }
        let left = opts.deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        let timeout = opts.timeout.min(left);
        let began = Instant::now();
        let resp = match client.get(parsed.clone()).timeout(timeout).send() {
            Ok(r) => r,
            Err(e) if e.is_redirect() => return Err(unavailable(describe(&e))),
            Err(e) if e.is_connect() => {
                last = describe(&e);
                if first.is_empty() {
                    first.clone_from(&last);
                }
                continue;
            }
            Err(e) if e.is_timeout() => {
                return Err(unavailable(format!("no answer within {}", secs(timeout))));
            }
            Err(e) => return Err(unavailable(describe(&e))),
        };
        let status = resp.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            last = format!("the server answered HTTP {status}");
            if first.is_empty() {
                first.clone_from(&last);
            }
            continue;
        }
        if status.is_redirection() {
            return Err(unavailable(refused_redirect(&resp)));
        }
        if !status.is_success() {
            return Err(unavailable(format!("the server answered HTTP {status}")));
        }
        if resp.content_length().is_some_and(|n| n > opts.max_bytes) {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: opts.max_bytes,
            });
        }
        let mut body = Vec::new();
        match resp.take(opts.max_bytes + 1).read_to_end(&mut body) {
            Ok(_) if body.len() as u64 > opts.max_bytes => {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: opts.max_bytes,
                });
            }
            Ok(_) => return Ok(body),
            Err(e) => {
                let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                    || std::error::Error::source(&e)
                        .and_then(|s| s.downcast_ref::<reqwest::Error>())
                        .is_some_and(reqwest::Error::is_timeout)
                    || began.elapsed() >= timeout;
                let reason = if timed_out {
                    format!("the response did not finish within {}", secs(timeout))
                } else {
                    format!("the connection broke while reading the response: {e}")
                };
                return Err(unavailable(reason));
            }
        }
    }
    let tries = opts.attempts.max(1);
    Err(unavailable(if last.is_empty() {
        format!("gave up after {}", secs(opts.deadline))
    } else if first != last {
        format!(
            "{last} (tried {tries} times over {}; the first attempt: {first})",
            secs(start.elapsed())
        )
    } else {
        format!("{last} (tried {tries} times over {})", secs(start.elapsed()))
    }))
}

/// Why a redirect answer was not followed (the client follows every
/// redirect it may; it leaves one to a scheme it cannot fetch, such as
/// `file:` or `ftp:`, as the answer).
pub fn refused_redirect(resp: &reqwest::blocking::Response) -> String {
    let status = resp.status();
    match resp.headers().get(reqwest::header::LOCATION) {
        Some(loc) => {
            let to = String::from_utf8_lossy(loc.as_bytes());
            let to = resp.url().join(&to).map_or_else(|_| to.to_string(), |u| u.to_string());
            format!(
                "the server redirected (HTTP {}) to `{}`, which is not an http(s) URL: refused",
                status.as_u16(),
                crate::untrusted::clean(&redact_url(&to)),
            )
        }
        None => format!("the server answered HTTP {status} without saying where to (no Location header)"),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A reqwest error's causes, without the URL it repeats.
pub fn describe(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    if parts.is_empty() {
        let mut s = e.to_string();
        if let Some(u) = e.url() {
            s = s
                .replace(&format!(" ({u})"), "")
                .replace(&format!(" for url ({u})"), "");
        }
        parts.push(s);
    }
    // the innermost causes say the most: "tcp connect error: Connection refused (os error 111)"
    let keep = parts.len().saturating_sub(2);
    redact_urls_in(&parts[keep..].join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_url("https://example.test/x.json").is_ok());
        assert!(check_url("http://127.0.0.1:1/x").is_ok());
        assert!(check_url("http://127.8.9.10/x").is_ok());
        assert!(check_url("http://[::1]:8/x").is_ok());
        assert!(check_url("http://localhost/x").is_err());
        assert!(check_url("http://10.0.0.1/x").is_err());
        assert!(check_url("ftp://example.test/x").is_err());
        assert!(check_url("not a url").is_err());
    }
}
