//! Every format reads its figures and decisions from the one report model:
//! the label of the policy's confidence is the same everywhere whatever the
//! confidence (never a hard-coded `p95`, never 0.975 rounded to `98%`), a
//! finding an exception covers says so in every format (JUnit included),
//! and the terminal says the central-inputs month sits below p50 only when
//! it does.

#[path = "support/report.rs"]
mod report;

use std::path::PathBuf;

use costgate::policy::{Level, Policy, load_str};
use costgate::report::{CheckReport, github, html, json, junit, markdown, sarif, table};

fn spec(name: &str) -> PathBuf {
    report::example(name)
}

fn report_with(policy: &Policy, paths: Vec<PathBuf>) -> CheckReport {
    report::check(policy, paths, 500)
}

fn policy(confidence: &str) -> Policy {
    load_str("costgate.toml", &format!("[thresholds]\nconfidence = {confidence}\n")).unwrap()
}

/// Every text format of a run, and the diff of the run against itself.
fn every_format(r: &CheckReport) -> Vec<(&'static str, String)> {
    let d = costgate::diff::compare(r, r, "base", "head");
    vec![
        (
            "terminal",
            table::render(
                r,
                table::Style {
                    color: false,
                    width: None,
                },
            ),
        ),
        ("markdown", markdown::render(r)),
        ("html", html::render(r)),
        ("sarif", sarif::render(r)),
        ("junit", junit::render(r)),
        ("github", github::render(r)),
        ("diff markdown", costgate::diff::render_markdown(&d)),
        ("diff table", costgate::diff::render_table(&d)),
    ]
}

/// The text with the names that contain `p95` whatever the confidence (the
/// `p95_monthly_usd` threshold, the `p95-over-budget` rule, a spec input's
/// `p95` field) taken out.
fn without_fixed_names(s: &str) -> String {
    let mut s = s
        .replace("p95_monthly_usd", "")
        .replace(r"p95\_monthly\_usd", "")
        .replace("p95-over-budget", "")
        .replace("P95OverBudget", "");
    // a spec input given as {p50, p95}: "lognormal p50 2 · p95 5", "calls.p95"
    for pat in [" · p95 ", ".p95", "p95: "] {
        s = s.replace(pat, "");
    }
    s
}

fn assert_labels(confidence: &str, hi: &str, hi_pct: &str, lo: &str, wrong: &[&str]) {
    let r = report_with(
        &policy(confidence),
        vec![spec("support-assistant.yaml"), spec("tiered-assistant.yaml")],
    );
    let c: f64 = confidence.parse().unwrap();
    for f in &r.features {
        assert_eq!(f.thresholds.confidence, c);
    }
    for (name, out) in every_format(&r) {
        let rest = without_fixed_names(&out);
        for w in wrong {
            assert!(
                !rest.contains(w),
                "{name} says {w:?} at confidence {confidence}:\n{out}"
            );
        }
        let wants: &[&str] = match name {
            "terminal" => &[
                &format!("bad month at {hi_pct}"),
                &format!("cost {hi}"),
                &format!("revenue {lo}"),
                &format!("cost and cost / revenue at {hi}, revenue and margin at {lo}"),
            ],
            "markdown" | "html" => &[
                &format!("bad month at {hi_pct}"),
                &format!("Monthly cost, {hi}"),
                &format!("at the policy&#39;s {hi_pct} confidence"),
                &format!("revenue {lo}"),
            ],
            "diff markdown" => &[
                &format!("| central inputs | bad month at {hi_pct} |"),
                &format!("cost / revenue ({hi})"),
            ],
            "diff table" => &["central inputs", &format!("bad month at {hi_pct}")],
            // the rule messages: "... at p99 of the simulated month"
            "sarif" | "junit" | "github" => &[&format!("at {hi} of the simulated month")],
            _ => &[],
        };
        for want in wants {
            // Markdown does not escape the apostrophe HTML does
            let want = if name == "markdown" {
                want.replace("&#39;", "'")
            } else {
                want.to_string()
            };
            assert!(
                out.contains(&want),
                "{name} lacks {want:?} at confidence {confidence}:\n{out}"
            );
        }
    }
    // the JSON carries the confidence and the quantile of each figure
    let v: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
    for f in v["features"].as_array().unwrap() {
        assert_eq!(f["thresholds"]["confidence"], c);
        let sim = &f["simulation"];
        assert_eq!(sim["cost"]["at_quantile"], c);
        assert_eq!(sim["cost_revenue_ratio"]["at_quantile"], c);
        let low = sim["revenue"]["at_quantile"].as_f64().unwrap();
        assert_eq!(costgate::fmt::quantile_label(low), lo);
        assert_eq!(sim["margin"]["at_quantile"].as_f64().unwrap(), low);
    }
}

#[test]
fn every_format_labels_a_99_percent_confidence_p99() {
    assert_labels("0.99", "p99", "99%", "p1", &["p95", "95%"]);
}

#[test]
fn every_format_labels_a_97_5_percent_confidence_p97_5() {
    // 0.975 was "98%" in the month table's header and "p98" in the verdict
    assert_labels("0.975", "p97.5", "97.5%", "p2.5", &["p95", "95%", "p98", "98%"]);
}

#[test]
fn the_default_confidence_is_still_labelled_p95() {
    let r = report_with(&Policy::default(), vec![spec("support-assistant.yaml")]);
    let t = table::render(
        &r,
        table::Style {
            color: false,
            width: None,
        },
    );
    assert!(t.contains("bad month at 95%"), "{t}");
    assert!(t.contains("cost p95"), "{t}");
}

/// The support example with one rule's findings replaced by a warning and
/// a finding a policy exception lowered to `allow`.
fn with_an_excepted_finding() -> CheckReport {
    let mut r = report_with(&Policy::default(), vec![spec("support-assistant.yaml")]);
    let f = &mut r.features[0];
    let base = f.findings[0].clone();
    f.findings.retain(|x| x.rule != base.rule);
    let mut warned = base.clone();
    warned.level = Level::Warn;
    warned.message = "a warned finding".into();
    warned.help = "change the other thing".into();
    warned.exception = None;
    warned.approval = None;
    let mut excepted = base.clone();
    excepted.level = Level::Allow;
    excepted.message = "an excepted finding".into();
    excepted.help = "change the thing".into();
    excepted.exception = Some("agreed with finance (until 2027-06-30)".into());
    excepted.approval = None;
    f.findings.push(warned);
    f.findings.push(excepted);
    r
}

#[test]
fn junit_names_the_exception_not_a_fix_for_an_excepted_finding() {
    let r = with_an_excepted_finding();
    let x = junit::render(&r);
    assert!(
        x.contains("allow: an excepted finding"),
        "the excepted finding is listed with the warning: {x}"
    );
    assert!(
        x.contains("excepted by policy: agreed with finance (until 2027-06-30)"),
        "{x}"
    );
    assert!(!x.contains("fix: change the thing"), "{x}");
    // the warning beside it still says what to change
    assert!(x.contains("fix: change the other thing"), "{x}");
    // as the other formats say
    let t = table::render(
        &r,
        table::Style {
            color: false,
            width: None,
        },
    );
    assert!(t.contains("excepted by policy: agreed with finance"), "{t}");
    assert!(!t.contains("fix: change the thing"), "{t}");
    let s = sarif::render(&r);
    assert!(s.contains("Excepted by policy: agreed with finance"), "{s}");
    assert!(!s.contains("Fix: change the thing"), "{s}");
    let m = markdown::render(&r);
    assert!(!m.contains("fix: change the thing"), "{m}");
}

const BELOW: &str = "It sits below p50 because a month";

#[test]
fn the_terminal_says_central_inputs_sit_below_p50_when_they_do() {
    let r = report_with(&Policy::default(), vec![spec("support-assistant.yaml")]);
    let f = &r.features[0];
    let p50 = f.simulation.as_ref().unwrap().cost.p50.unwrap();
    assert!(f.typical.cost < p50, "the example's central month is below its p50");
    assert!(f.central_below_p50());
    let t = table::render(
        &r,
        table::Style {
            color: false,
            width: None,
        },
    );
    assert!(t.contains(BELOW), "{t}");
    let m = markdown::render(&r);
    assert!(m.contains("It sits below the simulated p50"), "{m}");
}

#[test]
fn the_terminal_says_nothing_of_p50_when_central_inputs_are_above_it() {
    let mut r = report_with(&Policy::default(), vec![spec("support-assistant.yaml")]);
    let f = &mut r.features[0];
    let p50 = f.simulation.as_ref().unwrap().cost.p50.unwrap();
    f.typical.cost = p50 * 1.5;
    assert!(!f.central_below_p50());
    let t = table::render(
        &r,
        table::Style {
            color: false,
            width: None,
        },
    );
    assert!(!t.contains("below p50"), "{t}");
    assert!(
        t.contains("central inputs: every input at its central value, no scenario.\n"),
        "{t}"
    );
    let m = markdown::render(&r);
    assert!(!m.contains("below the simulated p50"), "{m}");
    // equal is not below either
    f_equal(&mut r, p50);
}

fn f_equal(r: &mut CheckReport, p50: f64) {
    r.features[0].typical.cost = p50;
    assert!(!r.features[0].central_below_p50());
    let t = table::render(
        r,
        table::Style {
            color: false,
            width: None,
        },
    );
    assert!(!t.contains("below p50"), "{t}");
}

#[test]
fn the_diff_labels_its_months_as_the_reports_do() {
    // the diff said "typical month" and "p99 month" where every report says
    // "central inputs" and "bad month at 99%"
    let r = report_with(&policy("0.99"), vec![spec("support-assistant.yaml")]);
    let d = costgate::diff::compare(&r, &r, "base", "head");
    let t = table::render(
        &r,
        table::Style {
            color: false,
            width: None,
        },
    );
    for out in [costgate::diff::render_table(&d), costgate::diff::render_markdown(&d)] {
        assert!(!out.contains("typical"), "{out}");
        assert!(!out.contains("p99 month"), "{out}");
        for label in ["central inputs", "bad month at 99%"] {
            assert!(t.contains(label), "the report says {label:?}: {t}");
            assert!(out.contains(label), "{out}");
        }
    }
}

#[test]
fn the_diff_shows_the_findings_the_reports_show() {
    // A finding a policy exception lowered to `allow` is shown by every
    // report (with its exception); the diff dropped every `allow` finding.
    let mut head = with_an_excepted_finding();
    // its own identity (the warning beside it has the same rule and path)
    for x in &mut head.features[0].findings {
        if x.exception.is_some() {
            x.span.as_mut().unwrap().path = "tiers[0].limit".into();
        }
    }
    let mut base = head.clone();
    base.features[0].findings.retain(|x| x.exception.is_none());
    let excepted = head.features[0]
        .findings
        .iter()
        .find(|x| x.exception.is_some())
        .unwrap();
    let key = costgate::diff::finding_key;
    let keys = |v: &[costgate::policy::Finding]| v.iter().map(key).collect::<Vec<_>>();
    assert!(head.features[0].shown_findings().any(|x| key(x) == key(excepted)));
    let d = costgate::diff::compare(&base, &head, "base", "head");
    assert_eq!(keys(&d.features[0].findings_new), vec![key(excepted)]);
    let t = costgate::diff::render_table(&d);
    assert!(t.contains("new       allow   "), "{t}");
    let m = costgate::diff::render_markdown(&d);
    assert!(m.contains("an excepted finding"), "{m}");
    // and the other way round it is resolved
    let back = costgate::diff::compare(&head, &base, "head", "base");
    assert_eq!(keys(&back.features[0].findings_resolved), vec![key(excepted)]);
    // a finding at `allow` with no exception is shown by no report, nor the diff
    let mut plain = head.clone();
    plain.features[0].findings.iter_mut().for_each(|x| x.exception = None);
    let hidden: Vec<_> = plain.features[0]
        .findings
        .iter()
        .filter(|x| x.level == Level::Allow)
        .collect();
    assert!(!hidden.is_empty());
    assert!(plain.features[0].shown_findings().all(|x| x.level != Level::Allow));
    let d = costgate::diff::compare(&base, &plain, "base", "head");
    assert!(d.features[0].findings_new.iter().all(|x| x.level != Level::Allow));
}
