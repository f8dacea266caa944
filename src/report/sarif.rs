//! SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning and
//! others): every rule with its help text, every finding with the spec file,
//! line and column. Levels: `deny` -> error, `approve` -> warning,
//! `warn` -> note. A finding a policy exception lowered to `allow`, and an
//! `approve` finding a valid approval covers, are reported as suppressed
//! (`accepted`), with the reason as the justification.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::outcome::Remedy;
use crate::outcome::{CheckReport, FeatureReport};
use crate::policy::{Finding, Level, Rule};

pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Approve => "warning",
        Level::Warn => "note",
        Level::Allow => "none",
    }
}

/// "UnboundedWorstCase" from "unbounded-worst-case".
fn pascal(code: &str) -> String {
    code.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or(String::new(), |f| f.to_ascii_uppercase().to_string() + c.as_str())
        })
        .collect()
}

/// A path as CI tools want it: relative to the current directory (normally
/// the repository root) when it lies under it, with `/` separators.
pub fn display_path(path: &str) -> String {
    let p = std::path::Path::new(path);
    let rel = match std::env::current_dir() {
        Ok(cwd) if p.is_absolute() => p.strip_prefix(&cwd).unwrap_or(p),
        _ => p,
    };
    rel.to_string_lossy().replace('\\', "/")
}

/// A URI reference for a path: relative paths stay relative (to the
/// directory costgate ran in, normally the repository root), absolute ones
/// become `file://` URIs; characters URIs do not allow are percent-encoded.
pub fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut o = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    if p.starts_with('/') { format!("file://{o}") } else { o }
}

fn rule_descriptor(r: Rule) -> Value {
    let help = format!(
        "{}\n\nDefault level: {} (set per rule in costgate.toml under [rules]). Each result says what to change.",
        r.summary(),
        r.default_level().as_str()
    );
    json!({
        "id": r.code(),
        "name": pascal(r.code()),
        "shortDescription": {"text": r.summary()},
        "fullDescription": {"text": r.summary()},
        "help": {"text": help, "markdown": help},
        "defaultConfiguration": {"level": level(r.default_level())},
        "properties": {"tags": ["costgate", "unit-economics"]}
    })
}

/// What to do about a finding, in a sentence (SARIF and GitLab messages).
pub(crate) fn remedy_text(x: &Finding) -> String {
    match x.remedy() {
        Remedy::Excepted(e) => format!("Excepted by policy: {e}"),
        Remedy::Approval { covered: true, note } => format!("Approved: {note}"),
        Remedy::Approval { covered: false, note } => {
            format!("The approval does not cover it: {note}. Fix: {}", x.help)
        }
        Remedy::Fix(help) => format!("Fix: {help}"),
    }
}

fn result(f: &FeatureReport, x: &Finding, k: usize) -> Value {
    let remedy = remedy_text(x);
    let (file, region) = match &x.span {
        Some(s) if s.line > 0 => (
            s.file.to_string(),
            Some(json!({"startLine": s.line, "startColumn": s.column.max(1)})),
        ),
        Some(s) => (s.file.to_string(), None),
        None => (f.file.clone(), None),
    };
    let mut physical = json!({"artifactLocation": {"uri": uri(&display_path(&file))}});
    if let Some(r) = region {
        physical["region"] = r;
    }
    let digest = fingerprint(f, x, k);
    let mut props = json!({"feature": f.id, "costgateLevel": x.level.as_str()});
    if let Some(fig) = &x.figure {
        props["figure"] = json!(fig);
    }
    let mut v = json!({
        "ruleId": x.rule.code(),
        "ruleIndex": Rule::ALL.iter().position(|r| *r == x.rule).unwrap_or(0),
        "level": level(x.level),
        "message": {"text": format!("{} {remedy}", x.message)},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"name": f.id, "kind": "module"}]
        }],
        "partialFingerprints": {"costgateFinding/v1": digest},
        "properties": props
    });
    let suppression = if let Some(e) = &x.exception {
        Some(format!("excepted by policy: {e}"))
    } else {
        x.approval
            .as_ref()
            .filter(|a| a.covered)
            .map(|a| format!("approved: {}", a.note))
    };
    if let Some(j) = suppression {
        v["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": j}]);
    }
    v
}

/// The findings reports show, each with its rank among the feature's
/// findings of the same rule (0 for the first), in report order.
pub(crate) fn shown(r: &CheckReport) -> Vec<(&FeatureReport, &Finding, usize)> {
    let mut out = Vec::new();
    for f in &r.features {
        let mut seen: Vec<(Rule, usize)> = Vec::new();
        for x in &f.findings {
            if !x.is_shown() {
                continue;
            }
            let k = match seen.iter_mut().find(|(r, _)| *r == x.rule) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    seen.push((x.rule, 1));
                    0
                }
            };
            out.push((f, x, k));
        }
    }
    out
}

/// A finding's identity across runs (32 hex digits): the feature id, the
/// rule, the spec field it points at and its rank `k` among the feature's
/// findings of that rule; not the line, the figure or the wording, so an
/// edit elsewhere in the spec or a new price keeps it. Feature ids are
/// unique in a run, so two findings of one run never share it.
pub(crate) fn fingerprint(f: &FeatureReport, x: &Finding, k: usize) -> String {
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{k}",
        f.id,
        x.rule.code(),
        x.span.as_ref().map_or("", |s| s.path.as_str())
    );
    Sha256::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SARIF log of a run.
pub fn render(r: &CheckReport) -> String {
    let results: Vec<Value> = shown(r).into_iter().map(|(f, x, k)| result(f, x, k)).collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "costgate",
                "version": r.costgate_version,
                "semanticVersion": r.costgate_version,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": Rule::ALL.iter().map(|r| rule_descriptor(*r)).collect::<Vec<_>>()
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "verdict": r.verdict,
                "exitCode": r.exit_code,
                "policy": r.policy,
                "seed": r.seed,
                "trials": r.trials,
                "today": r.today
            }
        }]
    });
    let mut s = crate::untrusted::json_inert(serde_json::to_string_pretty(&log).expect("SARIF serialises"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("specs/a b.yaml"), "specs/a%20b.yaml");
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(pascal("unbounded-worst-case"), "UnboundedWorstCase");
    }
}
