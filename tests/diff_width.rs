//! `costgate diff`'s table fitted to the terminal as `check`'s is: at 80,
//! 100 and 120 columns (`COLUMNS`), for every example changed to a pricier
//! model, every line fits and every number of the unfitted output is still
//! there, whole; written to a file (`-o`), the lines stay whole.

#[path = "support/cmd.rs"]
mod cmd;
#[path = "support/numbers.rs"]
mod numbers;

use std::path::Path;

use numbers::numbers;

/// Each example with the model key the change swaps for a pricier one.
const EXAMPLES: [(&str, &str); 5] = [
    ("consumer-chat.toml", "primary"),
    ("enterprise-copilot.yaml", "primary"),
    ("support-assistant.yaml", "primary"),
    ("tiered-assistant.yaml", "primary"),
    ("tiers-from-the-thread.yaml", "sonnet"),
];

/// `costgate diff SPEC --set models.KEY=claude-opus-4-1` with `COLUMNS` = `columns`.
fn diff(spec: &str, key: &str, columns: Option<usize>, extra: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(spec);
    let mut c = cmd::costgate_on("2026-11-28");
    if let Some(w) = columns {
        c.env("COLUMNS", w.to_string());
    }
    let out = c
        .args(["--color", "never", "diff", "--trials", "300", "--allow-few-trials"])
        .arg(&path)
        .args(["--set", &format!("models.{key}=claude-opus-4-1")])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{spec}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_diff_fits_the_terminal_and_keeps_every_number_whole() {
    let mut any_wide = false;
    for (spec, key) in EXAMPLES {
        let wide = diff(spec, key, None, &[]);
        any_wide |= wide.lines().any(|l| l.chars().count() > 80);
        let want = numbers(&wide);
        for width in [80, 100, 120] {
            let narrow = diff(spec, key, Some(width), &[]);
            for line in narrow.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{spec} at {width}: {} columns:\n{line}\n\n{narrow}",
                    line.chars().count()
                );
            }
            let got = numbers(&narrow);
            for (n, k) in &want {
                assert!(
                    got.get(n).copied().unwrap_or(0) >= *k,
                    "{spec} at {width}: {n} appears {k} times unfitted, {} fitted:\n{narrow}",
                    got.get(n).copied().unwrap_or(0)
                );
            }
        }
    }
    assert!(any_wide, "some example's diff is wider than 80 unfitted");
}

#[test]
fn a_diff_written_to_a_file_keeps_its_lines_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("diff.txt");
    let (spec, key) = EXAMPLES[2];
    let wide = diff(spec, key, None, &[]);
    diff(spec, key, Some(80), &["-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), wide);
}
