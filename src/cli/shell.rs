//! `costgate completions SHELL` and `costgate man`: shell completion
//! scripts (clap_complete) and roff man pages (clap_mangen), both generated
//! from the same clap definitions that parse the command line, so they
//! cannot drift from it.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};

use super::{Cli, Failure};

/// `costgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `costgate man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page of one subcommand (costgate-check(1), ...) instead of costgate(1).
    pub command: Option<String>,
    /// Write the page to this file (atomically) instead of stdout.
    #[arg(long, short = 'o', conflicts_with = "dir")]
    pub output: Option<PathBuf>,
    /// Write every page into this folder: costgate.1 and costgate-<command>.1.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

fn command() -> clap::Command {
    // `help` is a flag on every page, not a page of its own
    let mut c = Cli::command().disable_help_subcommand(true);
    c.build();
    c
}

pub fn completions(a: &CompletionsArgs) -> Result<i32, Failure> {
    let mut c = command();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut c, "costgate", &mut out);
    super::output::print(&String::from_utf8_lossy(&out))?;
    Ok(0)
}

/// The roff page of `cmd` (built, so a subcommand's page is titled
/// `costgate-check` and its synopsis reads `costgate check`).
fn page(cmd: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Failure::Internal(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// The visible subcommands, by name.
fn subcommands(c: &clap::Command) -> Vec<&clap::Command> {
    c.get_subcommands().filter(|s| !s.is_hide_set()).collect()
}

pub fn man(a: &ManArgs) -> Result<i32, Failure> {
    let top = command();
    if let Some(dir) = &a.dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::CantCreate(format!(
                "cannot create {}: {}",
                costgate::untrusted::clean(&dir.display().to_string()),
                costgate::fsutil::plain(&e)
            ))
        })?;
        write(&dir.join("costgate.1"), &page(top.clone())?)?;
        for s in subcommands(&top) {
            write(&dir.join(format!("costgate-{}.1", s.get_name())), &page(s.clone())?)?;
        }
        return Ok(0);
    }
    let bytes = match &a.command {
        None => page(top.clone())?,
        Some(want) => {
            let Some(s) = subcommands(&top).into_iter().find(|s| s.get_name() == want) else {
                let names: Vec<&str> = subcommands(&top).iter().map(|s| s.get_name()).collect();
                return Err(Failure::Usage(format!(
                    "no subcommand `{}`; the pages are: {}",
                    costgate::untrusted::clean(want),
                    names.join(", ")
                )));
            };
            page(s.clone())?
        }
    };
    match &a.output {
        Some(path) => write(path, &bytes)?,
        None => super::output::print(&String::from_utf8_lossy(&bytes))?,
    }
    Ok(0)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    Ok(costgate::fsutil::write_atomic(path, bytes)?)
}

pub const COMPLETIONS_HELP: &str = "\
Install (the script follows the installed costgate's flags; regenerate after an upgrade):
  bash        costgate completions bash > ~/.local/share/bash-completion/completions/costgate
  zsh         costgate completions zsh > \"${fpath[1]}/_costgate\"   (then: autoload -U compinit && compinit)
  fish        costgate completions fish > ~/.config/fish/completions/costgate.fish
  powershell  costgate completions powershell >> $PROFILE";
