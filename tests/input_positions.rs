//! Input problems found while reading an input file name the file, the line
//! and the column (issue 9): text that is not UTF-8, numbers past the limit,
//! and quantities whose bounds contradict their percentiles.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::Path;

fn costgate() -> assert_cmd::Command {
    cmd::costgate_on("2026-11-28")
}

const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: gpt-4o}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 1}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

/// `costgate check` in `dir` with `args`: (exit code, stderr).
fn check_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = costgate()
        .current_dir(dir)
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------- not UTF-8 ----

#[test]
fn a_spec_that_is_not_utf8_names_the_line_and_column_of_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    // line 3 is `  id: é` then an invalid byte: the column counts characters
    let spec = b"costgate: 1\nfeature:\n  id: \xc3\xa9\xfe\n".to_vec();
    std::fs::write(dir.path().join("t.yaml"), &spec).unwrap();
    let (code, err) = check_in(dir.path(), &["t.yaml"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("t.yaml:3:8:"), "{err}");
    assert!(err.contains("not UTF-8") && err.contains("0xFE"), "{err}");
    // TOML too, and through the library
    let toml = b"costgate = 1\n[feature]\nid = \"x\xffy\"\n".to_vec();
    std::fs::write(dir.path().join("t.toml"), &toml).unwrap();
    let ps = costgate::spec::load_file(&dir.path().join("t.toml")).unwrap_err();
    assert_eq!((ps[0].span.line, ps[0].span.column), (3, 8), "{ps:#?}");
}

#[test]
fn a_policy_that_is_not_utf8_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), BASE).unwrap();
    std::fs::write(
        dir.path().join("costgate.toml"),
        b"[thresholds]\n# caf\xe9\nmax_cost_revenue_ratio = 0.5\n",
    )
    .unwrap();
    let (code, err) = check_in(dir.path(), &["t.yaml"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("costgate.toml:2:6:") && err.contains("not UTF-8"), "{err}");
}

#[test]
fn a_price_catalog_that_is_not_utf8_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), BASE).unwrap();
    std::fs::write(
        dir.path().join("prices.json"),
        b"{\n  \"gpt-4o\": {\"mode\": \"chat\", \"litellm_provider\": \"op\xe9nai\"}\n}\n",
    )
    .unwrap();
    let (code, err) = check_in(dir.path(), &["--pricing", "prices.json", "t.yaml"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("prices.json:2:53:") && err.contains("not UTF-8"), "{err}");
    // the pinned snapshot, read on every check
    std::fs::write(
        dir.path().join("costgate-prices.lock.toml"),
        b"format = \"costgate-prices/1\"\n\xff\n",
    )
    .unwrap();
    let (code, err) = check_in(dir.path(), &["t.yaml"]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("costgate-prices.lock.toml:2:1:") && err.contains("not UTF-8"),
        "{err}"
    );
}

// ------------------------------------------- bounds against percentiles ----

#[test]
fn max_below_p50_and_min_above_p95_point_at_the_bound_itself() {
    let spec = |q: &str| BASE.replace("input_tokens: 1000,", &format!("input_tokens: {q},"));
    // interaction is on line 4; `max` and `min` sit at their own columns
    let ps = costgate::spec::load_str("t.yaml", &spec("{p50: 1000, p95: 3000, max: 500}")).unwrap_err();
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "interaction.input_tokens.max");
    assert_eq!((ps[0].span.line, ps[0].span.column), (4, 57), "{ps:#?}");
    assert!(ps[0].message.contains("below p50"), "{}", ps[0].message);
    let ps = costgate::spec::load_str("t.yaml", &spec("{p50: 1000, p95: 3000, min: 5000}")).unwrap_err();
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "interaction.input_tokens.min");
    assert_eq!((ps[0].span.line, ps[0].span.column), (4, 57), "{ps:#?}");
    assert!(ps[0].message.contains("above p95"), "{}", ps[0].message);
    // in TOML, on its own line
    let toml = "costgate = 1
[feature]
id = \"f\"
value = {kind = \"revenue\"}
[models]
primary = \"gpt-4o\"
[interaction]
output_tokens = 500
[interaction.input_tokens]
p50 = 1000
p95 = 3000
max = 10
[usage]
active_share = 1
interactions_per_active_day = 1
[[tiers]]
name = \"pro\"
users = 1000
price_usd_per_month = 20
";
    let ps = costgate::spec::load_str("t.toml", toml).unwrap_err();
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "interaction.input_tokens.max");
    assert_eq!((ps[0].span.line, ps[0].span.column), (12, 7), "{ps:#?}");
}

// ------------------------------------------------- the number limit ----

#[test]
fn every_number_past_the_limit_is_refused_where_it_is_read_in_spec_and_policy() {
    // Several at once: each is one out-of-range problem at its own place,
    // whatever field reads it (a count, a quantity's bound, a sample).
    let y = BASE
        .replace("input_tokens: 1000,", "input_tokens: {samples: [1000, 2e9]},")
        .replace("users: 1000", "users: -5e9")
        .replace("price_usd_per_month: 20", "price_usd_per_month: 1e308");
    let ps = costgate::spec::load_str("t.yaml", &y).unwrap_err();
    let got: Vec<(&str, &str, u32)> = ps
        .iter()
        .map(|p| (p.span.path.as_str(), p.code.as_str(), p.span.line))
        .collect();
    assert_eq!(
        got,
        [
            ("interaction.input_tokens.samples[1]", "out-of-range", 4),
            ("tiers[0].users", "out-of-range", 7),
            ("tiers[0].price_usd_per_month", "out-of-range", 7),
        ],
        "{ps:#?}"
    );
    assert!(ps[1].message.contains("more negative"), "{}", ps[1].message);
    assert!(ps[2].message.contains("`1e308` is larger"), "{}", ps[2].message);
    // The policy's numbers have the same limit, at their own position.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), BASE).unwrap();
    std::fs::write(
        dir.path().join("costgate.toml"),
        "[thresholds]\nmax_cost_revenue_ratio = 0.5\nworst_case_monthly_usd = 1e308\n",
    )
    .unwrap();
    let (code, err) = check_in(dir.path(), &["t.yaml"]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("costgate.toml:3:26:")
            && err.contains("thresholds.worst_case_monthly_usd")
            && err.contains("larger than costgate accepts"),
        "{err}"
    );
    // The limit itself is accepted in both.
    std::fs::write(
        dir.path().join("costgate.toml"),
        "[thresholds]\nworst_case_monthly_usd = 1e9\n",
    )
    .unwrap();
    let (code, err) = check_in(dir.path(), &["t.yaml"]);
    assert!(code < 64, "{err}");
}
