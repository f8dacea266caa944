//! `costgate export` and `check --runtime`: every example spec exported to
//! each gateway reads back with no runtime finding; loosening any one
//! exported limit by 10% is `runtime-limit-looser`, tightening it by 10% is
//! `runtime-limit-tighter`, removing it is `runtime-limit-missing`; hostile
//! configuration files are refused by file, line, column and key.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use costgate::runtime::{self, Deployed, FindingKind, Gateway};

fn examples() -> Vec<costgate::check::Loaded> {
    let files = costgate::check::spec_files(&[PathBuf::from("specs")]).unwrap();
    assert!(files.len() >= 5, "the example specs");
    costgate::check::load_all(&files, &costgate::pricing::builtin()).unwrap()
}

/// Write an export's files into `dir`; the configuration files (not scripts).
fn write(dir: &Path, e: &runtime::Export) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    e.files
        .iter()
        .filter(|f| !f.executable)
        .map(|f| {
            let p = dir.join(&f.name);
            std::fs::write(&p, &f.bytes).unwrap();
            p
        })
        .collect()
}

fn findings(l: &costgate::check::Loaded, files: &[PathBuf]) -> Vec<runtime::Finding> {
    let d: Deployed = runtime::read(files).unwrap_or_else(|p| panic!("{p:#?}"));
    runtime::compare(&l.spec, &l.priced, &d).findings
}

/// Every number that is a limit in the exported text: (file index, byte
/// range), for the keys that hold one in each gateway's files.
fn limit_numbers(texts: &[String]) -> Vec<(usize, std::ops::Range<usize>)> {
    let keys = ["requests: ", "\"max_budget\": ", "max_budget: "];
    let mut out = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        for k in keys {
            let mut from = 0;
            while let Some(at) = t[from..].find(k) {
                let start = from + at + k.len();
                let end = start
                    + t[start..]
                        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                        .unwrap_or(0);
                if end > start {
                    out.push((i, start..end));
                }
                from = end.max(start);
            }
        }
    }
    out
}

fn scaled(text: &str, r: &std::ops::Range<usize>, k: f64) -> String {
    let v: f64 = text[r.clone()].parse().unwrap();
    let new = if text[r.clone()].contains('.') {
        format!("{:.6}", v * k)
    } else {
        format!("{}", (v * k).round() as u64)
    };
    format!("{}{}{}", &text[..r.start], new, &text[r.end..])
}

fn each_gateway(g: Gateway) {
    let tmp = tempfile::tempdir().unwrap();
    let mut mutated_any = 0;
    for l in examples() {
        let e = runtime::export(&l.spec, &l.priced, g);
        let dir = tmp.path().join(&l.spec.feature.id);
        let files = write(&dir, &e);
        let clean = findings(&l, &files);
        assert!(
            clean.is_empty(),
            "{} {g:?}: the export reads back with findings: {clean:#?}",
            l.spec.feature.id
        );
        let texts: Vec<String> = files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
        for (i, r) in limit_numbers(&texts) {
            for (k, want) in [(1.1, FindingKind::Looser), (0.9, FindingKind::Tighter)] {
                let mdir = tmp.path().join(format!("m-{}-{i}-{}-{k}", l.spec.feature.id, r.start));
                std::fs::create_dir_all(&mdir).unwrap();
                let mfiles: Vec<PathBuf> = files
                    .iter()
                    .enumerate()
                    .map(|(j, p)| {
                        let q = mdir.join(p.file_name().unwrap());
                        let t = if j == i {
                            scaled(&texts[j], &r, k)
                        } else {
                            texts[j].clone()
                        };
                        std::fs::write(&q, t).unwrap();
                        q
                    })
                    .collect();
                let f = findings(&l, &mfiles);
                let kinds: Vec<FindingKind> = f.iter().map(|x| x.kind).collect();
                assert!(
                    !f.is_empty() && kinds.iter().all(|x| *x == want),
                    "{} {g:?}: {} x{k} in {} gives {f:#?}",
                    l.spec.feature.id,
                    &texts[i][r.clone()],
                    files[i].display()
                );
                mutated_any += 1;
            }
        }
    }
    assert!(mutated_any >= 20, "{g:?}: only {mutated_any} limits were varied");
}

#[test]
fn envoy_exports_read_back_clean_and_every_limit_varied_by_ten_percent_is_caught() {
    each_gateway(Gateway::Envoy);
}

#[test]
fn litellm_exports_read_back_clean_and_every_limit_varied_by_ten_percent_is_caught() {
    each_gateway(Gateway::Litellm);
}

fn tiered() -> costgate::check::Loaded {
    examples()
        .into_iter()
        .find(|l| l.spec.feature.id == "tiered-assistant")
        .unwrap()
}

#[test]
fn a_removed_limit_is_missing_and_points_at_the_spec_line() {
    let l = tiered();
    let tmp = tempfile::tempdir().unwrap();
    // Envoy: the free tier's rule keyed on another header is not costgate's.
    let e = runtime::export(&l.spec, &l.priced, Gateway::Envoy);
    let files = write(tmp.path(), &e);
    let t = std::fs::read_to_string(&files[0]).unwrap();
    let t = t.replacen("value: \"free\"", "value: \"gratis\"", 1);
    std::fs::write(&files[0], t).unwrap();
    let f = findings(&l, &files);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::Missing);
    assert_eq!(f[0].spec_path, "tiers[0].limit.daily_tokens");
    assert_eq!(
        f[0].spec_loc.line, 43,
        "the daily_tokens line of specs/tiered-assistant.yaml"
    );
    // LiteLLM: no global budget in config.yaml.
    let dir = tmp.path().join("l");
    let e = runtime::export(&l.spec, &l.priced, Gateway::Litellm);
    let files = write(&dir, &e);
    let cfg = dir.join("config.yaml");
    let t = std::fs::read_to_string(&cfg).unwrap();
    let t: String = t
        .lines()
        .filter(|l| !l.trim_start().starts_with("max_budget: 900"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, t).unwrap();
    let f = findings(&l, &files);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::Missing);
    assert_eq!(f[0].spec_path, "breakers.global_daily_usd");
}

#[test]
fn shadow_mode_where_the_spec_blocks_is_looser_and_a_hard_budget_on_a_notify_tenant_is_tighter() {
    let l = tiered();
    let tmp = tempfile::tempdir().unwrap();
    let e = runtime::export(&l.spec, &l.priced, Gateway::Envoy);
    let files = write(tmp.path(), &e);
    let t = std::fs::read_to_string(&files[0]).unwrap();
    // The free tier's rule only counts.
    let t2 = t.replacen(
        "          limit:\n            requests: 40000\n",
        "          shadowMode: true\n          limit:\n            requests: 40000\n",
        1,
    );
    assert_ne!(t, t2);
    std::fs::write(&files[0], &t2).unwrap();
    let f = findings(&l, &files);
    assert!(f.len() == 1 && f[0].kind == FindingKind::Looser, "{f:#?}");
    assert!(f[0].message.contains("only alerts"), "{}", f[0].message);
    // The enterprise tenants notify; a blocking rule stops them.
    let t3 = t.replacen("          shadowMode: true\n", "", 1);
    std::fs::write(&files[0], &t3).unwrap();
    let f = findings(&l, &files);
    assert!(f.len() == 1 && f[0].kind == FindingKind::Tighter, "{f:#?}");
    // A changed cost expression makes every USD limit suspect.
    let t4 = t.replacen("* 1600u", "* 16u", 1);
    std::fs::write(&files[0], &t4).unwrap();
    let f = findings(&l, &files);
    assert!(f.len() == 1 && f[0].kind == FindingKind::Looser, "{f:#?}");
    assert!(f[0].message.contains("cost expression"), "{}", f[0].message);
}

#[test]
fn a_longer_window_is_looser() {
    let l = tiered();
    let tmp = tempfile::tempdir().unwrap();
    let e = runtime::export(&l.spec, &l.priced, Gateway::Litellm);
    let files = write(tmp.path(), &e);
    let p = tmp.path().join("budgets.json");
    let t = std::fs::read_to_string(&p).unwrap().replacen("\"1d\"", "\"7d\"", 1);
    std::fs::write(&p, t).unwrap();
    let f = findings(&l, &files);
    assert!(f.len() == 1 && f[0].kind == FindingKind::Looser, "{f:#?}");
    assert!(
        f[0].message.contains("over a week, the spec over a day"),
        "{}",
        f[0].message
    );
}

#[test]
fn the_cost_expression_prices_a_call_as_the_catalog_does_and_never_undercounts() {
    // gpt-4.1-mini at 1,800 input (720 cached) and 350 output tokens:
    // 1,080 x 0.4 + 720 x 0.1 + 350 x 1.6 = 1,064 micro-USD, as the brief
    // worked it by hand; the CEL's integer arithmetic rounds up.
    let l = tiered();
    let cel = runtime::envoy::cost_cel(&l.priced, 1e-6);
    assert!(cel.starts_with("model == 'gpt-4.1-mini' ? "), "{cel}");
    assert!(
        cel.contains("* 400u + cached_input_tokens * 100u + output_tokens * 1600u + 999u) / 1000u"),
        "{cel}"
    );
    let exact = (1080.0 * 400.0 + 720.0 * 100.0 + 350.0 * 1600.0) / 1000.0;
    assert_eq!(exact, 1064.0);
    let cost = l.priced.get("primary").call_cost(1800.0, 350.0, 0.4) * 1e6;
    assert!((cost - exact).abs() < 1e-6, "{cost}");
}

fn costgate() -> Command {
    let mut c = Command::cargo_bin("costgate").unwrap();
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("CI")
        .env("COSTGATE_TODAY", "2026-11-28");
    c
}

#[test]
fn export_then_check_runtime_passes_and_a_loosened_gateway_blocks_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = costgate()
        .args(["export", "--to", "envoy", "specs/tiered-assistant.yaml", "-o"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("tiered-assistant -> Envoy AI Gateway: 5 limits"),
        "{text}"
    );
    // The printed gap list names the fallback tier that becomes a hard stop.
    assert!(
        text.contains("specs/tiered-assistant.yaml:54:17: `tiers[1].limit.on_limit`: stricter"),
        "{text}"
    );
    let file = tmp.path().join("tiered-assistant/envoy/costgate-limits.yaml");
    let check = |extra: &[&str]| {
        costgate()
            .args([
                "check",
                "specs/tiered-assistant.yaml",
                "--trials",
                "200",
                "--allow-few-trials",
                "--color",
                "never",
                "--runtime",
            ])
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = check(&[]);
    let ok_text = String::from_utf8_lossy(&ok.stdout);
    assert!(!ok_text.contains("runtime-limit"), "{ok_text}");
    let base_code = ok.status.code();
    // A pull request raises the free tier's cap in the gateway only.
    let t = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("requests: 40000", "requests: 400000", 1);
    std::fs::write(&file, t).unwrap();
    let bad = check(&[]);
    let bad_text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{bad_text}");
    assert!(bad_text.contains("runtime-limit-looser"), "{bad_text}");
    assert!(
        bad_text.contains("400,000 tokens per day, the spec 40,000"),
        "{bad_text}"
    );
    assert!(
        bad_text.contains("costgate-limits.yaml:"),
        "the gateway file and line: {bad_text}"
    );
    assert_ne!(base_code, Some(1), "the untouched export does not block: {ok_text}");
}

#[test]
fn export_refuses_to_write_through_a_file_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("out");
    std::fs::write(&blocker, "keep me").unwrap();
    let out = costgate()
        .args(["export", "--to", "litellm", "specs/tiered-assistant.yaml", "-o"])
        .arg(&blocker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(73), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "keep me");
}

fn refused(name: &str, text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(name);
    std::fs::write(&p, text).unwrap();
    let out = costgate()
        .args([
            "check",
            "specs/tiered-assistant.yaml",
            "--trials",
            "100",
            "--allow-few-trials",
            "--runtime",
        ])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(65),
        "{name}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn hostile_configuration_is_refused_by_file_line_column_and_key() {
    let e = refused(
        "limits.yaml",
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nspec:\n  rateLimit:\n    global:\n      rules:\n        - clientSelectors: [{headers: [{name: x-costgate-feature, type: Exact, value: f}]}]\n          cost: {response: {from: Metadata, metadata: {namespace: io.envoy.ai_gateway, key: llm_total_token}}}\n          limit: {requests: 10, unit: Fortnight}\n",
    );
    assert!(
        e.contains("limits.yaml:9:39: `[0].spec.rateLimit.global.rules[0].limit.unit`"),
        "{e}"
    );
    let e = refused("budgets.json", "[{\"budget_id\": \"f:free\", \"max_budget\": -5}]");
    assert!(e.contains("budgets.json:1:40: `[0].max_budget`"), "{e}");
    let e = refused(
        "budgets.json",
        "[{\"budget_id\": \"f:free\", \"max_budget\": 5, \"budget_duration\": \"1 fortnight\"}]",
    );
    assert!(
        e.contains("`[0].budget_duration`") && e.contains("not a LiteLLM duration"),
        "{e}"
    );
    let e = refused("teams.json", "{\"x\": 1}");
    assert!(e.contains("not a gateway configuration costgate reads"), "{e}");
    // Input text is printed inert.
    let e = refused(
        "budgets.json",
        "[{\"budget_id\": \"f:free\", \"max_budget\": 5, \"budget_duration\": \"1\\u001b[31mred\"}]",
    );
    assert!(!e.contains('\u{1b}'), "{e:?}");
    // An alias bomb is refused by the parser's budget, not expanded.
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 0..12 {
        bomb.push_str(&format!(
            "b{i}: &b{i} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n",
            p = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) }
        ));
    }
    bomb.push_str("litellm_settings: {max_budget: 1}\n");
    refused("config.yaml", &bomb);
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("config.yaml");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid path string; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = costgate()
        .args([
            "check",
            "specs/tiered-assistant.yaml",
            "--trials",
            "100",
            "--allow-few-trials",
            "--runtime",
        ])
        .arg(&p)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.yaml"));
}

#[test]
fn a_token_cap_becomes_the_usd_budget_of_its_model_at_the_central_call_rounded_down() {
    // specs/tiered-assistant.yaml's free tier: 40,000 tokens a day on
    // gpt-4.1-nano ($0.10 in, $0.025 cached, $0.40 out per million); the
    // central call is 1,800 input tokens (40% cached) and 350 output:
    // 1,080 x 0.1 + 720 x 0.025 + 350 x 0.4 = 266 micro-USD per 2,150
    // tokens, so 40,000 tokens is 4,948.8 micro-USD: $0.004948 rounded
    // down, never looser. The warning at 80% is $0.003958.
    let l = tiered();
    let e = runtime::export(&l.spec, &l.priced, Gateway::Litellm);
    let budgets = e.files.iter().find(|f| f.name == "budgets.json").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&budgets.bytes).unwrap();
    let free = v
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["budget_id"] == "tiered-assistant:free")
        .unwrap();
    assert_eq!(free["max_budget"], 0.004948);
    assert_eq!(free["soft_budget"], 0.003958);
    assert_eq!(free["budget_duration"], "1d");
    let gap = e
        .plan
        .gaps
        .iter()
        .find(|g| g.spec_path == "tiers[0].limit.daily_tokens")
        .unwrap();
    assert!(gap.message.contains("exported as $0.004948 a day"), "{}", gap.message);
    assert!(
        gap.message.contains("it would be $0.016"),
        "the dearest rate: 40,000 x $0.40/M: {}",
        gap.message
    );
}
