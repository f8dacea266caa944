//! The input-reading layer: bounded file reading, the located value tree
//! YAML and TOML parse into ([`node`]), and the typed readers that walk it
//! collecting every problem ([`read`]).
//!
//! The spec, the policy, approval records, signer lists and the price pin all
//! parse through this module; none of them depends on another to parse.

pub mod node;
pub mod read;

/// Read a text file (a spec, a policy, a pin, an approval record) with a
/// size limit on the bytes read; only regular files are opened.
pub fn read_text(path: &std::path::Path) -> Result<String, String> {
    let bytes = crate::fsutil::read_bounded(path, node::MAX_INPUT_BYTES as u64)?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
