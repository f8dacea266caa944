//! One pull-request comment that updates itself.
//!
//! The comment carries a hidden marker; later runs find it among the pull
//! request's comments and edit it in place (or post a new one, as asked).
//! The token goes in the Authorization header and nowhere else: it is never
//! printed, logged or put in an error message (an answer that echoes it is
//! redacted), and the API URL is shown without its credentials.
//!
//! Listing follows GitHub's `Link: rel="next"` pages to the end (up to
//! [`MAX_PAGES`]). A rate-limited answer (429, or 403 with
//! `x-ratelimit-remaining: 0` or a secondary-rate-limit message) is retried
//! after the `Retry-After` (or `x-ratelimit-reset`) GitHub asks for, within
//! a bounded total wait, and otherwise reported as "rate limited".

use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use serde::Deserialize;

use crate::http::{self, HttpOptions};
use crate::untrusted::{redact_secret, redact_url};

/// Marks costgate's comment on a pull request.
pub const MARKER: &str = "<!-- costgate:report -->";

/// GitHub's limit on a comment body.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// Pages of 100 comments read at most when looking for costgate's comment.
pub const MAX_PAGES: usize = 1_000;

/// The longest costgate waits in all for GitHub's rate limit to lift.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// What `comment github` does with costgate's earlier comments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Edit costgate's comment in place, or post one when there is none.
    Update,
    /// Always post a new comment.
    New,
    /// Delete costgate's earlier comments, then post a new one.
    DeleteAndNew,
}

/// What posting the comment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new comment was posted.
    Created {
        /// Its id.
        id: u64,
        /// Its address.
        url: String,
    },
    /// costgate's comment was edited.
    Updated {
        /// Its id.
        id: u64,
        /// Its address.
        url: String,
    },
    /// costgate's comment already said this: nothing was sent.
    Unchanged {
        /// Its id.
        id: u64,
        /// Its address.
        url: String,
    },
}

/// Why a comment could not be posted.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// The environment or the arguments do not say where to post.
    #[error("{0}")]
    Config(String),
    #[error("cannot reach the GitHub API at {api}: {reason}")]
    /// The API could not be reached.
    Unreachable {
        /// The API's address (redacted).
        api: String,
        /// Why.
        reason: String,
    },
    /// GitHub answered with an error status.
    #[error("GitHub answered {status} to {what}: {message}\n  hint: {hint}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// What costgate was doing.
        what: String,
        /// What GitHub said.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// GitHub's rate limit did not lift in time.
    #[error("rate limited by GitHub while {what}: {message}\n  hint: {hint}")]
    RateLimited {
        /// What costgate was doing.
        what: String,
        /// What GitHub said.
        message: String,
        /// What to do about it.
        hint: String,
    },
}

/// A GitHub API client for one repository's pull-request comments.
pub struct Github {
    api: Url,
    repo: String,
    token: String,
    http: Client,
    /// The longest to wait in all for rate limits to lift.
    rate_limit_budget: Duration,
}

/// What GitHub's answer says about its rate limit.
struct RateLimit {
    /// How long GitHub asks to wait, when it says.
    wait: Option<Duration>,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    body: String,
    #[serde(default)]
    html_url: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

impl Github {
    /// `api`: e.g. `https://api.github.com` (plain http only on loopback);
    /// `repo`: `owner/name`.
    pub fn new(api: &str, repo: &str, token: &str) -> Result<Github, GithubError> {
        let api = http::check_url(api.trim_end_matches('/')).map_err(GithubError::Config)?;
        if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
            return Err(GithubError::Config(format!(
                "`{repo}` is not a repository: write owner/name"
            )));
        }
        if token.trim().is_empty() {
            return Err(GithubError::Config(
                "GITHUB_TOKEN is empty: pass the workflow's token (`env: GITHUB_TOKEN: ${{ github.token }}`)".into(),
            ));
        }
        let opts = HttpOptions {
            timeout: Duration::from_secs(30),
            ..HttpOptions::default()
        };
        let http = http::client(&api, &opts).map_err(GithubError::Config)?;
        Ok(Github {
            api,
            repo: repo.to_string(),
            token: token.to_string(),
            http,
            rate_limit_budget: MAX_RATE_LIMIT_WAIT,
        })
    }

    /// Wait at most `budget` in all for rate limits to lift (default
    /// [`MAX_RATE_LIMIT_WAIT`]).
    pub fn with_rate_limit_budget(mut self, budget: Duration) -> Self {
        self.rate_limit_budget = budget;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.as_str().trim_end_matches('/'), path)
    }

    /// The API's address as messages show it (no credentials).
    fn shown_api(&self) -> String {
        redact_url(self.api.as_str())
    }

    /// Text from GitHub's answer, without the token should it echo it.
    fn scrub(&self, s: &str) -> String {
        redact_secret(s, &self.token)
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
        what: &str,
    ) -> Result<Response, GithubError> {
        self.send_url(method, &self.url(path), body, what)
    }

    fn send_url(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&str>,
        what: &str,
    ) -> Result<Response, GithubError> {
        let start = Instant::now();
        loop {
            let mut req = self
                .http
                .request(method.clone(), url)
                .header("Authorization", format!("Bearer {}", self.token))
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Some(b) = body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(serde_json::json!({ "body": b }).to_string());
            }
            let resp = req.send().map_err(|e| GithubError::Unreachable {
                api: self.shown_api(),
                reason: self.scrub(&http::describe(&e)),
            })?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status.is_redirection() {
                return Err(GithubError::Unreachable {
                    api: self.shown_api(),
                    reason: self.scrub(&http::refused_redirect(&resp)),
                });
            }
            let limit = rate_limit(&resp);
            let message = read_json::<ErrorBody>(resp).map(|e| e.message).unwrap_or_default();
            let message = self.scrub(&if message.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                message
            });
            let limited = status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || (status == reqwest::StatusCode::FORBIDDEN
                    && (limit.is_some() || message.to_ascii_lowercase().contains("rate limit")));
            if limited {
                // At least a second between tries: `Retry-After: 0` would
                // otherwise ask again at once, for ever.
                let wait = limit.and_then(|l| l.wait).map(|w| w.max(Duration::from_secs(1)));
                let left = self.rate_limit_budget.saturating_sub(start.elapsed());
                match wait {
                    Some(w) if w <= left => {
                        std::thread::sleep(w);
                        continue;
                    }
                    _ => {
                        let after = match wait {
                            Some(w) => format!(
                                "GitHub asks to wait {} s, more than the {} s costgate waits",
                                w.as_secs(),
                                self.rate_limit_budget.as_secs()
                            ),
                            None => "GitHub did not say for how long".to_string(),
                        };
                        return Err(GithubError::RateLimited {
                            what: what.to_string(),
                            message,
                            hint: format!(
                                "{after}; run the job again later (the token's permissions are not the problem)"
                            ),
                        });
                    }
                }
            }
            return Err(self.status_error(status, what, message));
        }
    }

    fn status_error(&self, status: reqwest::StatusCode, what: &str, message: String) -> GithubError {
        let hint = match status.as_u16() {
            401 => "the token is missing, wrong or expired: pass the workflow's `github.token` as GITHUB_TOKEN".to_string(),
            403 => "the token may not write comments: give the job `permissions: pull-requests: write` (a pull request from a fork gets a read-only token)".to_string(),
            404 => format!(
                "no repository `{}` or pull request there that the token can see: check --repo / GITHUB_REPOSITORY and --pr",
                self.repo
            ),
            422 => "GitHub refused the comment's content (too long or malformed)".to_string(),
            s if s >= 500 => "GitHub is having trouble; run the job again".to_string(),
            _ => "see GitHub's message above".to_string(),
        };
        GithubError::Status {
            status: status.as_u16(),
            what: what.to_string(),
            message,
            hint,
        }
    }

    /// costgate's comments on the pull request, oldest first: every page,
    /// following GitHub's `Link: <...>; rel="next"` to the last.
    fn ours(&self, pr: u64) -> Result<Vec<Comment>, GithubError> {
        let what = "listing the pull request's comments";
        let mut out = Vec::new();
        let mut next = Some(self.url(&format!("/repos/{}/issues/{pr}/comments?per_page=100", self.repo)));
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == MAX_PAGES {
                return Err(GithubError::Unreachable {
                    api: self.shown_api(),
                    reason: format!(
                        "the pull request has more than {} pages of comments; costgate stops looking for its own there (use --behavior new)",
                        MAX_PAGES
                    ),
                });
            }
            pages += 1;
            let resp = self.send_url(reqwest::Method::GET, &url, None, what)?;
            next = next_link(&resp).map(|n| self.same_api(&n)).transpose()?;
            let batch: Vec<Comment> = read_json(resp).map_err(|reason| GithubError::Unreachable {
                api: self.shown_api(),
                reason: format!("unexpected answer listing comments: {reason}"),
            })?;
            out.extend(batch.into_iter().filter(|c| c.body.contains(MARKER)));
        }
        Ok(out)
    }

    /// A next-page URL, refused unless it is on the API's own origin (the
    /// token goes with it).
    fn same_api(&self, next: &str) -> Result<String, GithubError> {
        let u = self.api.join(next).ok().filter(|u| {
            u.scheme() == self.api.scheme()
                && u.host_str() == self.api.host_str()
                && u.port_or_known_default() == self.api.port_or_known_default()
        });
        u.map(|u| u.to_string()).ok_or_else(|| GithubError::Unreachable {
            api: self.shown_api(),
            reason: format!(
                "the next page of comments is at {}, not on the API's address; refused (the token would go there)",
                crate::untrusted::clean(&redact_url(next))
            ),
        })
    }

    /// Post or update costgate's comment on pull request `pr`.
    pub fn sync(
        &self,
        pr: u64,
        body: &str,
        behavior: Behavior,
        skip_if_unchanged: bool,
    ) -> Result<Outcome, GithubError> {
        let body = with_marker(body);
        let existing = match behavior {
            Behavior::New => Vec::new(),
            _ => self.ours(pr)?,
        };
        if behavior == Behavior::Update
            && let Some(c) = existing.last()
        {
            if skip_if_unchanged && c.body == body {
                return Ok(Outcome::Unchanged {
                    id: c.id,
                    url: c.html_url.clone(),
                });
            }
            let path = format!("/repos/{}/issues/comments/{}", self.repo, c.id);
            let resp = self.send(reqwest::Method::PATCH, &path, Some(&body), "updating the comment")?;
            let c: Comment = read_json(resp).map_err(|reason| GithubError::Unreachable {
                api: self.shown_api(),
                reason,
            })?;
            return Ok(Outcome::Updated {
                id: c.id,
                url: c.html_url,
            });
        }
        if behavior == Behavior::DeleteAndNew {
            if skip_if_unchanged && existing.last().is_some_and(|c| c.body == body) {
                let c = existing.last().expect("checked");
                return Ok(Outcome::Unchanged {
                    id: c.id,
                    url: c.html_url.clone(),
                });
            }
            for c in &existing {
                let path = format!("/repos/{}/issues/comments/{}", self.repo, c.id);
                self.send(reqwest::Method::DELETE, &path, None, "deleting the earlier comment")?;
            }
        }
        let path = format!("/repos/{}/issues/{pr}/comments", self.repo);
        let resp = self.send(reqwest::Method::POST, &path, Some(&body), "posting the comment")?;
        let c: Comment = read_json(resp).map_err(|reason| GithubError::Unreachable {
            api: self.shown_api(),
            reason,
        })?;
        Ok(Outcome::Created {
            id: c.id,
            url: c.html_url,
        })
    }
}

/// Whether an error answer is GitHub's rate limit, and how long it asks to
/// wait: `Retry-After` (seconds), else until `x-ratelimit-reset` (epoch
/// seconds) when `x-ratelimit-remaining` is 0. `None`: no rate-limit header.
fn rate_limit(resp: &Response) -> Option<RateLimit> {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let exhausted = header("x-ratelimit-remaining").is_some_and(|v| v == "0");
    if retry_after.is_none() && !exhausted {
        return None;
    }
    let until_reset = || {
        let reset = header("x-ratelimit-reset")?.parse::<u64>().ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(reset.saturating_sub(now) + 1)
    };
    let wait = retry_after.or_else(|| if exhausted { until_reset() } else { None });
    Some(RateLimit {
        wait: wait.map(Duration::from_secs),
    })
}

/// The `rel="next"` URL of a `Link` header, if any.
fn next_link(resp: &Response) -> Option<String> {
    let link = resp.headers().get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// A JSON answer, read up to 16 MiB.
fn read_json<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, String> {
    use std::io::Read;
    let mut buf = Vec::new();
    resp.take(16 * 1024 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| format!("reading the answer: {e}"))?;
    serde_json::from_slice(&buf).map_err(|e| format!("the answer is not the JSON GitHub sends: {e}"))
}

/// The body with the marker, cut to GitHub's limit with a note.
pub fn with_marker(body: &str) -> String {
    let mut s = format!("{MARKER}\n{body}");
    if s.chars().count() > MAX_COMMENT_CHARS {
        let note = "\n\n… the report is longer than GitHub allows in a comment; the job summary has all of it.\n";
        let keep = MAX_COMMENT_CHARS - note.chars().count();
        s = s.chars().take(keep).collect::<String>() + note;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_marker_and_fit_githubs_limit() {
        let b = with_marker("hello");
        assert!(b.starts_with(MARKER));
        let long = with_marker(&"x".repeat(100_000));
        assert!(long.chars().count() <= MAX_COMMENT_CHARS);
        assert!(long.ends_with("all of it.\n"));
    }

    #[test]
    fn configuration_is_checked_before_any_request() {
        assert!(matches!(
            Github::new("http://example.com", "o/r", "t"),
            Err(GithubError::Config(_))
        ));
        assert!(matches!(
            Github::new("https://api.github.com", "nope", "t"),
            Err(GithubError::Config(_))
        ));
        assert!(matches!(
            Github::new("https://api.github.com", "o/r", " "),
            Err(GithubError::Config(_))
        ));
    }
}
