//! The GitHub Action's install step (.github/actions/costgate/install.sh
//! and the step in action.yml that runs it) against a fake release server
//! on loopback: a release whose archive matches SHA256SUMS installs; a
//! checksum mismatch fails the step with a clear message and installs
//! nothing; a missing release (404) falls back to `cargo install`, and
//! nothing else does. No network other than 127.0.0.1.

#[path = "support/fake_release.rs"]
mod fake_release;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fake_release::{Server, TARGET, release, serve};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/actions/costgate/install.sh")
}

fn install(server: &Server, version: &str, root: &Path) -> Output {
    Command::new("bash")
        .arg(script())
        .arg(version)
        .arg(root)
        .env("COSTGATE_RELEASE_URL", format!("{}/dl", server.base))
        .env("COSTGATE_TARGET", TARGET)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_release_whose_checksum_matches_installs() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(release(dir.path(), None), BTreeMap::new());
    let root = dir.path().join("root");
    let out = install(&server, "v0.9.1", &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified"));
    let ran = Command::new(root.join("bin/costgate")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "fake costgate\n");
    // `0.9.1` without the v is the same release
    let again = install(&server, "0.9.1", &dir.path().join("root2"));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn a_checksum_mismatch_fails_and_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "ab".repeat(32);
    let server = serve(release(dir.path(), Some(&wrong)), BTreeMap::new());
    let root = dir.path().join("root");
    let out = install(&server, "v0.9.1", &root);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("checksum mismatch"), "{e}");
    assert!(e.contains(&wrong), "the message gives the expected sum: {e}");
    assert!(!root.join("bin/costgate").exists(), "nothing installed");
    // an archive SHA256SUMS does not list is refused the same way
    let mut files = release(dir.path(), None);
    files.insert("/dl/v0.9.1/SHA256SUMS".into(), b"".to_vec());
    let server = serve(files, BTreeMap::new());
    let out = install(&server, "v0.9.1", &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not list"), "{}", stderr(&out));
    assert!(!root.join("bin/costgate").exists());
}

#[test]
fn no_release_is_exit_3_and_a_server_error_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(release(dir.path(), None), BTreeMap::new());
    let out = install(&server, "v9.9.9", &dir.path().join("root"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("404"));
    // a 500 is not "no release": no fallback to a build
    let server = serve(
        release(dir.path(), None),
        BTreeMap::from([(format!("/dl/v0.9.1/costgate-{TARGET}.tar.gz"), 500)]),
    );
    let out = install(&server, "v0.9.1", &dir.path().join("root"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 500"));
    // a version that is not X.Y.Z never reaches the network
    let out = install(&server, "main", &dir.path().join("root"));
    assert_eq!(out.status.code(), Some(1));
}

/// The action's install step as GitHub runs it (`bash -e {0}`), with
/// `cargo` a stand-in that records that it was called.
fn action_step(server: &Server, action_ref: &str, home: &Path) -> (Output, bool) {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/actions/costgate/action.yml"))
            .unwrap();
    let action: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let step = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("install.sh")))
        .expect("a step runs install.sh");
    assert_eq!(step["env"]["ACTION_REF"], "${{ github.action_ref }}");
    let (bin, marker) = fake_release::fake_cargo(home);
    let step_file = home.join("step.sh");
    std::fs::write(&step_file, step["run"].as_str().unwrap()).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&step_file)
        .env("PATH", path)
        .env("HOME", home)
        .env("ACTION_REF", action_ref)
        .env(
            "GITHUB_ACTION_PATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/actions/costgate"),
        )
        .env("COSTGATE_RELEASE_URL", format!("{}/dl", server.base))
        .env("COSTGATE_TARGET", TARGET)
        .output()
        .unwrap();
    (out, marker.exists())
}

#[test]
fn the_action_falls_back_to_cargo_only_when_there_is_no_release() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(release(dir.path(), None), BTreeMap::new());
    // a release: installed, no build
    let home = dir.path().join("h1");
    let (out, built) = action_step(&server, "v0.9.1", &home);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!built);
    assert!(home.join(".cache/costgate-action/bin/costgate").is_file());
    // no such release: built with cargo install
    let home = dir.path().join("h2");
    let (out, built) = action_step(&server, "v0.9.2", &home);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(built, "fell back to cargo install");
    // a branch: built from source, no download tried
    let (out, built) = action_step(&server, "main", &dir.path().join("h3"));
    assert!(out.status.success());
    assert!(built);
    // a checksum mismatch: the step fails, no build
    let wrong = serve(release(&dir.path().join("w"), Some(&"cd".repeat(32))), BTreeMap::new());
    let home = dir.path().join("h4");
    let (out, built) = action_step(&wrong, "v0.9.1", &home);
    assert!(!out.status.success());
    assert!(!built, "a mismatch never falls back to a build");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        text.contains("checksum mismatch") && text.contains("::error::"),
        "{text}"
    );
    assert!(!home.join(".cache/costgate-action/bin/costgate").exists());
}
