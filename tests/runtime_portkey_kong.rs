//! Portkey and Kong: every example spec exported, read back and compared
//! with itself (no finding), each exported limit loosened, tightened and
//! removed (the right finding), the documentation's examples read, and
//! hostile files answered with located problems.

use std::path::{Path, PathBuf};

use costgate::check::Loaded;
use costgate::runtime::{self, Deployed, FindingKind, Gateway, Measure, Scope};
use costgate::source::{Problem, ProblemCode};
use serde_json::Value as Json;

const GATEWAYS: [Gateway; 2] = [Gateway::Portkey, Gateway::Kong];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn specs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "toml")))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

fn load(path: &Path) -> Loaded {
    costgate::check::load_all(&[path.to_path_buf()], &costgate::pricing::builtin())
        .unwrap_or_else(|p| panic!("{}: {p:?}", path.display()))
        .remove(0)
}

fn read_files(files: &[(String, Vec<u8>)]) -> Result<Deployed, Vec<Problem>> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, bytes) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p);
    }
    runtime::read(&paths)
}

fn findings(l: &Loaded, files: &[(String, Vec<u8>)]) -> Vec<runtime::Finding> {
    let d = read_files(files).unwrap_or_else(|p| panic!("{p:?}"));
    runtime::compare(&l.spec, &l.priced, &d).findings
}

fn exported(l: &Loaded, g: Gateway) -> (runtime::Export, Json) {
    let e = runtime::export(&l.spec, &l.priced, g);
    assert_eq!(e.files.len(), 1);
    let text = String::from_utf8(e.files[0].bytes.clone()).unwrap();
    let v: Json = match g {
        Gateway::Portkey => serde_json::from_str(&text).unwrap(),
        _ => serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("{err}\n{text}")),
    };
    (e, v)
}

/// JSON pointers of every exported limit, and of the list item to delete
/// to remove it.
fn limits(g: Gateway, v: &Json) -> Vec<(String, Removal)> {
    let mut out = Vec::new();
    match g {
        Gateway::Portkey => {
            for (list, field) in [("usage_limits", "credit_limit"), ("rate_limits", "value")] {
                for i in 0..v[list].as_array().map_or(0, Vec::len) {
                    out.push((format!("/{list}/{i}/{field}"), Removal::Item(format!("/{list}"), i)));
                }
            }
        }
        _ => {
            for i in 0..v["plugins"].as_array().map_or(0, Vec::len) {
                let e = format!("/plugins/{i}/config/llm_providers/0");
                for k in 0..v
                    .pointer(&format!("{e}/limit"))
                    .and_then(Json::as_array)
                    .map_or(0, Vec::len)
                {
                    out.push((format!("{e}/limit/{k}"), Removal::Pair(e.clone(), k)));
                }
            }
        }
    }
    out
}

#[derive(Clone)]
enum Removal {
    /// Delete item `i` of the list at the pointer.
    Item(String, usize),
    /// Delete entry `k` of `limit` and `window_size` under the pointer.
    Pair(String, usize),
}

fn remove(v: &mut Json, r: &Removal) {
    match r {
        Removal::Item(list, i) => {
            v.pointer_mut(list).unwrap().as_array_mut().unwrap().remove(*i);
        }
        Removal::Pair(e, k) => {
            for f in ["limit", "window_size"] {
                v.pointer_mut(&format!("{e}/{f}"))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(*k);
            }
        }
    }
}

fn file_of(g: Gateway, v: &Json) -> Vec<(String, Vec<u8>)> {
    // JSON is YAML: the Kong file is written back as JSON.
    let name = if g == Gateway::Portkey {
        "policies.json"
    } else {
        "kong.yaml"
    };
    vec![(name.to_string(), serde_json::to_vec_pretty(v).unwrap())]
}

fn kinds(f: &[runtime::Finding]) -> Vec<FindingKind> {
    f.iter().map(|f| f.kind).collect()
}

#[test]
fn every_example_spec_round_trips_and_each_limit_changed_is_found() {
    let mut perturbed = 0;
    for path in specs() {
        let l = load(&path);
        for g in GATEWAYS {
            let (e, v) = exported(&l, g);
            let files: Vec<(String, Vec<u8>)> = e.files.iter().map(|f| (f.name.clone(), f.bytes.clone())).collect();
            let f = findings(&l, &files);
            assert!(f.is_empty(), "{} {g:?}: {f:#?}", path.display());
            let ls = limits(g, &v);
            assert_eq!(
                ls.len(),
                e.plan.wants.len(),
                "{} {g:?}: one exported limit per want",
                path.display()
            );
            for (ptr, removal) in ls {
                let x = v.pointer(&ptr).and_then(Json::as_f64).unwrap();
                for (factor, kind) in [(1.1, FindingKind::Looser), (0.9, FindingKind::Tighter)] {
                    let mut w = v.clone();
                    *w.pointer_mut(&ptr).unwrap() = serde_json::json!(x * factor);
                    let f = findings(&l, &file_of(g, &w));
                    assert_eq!(
                        kinds(&f),
                        vec![kind],
                        "{} {g:?} {ptr} x{factor}: {f:#?}",
                        path.display()
                    );
                }
                let mut w = v.clone();
                remove(&mut w, &removal);
                let f = findings(&l, &file_of(g, &w));
                assert!(
                    kinds(&f).contains(&FindingKind::Missing),
                    "{} {g:?} {ptr} removed: {f:#?}",
                    path.display()
                );
                perturbed += 1;
            }
        }
    }
    // Every spec's Portkey limits and the token caps for Kong: not vacuous.
    assert!(perturbed >= 15, "{perturbed}");
}

#[test]
fn daily_and_monthly_caps_of_one_tier_round_trip_as_two_windows() {
    let text = std::fs::read_to_string(root().join("specs/tiered-assistant.yaml")).unwrap();
    let text = text.replacen(
        "      daily_tokens: 40000\n",
        "      daily_tokens: 40000\n      monthly_tokens: 600000\n",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two-windows.yaml");
    std::fs::write(&p, text).unwrap();
    let l = load(&p);
    for g in GATEWAYS {
        let (e, v) = exported(&l, g);
        let free: Vec<_> = e
            .plan
            .wants
            .iter()
            .filter(|w| w.key.scope == Scope::TierUser("free".into()))
            .map(|w| (w.amount, w.window))
            .collect();
        assert_eq!(free, vec![(40000.0, runtime::DAY), (600000.0, runtime::MONTH)], "{g:?}");
        assert!(findings(&l, &file_of(g, &v)).is_empty(), "{g:?}");
        // Loosening only the monthly window is found, on the monthly cap.
        let ptr = limits(g, &v)
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| v.pointer(p).and_then(Json::as_f64) == Some(600000.0))
            .unwrap();
        let mut w = v.clone();
        *w.pointer_mut(&ptr).unwrap() = serde_json::json!(660000);
        let f = findings(&l, &file_of(g, &w));
        assert_eq!(kinds(&f), vec![FindingKind::Looser], "{g:?}: {f:#?}");
        assert!(f[0].spec_path.ends_with("limit.monthly_tokens"), "{}", f[0].spec_path);
    }
}

#[test]
fn every_limit_of_every_spec_is_exported_or_on_the_gap_list() {
    for path in specs() {
        let l = load(&path);
        let mut fields = Vec::new();
        for t in &l.spec.tiers {
            if let Some(lim) = &t.limit {
                fields.extend(lim.daily_tokens.iter().map(|n| n.path.clone()));
                fields.extend(lim.monthly_tokens.iter().map(|n| n.path.clone()));
                fields.extend(lim.warn_at.iter().map(|n| n.path.clone()));
                fields.extend(lim.message.iter().map(|n| n.path.clone()));
                if lim.on_limit != costgate::spec::OnLimit::Block {
                    fields.push(format!("{}.on_limit", lim.path));
                }
            }
            if t.tenant_budget.is_some() {
                fields.push(format!("{}.tenant_budget", t.path));
            }
            fields.extend(t.accounts.iter().map(|a| a.path.clone()));
        }
        fields.extend(l.spec.breakers.iter().map(|(_, b)| b.path.clone()));
        assert!(!fields.is_empty());
        for g in GATEWAYS {
            let plan = runtime::plan(&l.spec, &l.priced, g);
            for f in &fields {
                let covered = plan.wants.iter().any(|w| w.spec_path.starts_with(f.as_str()))
                    || plan.gaps.iter().any(|x| x.spec_path.starts_with(f.as_str()));
                assert!(covered, "{} {g:?}: `{f}` neither exported nor a gap", path.display());
            }
        }
    }
}

#[test]
fn tiered_assistant_maps_to_the_documented_portkey_and_kong_fields() {
    let l = load(&root().join("specs/tiered-assistant.yaml"));
    let (e, v) = exported(&l, Gateway::Portkey);
    let free = &v["usage_limits"][0];
    assert_eq!(free["type"], "tokens");
    assert_eq!(free["credit_limit"], 40000);
    assert_eq!(free["alert_threshold"], 32000);
    assert_eq!(free["periodic_reset_days"], 1);
    assert_eq!(free["group_by"], serde_json::json!([{"key": "metadata._user"}]));
    assert_eq!(
        free["conditions"][0],
        serde_json::json!({"key": "metadata.costgate_feature", "value": "tiered-assistant"})
    );
    let global = v["usage_limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["group_by"] == serde_json::json!([{"key": "workspace_id"}]))
        .unwrap();
    assert_eq!(
        (global["type"].as_str(), global["credit_limit"].as_f64()),
        (Some("cost"), Some(900.0))
    );
    // The feature breaker throttles: exported as a hard stop, and said so.
    assert!(
        e.plan
            .gaps
            .iter()
            .any(|g| g.spec_path == "breakers.feature_daily_usd" && g.kind == runtime::GapKind::Tighter)
    );
    // The pro tier falls back: a hard stop at the cap, and said so.
    assert!(
        e.plan
            .gaps
            .iter()
            .any(|g| g.spec_path.ends_with("limit.on_limit") && g.kind == runtime::GapKind::Tighter)
    );

    let (e, v) = exported(&l, Gateway::Kong);
    assert_eq!(v["_format_version"], "3.0");
    let p = &v["plugins"][0];
    assert_eq!(p["name"], "ai-rate-limiting-advanced");
    assert_eq!(p["consumer_group"], "tiered-assistant~free");
    assert_eq!(p["config"]["identifier"], "consumer");
    assert_eq!(p["config"]["window_type"], "fixed");
    assert_eq!(
        p["config"]["llm_providers"],
        serde_json::json!([{"name": "openai", "limit": [40000], "window_size": [86400]}])
    );
    assert_eq!(v["consumer_groups"][0]["name"], "tiered-assistant~free");
    // Kong counts no dollars: the breakers are gaps, not wants.
    assert!(e.plan.wants.iter().all(|w| w.key.measure == Measure::Tokens));
    for b in ["breakers.feature_daily_usd", "breakers.global_daily_usd"] {
        assert!(
            e.plan
                .gaps
                .iter()
                .any(|g| g.spec_path == b && g.kind == runtime::GapKind::Missing),
            "{b}"
        );
    }
}

#[test]
fn a_hostile_tier_name_stays_data_in_both_exports() {
    let text = std::fs::read_to_string(root().join("specs/tiered-assistant.yaml")).unwrap();
    let evil = "fr ee\"~7E:#x\n- y: é}]";
    let text = text.replacen(
        "  - name: free\n",
        &format!("  - name: {}\n", serde_json::json!(evil)),
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("evil.yaml");
    std::fs::write(&p, text).unwrap();
    let l = load(&p);
    let tier = l.spec.tiers[0].name.clone();
    assert!(tier.contains('\n') && tier.contains('~'), "{tier:?}");
    for g in GATEWAYS {
        let e = runtime::export(&l.spec, &l.priced, g);
        let files: Vec<(String, Vec<u8>)> = e.files.iter().map(|f| (f.name.clone(), f.bytes.clone())).collect();
        let d = read_files(&files).unwrap();
        assert!(
            d.haves.iter().any(|h| h.key.scope == Scope::TierUser(tier.clone())),
            "{g:?}: {:?}",
            d.haves
        );
        assert!(runtime::compare(&l.spec, &l.priced, &d).findings.is_empty(), "{g:?}");
        if g == Gateway::Kong {
            // Kong names accept letters, digits, `.`, `-`, `_` and `~` only.
            let v: Json = serde_saphyr::from_str(std::str::from_utf8(&files[0].1).unwrap()).unwrap();
            let name = v["consumer_groups"][0]["name"].as_str().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || "._-~".contains(c)),
                "{name}"
            );
        }
    }
}

fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures/runtime").join(rel)
}

#[test]
fn portkey_documentation_examples_are_recognised_and_read() {
    let d = runtime::read(&[fixture("portkey/openapi-request-examples.json")]).unwrap();
    assert_eq!(d.gateways(), vec![Gateway::Portkey]);
    // Keyed on API keys and `metadata.user_id`, not costgate's metadata.
    assert!(d.haves.is_empty(), "{:?}", d.haves);

    let d = runtime::read(&[fixture("portkey/list-usage-limits.json")]).unwrap();
    assert_eq!(d.gateways(), vec![Gateway::Portkey]);
    let got: Vec<_> = d
        .haves
        .iter()
        .map(|h| {
            (
                h.key.feature.as_deref(),
                h.key.scope.clone(),
                h.key.measure,
                h.amount,
                h.window,
                h.alert,
                h.path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some("tiered-assistant"),
                Scope::TierUser("free".into()),
                Measure::Tokens,
                40000.0,
                runtime::DAY,
                Some(32000.0),
                "data[0].credit_limit"
            ),
            (
                None,
                Scope::Breaker(costgate::spec::BreakerLevel::Global),
                Measure::Usd,
                900.0,
                runtime::DAY,
                None,
                "data[2].credit_limit"
            ),
        ]
    );
    assert_eq!((d.haves[0].loc.line, d.haves[0].loc.column), (14, 23));
    // Against the spec: the free cap and the global breaker hold; the pro
    // cap and the feature breaker are missing.
    let l = load(&root().join("specs/tiered-assistant.yaml"));
    let f = runtime::compare(&l.spec, &l.priced, &d).findings;
    let mut missing: Vec<&str> = f.iter().map(|f| f.spec_path.as_str()).collect();
    missing.sort();
    assert!(f.iter().all(|f| f.kind == FindingKind::Missing), "{f:#?}");
    assert_eq!(
        missing,
        vec!["breakers.feature_daily_usd", "tiers[1].limit.daily_tokens"],
        "{f:#?}"
    );
}

#[test]
fn portkey_documentation_use_case_wrappers_are_read() {
    // The `{"type": ..., "policy": {...}}` form of the policy guide.
    let doc = r#"[
  {"type": "usage_limits", "policy": {
    "conditions": [{"key": "metadata.costgate_feature", "value": "f"}, {"key": "metadata._user", "value": "*"}],
    "group_by": [{"key": "metadata._user"}],
    "credit_limit": 50, "type": "cost", "periodic_reset": "monthly", "status": "active"}},
  {"type": "rate_limits", "policy": {
    "conditions": [{"key": "metadata._user", "value": "*"}],
    "group_by": [{"key": "metadata._user"}],
    "value": 100, "type": "requests", "unit": "rpm", "status": "active"}}
]"#;
    let d = read_files(&[("p.json".into(), doc.as_bytes().to_vec())]).unwrap();
    assert_eq!(d.gateways(), vec![Gateway::Portkey]);
    assert_eq!(d.haves.len(), 1, "{:?}", d.haves);
    let h = &d.haves[0];
    assert_eq!(h.key.scope, Scope::Breaker(costgate::spec::BreakerLevel::User));
    assert_eq!(
        (h.amount, h.window, h.path.as_str()),
        (50.0, runtime::MONTH, "[0].policy.credit_limit")
    );
}

#[test]
fn kong_documentation_examples_are_recognised_and_read() {
    let d = runtime::read(&[fixture("kong/docs-tiers.yaml")]).unwrap();
    assert_eq!(d.gateways(), vec![Gateway::Kong]);
    // Consumer groups named Free and Premium: not costgate's.
    assert!(d.haves.is_empty(), "{:?}", d.haves);

    let d = runtime::read(&[fixture("kong/admin-api-plugins.json")]).unwrap();
    assert_eq!(d.gateways(), vec![Gateway::Kong]);
    let got: Vec<_> = d
        .haves
        .iter()
        .map(|h| (h.key.scope.clone(), h.amount, h.window, h.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Scope::TierUser("free".into()),
                40000.0,
                runtime::DAY,
                "data[1].config.llm_providers[0].limit[0]"
            ),
            (
                Scope::TierUser("pro".into()),
                120000.0,
                runtime::DAY,
                "data[2].config.llm_providers[0].limit[0]"
            ),
        ]
    );
    let l = load(&root().join("specs/tiered-assistant.yaml"));
    let f = runtime::compare(&l.spec, &l.priced, &d).findings;
    assert_eq!(kinds(&f), vec![FindingKind::Looser], "{f:#?}");
    assert_eq!(f[0].spec_path, "tiers[1].limit.daily_tokens");
    assert!(
        f[0].message.contains("120,000") && f[0].message.contains("100,000"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("admin-api-plugins.json:"), "{}", f[0].message);
}

/// Read `text` as a file and return its one problem.
fn problem(name: &str, text: &str) -> Problem {
    let r = read_files(&[(name.to_string(), text.as_bytes().to_vec())]);
    let mut p = r.expect_err(text);
    assert_eq!(p.len(), 1, "{p:?}");
    let p = p.remove(0);
    assert!(p.span.file.ends_with(name), "{}", p.span.file);
    assert!(p.span.line > 0 && p.span.column > 0, "{p:?}");
    p
}

const POLICY: &str = r#"{
  "usage_limits": [
    {
      "conditions": [{"key": "metadata.costgate_feature", "value": "f"}],
      "group_by": [{"key": "metadata.costgate_feature"}],
      "type": "cost",
      "credit_limit": 500,
      "periodic_reset_days": 1
    }
  ]
}"#;

#[test]
fn hostile_portkey_files_are_located_problems() {
    let cases = [
        (
            "\"credit_limit\": 500",
            "\"credit_limit\": \"lots\"",
            ProblemCode::WrongType,
            "usage_limits[0].credit_limit",
            7,
        ),
        (
            "\"credit_limit\": 500",
            "\"credit_limit\": -5",
            ProblemCode::OutOfRange,
            "usage_limits[0].credit_limit",
            7,
        ),
        (
            "\"credit_limit\": 500",
            "\"credit_limit\": 1e999",
            ProblemCode::OutOfRange,
            "usage_limits[0].credit_limit",
            7,
        ),
        (
            "\"periodic_reset_days\": 1",
            "\"periodic_reset\": \"daily\"",
            ProblemCode::InvalidValue,
            "usage_limits[0].periodic_reset",
            8,
        ),
        (
            "\"periodic_reset_days\": 1",
            "\"periodic_reset_days\": 0",
            ProblemCode::OutOfRange,
            "usage_limits[0].periodic_reset_days",
            8,
        ),
        (
            "\"periodic_reset_days\": 1",
            "\"periodic_reset_days\": 1.5",
            ProblemCode::OutOfRange,
            "usage_limits[0].periodic_reset_days",
            8,
        ),
        (
            "\"periodic_reset_days\": 1",
            "\"periodic_reset_days\": 1, \"periodic_reset\": \"weekly\"",
            ProblemCode::InvalidValue,
            "usage_limits[0].periodic_reset_days",
            8,
        ),
        (
            "\"type\": \"cost\"",
            "\"type\": \"dollars\"",
            ProblemCode::InvalidValue,
            "usage_limits[0].type",
            6,
        ),
        (
            "\"type\": \"cost\"",
            "\"type\": 7",
            ProblemCode::WrongType,
            "usage_limits[0].type",
            6,
        ),
        (
            "\"value\": \"f\"}]",
            "\"value\": {\"x\": 1}}]",
            ProblemCode::WrongType,
            "usage_limits[0].conditions[0].value",
            4,
        ),
        (
            "[{\"key\": \"metadata.costgate_feature\"}]",
            "\"everything\"",
            ProblemCode::WrongType,
            "usage_limits[0].group_by",
            5,
        ),
    ];
    for (from, to, code, path, line) in cases {
        assert!(POLICY.contains(from), "{from}");
        let text = POLICY.replacen(from, to, 1);
        let p = problem("policies.json", &text);
        assert_eq!(
            (p.code, p.span.path.as_str(), p.span.line),
            (code, path, line),
            "{to}: {p:?}"
        );
    }
    // A rate limit in an unknown unit.
    let text = r#"{"rate_limits": [
  {"conditions": [{"key": "api_key", "value": "*"}], "group_by": [{"key": "api_key"}],
   "type": "tokens", "unit": "rps", "value": 5}]}"#;
    let p = problem("rate.json", text);
    assert_eq!((p.span.path.as_str(), p.span.line), ("rate_limits[0].unit", 3), "{p:?}");
    assert!(p.message.contains("rpm, rph, rpd, rpw"), "{}", p.message);
}

const KONG: &str = "_format_version: \"3.0\"
consumer_groups:
  - name: f~free
plugins:
  - name: ai-rate-limiting-advanced
    consumer_group: f~free
    enabled: true
    config:
      identifier: consumer
      window_type: fixed
      tokens_count_strategy: total_tokens
      llm_providers:
        - name: openai
          limit: [40000, 600000]
          window_size: [86400, 2592000]
";

#[test]
fn hostile_kong_files_are_located_problems() {
    let d = read_files(&[("kong.yaml".into(), KONG.as_bytes().to_vec())]).unwrap();
    assert_eq!(d.haves.len(), 2, "{:?}", d.haves);
    let cases = [
        (
            "limit: [40000, 600000]",
            "limit: [lots, 600000]",
            ProblemCode::WrongType,
            "plugins[0].config.llm_providers[0].limit[0]",
            14,
        ),
        (
            "limit: [40000, 600000]",
            "limit: [-1, 600000]",
            ProblemCode::OutOfRange,
            "plugins[0].config.llm_providers[0].limit[0]",
            14,
        ),
        (
            "limit: [40000, 600000]",
            "limit: 40000",
            ProblemCode::WrongType,
            "plugins[0].config.llm_providers[0].limit",
            14,
        ),
        (
            "window_size: [86400, 2592000]",
            "window_size: [86400, 0.5]",
            ProblemCode::OutOfRange,
            "plugins[0].config.llm_providers[0].window_size[1]",
            15,
        ),
        (
            "window_size: [86400, 2592000]",
            "window_size: [86400]",
            ProblemCode::InvalidValue,
            "plugins[0].config.llm_providers[0].window_size",
            15,
        ),
        (
            "tokens_count_strategy: total_tokens",
            "tokens_count_strategy: words",
            ProblemCode::InvalidValue,
            "plugins[0].config.tokens_count_strategy",
            11,
        ),
        (
            "window_type: fixed",
            "window_type: monthly",
            ProblemCode::InvalidValue,
            "plugins[0].config.window_type",
            10,
        ),
        (
            "enabled: true",
            "enabled: sometimes",
            ProblemCode::WrongType,
            "plugins[0].enabled",
            7,
        ),
        (
            "consumer_group: f~free",
            "consumer_group: [f~free]",
            ProblemCode::WrongType,
            "plugins[0].consumer_group",
            6,
        ),
    ];
    for (from, to, code, path, line) in cases {
        assert!(KONG.contains(from), "{from}");
        let text = KONG.replacen(from, to, 1);
        let p = problem("kong.yaml", &text);
        assert_eq!(
            (p.code, p.span.path.as_str(), p.span.line),
            (code, path, line),
            "{to}: {p:?}"
        );
    }
}

#[test]
fn kong_instances_that_count_something_else_are_not_read_as_caps() {
    for (from, to) in [
        ("enabled: true", "enabled: false"),
        ("identifier: consumer", "identifier: consumer-group"),
        (
            "tokens_count_strategy: total_tokens",
            "tokens_count_strategy: prompt_tokens",
        ),
        ("tokens_count_strategy: total_tokens", "tokens_count_strategy: cost"),
        ("- name: openai", "- name: requestPrompt"),
        ("consumer_group: f~free", "consumer_group: Free"),
        ("    enabled: true\n", "    enabled: true\n    condition: \"true\"\n"),
    ] {
        let text = KONG.replacen(from, to, 1);
        assert_ne!(text, KONG);
        let d = read_files(&[("kong.yaml".into(), text.into_bytes())]).unwrap();
        assert!(d.haves.is_empty(), "{to}: {:?}", d.haves);
    }
}
