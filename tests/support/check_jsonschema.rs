//! `check-jsonschema` (PyPI; .ci/run installs it into .ci/venv), the
//! independent validator the schema tests run: `COSTGATE_CHECK_JSONSCHEMA`
//! names it, else it is looked up on PATH. Without it the tests that need it
//! say why and pass, except in CI (`CI=true`, or COSTGATE_REQUIRE_CHECK_JSONSCHEMA=1
//! as .ci/run sets), where a missing validator is a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The validator, or `None` (with the reason printed) outside CI.
pub fn find() -> Option<PathBuf> {
    let named = std::env::var_os("COSTGATE_CHECK_JSONSCHEMA").map(PathBuf::from);
    let found = named.clone().or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("check-jsonschema"))
                .find(|p| p.is_file())
        })
    });
    let works = found.filter(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if works.is_some() {
        return works;
    }
    let required = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("COSTGATE_REQUIRE_CHECK_JSONSCHEMA").is_ok_and(|v| v == "1");
    let how = "python3 -m venv .ci/venv && .ci/venv/bin/pip install check-jsonschema==0.39.0, \
               then put .ci/venv/bin on PATH or set COSTGATE_CHECK_JSONSCHEMA";
    assert!(
        !required,
        "check-jsonschema is required in CI but was not found ({}): {how}",
        named.map_or("not on PATH".into(), |p| format!(
            "COSTGATE_CHECK_JSONSCHEMA={} does not run",
            p.display()
        ))
    );
    eprintln!("skipped: check-jsonschema is not installed ({how})");
    None
}

/// Validate `files` against `schema`: the exit status and what it said.
pub fn validate(bin: &Path, schema: &Path, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(bin)
        .arg("--schemafile")
        .arg(schema)
        .args(files)
        .output()
        .expect("check-jsonschema runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}
