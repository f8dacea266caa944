//! GitLab's Code Quality report (`check --format gitlab`): the JSON array,
//! a subset of the CodeClimate issue format, that GitLab reads from a job's
//! `artifacts:reports:codequality` and shows in the merge request widget.
//! One object a shown finding, with the fields GitLab documents:
//! `description`, `check_name` (the rule code), `fingerprint`, `severity`,
//! `location.path` (relative to the directory costgate ran in, normally the
//! repository root) and `location.lines.begin` (1 when the finding points
//! at no line). A clean run is the empty array `[]`.
//!
//! Severities: `deny` -> `blocker`, an `approve` finding no approval
//! covers -> `critical`, `warn` -> `minor`; a finding an approval covers or
//! a policy exception lowered to `allow` -> `info`. The fingerprint is the
//! one SARIF writes (`partialFingerprints`): stable across runs and edits
//! elsewhere in the spec, so GitLab tells new findings from fixed ones.

use serde_json::{Value, json};

use crate::outcome::{CheckReport, FeatureReport};
use crate::policy::{Finding, Level};

use super::sarif::{display_path, fingerprint, remedy_text, shown};

/// GitLab's severity for a finding (info, minor, major, critical, blocker).
pub(crate) fn severity(x: &Finding) -> &'static str {
    if x.exception.is_some() || x.is_approved() {
        return "info";
    }
    match x.level {
        Level::Deny => "blocker",
        Level::Approve => "critical",
        Level::Warn => "minor",
        Level::Allow => "info",
    }
}

/// A path as GitLab wants it: relative, `/`-separated, no leading `./`.
fn repo_path(path: &str) -> String {
    let mut p = display_path(path);
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    p
}

fn issue(f: &FeatureReport, x: &Finding, k: usize) -> Value {
    let remedy = remedy_text(x);
    let (file, line) = match &x.span {
        Some(s) => (s.file.to_string(), s.line.max(1)),
        None => (f.file.clone(), 1),
    };
    let stop = if x.message.ends_with(['.', '!', '?']) { "" } else { "." };
    let description = format!("costgate {} ({}): {}{stop} {remedy}", f.id, x.level.as_str(), x.message);
    json!({
        "description": crate::untrusted::cleaned(description),
        "check_name": x.rule.code(),
        "fingerprint": fingerprint(f, x, k),
        "severity": severity(x),
        "location": {
            "path": repo_path(&file),
            "lines": {"begin": line}
        }
    })
}

/// The Code Quality report of a run: a JSON array, one issue a finding.
pub fn render(r: &CheckReport) -> String {
    let issues: Vec<Value> = shown(r).into_iter().map(|(f, x, k)| issue(f, x, k)).collect();
    let mut s = crate::untrusted::json_inert(serde_json::to_string_pretty(&issues).expect("issues serialise"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_a_leading_dot_slash() {
        assert_eq!(repo_path("./specs/a.yaml"), "specs/a.yaml");
        assert_eq!(repo_path("././specs/a.yaml"), "specs/a.yaml");
        assert_eq!(repo_path("specs\\a.yaml"), "specs/a.yaml");
    }
}
