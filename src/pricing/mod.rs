//! Model prices: the catalog, name resolution, and the price of a call.
//!
//! The built-in catalog is embedded in the binary (no network). A run can
//! price from another catalog instead (`--pricing`): costgate's own TOML,
//! LiteLLM's JSON or genai-prices' JSON, from a file or a URL ([`source`]),
//! or from a pinned snapshot ([`pin`]). A spec can also carry its own prices
//! for a model. An unknown model is an error that names the closest known
//! models; nothing is ever priced at $0 by default.

mod catalog;
pub mod genai;
pub mod litellm;
pub mod matching;
pub mod pin;
pub mod reconcile;
pub mod source;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::source::{Problem, Problems, closest, did_you_mean};
use crate::spec::{CustomPrices, Spec};

pub use catalog::{Catalog, CatalogError, FORMAT, PriceChange, provider_family, same_provider, strip_version_suffix};

/// Long-context pricing: when one request's input exceeds `threshold_tokens`,
/// every token of that request is billed at these rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongContext {
    /// Input tokens of one request above which these rates apply.
    pub threshold_tokens: f64,
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
}

/// Every price of one model, in USD per million tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// The catalog's id of the model.
    pub id: String,
    /// Its provider (`openai`, `anthropic`, ...).
    #[serde(default)]
    pub provider: String,
    /// Other names it answers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The source's rule for the names the model answers to (genai-prices'
    /// `match`), besides its id and aliases.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_rule: Option<matching::MatchRule>,
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Price of a cached input token; `None`: billed at the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Price of writing a token to the prompt cache, where the vendor charges one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_usd_per_mtok: Option<f64>,
    /// Context window in tokens, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<f64>,
    /// Most output tokens per call, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<f64>,
    /// Long-context rates, where the vendor charges them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<LongContext>,
    /// Where the price comes from (a URL or a catalog name).
    #[serde(default)]
    pub source: String,
}

/// Per-token rates in force for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// Per input token, USD.
    pub input: f64,
    /// Per output token, USD.
    pub output: f64,
    /// Per cached input token, USD.
    pub cached_input: f64,
}

/// The provider of a model priced by the spec's own prices.
pub const SPEC_PROVIDER: &str = "spec";

impl ModelPrice {
    /// Whether the spec gave this model's prices (no catalog entry).
    pub fn is_from_spec(&self) -> bool {
        self.provider == SPEC_PROVIDER
    }

    /// Where the price comes from: the entry's source, else `catalog`'s name.
    pub fn source_or<'a>(&'a self, catalog: &'a str) -> &'a str {
        if self.source.is_empty() { catalog } else { &self.source }
    }

    /// Priced at $0 for both input and output.
    pub fn is_free(&self) -> bool {
        self.input_usd_per_mtok == 0.0 && self.output_usd_per_mtok == 0.0
    }

    /// Rates (USD per token) for a request with `input_tokens` of input.
    pub fn rates(&self, input_tokens: f64) -> Rates {
        match &self.above {
            Some(lc) if input_tokens > lc.threshold_tokens => Rates {
                input: lc.input_usd_per_mtok / 1e6,
                output: lc.output_usd_per_mtok / 1e6,
                cached_input: lc.cached_input_usd_per_mtok.unwrap_or(lc.input_usd_per_mtok) / 1e6,
            },
            _ => Rates {
                input: self.input_usd_per_mtok / 1e6,
                output: self.output_usd_per_mtok / 1e6,
                cached_input: self.cached_input_usd_per_mtok.unwrap_or(self.input_usd_per_mtok) / 1e6,
            },
        }
    }

    /// USD for one call: `cached_share` of the input billed at the cached
    /// rate, the rest at the input rate, the output at the output rate.
    pub fn call_cost(&self, input_tokens: f64, output_tokens: f64, cached_share: f64) -> f64 {
        let r = self.rates(input_tokens);
        input_tokens * ((1.0 - cached_share) * r.input + cached_share * r.cached_input) + output_tokens * r.output
    }

    /// The dearest rate (USD per token) any token can be billed at when a
    /// request's input is at most `max_input_tokens`: what a token cap is
    /// priced at in the worst case, since a cap in tokens does not fix how
    /// they split between input and output.
    pub fn dearest_rate(&self, max_input_tokens: f64) -> f64 {
        let r = self.rates(max_input_tokens);
        r.input.max(r.output).max(r.cached_input)
    }

    /// The prices alone (what a dated change replaces).
    pub fn prices(&self) -> Prices {
        Prices {
            input_usd_per_mtok: self.input_usd_per_mtok,
            output_usd_per_mtok: self.output_usd_per_mtok,
            cached_input_usd_per_mtok: self.cached_input_usd_per_mtok,
            cache_write_usd_per_mtok: self.cache_write_usd_per_mtok,
            above: self.above.clone(),
        }
    }

    fn prices_without_above(&self) -> Prices {
        Prices {
            above: None,
            ..self.prices()
        }
    }

    pub(crate) fn set_prices(&mut self, p: Prices) {
        self.input_usd_per_mtok = p.input_usd_per_mtok;
        self.output_usd_per_mtok = p.output_usd_per_mtok;
        self.cached_input_usd_per_mtok = p.cached_input_usd_per_mtok;
        self.cache_write_usd_per_mtok = p.cache_write_usd_per_mtok;
        self.above = p.above;
    }

    fn from_custom(key: &str, c: &CustomPrices) -> Self {
        ModelPrice {
            id: key.to_string(),
            provider: SPEC_PROVIDER.into(),
            aliases: Vec::new(),
            match_rule: None,
            input_usd_per_mtok: c.input_usd_per_mtok,
            output_usd_per_mtok: c.output_usd_per_mtok,
            cached_input_usd_per_mtok: c.cached_input_usd_per_mtok,
            cache_write_usd_per_mtok: c.cache_write_usd_per_mtok,
            context_window: c.context_window,
            max_output_tokens: c.max_output_tokens,
            above: None,
            source: "prices given in the spec".into(),
        }
    }
}

/// Every price of a model at one time, in USD per million tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prices {
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Cached input tokens, USD per million.
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Writing the prompt cache, USD per million.
    pub cache_write_usd_per_mtok: Option<f64>,
    /// Long-context rates.
    pub above: Option<LongContext>,
}

impl Prices {
    /// Every price finite and not negative; a long-context threshold above zero.
    pub fn is_valid(&self) -> bool {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        let base = ok(self.input_usd_per_mtok)
            && ok(self.output_usd_per_mtok)
            && self.cached_input_usd_per_mtok.is_none_or(ok)
            && self.cache_write_usd_per_mtok.is_none_or(ok);
        let above = self.above.as_ref().is_none_or(|lc| {
            lc.threshold_tokens.is_finite()
                && lc.threshold_tokens > 0.0
                && ok(lc.input_usd_per_mtok)
                && ok(lc.output_usd_per_mtok)
                && lc.cached_input_usd_per_mtok.is_none_or(ok)
                && lc.cache_write_usd_per_mtok.is_none_or(ok)
        });
        base && above
    }
}

/// One price that differs between two sets of prices.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceDelta {
    /// `input`, `output`, `cached input`, `cache write`, `long-context threshold`,
    /// `long-context input`, ...
    pub price: String,
    /// `usd_per_mtok`, or `tokens` for the long-context threshold.
    pub unit: &'static str,
    /// The old value (`None`: not priced).
    pub from: Option<f64>,
    /// The new value (`None`: not priced).
    pub to: Option<f64>,
}

impl PriceDelta {
    /// Every price that differs from `old` to `new`.
    pub fn between(old: &Prices, new: &Prices) -> Vec<PriceDelta> {
        let mut out = Vec::new();
        let mut cmp = |price: &str, unit: &'static str, from: Option<f64>, to: Option<f64>| {
            if from != to {
                out.push(PriceDelta {
                    price: price.to_string(),
                    unit,
                    from,
                    to,
                });
            }
        };
        const USD: &str = "usd_per_mtok";
        cmp("input", USD, Some(old.input_usd_per_mtok), Some(new.input_usd_per_mtok));
        cmp(
            "output",
            USD,
            Some(old.output_usd_per_mtok),
            Some(new.output_usd_per_mtok),
        );
        cmp(
            "cached input",
            USD,
            old.cached_input_usd_per_mtok,
            new.cached_input_usd_per_mtok,
        );
        cmp(
            "cache write",
            USD,
            old.cache_write_usd_per_mtok,
            new.cache_write_usd_per_mtok,
        );
        let (a, b) = (old.above.as_ref(), new.above.as_ref());
        cmp(
            "long-context threshold",
            "tokens",
            a.map(|l| l.threshold_tokens),
            b.map(|l| l.threshold_tokens),
        );
        cmp(
            "long-context input",
            USD,
            a.map(|l| l.input_usd_per_mtok),
            b.map(|l| l.input_usd_per_mtok),
        );
        cmp(
            "long-context output",
            USD,
            a.map(|l| l.output_usd_per_mtok),
            b.map(|l| l.output_usd_per_mtok),
        );
        cmp(
            "long-context cached input",
            USD,
            a.and_then(|l| l.cached_input_usd_per_mtok),
            b.and_then(|l| l.cached_input_usd_per_mtok),
        );
        cmp(
            "long-context cache write",
            USD,
            a.and_then(|l| l.cache_write_usd_per_mtok),
            b.and_then(|l| l.cache_write_usd_per_mtok),
        );
        out
    }

    /// `input $2.00 → $3.00`, `cached input none → $0.30`.
    pub fn describe(&self) -> String {
        let v = |x: Option<f64>| match (x, self.unit) {
            (None, _) => "none".to_string(),
            (Some(x), "tokens") => format!("{} tokens", crate::fmt::count(x)),
            (Some(x), _) => crate::fmt::usd_per_mtok(x),
        };
        format!("{} {} → {}", self.price, v(self.from), v(self.to))
    }
}

/// A price change a source announced for a later day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnnouncedChange {
    /// The model id.
    pub model: String,
    /// Its provider.
    pub provider: String,
    /// YYYY-MM-DD, the first day the new prices apply.
    pub starts: String,
    /// Each price that changes.
    pub prices: Vec<PriceDelta>,
}

impl AnnouncedChange {
    /// `claude-sonnet-5 (anthropic) from 2026-09-01: input $2.00 → $3.00, output $10.00 → $15.00`
    pub fn describe(&self) -> String {
        let prices: Vec<String> = self.prices.iter().map(PriceDelta::describe).collect();
        let provider = if self.provider.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.provider)
        };
        format!("{}{provider} from {}: {}", self.model, self.starts, prices.join(", "))
    }
}

/// The spec's models with the prices they resolved to.
#[derive(Clone, Debug, Serialize)]
pub struct PricedModels {
    /// The catalog that priced them.
    pub catalog: CatalogInfo,
    /// One per entry of `models:`, in the spec's order.
    pub models: Vec<PricedModel>,
}

/// One entry of `models:` and its price.
#[derive(Clone, Debug, Serialize)]
pub struct PricedModel {
    /// The key under `models:`.
    pub key: String,
    /// The name written in the spec.
    pub requested: String,
    /// The catalog's price.
    pub price: ModelPrice,
}

/// What catalog priced a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CatalogInfo {
    /// For people: `costgate built-in`, `LiteLLM from <url>`,
    /// `pinned snapshot <file> (LiteLLM from <url>)`.
    pub name: String,
    /// The day the prices were checked against their source (for a pinned
    /// snapshot: the day it was pinned).
    pub checked: String,
    /// The path or URL the catalog was read from (empty: built in).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The pinned snapshot file the prices came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// Price changes the catalog announces for the spec's models inside the
    /// simulated month (the run prices at the rates in force on its date).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub announced_changes: Vec<AnnouncedChange>,
    /// The spec's models priced at $0 for both input and output (each a
    /// `zero-price-model` finding).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zero_priced: Vec<ZeroPriced>,
}

/// A model of the spec that its price source prices at $0 for input and output.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ZeroPriced {
    /// The key under `models:`.
    pub key: String,
    /// The name written in the spec.
    pub requested: String,
    /// The catalog entry that priced it.
    pub entry: String,
    /// Its provider.
    pub provider: String,
    /// Where the price came from.
    pub source: String,
}

impl PricedModels {
    /// The price of the model under `key` (validated, so known).
    pub fn get(&self, key: &str) -> &ModelPrice {
        &self
            .models
            .iter()
            .find(|m| m.key == key)
            .unwrap_or_else(|| panic!("model key `{key}` was validated but not priced"))
            .price
    }
}

/// Resolve every model of `spec` in `catalog` (or the spec's own prices).
/// Every unknown name is a problem naming the closest known models (priced
/// ones first); so is an input the model's context window cannot hold.
pub fn resolve(spec: &Spec, catalog: &Catalog) -> Result<PricedModels, Vec<Problem>> {
    let mut p = Problems::new(&spec.file);
    let mut models = Vec::new();
    for m in &spec.models {
        if let Some(c) = &m.custom {
            models.push(PricedModel {
                key: m.key.clone(),
                requested: m.name.clone(),
                price: ModelPrice::from_custom(&m.key, c),
            });
            continue;
        }
        match catalog.find(&m.name) {
            Some(price) => models.push(PricedModel {
                key: m.key.clone(),
                requested: m.name.clone(),
                price: price.clone(),
            }),
            None => {
                let (message, hint) = unknown_model(&m.name, catalog);
                p.push_hint(m.loc, &m.path, message, hint);
            }
        }
    }
    check_context_windows(spec, &models, &mut p);
    if p.is_empty() {
        let mut info = catalog.info();
        if let Some(day) = catalog.as_of() {
            // the simulated month: the run's date and the `usage.days - 1` after it
            let last = day
                .checked_add(jiff::Span::new().days(i64::from(spec.usage.days.max(1)) - 1))
                .unwrap_or(day);
            for m in &models {
                for c in catalog.announced_changes(&m.price, day, last) {
                    if !info.announced_changes.contains(&c) {
                        info.announced_changes.push(c);
                    }
                }
            }
        }
        info.zero_priced = models
            .iter()
            .filter(|m| m.price.is_free())
            .map(|m| ZeroPriced {
                key: m.key.clone(),
                requested: m.requested.clone(),
                entry: m.price.id.clone(),
                provider: m.price.provider.clone(),
                source: m.price.source.clone(),
            })
            .collect();
        Ok(PricedModels { catalog: info, models })
    } else {
        Err(p.into_vec())
    }
}

/// The message and hint for a name the catalog does not price: the closest
/// names (priced entries before $0 ones), and, where the catalog prices the
/// same model for another provider or version, that entry, which is not
/// used in its place.
pub fn unknown_model(name: &str, catalog: &Catalog) -> (String, String) {
    let priced: Vec<&str> = catalog.names_where(|m| !m.is_free()).collect();
    let mut near = closest(name, priced.iter().copied(), 3);
    if near.len() < 3 {
        let free: Vec<&str> = catalog.names_where(ModelPrice::is_free).collect();
        near.extend(closest(name, free.iter().copied(), 3 - near.len()));
    }
    let mut hint = did_you_mean(&near).unwrap_or_default();
    if let Some(r) = catalog.nearest_relative(name) {
        if !hint.is_empty() {
            hint.push(' ');
        }
        hint.push_str(&format!(
            "The catalog prices `{}` ({}) at {} input / {} output per million tokens, but lists no `{name}`: another provider or version can be priced differently (Azure data zones, Bedrock regions and dated snapshots often are), so costgate does not use it in its place. If `{name}` costs the same, give its prices in the spec.",
            r.id,
            if r.provider.is_empty() { "no provider" } else { &r.provider },
            crate::fmt::usd_per_mtok(r.input_usd_per_mtok),
            crate::fmt::usd_per_mtok(r.output_usd_per_mtok),
        ));
    }
    if hint.is_empty() {
        hint = "give its prices in the spec: {input_usd_per_mtok: .., output_usd_per_mtok: ..}, or run `costgate pricing list`".into();
    }
    (
        format!(
            "unknown model `{name}`: it is not in the price catalog ({}) and the spec gives no prices",
            catalog.info().name
        ),
        hint,
    )
}

/// An input a model cannot take is an error: the median `input_tokens` or
/// `max_input_tokens` above the context window of a model a tier uses.
fn check_context_windows(spec: &Spec, models: &[PricedModel], p: &mut Problems) {
    let i = &spec.interaction;
    let mut used: Vec<&str> = Vec::new();
    for t in &spec.tiers {
        used.push(&t.model);
        if let Some(f) = t.limit.as_ref().and_then(|l| l.fallback_model.as_deref()) {
            used.push(f);
        }
    }
    let median = i.input_tokens.dist.quantile(0.5);
    for m in models.iter().filter(|m| used.contains(&m.key.as_str())) {
        let Some(window) = m.price.context_window else { continue };
        let whose = if m.price.is_from_spec() {
            format!("`{}` (its window is given in the spec)", m.key)
        } else {
            format!(
                "`{}` (`{}`, window from {})",
                m.key,
                m.price.id,
                m.price.source_or("the catalog")
            )
        };
        let count = crate::fmt::count;
        if let Some(max) = &i.max_input_tokens
            && max.value > window
        {
            p.push_hint(
                max.loc,
                &max.path,
                format!(
                    "`max_input_tokens` is {} tokens, more than the {}-token context window of {whose}: no call can carry that input, and the worst case priced at it would be wrong",
                    count(max.value),
                    count(window)
                ),
                format!("lower `max_input_tokens` to at most {}, or use a model with a larger window", count(window)),
            );
        }
        if median > window {
            p.push_hint(
                i.input_tokens.loc,
                &i.input_tokens.path,
                format!(
                    "the median of `input_tokens` is {} tokens, more than the {}-token context window of {whose}: a typical call could not be made",
                    count(median),
                    count(window)
                ),
                "lower `input_tokens` (trim the context, summarise history), or use a model with a larger window",
            );
        }
    }
}

/// The built-in catalog, parsed once.
pub fn builtin() -> Arc<Catalog> {
    static CELL: std::sync::OnceLock<Arc<Catalog>> = std::sync::OnceLock::new();
    Arc::clone(CELL.get_or_init(|| {
        Arc::new(
            Catalog::parse_costgate("built-in", include_str!("builtin.toml"))
                .expect("the built-in catalog is valid (tested)"),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_cost_follows_the_formula() {
        let c = builtin();
        let s = c.find("claude-sonnet-4-6").unwrap();
        let o = c.find("gemini-2.5-pro").unwrap();
        // 1,000 input at $3/M + 500 output at $15/M = $0.0105
        assert!((s.call_cost(1000.0, 500.0, 0.0) - 0.0105).abs() < 1e-12);
        // 40% of 1,000 input cached at $0.30/M: 600*3e-6 + 400*0.3e-6 + 500*15e-6
        assert!((s.call_cost(1000.0, 500.0, 0.4) - (0.0018 + 0.00012 + 0.0075)).abs() < 1e-12);
        // past the 200k cliff every token of the request is repriced: $2.50 / $15
        let big = o.call_cost(250_000.0, 1000.0, 0.0);
        assert!((big - (250_000.0 * 2.5e-6 + 1000.0 * 15e-6)).abs() < 1e-9);
        assert!((o.dearest_rate(16_000.0) - 10e-6).abs() < 1e-15);
        assert!((o.dearest_rate(300_000.0) - 15e-6).abs() < 1e-15);
    }
}
