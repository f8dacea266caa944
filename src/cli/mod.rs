//! Wiring from flags to the library, and the one place that turns errors
//! into messages and exit codes.

mod approve;
mod args;
mod calibrate;
mod check;
mod comment;
mod diff;
mod export;
mod init;
mod output;
mod policy;
mod pricing;
mod report;
mod rules;
mod schema;
mod shell;
mod tune;
mod validate;

use std::io::IsTerminal;

use clap::Parser;

pub use args::*;
use costgate::source::Problem;
use costgate::untrusted::{clean, clean_message, redact_secret, redact_urls_in};

/// Exit codes (see `args::EXIT_CODES`).
pub const EXIT_USAGE: i32 = 64;
pub const EXIT_INPUT: i32 = 65;
pub const EXIT_UNAVAILABLE: i32 = 69;
pub const EXIT_INTERNAL: i32 = 70;
pub const EXIT_CANTCREAT: i32 = 73;

/// Why a command could not produce a verdict.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Input(Vec<Problem>),
    /// A pricing source could not be reached (`--pricing` URLs).
    Unavailable(String),
    Internal(String),
    /// An output could not be written (`-o`, the pin, an approval record, stdout).
    CantCreate(String),
}

impl From<costgate::fsutil::WriteError> for Failure {
    fn from(e: costgate::fsutil::WriteError) -> Self {
        Failure::CantCreate(format!("cannot write {}: {}", e.target.display(), e.reason))
    }
}

impl From<costgate::spec::overrides::Error> for Failure {
    fn from(e: costgate::spec::overrides::Error) -> Self {
        match e {
            costgate::spec::overrides::Error::Usage(m) => Failure::Usage(m),
            costgate::spec::overrides::Error::Invalid(p) => Failure::Input(p),
        }
    }
}

impl SetArgs {
    /// The `--set` flags parsed; a malformed one is a usage error (64).
    pub fn overrides(&self) -> Result<Vec<costgate::spec::overrides::Override>, Failure> {
        self.set
            .iter()
            .map(|a| costgate::spec::overrides::parse(a).map_err(Failure::Usage))
            .collect()
    }
}

impl From<costgate::pricing::source::LoadError> for Failure {
    fn from(e: costgate::pricing::source::LoadError) -> Self {
        use costgate::pricing::source::LoadError;
        match e {
            LoadError::Usage(m) => Failure::Usage(m),
            LoadError::Invalid(p) => Failure::Input(p),
            LoadError::Unavailable(m) => Failure::Unavailable(m),
        }
    }
}

impl Failure {
    fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Input(_) => EXIT_INPUT,
            Failure::Unavailable(_) => EXIT_UNAVAILABLE,
            Failure::Internal(_) => EXIT_INTERNAL,
            Failure::CantCreate(_) => EXIT_CANTCREAT,
        }
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                EXIT_USAGE
            } else {
                code
            };
        }
    };
    let color = use_color(cli.color);
    let result = std::panic::catch_unwind(|| match &cli.command {
        Command::Check(a) if a.no_simulate => validate::run_check(a),
        Command::Check(a) => check::run(a, color),
        Command::Pricing(a) => pricing::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Comment(a) => comment::run(a),
        Command::Report(a) => report::run(a),
        Command::Approve(a) => approve::run(a),
        Command::Rules(a) => rules::run(a).map(|()| 0),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Export(a) => export::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
        Command::Bench(a) => check::bench(a),
        Command::Validate(a) => validate::run(a),
        Command::Init(a) => init::run(a),
        Command::Policy(a) => policy::run(a),
        Command::Schema(a) => schema::run(a),
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(f)) => {
            report_failure(&f, color);
            f.exit_code()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let f = Failure::Internal(format!("{what} (a bug: please report it with the spec that caused it)"));
            report_failure(&f, color);
            f.exit_code()
        }
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    }
}

fn report_failure(f: &Failure, color: bool) {
    let red = |s: &str| {
        if color {
            format!("\x1b[1;31m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    match f {
        Failure::Usage(m) => eprintln!("{} {}", red("error:"), shown(m)),
        Failure::Input(problems) => {
            for p in problems {
                eprintln!("{} {}", red("error:"), shown(&p.to_string()));
            }
            let files: std::collections::BTreeSet<&str> = problems.iter().map(|p| &*p.span.file).collect();
            eprintln!(
                "costgate: {} in {}; nothing was checked",
                if problems.len() == 1 {
                    "1 problem".to_string()
                } else {
                    format!("{} problems", problems.len())
                },
                shown(&files.into_iter().map(clean).collect::<Vec<_>>().join(", "))
            );
        }
        Failure::Unavailable(m) | Failure::CantCreate(m) => {
            eprintln!("{} {}", red("error:"), shown(m))
        }
        Failure::Internal(m) => eprintln!("{} internal error: {}", red("error:"), shown(m)),
    }
}

/// An error message as printed: input strings it quotes made inert (the
/// breaks before hints kept), URLs and the GitHub token redacted.
fn shown(m: &str) -> String {
    let m = redact_urls_in(&clean_message(m));
    match std::env::var("GITHUB_TOKEN") {
        Ok(t) => redact_secret(&m, &t),
        Err(_) => m,
    }
}

/// The date expiries are judged on: today, or `COSTGATE_TODAY` (YYYY-MM-DD)
/// for reproducible runs and tests.
pub fn today() -> Result<jiff::civil::Date, Failure> {
    match std::env::var("COSTGATE_TODAY") {
        Ok(s) if !s.is_empty() => s
            .parse()
            .map_err(|_| Failure::Usage(format!("COSTGATE_TODAY=`{s}` is not a date (YYYY-MM-DD)"))),
        _ => Ok(jiff::ZonedDateTime::now().date()),
    }
}
