//! The result of a check, and its renderers. Renderers take the same
//! [`CheckReport`] and never recompute: every figure comes from one place.

pub mod calibration;
pub mod doc;
pub(crate) mod fit;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod inert;
pub mod junit;
pub mod limits;
pub mod markdown;
pub mod sarif;
pub mod sensitivity;
pub mod table;

// The report types live in `crate::outcome`; re-exported here for the
// library's public API (`costgate::report::CheckReport`).
pub use crate::outcome::{
    Assumption, BaselineReport, Breach, BudgetShare, CheckReport, FeatureReport, MEASURABLE_SE, MIN_TAIL_MONTHS,
    ModelInfo, SCHEMA_VERSION, ScenarioEffect, ValueReport,
};

/// The JSON rendering (pretty, stable field order).
pub fn json(report: &CheckReport) -> String {
    let mut s = crate::untrusted::json_inert(serde_json::to_string_pretty(report).expect("reports serialise"));
    s.push('\n');
    s
}

/// `text` fitted to a terminal of `width` columns: every line wider than it
/// wrapped at its spaces, never inside a word or a number, the lines it
/// continues indented two more (for the plain-text output of `tune` and
/// `calibrate`; the check table fits itself by cell).
pub fn wrap_prose(text: &str, width: usize) -> String {
    fit::wrap_prose(text, width)
}
