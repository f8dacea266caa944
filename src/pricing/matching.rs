//! Which names a catalog entry answers to: its id, its aliases, and the
//! source's own match rule (genai-prices' `match`: `equals`, `starts_with`,
//! `ends_with`, `contains`, `regex`, `or`, `and`).
//!
//! A name resolves only to an entry that the catalog itself says is that
//! model at that provider. Nothing is guessed: no date suffix is stripped,
//! and a provider written in front of the name (`azure/…`, `bedrock/…`,
//! `vertex_ai/…`) must be the entry's provider.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A source's rule for the names a model answers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MatchRule {
    /// The name is this.
    Equals(String),
    /// The name starts with this.
    StartsWith(String),
    /// The name ends with this.
    EndsWith(String),
    /// The name contains this.
    Contains(String),
    /// The name matches this regular expression.
    Regex(String),
    /// Any of these rules.
    Or(Vec<MatchRule>),
    /// Every one of these rules.
    And(Vec<MatchRule>),
}

impl MatchRule {
    /// A genai-prices match clause. A clause with several keys needs all of
    /// them; a key costgate does not know matches nothing (never more).
    pub fn from_json(v: &Value) -> MatchRule {
        let Some(obj) = v.as_object() else {
            return MatchRule::Or(Vec::new());
        };
        let mut all: Vec<MatchRule> = obj
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("equals", Value::String(s)) => MatchRule::Equals(s.clone()),
                ("starts_with", Value::String(s)) => MatchRule::StartsWith(s.clone()),
                ("ends_with", Value::String(s)) => MatchRule::EndsWith(s.clone()),
                ("contains", Value::String(s)) => MatchRule::Contains(s.clone()),
                ("regex", Value::String(s)) => MatchRule::Regex(s.clone()),
                ("or", Value::Array(items)) => MatchRule::Or(items.iter().map(MatchRule::from_json).collect()),
                ("and", Value::Array(items)) => MatchRule::And(items.iter().map(MatchRule::from_json).collect()),
                _ => MatchRule::Or(Vec::new()),
            })
            .collect();
        if all.len() == 1 {
            all.pop().expect("one")
        } else {
            MatchRule::And(all)
        }
    }

    /// Whether the rule accepts `name` (compared as written and in lower
    /// case, since people write model names in either).
    pub fn accepts(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.accepts_exact(name) || (lower != name && self.accepts_exact(&lower))
    }

    /// Compile every regex of the rule (and keep it compiled for matching):
    /// the first pattern that does not compile, with why.
    pub fn compile_regexes(&self) -> Result<(), BadPattern> {
        match self {
            MatchRule::Regex(s) => compiled(s).map(|_| ()),
            MatchRule::Or(items) | MatchRule::And(items) => items.iter().try_for_each(MatchRule::compile_regexes),
            _ => Ok(()),
        }
    }

    fn accepts_exact(&self, name: &str) -> bool {
        match self {
            MatchRule::Equals(s) => name == s,
            MatchRule::StartsWith(s) => name.starts_with(s.as_str()),
            MatchRule::EndsWith(s) => name.ends_with(s.as_str()),
            MatchRule::Contains(s) => name.contains(s.as_str()),
            MatchRule::Regex(s) => regex_matches(s, name),
            MatchRule::Or(items) => items.iter().any(|r| r.accepts_exact(name)),
            MatchRule::And(items) => !items.is_empty() && items.iter().all(|r| r.accepts_exact(name)),
        }
    }

    /// The rule as a TOML inline table (`{ starts_with = "claude-sonnet-4-5" }`).
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let list = |items: &[MatchRule]| {
            let mut o = String::from("[");
            for (i, r) in items.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                o.push_str(&r.to_toml());
            }
            o.push(']');
            o
        };
        let mut o = String::new();
        let _ = match self {
            MatchRule::Equals(s) => write!(o, "{{ equals = {} }}", q(s)),
            MatchRule::StartsWith(s) => write!(o, "{{ starts_with = {} }}", q(s)),
            MatchRule::EndsWith(s) => write!(o, "{{ ends_with = {} }}", q(s)),
            MatchRule::Contains(s) => write!(o, "{{ contains = {} }}", q(s)),
            MatchRule::Regex(s) => write!(o, "{{ regex = {} }}", q(s)),
            MatchRule::Or(items) => write!(o, "{{ or = {} }}", list(items)),
            MatchRule::And(items) => write!(o, "{{ and = {} }}", list(items)),
        };
        o
    }
}

/// A match pattern that does not compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPattern {
    /// The pattern as the catalog writes it.
    pub pattern: String,
    /// Why it does not compile.
    pub why: String,
}

/// Most backtracking steps one match may take (model names are short; a
/// pattern that needs more is refused at match time, not run without bound).
const BACKTRACK_LIMIT: usize = 100_000;
/// Most memory the compiled form of one pattern may take.
const SIZE_LIMIT: usize = 1 << 20;
/// Most distinct patterns kept compiled (a catalog's rules are a few hundred).
const CACHE_LIMIT: usize = 10_000;

/// Compile one match pattern in the dialect genai-prices writes (Python's
/// `re`: lookahead and lookbehind included), with bounded size and
/// backtracking.
pub fn compile(pattern: &str) -> Result<fancy_regex::Regex, BadPattern> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(BACKTRACK_LIMIT)
        .delegate_size_limit(SIZE_LIMIT)
        .delegate_dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| BadPattern {
            pattern: pattern.to_string(),
            why: e.to_string(),
        })
}

type Cache = Mutex<HashMap<String, Result<fancy_regex::Regex, BadPattern>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `pattern` compiled, once per process: catalogs compile their patterns
/// when they are imported or read, so matching finds them here.
fn compiled(pattern: &str) -> Result<(), BadPattern> {
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > CACHE_LIMIT {
        map.clear();
    }
    map.entry(pattern.to_string())
        .or_insert_with(|| compile(pattern))
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

/// Whether `pattern` matches `name`. Catalogs refuse a pattern that does not
/// compile when they are read, so one reaching here compiles; a match that
/// needs more backtracking than [`BACKTRACK_LIMIT`] does not match.
fn regex_matches(pattern: &str, name: &str) -> bool {
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > CACHE_LIMIT {
        map.clear();
    }
    map.entry(pattern.to_string())
        .or_insert_with(|| compile(pattern))
        .as_ref()
        .is_ok_and(|r| r.is_match(name).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genai_clauses_read_and_match() {
        let c: Value =
            serde_json::from_str(r#"{"or": [{"starts_with": "gpt-"}, {"regex": "^o[134]"}, {"bogus": 1}]}"#).unwrap();
        let r = MatchRule::from_json(&c);
        assert!(r.accepts("gpt-4o") && r.accepts("o3-mini") && r.accepts("GPT-4o") && !r.accepts("claude"));
        // an unknown clause accepts nothing
        assert!(!MatchRule::from_json(&serde_json::json!({"bogus": "x"})).accepts("x"));
        let both = MatchRule::from_json(&serde_json::json!({"starts_with": "a", "ends_with": "z"}));
        assert!(both.accepts("abcz") && !both.accepts("abc"));
    }

    #[test]
    fn lookarounds_compile_and_bad_patterns_are_named() {
        // genai-prices writes Python `re` patterns, lookahead included
        let r = MatchRule::And(vec![
            MatchRule::StartsWith("gemini-2.5-pro".into()),
            MatchRule::Regex("^(?!.*-[tT][tT][sS](?:$|-))".into()),
        ]);
        assert_eq!(r.compile_regexes(), Ok(()));
        assert!(r.accepts("gemini-2.5-pro-preview-05-06") && !r.accepts("gemini-2.5-pro-preview-tts"));
        let bad = MatchRule::Or(vec![MatchRule::Equals("x".into()), MatchRule::Regex("^gpt-(4o".into())]);
        let e = bad.compile_regexes().unwrap_err();
        assert_eq!(e.pattern, "^gpt-(4o");
        assert!(!e.why.is_empty());
    }

    #[test]
    fn rules_round_trip_through_toml() {
        let r = MatchRule::Or(vec![
            MatchRule::Equals("claude-x".into()),
            MatchRule::Regex("^claude-x-\\d{8}$".into()),
            MatchRule::And(vec![MatchRule::Contains("a\"b".into())]),
        ]);
        #[derive(Deserialize)]
        struct W {
            r: MatchRule,
        }
        let w: W = toml::from_str(&format!("r = {}", r.to_toml())).unwrap();
        assert_eq!(w.r, r);
        assert!(r.accepts("claude-x-20250101") && !r.accepts("claude-x-2025"));
    }
}
