//! The terminal's words: the "chance a month breaks" line names each
//! threshold in words with its value (not the policy's keys), and counts
//! agree with their nouns and verbs ("1 needs approval", "1 trial").

#[path = "support/cmd.rs"]
mod cmd;

#[path = "support/report.rs"]
mod built;

use std::path::PathBuf;

use costgate::policy::Policy;
use costgate::report::table::{Style, render};

fn table(spec: &str, trials: usize) -> String {
    cmd::assert_in_manifest_dir();
    let r = built::check(&Policy::default(), vec![PathBuf::from("specs").join(spec)], trials);
    render(&r, Style::default())
}

const KEYS: [&str; 6] = [
    "worst_case_monthly_usd",
    "p95_monthly_usd",
    "approval_cost_revenue_ratio",
    "max_cost_revenue_ratio",
    "infra_budget_share",
    "max_infra_budget_share",
];

#[test]
fn the_chance_a_month_breaks_names_thresholds_in_words() {
    let t = table("enterprise-copilot.yaml", 300);
    let line = t
        .lines()
        .find(|l| l.contains("chance a month breaks:"))
        .unwrap_or_else(|| panic!("{t}"));
    for k in KEYS {
        assert!(!line.contains(k), "{line}");
    }
    // the built-in thresholds, each with its value
    for words in [
        "the worst-case limit ($60,000)",
        "the monthly limit ($25,000)",
        "cost/revenue needing approval (20%)",
        "15% of the infrastructure budget ($37,500)",
    ] {
        assert!(line.contains(words), "{words}: {line}");
    }
}

#[test]
fn counts_agree_with_their_words() {
    let t = table("support-assistant.yaml", 300);
    assert!(
        t.contains("1 feature checked: 0 passed, 1 needs approval, 0 blocked."),
        "{t}"
    );
    assert!(t.contains("Seed 20240601, 300 trials."), "{t}");
    let md = costgate::report::markdown::render(&built::check(
        &Policy::default(),
        vec![PathBuf::from("specs/support-assistant.yaml")],
        300,
    ));
    assert!(
        md.contains("1 feature checked: 0 passed, 1 needs approval, 0 blocked"),
        "{md}"
    );
    // one trial is one trial
    let t = table("tiered-assistant.yaml", 1);
    assert!(t.contains("Seed 20240601, 1 trial."), "{t}");
    assert!(!t.contains(" 1 trials"), "{t}");
}
