//! A program using the library gets the answer `costgate check` gives: the
//! same policy and prices (flag, pin, policy source, built-in) and the same
//! `--fail-on new` verdict.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use costgate::check::{self, Choice, FailOn, Inputs, PricingOrigin, Request};
use costgate::policy::Verdict;

#[path = "support/git.rs"]
mod git_support;
use git_support::git;

const TODAY: &str = "2026-08-21";
const TRIALS: usize = 200;
const GENAI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-v2-slim-2026-08.json"
);
const SPEC: &str = "costgate: 1
feature:
  id: t
  value: {kind: revenue}
models:
  primary: anthropic/claude-sonnet-5
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
  - name: pro
    users: {low: 200, mode: 400, high: 800}
    price_usd_per_month: 50
    model: primary
";

/// The CLI, run from a folder that is not above the specs (so that both
/// sides name the pinned snapshot by the same absolute path).
fn costgate() -> Command {
    let mut c = Command::cargo_bin("costgate").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COSTGATE_TODAY", TODAY)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["--color", "never"]);
    c
}

/// `costgate check --format json` on `paths` with `extra` flags: its JSON and exit code.
fn cli_json(paths: &[PathBuf], extra: &[&str]) -> (String, i32) {
    let out = costgate()
        .args([
            "check",
            "--format",
            "json",
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
        ])
        .args(extra)
        .args(paths)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(code < 64, "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), code)
}

/// The same check through the library: the JSON report, its exit code and
/// where the prices came from.
fn library_report(paths: &[PathBuf], choice: Choice) -> (costgate::report::CheckReport, PricingOrigin) {
    let today: jiff::civil::Date = TODAY.parse().unwrap();
    let inputs = Inputs::resolve(paths, choice, today).unwrap_or_else(|e| panic!("{e:?}"));
    let req = Request {
        paths: paths.to_vec(),
        policy: &inputs.policy,
        catalog: &inputs.catalog,
        sim: costgate::sim::Options {
            seed: costgate::sim::DEFAULT_SEED,
            trials: TRIALS,
            threads: None,
            confidence: 0.95,
            progress: false,
            label: String::new(),
            sensitivity: false,
        },
        today,
    };
    (check::run(&req).unwrap(), inputs.pricing.origin)
}

fn library_json(paths: &[PathBuf], choice: Choice) -> (String, i32, PricingOrigin) {
    let (r, origin) = library_report(paths, choice);
    (costgate::report::json(&r), r.exit_code, origin)
}

#[test]
fn the_library_prices_a_check_as_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::create_dir(repo.join("specs")).unwrap();
    std::fs::write(repo.join("specs/f.yaml"), SPEC).unwrap();
    let paths = vec![repo.join("specs")];

    // Built-in: nothing named, pinned or in the policy.
    let (cli, cli_code) = cli_json(&paths, &[]);
    let (lib, lib_code, origin) = library_json(&paths, Choice::default());
    assert_eq!(origin, PricingOrigin::Builtin);
    assert_eq!((&lib, lib_code), (&cli, cli_code));
    let builtin = cli;

    // The policy names a source: both read it.
    std::fs::write(repo.join("costgate.toml"), format!("[pricing]\nsource = {GENAI:?}\n")).unwrap();
    let (cli, cli_code) = cli_json(&paths, &[]);
    let (lib, lib_code, origin) = library_json(&paths, Choice::default());
    assert!(matches!(origin, PricingOrigin::Policy(_)), "{origin:?}");
    assert_eq!((&lib, lib_code), (&cli, cli_code));
    // The report names the catalog, so each step of the precedence shows.
    assert_ne!(cli, builtin);
    let from_policy = cli;

    // A pin (written here as `pricing update` writes it) wins over the policy.
    let update = costgate()
        .args(["pricing", "update", "--provider", "anthropic", "--from", "builtin"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(update.status.success(), "{}", String::from_utf8_lossy(&update.stderr));
    let (cli, cli_code) = cli_json(&paths, &[]);
    let (lib, lib_code, origin) = library_json(&paths, Choice::default());
    assert_eq!(origin, PricingOrigin::Pinned(repo.join("costgate-prices.lock.toml")));
    assert_eq!((&lib, lib_code), (&cli, cli_code));
    assert_ne!(cli, from_policy);
    let pinned = cli;

    // The flag wins over the pin.
    let (cli, cli_code) = cli_json(&paths, &["--pricing", GENAI]);
    let (lib, lib_code, origin) = library_json(
        &paths,
        Choice {
            pricing: Some(GENAI),
            ..Choice::default()
        },
    );
    assert!(matches!(origin, PricingOrigin::Flag(_)), "{origin:?}");
    assert_eq!((&lib, lib_code), (&cli, cli_code));
    assert_ne!(cli, pinned);
    assert_eq!(cli, from_policy, "the flag names the policy's source");
}

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)).unwrap()
}

#[test]
fn the_library_gives_the_fail_on_new_verdict_of_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    std::fs::create_dir(root.join("specs")).unwrap();
    std::fs::write(root.join("specs/copilot.yaml"), example("enterprise-copilot.yaml")).unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "base"]);
    let paths = vec![root.join("specs")];

    // Unchanged since the base: its deny findings are not new.
    let (cli, cli_code) = cli_json(&paths, &["--baseline-ref", "main", "--fail-on", "new"]);
    let (mut head, _) = library_report(&paths, Choice::default());
    assert_eq!(head.verdict, Verdict::Blocked, "the example has deny findings");
    let (base, _) = library_report(&paths, Choice::default());
    let count = check::apply_baseline(&mut head, &base, FailOn::New);
    assert_eq!(count.new, 0);
    assert!(count.already_there > 0);
    assert_eq!(head.verdict, Verdict::NeedsApproval);
    assert_eq!((costgate::report::json(&head), head.exit_code), (cli, cli_code));

    // `any`: the baseline changes nothing, in either.
    let (cli, cli_code) = cli_json(&paths, &["--baseline-ref", "main", "--fail-on", "any"]);
    let (mut head, _) = library_report(&paths, Choice::default());
    check::apply_baseline(&mut head, &base, FailOn::Any);
    assert_eq!(head.verdict, Verdict::Blocked);
    assert_eq!((costgate::report::json(&head), head.exit_code), (cli, cli_code));
}
