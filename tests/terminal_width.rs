//! `check`'s table fitted to the terminal: at 80, 100 and 120 columns,
//! over every example (and all of them together, with the portfolio and the
//! sensitivity tables), every line fits, and every number of the unfitted
//! rendering is still there, whole (cells and prose wrap at spaces only;
//! a table too wide even wrapped repeats its first column in a second block).

#[path = "support/cmd.rs"]
mod cmd;
#[path = "support/numbers.rs"]
mod numbers;

use std::path::PathBuf;

use costgate::check::{Request, run};
use costgate::policy::Policy;
use costgate::report::table::{Style, render};
use numbers::numbers;

const EXAMPLES: [&str; 5] = [
    "consumer-chat.toml",
    "enterprise-copilot.yaml",
    "support-assistant.yaml",
    "tiered-assistant.yaml",
    "tiers-from-the-thread.yaml",
];

/// The report of `paths` over `trials` months, with the sensitivity table or not.
fn report(paths: Vec<PathBuf>, trials: usize, sensitivity: bool) -> costgate::report::CheckReport {
    cmd::assert_in_manifest_dir();
    let catalog = costgate::pricing::builtin();
    let policy = Policy::default();
    let req = Request {
        paths,
        policy: &policy,
        catalog: &catalog,
        sim: costgate::sim::Options {
            trials,
            threads: Some(2),
            sensitivity,
            ..Default::default()
        },
        today: "2026-11-28".parse().unwrap(),
    };
    run(&req).unwrap_or_else(|p| panic!("{p:#?}"))
}

/// Visible width: ANSI styling not counted.
fn visible(line: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for ch in line.chars() {
        match (esc, ch) {
            (false, '\x1b') => esc = true,
            (true, c) if c.is_ascii_alphabetic() => esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

fn check_widths(name: &str, r: &costgate::report::CheckReport) {
    let wide = render(
        r,
        Style {
            color: false,
            width: None,
        },
    );
    assert!(
        wide.lines().any(|l| l.chars().count() > 80),
        "{name}: the unfitted text is wider than 80"
    );
    let want = numbers(&wide);
    for width in [80, 100, 120] {
        for color in [false, true] {
            let narrow = render(
                r,
                Style {
                    color,
                    width: Some(width),
                },
            );
            for line in narrow.lines() {
                assert!(
                    visible(line) <= width,
                    "{name} at {width}: {} columns:\n{line}\n\n{narrow}",
                    visible(line)
                );
            }
            let got = numbers(&narrow);
            for (n, k) in &want {
                assert!(
                    got.get(n).copied().unwrap_or(0) >= *k,
                    "{name} at {width}: {n} appears {k} times unfitted, {} fitted:\n{narrow}",
                    got.get(n).copied().unwrap_or(0)
                );
            }
        }
    }
    // a width the text fits in changes nothing
    let max = wide.lines().map(|l| l.chars().count()).max().unwrap();
    assert_eq!(
        render(
            r,
            Style {
                color: false,
                width: Some(max)
            }
        ),
        wide,
        "{name}"
    );
}

#[test]
fn every_example_fits_80_100_and_120_columns_with_every_number_whole() {
    for spec in EXAMPLES {
        check_widths(spec, &report(vec![PathBuf::from("specs").join(spec)], 300, false));
    }
}

#[test]
fn all_the_examples_together_fit_with_the_portfolio() {
    // with the sensitivity tables (over fewer months: the layout is the point)
    let r = report(vec![PathBuf::from("specs")], 100, true);
    assert!(r.portfolio.is_some());
    assert!(r.features.iter().all(|f| f.sensitivity.is_some()));
    check_widths("specs", &r);
}

#[test]
fn at_80_columns_the_tier_table_wraps_headings_then_repeats_the_tier_column() {
    let r = report(vec![PathBuf::from("specs/tiered-assistant.yaml")], 300, false);
    let t = render(
        &r,
        Style {
            color: false,
            width: Some(80),
        },
    );
    // the tier table no longer fits whole: a second block starts with the tiers again
    let tier_heads = t.lines().filter(|l| l.trim_start().starts_with("tier ")).count();
    assert!(tier_heads >= 1, "{t}");
    let free_rows = t.lines().filter(|l| l.trim_start().starts_with("free ")).count();
    let wide = render(
        &r,
        Style {
            color: false,
            width: None,
        },
    );
    let free_rows_wide = wide.lines().filter(|l| l.trim_start().starts_with("free ")).count();
    assert!(
        free_rows > free_rows_wide,
        "the first column repeats in the second block:\n{t}"
    );
    // narrower than 80 is laid out as 80
    assert_eq!(
        render(
            &r,
            Style {
                color: false,
                width: Some(40)
            }
        ),
        t
    );
}

#[test]
fn the_cli_fits_columns_and_leaves_a_pipe_whole() {
    let run = |columns: Option<&str>| {
        let mut c = cmd::costgate_on("2026-11-28");
        if let Some(w) = columns {
            c.env("COLUMNS", w);
        }
        let out = c
            .args([
                "--color",
                "never",
                "check",
                "specs",
                "--trials",
                "300",
                "--allow-few-trials",
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let narrow = run(Some("80"));
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    let wide = run(None);
    assert!(
        wide.lines().any(|l| l.chars().count() > 80),
        "a pipe gets the lines whole"
    );
    assert!(narrow.lines().count() > wide.lines().count());
}

/// `tune` and `calibrate` print text that fits an 80-column terminal, every
/// number whole (wrapping is at spaces), and a pipe gets the lines whole.
#[test]
fn tune_and_calibrate_fit_the_terminal_with_every_number_whole() {
    // calibrate writes its spec to a file: standard output is its report.
    let d = tempfile::tempdir().unwrap();
    let written = d.path().join("c.yaml").display().to_string();
    let runs: [&[&str]; 2] = [
        &[
            "tune",
            "specs/tiered-assistant.yaml",
            "--vary",
            "caps",
            "--candidates",
            "4",
            "--trials",
            "200",
        ],
        &[
            "calibrate",
            "fixtures/logs/azure-llm-inference-2023-code.csv",
            "--map",
            "time=TIMESTAMP,input=ContextTokens,output=GeneratedTokens",
            "--spec",
            "specs/support-assistant.yaml",
            "-o",
            &written,
        ],
    ];
    for args in runs {
        let run = |columns: Option<&str>| {
            let mut c = cmd::costgate_on("2026-11-28");
            if let Some(w) = columns {
                c.env("COLUMNS", w);
            }
            let out = c.args(["--color", "never"]).args(args).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        let (narrow, wide) = (run(Some("80")), run(None));
        for l in narrow.lines() {
            assert!(l.chars().count() <= 80, "{}: {l:?} is wider than 80", args[0]);
        }
        assert!(
            wide.lines().any(|l| l.chars().count() > 80),
            "{}: a pipe gets the lines whole",
            args[0]
        );
        assert_eq!(numbers(&narrow), numbers(&wide), "{}: every number whole", args[0]);
    }
}
