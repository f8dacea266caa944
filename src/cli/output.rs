//! Standard output. A reader that goes away (`costgate report | head -c 10`)
//! ends the output quietly: the run keeps its exit code, with no panic. Any
//! other write error (a full disk) is a failure to write (exit 73).

use std::io::Write;

use super::Failure;

/// Print `text` to standard output.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::CantCreate(format!(
            "cannot write to standard output: {}",
            costgate::fsutil::plain(&e)
        ))),
    }
}
