//! LiteLLM's `model_prices_and_context_window.json`: one flat JSON object
//! keyed by model name (`gpt-4o`, `gemini/gemini-2.5-pro`, `azure/gpt-4o`),
//! prices in USD per token.
//!
//! What is read, per entry:
//! - `mode`: `chat` and `responses` (OpenAI models served only through the
//!   Responses API, such as `o3-pro`) are chat models; every other mode
//!   (embedding, image generation, audio, completion, ...) is skipped, and
//!   so is the `sample_spec` entry that documents the format. An entry with
//!   no `mode` is taken as a chat model when it has input and output prices.
//! - `input_cost_per_token`, `output_cost_per_token`,
//!   `cache_read_input_token_cost`, `cache_creation_input_token_cost`
//!   (the 5-minute cache write; the 1-hour one is not modelled).
//! - `*_above_<N>k_tokens` of those four: long-context prices, where a
//!   request whose input crosses N thousand tokens is billed at them for
//!   every token. A price with no long-context variant keeps its base price
//!   past the threshold. Priority, flex and batch prices are not read.
//! - `max_input_tokens`, `max_output_tokens`, `litellm_provider`, `source`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::source::{Imported, json_key, list_some, round_price};
use super::{LongContext, ModelPrice};
use crate::source::{Loc, Problems};

/// The source's name.
pub const NAME: &str = "LiteLLM";

/// Modes priced as chat models.
pub const CHAT_MODES: [&str; 2] = ["chat", "responses"];

const PRICE_FIELDS: [&str; 4] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
];

/// A JSON object that is LiteLLM's price map: it has the `sample_spec`
/// entry or an entry with LiteLLM's price or provider fields.
pub fn looks_like(root: &Map<String, Value>) -> bool {
    root.contains_key("sample_spec")
        || root
            .values()
            .any(|v| v.get("input_cost_per_token").is_some() || v.get("litellm_provider").is_some())
}

/// Import LiteLLM's price map: its chat models' prices.
pub fn import(root: &Map<String, Value>, source: &str, p: &mut Problems) -> Imported {
    let mut models = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut unpriced = Vec::new();
    let mut several_thresholds = Vec::new();
    for (key, entry) in root {
        if key == "sample_spec" {
            continue;
        }
        let path = json_key("$", key);
        let Some(obj) = entry.as_object() else {
            p.push(
                Loc::UNKNOWN,
                &path,
                format!("an entry must be an object of prices and limits, not {}", kind(entry)),
            );
            continue;
        };
        let mode = match obj.get("mode") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                p.push(
                    Loc::UNKNOWN,
                    &json_key(&path, "mode"),
                    format!("`mode` must be a string such as \"chat\", not {}", kind(other)),
                );
                continue;
            }
        };
        if let Some(m) = mode
            && !CHAT_MODES.contains(&m)
        {
            *skipped.entry(m.to_string()).or_default() += 1;
            continue;
        }
        let mut price = |field: &str| usd_per_mtok(obj, field, &path, p);
        let base: Vec<Option<f64>> = PRICE_FIELDS.iter().map(|f| price(f)).collect();
        let (Some(input), Some(output)) = (base[0], base[1]) else {
            match mode {
                Some(_) => unpriced.push(key.clone()),
                None => *skipped.entry("no mode".into()).or_default() += 1,
            }
            continue;
        };
        let (cached, cache_write) = (base[2], base[3]);

        // long-context prices by threshold (in thousands of tokens)
        let mut tiers: BTreeMap<u64, [Option<f64>; 4]> = BTreeMap::new();
        for field in obj.keys() {
            for (i, base_field) in PRICE_FIELDS.iter().enumerate() {
                let Some(k) = field
                    .strip_prefix(base_field)
                    .and_then(|r| r.strip_prefix("_above_"))
                    .and_then(|r| r.strip_suffix("k_tokens"))
                    .and_then(|r| r.parse::<u64>().ok())
                else {
                    continue;
                };
                if let Some(v) = usd_per_mtok(obj, field, &path, p) {
                    tiers.entry(k).or_default()[i] = Some(v);
                }
            }
        }
        let above = tiers.keys().next().map(|&lowest| {
            if tiers.len() > 1 {
                several_thresholds.push(key.clone());
            }
            // one threshold is modelled: the lowest, priced at the dearest tier
            let dearest = |i: usize| {
                tiers
                    .values()
                    .filter_map(|t| t[i])
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
            };
            LongContext {
                threshold_tokens: (lowest * 1000) as f64,
                input_usd_per_mtok: dearest(0).unwrap_or(input),
                output_usd_per_mtok: dearest(1).unwrap_or(output),
                cached_input_usd_per_mtok: dearest(2).or(cached),
                cache_write_usd_per_mtok: dearest(3).or(cache_write),
            }
        });
        let count = |field: &str| match obj.get(field) {
            Some(Value::Number(n)) => n.as_f64().filter(|v| v.is_finite() && *v > 0.0),
            _ => None,
        };
        let entry_source = match obj.get("source") {
            Some(Value::String(s)) if s.starts_with("https://") || s.starts_with("http://") => s.clone(),
            _ => source.to_string(),
        };
        models.push(ModelPrice {
            id: key.clone(),
            provider: match obj.get("litellm_provider") {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            aliases: Vec::new(),
            match_rule: None,
            input_usd_per_mtok: input,
            output_usd_per_mtok: output,
            cached_input_usd_per_mtok: cached,
            cache_write_usd_per_mtok: cache_write,
            context_window: count("max_input_tokens"),
            max_output_tokens: count("max_output_tokens"),
            above,
            source: entry_source,
        });
    }
    // by name, whatever order the JSON map keeps: pins diff cleanly
    models.sort_by(|a, b| a.id.cmp(&b.id));
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        let total: usize = skipped.values().sum();
        let by_mode: Vec<String> = skipped.iter().map(|(m, n)| format!("{m}: {n}")).collect();
        notes.push(format!(
            "skipped {total} entries that are not chat models ({})",
            by_mode.join(", ")
        ));
    }
    if !unpriced.is_empty() {
        notes.push(format!(
            "skipped {} chat entries without both an input and an output price per token: {}",
            unpriced.len(),
            list_some(&unpriced)
        ));
    }
    if !several_thresholds.is_empty() {
        notes.push(format!(
            "{} models have several long-context thresholds; costgate bills past the lowest one at the dearest tier's prices: {}",
            several_thresholds.len(),
            list_some(&several_thresholds)
        ));
    }
    Imported {
        models,
        changes: Vec::new(),
        notes,
    }
}

/// A per-token price field as USD per million tokens; a problem if it is
/// there but not a non-negative number.
fn usd_per_mtok(obj: &Map<String, Value>, field: &str, path: &str, p: &mut Problems) -> Option<f64> {
    let v = obj.get(field)?;
    match v.as_f64() {
        Some(x) if x.is_finite() && x >= 0.0 => Some(round_price(x * 1e6)),
        _ => {
            p.push(
                Loc::UNKNOWN,
                &json_key(path, field),
                format!(
                    "`{field}` must be a price in USD per token (a number ≥ 0), not {}",
                    kind(v)
                ),
            );
            None
        }
    }
}

/// `a string ("x")`, `an object`, ... for messages.
pub fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("the string \"{short}\"")
        }
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(json: &str) -> (Imported, Vec<crate::source::Problem>) {
        let v: Value = serde_json::from_str(json).unwrap();
        let file: Arc<str> = Arc::from("t.json");
        let mut p = Problems::new(&file);
        let i = import(v.as_object().unwrap(), "t.json", &mut p);
        (i, p.into_vec())
    }

    #[test]
    fn per_token_prices_become_per_million_with_the_long_context_cliff() {
        let (i, p) = run(r#"{
            "sample_spec": {"input_cost_per_token": 0, "mode": "one of chat, embedding"},
            "m": {"mode": "chat", "litellm_provider": "anthropic",
                  "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                  "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
                  "cache_creation_input_token_cost_above_1hr": 6e-06,
                  "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
                  "input_cost_per_token_above_200k_tokens": 6e-06,
                  "output_cost_per_token_above_200k_tokens": 2.25e-05,
                  "input_cost_per_token_priority": 9e-06,
                  "max_input_tokens": 200000, "max_output_tokens": 64000},
            "e": {"mode": "embedding", "input_cost_per_token": 1e-07}
        }"#);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(i.models.len(), 1);
        let m = &i.models[0];
        assert_eq!((m.input_usd_per_mtok, m.output_usd_per_mtok), (3.0, 15.0));
        assert_eq!(
            (m.cached_input_usd_per_mtok, m.cache_write_usd_per_mtok),
            (Some(0.3), Some(3.75))
        );
        let lc = m.above.as_ref().unwrap();
        assert_eq!(lc.threshold_tokens, 200_000.0);
        assert_eq!((lc.input_usd_per_mtok, lc.output_usd_per_mtok), (6.0, 22.5));
        // no long-context cache prices: the base ones still apply past the cliff
        assert_eq!(lc.cached_input_usd_per_mtok, Some(0.3));
        assert_eq!(m.context_window, Some(200_000.0));
        assert!(i.notes[0].contains("embedding: 1"), "{:?}", i.notes);
    }

    #[test]
    fn wrong_types_are_problems_with_json_paths() {
        let (_, p) = run(
            r#"{"gpt-4.1": {"mode": "chat", "input_cost_per_token": "2e-6", "output_cost_per_token": 1e-5},
                             "x": [1], "y": {"mode": 3}}"#,
        );
        let paths: Vec<&str> = p.iter().map(|p| p.span.path.as_str()).collect();
        assert_eq!(paths, ["$[\"gpt-4.1\"].input_cost_per_token", "$.x", "$.y.mode"]);
        assert!(p[0].message.contains("the string \"2e-6\""));
    }
}
