//! A price catalog and the lookup of model names as people write them.
//!
//! A catalog holds the prices in force on one day (`as_of`) and the dated
//! changes that sources announce for later days. [`Catalog::in_force_on`]
//! moves a catalog to another day: the changes due by then take effect and
//! the later ones stay announced.

use std::fmt::Write as _;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{AnnouncedChange, CatalogInfo, LongContext, ModelPrice, PriceDelta, Prices};

/// A set of model prices, where they came from, and the dated changes it announces.
#[derive(Clone, Debug)]
pub struct Catalog {
    name: String,
    checked: String,
    source: String,
    models: Vec<ModelPrice>,
    changes: Vec<PriceChange>,
    as_of: Option<Date>,
    notes: Vec<String>,
    pinned: Option<String>,
}

/// A costgate-format catalog that does not read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CatalogError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// A price a source announces for a later day: from `starts` on, the model
/// (`provider`, `id`) is billed at these prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceChange {
    /// The model id.
    pub id: String,
    /// Its provider.
    #[serde(default)]
    pub provider: String,
    /// YYYY-MM-DD, the first day the new prices apply.
    pub starts: String,
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Cached input tokens, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Writing the prompt cache, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_usd_per_mtok: Option<f64>,
    /// Long-context rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<LongContext>,
}

impl PriceChange {
    /// The change of `id` (`provider`) to prices `p` from `starts` on.
    pub fn new(id: &str, provider: &str, starts: Date, p: Prices) -> Self {
        PriceChange {
            id: id.to_string(),
            provider: provider.to_string(),
            starts: starts.to_string(),
            input_usd_per_mtok: p.input_usd_per_mtok,
            output_usd_per_mtok: p.output_usd_per_mtok,
            cached_input_usd_per_mtok: p.cached_input_usd_per_mtok,
            cache_write_usd_per_mtok: p.cache_write_usd_per_mtok,
            above: p.above,
        }
    }

    /// Its prices.
    pub fn prices(&self) -> Prices {
        Prices {
            input_usd_per_mtok: self.input_usd_per_mtok,
            output_usd_per_mtok: self.output_usd_per_mtok,
            cached_input_usd_per_mtok: self.cached_input_usd_per_mtok,
            cache_write_usd_per_mtok: self.cache_write_usd_per_mtok,
            above: self.above.clone(),
        }
    }

    fn starts_on(&self) -> Option<Date> {
        self.starts.parse().ok()
    }

    fn is_for(&self, m: &ModelPrice) -> bool {
        self.id == m.id && self.provider == m.provider
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: String,
    #[serde(default)]
    name: Option<String>,
    checked: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    models: Vec<ModelPrice>,
    #[serde(default)]
    changes: Vec<PriceChange>,
}

/// The `format` of a costgate price catalog.
pub const FORMAT: &str = "costgate-prices/1";

impl Catalog {
    /// A catalog named `name`, checked on `checked`, of `models`.
    pub fn new(name: impl Into<String>, checked: impl Into<String>, models: Vec<ModelPrice>) -> Self {
        Catalog {
            name: name.into(),
            checked: checked.into(),
            source: String::new(),
            models,
            changes: Vec::new(),
            as_of: None,
            notes: Vec::new(),
            pinned: None,
        }
    }

    /// Where the catalog was read from (a path or URL); empty for the built-in one.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Dated changes the source announces (applied by [`Catalog::in_force_on`]).
    pub fn with_changes(mut self, mut changes: Vec<PriceChange>) -> Self {
        changes.sort_by(|a, b| a.starts.cmp(&b.starts));
        self.changes = changes;
        self
    }

    /// What an importer approximated or left out, in sentences for people.
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    /// Mark the catalog as read from the pinned snapshot at `file`.
    pub fn pinned_at(mut self, file: impl Into<String>) -> Self {
        self.pinned = Some(file.into());
        self
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
        let at = |needle: &str| {
            let offset = text.find(needle).unwrap_or(0);
            let loc = crate::source::Loc::from_offset(text, offset);
            (loc.line, loc.column)
        };
        let fail = |needle: &str, message: String| {
            let (line, column) = at(needle);
            Err(CatalogError { line, column, message })
        };
        if file.format != FORMAT {
            return fail(
                "format",
                format!(
                    "unsupported catalog format `{}` (this costgate reads `{FORMAT}`)",
                    file.format
                ),
            );
        }
        if file.checked.parse::<Date>().is_err() {
            return fail(
                "checked",
                format!("`checked = \"{}\"` is not a date (YYYY-MM-DD)", file.checked),
            );
        }
        for m in &file.models {
            if !m.prices().is_valid() {
                return fail(
                    &format!("\"{}\"", m.id),
                    format!("model `{}` has a negative or non-finite price", m.id),
                );
            }
            // Match patterns compiled now, never a rule that matches nothing.
            if let Some(Err(e)) = m.match_rule.as_ref().map(|r| r.compile_regexes()) {
                return fail(
                    &format!("\"{}\"", m.id),
                    format!(
                        "model `{}`: the match regex `{}` does not compile: {}",
                        m.id, e.pattern, e.why
                    ),
                );
            }
        }
        for c in &file.changes {
            let needle = format!("\"{}\"", c.starts);
            if c.starts_on().is_none() {
                return fail(
                    &needle,
                    format!(
                        "change of `{}`: `starts = \"{}\"` is not a date (YYYY-MM-DD)",
                        c.id, c.starts
                    ),
                );
            }
            if !c.prices().is_valid() {
                return fail(
                    &needle,
                    format!("change of `{}` has a negative or non-finite price", c.id),
                );
            }
            if !file.models.iter().any(|m| c.is_for(m)) {
                return fail(
                    &needle,
                    format!(
                        "change of `{}` (provider `{}`) names no model of the catalog",
                        c.id, c.provider
                    ),
                );
            }
        }
        let mut changes = file.changes;
        changes.sort_by(|a, b| a.starts.cmp(&b.starts));
        let mut models = file.models;
        if let Some(src) = &file.source {
            for m in models.iter_mut().filter(|m| m.source.is_empty()) {
                m.source = src.clone();
            }
        }
        Ok(Catalog {
            name: file.name.unwrap_or_else(|| label.to_string()),
            checked: file.checked,
            source: file.source.unwrap_or_default(),
            models,
            changes,
            as_of: None,
            notes: Vec::new(),
            pinned: None,
        })
    }

    /// The catalog as it prices on `day`: changes due by then take effect,
    /// later ones stay announced.
    pub fn in_force_on(&self, day: Date) -> Catalog {
        let mut c = self.clone();
        c.as_of = Some(day);
        let (due, later): (Vec<PriceChange>, Vec<PriceChange>) = std::mem::take(&mut c.changes)
            .into_iter()
            .partition(|ch| ch.starts_on().is_some_and(|s| s <= day));
        for ch in &due {
            if let Some(m) = c.models.iter_mut().find(|m| ch.is_for(m)) {
                m.set_prices(ch.prices());
            }
        }
        c.changes = later;
        c
    }

    /// What the reports say about this catalog.
    pub fn info(&self) -> CatalogInfo {
        let name = match (&self.pinned, self.source.is_empty()) {
            (Some(file), true) => format!("pinned snapshot {file} ({})", self.name),
            (Some(file), false) => format!("pinned snapshot {file} ({} from {})", self.name, self.source),
            (None, false) if self.source != self.name => format!("{} from {}", self.name, self.source),
            _ => self.name.clone(),
        };
        CatalogInfo {
            name,
            checked: self.checked.clone(),
            source: self.source.clone(),
            pinned: self.pinned.clone(),
            announced_changes: Vec::new(),
            zero_priced: Vec::new(),
        }
    }

    /// The catalog's own name (`LiteLLM`, `genai-prices`, `costgate built-in`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The day the prices were checked against their source.
    pub fn checked(&self) -> &str {
        &self.checked
    }

    /// The path or URL it was read from (empty: built in).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The pinned snapshot it came from, if it did.
    pub fn pinned(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    /// The day the prices are in force for, when the catalog was moved to one.
    pub fn as_of(&self) -> Option<Date> {
        self.as_of
    }

    /// What importing it approximated or skipped.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Its models.
    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// Dated changes not yet in force, earliest first.
    pub fn changes(&self) -> &[PriceChange] {
        &self.changes
    }

    /// Announced changes to `model` that start after `from` and no later than `to`.
    pub fn announced_changes(&self, model: &ModelPrice, from: Date, to: Date) -> Vec<AnnouncedChange> {
        let mut current = model.prices();
        let mut out = Vec::new();
        for ch in self.changes.iter().filter(|c| c.is_for(model)) {
            let Some(starts) = ch.starts_on() else { continue };
            let next = ch.prices();
            if starts > from && starts <= to {
                let prices = PriceDelta::between(&current, &next);
                if !prices.is_empty() {
                    out.push(AnnouncedChange {
                        model: model.id.clone(),
                        provider: model.provider.clone(),
                        starts: ch.starts.clone(),
                        prices,
                    });
                }
            }
            current = next;
        }
        out
    }

    /// Keep only the models of these providers (and their changes).
    pub fn retain_providers(&mut self, providers: &[String]) {
        self.models
            .retain(|m| providers.iter().any(|p| same_provider(p, &m.provider)));
        let models = &self.models;
        self.changes.retain(|c| models.iter().any(|m| c.is_for(m)));
    }

    /// Every id and alias of the models that `keep` keeps (for suggestions).
    pub fn names_where(&self, keep: impl Fn(&ModelPrice) -> bool) -> impl Iterator<Item = &str> {
        self.models
            .iter()
            .filter(move |m| keep(m))
            .flat_map(|m| std::iter::once(m.id.as_str()).chain(m.aliases.iter().map(String::as_str)))
    }

    /// Every id and alias (for suggestions).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models
            .iter()
            .flat_map(|m| std::iter::once(m.id.as_str()).chain(m.aliases.iter().map(String::as_str)))
    }

    /// Find a model by a name as people write it: the entry's id, one of
    /// its aliases, or a name its source's match rule accepts, ignoring
    /// case. A `provider/` prefix naming a provider the catalog knows
    /// (`azure/`, `bedrock/`, `vertex_ai/`, `gemini/`, …) picks that
    /// provider's entry, and only that provider's: `azure/eu/gpt-4o` is not
    /// `gpt-4o` at OpenAI's price. Nothing is stripped: a dated variant
    /// (`gpt-4o-2024-05-13`) resolves only where the catalog lists it.
    ///
    /// Where several providers sell a model under one name and none is
    /// written, the first in catalog order wins (importers put the model's
    /// own vendor first).
    pub fn find(&self, name: &str) -> Option<&ModelPrice> {
        let wanted = name.trim();
        if wanted.is_empty() {
            return None;
        }
        let qualifier = wanted
            .split_once('/')
            .filter(|(p, rest)| !rest.is_empty() && self.knows_provider(p));
        let at = |m: &&ModelPrice| qualifier.is_none_or(|(p, _)| same_provider(p, &m.provider));
        let id_is = |m: &&ModelPrice, n: &str| m.id.eq_ignore_ascii_case(n);
        let alias_is = |m: &&ModelPrice, n: &str| m.aliases.iter().any(|a| a.eq_ignore_ascii_case(n));
        let rule_accepts = |m: &&ModelPrice, n: &str| m.match_rule.as_ref().is_some_and(|r| r.accepts(n));
        // 1. the catalog's own id for the whole name (LiteLLM's keys carry
        //    their provider: `azure/eu/gpt-4o-2024-08-06`)
        if let Some(m) = self.models.iter().filter(at).find(|m| id_is(m, wanted)) {
            return Some(m);
        }
        // 2. after a provider written in front: that provider's entry
        if let Some((_, rest)) = qualifier {
            let here = || self.models.iter().filter(at);
            return here()
                .find(|m| id_is(m, rest))
                .or_else(|| here().find(|m| alias_is(m, rest) || alias_is(m, wanted)))
                .or_else(|| here().find(|m| rule_accepts(m, rest) || rule_accepts(m, wanted)));
        }
        // 3. an alias, then a source's match rule (a name with a `/` whose
        //    first part is no provider is compared whole)
        self.models
            .iter()
            .find(|m| alias_is(m, wanted))
            .or_else(|| self.models.iter().find(|m| rule_accepts(m, wanted)))
    }

    /// Whether `p` names a provider of this catalog (by provider family:
    /// `bedrock` is `aws`, `gemini` and `vertex_ai` are `google`).
    pub fn knows_provider(&self, p: &str) -> bool {
        !p.is_empty() && self.models.iter().any(|m| same_provider(p, &m.provider))
    }

    /// The model a name could be approximated by: the entry the name minus
    /// its provider prefix and version suffix resolves to. Never used to
    /// price silently; a spec asks for it, and the run reports it.
    pub fn nearest_relative(&self, name: &str) -> Option<&ModelPrice> {
        let mut rest = name.trim();
        loop {
            for n in [rest, strip_version_suffix(rest)] {
                if n != name.trim()
                    && let Some(m) = self.find(n)
                {
                    return Some(m);
                }
            }
            match rest.split_once('/') {
                Some((_, r)) if !r.is_empty() => rest = r,
                _ => return None,
            }
        }
    }

    /// The catalog in costgate's TOML format, models in catalog order;
    /// `header` lines become comments at the top.
    pub fn to_toml(&self, header: &[String]) -> String {
        let mut o = String::new();
        for h in header {
            for line in h.split('\n') {
                if line.is_empty() {
                    o.push_str("#\n");
                } else {
                    let _ = writeln!(o, "# {line}");
                }
            }
        }
        if !header.is_empty() {
            o.push('\n');
        }
        let _ = writeln!(o, "format = {}", tq(FORMAT));
        let _ = writeln!(o, "name = {}", tq(&self.name));
        let _ = writeln!(o, "checked = {}", tq(&self.checked));
        if !self.source.is_empty() {
            let _ = writeln!(o, "source = {}", tq(&self.source));
        }
        for m in &self.models {
            o.push_str("\n[[models]]\n");
            let _ = writeln!(o, "id = {}", tq(&m.id));
            let _ = writeln!(o, "provider = {}", tq(&m.provider));
            if !m.aliases.is_empty() {
                let list: Vec<String> = m.aliases.iter().map(|a| tq(a)).collect();
                let _ = writeln!(o, "aliases = [{}]", list.join(", "));
            }
            if let Some(r) = &m.match_rule {
                let _ = writeln!(o, "match = {}", r.to_toml());
            }
            write_prices(&mut o, &m.prices_without_above());
            if let Some(v) = m.context_window {
                let _ = writeln!(o, "context_window = {}", num(v));
            }
            if let Some(v) = m.max_output_tokens {
                let _ = writeln!(o, "max_output_tokens = {}", num(v));
            }
            // a model's source is written only where it is not the catalog's
            if m.source != self.source || self.source.is_empty() {
                let _ = writeln!(o, "source = {}", tq(&m.source));
            }
            if let Some(lc) = &m.above {
                o.push_str("[models.above]\n");
                write_above(&mut o, lc);
            }
        }
        for c in &self.changes {
            o.push_str("\n[[changes]]\n");
            let _ = writeln!(o, "id = {}", tq(&c.id));
            let _ = writeln!(o, "provider = {}", tq(&c.provider));
            let _ = writeln!(o, "starts = {}", tq(&c.starts));
            let mut p = c.prices();
            let above = p.above.take();
            write_prices(&mut o, &p);
            if let Some(lc) = &above {
                o.push_str("[changes.above]\n");
                write_above(&mut o, lc);
            }
        }
        o
    }
}

fn write_prices(o: &mut String, p: &Prices) {
    let _ = writeln!(o, "input_usd_per_mtok = {}", num(p.input_usd_per_mtok));
    let _ = writeln!(o, "output_usd_per_mtok = {}", num(p.output_usd_per_mtok));
    if let Some(v) = p.cached_input_usd_per_mtok {
        let _ = writeln!(o, "cached_input_usd_per_mtok = {}", num(v));
    }
    if let Some(v) = p.cache_write_usd_per_mtok {
        let _ = writeln!(o, "cache_write_usd_per_mtok = {}", num(v));
    }
}

fn write_above(o: &mut String, lc: &LongContext) {
    let _ = writeln!(o, "threshold_tokens = {}", num(lc.threshold_tokens));
    let _ = writeln!(o, "input_usd_per_mtok = {}", num(lc.input_usd_per_mtok));
    let _ = writeln!(o, "output_usd_per_mtok = {}", num(lc.output_usd_per_mtok));
    if let Some(v) = lc.cached_input_usd_per_mtok {
        let _ = writeln!(o, "cached_input_usd_per_mtok = {}", num(v));
    }
    if let Some(v) = lc.cache_write_usd_per_mtok {
        let _ = writeln!(o, "cache_write_usd_per_mtok = {}", num(v));
    }
}

/// A TOML string literal.
fn tq(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML number: integers stay integers, other values print in the
/// shortest form that reads back to the same f64.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The provider family a name belongs to, so that `gemini/`, `vertex_ai/`
/// and `google` compare equal, as do `bedrock` and `aws`.
pub fn provider_family(p: &str) -> String {
    let l = p.trim().to_ascii_lowercase();
    let f = match l.as_str() {
        "gemini" | "google" | "vertex" | "vertex_ai" | "vertexai" | "google-gla" | "google-vertex" => "google",
        s if s.starts_with("vertex_ai") => "google",
        "bedrock" | "bedrock_converse" | "aws" | "amazon" => "aws",
        "xai" | "x-ai" | "grok" => "x-ai",
        "azure" | "azure_ai" | "azure-openai" => "azure",
        "mistral" | "mistralai" => "mistral",
        "together" | "together_ai" | "together-ai" | "togetherai" => "together",
        "fireworks" | "fireworks_ai" | "fireworks-ai" => "fireworks",
        "moonshot" | "moonshotai" => "moonshotai",
        "zhipu" | "zhipuai" => "zhipuai",
        "openai" | "text-completion-openai" | "chatgpt" => "openai",
        "anthropic" | "claude" => "anthropic",
        _ => return l,
    };
    f.to_string()
}

/// Whether two provider names are the same provider (`openai` and `chatgpt`).
pub fn same_provider(a: &str, b: &str) -> bool {
    provider_family(a) == provider_family(b)
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; `gpt-4o-2024-08-06`
/// -> `gpt-4o`; `claude-sonnet-4-5@20250929` -> `claude-sonnet-4-5`;
/// `x-latest` -> `x`.
pub fn strip_version_suffix(name: &str) -> &str {
    if let Some(s) = name.strip_suffix("-latest") {
        return s;
    }
    if let Some((base, v)) = name.rsplit_once('@')
        && !base.is_empty()
        && !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return base;
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
            "vertex_ai/gemini-2.5-pro",
            "gpt-4o-2024-08-06",
            "openai/gpt-4o",
            "claude-3-5-haiku-latest",
        ] {
            assert!(c.find(n).is_some(), "{n}");
        }
        assert_eq!(c.find("gpt-4o-mini").unwrap().id, "gpt-4o-mini");
        assert!(c.find("gpt-7").is_none());
        assert!(c.find("anthropic/").is_none());
    }

    /// Issue 10: a name resolves only to an entry the catalog says is that
    /// model at that provider. The old resolver stripped suffixes and
    /// dropped prefixes, pricing each of these at another entry's price.
    #[test]
    fn nothing_is_substituted() {
        let c = crate::pricing::builtin();
        // a dated snapshot is its own entry, at its own price ($5/$15, not gpt-4o's $2.50/$10)
        let old = c.find("gpt-4o-2024-05-13").unwrap();
        assert_eq!((old.input_usd_per_mtok, old.output_usd_per_mtok), (5.0, 15.0));
        for n in [
            // Azure data zones and government clouds are priced above OpenAI's direct price
            "azure/eu/gpt-4o",
            "azure/us-gov/gpt-4o",
            "azure/gpt-4o",
            // Vertex prices Claude itself
            "vertex_ai/claude-3-5-haiku",
            "vertex_ai/claude-3-5-haiku@20241022",
            "bedrock/claude-sonnet-4-5",
            // dates and versions the catalog does not list
            "gpt-4o-2099-01-01",
            "claude-sonnet-4-5@20250929",
            "claude-sonnet-4-5-20991231",
            "gpt-4.1-latest",
        ] {
            assert!(c.find(n).is_none(), "{n} resolved to {:?}", c.find(n).map(|m| &m.id));
        }
        // the hint names the relative, which is not used
        assert_eq!(c.nearest_relative("azure/eu/gpt-4o").unwrap().id, "gpt-4o");
        assert_eq!(
            c.nearest_relative("vertex_ai/claude-3-5-haiku").unwrap().id,
            "claude-3-5-haiku"
        );
    }

    #[test]
    fn the_provider_written_picks_among_resellers() {
        let m = |id: &str, provider: &str, input: f64| ModelPrice {
            id: id.into(),
            provider: provider.into(),
            aliases: Vec::new(),
            match_rule: None,
            input_usd_per_mtok: input,
            output_usd_per_mtok: 1.0,
            cached_input_usd_per_mtok: None,
            cache_write_usd_per_mtok: None,
            context_window: None,
            max_output_tokens: None,
            above: None,
            source: String::new(),
        };
        let c = Catalog::new(
            "t",
            "2026-01-01",
            vec![
                m("gpt-4o", "openai", 2.5),
                m("gpt-4o", "azure", 2.75),
                m("anthropic/claude-sonnet-4.5", "openrouter", 3.3),
                m("claude-sonnet-4.5", "anthropic", 3.0),
            ],
        );
        assert_eq!(c.find("gpt-4o").unwrap().provider, "openai");
        assert_eq!(c.find("azure/gpt-4o").unwrap().provider, "azure");
        // a dated name the catalog does not list is not the undated entry
        assert!(c.find("azure/gpt-4o-2024-08-06").is_none());
        // a provider that sells no such model: nothing, never another seller's price
        assert!(c.find("bedrock/gpt-4o").is_none());
        assert!(c.find("azure/claude-sonnet-4.5").is_none());
        assert_eq!(c.find("anthropic/claude-sonnet-4.5").unwrap().provider, "anthropic");
        assert_eq!(
            c.find("openrouter/anthropic/claude-sonnet-4.5").unwrap().provider,
            "openrouter"
        );
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
        assert_eq!(c.info().checked, "2026-11-29");
    }

    #[test]
    fn version_suffixes_strip() {
        assert_eq!(strip_version_suffix("claude-haiku-4-5-20251001"), "claude-haiku-4-5");
        assert_eq!(strip_version_suffix("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(
            strip_version_suffix("claude-3-5-sonnet-v2@20241022"),
            "claude-3-5-sonnet-v2"
        );
        assert_eq!(strip_version_suffix("o3"), "o3");
        assert_eq!(strip_version_suffix("gpt-4.1-mini"), "gpt-4.1-mini");
    }

    #[test]
    fn toml_round_trips_with_changes() {
        let text = r#"format = "costgate-prices/1"
name = "t"
checked = "2026-08-01"
source = "https://example.test/p.json"

[[models]]
id = "m"
provider = "p"
aliases = ["m-1", "quote\"d"]
input_usd_per_mtok = 2
output_usd_per_mtok = 10.5
cached_input_usd_per_mtok = 0.2
context_window = 1000000
source = "x"
[models.above]
threshold_tokens = 200000
input_usd_per_mtok = 4
output_usd_per_mtok = 15.75

[[changes]]
id = "m"
provider = "p"
starts = "2026-09-01"
input_usd_per_mtok = 3
output_usd_per_mtok = 15
"#;
        let c = Catalog::parse_costgate("t", text).unwrap();
        let again = Catalog::parse_costgate("t", &c.to_toml(&["a header".into()])).unwrap();
        assert_eq!(c.models(), again.models());
        assert_eq!(c.changes(), again.changes());
        assert_eq!(again.source(), "https://example.test/p.json");
        assert!(c.to_toml(&["h".into()]).starts_with("# h\n\nformat = "));

        let before = c.in_force_on("2026-08-31".parse().unwrap());
        assert_eq!(before.find("m").unwrap().input_usd_per_mtok, 2.0);
        assert_eq!(before.changes().len(), 1);
        let m = before.find("m").unwrap().clone();
        let ann = before.announced_changes(&m, "2026-08-31".parse().unwrap(), "2026-09-30".parse().unwrap());
        assert_eq!(ann.len(), 1);
        assert_eq!(ann[0].starts, "2026-09-01");
        let after = c.in_force_on("2026-09-01".parse().unwrap());
        let m = after.find("m").unwrap();
        assert_eq!((m.input_usd_per_mtok, m.output_usd_per_mtok), (3.0, 15.0));
        // the change replaces every price: no long-context price was announced
        assert!(m.above.is_none() && m.cached_input_usd_per_mtok.is_none());
        assert!(after.changes().is_empty());
    }

    #[test]
    fn bad_catalog_files_say_where() {
        let e = Catalog::parse_costgate("t", "format = \"costgate-prices/1\"\nchecked = \"soon\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        let e = Catalog::parse_costgate(
            "t",
            "format = \"costgate-prices/1\"\nchecked = \"2026-01-01\"\n[[changes]]\nid = \"x\"\nstarts = \"2026-02-01\"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("names no model"), "{e}");
        assert_eq!(e.line, 5);
    }
}
