//! `costgate policy`: the policy in effect here, or (`--defaults`) the
//! built-in policy written out as a valid `costgate.toml`.

use std::path::PathBuf;

use clap::Args;

use super::{Failure, output};

/// `costgate policy` flags.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Print the built-in defaults as a costgate.toml (every threshold written out).
    #[arg(long)]
    pub defaults: bool,
    /// Without --defaults: the policy file to read (default: costgate.toml found walking up from the current folder).
    #[arg(long, conflicts_with = "defaults")]
    pub policy: Option<PathBuf>,
}

pub fn run(a: &PolicyArgs) -> Result<i32, Failure> {
    if a.defaults {
        output::print(&costgate::policy::defaults_toml())?;
        return Ok(0);
    }
    let policy = super::check::load_policy(a.policy.as_deref(), &[PathBuf::from(".")])?;
    output::print(&format!("policy: {}\n", costgate::untrusted::clean(&policy.describe())))?;
    Ok(0)
}
