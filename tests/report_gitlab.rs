//! `check --format gitlab`: GitLab's Code Quality report, checked against
//! the format GitLab documents (docs.gitlab.com/ci/testing/code_quality,
//! "Code Quality report format": a JSON array of objects with
//! `description`, `check_name`, `fingerprint`, `severity` one of info,
//! minor, major, critical, blocker, `location.path` relative to the
//! repository without a leading `./`, and `location.lines.begin`), pinned
//! for the examples, with stable and distinct fingerprints, one issue a
//! finding, `[]` when clean, and inert strings.
//!
//! Update the snapshot with `INSTA_UPDATE=always cargo test --test report_gitlab`.

#[path = "support/cmd.rs"]
mod cmd;

#[path = "support/report.rs"]
mod report;

use std::collections::BTreeSet;
use std::path::PathBuf;

use costgate::policy::{Level, Policy};
use costgate::report::{CheckReport, gitlab};
use serde_json::{Value, json};

fn examples(trials: usize) -> CheckReport {
    cmd::assert_in_manifest_dir();
    report::check(&Policy::default(), vec![PathBuf::from("specs")], trials)
}

/// GitLab's documented Code Quality fields as a JSON Schema (GitLab
/// publishes the table, not a schema): every documented field required,
/// with its type; `severity` from the documented list; paths relative.
fn documented_format() -> jsonschema::Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "array",
        "items": {
            "type": "object",
            "required": ["description", "check_name", "fingerprint", "severity", "location"],
            "properties": {
                "description": {"type": "string", "minLength": 1},
                "check_name": {"type": "string", "minLength": 1},
                "fingerprint": {"type": "string", "minLength": 1},
                "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
                "location": {
                    "type": "object",
                    "required": ["path", "lines"],
                    "properties": {
                        "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(\\./|/)"}},
                        "lines": {
                            "type": "object",
                            "required": ["begin"],
                            "properties": {"begin": {"type": "integer", "minimum": 1}}
                        }
                    }
                }
            }
        }
    });
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn parse(text: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(text)
        .expect("the report is JSON")
        .as_array()
        .expect("the report is an array")
        .clone()
}

#[test]
fn gitlab_of_the_examples() {
    insta::assert_snapshot!(gitlab::render(&examples(500)));
}

#[test]
fn every_issue_has_the_documented_fields_and_one_issue_a_finding() {
    let r = examples(500);
    let text = gitlab::render(&r);
    let issues = parse(&text);
    let v = documented_format();
    let value: Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // the schema does reject what GitLab would not read
    let mut bad = value.clone();
    bad[0]["severity"] = "error".into();
    assert!(!v.is_valid(&bad));
    let mut bad = value.clone();
    bad[0]["location"]["path"] = "./specs/x.yaml".into();
    assert!(!v.is_valid(&bad));

    // one issue a shown finding, in report order, with its rule and line
    let shown: Vec<_> = r
        .features
        .iter()
        .flat_map(|f| f.findings.iter().filter(|x| x.is_shown()).map(move |x| (f, x)))
        .collect();
    assert_eq!(issues.len(), shown.len());
    assert!(!issues.is_empty(), "the examples have findings");
    for (i, (f, x)) in issues.iter().zip(&shown) {
        assert_eq!(i["check_name"], x.rule.code());
        let path = i["location"]["path"].as_str().unwrap();
        assert!(path.starts_with("specs/"), "{path}");
        assert!(PathBuf::from(path).is_file(), "{path} is a file of the repository");
        let line = i["location"]["lines"]["begin"].as_u64().unwrap();
        match &x.span {
            Some(s) if s.line > 0 => assert_eq!(line, u64::from(s.line)),
            _ => assert_eq!(line, 1),
        }
        let d = i["description"].as_str().unwrap();
        assert!(d.contains(&f.id) && d.contains(&x.message), "{d}");
        let expected = if x.exception.is_some() || x.is_approved() {
            "info"
        } else {
            match x.level {
                Level::Deny => "blocker",
                Level::Approve => "critical",
                Level::Warn => "minor",
                Level::Allow => "info",
            }
        };
        assert_eq!(i["severity"], expected, "{d}");
    }
    // the examples cover a blocking, an approval and a warning finding
    let severities: BTreeSet<&str> = issues.iter().map(|i| i["severity"].as_str().unwrap()).collect();
    assert!(
        severities.is_superset(&BTreeSet::from(["blocker", "critical", "minor"])),
        "{severities:?}"
    );
}

fn fingerprints(r: &CheckReport) -> Vec<String> {
    parse(&gitlab::render(r))
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fingerprints_are_stable_across_runs_and_distinct_between_findings() {
    let a = fingerprints(&examples(500));
    // other trials move every simulated figure; the findings stay the same
    let b = fingerprints(&examples(800));
    assert_eq!(a, b);
    let distinct: BTreeSet<&String> = a.iter().collect();
    assert_eq!(distinct.len(), a.len(), "two findings share a fingerprint: {a:?}");
    assert!(
        a.iter()
            .all(|f| f.len() == 32 && f.bytes().all(|c| c.is_ascii_hexdigit()))
    );

    // the same finding keeps its fingerprint when lines above it move
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("specs/enterprise-copilot.yaml").unwrap();
    let moved = dir.path().join("enterprise-copilot.yaml");
    std::fs::write(&moved, format!("# a comment\n# another\n{text}")).unwrap();
    let orig = parse(&gitlab::render(&report::check(
        &Policy::default(),
        vec![PathBuf::from("specs/enterprise-copilot.yaml")],
        500,
    )));
    let shifted = parse(&gitlab::render(&report::check(&Policy::default(), vec![moved], 500)));
    assert_eq!(orig.len(), shifted.len());
    for (o, s) in orig.iter().zip(&shifted) {
        assert_eq!(o["fingerprint"], s["fingerprint"]);
        assert_eq!(
            o["location"]["lines"]["begin"].as_u64().unwrap() + 2,
            s["location"]["lines"]["begin"].as_u64().unwrap()
        );
    }
}

#[test]
fn a_clean_run_is_an_empty_array() {
    cmd::assert_in_manifest_dir();
    let r = report::check(
        &Policy::default(),
        vec![PathBuf::from("specs/tiered-assistant.yaml")],
        500,
    );
    assert!(
        r.features[0].findings.iter().all(|x| !x.is_shown()),
        "the example passes"
    );
    assert_eq!(gitlab::render(&r), "[]\n");
}

#[test]
fn strings_from_a_spec_are_inert() {
    // a tier name with an ANSI escape, a line break that opens a workflow
    // command, a right-to-left override and a C1 control: it is in the
    // approval finding's message
    let text = std::fs::read_to_string(report::example("support-assistant.yaml")).unwrap();
    let hostile = text.replace(
        "  - name: workspace\n",
        "  - name: \"ws\\e[31m\\n::error::x\\u202Eevil\\u0085\"\n",
    );
    assert_ne!(hostile, text);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("hostile.yaml");
    std::fs::write(&spec, hostile).unwrap();
    let out = gitlab::render(&report::check(&Policy::default(), vec![spec], 300));
    assert!(out.contains("::error::x"), "the tier name is in a description: {out}");
    for c in out.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{2066}'..='\u{2069}').contains(&c) || c == '\u{202e}'),
            "raw {c:?} in the report"
        );
    }
    for i in parse(&out) {
        let d = i["description"].as_str().unwrap();
        assert!(!d.chars().any(|c| c.is_control() || c == '\u{202e}'), "{d:?}");
        assert!(!d.contains('\n'));
    }
}

#[test]
fn the_cli_writes_it_with_the_gate_exit_code() {
    cmd::assert_in_manifest_dir();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gl-code-quality-report.json");
    cmd::costgate_on(report::TODAY)
        .args(["check", "specs/", "--trials", "2000", "--format", "gitlab", "-o"])
        .arg(&out)
        .assert()
        .code(1);
    let issues = parse(&std::fs::read_to_string(&out).unwrap());
    assert!(issues.iter().any(|i| i["severity"] == "blocker"));
    cmd::costgate_on(report::TODAY)
        .args([
            "check",
            "specs/tiered-assistant.yaml",
            "--trials",
            "2000",
            "--format",
            "gitlab",
        ])
        .assert()
        .code(0)
        .stdout("[]\n");
}
