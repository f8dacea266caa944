//! `costgate calibrate`: fit a spec's usage and interaction figures from
//! usage logs, write the spec again (or a fragment) with the fitted fields
//! marked measured, and report the fit.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use costgate::calibrate::{self, Calibration, FitMode};
use costgate::check::observed::{self, LogChoice, Observed};
use costgate::report::calibration::{self as render, CalibrationReport, Written};
use costgate::spec::rewrite::{self, Edit, NewValue};
use costgate::spec::{Audience, Spec};

use super::{CalibrateArgs, CalibrateFormat, Failure, FitArg, LogArgs, LogFormatArg};

/// The log choice and mapping the flags give; a bad `--map` is a usage error.
pub fn log_choice(a: &LogArgs) -> Result<(LogChoice, Option<String>), Failure> {
    if let Some(m) = &a.map {
        costgate::logs::Mapping::parse(m).map_err(|e| Failure::Usage(format!("--map: {e}")))?;
    }
    let choice = match a.log_format {
        None => LogChoice::Detect,
        Some(LogFormatArg::Otlp) => LogChoice::Otlp,
        Some(LogFormatArg::Litellm) => LogChoice::LiteLlm,
        Some(LogFormatArg::Csv) => LogChoice::Csv,
        Some(LogFormatArg::Jsonl) => LogChoice::JsonLines,
    };
    if matches!(choice, LogChoice::Csv | LogChoice::JsonLines) && a.map.is_none() {
        return Err(Failure::Usage(
            "--log-format csv and jsonl need --map to name the columns".into(),
        ));
    }
    Ok((choice, a.map.clone()))
}

/// Read the logs with a progress bar on a terminal (not under CI).
pub fn read_with_progress(
    logs: &[PathBuf],
    how: &LogArgs,
    opts: &calibrate::Options,
    catalog: &costgate::pricing::Catalog,
) -> Result<Observed, Failure> {
    let (choice, map) = log_choice(how)?;
    let total: u64 = logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = (std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "reading logs {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ~{eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut tick = |b: u64| {
        if let Some(bar) = &bar {
            bar.set_position(b);
        }
    };
    let r = observed::read_logs(logs, choice, map.as_deref(), opts, catalog, &mut tick);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let o = r.map_err(Failure::Input)?;
    if o.files.iter().all(|f| f.records == 0) {
        let file = logs.first().map_or(String::new(), |p| p.display().to_string());
        return Err(Failure::Input(vec![costgate::source::Problem {
            code: costgate::source::ProblemCode::InvalidValue,
            span: costgate::source::Span::new(&std::sync::Arc::from(file.as_str()), costgate::source::Loc::UNKNOWN, ""),
            message: format!(
                "no call in {}: nothing to measure",
                if logs.len() == 1 {
                    "the log".to_string()
                } else {
                    format!("the {} logs", logs.len())
                }
            ),
            hint: Some("check that the file is the feature's usage log and that --map names its columns".into()),
        }]));
    }
    Ok(o)
}

/// One warning line per log file with malformed records, on standard error
/// (the records were counted, not fitted).
pub fn warn_bad_records(o: &Observed) {
    for f in &o.files {
        if f.bad == 0 {
            continue;
        }
        let first = f.first_bad.first().map_or(String::new(), |b| {
            format!(
                "; the first at line {}: `{}`: {}",
                b.line,
                costgate::untrusted::clean(&b.path),
                costgate::untrusted::clean(&b.message)
            )
        });
        eprintln!(
            "warning: {}: {} of {} records are malformed and were not used{first}",
            costgate::untrusted::clean(&f.path),
            f.bad,
            f.bad + f.records
        );
    }
}

fn short_sha(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// The provenance note every written field carries.
fn note(o: &Observed, c: &Calibration, today: jiff::civil::Date) -> String {
    let files: Vec<String> = o
        .files
        .iter()
        .map(|f| {
            let name = Path::new(&f.path)
                .file_name()
                .map_or_else(|| f.path.clone(), |n| n.to_string_lossy().into_owned());
            format!("{} sha256:{}", costgate::untrusted::clean(&name), short_sha(&f.sha256))
        })
        .collect();
    let p = &c.provenance;
    let day = |t: Option<f64>| {
        t.and_then(|s| jiff::Timestamp::from_nanosecond((s * 1e9) as i128).ok())
            .map_or_else(|| "?".into(), |ts| ts.strftime("%Y-%m-%d").to_string())
    };
    format!(
        "costgate calibrate {today}: {}; {} to {}; {} records, {} users, {} user-days{}",
        files.join(", "),
        day(p.first_s),
        day(p.last_s),
        p.records,
        p.users,
        p.user_days,
        match c.options.fit {
            FitMode::Tail => "; tails at the upper end of their 90% interval",
            FitMode::Central => "; central fit",
        }
    )
}

/// The edits a calibration makes to `spec` (or, without one, to a fragment).
fn edits(c: &Calibration, spec: Option<&Spec>, note: &str) -> Vec<Edit> {
    let mut out = Vec::new();
    for f in &c.fitted {
        // Power users are written together below; a tenant's monthly spend
        // is reported, not a spec field.
        if f.path.starts_with("usage.power_users.") || f.path == "tenants.monthly_spend_usd" {
            continue;
        }
        let value = NewValue::Quantity {
            dist: f.dist.clone(),
            note: note.to_string(),
        };
        if let Some(field) = f.path.strip_prefix("tiers[].") {
            if let Some(s) = spec {
                for (i, t) in s.tiers.iter().enumerate() {
                    if matches!(t.audience, Audience::Tenants { .. }) {
                        out.push(Edit {
                            path: format!("tiers[{i}].{field}"),
                            value: value.clone(),
                        });
                    }
                }
            }
            continue;
        }
        out.push(Edit {
            path: f.path.clone(),
            value,
        });
    }
    if let (Some(s), Some(m)) = (c.get("usage.power_users.share"), c.get("usage.power_users.multiplier")) {
        out.push(Edit {
            path: "usage.power_users".into(),
            value: NewValue::Map(vec![
                ("share".into(), s.dist.central()),
                ("multiplier".into(), m.dist.central()),
            ]),
        });
    }
    out
}

/// A fragment to paste: the fitted `interaction:` and `usage:` fields.
fn fragment(c: &Calibration, edits: &[Edit], note: &str) -> String {
    let mut o = format!("# {}\n", note.replace('\n', " "));
    for section in ["interaction", "usage"] {
        let mine: Vec<&Edit> = edits
            .iter()
            .filter(|e| e.path.split('.').next() == Some(section))
            .collect();
        if mine.is_empty() {
            continue;
        }
        o.push_str(section);
        o.push_str(":\n");
        for e in mine {
            let key = e.path.split_once('.').map_or(e.path.as_str(), |(_, k)| k);
            o.push_str(&format!("  {key}: {}\n", rewrite::yaml_value(&e.value)));
        }
    }
    if let Some(f) = c.fitted.iter().find(|f| f.path.starts_with("tiers[].")) {
        o.push_str(&format!(
            "# each tier of tenants: {}: {}\n",
            f.path.trim_start_matches("tiers[]."),
            rewrite::yaml_value(&NewValue::Quantity {
                dist: f.dist.clone(),
                note: String::new()
            })
        ));
    }
    o
}

pub fn run(a: &CalibrateArgs) -> Result<i32, Failure> {
    // The spec first: a spec that does not validate is refused before any
    // log is read.
    let spec = match &a.spec {
        Some(p) => Some(costgate::spec::load_file(p).map_err(Failure::Input)?),
        None => None,
    };
    if let Some(n) = a.population
        && !(n.is_finite() && (1.0..=1e9).contains(&n))
    {
        return Err(Failure::Usage(format!(
            "--population {n}: give the feature's users, 1 to 1e9"
        )));
    }
    if !(a.gap.is_finite() && a.gap > 0.0 && a.gap <= 86_400.0) {
        return Err(Failure::Usage(format!(
            "--gap {}: give seconds above 0, at most a day (86400)",
            a.gap
        )));
    }
    if !(a.power_k.is_finite() && a.power_k > 1.0 && a.power_k <= 1000.0) {
        return Err(Failure::Usage(format!(
            "--power-k {}: give a factor above 1, at most 1000",
            a.power_k
        )));
    }
    let opts = calibrate::Options {
        population: a
            .population
            .or_else(|| spec.as_ref().map(observed::population).filter(|n| *n > 0.0)),
        fit: match a.fit {
            FitArg::Tail => FitMode::Tail,
            FitArg::Central => FitMode::Central,
        },
        gap_s: a.gap,
        power_k: a.power_k,
        seed: a.seed,
        ..calibrate::Options::default()
    };
    let (catalog, info) = super::pricing::catalog_for(a.pricing.as_deref(), None)?;
    let observed = read_with_progress(&a.logs, &a.logs_how, &opts, &catalog)?;
    warn_bad_records(&observed);
    let cal = calibrate::fit(&observed.observations, &opts);
    let today = super::today()?;
    let note = note(&observed, &cal, today);
    let edits = edits(&cal, spec.as_ref(), &note);
    let (text, written, not_written, comments_kept) = match (&a.spec, &spec) {
        (Some(path), Some(_)) => {
            let original = costgate::input::read_text(path)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {}", path.display(), e.message)))?;
            let toml = path.to_string_lossy().to_ascii_lowercase().ends_with(".toml");
            let r = rewrite::rewrite(&original, toml, &edits)
                .map_err(|e| Failure::Internal(format!("the spec no longer parses: {e}")))?;
            // The calibrated spec must still validate.
            if let Err(mut problems) = costgate::spec::load_str(&format!("(calibrated) {}", path.display()), &r.text) {
                for p in &mut problems {
                    p.hint = Some(format!(
                        "the calibrated spec would not validate, so nothing was written: the logs disagree with a limit \
                         the spec sets; fix the spec or the logs' period{}",
                        p.hint.as_ref().map_or(String::new(), |h| format!(" ({h})"))
                    ));
                }
                return Err(Failure::Input(problems));
            }
            let not: Vec<Written> = r
                .not_placed
                .iter()
                .map(|(p, why)| Written {
                    path: p.clone(),
                    reason: why.clone(),
                })
                .collect();
            (r.text, r.placed, not, true)
        }
        _ => (
            fragment(&cal, &edits, &note),
            edits.iter().map(|e| e.path.clone()).collect(),
            Vec::new(),
            true,
        ),
    };
    let output = match &a.output {
        Some(p) => {
            costgate::fsutil::write_atomic(p, text.as_bytes())?;
            p.display().to_string()
        }
        None => "stdout".into(),
    };
    let report = CalibrationReport {
        costgate_version: env!("CARGO_PKG_VERSION").into(),
        files: observed.files.clone(),
        calibration: cal,
        reconciliation: observed.reconciliation.clone(),
        catalog: info.description.clone(),
        spec: a.spec.as_ref().map(|p| p.display().to_string()),
        written,
        not_written,
        comments_kept,
        output,
    };
    let mut out = match a.format {
        // On a terminal, the report's lines fit its width (the calibrated
        // spec below is printed as written).
        CalibrateFormat::Text => match super::check::terminal_width() {
            Some(w) => costgate::report::wrap_prose(&render::text(&report), w),
            None => render::text(&report),
        },
        CalibrateFormat::Markdown => render::markdown(&report),
        CalibrateFormat::Json => {
            let mut v = serde_json::to_value(&report).map_err(|e| Failure::Internal(e.to_string()))?;
            if a.output.is_none() {
                v["spec_text"] = serde_json::Value::String(text.clone());
            }
            let s = serde_json::to_string_pretty(&v).map_err(|e| Failure::Internal(e.to_string()))?;
            costgate::untrusted::json_inert(s) + "\n"
        }
    };
    if a.output.is_none() && a.format != CalibrateFormat::Json {
        let fence = if a.format == CalibrateFormat::Markdown {
            "```yaml\n"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n{}{}{}{}",
            if a.format == CalibrateFormat::Text {
                "--- calibrated spec ---\n"
            } else {
                ""
            },
            fence,
            text.lines()
                .map(|l| costgate::untrusted::clean(l).into_owned())
                .collect::<Vec<_>>()
                .join("\n")
                + "\n",
            if fence.is_empty() { "" } else { "```\n" }
        ));
    }
    super::output::print(&out)?;
    Ok(0)
}
