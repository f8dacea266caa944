//! `costgate diff`: what a change does to each feature's cost.

use std::path::PathBuf;

use costgate::diff::{compare, render_json, render_markdown, render_table};

use super::check::{EmptyFolder, Notes, produce_at_ref_with, produce_with, read_runtime};
use super::{DiffArgs, DiffFormat, Failure};

pub fn run(a: &DiffArgs) -> Result<i32, Failure> {
    let (base, head, labels) = match &a.base_ref {
        Some(rev) => {
            let paths = if a.paths.is_empty() {
                vec![PathBuf::from("specs")]
            } else {
                a.paths.clone()
            };
            let deployed = read_runtime(&a.runtime)?;
            let head = produce_with(
                &paths,
                &a.run,
                Notes::Quiet,
                EmptyFolder::Refused,
                None,
                deployed.as_ref(),
            )?;
            let base = produce_at_ref_with(rev, &paths, &a.run, &a.runtime)?;
            (base, head, (rev.clone(), "working tree".to_string()))
        }
        None => {
            let [b, h] = a.paths.as_slice() else {
                return Err(Failure::Usage(
                    "give BASE and HEAD (two spec files or folders), or --base-ref REF [PATH...]".into(),
                ));
            };
            let deployed = read_runtime(&a.runtime)?;
            let d = deployed.as_ref();
            let base = produce_with(
                std::slice::from_ref(b),
                &a.run,
                Notes::Quiet,
                EmptyFolder::Allowed,
                None,
                d,
            )?;
            let head = produce_with(
                std::slice::from_ref(h),
                &a.run,
                Notes::Quiet,
                EmptyFolder::Refused,
                None,
                d,
            )?;
            (base, head, (b.display().to_string(), h.display().to_string()))
        }
    };
    let d = compare(&base, &head, &labels.0, &labels.1);
    let text = match a.format {
        DiffFormat::Table => render_table(&d),
        DiffFormat::Markdown => render_markdown(&d),
        DiffFormat::Json => render_json(&d),
    };
    match &a.output {
        Some(p) => costgate::fsutil::write_atomic(p, text.as_bytes())?,
        None => super::output::print(&text)?,
    }
    Ok(0)
}
