//! The terminal table and the JSON of one example, pinned: a change in
//! either is a reviewed diff (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test` then `git diff`).

#[path = "support/cmd.rs"]
mod cmd;

use std::path::PathBuf;

use costgate::check::{Request, run};
use costgate::policy::Policy;
use costgate::report::{json, table};
use costgate::sim::Options;

fn report(spec: &str) -> costgate::report::CheckReport {
    let catalog = costgate::pricing::builtin();
    let policy = Policy::default();
    let req = Request {
        paths: vec![PathBuf::from("specs").join(spec)],
        policy: &policy,
        catalog: &catalog,
        sim: Options {
            trials: 2000,
            threads: Some(2),
            ..Options::default()
        },
        today: "2026-11-28".parse().unwrap(),
    };
    cmd::assert_in_manifest_dir();
    run(&req).unwrap()
}

#[test]
fn table_of_the_tiered_example() {
    insta::assert_snapshot!(table::render(
        &report("tiered-assistant.yaml"),
        table::Style { color: false }
    ));
}

#[test]
fn json_of_the_tiered_example() {
    insta::assert_snapshot!(json(&report("tiered-assistant.yaml")));
}
