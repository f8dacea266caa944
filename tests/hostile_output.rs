//! A spec written by a hostile contributor cannot write a line break, a
//! terminal escape or a GitHub Actions workflow command into what costgate
//! prints or summarises: every string it can set (name, owner, unit, tier
//! names, limit and breaker messages, scenario names, the baseline's name,
//! a measured note, the spec's file name, keys and values echoed in
//! validation errors) goes through the terminal table, the Markdown
//! summary, the step summary, the diff, the HTML report and the error
//! printer, and none of those carries a control character, a line that
//! opens a workflow command, or ESC.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Everything that could turn into a workflow command or an escape.
const EVIL: &str = "evil\n::error file=a.yaml,line=1::pwned\r\n::add-mask::leak\n  ::set-output name=x::y\u{1b}[31mRED\u{1b}]8;;http://e.test\u{7}link\u{9b}1m ##[error]v1 \u{202e}rtl\u{2028}sep\u{85}nel\t%0A::warning::z";

fn costgate() -> Command {
    let mut c = cmd::costgate_on("2026-11-28");
    c.env_remove("NO_COLOR");
    c
}

/// A TOML key holding `s`: a basic string on one line, every control
/// character written as a `\uXXXX` escape.
fn key(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() || (c as u32) >= 0x80 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A TOML string holding `s` (escapes and all).
fn q(s: &str) -> String {
    key(s)
}

fn hostile_spec() -> String {
    let e = |tag: &str| q(&format!("{EVIL}{tag}"));
    format!(
        r#"costgate = 1

[feature]
id = "hostile"
name = {name}
owner = {owner}
value = {{ kind = "revenue", unit = {unit}, units_per_interaction = 0.0002, usd_per_unit = 48.0 }}
baseline = {{ name = {baseline}, monthly_usd = 10 }}

[models]
primary = "gemini-2.5-flash"
free = "gemini-2.5-flash-lite"

[interaction]
calls = 1
input_tokens = {{ p50 = 900, p95 = 3000 }}
output_tokens = {{ p50 = 250, p95 = 900 }}
cached_input_share = {{ p50 = 0.5, p95 = 0.6, measured = {measured} }}
max_calls = 1
max_input_tokens = 8000
max_output_tokens = 1024

[usage]
days = 30
active_share = {{ low = 0.15, mode = 0.2, high = 0.3 }}
interactions_per_active_day = {{ p50 = 4, p95 = 20 }}

[[tiers]]
name = {tier1}
users = {{ low = 150000, mode = 250000, high = 400000 }}
price_usd_per_month = 0
model = "free"
[tiers.limit]
daily_tokens = 15000
warn_at = 0.8
on_limit = "block"
message = {message1}

[[tiers]]
name = {tier2}
users = {{ low = 4000, mode = 6000, high = 9000 }}
price_usd_per_month = 8
model = "primary"

[breakers.global_daily_usd]
limit = 900
on_trip = "block"
message = {message2}

[[scenarios]]
name = {scenario}
chance = 0.1
usage_multiplier = 4
days = 5
"#,
        name = e(" name"),
        owner = e(" owner"),
        unit = e(" unit"),
        baseline = e(" baseline"),
        measured = e(" measured"),
        tier1 = e(" tier one"),
        tier2 = e(" tier two"),
        message1 = e(" message one"),
        message2 = e(" message two"),
        scenario = e(" scenario"),
    )
}

/// What must never reach a terminal or a CI log from input.
#[track_caller]
fn assert_inert(what: &str, out: &str) {
    for (i, line) in out.lines().enumerate() {
        let bad = line
            .chars()
            .find(|&c| (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2028}' | '\u{2029}'));
        assert!(bad.is_none(), "{what}: line {} has {bad:?}: {line:?}", i + 1);
        assert!(
            !line.trim_start().starts_with("::"),
            "{what}: line {} opens a workflow command: {line:?}",
            i + 1
        );
        assert!(!line.contains("##["), "{what}: line {} has `##[`: {line:?}", i + 1);
    }
    assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{what}: raw CR or ESC");
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn write_spec(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn a_hostile_spec_reaches_no_output_raw() {
    let d = tempfile::tempdir().unwrap();
    let spec = write_spec(d.path(), "hostile.toml", &hostile_spec());
    let summary = d.path().join("summary.md");
    for format in ["table", "markdown"] {
        let out = costgate()
            .current_dir(d.path())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args([
                "check",
                "--trials",
                "300",
                "--allow-few-trials",
                "--color",
                "always",
                "--format",
                format,
            ])
            .arg(&spec)
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{format}: exit {:?}\n{stderr}",
            out.status
        );
        // the strings are shown (escaped), not dropped
        for tag in ["name", "tier one", "tier two", "scenario"] {
            assert!(
                stdout.contains("pwned") && stdout.contains(tag),
                "{format}: {tag} missing:\n{stdout}"
            );
        }
        assert!(
            stdout.contains("evil\\") || stdout.contains("evil\\\\"),
            "{format}:\n{stdout}"
        );
        if format == "table" {
            // the table's own colours are the only escapes; strip them, then nothing is left
            let plain = strip_sgr(&stdout);
            assert_inert("check (table)", &plain);
        } else {
            assert_inert("check --format markdown", &stdout);
        }
        assert_inert("check stderr", &stderr);
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("pwned"));
    assert_inert("step summary", &md);

    // machine formats escape in their own syntax, and printed to a CI log
    // they must not open a workflow command either (JUnit's text keeps
    // costgate's own line breaks, never one from input)
    for format in ["junit", "sarif", "json", "github"] {
        let out = costgate()
            .current_dir(d.path())
            .args(["check", "--trials", "300", "--allow-few-trials", "--format", format])
            .arg(&spec)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert!(stdout.contains("pwned"), "{format}: the strings are shown:\n{stdout}");
        for (i, line) in stdout.lines().enumerate() {
            // `--format github` is workflow commands, costgate's own only
            let own = ["::error ", "::warning ", "::notice "];
            assert!(
                !line.trim_start().starts_with("::") || (format == "github" && own.iter().any(|o| line.starts_with(o))),
                "{format}: line {} opens a workflow command: {line:?}",
                i + 1
            );
            // no C0, DEL or C1 control (serde_json alone escapes only C0),
            // and no bidi override, in any machine format
            let raw = |c: char| {
                (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            };
            assert!(
                !line.chars().any(raw),
                "{format}: line {} has a raw control character: {line:?}",
                i + 1
            );
        }
    }

    // the HTML report and the Markdown report
    for format in ["html", "markdown"] {
        let out = costgate()
            .current_dir(d.path())
            .args(["report", "--trials", "300", "--allow-few-trials", "--format", format])
            .arg(&spec)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("pwned") && stdout.contains("message one"),
            "report {format}"
        );
        if format == "markdown" {
            assert!(stdout.contains("owner") && stdout.contains("baseline"));
        }
        assert_inert(&format!("report --format {format}"), &stdout);
        assert_inert("report stderr", &text(&out.stderr));
    }

    // the diff of two hostile specs
    let other = write_spec(
        d.path(),
        "hostile2.toml",
        &hostile_spec().replace("price_usd_per_month = 8", "price_usd_per_month = 9"),
    );
    for format in ["table", "markdown"] {
        let out = costgate()
            .current_dir(d.path())
            .args(["diff", "--trials", "300", "--allow-few-trials", "--format", format])
            .arg(&spec)
            .arg(&other)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "diff {format}: {}", text(&out.stderr));
        assert_inert(&format!("diff --format {format}"), &stdout);
        assert_inert("diff stderr", &text(&out.stderr));
    }
}

/// Remove the SGR colour sequences the table writes itself (`ESC [ n;m m`).
fn strip_sgr(s: &str) -> String {
    let mut o = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\u{1b}[") {
        o.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        match end {
            Some(e) if after[e..].starts_with('m') => rest = &after[e + 1..],
            _ => {
                // not one of costgate's colours: keep it, so the check sees it
                o.push_str("\u{1b}[");
                rest = after;
            }
        }
    }
    o.push_str(rest);
    o
}

#[test]
fn validation_errors_echo_hostile_keys_and_values_inert() {
    let d = tempfile::tempdir().unwrap();
    // an unknown key, a bad word value, and a file name with a line break
    let body = hostile_spec()
        .replace(
            "[feature]\n",
            &format!("[feature]\n{} = 1\n", key(&format!("{EVIL} key"))),
        )
        .replace(
            "on_limit = \"block\"",
            &format!("on_limit = {}", q(&format!("{EVIL} word"))),
        );
    let spec = write_spec(d.path(), "bad\n::error::file\u{1b}[2J.toml", &body);
    let out = costgate()
        .current_dir(d.path())
        .args(["check", "--trials", "300", "--allow-few-trials"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("key") && stderr.contains("word") && stderr.contains("pwned"),
        "{stderr}"
    );
    assert!(stderr.contains("bad\\n"), "the file is named, escaped: {stderr}");
    assert_inert("validation errors", &stderr);
    // hints stay on their own line
    assert!(stderr.lines().any(|l| l.starts_with("  hint: ")), "{stderr}");
}

#[test]
fn a_policy_exception_reason_and_threshold_names_are_inert() {
    let d = tempfile::tempdir().unwrap();
    let spec = write_spec(d.path(), "hostile.toml", &hostile_spec());
    std::fs::write(
        d.path().join("costgate.toml"),
        format!(
            "[thresholds]\np95_monthly_usd = 1\n\n[[exceptions]]\nfeature = \"hostile\"\nrule = \"p95-over-budget\"\nreason = {}\nexpires = \"2099-01-01\"\n",
            q(&format!("{EVIL} reason"))
        ),
    )
    .unwrap();
    let out = costgate()
        .current_dir(d.path())
        .args(["check", "--trials", "300", "--allow-few-trials"])
        .arg(&spec)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_inert("check with a policy", &stdout);
    assert_inert("check with a policy (stderr)", &stderr);
}
