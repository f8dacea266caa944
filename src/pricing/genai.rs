//! pydantic's genai-prices `data.json` / `data_slim.json`: a list of
//! providers, each with its models and their prices in USD per million
//! tokens.
//!
//! What is read, per model:
//! - `prices`: one set of prices, or a list of conditional sets
//!   `{constraint, prices}` where later matching sets win. A set whose
//!   `constraint` has a `start_date` (or `end_date`) applies from (or until)
//!   that day: the run is priced with the set in force on its date, and the
//!   sets that start later become announced changes. A set limited to a time
//!   of day (`start_time`/`end_time`, such as off-peak discounts) applies to
//!   part of each day, and costgate cannot know when calls happen, so the
//!   dearer of the sets that alternate is used, and the import says so.
//! - `input_mtok`, `output_mtok` (both needed: models without them, such as
//!   embeddings, are skipped), `cache_read_mtok`, `cache_write_mtok` (the
//!   5-minute write; `cache_write_1h_mtok`, audio, image and per-request
//!   prices are not modelled).
//! - Tiered prices `{base, tiers: [{start, price}]}`: crossing `start` input
//!   tokens bills every token of the request at the tier price, which is
//!   costgate's long-context threshold. One threshold per model is
//!   modelled: where a model has several tiers, or tiers that start at
//!   different sizes, the lowest start is the threshold and the dearest tier
//!   prices everything past it (never less than the source), and the import
//!   says so.
//! - `match`: the `equals`, `starts_with` and `contains` names become
//!   aliases (dated variants resolve through costgate's date-suffix rule).
//! - Several providers sell some models under the same name; a provider
//!   whose own `model_match` claims the model (`claude` for Anthropic) is
//!   listed first, so a name written without a provider resolves to the
//!   model's vendor.

use jiff::civil::Date;
use serde_json::{Map, Value};

use super::litellm::kind;
use super::matching::{BadPattern, MatchRule, compile};
use super::source::{Imported, json_index, json_key, list_some, round_price};
use super::{LongContext, ModelPrice, PriceChange, Prices};
use crate::source::{Loc, Problems};

/// The source's name.
pub const NAME: &str = "genai-prices";

/// The providers list of a genai-prices document: the top-level list, or
/// the `providers` list of an object. With the JSON path of that list.
pub fn providers(root: &Value) -> Option<(&[Value], &'static str)> {
    let is_provider = |v: &Value| v.get("models").is_some_and(Value::is_array) && v.get("id").is_some();
    match root {
        Value::Array(items) if items.first().is_some_and(is_provider) => Some((items, "$")),
        Value::Object(m) => match m.get("providers") {
            Some(Value::Array(items)) if items.first().is_some_and(is_provider) => Some((items, "$.providers")),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Price {
    Flat(f64),
    /// Base price and `(start, price)` tiers, by start.
    Tiered(f64, Vec<(f64, f64)>),
}

impl Price {
    fn base(&self) -> f64 {
        match self {
            Price::Flat(v) | Price::Tiered(v, _) => *v,
        }
    }
}

/// The prices of one set that costgate models.
#[derive(Clone, Debug, Default, PartialEq)]
struct Set {
    input: Option<Price>,
    output: Option<Price>,
    cache_read: Option<Price>,
    cache_write: Option<Price>,
}

impl Set {
    /// For choosing the dearer of sets that alternate within a day.
    fn weight(&self) -> f64 {
        self.input.as_ref().map_or(0.0, Price::base) + self.output.as_ref().map_or(0.0, Price::base)
    }
}

#[derive(Clone, Debug, Default)]
struct Constraint {
    start_date: Option<Date>,
    end_date: Option<Date>,
    /// Applies to part of each day only (a time window or a condition
    /// costgate does not model).
    partial: bool,
}

impl Constraint {
    fn applies_on(&self, day: Date) -> bool {
        self.start_date.is_none_or(|s| s <= day) && self.end_date.is_none_or(|e| day < e)
    }
}

struct Conditional {
    constraint: Constraint,
    set: Set,
}

#[derive(Default)]
struct Notes {
    skipped: usize,
    time_of_day: Vec<String>,
    several_tiers: Vec<String>,
    unknown_constraints: Vec<String>,
}

/// Import the providers of a genai-prices document (at JSON path `base_path`),
/// with the prices in force on `day` and the dated changes after it.
pub fn import(providers: &[Value], base_path: &str, source: &str, day: Date, p: &mut Problems) -> Imported {
    let mut notes = Notes::default();
    let mut rx = Regexes::default();
    // (claimed by its provider's `model_match`, the model's `match`, model)
    let mut found: Vec<(bool, Option<&Value>, ModelPrice)> = Vec::new();
    let mut changes = Vec::new();
    for (i, prov) in providers.iter().enumerate() {
        let ppath = json_index(base_path, i);
        let Some(pobj) = prov.as_object() else {
            p.push(
                Loc::UNKNOWN,
                &ppath,
                format!("a provider must be an object, not {}", kind(prov)),
            );
            continue;
        };
        let Some(pid) = string(pobj, "id", &ppath, p) else {
            continue;
        };
        let Some(models) = pobj.get("models").and_then(Value::as_array) else {
            p.push(
                Loc::UNKNOWN,
                &json_key(&ppath, "models"),
                format!("provider `{pid}` needs a `models` list"),
            );
            continue;
        };
        let claims = pobj.get("model_match");
        if let Some(c) = claims {
            rx.compile_all(
                c,
                &json_key(&ppath, "model_match"),
                &format!("provider `{pid}`'s `model_match`"),
                p,
            );
        }
        for (j, model) in models.iter().enumerate() {
            let mpath = json_index(&json_key(&ppath, "models"), j);
            let Some(mobj) = model.as_object() else {
                p.push(
                    Loc::UNKNOWN,
                    &mpath,
                    format!("a model must be an object, not {}", kind(model)),
                );
                continue;
            };
            let Some(id) = string(mobj, "id", &mpath, p) else {
                continue;
            };
            let label = format!("{pid}/{id}");
            // Every pattern compiled now: one that does not is an error here,
            // never a rule that silently matches nothing later.
            if let Some(m) = mobj.get("match") {
                rx.compile_all(m, &json_key(&mpath, "match"), &format!("model `{label}`'s `match`"), p);
            }
            let Some(conds) = conditionals(mobj, &mpath, &label, &mut notes, p) else {
                continue;
            };
            let Some((set, partial)) = in_force(&conds, day) else {
                // nothing in force yet (a model announced for later)
                notes.skipped += 1;
                continue;
            };
            if partial {
                notes.time_of_day.push(label.clone());
            }
            let Some(prices) = to_prices(&set, &label, &mut notes) else {
                notes.skipped += 1;
                continue;
            };
            // announced changes: every later day a set starts or ends
            let mut days: Vec<Date> = conds
                .iter()
                .flat_map(|c| [c.constraint.start_date, c.constraint.end_date])
                .flatten()
                .filter(|d| *d > day)
                .collect();
            days.sort();
            days.dedup();
            let mut current = prices.clone();
            for d in days {
                let Some((set, _)) = in_force(&conds, d) else { continue };
                let Some(next) = to_prices(&set, &label, &mut notes) else {
                    continue;
                };
                if next != current {
                    changes.push(PriceChange::new(&id, &pid, d, next.clone()));
                    current = next;
                }
            }
            let mut aliases = Vec::new();
            if let Some(m) = mobj.get("match") {
                match_names(m, &mut aliases);
            }
            aliases.retain(|a| !a.eq_ignore_ascii_case(&id));
            let mut seen = std::collections::HashSet::new();
            aliases.retain(|a| seen.insert(a.to_ascii_lowercase()));
            let context_window = mobj
                .get("context_window")
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite() && *v > 0.0);
            let claimed = claims.is_some_and(|c| rx.matches(c, &id));
            let mut m = ModelPrice {
                id,
                provider: pid.clone(),
                aliases,
                match_rule: mobj.get("match").map(MatchRule::from_json).inspect(|r| {
                    // compiled above; this keeps them compiled for resolution
                    let _ = r.compile_regexes();
                }),
                input_usd_per_mtok: 0.0,
                output_usd_per_mtok: 0.0,
                cached_input_usd_per_mtok: None,
                cache_write_usd_per_mtok: None,
                context_window,
                max_output_tokens: None,
                above: None,
                source: source.to_string(),
            };
            m.set_prices(prices);
            found.push((claimed, mobj.get("match"), m));
        }
    }
    // A reseller's listing keeps no alias that the vendor's own listing
    // accepts (AWS's `regional.anthropic.claude-sonnet-4-5-...` matches
    // `claude-sonnet-4-5-20250929` too): the name people write is the vendor's.
    let vendor_rules: Vec<&Value> = found.iter().filter(|f| f.0).filter_map(|f| f.1).collect();
    for (_, _, m) in found.iter_mut().filter(|f| !f.0) {
        m.aliases.retain(|a| !vendor_rules.iter().any(|r| rx.matches(r, a)));
    }
    // the vendor's own listing first (stable: source order otherwise)
    found.sort_by_key(|f| !f.0);
    Imported {
        models: found.into_iter().map(|f| f.2).collect(),
        changes,
        notes: notes.sentences(),
    }
}

impl Notes {
    fn sentences(self) -> Vec<String> {
        let mut out = Vec::new();
        if self.skipped > 0 {
            out.push(format!(
                "skipped {} models without both an input and an output price per token in force (embeddings, image, audio and models not yet priced)",
                self.skipped
            ));
        }
        if !self.time_of_day.is_empty() {
            out.push(format!(
                "{} models have prices that depend on the time of day; costgate uses the dearer set all day: {}",
                self.time_of_day.len(),
                list_some(&self.time_of_day)
            ));
        }
        if !self.several_tiers.is_empty() {
            let mut v = self.several_tiers;
            v.dedup();
            out.push(format!(
                "{} models have several price tiers; costgate bills every token past the lowest tier start at the dearest tier's prices: {}",
                v.len(),
                list_some(&v)
            ));
        }
        if !self.unknown_constraints.is_empty() {
            let mut v = self.unknown_constraints;
            v.dedup();
            out.push(format!(
                "{} models have price conditions costgate does not model; it treats them like time-of-day prices (the dearer set applies): {}",
                v.len(),
                list_some(&v)
            ));
        }
        out
    }
}

fn string(obj: &Map<String, Value>, field: &str, path: &str, p: &mut Problems) -> Option<String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(other) => {
            p.push(
                Loc::UNKNOWN,
                &json_key(path, field),
                format!("`{field}` must be a non-empty string, not {}", kind(other)),
            );
            None
        }
        None => {
            p.push(Loc::UNKNOWN, path, format!("`{field}` is missing"));
            None
        }
    }
}

/// The model's price sets, in source order.
fn conditionals(
    mobj: &Map<String, Value>,
    mpath: &str,
    label: &str,
    notes: &mut Notes,
    p: &mut Problems,
) -> Option<Vec<Conditional>> {
    let path = json_key(mpath, "prices");
    match mobj.get("prices") {
        Some(Value::Object(set)) => Some(vec![Conditional {
            constraint: Constraint::default(),
            set: read_set(set, &path, p)?,
        }]),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            let mut ok = true;
            for (k, item) in items.iter().enumerate() {
                let cpath = json_index(&path, k);
                let Some(obj) = item.as_object() else {
                    p.push(
                        Loc::UNKNOWN,
                        &cpath,
                        format!("a conditional price must be an object, not {}", kind(item)),
                    );
                    ok = false;
                    continue;
                };
                let constraint = match obj.get("constraint") {
                    None | Some(Value::Null) => Some(Constraint::default()),
                    Some(Value::Object(c)) => read_constraint(c, &json_key(&cpath, "constraint"), label, notes, p),
                    Some(other) => {
                        p.push(
                            Loc::UNKNOWN,
                            &json_key(&cpath, "constraint"),
                            format!("`constraint` must be an object, not {}", kind(other)),
                        );
                        None
                    }
                };
                let set = match obj.get("prices") {
                    Some(Value::Object(set)) => read_set(set, &json_key(&cpath, "prices"), p),
                    other => {
                        p.push(
                            Loc::UNKNOWN,
                            &json_key(&cpath, "prices"),
                            format!(
                                "`prices` must be an object of prices, not {}",
                                other.map_or("nothing".into(), kind)
                            ),
                        );
                        None
                    }
                };
                match (constraint, set) {
                    (Some(constraint), Some(set)) => out.push(Conditional { constraint, set }),
                    _ => ok = false,
                }
            }
            ok.then_some(out)
        }
        other => {
            p.push(
                Loc::UNKNOWN,
                &path,
                format!(
                    "`prices` must be an object of prices or a list of conditional prices, not {}",
                    other.map_or("nothing".into(), kind)
                ),
            );
            None
        }
    }
}

fn read_constraint(
    c: &Map<String, Value>,
    path: &str,
    label: &str,
    notes: &mut Notes,
    p: &mut Problems,
) -> Option<Constraint> {
    let mut out = Constraint::default();
    let mut ok = true;
    for (k, v) in c {
        match k.as_str() {
            "start_date" | "end_date" => {
                let d = v
                    .as_str()
                    .and_then(|s| s.get(..10))
                    .and_then(|s| s.parse::<Date>().ok());
                match d {
                    Some(d) if k == "start_date" => out.start_date = Some(d),
                    Some(d) => out.end_date = Some(d),
                    None => {
                        p.push(
                            Loc::UNKNOWN,
                            &json_key(path, k),
                            format!("`{k}` must be a date (YYYY-MM-DD), not {}", kind(v)),
                        );
                        ok = false;
                    }
                }
            }
            "start_time" | "end_time" => out.partial = true,
            _ => {
                out.partial = true;
                notes.unknown_constraints.push(label.to_string());
            }
        }
    }
    ok.then_some(out)
}

fn read_set(set: &Map<String, Value>, path: &str, p: &mut Problems) -> Option<Set> {
    let mut ok = true;
    let mut read = |key: &str| -> Option<Price> {
        let v = set.get(key)?;
        let r = read_price(v, &json_key(path, key), p);
        ok &= r.is_some();
        r
    };
    let s = Set {
        input: read("input_mtok"),
        output: read("output_mtok"),
        cache_read: read("cache_read_mtok"),
        cache_write: read("cache_write_mtok"),
    };
    ok.then_some(s)
}

fn read_price(v: &Value, path: &str, p: &mut Problems) -> Option<Price> {
    let usd = |v: &Value| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0).map(round_price);
    match v {
        Value::Number(_) => match usd(v) {
            Some(x) => Some(Price::Flat(x)),
            None => {
                p.push(Loc::UNKNOWN, path, format!("a price must be ≥ 0, not {}", kind(v)));
                None
            }
        },
        Value::Object(o) => {
            let Some(base) = o.get("base").and_then(usd) else {
                p.push(
                    Loc::UNKNOWN,
                    &json_key(path, "base"),
                    "a tiered price needs a `base` price ≥ 0",
                );
                return None;
            };
            let Some(items) = o.get("tiers").and_then(Value::as_array) else {
                p.push(
                    Loc::UNKNOWN,
                    &json_key(path, "tiers"),
                    "a tiered price needs a `tiers` list of {start, price}",
                );
                return None;
            };
            let mut tiers = Vec::new();
            for (k, t) in items.iter().enumerate() {
                let start = t
                    .get("start")
                    .and_then(Value::as_f64)
                    .filter(|s| s.is_finite() && *s > 0.0);
                let price = t.get("price").and_then(usd);
                match (start, price) {
                    (Some(s), Some(pr)) => tiers.push((s, pr)),
                    _ => {
                        p.push(
                            Loc::UNKNOWN,
                            &json_index(&json_key(path, "tiers"), k),
                            "a tier needs `start` (input tokens > 0) and `price` (≥ 0)",
                        );
                        return None;
                    }
                }
            }
            tiers.sort_by(|a, b| a.0.total_cmp(&b.0));
            if tiers.is_empty() {
                Some(Price::Flat(base))
            } else {
                Some(Price::Tiered(base, tiers))
            }
        }
        other => {
            p.push(
                Loc::UNKNOWN,
                path,
                format!("a price must be a number or {{base, tiers}}, not {}", kind(other)),
            );
            None
        }
    }
}

/// The set in force on `day` (later matching sets win), and whether sets
/// alternating within the day were merged (the dearer one taken).
fn in_force(conds: &[Conditional], day: Date) -> Option<(Set, bool)> {
    let mut all_day: Option<&Set> = None;
    let mut part_day: Vec<&Set> = Vec::new();
    for c in conds.iter().filter(|c| c.constraint.applies_on(day)) {
        if c.constraint.partial {
            part_day.push(&c.set);
        } else {
            all_day = Some(&c.set);
            part_day.clear();
        }
    }
    let partial = !part_day.is_empty();
    let dearest = all_day
        .into_iter()
        .chain(part_day)
        .max_by(|a, b| a.weight().total_cmp(&b.weight()))?;
    Some((dearest.clone(), partial))
}

/// costgate's prices from a set: `None` when it has no input or output price.
fn to_prices(set: &Set, label: &str, notes: &mut Notes) -> Option<Prices> {
    let input = set.input.as_ref()?;
    let output = set.output.as_ref()?;
    let all = [
        Some(input),
        Some(output),
        set.cache_read.as_ref(),
        set.cache_write.as_ref(),
    ];
    let starts: Vec<f64> = all
        .iter()
        .flatten()
        .flat_map(|p| match p {
            Price::Tiered(_, t) => t.iter().map(|(s, _)| *s).collect(),
            Price::Flat(_) => Vec::new(),
        })
        .collect();
    let above = if starts.is_empty() {
        None
    } else {
        let lowest = starts.iter().copied().fold(f64::INFINITY, f64::min);
        let one_cliff = all.iter().flatten().all(|p| match p {
            Price::Tiered(_, t) => t.len() == 1 && t[0].0 == lowest,
            Price::Flat(_) => true,
        });
        if !one_cliff && notes.several_tiers.last().is_none_or(|l| l != label) {
            notes.several_tiers.push(label.to_string());
        }
        let past = |p: &Price| match p {
            Price::Flat(v) => *v,
            Price::Tiered(_, t) => t.iter().map(|(_, pr)| *pr).fold(0.0, f64::max),
        };
        Some(LongContext {
            threshold_tokens: lowest,
            input_usd_per_mtok: past(input),
            output_usd_per_mtok: past(output),
            cached_input_usd_per_mtok: set.cache_read.as_ref().map(past),
            cache_write_usd_per_mtok: set.cache_write.as_ref().map(past),
        })
    };
    Some(Prices {
        input_usd_per_mtok: input.base(),
        output_usd_per_mtok: output.base(),
        cached_input_usd_per_mtok: set.cache_read.as_ref().map(Price::base),
        cache_write_usd_per_mtok: set.cache_write.as_ref().map(Price::base),
        above,
    })
}

/// Evaluates genai-prices match clauses, compiling each regex once.
#[derive(Default)]
struct Regexes(std::collections::HashMap<String, Result<fancy_regex::Regex, BadPattern>>);

impl Regexes {
    /// Compile every regex of a match clause at `path`; each that does not
    /// compile is a problem naming `whose` clause it is and the pattern.
    fn compile_all(&mut self, clause: &Value, path: &str, whose: &str, p: &mut Problems) {
        let Some(obj) = clause.as_object() else { return };
        for (k, v) in obj {
            let kpath = json_key(path, k);
            match (k.as_str(), v) {
                ("regex", Value::String(s)) => {
                    if let Err(e) = self.0.entry(s.clone()).or_insert_with(|| compile(s)) {
                        p.push_hint(
                            Loc::UNKNOWN,
                            &kpath,
                            format!("{whose}: the regex `{}` does not compile: {}", e.pattern, e.why),
                            "costgate reads the patterns genai-prices writes (Python `re` syntax, lookarounds included); fix or remove this one",
                        );
                    }
                }
                ("or" | "and", Value::Array(items)) => {
                    for (i, c) in items.iter().enumerate() {
                        self.compile_all(c, &json_index(&kpath, i), whose, p);
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether a match clause accepts `name` (a clause costgate does not
    /// know accepts nothing).
    fn matches(&mut self, clause: &Value, name: &str) -> bool {
        let Some(obj) = clause.as_object() else { return false };
        obj.iter().all(|(k, v)| match (k.as_str(), v) {
            ("equals", Value::String(s)) => name == s,
            ("starts_with", Value::String(s)) => name.starts_with(s.as_str()),
            ("ends_with", Value::String(s)) => name.ends_with(s.as_str()),
            ("contains", Value::String(s)) => name.contains(s.as_str()),
            ("regex", Value::String(s)) => self
                .0
                .entry(s.clone())
                .or_insert_with(|| compile(s))
                .as_ref()
                .is_ok_and(|r| r.is_match(name).unwrap_or(false)),
            ("or", Value::Array(items)) => items.iter().any(|c| self.matches(c, name)),
            ("and", Value::Array(items)) => items.iter().all(|c| self.matches(c, name)),
            _ => false,
        })
    }
}

/// The literal names a match clause accepts as a whole name.
fn match_names(clause: &Value, out: &mut Vec<String>) {
    let Some(obj) = clause.as_object() else { return };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("equals" | "starts_with" | "contains", Value::String(s)) if !s.is_empty() => out.push(s.clone()),
            ("or", Value::Array(items)) => items.iter().for_each(|c| match_names(c, out)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(json: &str, day: &str) -> (Imported, Vec<crate::source::Problem>) {
        let v: Value = serde_json::from_str(json).unwrap();
        let file: Arc<str> = Arc::from("t.json");
        let mut p = Problems::new(&file);
        let (items, base) = providers(&v).expect("providers");
        let i = import(items, base, "t.json", day.parse().unwrap(), &mut p);
        (i, p.into_vec())
    }

    const DATA: &str = r#"[
      {"id": "openrouter", "models": [
        {"id": "claude-x", "match": {"equals": "claude-x"}, "prices": {"input_mtok": 3.3, "output_mtok": 16.5}}]},
      {"id": "anthropic", "model_match": {"contains": "claude"}, "models": [
        {"id": "claude-x", "match": {"or": [{"starts_with": "claude-x"}, {"starts_with": "claude-x.0"}]},
         "prices": {"input_mtok": {"base": 3, "tiers": [{"start": 200000, "price": 6}]},
                    "cache_read_mtok": 0.3,
                    "output_mtok": {"base": 15, "tiers": [{"start": 200000, "price": 22.5}]}}},
        {"id": "claude-promo", "prices": [
          {"prices": {"input_mtok": 2, "output_mtok": 10}},
          {"constraint": {"start_date": "2026-09-01"}, "prices": {"input_mtok": 3, "output_mtok": 15}}]},
        {"id": "claude-embed", "prices": {"input_mtok": 0.1}}]},
      {"id": "deepseek", "models": [
        {"id": "ds", "prices": [
          {"prices": {"input_mtok": 0.135, "output_mtok": 0.55}},
          {"constraint": {"start_time": "00:30:00Z", "end_time": "16:30:00Z"}, "prices": {"input_mtok": 0.27, "output_mtok": 1.1}}]}]}
    ]"#;

    #[test]
    fn tiers_become_the_cliff_and_dates_pick_the_price_in_force() {
        let (i, p) = run(DATA, "2026-08-21");
        assert!(p.is_empty(), "{p:?}");
        let ids: Vec<(&str, &str)> = i.models.iter().map(|m| (m.provider.as_str(), m.id.as_str())).collect();
        // the vendor first; the embedding skipped
        assert_eq!(
            ids,
            [
                ("anthropic", "claude-x"),
                ("anthropic", "claude-promo"),
                ("openrouter", "claude-x"),
                ("deepseek", "ds")
            ]
        );
        let x = &i.models[0];
        assert_eq!(x.aliases, ["claude-x.0"]);
        let lc = x.above.as_ref().unwrap();
        assert_eq!(
            (lc.threshold_tokens, lc.input_usd_per_mtok, lc.output_usd_per_mtok),
            (200_000.0, 6.0, 22.5)
        );
        // a flat cache price stays flat past the threshold
        assert_eq!(lc.cached_input_usd_per_mtok, Some(0.3));
        assert_eq!(i.models[1].input_usd_per_mtok, 2.0);
        assert_eq!(i.changes.len(), 1);
        assert_eq!(
            (i.changes[0].starts.as_str(), i.changes[0].input_usd_per_mtok),
            ("2026-09-01", 3.0)
        );
        // time of day: the dearer set
        assert_eq!(i.models[3].input_usd_per_mtok, 0.27);
        assert_eq!(i.notes.len(), 2, "{:?}", i.notes);

        let (later, _) = run(DATA, "2026-09-01");
        assert_eq!(later.models[1].input_usd_per_mtok, 3.0);
        assert!(later.changes.is_empty());
    }

    #[test]
    fn several_tiers_bill_past_the_lowest_start_at_the_dearest() {
        let (i, _) = run(
            r#"[{"id": "g", "models": [{"id": "m", "prices": {
                "input_mtok": {"base": 1, "tiers": [{"start": 128000, "price": 2}, {"start": 1000000, "price": 4}]},
                "output_mtok": 5}}]}]"#,
            "2026-01-01",
        );
        let lc = i.models[0].above.as_ref().unwrap();
        assert_eq!(
            (lc.threshold_tokens, lc.input_usd_per_mtok, lc.output_usd_per_mtok),
            (128_000.0, 4.0, 5.0)
        );
        assert!(i.notes[0].contains("g/m"), "{:?}", i.notes);
    }

    #[test]
    fn bad_prices_are_problems_with_json_paths() {
        let (_, p) = run(
            r#"[{"id": "g", "models": [
                {"id": "m", "prices": {"input_mtok": -1, "output_mtok": 5}},
                {"id": "n", "prices": [{"constraint": {"start_date": "soon"}, "prices": {"input_mtok": 1, "output_mtok": {"base": 1}}}]},
                {"prices": {}}]}]"#,
            "2026-01-01",
        );
        let paths: Vec<&str> = p.iter().map(|p| p.span.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$[0].models[0].prices.input_mtok",
                "$[0].models[1].prices[0].constraint.start_date",
                "$[0].models[1].prices[0].prices.output_mtok.tiers",
                "$[0].models[2]",
            ]
        );
    }

    #[test]
    fn match_clauses() {
        let c: Value = serde_json::from_str(r#"{"or": [{"starts_with": "gpt-"}, {"regex": "^o[134]"}]}"#).unwrap();
        let mut rx = Regexes::default();
        assert!(rx.matches(&c, "gpt-4o") && rx.matches(&c, "o3-mini") && !rx.matches(&c, "claude"));
    }
}
