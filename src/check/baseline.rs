//! `--fail-on new`: a check judged against the same specs at a baseline.

use crate::policy::{Level, Verdict};
use crate::report::CheckReport;

/// Which deny findings block when a baseline is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Every deny finding blocks (the baseline only informs).
    Any,
    /// Only deny findings the baseline did not have block.
    New,
}

/// How the deny findings of a check compare with its baseline's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaselineCount {
    /// Deny findings the baseline did not have.
    pub new: usize,
    /// Deny findings the baseline already had.
    pub already_there: usize,
}

/// Judge `report` against `base` (the same paths at the baseline): with
/// [`FailOn::New`], a report blocked only by deny findings the baseline
/// already had passes, or needs approval when an `approve` finding has no
/// covering approval. The verdict and exit code are rewritten in place.
pub fn apply_baseline(report: &mut CheckReport, base: &CheckReport, fail_on: FailOn) -> BaselineCount {
    let new_ones = crate::diff::new_denials(base, report);
    let new = new_ones.len();
    // under --fail-on new: the features blocked only by deny findings the
    // base already had
    let old_only: Vec<bool> = if fail_on == FailOn::New {
        report
            .features
            .iter()
            .map(|f| {
                f.verdict == Verdict::Blocked
                    && !f.findings.iter().any(|x| new_ones.iter().any(|n| std::ptr::eq(*n, x)))
            })
            .collect()
    } else {
        Vec::new()
    };
    let already_there: usize = report
        .features
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| f.level == Level::Deny)
        .count()
        - new;
    for (f, old) in report.features.iter_mut().zip(old_only) {
        f.blocked_not_new = old;
    }
    if fail_on == FailOn::New && report.verdict == Verdict::Blocked && new == 0 {
        // Only deny findings the base already had: they do not block.
        let approvals = report
            .features
            .iter()
            .flat_map(|f| &f.findings)
            .any(|f| f.is_open_approval());
        report.verdict = if approvals {
            Verdict::NeedsApproval
        } else {
            Verdict::Pass
        };
        report.exit_code = report.verdict.exit_code();
    }
    BaselineCount { new, already_there }
}
