//! `costgate report`: the document an executive reads and signs.

use costgate::report;

use super::check::{EmptyFolder, Notes, produce_what_if};
use super::{Failure, ReportArgs, ReportFormat};

pub fn run(a: &ReportArgs) -> Result<i32, Failure> {
    // The same run as `check`: same policy, prices and simulation; the
    // report always has the sensitivity analysis.
    let set = a.what_if.overrides()?;
    let mut run = a.run.clone();
    run.sim.sensitivity = true;
    let r = produce_what_if(&a.paths, &run, Notes::Print, EmptyFolder::Refused, None, None, &set)?;
    let text = match a.format {
        ReportFormat::Html => report::html::render(&r),
        ReportFormat::Markdown => report::markdown::render(&r),
        ReportFormat::Json => report::json(&r),
    };
    match &a.output {
        Some(path) => {
            costgate::fsutil::write_atomic(path, text.as_bytes())?;
            eprintln!("costgate: wrote {} ({}).", path.display(), report::doc::tally(&r));
        }
        None => super::output::print(&text)?,
    }
    Ok(0)
}
