//! `costgate diff`: what a change does to each feature's cost.

use std::path::PathBuf;

use costgate::diff::{compare, render_json, render_markdown, render_table_fitted};

use super::check::{EmptyFolder, Notes, produce_at_ref_with, produce_what_if, produce_with, read_runtime};
use super::{DiffArgs, DiffFormat, Failure};

pub fn run(a: &DiffArgs) -> Result<i32, Failure> {
    // `--set` applies to the head only: the what-if is compared with the base.
    let set = a.what_if.overrides()?;
    let what_if = if set.is_empty() {
        String::new()
    } else {
        let flags: Vec<String> = set.iter().map(|o| o.shown()).collect();
        format!(" with {}", flags.join(" "))
    };
    let (base, head, labels) = match &a.base_ref {
        Some(rev) => {
            let paths = if a.paths.is_empty() {
                vec![PathBuf::from("specs")]
            } else {
                a.paths.clone()
            };
            let deployed = read_runtime(&a.runtime)?;
            let head = produce_what_if(
                &paths,
                &a.run,
                Notes::Quiet,
                EmptyFolder::Refused,
                None,
                deployed.as_ref(),
                &set,
            )?;
            let base = produce_at_ref_with(rev, &paths, &a.run, &a.runtime)?;
            (base, head, (rev.clone(), format!("working tree{what_if}")))
        }
        None => {
            let (b, h) = match a.paths.as_slice() {
                [b, h] => (b, h),
                // one spec (or folder) as written against itself overridden
                [one] if !set.is_empty() => (one, one),
                _ => {
                    return Err(Failure::Usage(
                        "give BASE and HEAD (two spec files or folders), --base-ref REF [PATH...], or one PATH with --set"
                            .into(),
                    ));
                }
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
            let head = produce_what_if(
                std::slice::from_ref(h),
                &a.run,
                Notes::Quiet,
                EmptyFolder::Refused,
                None,
                d,
                &set,
            )?;
            (
                base,
                head,
                (b.display().to_string(), format!("{}{what_if}", h.display())),
            )
        }
    };
    let d = compare(&base, &head, &labels.0, &labels.1);
    let text = match a.format {
        // fitted to the terminal on standard output; a file gets whole lines
        DiffFormat::Table => render_table_fitted(
            &d,
            if a.output.is_none() {
                super::check::terminal_width()
            } else {
                None
            },
        ),
        DiffFormat::Markdown => render_markdown(&d),
        DiffFormat::Json => render_json(&d),
    };
    match &a.output {
        Some(p) => costgate::fsutil::write_atomic(p, text.as_bytes())?,
        None => super::output::print(&text)?,
    }
    Ok(0)
}
