//! The release workflow, the action's installer and GitHub's CI agree:
//! every target the installer can ask for is built by the release matrix
//! under the archive name the installer downloads, the release publishes a
//! SHA256SUMS over those archives, and ci.yml runs .ci/run (so GitHub's CI
//! is the same checks as CI elsewhere). actionlint (in .ci/run) checks the
//! workflows' syntax; this checks what they say.

use std::path::Path;

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn runs(job: &Value) -> String {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_release_builds_every_target_the_installer_downloads() {
    let release = yaml(".github/workflows/release.yml");
    let targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    for t in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&t), "{t} is built");
    }
    // every target install.sh detects is one the release builds
    let install = read(".github/actions/costgate/install.sh");
    for line in install.lines().filter(|l| l.contains(") target=")) {
        let t = line.split("target=").nth(1).unwrap().split_whitespace().next().unwrap();
        assert!(
            targets.contains(&t),
            "install.sh asks for {t}, which the release does not build"
        );
    }
    // the archive names match: costgate-<target>.tar.gz, .zip on Windows
    let build = runs(&release["jobs"]["build"]);
    assert!(build.contains(r#"stage="costgate-$TARGET""#));
    assert!(build.contains(r#"tar -czf "$stage.tar.gz" "$stage""#));
    assert!(build.contains(r#""$stage.zip" "$stage""#));
    assert!(install.contains(r#"archive="costgate-$target.tar.gz""#));
    assert!(install.contains(r#"archive="costgate-$target.zip""#));
    assert!(install.contains(r#"binary="$work/x/costgate-$target/$exe""#));
    // one SHA256SUMS over every archive, published with them, on a version tag
    let publish = runs(&release["jobs"]["publish"]);
    assert!(publish.contains("sha256sum costgate-*.tar.gz costgate-*.zip > SHA256SUMS"));
    assert!(publish.contains("gh release create") && publish.contains("dist/*"));
    assert!(install.contains("SHA256SUMS"));
    let tags = release["on"]["push"]["tags"].as_array().unwrap();
    assert_eq!(tags[0], "v[0-9]+.[0-9]+.[0-9]+");
    // the action downloads a release for exactly the refs that are version tags
    let action = read(".github/actions/costgate/action.yml");
    assert!(action.contains(r#"[[ "$ACTION_REF" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]"#));
}

#[test]
fn github_ci_runs_ci_run() {
    let ci = yaml(".github/workflows/ci.yml");
    let jobs = ci["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1, "one job: .ci/run");
    let job = jobs.values().next().unwrap();
    let steps = runs(job);
    assert!(steps.lines().any(|l| l.trim() == ".ci/run"), "{steps}");
    // in the Debian that .ci/run's apt-get installs Debian's chromium on
    assert!(job["container"]["image"].as_str().unwrap().contains("bookworm"));
    // and .ci/run requires the browser and runs the lints
    let run = read(".ci/run");
    for must in [
        "COSTGATE_REQUIRE_BROWSER=1",
        "cargo fmt --all -- --check",
        "cargo clippy --all-targets --locked -- -D warnings",
        "actionlint",
        ".ci/check_package.sh",
    ] {
        assert!(run.contains(must), ".ci/run runs {must}");
    }
}
