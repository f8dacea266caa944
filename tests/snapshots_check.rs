//! The terminal table and the JSON of one example, pinned: a change in
//! either is a reviewed diff (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test` then `git diff`).

#[path = "support/cmd.rs"]
mod cmd;

#[path = "support/report.rs"]
mod built;

use std::path::PathBuf;

use costgate::policy::Policy;
use costgate::report::{json, table};

fn report(spec: &str) -> costgate::report::CheckReport {
    cmd::assert_in_manifest_dir();
    built::check(&Policy::default(), vec![PathBuf::from("specs").join(spec)], 2000)
}

#[test]
fn table_of_the_tiered_example() {
    insta::assert_snapshot!(table::render(
        &report("tiered-assistant.yaml"),
        table::Style {
            color: false,
            width: None
        }
    ));
}

#[test]
fn json_of_the_tiered_example() {
    insta::assert_snapshot!(json(&report("tiered-assistant.yaml")));
}
