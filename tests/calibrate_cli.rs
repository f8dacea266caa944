//! `costgate calibrate` and `costgate check --observed` from the command
//! line: the real Azure trace end to end, a spec rewritten in place with its
//! comments, drift flagged on a doubled tail and not on the spec that
//! generated the logs, and hostile logs refused with their place and exit
//! code.

#[path = "support/cmd.rs"]
mod cmd;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde_json::Value;

const TODAY: &str = "2026-11-30";
const AZURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/logs/azure-llm-inference-2023-code.csv"
);
const AZURE_MAP: &str = "time=TIMESTAMP,input=ContextTokens,output=GeneratedTokens";

fn costgate() -> assert_cmd::Command {
    let mut c = cmd::costgate_on(TODAY);
    c.env("CI", "true").timeout(cmd::HANG);
    c
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

/// The trace's (input, output) tokens, read independently of costgate.
fn azure_rows() -> Vec<(f64, f64)> {
    std::fs::read_to_string(AZURE)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].trim().parse().unwrap(), f[2].trim().parse().unwrap())
        })
        .collect()
}

fn fitted<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["calibration"]["fitted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not fitted: {report:#}"))
}

fn mean_of(dist: &Value) -> f64 {
    match dist["form"].as_str().unwrap() {
        "empirical" => {
            let s = dist["samples"].as_array().unwrap();
            s.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / s.len() as f64
        }
        "fixed" => dist["value"].as_f64().unwrap(),
        other => panic!("the test reads the mean of empirical fits only, got {other}"),
    }
}

/// The Azure code trace through the command line: its token quantiles come
/// back within 2% and the calibrated samples price the trace's requests
/// within 1% of the exact sum over the trace.
#[test]
fn the_azure_trace_calibrates_to_its_own_quantiles_and_cost() {
    let out = costgate()
        .args([
            "calibrate",
            AZURE,
            "--map",
            AZURE_MAP,
            "--format",
            "json",
            "--fit",
            "central",
        ])
        .assert()
        .success();
    let r = json_of(&out.get_output().stdout);
    let rows = azure_rows();
    assert_eq!(r["calibration"]["provenance"]["records"], rows.len() as u64);
    assert_eq!(r["files"][0]["bad"], 0);
    assert_eq!(r["files"][0]["sha256"].as_str().unwrap().len(), 64);
    // The observed quantiles in the fit table are the trace's own, and the
    // fitted ones within 2% of them.
    for (path, col) in [("interaction.input_tokens", 0), ("interaction.output_tokens", 1)] {
        let f = fitted(&r, path);
        let mut xs: Vec<f64> = rows.iter().map(|r| if col == 0 { r.0 } else { r.1 }).collect();
        xs.sort_by(f64::total_cmp);
        for row in f["table"].as_array().unwrap() {
            let q = row["q"].as_f64().unwrap();
            let observed = row["observed"].as_f64().unwrap();
            let fitted = row["fitted"].as_f64().unwrap();
            // The order statistic at q (nearest rank): the fit table's
            // observed figure is the data's.
            let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
            let lo = xs[rank.saturating_sub(2)];
            let hi = xs[rank.min(xs.len() - 1)];
            assert!(
                observed >= lo && observed <= hi,
                "{path} q{q}: {observed} not in [{lo}, {hi}]"
            );
            if [0.5, 0.95, 0.99].contains(&q) {
                assert!(
                    (fitted - observed).abs() <= 0.02 * observed,
                    "{path} q{q}: fitted {fitted} vs observed {observed}"
                );
            }
        }
    }
    // Cost: the trace's request count times the calibrated mean call, at a
    // catalog's prices, against the exact sum over the trace.
    let (pin, pout) = (3.0 / 1e6, 15.0 / 1e6);
    let exact: f64 = rows.iter().map(|(i, o)| i * pin + o * pout).sum();
    let mi = mean_of(&fitted(&r, "interaction.input_tokens")["dist"]);
    let mo = mean_of(&fitted(&r, "interaction.output_tokens")["dist"]);
    let predicted = rows.len() as f64 * (mi * pin + mo * pout);
    assert!(
        (predicted - exact).abs() <= 0.01 * exact,
        "predicted ${predicted:.2} vs exact ${exact:.2}"
    );
    // Without user ids, the per-user quantities are not measured, and the
    // report says so.
    let unmeasured = r["calibration"]["unmeasured"].to_string();
    assert!(unmeasured.contains("usage.interactions_per_active_day"), "{unmeasured}");
}

/// A small deterministic population: `users` users over `days` days, each
/// active on half the days, lognormal interactions a day (median `ipd`,
/// p95 `ipd95`), 1 to 3 calls an interaction with session ids, lognormal
/// tokens. Written as JSON Lines with the columns `--map` names below.
fn generate(path: &Path, users: usize, days: usize, ipd: f64, ipd95: f64, seed: u64) {
    generate_calls(path, users, days, ipd, ipd95, seed, 3)
}

/// [`generate`] with 1 to `max_calls` calls an interaction.
fn generate_calls(path: &Path, users: usize, days: usize, ipd: f64, ipd95: f64, seed: u64, max_calls: u32) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sigma = (ipd95 / ipd).ln() / 1.644_853_626_951_472_2;
    let per_day = LogNormal::new(ipd.ln(), sigma).unwrap();
    let tin = LogNormal::new(2000f64.ln(), 0.7).unwrap();
    let tout = LogNormal::new(300f64.ln(), 0.6).unwrap();
    let mut out = String::new();
    let t0 = 1_764_547_200u64;
    let mut session = 0u64;
    for u in 0..users {
        for d in 0..days {
            if rand::RngExt::random_bool(&mut rng, 0.5) {
                continue;
            }
            let n = per_day.sample(&mut rng).round().max(1.0) as u64;
            for i in 0..n {
                session += 1;
                let calls = 1 + rand::RngExt::random_range(&mut rng, 0..max_calls);
                for c in 0..calls {
                    let _ = writeln!(
                        out,
                        r#"{{"ts": {}, "customer": "user-{u}", "conv": "s{session}", "in": {}, "out": {}, "model": "claude-sonnet-4-5"}}"#,
                        t0 + (d as u64) * 86_400 + 3_600 + i * 600 + u64::from(c) * 5,
                        tin.sample(&mut rng).round() as u64,
                        tout.sample(&mut rng).round() as u64
                    );
                }
            }
        }
    }
    std::fs::write(path, out).unwrap();
}

const MAP: &str = "time=ts,user=customer,session=conv,input=in,output=out,model=model";

fn spec_with(ipd: &str) -> String {
    format!(
        "# A feature whose usage the logs will measure.
costgate: 1
feature:
  id: calibrated
  value: {{kind: revenue}}
models:
  primary: claude-sonnet-4-5
interaction:
  calls: {{p50: 2, p95: 3}}         # a comment on calls
  input_tokens:                     # a block value
    p50: 2000
    p95: 6300
  output_tokens: {{p50: 300, p95: 800}}
  max_calls: 3
  max_input_tokens: 100000
  max_output_tokens: 8000
usage:
  active_share: 0.5
  interactions_per_active_day: {ipd}   # the figure drift watches
tiers:
  - name: pro
    users: 400
    price_usd_per_month: 20
    limit: {{daily_tokens: 2000000, on_limit: block, message: \"You've used {{used}} of {{limit}} tokens today; more at {{reset}}.\"}}
"
    )
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `--spec` writes the spec again with the fitted fields replaced, marked
/// measured, the comments and the other fields kept; the result validates
/// and a check reads its fields as measured.
#[test]
fn calibrate_rewrites_the_spec_in_place_keeping_its_comments() {
    let d = tmp();
    let logs = d.path().join("usage.jsonl");
    generate(&logs, 300, 14, 3.0, 9.0, 1);
    let spec = d.path().join("feature.yaml");
    std::fs::write(&spec, spec_with("{p50: 3, p95: 9}")).unwrap();
    let out_spec = d.path().join("calibrated.yaml");
    let out = costgate()
        .args(["calibrate"])
        .arg(&logs)
        .args(["--map", MAP, "--spec"])
        .arg(&spec)
        .arg("-o")
        .arg(&out_spec)
        .assert()
        .success();
    let report = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(report.contains("usage.interactions_per_active_day"), "{report}");
    let text = std::fs::read_to_string(&out_spec).unwrap();
    assert!(
        text.starts_with("# A feature whose usage the logs will measure.\n"),
        "{text}"
    );
    assert!(text.contains("# a comment on calls"), "{text}");
    assert!(text.contains("# the figure drift watches"), "{text}");
    assert!(text.contains("  input_tokens: {"), "{text}");
    assert!(!text.contains("    p50: 2000"), "the block value is replaced: {text}");
    assert!(
        text.contains("measured: \"costgate calibrate 2026-11-30: usage.jsonl sha256:"),
        "{text}"
    );
    assert!(text.contains("max_input_tokens: 100000"), "{text}");
    // The calibrated spec checks, and its fitted fields are `measured`.
    let out = costgate()
        .arg("check")
        .arg(&out_spec)
        .args(["--format", "json", "--trials", "200", "--allow-few-trials"])
        .assert();
    let r = json_of(&out.get_output().stdout);
    let assumptions = r["features"][0]["assumptions"].as_array().unwrap();
    let origin = |path: &str| {
        assumptions
            .iter()
            .find(|a| a["path"] == path)
            .map(|a| a["origin"]["kind"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{path} not in {assumptions:#?}"))
    };
    assert_eq!(origin("interaction.input_tokens"), "measured");
    assert_eq!(origin("usage.interactions_per_active_day"), "measured");
    // The original is untouched.
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), spec_with("{p50: 3, p95: 9}"));
}

fn observed_findings(spec_text: &str, logs: &Path, dir: &Path) -> (Vec<Value>, Value) {
    let spec = dir.join("spec.yaml");
    std::fs::write(&spec, spec_text).unwrap();
    let out = costgate()
        .arg("check")
        .arg(&spec)
        .arg("--observed")
        .arg(logs)
        .args([
            "--map",
            MAP,
            "--format",
            "json",
            "--trials",
            "500",
            "--allow-few-trials",
        ])
        .assert();
    let r = json_of(&out.get_output().stdout);
    let f = &r["features"][0];
    let drift: Vec<Value> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "observed-above-model")
        .cloned()
        .collect();
    (drift, f["observed"].clone())
}

/// Drift: logs generated from the spec's own interactions per active day are
/// not flagged; the same spec against logs whose p95 is doubled is, at the
/// quantity's line, with both figures.
#[test]
fn check_observed_flags_a_doubled_tail_and_not_the_spec_that_made_the_logs() {
    let d = tmp();
    let same = d.path().join("same.jsonl");
    let doubled = d.path().join("doubled.jsonl");
    generate(&same, 300, 14, 3.0, 9.0, 2);
    generate(&doubled, 300, 14, 3.0, 18.0, 3);
    let spec = spec_with("{p50: 3, p95: 9}");
    let (flags, observed) = observed_findings(&spec, &same, d.path());
    assert!(
        flags
            .iter()
            .all(|f| f["span"]["path"] != "usage.interactions_per_active_day"),
        "{flags:#?}"
    );
    assert!(
        observed["observed_month"]["mean_usd"].as_f64().unwrap() > 0.0,
        "{observed:#}"
    );
    assert!(observed["spec_month"]["mean_usd"].as_f64().unwrap() > 0.0);
    let (flags, _) = observed_findings(&spec, &doubled, d.path());
    let f = flags
        .iter()
        .find(|f| f["span"]["path"] == "usage.interactions_per_active_day")
        .unwrap_or_else(|| panic!("not flagged: {flags:#?}"));
    assert_eq!(f["level"], "warn");
    assert_eq!(f["span"]["line"], 19, "{f:#}");
    let m = f["message"].as_str().unwrap();
    assert!(m.starts_with("interactions per active day: observed p95 "), "{m}");
    assert!(m.ends_with("the spec models 9"), "{m}");
    // The table shows the same figures, the flagged quantity marked, and
    // both months.
    let spec_path = d.path().join("spec.yaml");
    let out = costgate()
        .arg("check")
        .arg(&spec_path)
        .arg("--observed")
        .arg(&doubled)
        .args(["--map", MAP, "--trials", "500", "--allow-few-trials"])
        .assert();
    let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("usage.interactions_per_active_day"))
        .unwrap_or_else(|| panic!("{table}"));
    let observed_p95 = m.split("observed p95 ").nth(1).unwrap().split(' ').next().unwrap();
    assert!(row.contains(observed_p95) && row.ends_with("ABOVE"), "{row}");
    assert!(table.contains("month as the spec models it:"), "{table}");
    assert!(table.contains("month with the observed figures: mean $"), "{table}");
}

/// `--observed` takes one spec; with several it is an input error (65).
#[test]
fn check_observed_takes_one_spec() {
    let d = tmp();
    let logs = d.path().join("u.jsonl");
    generate(&logs, 20, 2, 3.0, 9.0, 4);
    std::fs::write(d.path().join("a.yaml"), spec_with("3")).unwrap();
    std::fs::write(
        d.path().join("b.yaml"),
        spec_with("3").replace("id: calibrated", "id: other"),
    )
    .unwrap();
    costgate()
        .arg("check")
        .arg(d.path())
        .arg("--observed")
        .arg(&logs)
        .args(["--map", MAP])
        .assert()
        .code(65)
        .stderr(predicates::str::contains("--observed compares one feature's logs"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Hostile logs and flags: a file mostly of garbage is exit 65 naming the
/// file and the line; a bad `--map` is a usage error (64); a file in no
/// known format without `--map` says so (65); a spec that does not validate
/// is refused before any log is read; `-o` onto a folder is exit 73 and
/// replaces nothing; terminal escapes in a model name never reach the
/// output raw.
#[test]
fn hostile_logs_and_flags_are_refused_with_their_place_and_exit_code() {
    let d = tmp();
    let garbage = write(
        d.path(),
        "garbage.csv",
        "ts,in,out\n2025-12-01T00:00:00Z,10,5\nnot,a,row\nxx,yy,zz\n\u{1}\u{2},bad,bad\n",
    );
    let out = costgate()
        .args(["calibrate"])
        .arg(&garbage)
        .args(["--map", "time=ts,input=in,output=out"])
        .assert()
        .code(65);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("garbage.csv:3"), "{err}");
    costgate()
        .args(["calibrate"])
        .arg(&garbage)
        .args(["--map", "time=ts,nonsense=in"])
        .assert()
        .code(64)
        .stderr(predicates::str::contains("--map"));
    costgate()
        .args(["calibrate"])
        .arg(&garbage)
        .assert()
        .code(65)
        .stderr(predicates::str::contains("no --map"));
    // A log with no call at all measures nothing: refused, not an empty fit.
    let empty = write(d.path(), "empty.csv", "ts,in,out\n");
    costgate()
        .args(["calibrate"])
        .arg(&empty)
        .args(["--map", "time=ts,input=in,output=out"])
        .assert()
        .code(65)
        .stderr(predicates::str::contains("no call in the log"));
    let bad_spec = write(d.path(), "bad.yaml", "costgate: 1\nfeature: {id: x}\n");
    costgate()
        .args(["calibrate", "/nonexistent/logs.csv", "--spec"])
        .arg(&bad_spec)
        .assert()
        .code(65)
        .stderr(predicates::str::contains("bad.yaml"));
    let escaped = write(
        d.path(),
        "escaped.jsonl",
        "{\"ts\": 1764547200, \"in\": 10, \"out\": 5, \"m\": \"evil\\u001b]0;owned\\u0007model\"}\n",
    );
    let folder = d.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    costgate()
        .args(["calibrate"])
        .arg(&escaped)
        .args(["--map", "time=ts,input=in,output=out,model=m", "-o"])
        .arg(&folder)
        .assert()
        .code(73);
    assert!(folder.is_dir());
    for format in ["text", "markdown", "json"] {
        let out = costgate()
            .args(["calibrate"])
            .arg(&escaped)
            .args(["--map", "time=ts,input=in,output=out,model=m", "--format", format])
            .assert()
            .success();
        let o = out.get_output();
        for stream in [&o.stdout, &o.stderr] {
            assert!(
                !stream.contains(&0x1b),
                "{format}: raw escape in {}",
                String::from_utf8_lossy(stream)
            );
            assert!(!stream.contains(&0x07), "{format}: raw BEL");
        }
    }
}

/// A TOML spec (the bundled example) is calibrated in TOML: the fitted
/// fields become inline tables marked measured, its comments stay, and the
/// result validates.
#[test]
fn a_toml_spec_is_calibrated_in_toml_keeping_its_comments() {
    let d = tmp();
    let logs = d.path().join("usage.jsonl");
    // One call an interaction: the example's gateway enforces `max_calls = 1`.
    generate_calls(&logs, 250, 10, 2.0, 6.0, 5, 1);
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/consumer-chat.toml");
    let original = std::fs::read_to_string(spec).unwrap();
    let comments: Vec<&str> = original.lines().filter(|l| l.trim_start().starts_with('#')).collect();
    let out_spec = d.path().join("calibrated.toml");
    costgate()
        .args(["calibrate"])
        .arg(&logs)
        .args(["--map", MAP, "--spec", spec, "-o"])
        .arg(&out_spec)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out_spec).unwrap();
    for c in comments {
        assert!(text.contains(c), "comment lost: {c}");
    }
    assert!(
        text.contains("measured = \"costgate calibrate 2026-11-30: usage.jsonl sha256:"),
        "{text}"
    );
    costgate()
        .arg("check")
        .arg(&out_spec)
        .args(["--trials", "200", "--allow-few-trials", "--format", "json"])
        .assert()
        .code(predicates::ord::lt(64));
    // Logs whose interactions make more calls than the spec's gateway allows
    // give a spec that would not validate: refused, nothing written.
    generate_calls(&logs, 250, 10, 2.0, 6.0, 6, 3);
    let refused = d.path().join("refused.toml");
    costgate()
        .args(["calibrate"])
        .arg(&logs)
        .args(["--map", MAP, "--spec", spec, "-o"])
        .arg(&refused)
        .assert()
        .code(65)
        .stderr(predicates::str::contains(format!("(calibrated) {spec}")))
        .stderr(predicates::str::contains("max_calls"));
    assert!(!refused.exists());
}
