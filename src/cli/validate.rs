//! `costgate validate` and `costgate check --no-simulate`: read, validate
//! and price the specs and read the policy, without simulating. Fast enough
//! for an editor or a pre-commit hook on every save; the problems and exit
//! codes are `check`'s (65 for input that cannot be checked).

use std::path::PathBuf;

use clap::Args;
use costgate::check::{self, Choice, Inputs};

use super::{CheckArgs, Failure, output, today};

/// `costgate validate` flags.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or folders of specs.
    #[arg(default_value = "specs")]
    pub paths: Vec<PathBuf>,
    /// Policy file (default: costgate.toml found by walking up from the first spec, else built-in defaults).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Price catalog: a file, an https:// URL or `builtin` (default: as for check).
    #[arg(long, value_name = "SOURCE")]
    pub pricing: Option<String>,
    /// Print nothing when everything is valid; only the exit status tells.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What is validated, however it was asked for.
struct Job<'a> {
    paths: &'a [PathBuf],
    choice: Choice<'a>,
    set: Vec<costgate::spec::overrides::Override>,
    trials: usize,
    quiet: bool,
}

pub fn run(a: &ValidateArgs) -> Result<i32, Failure> {
    validate(Job {
        paths: &a.paths,
        choice: Choice {
            policy: a.policy.as_deref(),
            pricing: a.pricing.as_deref(),
        },
        set: Vec::new(),
        trials: costgate::sim::DEFAULT_TRIALS,
        quiet: a.quiet,
    })
}

/// `check --no-simulate`: the same, with `check`'s flags (its `--set`
/// overrides, and its `--trials` for the work limit).
pub fn run_check(a: &CheckArgs) -> Result<i32, Failure> {
    validate(Job {
        paths: &a.paths,
        choice: Choice {
            policy: a.run.policy.as_deref(),
            pricing: a.run.pricing.as_deref(),
        },
        set: a.what_if.overrides()?,
        trials: a.run.sim.trials as usize,
        quiet: a.quiet,
    })
}

fn validate(j: Job) -> Result<i32, Failure> {
    let inputs = Inputs::resolve(j.paths, j.choice, today()?)?;
    let files = check::spec_files(j.paths).map_err(Failure::Input)?;
    let loaded = check::load_all_with(&files, &inputs.catalog, &j.set)?;
    // The work limit at the trials asked for, as `check` would refuse it.
    let too_large: Vec<_> = loaded
        .iter()
        .filter_map(|l| check::within_limits(&l.spec, j.trials).err())
        .collect();
    if !too_large.is_empty() {
        return Err(Failure::Input(too_large));
    }
    if !j.quiet {
        let n = loaded.len();
        output::print(&format!(
            "valid: {} ({}), policy {}, prices {}; nothing simulated (`costgate check` gives the verdict)\n",
            costgate::fmt::plural(n, "spec", "specs"),
            loaded
                .iter()
                .map(|l| costgate::untrusted::clean(&l.spec.file))
                .collect::<Vec<_>>()
                .join(", "),
            costgate::untrusted::clean(&inputs.policy.describe()),
            costgate::untrusted::clean(&inputs.pricing.description),
        ))?;
    }
    Ok(0)
}
