//! `costgate pricing list|show|update`, `--pricing` on `check`, the pinned
//! snapshot and the policy's pricing settings, as a user meets them.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const GENAI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-v2-slim-2026-08.json"
);

fn costgate(dir: &Path) -> Command {
    let mut c = cmd::costgate_on("2026-08-21");
    c.current_dir(dir);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn spec() -> String {
    cmd::minimal_spec("anthropic/claude-sonnet-5", "gpt-4o-mini")
}

fn litellm_entry(input: f64, output: f64) -> String {
    format!(
        r#"{{"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": {}, "output_cost_per_token": {}}}"#,
        input / 1e6,
        output / 1e6
    )
}

#[test]
fn list_shows_the_catalog_in_effect_and_filters_by_provider() {
    let dir = tempfile::tempdir().unwrap();
    let a = costgate(dir.path()).args(["pricing", "list"]).assert().code(0);
    let out = stdout(&a);
    assert!(out.starts_with("model "), "{out}");
    let row = out.lines().find(|l| l.starts_with("gemini-2.5-pro ")).unwrap();
    assert!(
        row.contains(" google ") && row.contains("> 200,000: $2.50 / $15.00"),
        "{row}"
    );
    // claude-sonnet-4-5: a 200k window and no tier past it (the 1M beta was retired)
    let row = out.lines().find(|l| l.starts_with("claude-sonnet-4-5 ")).unwrap();
    assert!(
        row.contains(" anthropic ") && !row.contains("> 200,000") && row.contains("200,000"),
        "{row}"
    );
    assert!(out.contains("costgate built-in (checked 2026-11-29)"), "{out}");

    let a = costgate(dir.path())
        .args(["pricing", "list", "--provider", "gemini", "--format", "json"])
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 11);
    assert!(models.iter().all(|m| m["provider"] == "google"));
    assert_eq!(v["catalog"]["name"], "costgate built-in");

    costgate(dir.path())
        .args(["pricing", "list", "--provider", "antropic"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("did you mean `anthropic`"));
}

#[test]
fn show_gives_every_price_of_a_model_as_written_in_a_spec() {
    let dir = tempfile::tempdir().unwrap();
    let a = costgate(dir.path())
        .args(["pricing", "show", "anthropic/claude-sonnet-4-5-20250929"])
        .assert()
        .code(0);
    let out = stdout(&a);
    for s in [
        "claude-sonnet-4-5 (anthropic)",
        "`anthropic/claude-sonnet-4-5-20250929` resolves to this model",
        "input          $3.00",
        "output         $15.00",
        "cached input   $0.30",
        "cache write    $3.75",
        "source: https://www.anthropic.com/pricing#api (prices from LiteLLM 1.110.2 `claude-sonnet-4-5`",
        "catalog: costgate built-in (checked 2026-11-29)",
    ] {
        assert!(out.contains(s), "lacks {s:?}:\n{out}");
    }
    assert!(!out.contains("above 200,000"), "{out}");
    let a = costgate(dir.path())
        .args(["pricing", "show", "gemini/gemini-2.5-pro"])
        .assert()
        .code(0);
    let out = stdout(&a);
    for s in [
        "above 200,000 input tokens, every token of the request:",
        "output         $15.00",
    ] {
        assert!(out.contains(s), "lacks {s:?}:\n{out}");
    }
    costgate(dir.path())
        .args(["pricing", "show", "claude-sonet-4.5"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("unknown model `claude-sonet-4.5`"))
        .stderr(predicate::str::contains("did you mean `claude-sonnet-4.5`"));

    costgate(dir.path())
        .args(["pricing", "list", "--provider", "anthropic", "--pricing", GENAI])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Announced: claude-sonnet-5 (anthropic) from 2026-09-01: input $2.00 → $3.00",
        ));

    // a source's announced change is shown with the model
    costgate(dir.path())
        .args(["pricing", "show", "claude-sonnet-5", "--pricing", GENAI])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "announced from 2026-09-01: input $2.00 → $3.00, output $10.00 → $15.00",
        ));
}

#[test]
fn update_prints_what_changed_since_the_last_pin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("old.json"),
        format!(
            r#"{{"gpt-x": {}, "gpt-y": {}, "gpt-gone": {}}}"#,
            litellm_entry(2.0, 8.0),
            litellm_entry(1.0, 4.0),
            litellm_entry(1.0, 1.0)
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("new.json"),
        format!(
            r#"{{"gpt-x": {}, "gpt-y": {}, "gpt-new": {}}}"#,
            litellm_entry(2.5, 10.0),
            litellm_entry(1.0, 4.0),
            litellm_entry(0.5, 0.5)
        ),
    )
    .unwrap();
    costgate(d)
        .args(["pricing", "update", "--from", "old.json"])
        .assert()
        .code(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(d.join("costgate-prices.lock.toml")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    }
    let pin = std::fs::read_to_string(d.join("costgate-prices.lock.toml")).unwrap();
    assert!(
        pin.contains("format = \"costgate-prices/1\"") && pin.contains("id = \"gpt-gone\""),
        "{pin}"
    );
    let a = costgate(d)
        .env("COSTGATE_TODAY", "2026-09-01")
        .args(["pricing", "update", "--from", "new.json"])
        .assert()
        .code(0);
    let out = stdout(&a);
    assert!(
        out.contains("Pinned 3 models from LiteLLM new.json to costgate-prices.lock.toml (checked 2026-09-01)."),
        "{out}"
    );
    assert!(
        out.contains("Changes since the last pin (checked 2026-08-21):"),
        "{out}"
    );
    assert!(
        out.contains("  gpt-x (openai): input $2.00 → $2.50, output $8.00 → $10.00\n"),
        "{out}"
    );
    assert!(out.contains("  added 1 model: gpt-new (openai)"), "{out}");
    assert!(out.contains("  removed 1 model: gpt-gone (openai)"), "{out}");
    assert!(!out.contains("gpt-y (openai):"), "{out}");
    // no temporary files left beside the pin
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    costgate(d)
        .args(["pricing", "update", "--from", "new.json"])
        .assert()
        .stdout(predicate::str::contains("No price changed since the last pin"));
    costgate(d)
        .args(["pricing", "update"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--from SOURCE"));
}

#[test]
fn the_pin_is_written_at_the_repository_root_and_found_from_the_specs() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let specs = repo.join("specs/team");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::write(specs.join("f.yaml"), spec()).unwrap();

    // without a pin the built-in catalog prices it, with no announced change
    let a = costgate(dir.path())
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(&specs)
        .assert();
    let out = stdout(&a);
    assert!(out.contains("costgate built-in (checked 2026-11-29)"), "{out}");
    assert!(!out.contains("pinned snapshot") && !out.contains("Announced"), "{out}");

    costgate(&specs)
        .args([
            "pricing",
            "update",
            "--provider",
            "anthropic",
            "--provider",
            "openai",
            "--from",
            GENAI,
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "to {} ",
            std::fs::canonicalize(&repo)
                .unwrap()
                .join("costgate-prices.lock.toml")
                .display()
        )))
        .stdout(predicate::str::contains(
            "Announced: claude-sonnet-5 (anthropic) from 2026-09-01",
        ));
    assert!(repo.join("costgate-prices.lock.toml").is_file());
    assert!(!specs.join("costgate-prices.lock.toml").exists());

    let a = costgate(dir.path())
        .args(["check", "--trials", "200", "--allow-few-trials"])
        .arg(&specs)
        .assert();
    let out = stdout(&a);
    assert!(out.contains("Prices: pinned snapshot "), "{out}");
    assert!(out.contains("costgate-prices.lock.toml (genai-prices from "), "{out}");
    // the simulated month runs from 2026-08-21: the 2026-09-01 change falls inside it
    assert!(
        out.contains("Announced price change inside the simulated month: claude-sonnet-5 (anthropic) from 2026-09-01: input $2.00 → $3.00"),
        "{out}"
    );
    // `check` does not read the snapshot as a spec
    assert!(out.contains("1 feature checked"), "{out}");
}

#[test]
fn the_policy_names_a_default_source_and_an_age_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("specs")).unwrap();
    std::fs::write(
        d.join("specs/f.yaml"),
        spec().replace("anthropic/claude-sonnet-5", "gpt-x"),
    )
    .unwrap();
    std::fs::write(
        d.join("prices.json"),
        format!(
            r#"{{"gpt-x": {}, "gpt-4o-mini": {}}}"#,
            litellm_entry(2.0, 8.0),
            litellm_entry(0.15, 0.6)
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("costgate.toml"),
        "[pricing]\nsource = \"prices.json\"\nmax_age_days = 30\n",
    )
    .unwrap();

    // nothing pinned: the policy's source prices the run (relative to the policy)
    let a = costgate(d)
        .args([
            "check",
            "specs",
            "--trials",
            "200",
            "--allow-few-trials",
            "--format",
            "json",
        ])
        .assert();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let f = &v["features"][0];
    assert!(
        f["pricing"]["name"].as_str().unwrap().starts_with("LiteLLM from "),
        "{}",
        f["pricing"]
    );
    assert_eq!(f["models"][0]["input_usd_per_mtok"].as_f64(), Some(2.0));

    // `pricing update` reads the policy's source when no --from is given
    costgate(d).args(["pricing", "update"]).assert().code(0);

    let stale = |today: &str| -> Vec<serde_json::Value> {
        let a = costgate(d)
            .env("COSTGATE_TODAY", today)
            .args([
                "check",
                "specs",
                "--trials",
                "200",
                "--allow-few-trials",
                "--format",
                "json",
            ])
            .assert();
        let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        v["features"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "stale-pricing")
            .cloned()
            .collect()
    };
    assert!(stale("2026-09-20").is_empty(), "30 days old is not stale");
    let found = stale("2026-09-21");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["level"], "warn");
    let m = found[0]["message"].as_str().unwrap();
    assert!(
        m.contains("checked on 2026-08-21, 31 days ago") && m.contains("30 days"),
        "{m}"
    );
    assert_eq!(found[0]["span"]["file"], "costgate-prices.lock.toml");
}

#[test]
fn a_broken_pin_or_catalog_is_invalid_input_naming_where() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("f.yaml"), spec()).unwrap();
    std::fs::write(
        d.join("costgate-prices.lock.toml"),
        "format = \"costgate-prices/1\"\nchecked = \"2026-08-01\"\n[[models]]\nid = \"x\"\ninput_usd_per_mtok = \"cheap\"\n",
    )
    .unwrap();
    costgate(d)
        .args(["check", "f.yaml", "--trials", "200", "--allow-few-trials"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("costgate-prices.lock.toml:5:"))
        .stderr(predicate::str::contains("invalid pinned price snapshot"));

    std::fs::write(
        d.join("bad.json"),
        "[{\"id\": \"p\", \"models\": [{\"id\": \"m\", \"prices\": {\"input_mtok\": {\"base\": 1}}}]}]",
    )
    .unwrap();
    costgate(d)
        .args([
            "check",
            "f.yaml",
            "--trials",
            "200",
            "--allow-few-trials",
            "--pricing",
            "bad.json",
        ])
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "bad.json: `$[0].models[0].prices.input_mtok.tiers`",
        ));
    costgate(d)
        .args(["check", "f.yaml", "--pricing", "missing.json"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("missing.json: cannot read the price catalog"));
}
