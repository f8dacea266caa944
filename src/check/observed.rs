//! Reading usage logs into observations, for `costgate calibrate` and
//! `costgate check --observed`: each file's format detected (or as told),
//! every call handed to the fitting observer and, where the log recorded
//! what a call cost, to the reconciliation against the catalog.

use std::path::PathBuf;

use crate::calibrate::{Observations, Observer, Options};
use crate::logs::{self, Format, LogFile, Mapping};
use crate::pricing::Catalog;
use crate::pricing::reconcile::{Reconciler, Reconciliation};
use crate::source::{Loc, Problem, ProblemCode, Span};

/// Which format to read the logs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogChoice {
    /// Detected from each file (OTLP/JSON and LiteLLM describe themselves;
    /// anything else needs a mapping, read as CSV or JSON Lines by its
    /// first byte).
    Detect,
    /// OpenTelemetry GenAI spans as OTLP/JSON.
    Otlp,
    /// LiteLLM spend logs.
    LiteLlm,
    /// CSV through the mapping.
    Csv,
    /// JSON Lines through the mapping.
    JsonLines,
}

/// The logs read.
#[derive(Clone, Debug)]
pub struct Observed {
    /// Each file read, in order.
    pub files: Vec<LogFile>,
    /// What the calls show, aggregated.
    pub observations: Observations,
    /// Recorded spend against the catalog's price, when any call recorded one.
    pub reconciliation: Option<Reconciliation>,
}

fn usage(file: &str, field: &str, message: String) -> Problem {
    Problem {
        code: ProblemCode::InvalidValue,
        span: Span::new(&std::sync::Arc::from(file), Loc::UNKNOWN, field),
        message,
        hint: None,
    }
}

/// Read `paths` as `choice` says (with `map` for CSV and JSON Lines) into
/// observations; `progress` is told the bytes read so far (over all files).
pub fn read_logs(
    paths: &[PathBuf],
    choice: LogChoice,
    map: Option<&str>,
    opts: &Options,
    catalog: &Catalog,
    progress: &mut dyn FnMut(u64),
) -> Result<Observed, Vec<Problem>> {
    let mapping = match map {
        Some(m) => Some(Mapping::parse(m).map_err(|e| vec![usage("--map", "map", e)])?),
        None => None,
    };
    let mut observer = Observer::new(opts);
    let mut reconciler = Reconciler::new(catalog);
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut done = 0u64;
    for path in paths {
        let name = path.display().to_string();
        let format = match (choice, &mapping) {
            (LogChoice::Otlp, _) => Format::Otlp,
            (LogChoice::LiteLlm, _) => Format::LiteLlm,
            (LogChoice::Csv, Some(m)) => Format::Csv(m.clone()),
            (LogChoice::JsonLines, Some(m)) => Format::JsonLines(m.clone()),
            (LogChoice::Csv | LogChoice::JsonLines, None) => {
                problems.push(usage(
                    &name,
                    "map",
                    "CSV and JSON Lines logs need --map to name their columns".into(),
                ));
                continue;
            }
            (LogChoice::Detect, m) => {
                let head = match logs::head(path) {
                    Ok(h) => h,
                    Err(e) => {
                        problems.extend(e.problems());
                        continue;
                    }
                };
                match (logs::detect(path, &head), m) {
                    (Some(f), _) => f,
                    (None, Some(m)) => logs::mapped_format(&head, m.clone()),
                    (None, None) => {
                        problems.push(Problem {
                            hint: Some(
                                "give --map (time=...,input=...,output=...) for a CSV or JSON Lines log, or --log-format"
                                    .into(),
                            ),
                            ..usage(
                                &name,
                                "format",
                                "not OpenTelemetry OTLP/JSON nor LiteLLM spend logs, and no --map names its columns"
                                    .into(),
                            )
                        });
                        continue;
                    }
                }
            }
        };
        let base = done;
        let mut tell = |b: u64| progress(base + b);
        let read = logs::read(path, &format, &mut tell, &mut |c| {
            observer.add(c);
            reconciler.add(c);
        });
        match read {
            Ok(f) => {
                done += f.bytes;
                files.push(f);
            }
            Err(e) => problems.extend(e.problems()),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let rec = reconciler.finish();
    let has_spend = !rec.models.is_empty() || rec.not_compared_calls > 0;
    Ok(Observed {
        files,
        observations: observer.finish(),
        reconciliation: has_spend.then_some(rec),
    })
}

/// The `check --observed` part of a feature's report: the drift of each
/// measured quantity, and the month simulated again with the observed
/// distributions (central fits) beside the spec's own month.
pub(crate) fn report(
    l: &super::Loaded,
    o: &Observed,
    drift: Vec<crate::calibrate::Drift>,
    spec_month: &crate::outcome::Month,
    sim_opts: &crate::sim::Options,
    worst_case_quantile: f64,
) -> Result<crate::outcome::ObservedReport, Problem> {
    use crate::outcome::{Month, ObservedFile, ObservedReport};
    let spec = &l.spec;
    let population = population(spec);
    let opts = Options {
        population: (population > 0.0).then_some(population),
        fit: crate::calibrate::FitMode::Central,
        ..Options::default()
    };
    let cal = crate::calibrate::fit(&o.observations, &opts);
    let seen = crate::calibrate::apply(spec, &cal);
    let mut warnings = cal.warnings.clone();
    let observed_month = if sim_opts.trials == 0 {
        None
    } else if let Err(p) = super::within_limits(&seen, sim_opts.trials) {
        warnings.push(format!(
            "the month with the observed figures was not simulated: {}",
            p.message
        ));
        None
    } else {
        let model = crate::economics::Model::new(&seen, &l.priced, worst_case_quantile);
        let typical = crate::sim::typical(&model);
        let r = crate::sim::simulate(&model, sim_opts);
        Some(Month {
            mean_usd: r.cost.mean.unwrap_or(typical.cost),
            at_confidence_usd: crate::outcome::cost_at_confidence(Some(&r), &typical),
        })
    };
    let p = &cal.provenance;
    Ok(ObservedReport {
        files: o
            .files
            .iter()
            .map(|f| ObservedFile {
                path: f.path.clone(),
                sha256: f.sha256.clone(),
                records: f.records,
                bad: f.bad,
            })
            .collect(),
        records: p.records,
        users: p.users,
        user_days: p.user_days,
        drift,
        replaced: cal.fitted.iter().map(|f| f.path.clone()).collect(),
        unmeasured: cal.unmeasured.clone(),
        spec_month: spec_month.clone(),
        observed_month,
        warnings,
    })
}

/// The users a spec's tiers have at their central figures: the population
/// the active share is measured against when none is given.
pub fn population(spec: &crate::spec::Spec) -> f64 {
    use crate::spec::Audience;
    spec.tiers
        .iter()
        .map(|t| {
            let own = match &t.audience {
                Audience::Users { users } => users.central(),
                Audience::Tenants {
                    tenants,
                    users_per_tenant,
                } => tenants.central() * users_per_tenant.central(),
            };
            own + t.accounts.iter().map(|a| a.users.central()).sum::<f64>()
        })
        .sum()
}
