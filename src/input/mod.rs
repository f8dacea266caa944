//! The input-reading layer: bounded file reading, the located value tree
//! YAML and TOML parse into ([`node`]), and the typed readers that walk it
//! collecting every problem ([`read`]).
//!
//! The spec, the policy, approval records, signer lists and the price pin all
//! parse through this module; none of them depends on another to parse.

use crate::source::Loc;

pub mod node;
pub mod read;

/// Why a text file could not be read, and where: the line and column of the
/// first byte that is not UTF-8, or [`Loc::UNKNOWN`] when the file itself
/// could not be read (missing, not a regular file, too large).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    /// Where in the file the problem is ([`Loc::UNKNOWN`] for the whole file).
    pub loc: Loc,
    /// What is wrong, in plain words.
    pub message: String,
}

/// Read a text file (a spec, a policy, a pin, an approval record) with a
/// size limit on the bytes read; only regular files are opened. Text that is
/// not UTF-8 is refused at its first invalid byte.
pub fn read_text(path: &std::path::Path) -> Result<String, TextError> {
    let bytes = crate::fsutil::read_bounded(path, node::MAX_INPUT_BYTES as u64).map_err(|message| TextError {
        loc: Loc::UNKNOWN,
        message,
    })?;
    String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error()))
}

/// The problem with `bytes`, which are not UTF-8 (`e`): the line and column
/// of the first invalid byte (columns count the characters before it, as
/// every position costgate prints does) and the byte itself.
pub fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> TextError {
    let at = e.valid_up_to();
    // The bytes before the first invalid one are valid UTF-8 by definition.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let loc = Loc::from_offset(before, at);
    let shown = bytes[at..]
        .iter()
        .take(e.error_len().unwrap_or(bytes.len() - at).max(1))
        .map(|b| format!("0x{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ");
    let what = if e.error_len().is_some() {
        format!("invalid byte {shown}")
    } else {
        format!("the file ends inside a character ({shown})")
    };
    TextError {
        loc,
        message: format!("the file is not UTF-8 text: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invalid_byte_is_placed_by_line_and_column() {
        let bytes: Vec<u8> = b"a: 1\nb: \xc3\xa9t\xc3\xa9\nc: x\xffy\n".to_vec();
        let t = not_utf8(&bytes, std::str::from_utf8(&bytes).unwrap_err());
        assert_eq!(t.loc, Loc::new(3, 5));
        assert!(
            t.message.contains("0xFF") && t.message.contains("not UTF-8"),
            "{}",
            t.message
        );
        // a file cut inside a character
        let cut: Vec<u8> = b"a: \xc3".to_vec();
        let t = not_utf8(&cut, std::str::from_utf8(&cut).unwrap_err());
        assert_eq!(t.loc, Loc::new(1, 4));
        assert!(t.message.contains("ends inside"), "{}", t.message);
    }
}
