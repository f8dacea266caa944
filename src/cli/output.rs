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

/// Whether a panic is `println!` meeting a closed pipe (output that does not
/// go through [`print`]): the output ends there, and nothing else is wrong.
pub fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}

/// Print no panic message for a broken pipe; every other panic as before.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default(info);
        }
    }));
}
