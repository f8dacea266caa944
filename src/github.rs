//! One pull-request comment that updates itself.
//!
//! The comment carries a hidden marker; later runs find it among the pull
//! request's comments and edit it in place (or post a new one, as asked).
//! The token goes in the Authorization header and nowhere else: it is never
//! printed, logged or put in an error message.

use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use serde::Deserialize;

use crate::pricing::http::{self, HttpOptions};

/// Marks costgate's comment on a pull request.
pub const MARKER: &str = "<!-- costgate:report -->";

/// GitHub's limit on a comment body.
pub const MAX_COMMENT_CHARS: usize = 65_536;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Edit costgate's comment in place, or post one when there is none.
    Update,
    /// Always post a new comment.
    New,
    /// Delete costgate's earlier comments, then post a new one.
    DeleteAndNew,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64, url: String },
    Updated { id: u64, url: String },
    Unchanged { id: u64, url: String },
}

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("{0}")]
    Config(String),
    #[error("cannot reach the GitHub API at {api}: {reason}")]
    Unreachable { api: String, reason: String },
    #[error("GitHub answered {status} to {what}: {message}\n  hint: {hint}")]
    Status {
        status: u16,
        what: String,
        message: String,
        hint: String,
    },
}

pub struct Github {
    api: Url,
    repo: String,
    token: String,
    http: Client,
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
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.as_str().trim_end_matches('/'), path)
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
        what: &str,
    ) -> Result<Response, GithubError> {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(serde_json::json!({ "body": b }).to_string());
        }
        let resp = req.send().map_err(|e| GithubError::Unreachable {
            api: self.api.to_string(),
            reason: http::describe(&e),
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let message = read_json::<ErrorBody>(resp).map(|e| e.message).unwrap_or_default();
        let message = if message.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            message
        };
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
        Err(GithubError::Status {
            status: status.as_u16(),
            what: what.to_string(),
            message,
            hint,
        })
    }

    /// costgate's comments on the pull request, oldest first.
    fn ours(&self, pr: u64) -> Result<Vec<Comment>, GithubError> {
        let mut out = Vec::new();
        for page in 1..=50 {
            let path = format!("/repos/{}/issues/{pr}/comments?per_page=100&page={page}", self.repo);
            let resp = self.send(reqwest::Method::GET, &path, None, "listing the pull request's comments")?;
            let batch: Vec<Comment> = read_json(resp).map_err(|reason| GithubError::Unreachable {
                api: self.api.to_string(),
                reason: format!("unexpected answer listing comments: {reason}"),
            })?;
            let n = batch.len();
            out.extend(batch.into_iter().filter(|c| c.body.contains(MARKER)));
            if n < 100 {
                break;
            }
        }
        Ok(out)
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
                api: self.api.to_string(),
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
            api: self.api.to_string(),
            reason,
        })?;
        Ok(Outcome::Created {
            id: c.id,
            url: c.html_url,
        })
    }
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
