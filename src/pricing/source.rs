//! Where a catalog comes from (`--pricing SOURCE`) and how its format is
//! told from its content.
//!
//! A source is the word `builtin`, a file path, or an `https://` URL (plain
//! `http://` only for loopback addresses). The format is detected from the
//! content, never from the name: a JSON object of LiteLLM entries, a JSON
//! list of genai-prices providers, or costgate's own TOML.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use serde_json::Value;

use super::{Catalog, ModelPrice, PriceChange, genai, litellm};
use crate::http::{self, FetchError, HttpOptions};
use crate::source::{Loc, Problem, Problems, Span};
use crate::untrusted::redact_url;

/// What an importer produced: the prices in force on the day asked for,
/// the dated changes after it, and what it approximated.
#[derive(Debug, Default)]
pub struct Imported {
    /// The prices in force on the day.
    pub models: Vec<ModelPrice>,
    /// Dated changes after it.
    pub changes: Vec<PriceChange>,
    /// What was approximated or skipped.
    pub notes: Vec<String>,
}

/// Files larger than this are not read as catalogs (LiteLLM's full map is
/// about 1.5 MB, genai-prices' `data.json` about 3 MB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Where prices come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// costgate's built-in catalog.
    Builtin,
    /// A local file.
    File(PathBuf),
    /// A URL (downloaded).
    Url(String),
}

impl Source {
    /// Read a SOURCE as written; a relative path is taken from `base`.
    pub fn parse(s: &str, base: Option<&Path>) -> Result<Source, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("the pricing source is empty: give a file path, an https:// URL or `builtin`".into());
        }
        if t.eq_ignore_ascii_case("builtin") || t.eq_ignore_ascii_case("built-in") {
            return Ok(Source::Builtin);
        }
        let lower = t.to_ascii_lowercase();
        if let Some(path) = t.strip_prefix("file://") {
            return Ok(Source::File(PathBuf::from(path)));
        }
        if lower.starts_with("https://") || lower.starts_with("http://") {
            http::check_url(t)?;
            return Ok(Source::Url(t.to_string()));
        }
        if let Some((scheme, _)) = t.split_once("://")
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        {
            return Err(format!(
                "`{}`: costgate reads prices from a file or an https:// URL, not `{scheme}://`",
                redact_url(t)
            ));
        }
        let p = PathBuf::from(t);
        Ok(Source::File(match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p,
        }))
    }

    /// The source as people read it: the path, or the URL with its
    /// credentials and secret query parameters shown as `***` (the label is
    /// what messages, reports and the pinned snapshot name).
    pub fn label(&self) -> String {
        match self {
            Source::Builtin => "the built-in catalog".into(),
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => redact_url(u),
        }
    }
}

/// Why a source gave no catalog; each maps to one exit code.
#[derive(Debug)]
pub enum LoadError {
    /// Not a usable source (plain http to a remote host, ...): exit 64.
    Usage(String),
    /// Read, but not a catalog: exit 65.
    Invalid(Vec<Problem>),
    /// Not reachable (network, HTTP status, timeout): exit 69.
    Unavailable(String),
}

/// Load a catalog from `source`, priced as on `day`.
pub fn load(source: &Source, day: Date, opts: &HttpOptions) -> Result<Catalog, LoadError> {
    match source {
        Source::Builtin => Ok(super::builtin().in_force_on(day)),
        Source::File(path) => {
            let label = path.display().to_string();
            let bytes = read_file(path).map_err(|m| LoadError::Invalid(vec![unreadable(&label, m)]))?;
            parse(&label, &bytes, day).map_err(LoadError::Invalid)
        }
        Source::Url(url) => {
            // the URL itself is used only to fetch; everything shown or kept names it redacted
            let label = source.label();
            let bytes = http::fetch(url, opts).map_err(|e| match e {
                FetchError::BadUrl(m) => LoadError::Usage(m),
                FetchError::TooLarge { .. } => LoadError::Invalid(vec![unreadable(&label, e.to_string())]),
                FetchError::Unavailable { .. } => LoadError::Unavailable(e.to_string()),
            })?;
            parse(&label, &bytes, day).map_err(LoadError::Invalid)
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    crate::fsutil::read_bounded(path, MAX_FILE_BYTES)
        .map_err(|m| m.replacen("cannot read the file", "cannot read the price catalog", 1))
}

/// The formats costgate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// costgate's own TOML catalog (a pinned snapshot).
    Costgate,
    /// LiteLLM's JSON price map.
    LiteLlm,
    /// genai-prices' JSON data.
    GenaiPrices,
}

/// Parse a catalog of any format from its bytes; `label` (path or URL)
/// names it in problems and becomes its source. Prices are those in force
/// on `day`; later dated changes stay announced.
pub fn parse(label: &str, bytes: &[u8], day: Date) -> Result<Catalog, Vec<Problem>> {
    parse_detected(label, bytes, day).map(|(c, _)| c)
}

/// [`parse`], also telling which format was detected.
pub fn parse_detected(label: &str, bytes: &[u8], day: Date) -> Result<(Catalog, Format), Vec<Problem>> {
    let fail = |loc: Loc, path: &str, m: String| Err(vec![problem(label, loc, path, m)]);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let e = crate::input::not_utf8(bytes, e);
            return fail(e.loc, "", format!("not a price catalog: {}", e.message));
        }
    };
    let body = text.trim_start_matches('\u{feff}');
    let first = body.trim_start().chars().next();
    match first {
        None => fail(Loc::new(1, 1), "", "not a price catalog: it is empty".into()),
        Some('{' | '[') => {
            let root: Value = match serde_json::from_str(body) {
                Ok(v) => v,
                Err(e) => {
                    return fail(
                        Loc::new(e.line() as u32, e.column() as u32),
                        "",
                        format!("not a price catalog: invalid JSON: {e}"),
                    );
                }
            };
            from_json(label, &root, day)
        }
        Some('<') => fail(
            Loc::new(1, 1),
            "",
            "not a price catalog: this is an HTML or XML document (a web page instead of the catalog file?)".into(),
        ),
        Some(_) => match Catalog::parse_costgate(label, body) {
            Ok(c) => {
                let c = if c.source().is_empty() { c.with_source(label) } else { c };
                Ok((c.in_force_on(day), Format::Costgate))
            }
            Err(e) => {
                let looks_toml = body.contains("costgate-prices") || body.contains("[[models]]");
                let m = if looks_toml {
                    format!("invalid costgate price catalog: {}", e.message)
                } else {
                    format!(
                        "not a price catalog: neither JSON (LiteLLM, genai-prices) nor costgate's TOML format ({})",
                        e.message
                    )
                };
                fail(Loc::new(e.line, e.column), "", m)
            }
        },
    }
}

fn from_json(label: &str, root: &Value, day: Date) -> Result<(Catalog, Format), Vec<Problem>> {
    let file: Arc<str> = Arc::from(label);
    let mut p = Problems::new(&file);
    let (name, imported, format) = if let Some((items, base)) = genai::providers(root) {
        let i = genai::import(items, base, label, day, &mut p);
        (genai::NAME, i, Format::GenaiPrices)
    } else {
        match root {
            Value::Object(m) if litellm::looks_like(m) => {
                let i = litellm::import(m, label, &mut p);
                (litellm::NAME, i, Format::LiteLlm)
            }
            Value::Object(_) => {
                p.push(
                    Loc::UNKNOWN,
                    "$",
                    "not a price catalog: a JSON object, but no entry has LiteLLM's `input_cost_per_token` or `litellm_provider`, and there is no genai-prices `providers` list",
                );
                return Err(p.into_vec());
            }
            _ => {
                p.push(
                    Loc::UNKNOWN,
                    "$",
                    "not a price catalog: a JSON list, but not of genai-prices providers (objects with `id` and `models`)",
                );
                return Err(p.into_vec());
            }
        }
    };
    if !p.is_empty() {
        return Err(p.into_vec());
    }
    if imported.models.is_empty() {
        p.push(
            Loc::UNKNOWN,
            "$",
            format!("the {name} catalog has no chat model with prices"),
        );
        return Err(p.into_vec());
    }
    let c = Catalog::new(name, day.to_string(), imported.models)
        .with_source(label)
        .with_changes(imported.changes)
        .with_notes(imported.notes);
    Ok((c.in_force_on(day), format))
}

fn unreadable(file: &str, message: String) -> Problem {
    Problem {
        code: crate::source::ProblemCode::Unreadable,
        ..problem(file, Loc::UNKNOWN, "", message)
    }
}

fn problem(file: &str, loc: Loc, path: &str, message: String) -> Problem {
    Problem {
        code: crate::source::ProblemCode::InvalidValue,
        span: Span::new(&Arc::from(file), loc, path),
        message,
        hint: None,
    }
}

/// `$.key` or `$["key.with/odd chars"]`.
pub fn json_key(path: &str, key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::Value::String(key.to_string()))
    }
}

pub(crate) fn json_index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A price rounded to 10 significant digits, so that `3.75e-06 * 1e6`
/// reads `3.75`, not `3.7499999999999996`.
pub fn round_price(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.9e}").parse().unwrap_or(x)
}

/// `a, b, c and 4 more`.
pub fn list_some(items: &[String]) -> String {
    const SHOWN: usize = 6;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..SHOWN].join(", "), items.len() - SHOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Date {
        "2026-08-21".parse().unwrap()
    }

    #[test]
    fn sources_are_read_as_written() {
        assert_eq!(Source::parse("builtin", None), Ok(Source::Builtin));
        assert_eq!(
            Source::parse("prices.json", Some(Path::new("/repo"))),
            Ok(Source::File(PathBuf::from("/repo/prices.json")))
        );
        assert_eq!(
            Source::parse("https://example.test/p.json", None),
            Ok(Source::Url("https://example.test/p.json".into()))
        );
        assert!(Source::parse("http://127.0.0.1:8080/p.json", None).is_ok());
        assert!(Source::parse("http://[::1]:8080/p.json", None).is_ok());
        let e = Source::parse("http://example.test/p.json", None).unwrap_err();
        assert!(e.contains("plain http"), "{e}");
        assert!(Source::parse("ftp://example.test/p.json", None).is_err());
    }

    #[test]
    fn formats_are_told_from_content() {
        let toml = include_str!("builtin.toml");
        assert_eq!(
            parse_detected("b.toml", toml.as_bytes(), day()).unwrap().1,
            Format::Costgate
        );
        let lite = br#"{"m": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#;
        let (c, f) = parse_detected("l.json", lite, day()).unwrap();
        assert_eq!((f, c.models().len(), c.checked()), (Format::LiteLlm, 1, "2026-08-21"));
        assert_eq!(c.info().name, "LiteLLM from l.json");
        let genai = br#"[{"id": "p", "models": [{"id": "m", "prices": {"input_mtok": 1, "output_mtok": 2}}]}]"#;
        assert_eq!(parse_detected("g.json", genai, day()).unwrap().1, Format::GenaiPrices);
    }

    #[test]
    fn what_is_not_a_catalog_is_said_with_where() {
        let msg = |b: &[u8]| {
            let p = parse("x", b, day()).unwrap_err();
            (p[0].to_string(), p[0].span.line)
        };
        let (m, line) = msg(b"{\"a\": 1,\n \"b\": }");
        assert!(m.contains("invalid JSON") && line == 2, "{m}");
        assert!(msg(b"<!doctype html><p>hi").0.contains("HTML"));
        assert!(msg(b"hello world").0.contains("neither JSON"));
        assert!(msg(b"").0.contains("empty"));
        assert!(msg(&[0xff, 0xfe, 0]).0.contains("UTF-8"));
        assert!(msg(b"{\"a\": {\"b\": 1}}").0.contains("no entry has LiteLLM"));
        assert!(msg(b"[1, 2]").0.contains("genai-prices"));
    }

    #[test]
    fn json_paths_quote_odd_keys() {
        assert_eq!(json_key("$", "mode"), "$.mode");
        assert_eq!(json_key("$", "gemini/gemini-2.5-pro"), "$[\"gemini/gemini-2.5-pro\"]");
        assert_eq!(round_price(3.75e-06 * 1e6), 3.75);
        assert_eq!(round_price(3e-07 * 1e6), 0.3);
    }
}
