//! `costgate comment github`: the report as one self-updating PR comment.

use costgate::github::{Behavior, Github, MARKER, MAX_COMMENT_CHARS, Outcome};
use costgate::report::markdown;
use costgate::untrusted::clean;

use super::check::{EmptyFolder, Notes};
use super::{CommentArgs, CommentBehavior, CommentGithubArgs, CommentTarget, Failure};

pub fn run(a: &CommentArgs) -> Result<i32, Failure> {
    match &a.target {
        CommentTarget::Github(g) => github(g),
    }
}

fn github(a: &CommentGithubArgs) -> Result<i32, Failure> {
    super::check::gate_trials(&a.run.sim, "comment")?;
    let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
    if token.trim().is_empty() {
        return Err(Failure::Usage(
            "GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}` and the job `permissions: pull-requests: write`".into(),
        ));
    }
    let repo =
        a.repo.clone().filter(|r| !r.is_empty()).ok_or_else(|| {
            Failure::Usage("which repository? give --repo owner/name or set GITHUB_REPOSITORY".into())
        })?;
    let deployed = super::check::read_runtime(&a.runtime)?;
    let report = super::check::produce_with(
        &a.paths,
        &a.run,
        Notes::Quiet,
        EmptyFolder::Refused,
        None,
        deployed.as_ref(),
    )?;
    super::check::warn_few_trials(&report, &a.run.sim);
    let diff = match &a.base_ref {
        Some(rev) => {
            let base = super::check::produce_at_ref_with(rev, &a.paths, &a.run, &a.runtime)?;
            let d = costgate::diff::compare(&base, &report, rev, "this pull request");
            Some(costgate::diff::render_markdown(&d))
        }
        None => None,
    };
    // The diff first (what this change does), then the report in the room left.
    let head = diff.map(|d| format!("{d}\n")).unwrap_or_default();
    let room = MAX_COMMENT_CHARS.saturating_sub(head.chars().count() + MARKER.chars().count() + 1);
    let body = format!("{head}{}", markdown::render_within(&report, room));
    let api = Github::new(&a.api_url, &repo, &token).map_err(|e| Failure::Usage(e.to_string()))?;
    let behavior = match a.behavior {
        CommentBehavior::Update => Behavior::Update,
        CommentBehavior::New => Behavior::New,
        CommentBehavior::DeleteAndNew => Behavior::DeleteAndNew,
    };
    let outcome = api
        .sync(a.pr, &body, behavior, a.skip_if_unchanged)
        .map_err(|e| Failure::Unavailable(e.to_string()))?;
    match outcome {
        Outcome::Created { url, .. } => {
            eprintln!("costgate: posted the report on pull request #{}: {}", a.pr, clean(&url))
        }
        Outcome::Updated { url, .. } => eprintln!(
            "costgate: updated the report on pull request #{}: {}",
            a.pr,
            clean(&url)
        ),
        Outcome::Unchanged { url, .. } => {
            eprintln!(
                "costgate: the report on pull request #{} is unchanged: {}",
                a.pr,
                clean(&url)
            )
        }
    }
    Ok(report.exit_code)
}
