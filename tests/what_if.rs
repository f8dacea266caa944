//! `--set PATH=VALUE`: what-if overrides of spec fields on `check`, `report`
//! and `diff`. An override must give exactly the figures of the same spec
//! edited on disk, be validated like the spec with its problems placed at
//! the flag, show in every report, and never let an approval cover it.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn costgate() -> Command {
    cmd::costgate_on("2026-11-28")
}

const TRIALS: &str = "2000";

/// One tier, no breaker: the worst case follows the cap.
const SPEC: &str = "costgate: 1
feature:
  id: t
  value: {kind: revenue}
models:
  primary: claude-sonnet-4-5
  fallback: claude-haiku-4-5
interaction:
  calls: {p50: 1, p95: 3}
  input_tokens: {p50: 1800, p95: 6000}
  output_tokens: {p50: 350, p95: 1100}
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: {low: 0.3, mode: 0.45, high: 0.7}
  interactions_per_active_day: {p50: 3, p95: 14}
tiers:
  - name: free
    users: {low: 2000, mode: 4000, high: 8000}
    price_usd_per_month: 0
    model: fallback
    limit:
      daily_tokens: 20000
      on_limit: block
      message: \"You've used {used}/{limit} tokens today. It resets at {reset}.\"
  - name: pro
    users: {low: 200, mode: 400, high: 800}
    price_usd_per_month: 50
    model: primary
    limit:
      daily_tokens: 100000
      on_limit: block
      message: \"You've used {used}/{limit} tokens today. It resets at {reset}.\"
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `check --format json` of `spec` with `args` after it: (exit code, report, stderr).
fn check_json(spec: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = costgate()
        .args(["check", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
        .arg(spec)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json, stderr)
}

/// The figures of a feature's report, without what names the file or the
/// place of a value (which differ between an override and an edit).
fn figures(feature: &Value) -> Value {
    let mut f = feature.clone();
    let o = f.as_object_mut().unwrap();
    for k in ["file", "assumptions", "findings", "approval", "overrides", "limits"] {
        o.remove(k);
    }
    f
}

/// A flag that sets a field gives the figures of the spec edited on disk to
/// the same value, bit for bit: the override goes through the same decoder.
#[test]
fn an_override_gives_exactly_the_figures_of_the_spec_edited_on_disk() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let edited = write(
        d.path(),
        "edited.yaml",
        &SPEC.replace("daily_tokens: 100000", "daily_tokens: 300000"),
    );
    let (code, base, _) = check_json(&spec, &[]);
    assert!(code == 0 || code == 1 || code == 2, "{code}");
    let (_, set, err) = check_json(&spec, &["--set", "tiers.pro.limit.daily_tokens=300000"]);
    assert!(set != Value::Null, "{err}");
    let (_, disk, _) = check_json(&edited, &[]);
    let (b, s, e) = (&base["features"][0], &set["features"][0], &disk["features"][0]);
    assert_eq!(figures(s), figures(e));
    // raising the cap raises the worst case (the only tier that grew)
    let worst = |f: &Value| f["worst_case"]["monthly_usd"].as_f64().unwrap();
    assert!(worst(s) > worst(b), "{} vs {}", worst(s), worst(b));
    // the report says what was overridden
    assert_eq!(
        s["overrides"],
        serde_json::json!([{
            "flag": "--set tiers.pro.limit.daily_tokens=300000",
            "path": "tiers[1].limit.daily_tokens",
            "value": 300000
        }])
    );
    assert!(
        b.get("overrides").is_none(),
        "no override, no key: the JSON stays as it was"
    );
    let origin = s["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "tiers[1].limit.daily_tokens")
        .unwrap()["origin"]
        .clone();
    assert_eq!(
        origin,
        serde_json::json!({"kind": "override", "flag": "--set tiers.pro.limit.daily_tokens=300000"})
    );
}

/// An item of a list by its name, `[index]` or `.index`: the same field.
/// A distribution given as a flow mapping, a model by name.
#[test]
fn named_items_indexes_and_flow_values_reach_the_same_fields() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let edited = write(
        d.path(),
        "edited.yaml",
        &SPEC
            .replace("daily_tokens: 20000", "daily_tokens: 5000")
            .replace("{p50: 3, p95: 14}", "{p50: 5, p95: 28}")
            .replace("fallback: claude-haiku-4-5", "fallback: gpt-4.1-nano"),
    );
    let (_, disk, _) = check_json(&edited, &[]);
    for tier in ["tiers.free", "tiers[0]", "tiers.0"] {
        let (_, set, err) = check_json(
            &spec,
            &[
                "--set",
                &format!("{tier}.limit.daily_tokens=5000"),
                "--set",
                "usage.interactions_per_active_day={p50: 5, p95: 28}",
                "--set",
                "models.fallback=gpt-4.1-nano",
            ],
        );
        assert!(set != Value::Null, "{tier}: {err}");
        assert_eq!(figures(&set["features"][0]), figures(&disk["features"][0]), "{tier}");
        let paths: Vec<&str> = set["features"][0]["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "tiers[0].limit.daily_tokens",
                "usage.interactions_per_active_day",
                "models.fallback"
            ]
        );
    }
}

/// A key the spec does not have yet is added, and validated.
#[test]
fn a_missing_key_is_added() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let edited = write(
        d.path(),
        "edited.yaml",
        &SPEC.replacen(
            "      daily_tokens: 20000\n",
            "      daily_tokens: 20000\n      warn_at: 0.5\n",
            1,
        ),
    );
    let (_, set, err) = check_json(&spec, &["--set", "tiers.free.limit.warn_at=0.5"]);
    assert!(set != Value::Null, "{err}");
    let (_, disk, _) = check_json(&edited, &[]);
    assert_eq!(figures(&set["features"][0]), figures(&disk["features"][0]));
    let limits = &set["features"][0]["limits"];
    assert_eq!(limits, &disk["features"][0]["limits"]);
    // and a misspelt one is refused as the spec would refuse it, at the flag
    let (code, _, err) = check_json(&spec, &["--set", "tiers.free.limit.warn_att=0.5"]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.starts_with(
            "error: --set tiers.free.limit.warn_att=0.5: `tiers[0].limit.warn_att`: unknown field `warn_att` [unknown-field]\n  hint: did you mean `warn_at`?"
        ),
        "{err}"
    );
}

/// A value the spec does not allow is invalid input (65), placed at the
/// flag, never at a line of the file that does not hold it.
#[test]
fn an_invalid_value_is_placed_at_the_flag() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let (code, _, err) = check_json(&spec, &["--set", "tiers.pro.limit.daily_tokens=-5"]);
    assert_eq!(code, 65);
    assert_eq!(
        err,
        "error: --set tiers.pro.limit.daily_tokens=-5: `tiers[1].limit.daily_tokens`: `-5` must be above zero [out-of-range]\n  hint: use a positive number\n\
         costgate: 1 problem in --set tiers.pro.limit.daily_tokens=-5; nothing was checked\n"
    );
    // a whole mapping from the flag: its problems are the flag's too
    let (code, _, err) = check_json(&spec, &["--set", "tiers.pro.users={p50: 10, p95: 5}"]);
    assert_eq!(code, 65);
    assert!(
        err.starts_with("error: --set tiers.pro.users={p50: 10, p95: 5}: `tiers[1].users"),
        "{err}"
    );
    assert!(!err.contains("s.yaml:"), "{err}");
    // a model the catalog does not know, found when pricing
    let (code, _, err) = check_json(&spec, &["--set", "models.primary=no-such-model-x"]);
    assert_eq!(code, 65);
    assert!(
        err.starts_with("error: --set models.primary=no-such-model-x: `models.primary`"),
        "{err}"
    );
}

/// A flag that is malformed, or whose PATH leads nowhere in the spec, is a
/// usage error (64) that names the flag (and the spec it does not fit).
#[test]
fn a_bad_flag_is_a_usage_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let file = spec.display().to_string();
    for (arg, expected) in [
        (
            "tiers.prox.limit.daily_tokens=1",
            format!(
                "error: --set tiers.prox.limit.daily_tokens=1: in {file}, no item of `tiers` is named `prox` (its items: free, pro); did you mean `pro`?\n"
            ),
        ),
        (
            "tiers[7].limit=1",
            format!(
                "error: --set tiers[7].limit=1: in {file}, `tiers` has 2 items, so there is no item [7] (an override cannot add one)\n"
            ),
        ),
        (
            "models.primary.price=1",
            format!(
                "error: --set models.primary.price=1: in {file}, `models.primary` is a string, not a mapping or a list: there is nothing under it to set\n"
            ),
        ),
        (
            "tiers.pro.limit",
            "error: --set tiers.pro.limit: expected PATH=VALUE (for example `tiers.pro.limit.daily_tokens=20000`)\n".into(),
        ),
        (
            "usage.interactions_per_active_day={p50: 5",
            "error: --set usage.interactions_per_active_day={p50: 5: VALUE is not one YAML value: ".into(),
        ),
        (
            "other:tiers.pro.limit.daily_tokens=1",
            "error: --set other:tiers.pro.limit.daily_tokens=1: no spec of this run has the feature id `other` (this run checks: t)\n".into(),
        ),
    ] {
        let (code, json, err) = check_json(&spec, &["--set", arg]);
        assert_eq!(code, 64, "{arg}: {err}");
        assert_eq!(json, Value::Null, "{arg}: nothing checked");
        assert!(err.starts_with(&expected), "{arg}:\n{err}\nexpected:\n{expected}");
    }
}

/// TOML specs are overridden the same way, through the same tree.
#[test]
fn a_toml_spec_is_overridden_like_a_yaml_one() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/consumer-chat.toml")).unwrap();
    let spec = write(d.path(), "chat.toml", &text);
    let edited = write(
        d.path(),
        "edited.toml",
        &text.replace("daily_tokens = 75000", "daily_tokens = 150000"),
    );
    let (_, set, err) = check_json(&spec, &["--set", "tiers.plus.limit.daily_tokens=150000"]);
    assert!(set != Value::Null, "{err}");
    let (_, disk, _) = check_json(&edited, &[]);
    assert_eq!(figures(&set["features"][0]), figures(&disk["features"][0]));
    assert_eq!(
        set["features"][0]["overrides"][0]["path"],
        "tiers[1].limit.daily_tokens"
    );
    let (code, _, err) = check_json(&spec, &["--set", "tiers.plus.limit.warn_at=1.5"]);
    assert_eq!(code, 65);
    assert!(
        err.starts_with("error: --set tiers.plus.limit.warn_at=1.5: `tiers[1].limit.warn_at`: "),
        "{err}"
    );
}

/// With several specs, an override applies to each (a PATH that one of them
/// lacks is an error naming it), or with `FEATURE:` to that feature only.
#[test]
fn several_specs_take_every_override_or_the_ones_named_for_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.yaml", SPEC);
    let other = SPEC.replace("id: t", "id: u").replace("name: pro", "name: team");
    write(d.path(), "b.yaml", &other);
    let run = |args: &[&str]| {
        let out = costgate()
            .args(["check", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
            .arg(d.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // `pro` is a tier of a.yaml only
    let (code, _, err) = run(&["--set", "tiers.pro.limit.daily_tokens=5"]);
    assert_eq!(code, 64);
    assert!(
        err.contains("no item of `tiers` is named `pro`") && err.contains("b.yaml"),
        "{err}"
    );
    // named for feature t: only a.yaml changes
    let (_, r, err) = run(&["--set", "t:tiers.pro.limit.daily_tokens=300000"]);
    assert!(r != Value::Null, "{err}");
    let f = r["features"].as_array().unwrap();
    let by_id = |id: &str| f.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(
        by_id("t")["overrides"][0]["flag"],
        "--set t:tiers.pro.limit.daily_tokens=300000"
    );
    assert!(by_id("u").get("overrides").is_none());
    // on every spec: both change; a bad value is named with its spec
    let (_, r, err) = run(&["--set", "tiers[0].limit.daily_tokens=5000"]);
    assert!(r != Value::Null, "{err}");
    assert!(
        r["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["overrides"].is_array())
    );
    let (code, _, err) = run(&["--set", "tiers[0].limit.daily_tokens=0"]);
    assert_eq!(code, 65);
    assert!(
        err.contains(&format!(
            "error: --set tiers[0].limit.daily_tokens=0 (in {}): `tiers[0].limit.daily_tokens`",
            d.path().join("b.yaml").display()
        )),
        "{err}"
    );
}

/// Every human report says the run was overridden; the sign-off asks for nothing.
#[test]
fn every_report_says_what_was_overridden() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let line = "overridden for this run (--set, not the spec as written): tiers.pro.limit.daily_tokens=300000";
    let table = costgate()
        .args(["check", "--trials", TRIALS, "--allow-few-trials", "--color", "never"])
        .arg(&spec)
        .args(["--set", "tiers.pro.limit.daily_tokens=300000"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(table.lines().nth(2).is_some_and(|l| l.trim() == line), "{table}");
    for (format, expected) in [
        ("markdown", format!("⚠️ {line}")),
        ("html", format!("<p class=\"headline overridden\">{line}</p>")),
    ] {
        let out = costgate()
            .args(["report", "--trials", TRIALS, "--allow-few-trials", "--format", format])
            .arg(&spec)
            .args(["--set", "tiers.pro.limit.daily_tokens=300000"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        // Markdown escapes `_`
        let esc = |s: &str| {
            if format == "markdown" {
                s.replace('_', "\\_")
            } else {
                s.to_string()
            }
        };
        assert!(text.contains(&esc(&expected)), "{format}: {text}");
        assert!(
            text.contains(&esc(
                "overridden for this run: --set tiers.pro.limit.daily_tokens=300000"
            )),
            "{format}: the assumption's origin"
        );
        // without --set: no such line
        let plain = costgate()
            .args(["report", "--trials", TRIALS, "--allow-few-trials", "--format", format])
            .arg(&spec)
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&plain.stdout).contains("overridden for this run"),
            "{format}"
        );
    }
}

/// An approval on file covers the spec as written, never an overridden
/// run, even one whose figures are the approved ones.
#[test]
fn an_approval_never_covers_an_overridden_run() {
    let d = tempfile::tempdir().unwrap();
    let spec = d.path().join("support-assistant.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/support-assistant.yaml"),
        &spec,
    )
    .unwrap();
    costgate()
        .args([
            "approve",
            "--trials",
            TRIALS,
            "--allow-few-trials",
            "--by",
            "cfo@example.com",
            "--reason",
            "ok",
        ])
        .args(["--expires", "2027-01-31"])
        .arg(&spec)
        .assert()
        .code(0);
    let (code, _, _) = check_json(&spec, &[]);
    assert_eq!(code, 0, "approved as written");
    // the owner does not move a figure; the run is still a what-if
    let (code, r, err) = check_json(&spec, &["--set", "feature.owner=someone-else"]);
    assert_eq!(code, 2, "{err}");
    let f = &r["features"][0];
    let open: Vec<&Value> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["level"] == "approve")
        .collect();
    assert!(!open.is_empty());
    for x in open {
        assert_eq!(x["approval"]["covered"], false);
        assert!(
            x["approval"]["note"]
                .as_str()
                .unwrap()
                .starts_with("this run overrides the spec with --set (a what-if)"),
            "{x}"
        );
    }
    // and the Markdown sign-off offers no command to approve the what-if
    let md = costgate()
        .args([
            "report",
            "--format",
            "markdown",
            "--trials",
            TRIALS,
            "--allow-few-trials",
        ])
        .arg(&spec)
        .args(["--set", "feature.owner=someone-else"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("Nothing to sign for this run: it overrides the spec with --set"),
        "{md}"
    );
    assert!(!md.contains("costgate approve "), "{md}");
}

/// `diff SPEC --set ...` compares the spec as written (base) with the
/// what-if (head); with BASE HEAD, the override applies to the head only.
#[test]
fn diff_compares_the_override_with_the_base() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let edited = write(
        d.path(),
        "edited.yaml",
        &SPEC.replace("daily_tokens: 100000", "daily_tokens: 300000"),
    );
    let (_, base, _) = check_json(&spec, &[]);
    let (_, disk, _) = check_json(&edited, &[]);
    let worst = |r: &Value| r["features"][0]["worst_case"]["monthly_usd"].as_f64().unwrap();
    let diff = |args: &[&str]| {
        let out = costgate()
            .args(["diff", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let s = spec.to_str().unwrap();
    let j = diff(&[s, "--set", "tiers.pro.limit.daily_tokens=300000"]);
    let f = &j["features"][0];
    assert_eq!(f["worst_case"]["before"].as_f64().unwrap(), worst(&base));
    assert_eq!(f["worst_case"]["after"].as_f64().unwrap(), worst(&disk));
    assert_eq!(j["head"], format!("{s} with --set tiers.pro.limit.daily_tokens=300000"));
    assert_eq!(f["overrides"][0]["path"], "tiers[1].limit.daily_tokens");
    // BASE HEAD: the head overridden back to the base's cap, nothing changes
    let j = diff(&[
        s,
        edited.to_str().unwrap(),
        "--set",
        "tiers.pro.limit.daily_tokens=100000",
    ]);
    assert_eq!(j["features"][0]["worst_case"]["delta"].as_f64().unwrap(), 0.0);
    // the table says so
    let out = costgate()
        .args([
            "diff",
            "--trials",
            TRIALS,
            "--allow-few-trials",
            s,
            "--set",
            "tiers.pro.limit.daily_tokens=300000",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "  after: overridden for this run (--set, not the spec as written): tiers.pro.limit.daily_tokens=300000"
        ),
        "{text}"
    );
    // one path and no --set is still a usage error
    costgate().args(["diff", s]).assert().code(64);
}

/// Hostile flags: a huge value, deeply nested flow YAML, control characters
/// in the path and the value. A clear error or a report, never a panic, a
/// hang or a raw control character on the terminal.
#[test]
fn hostile_flags_are_refused_or_shown_inert() {
    let d = tempfile::tempdir().unwrap();
    let spec = write(d.path(), "s.yaml", SPEC);
    let run = |arg: &str, format: &str| {
        let out = costgate()
            .timeout(cmd::HANG)
            .args([
                "check",
                "--trials",
                "200",
                "--allow-few-trials",
                "--color",
                "never",
                "--format",
                format,
            ])
            .arg(&spec)
            .args(["--set", arg])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // deep flow YAML: refused by the parser's depth budget, as usage
    let deep = format!("usage.x={}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (code, _, err) = run(&deep, "table");
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("VALUE is not one YAML value: invalid YAML"), "{err}");
    assert!(err.len() < 1_000, "the flag is cut in the message: {} bytes", err.len());
    // a huge path: cut in the message
    let (code, _, err) = run(&format!("tiers.{}=1", "x".repeat(100_000)), "table");
    assert_eq!(code, 64);
    assert!(err.len() < 1_000, "{} bytes", err.len());
    // a huge string value is a value like any other
    let huge = format!("feature.owner={}", "o".repeat(100_000));
    let (code, out, err) = run(&huge, "json");
    assert!(code == 0 || code == 1 || code == 2, "{code}: {err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["features"][0]["owner"].as_str().unwrap().len(), 100_000);
    // control characters: in the value (shown inert), in the path (refused inert)
    // (YAML's own escapes put them in the value; raw ones YAML refuses)
    let (code, out, err) = run("feature.name=\"\\e[31mred\\a\"", "table");
    assert!(code == 0 || code == 1 || code == 2, "{code}: {err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}[31mred\\u{7}"), "{out}");
    for arg in [
        "feature.name=\u{1b}[31mred\u{7}",
        "tiers.\u{1b}[2J.x=1",
        "tiers.pro.limit.daily_tokens=\u{1b}]0;x\u{7}",
        "\u{1b}:a=1",
    ] {
        let (code, _, err) = run(arg, "table");
        assert!(code == 64 || code == 65, "{arg:?}: {code}");
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        assert!(err.contains("\\u{1b}"), "{err}");
    }
}
