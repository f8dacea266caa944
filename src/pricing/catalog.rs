//! A price catalog and the lookup of model names as people write them.

use serde::Deserialize;

use super::{CatalogInfo, ModelPrice};

#[derive(Clone, Debug)]
pub struct Catalog {
    name: String,
    checked: String,
    models: Vec<ModelPrice>,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CatalogError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: String,
    #[serde(default)]
    name: Option<String>,
    checked: String,
    #[serde(default)]
    models: Vec<ModelPrice>,
}

pub const FORMAT: &str = "costgate-prices/1";

impl Catalog {
    pub fn new(name: impl Into<String>, checked: impl Into<String>, models: Vec<ModelPrice>) -> Self {
        Catalog {
            name: name.into(),
            checked: checked.into(),
            models,
        }
    }

    /// Parse costgate's own TOML catalog format.
    pub fn parse_costgate(label: &str, text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| {
            let loc = e
                .span()
                .map(|s| crate::source::Loc::from_offset(text, s.start))
                .unwrap_or_default();
            CatalogError {
                line: loc.line,
                column: loc.column,
                message: e.message().to_string(),
            }
        })?;
        if file.format != FORMAT {
            return Err(CatalogError {
                line: 1,
                column: 1,
                message: format!(
                    "unsupported catalog format `{}` (this costgate reads `{FORMAT}`)",
                    file.format
                ),
            });
        }
        for m in &file.models {
            let bad = [m.input_usd_per_mtok, m.output_usd_per_mtok]
                .into_iter()
                .chain(m.cached_input_usd_per_mtok)
                .chain(m.cache_write_usd_per_mtok)
                .any(|v| !v.is_finite() || v < 0.0);
            if bad {
                return Err(CatalogError {
                    line: 0,
                    column: 0,
                    message: format!("model `{}` has a negative or non-finite price", m.id),
                });
            }
        }
        Ok(Catalog {
            name: file.name.unwrap_or_else(|| label.to_string()),
            checked: file.checked,
            models: file.models,
        })
    }

    pub fn info(&self) -> CatalogInfo {
        CatalogInfo {
            name: self.name.clone(),
            checked: self.checked.clone(),
        }
    }

    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// Every id and alias (for suggestions).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models
            .iter()
            .flat_map(|m| std::iter::once(m.id.as_str()).chain(m.aliases.iter().map(String::as_str)))
    }

    /// Find a model by id or alias, ignoring case, a `provider/` prefix, and a
    /// date suffix (`-20250929`, `-2024-08-06`) or `-latest`.
    pub fn find(&self, name: &str) -> Option<&ModelPrice> {
        let wanted = name.trim().to_ascii_lowercase();
        let exact = |n: &str| {
            self.models
                .iter()
                .find(|m| m.id.eq_ignore_ascii_case(n) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(n)))
        };
        if let Some(m) = exact(&wanted) {
            return Some(m);
        }
        let unprefixed = wanted.rsplit_once('/').map_or(wanted.as_str(), |(_, n)| n);
        if let Some(m) = exact(unprefixed) {
            return Some(m);
        }
        let undated = strip_version_suffix(unprefixed);
        exact(undated)
    }
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; `gpt-4o-2024-08-06`
/// -> `gpt-4o`; `x-latest` -> `x`.
pub fn strip_version_suffix(name: &str) -> &str {
    if let Some(s) = name.strip_suffix("-latest") {
        return s;
    }
    let bytes = name.as_bytes();
    let n = bytes.len();
    // -YYYYMMDD
    if n > 9 && bytes[n - 9] == b'-' && bytes[n - 8..].iter().all(u8::is_ascii_digit) {
        return &name[..n - 9];
    }
    // -YYYY-MM-DD
    if n > 11
        && bytes[n - 11] == b'-'
        && bytes[n - 6] == b'-'
        && bytes[n - 3] == b'-'
        && bytes[n - 10..n - 6].iter().all(u8::is_ascii_digit)
        && bytes[n - 5..n - 3].iter().all(u8::is_ascii_digit)
        && bytes[n - 2..].iter().all(u8::is_ascii_digit)
    {
        return &name[..n - 11];
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_people_write_them_resolve() {
        let c = crate::pricing::builtin();
        for n in [
            "claude-sonnet-4-5",
            "anthropic/claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "Claude-Sonnet-4-5",
            "gemini/gemini-2.5-pro",
            "gpt-4o-2024-08-06",
            "openai/gpt-4o",
            "claude-3-5-haiku-latest",
        ] {
            assert!(c.find(n).is_some(), "{n}");
        }
        assert_eq!(c.find("gpt-4o-mini").unwrap().id, "gpt-4o-mini");
        assert!(c.find("gpt-7").is_none());
    }

    #[test]
    fn builtin_covers_the_required_families_with_sources() {
        let c = crate::pricing::builtin();
        for id in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-5",
            "gpt-5-mini",
            "o3",
            "o4-mini",
            "claude-3-5-haiku",
            "claude-3-5-sonnet",
            "claude-3-7-sonnet",
            "claude-sonnet-4",
            "claude-opus-4",
            "claude-opus-4-1",
            "claude-sonnet-4-5",
            "claude-haiku-4-5",
            "claude-opus-4-5",
            "gemini-2.0-flash",
            "gemini-2.5-flash",
            "gemini-2.5-pro",
        ] {
            let m = c.find(id).unwrap_or_else(|| panic!("{id} missing"));
            assert!(m.source.starts_with("https://"), "{id} has no source");
            assert!(m.context_window.is_some() && m.max_output_tokens.is_some(), "{id}");
            assert!(m.input_usd_per_mtok > 0.0 && m.output_usd_per_mtok > 0.0, "{id}");
        }
        assert_eq!(c.info().checked, "2026-08-21");
    }

    #[test]
    fn version_suffixes_strip() {
        assert_eq!(strip_version_suffix("claude-haiku-4-5-20251001"), "claude-haiku-4-5");
        assert_eq!(strip_version_suffix("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_version_suffix("o3"), "o3");
        assert_eq!(strip_version_suffix("gpt-4.1-mini"), "gpt-4.1-mini");
    }
}
