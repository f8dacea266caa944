//! Building a check report in-process, as `costgate check` does, for the
//! tests of the report model, the formats and the rules. Include it with
//! `#[path = "support/report.rs"] mod report;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use costgate::check::{Request, run};
use costgate::outcome::{CheckReport, FeatureReport};
use costgate::policy::{Finding, Policy};
use costgate::sim::Options;

/// A spec that breaks no rule under the default policy (the rules' unit
/// tests read the same file).
pub const GOOD: &str = include_str!("good.yaml");

/// The day the tests judge expiries on.
pub const TODAY: &str = "2026-11-28";

/// An example spec of the repository, by its file name.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(name)
}

/// The report of `paths` under `policy`, priced by the built-in catalog,
/// simulated over `trials` months on two threads, judged on [`TODAY`].
pub fn check(policy: &Policy, paths: Vec<PathBuf>, trials: usize) -> CheckReport {
    let catalog = costgate::pricing::builtin();
    let req = Request {
        paths,
        policy,
        catalog: &catalog,
        sim: Options {
            trials,
            threads: Some(2),
            ..Options::default()
        },
        today: TODAY.parse().unwrap(),
    };
    run(&req).unwrap_or_else(|p| panic!("{p:#?}"))
}

/// The report of one spec given as text (saved as `r.yaml` in a temporary
/// folder) under `policy`, over `trials` months.
pub fn feature_of(yaml: &str, policy: &Policy, trials: usize) -> FeatureReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, yaml).unwrap();
    check(policy, vec![path], trials).features.remove(0)
}

/// The findings of one spec given as text, over 300 trials.
pub fn findings_of(yaml: &str, policy: &Policy) -> Vec<Finding> {
    feature_of(yaml, policy, 300).findings
}
