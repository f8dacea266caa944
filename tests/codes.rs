//! The rule registry is the one list of rules: the README's rule table and
//! `costgate rules` show exactly its rules, in its order, with its default
//! levels, and every entry carries its texts. Input problems carry the
//! stable codes the README's table lists.

#[path = "support/report.rs"]
mod report;

use std::collections::HashSet;
use std::path::Path;

use assert_cmd::Command;
use costgate::policy::Rule;
use costgate::policy::rules::{Check, REGISTRY};
use costgate::source::{Problem, ProblemCode};

/// The first two cells of every row of the README's table under `heading`.
fn readme_table(heading: &str) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find(heading).unwrap_or_else(|| panic!("a `{heading}` section"));
    readme[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and its rule
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect()
}

fn registry_rows() -> Vec<(String, String)> {
    REGISTRY
        .iter()
        .map(|d| (d.code.to_string(), d.default_level.as_str().to_string()))
        .collect()
}

#[test]
fn the_readme_rule_table_is_the_registry() {
    assert_eq!(readme_table("### Rule codes"), registry_rows());
}

#[test]
fn costgate_rules_lists_the_registry() {
    let out = Command::cargo_bin("costgate").unwrap().arg("rules").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<(String, String, String)> = text
        .lines()
        .map(|l| {
            let mut w = l.split_whitespace();
            let code = w.next().unwrap().to_string();
            let level = w.next().unwrap().to_string();
            (code, level, w.collect::<Vec<_>>().join(" "))
        })
        .collect();
    let want: Vec<(String, String, String)> = REGISTRY
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                d.default_level.as_str().to_string(),
                d.summary.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    assert_eq!(listed, want);
}

/// Words joined by single spaces (the output wraps long texts).
fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn costgate_rules_code_prints_the_registry_entry_in_full() {
    for d in REGISTRY {
        let out = Command::cargo_bin("costgate")
            .unwrap()
            .args(["rules", d.code])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().next(), Some(d.code), "{text}");
        assert!(
            text.contains(&format!("default level: {}\n", d.default_level.as_str())),
            "{text}"
        );
        let flat = words(&text);
        for (what, want) in [
            ("summary", format!("summary: {}", words(d.summary))),
            ("fix", format!("fix: {}", words(d.help))),
            ("documentation", words(d.doc)),
        ] {
            assert!(flat.contains(&want), "{}: no {what} {want:?} in\n{text}", d.code);
        }
        // the example is a policy that sets this rule to another level
        let example = &text[text.find("[rules]").unwrap_or_else(|| panic!("{text}"))..];
        let example: String = example.lines().map(|l| format!("{}\n", l.trim())).collect();
        let policy = costgate::policy::load_str("costgate.toml", &example)
            .unwrap_or_else(|p| panic!("{}: {example}\n{p:#?}", d.code));
        assert_ne!(policy.level(d.rule), d.default_level, "{}: {example}", d.code);
    }
}

#[test]
fn costgate_rules_of_an_unknown_code_is_a_usage_error_that_echoes_it_inert() {
    let out = Command::cargo_bin("costgate")
        .unwrap()
        .args(["rules", "no-such-rule\u{1b}[31m\u{202e}"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown rule code `no-such-rule\\u{1b}[31m\\u{202e}`"),
        "{err}"
    );
    assert!(err.contains("`costgate rules` lists"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{202e}'), "{err}");
}

#[test]
fn every_registry_entry_is_complete_and_its_code_unique() {
    let mut codes = HashSet::new();
    for (i, d) in REGISTRY.iter().enumerate() {
        assert_eq!(Rule::ALL[i], d.rule, "the registry follows `Rule`");
        assert_eq!(d.rule.def().code, d.code);
        assert!(codes.insert(d.code), "{} twice", d.code);
        for (what, text) in [("summary", d.summary), ("help", d.help), ("doc", d.doc)] {
            assert!(text.trim().len() > 20, "{}: {what} too short: {text:?}", d.code);
            assert!(!text.contains("  "), "{}: {what} has a double space", d.code);
        }
    }
    // the rules judged outside the per-feature loop are the exception pass's and the portfolio's
    let outside: Vec<&str> = REGISTRY
        .iter()
        .filter(|d| !matches!(d.check, Check::Feature(_)))
        .map(|d| d.code)
        .collect();
    assert_eq!(
        outside,
        ["stale-exception", "unused-exception", "portfolio-over-budget"]
    );
}

#[test]
fn the_readme_problem_table_lists_every_problem_code() {
    let listed: Vec<String> = readme_table("### Input problem codes")
        .into_iter()
        .map(|r| r.0)
        .collect();
    let codes: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, codes);
}

/// A spec with no problem (and no finding): the one the rules' tests use.
const SPEC: &str = report::GOOD;

/// The problems of `SPEC` with `from` replaced by `to`.
fn problems(from: &str, to: &str) -> Vec<Problem> {
    assert!(SPEC.contains(from), "{from}");
    costgate::spec::load_str("s.yaml", &SPEC.replace(from, to)).expect_err("a problem")
}

fn only_code(ps: &[Problem]) -> ProblemCode {
    assert_eq!(ps.len(), 1, "{ps:#?}");
    ps[0].code
}

#[test]
fn each_kind_of_input_problem_has_its_code() {
    assert!(costgate::spec::load_str("s.yaml", SPEC).is_ok());
    let cases = [
        (
            "  max_calls: 2\n",
            "  max_calls: 2\n  max_cals: 3\n",
            ProblemCode::UnknownField,
        ),
        ("  id: good\n", "", ProblemCode::MissingField),
        (
            "price_usd_per_month: 20",
            "price_usd_per_month: twenty",
            ProblemCode::WrongType,
        ),
        (
            "price_usd_per_month: 20",
            "price_usd_per_month: -20",
            ProblemCode::OutOfRange,
        ),
        ("kind: revenue", "kind: revenu", ProblemCode::InvalidValue),
        ("  max_calls: 2\n", "  max_calls: [2\n", ProblemCode::Syntax),
    ];
    for (from, to, code) in cases {
        let ps = problems(from, to);
        assert_eq!(only_code(&ps), code, "{to:?}: {ps:#?}");
        // printed at the end of the message's line, before any hint
        let shown = ps[0].to_string();
        let first = shown.lines().next().unwrap();
        assert!(first.starts_with("s.yaml:"), "{shown}");
        assert!(first.ends_with(&format!(" [{}]", code.as_str())), "{shown}");
    }
    // the code is data: it is serialised with the problem
    let ps = problems("kind: revenue", "kind: revenu");
    assert_eq!(serde_json::to_value(&ps[0]).unwrap()["code"], "invalid-value");
}

#[test]
fn unreadable_files_and_duplicate_ids_have_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = costgate::spec::load_file(&dir.path().join("nope.yaml")).expect_err("missing");
    assert_eq!(only_code(&missing), ProblemCode::Unreadable);
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    std::fs::write(&a, SPEC).unwrap();
    std::fs::write(&b, SPEC).unwrap();
    let catalog = costgate::pricing::builtin();
    let Err(ps) = costgate::check::load_all(&[a, b], &catalog) else {
        panic!("two specs with one id loaded")
    };
    assert_eq!(only_code(&ps), ProblemCode::DuplicateId);
}

#[test]
fn the_printed_errors_carry_their_problem_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        SPEC.replace("  max_calls: 2\n", "  max_calls: 2\n  max_cals: 3\n")
            .replace("kind: revenue", "kind: revenu"),
    )
    .unwrap();
    let out = Command::cargo_bin("costgate")
        .unwrap()
        .current_dir(dir.path())
        .env("COSTGATE_TODAY", "2026-11-28")
        .args(["check", "s.yaml", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(
        errors
            .iter()
            .any(|l| l.starts_with("error: s.yaml:4:") && l.ends_with(" [invalid-value]")),
        "{err}"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.starts_with("error: s.yaml:11:") && l.ends_with(" [unknown-field]")),
        "{err}"
    );
    // the hint stays on its own line, after the code
    assert!(err.lines().any(|l| l.starts_with("  hint: ")), "{err}");
}
