//! The `costgate` binary: parse flags, run a command, print, exit.
//! Every exit status is documented in `costgate --help`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
