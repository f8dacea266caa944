//! The report formats of one example, pinned (Markdown, SARIF, JUnit), and
//! what each format promises: SARIF valid against the 2.1.0 schema, JUnit
//! well-formed XML with one case per feature and rule, GitHub annotations
//! escaped, Markdown under GitHub's comment limit, and every string from a
//! spec shown as text, never markup.
//!
//! Update the snapshots with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test report_formats`, then `git diff`).

#[path = "support/cmd.rs"]
mod cmd;

#[path = "support/report.rs"]
mod report;

use std::path::{Path, PathBuf};

use costgate::policy::{Level, Policy, Rule};
use costgate::report::{CheckReport, github, html, junit, markdown, sarif};

fn report_of(paths: Vec<PathBuf>) -> CheckReport {
    report::check(&Policy::default(), paths, 500)
}

/// An example, with the path as a user in the repository root types it.
fn example(spec: &str) -> CheckReport {
    cmd::assert_in_manifest_dir();
    report_of(vec![PathBuf::from("specs").join(spec)])
}

#[test]
fn markdown_of_the_approval_example() {
    insta::assert_snapshot!(markdown::render(&example("support-assistant.yaml")));
}

#[test]
fn sarif_of_the_approval_example() {
    insta::assert_snapshot!(sarif::render(&example("support-assistant.yaml")));
}

#[test]
fn junit_of_the_approval_example() {
    insta::assert_snapshot!(junit::render(&example("support-assistant.yaml")));
}

fn sarif_validator() -> jsonschema::Validator {
    // The SARIF 2.1.0 schema (its final, "rtm.5" text), from Microsoft's
    // MIT-licensed @microsoft/jest-sarif package; see fixtures/sarif-2.1.0-rtm.5.NOTICE.md.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sarif-2.1.0-rtm.5.json")).unwrap();
    // Its `run.language` pattern has a stray `]` that an ECMA regex in
    // unicode mode rejects, so the schema itself would not compile; read it
    // as the two-letter language tag it means. costgate writes no `language`.
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(bad), "the fixture is the published schema");
    let text = text.replace(bad, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let v = sarif_validator();
    // every example: blocked, needs approval, passing
    cmd::assert_in_manifest_dir();
    let r = report_of(vec![PathBuf::from("specs")]);
    let log: serde_json::Value = serde_json::from_str(&sarif::render(&r)).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // the validator does reject what is not SARIF
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad));

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Rule::ALL.len());
    assert!(rules.iter().all(|r| !r["help"]["text"].as_str().unwrap().is_empty()));
    let results = run["results"].as_array().unwrap();
    let by_rule = |id: &str| results.iter().find(|x| x["ruleId"] == id).unwrap();
    // deny -> error, approve -> warning, warn -> note; with file, line, column
    let e = by_rule("unbounded-worst-case");
    assert_eq!(e["level"], "error");
    let loc = &e["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "specs/enterprise-copilot.yaml");
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
    assert!(loc["region"]["startColumn"].as_u64().unwrap() > 0);
    assert_eq!(by_rule("cost-revenue-needs-approval")["level"], "warning");
    assert_eq!(by_rule("costs-more-than-baseline")["level"], "note");
    for x in results {
        let idx = x["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], x["ruleId"]);
    }
}

#[test]
fn junit_is_xml_with_a_case_per_feature_and_rule() {
    cmd::assert_in_manifest_dir();
    let r = report_of(vec![PathBuf::from("specs")]);
    let xml = junit::render(&r);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), r.features.len());
    let total: usize = root.attribute("tests").unwrap().parse().unwrap();
    assert_eq!(total, r.features.len() * Rule::ALL.len());
    for (s, f) in suites.iter().zip(&r.features) {
        assert_eq!(s.attribute("name"), Some(f.id.as_str()));
        let cases: Vec<_> = s.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), Rule::ALL.len());
        let failures = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(s.attribute("failures").unwrap().parse::<usize>().unwrap(), failures);
        // a case fails exactly when its rule has a deny or an uncovered approve finding
        for (c, rule) in cases.iter().zip(Rule::ALL) {
            let failing = f.findings.iter().any(|x| {
                x.rule == *rule
                    && (x.level == Level::Deny
                        || (x.level == Level::Approve && !x.approval.as_ref().is_some_and(|a| a.covered)))
            });
            let failure = c.children().find(|n| n.has_tag_name("failure"));
            assert_eq!(failure.is_some(), failing, "{} {}", f.id, rule.code());
            if let Some(fl) = failure {
                let kind = fl.attribute("type").unwrap();
                assert!(kind == "deny" || kind == "approve");
                assert!(c.attribute("line").is_some(), "failures point at the spec line");
            }
        }
    }
}

#[test]
fn github_annotations_point_at_spec_lines_and_are_escaped() {
    let r = example("enterprise-copilot.yaml");
    let out = github::render(&r);
    let lines: Vec<&str> = out.lines().collect();
    let err = lines.iter().find(|l| l.contains("unbounded-worst-case")).unwrap();
    assert!(
        err.starts_with("::error file=specs/enterprise-copilot.yaml,line="),
        "{err}"
    );
    assert!(err.contains(",col="));
    // properties escape `:` and `,`; the title has a colon
    assert!(
        err.contains("title=costgate%3A unbounded-worst-case (blocks)::"),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning ") && l.contains("cost-revenue-needs-approval"))
    );
    assert!(lines.last().unwrap().starts_with("costgate: 1 feature checked"));
    assert_eq!(github::escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
    assert_eq!(github::escape_property("x,y:z"), "x%2Cy%3Az");
}

#[test]
fn markdown_stays_under_githubs_comment_limit() {
    let one = example("support-assistant.yaml");
    let mut r = one.clone();
    for i in 0..150 {
        let mut f = one.features[0].clone();
        f.id = format!("copy-{i}");
        f.name = format!("Copy {i} of the assistant");
        r.features.push(f);
    }
    let md = markdown::render(&r);
    assert!(
        md.chars().count() <= markdown::GITHUB_COMMENT_LIMIT,
        "{}",
        md.chars().count()
    );
    assert!(
        md.contains("Shortened to stay under GitHub's 65536-character limit"),
        "{md}"
    );
    // the overview still counts every feature
    assert!(md.starts_with("# 🟡 costgate: 151 features checked"));
    // a small report is whole, without the note
    let small = markdown::render(&one);
    assert!(!small.contains("Shortened"));
    assert!(small.contains("### Sign-off"));
}

const HOSTILE: &str = r#"costgate: 1
feature:
  id: xss
  name: "<script>alert(1)</script>"
  owner: "<img src=x onerror=alert(2)> @everyone"
  value: {kind: retention, unit: "<b>ticket</b> | [link](javascript:alert(3))", units_per_interaction: 0.25, usd_per_unit: 6}
  baseline: {name: "</td><script>alert(4)</script>", monthly_usd: 100}
models:
  primary: claude-sonnet-4-5
interaction:
  input_tokens: 1000
  output_tokens: 300
  max_calls: 2
  max_input_tokens: 4000
  max_output_tokens: 1000
usage:
  active_share: 0.5
  interactions_per_active_day: 4
tiers:
  - name: "<script>alert(5)</script>"
    users: 1000
    price_usd_per_month: 1
    model: primary
    limit: {daily_tokens: 50000, on_limit: block, message: "<script>alert(6)</script> used {used}/{limit}, resets {reset}"}
scenarios:
  - {name: "<svg onload=alert(7)>", chance: 0.1, usage_multiplier: 3, days: 2}
"#;

#[test]
fn strings_from_a_spec_are_text_in_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("xss.yaml");
    std::fs::write(&spec, HOSTILE).unwrap();
    let r = report_of(vec![spec]);

    let page = html::render(&r);
    let lower = page.to_lowercase();
    assert!(!lower.contains("<script"), "a script tag got through");
    assert!(!lower.contains("<img"), "an img tag got through");
    assert!(!lower.contains("<svg onload"), "an svg handler got through");
    assert!(!lower.contains("</td><script"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name shows as text"
    );
    assert!(page.contains("&lt;svg onload=alert(7)&gt;"));
    // no external request can be made, and none is written
    assert!(page.contains("Content-Security-Policy"));
    assert!(!lower.contains("src=\""));
    for href in page.match_indices("href=\"").map(|(i, _)| &page[i + 6..]) {
        assert!(
            href.starts_with('#') || href.starts_with("data:"),
            "{}",
            &href[..40.min(href.len())]
        );
    }

    let md = markdown::render(&r);
    assert!(!md.contains("<script"), "a script tag got through the Markdown");
    assert!(!md.contains("<img"));
    assert!(!md.contains("<b>"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("\\[link\\](javascript:alert(3))"), "the link shows as text");
    assert!(
        !md.replace("\\]", "").contains("](javascript:"),
        "a link got through the Markdown"
    );
    assert!(!md.contains("@everyone"), "a mention got through the Markdown");
    // the only raw HTML is the report's own folding of the assumptions
    for tag in md.match_indices('<').map(|(i, _)| &md[i..]) {
        assert!(
            ["<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>"]
                .iter()
                .any(|t| tag.starts_with(t)),
            "raw HTML in the Markdown: {}",
            &tag[..30.min(tag.len())]
        );
    }

    let xml = junit::render(&r);
    roxmltree::Document::parse(&xml).expect("hostile names keep the JUnit well-formed");
    let log: serde_json::Value = serde_json::from_str(&sarif::render(&r)).unwrap();
    assert!(sarif_validator().is_valid(&log));
}
