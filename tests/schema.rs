//! The JSON Schemas of the spec and of costgate.toml: the committed files
//! under schemas/ are `costgate schema spec|policy`'s output; every example
//! spec, the built-in policy and what `costgate init` writes are valid
//! against them for an independent validator (check-jsonschema, from PyPI);
//! deliberately broken specs and policies (fixtures/schema/broken) are
//! refused by both the schema and costgate; and every example points its
//! editor at the schema.

#[path = "support/check_jsonschema.rs"]
mod check_jsonschema;
#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn costgate() -> assert_cmd::Command {
    cmd::costgate_on("2026-11-30")
}

fn schema_output(which: &str) -> String {
    let out = costgate().args(["schema", which]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn spec_schema() -> PathBuf {
    root().join("schemas").join(costgate::schema::SPEC_FILE)
}

fn policy_schema() -> PathBuf {
    root().join("schemas").join(costgate::schema::POLICY_FILE)
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

fn broken(ext: &str, policy: bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/schema/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("policy-") == policy)
        .collect();
    v.sort();
    v
}

#[test]
fn the_committed_schemas_are_the_commands_output() {
    for (which, file) in [("spec", spec_schema()), ("policy", policy_schema())] {
        let committed = std::fs::read_to_string(&file).unwrap();
        assert!(
            committed == schema_output(which),
            "{} differs from `costgate schema {which}`: regenerate it with `cargo run -- schema {which} > {}`",
            file.display(),
            file.display()
        );
    }
}

#[test]
fn the_schemas_declare_2020_12_and_their_release_url() {
    for (which, url) in [
        ("spec", costgate::schema::SPEC_URL),
        ("policy", costgate::schema::POLICY_URL),
    ] {
        let v: serde_json::Value = serde_json::from_str(&schema_output(which)).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(v["$id"], url);
        assert!(
            url.contains(&format!("/v{}/schemas/", env!("CARGO_PKG_VERSION"))),
            "{url}"
        );
    }
}

#[test]
fn every_example_points_its_editor_at_the_schema() {
    for p in examples() {
        let text = std::fs::read_to_string(&p).unwrap();
        let first = text.lines().next().unwrap();
        let want = if p.extension().unwrap() == "toml" {
            // taplo's header directive
            "#:schema ../schemas/costgate-spec.schema.json"
        } else {
            "# yaml-language-server: $schema=../schemas/costgate-spec.schema.json"
        };
        assert_eq!(first, want, "{}", p.display());
        // the path is right, seen from the spec
        let rel = want.rsplit(['=', ' ']).next().unwrap();
        assert!(p.parent().unwrap().join(rel).is_file(), "{}", p.display());
    }
}

#[test]
fn what_init_writes_points_at_the_published_schemas() {
    let d = tempfile::tempdir().unwrap();
    costgate().args(["init", "-o"]).arg(d.path()).assert().success();
    let spec = std::fs::read_to_string(d.path().join("specs/ai-chat.yaml")).unwrap();
    assert_eq!(
        spec.lines().next(),
        Some(format!("# yaml-language-server: $schema={}", costgate::schema::SPEC_URL).as_str())
    );
    let policy = std::fs::read_to_string(d.path().join("costgate.toml")).unwrap();
    assert_eq!(
        policy.lines().next(),
        Some(format!("#:schema {}", costgate::schema::POLICY_URL).as_str())
    );
}

#[test]
fn the_examples_and_the_defaults_are_valid_for_check_jsonschema() {
    let Some(bin) = check_jsonschema::find() else {
        return;
    };
    let mut specs = examples();
    specs.push(root().join("fixtures/schema/valid.yaml"));
    // what `costgate init` writes, for every --like and all the tiers
    let d = tempfile::tempdir().unwrap();
    for like in ["chat", "code", "agent", "summarize"] {
        let at = d.path().join(like);
        costgate()
            .args(["init", "--like", like, "--tiers", "free,pro,enterprise", "-o"])
            .arg(&at)
            .assert()
            .success();
        for e in std::fs::read_dir(at.join("specs")).unwrap() {
            specs.push(e.unwrap().path());
        }
    }
    let (ok, said) = check_jsonschema::validate(&bin, &spec_schema(), &specs);
    assert!(ok, "{said}");
    // the built-in policy (`policy --defaults`, what init writes)
    let defaults = d.path().join("costgate.toml");
    let out = costgate().args(["policy", "--defaults"]).output().unwrap();
    std::fs::write(&defaults, out.stdout).unwrap();
    let mut policies = vec![defaults];
    policies.push(d.path().join("chat/costgate.toml"));
    let (ok, said) = check_jsonschema::validate(&bin, &policy_schema(), &policies);
    assert!(ok, "{said}");
}

#[test]
fn broken_specs_are_refused_by_the_schema_and_by_costgate() {
    let bin = check_jsonschema::find();
    let mut files = broken("yaml", false);
    files.extend(broken("toml", false));
    assert!(files.len() >= 8, "{files:?}");
    // the control: the spec they break is valid for both
    let valid = root().join("fixtures/schema/valid.yaml");
    costgate().arg("validate").arg(&valid).assert().code(0);
    if let Some(bin) = &bin {
        let (ok, said) = check_jsonschema::validate(bin, &spec_schema(), std::slice::from_ref(&valid));
        assert!(ok, "{said}");
    }
    for f in &files {
        let out = costgate().arg("validate").arg(f).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(65),
            "costgate validate {}:\n{}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(bin) = &bin {
            let (ok, said) = check_jsonschema::validate(bin, &spec_schema(), std::slice::from_ref(f));
            assert!(!ok, "the schema accepts {}:\n{said}", f.display());
        }
    }
}

#[test]
fn broken_policies_are_refused_by_the_schema_and_by_costgate() {
    let bin = check_jsonschema::find();
    let files = broken("toml", true);
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        let out = costgate().args(["policy", "--policy"]).arg(f).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(65),
            "costgate policy --policy {}:\n{}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(bin) = &bin {
            let (ok, said) = check_jsonschema::validate(bin, &policy_schema(), std::slice::from_ref(f));
            assert!(!ok, "the schema accepts {}:\n{said}", f.display());
        }
    }
}
