//! The calibration report of `costgate calibrate`: what was read, what was
//! fitted (fitted against observed quantiles, the tail's interval), what the
//! logs could not measure, the model mix and the reconciliation of recorded
//! spend; as terminal text, Markdown, or JSON (serde).
//!
//! Every string from a log or a path goes through `untrusted::clean` (text)
//! or the Markdown escape.

use std::fmt::Write as _;

use serde::Serialize;

use crate::calibrate::{Calibration, FitMode, Fitted};
use crate::dist::Dist;
use crate::logs::LogFile;
use crate::pricing::reconcile::Reconciliation;
use crate::untrusted::clean;

/// Everything `costgate calibrate` reports.
#[derive(Clone, Debug, Serialize)]
pub struct CalibrationReport {
    /// The costgate version that fitted.
    pub costgate_version: String,
    /// The log files read, in order, with their sha256 and counts.
    pub files: Vec<LogFile>,
    /// The fits.
    pub calibration: Calibration,
    /// Recorded spend against the catalog's price, where the logs record spend.
    pub reconciliation: Option<Reconciliation>,
    /// The price catalog the reconciliation used.
    pub catalog: String,
    /// The spec calibrated (`--spec`), if any.
    pub spec: Option<String>,
    /// The spec fields written, by field path.
    pub written: Vec<String>,
    /// Fitted fields that could not be written into the spec, with why.
    pub not_written: Vec<Written>,
    /// Whether the spec's comments were kept (YAML and TOML: yes).
    pub comments_kept: bool,
    /// Where the calibrated spec or fragment went (a file, or `stdout`).
    pub output: String,
}

/// A field not written, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Written {
    /// The field path.
    pub path: String,
    /// Why it was not written.
    pub reason: String,
}

/// A distribution in its spec form, short (`{p50: 1200, p95: 5000}`; a
/// sample of many values as `{samples: 1000 values}`).
pub fn dist_short(d: &Dist) -> String {
    let n = crate::spec::rewrite::number;
    match d {
        Dist::Fixed { value } => n(*value),
        Dist::LogNormal { p50, p95, .. } => format!("{{p50: {}, p95: {}}}", n(*p50), n(*p95)),
        Dist::Triangular { low, mode, high } => {
            format!("{{low: {}, mode: {}, high: {}}}", n(*low), n(*mode), n(*high))
        }
        Dist::Pert { low, mode, high } => {
            format!(
                "{{low: {}, mode: {}, high: {}, shape: pert}}",
                n(*low),
                n(*mode),
                n(*high)
            )
        }
        Dist::Normal { mean, sd, .. } => format!("{{mean: {}, sd: {}}}", n(*mean), n(*sd)),
        Dist::Empirical { samples } => format!("{{samples: {} values}}", samples.len()),
    }
}

fn when(t: Option<f64>) -> String {
    t.and_then(|s| jiff::Timestamp::from_nanosecond((s * 1e9) as i128).ok())
        .map_or_else(|| "?".into(), |ts| ts.strftime("%Y-%m-%d %H:%M").to_string())
}

fn mode_line(m: FitMode) -> &'static str {
    match m {
        FitMode::Tail => {
            "tail figures at the upper end of their 90% bootstrap interval; --fit central writes the point estimates"
        }
        FitMode::Central => "tail figures at their point estimates (--fit central)",
    }
}

fn fit_rows(f: &Fitted) -> Vec<(String, String, String, String)> {
    let errf = |o: f64, x: f64| {
        if o != 0.0 {
            format!("{:+.1}%", 100.0 * (x - o) / o)
        } else {
            "".into()
        }
    };
    f.table
        .iter()
        .map(|r| {
            (
                crate::fmt::quantile_label(r.q),
                crate::spec::rewrite::number(r.observed),
                crate::spec::rewrite::number(r.fitted),
                errf(r.observed, r.fitted),
            )
        })
        .collect()
}

/// The report as terminal text.
pub fn text(r: &CalibrationReport) -> String {
    let mut o = String::new();
    let c = &r.calibration;
    let p = &c.provenance;
    let _ = writeln!(
        o,
        "costgate calibrate · {} log file{} · {} calls · {} users · {} user-days · {} to {} UTC",
        r.files.len(),
        if r.files.len() == 1 { "" } else { "s" },
        crate::fmt::count(p.records as f64),
        crate::fmt::count(p.users as f64),
        crate::fmt::count(p.user_days as f64),
        when(p.first_s),
        when(p.last_s),
    );
    for f in &r.files {
        let _ = writeln!(
            o,
            "  {}  {} records, {} bad, {} skipped{}  sha256 {}",
            clean(&f.path),
            crate::fmt::count(f.records as f64),
            crate::fmt::count(f.bad as f64),
            crate::fmt::count(f.skipped as f64),
            if f.gzip { ", gzip" } else { "" },
            f.sha256
        );
        for b in &f.first_bad {
            let _ = writeln!(
                o,
                "    line {}{}: `{}`: {}",
                b.line,
                b.column.map_or(String::new(), |c| format!(":{c}")),
                clean(&b.path),
                clean(&b.message)
            );
        }
        if f.bad > f.first_bad.len() as u64 {
            let _ = writeln!(o, "    … and {} more bad records", f.bad - f.first_bad.len() as u64);
        }
    }
    let _ = writeln!(o, "\nFitted: {}", mode_line(c.options.fit));
    if c.fitted.is_empty() {
        let _ = writeln!(o, "  nothing: the logs measure none of the spec's quantities");
    }
    for f in &c.fitted {
        let _ = writeln!(
            o,
            "  {}  {}  from {} {}",
            f.path,
            dist_short(&f.dist),
            crate::fmt::count(f.n as f64),
            f.unit
        );
        let _ = writeln!(o, "    form: {}", clean(&f.why_this_form));
        if !f.table.is_empty() {
            let _ = writeln!(o, "    {:<6} {:>12} {:>12} {:>8}", "", "observed", "fitted", "error");
            for (q, ob, fi, e) in fit_rows(f) {
                let _ = writeln!(o, "    {q:<6} {ob:>12} {fi:>12} {e:>8}");
            }
        }
        if let Some(i) = &f.interval {
            let _ = writeln!(
                o,
                "    {}: {} (90% interval {} to {}, {} bootstrap resamples of {}, seed {})",
                i.figure,
                crate::spec::rewrite::number(i.point),
                crate::spec::rewrite::number(i.low),
                crate::spec::rewrite::number(i.high),
                i.resamples,
                i.unit,
                i.seed
            );
        }
    }
    if !c.unmeasured.is_empty() {
        let _ = writeln!(o, "\nNot measured (kept as the spec has them)");
        for (path, why) in &c.unmeasured {
            let _ = writeln!(o, "  {path}: {}", clean(why));
        }
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for w in &c.warnings {
            let _ = writeln!(o, "  warning: {}", clean(w));
        }
    }
    if c.model_mix.len() > 1 {
        let _ = writeln!(
            o,
            "\nModel mix (the spec has one model per tier: price the mix by hand or split the feature)"
        );
        for m in &c.model_mix {
            let _ = writeln!(
                o,
                "  {}  {} calls ({} of calls, {} of tokens)",
                clean(&m.model),
                crate::fmt::count(m.calls as f64),
                crate::fmt::pct(m.call_share),
                crate::fmt::pct(m.token_share)
            );
        }
    }
    if let Some(rec) = &r.reconciliation {
        let _ = writeln!(
            o,
            "\nRecorded spend against {} (more than {:.0}% apart is reported)",
            clean(&r.catalog),
            crate::pricing::reconcile::TOLERANCE * 100.0
        );
        for m in &rec.models {
            let verdict = match (m.computed_usd, m.relative_difference) {
                (None, _) => "not in the catalog: not priced".to_string(),
                (Some(c), Some(d)) => format!(
                    "costgate {} ({:+.1}%){}",
                    crate::fmt::usd(c),
                    100.0 * d,
                    if m.apart {
                        ": APART (prices changed, or the catalog is wrong)"
                    } else {
                        ""
                    }
                ),
                (Some(c), None) => format!("costgate {}", crate::fmt::usd(c)),
            };
            let _ = writeln!(
                o,
                "  {}  {} calls recorded {}, {}",
                clean(&m.model),
                crate::fmt::count(m.calls as f64),
                crate::fmt::usd(m.recorded_usd),
                verdict
            );
        }
        if rec.not_compared_calls > 0 {
            let _ = writeln!(
                o,
                "  {} calls with a recorded spend were not compared (no model name, or past {} models)",
                crate::fmt::count(rec.not_compared_calls as f64),
                crate::pricing::reconcile::MAX_MODELS
            );
        }
    }
    if let Some(s) = &r.spec {
        let _ = writeln!(
            o,
            "\nSpec {}: {} field{} written to {}{}",
            clean(s),
            r.written.len(),
            if r.written.len() == 1 { "" } else { "s" },
            clean(&r.output),
            if r.comments_kept {
                ", everything else and the comments kept"
            } else {
                ""
            }
        );
        for w in &r.not_written {
            let _ = writeln!(o, "  not written: {}: {}", w.path, clean(&w.reason));
        }
    } else {
        let _ = writeln!(o, "\nA spec fragment to paste written to {}", clean(&r.output));
    }
    o
}

/// The report as Markdown.
pub fn markdown(r: &CalibrationReport) -> String {
    use super::markdown::escape;
    let mut o = String::new();
    let c = &r.calibration;
    let p = &c.provenance;
    let _ = writeln!(o, "## Calibration from usage logs\n");
    let _ = writeln!(
        o,
        "{} calls, {} users, {} user-days, {} to {} UTC.\n",
        crate::fmt::count(p.records as f64),
        crate::fmt::count(p.users as f64),
        crate::fmt::count(p.user_days as f64),
        when(p.first_s),
        when(p.last_s)
    );
    let _ = writeln!(o, "| file | records | bad | sha256 |\n| --- | ---: | ---: | --- |");
    for f in &r.files {
        let _ = writeln!(
            o,
            "| {} | {} | {} | `{}` |",
            escape(&f.path),
            crate::fmt::count(f.records as f64),
            crate::fmt::count(f.bad as f64),
            f.sha256
        );
    }
    let _ = writeln!(o, "\n{}.\n", mode_line(c.options.fit));
    let _ = writeln!(
        o,
        "| field | fitted | from | p50 obs / fit | p95 obs / fit | p99 obs / fit | tail interval (90%) |\n| --- | --- | ---: | ---: | ---: | ---: | --- |"
    );
    for f in &c.fitted {
        let at = |q: f64| {
            f.table
                .iter()
                .find(|r| (r.q - q).abs() < 1e-9)
                .map_or("–".to_string(), |r| {
                    format!(
                        "{} / {}",
                        crate::spec::rewrite::number(r.observed),
                        crate::spec::rewrite::number(r.fitted)
                    )
                })
        };
        let interval = f.interval.as_ref().map_or("–".to_string(), |i| {
            format!(
                "{} {} to {}",
                i.figure,
                crate::spec::rewrite::number(i.low),
                crate::spec::rewrite::number(i.high)
            )
        });
        let _ = writeln!(
            o,
            "| `{}` | `{}` | {} {} | {} | {} | {} | {} |",
            f.path,
            dist_short(&f.dist),
            crate::fmt::count(f.n as f64),
            f.unit,
            at(0.5),
            at(0.95),
            at(0.99),
            interval
        );
    }
    if !c.unmeasured.is_empty() {
        let _ = writeln!(o, "\nNot measured, kept as the spec has them:\n");
        for (path, why) in &c.unmeasured {
            let _ = writeln!(o, "- `{path}`: {}", escape(why));
        }
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings:\n");
        for w in &c.warnings {
            let _ = writeln!(o, "- {}", escape(w));
        }
    }
    if let Some(rec) = &r.reconciliation {
        let _ = writeln!(
            o,
            "\nRecorded spend against {}:\n\n| model | calls | recorded | costgate | difference |\n| --- | ---: | ---: | ---: | ---: |",
            escape(&r.catalog)
        );
        for m in &rec.models {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {}{} |",
                escape(&m.model),
                crate::fmt::count(m.calls as f64),
                crate::fmt::usd(m.recorded_usd),
                m.computed_usd.map_or("not priced".into(), crate::fmt::usd),
                m.relative_difference
                    .map_or("–".into(), |d| format!("{:+.1}%", 100.0 * d)),
                if m.apart { " **apart**" } else { "" }
            );
        }
    }
    o
}
