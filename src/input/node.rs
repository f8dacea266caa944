//! A format-neutral tree of values with source locations.
//!
//! YAML (serde-saphyr) and TOML (toml) are both parsed into this one tree, so
//! that decoding and validation are written once and every problem can name
//! the line and column of the value at fault, whichever format the user chose.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::Loc;

/// Largest spec, policy or catalog costgate will parse (bytes).
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting accepted; real specs are about five levels deep.
pub const MAX_DEPTH: usize = 64;

/// A value of a parsed file with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it starts.
    pub loc: Loc,
}

/// A parsed value, YAML and TOML alike.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Null (YAML `~`, or nothing).
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string.
    Str(String),
    /// TOML dates and times, kept as their text.
    Date(String),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, in the file's order.
    Map(Vec<(Key, Node)>),
}

/// A key of a mapping with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key.
    pub name: String,
    /// Where it is.
    pub loc: Loc,
}

impl Value {
    /// The word used in messages: "a number", "a mapping"...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Date(_) => "a date",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A parse failure with the place it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Where it happened.
    pub loc: Loc,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn loc_of(s: &serde_saphyr::Location) -> Loc {
    Loc::new(s.line() as u32, s.column() as u32)
}

// ---------------------------------------------------------------- YAML ----

struct YamlNode(Node);

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned: Spanned<YamlValue> = Spanned::deserialize(d)?;
        Ok(YamlNode(Node {
            value: spanned.value.0,
            loc: loc_of(&spanned.referenced),
        }))
    }
}

struct YamlValue(Value);

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(YamlVisitor).map(YamlValue)
    }
}

struct YamlKey(Key);

impl<'de> Deserialize<'de> for YamlKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned: Spanned<YamlValue> = Spanned::deserialize(d)?;
        let name = match spanned.value.0 {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_string(),
            other => {
                return Err(de::Error::custom(format!(
                    "a mapping key must be a plain name, found {}",
                    other.kind()
                )));
            }
        };
        Ok(YamlKey(Key {
            name,
            loc: loc_of(&spanned.referenced),
        }))
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).or(Ok(Value::Float(v as f64)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(YamlNode(n)) = seq.next_element()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(YamlKey(k)) = map.next_key()? {
            let YamlNode(v) = map.next_value()?;
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

/// Parse YAML text into a [`Node`], refusing hostile input (alias bombs,
/// deep nesting, huge documents) before it costs memory.
pub fn parse_yaml(text: &str) -> Result<Node, ParseError> {
    parse_yaml_docs(text, 1).map(|mut docs| docs.remove(0))
}

/// The most documents a multi-document YAML file (a gateway's manifests)
/// may hold.
pub const MAX_DOCUMENTS: usize = 1_000;

/// Parse every document of a multi-document YAML file (Kubernetes
/// manifests), under the same limits as [`parse_yaml`] for the whole file.
/// Empty documents are skipped; a file with none is an error.
pub fn parse_yaml_documents(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_yaml_docs(text, MAX_DOCUMENTS)
}

fn parse_yaml_docs(text: &str, max_documents: usize) -> Result<Vec<Node>, ParseError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(too_large(text.len()));
    }
    if text.trim().is_empty() {
        return Err(ParseError {
            loc: Loc::new(1, 1),
            message: "the file is empty".into(),
        });
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_events: 500_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_nodes: 250_000,
            max_documents: max_documents,
            max_total_scalar_bytes: MAX_INPUT_BYTES,
            max_recorded_anchor_events: 100_000,
        },
        // Let `.nan` / `.inf` through so validation can name the field.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
    };
    let docs: Result<Vec<Node>, ParseError> = if max_documents == 1 {
        serde_saphyr::from_str_with_options::<YamlNode>(text, options).map(|n| vec![n.0])
    } else {
        serde_saphyr::from_multiple_with_options::<YamlNode>(text, options)
            .map(|v| v.into_iter().map(|n| n.0).collect())
    }
    .map_err(|e| {
        let loc = e.location().map(|l| loc_of(&l)).unwrap_or(Loc::UNKNOWN);
        ParseError {
            loc,
            message: yaml_message(&e),
        }
    });
    match docs {
        Ok(d) if d.is_empty() => Err(ParseError {
            loc: Loc::new(1, 1),
            message: "the file holds no YAML document".into(),
        }),
        other => other,
    }
}

/// serde-saphyr's plain message, in plain words and without its source
/// snippet or its own position (we print our own `file:line:col` prefix).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // Strip a leading "error: line X column Y: " and a trailing
    // " at line X, column Y": both repeat our prefix.
    let mut cleaned = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = cleaned.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
        && rest[..i].contains("column")
    {
        cleaned = &rest[i + 2..];
    }
    if let Some(i) = cleaned.rfind(" at line ") {
        cleaned = &cleaned[..i];
    }
    if let Some(what) = cleaned.strip_prefix("budget breached: ") {
        return budget_message(what);
    }
    format!("invalid YAML: {cleaned}")
}

/// A parser budget that was exceeded, in plain words (the budget's name is
/// the first word of serde-saphyr's `Debug` text, e.g. `Depth { depth: 65 }`).
fn budget_message(what: &str) -> String {
    let name = what.split([' ', '{', '(']).next().unwrap_or("");
    let why = match name {
        "Documents" => return "the file holds more than one YAML document: only one document per spec".into(),
        "Depth" => format!("the file nests deeper than {MAX_DEPTH} levels"),
        "Aliases" | "AliasAnchors" | "Anchors" | "RecordedAnchorEvents" | "AliasReplayEvents" => {
            "the file uses too many YAML anchors or aliases".into()
        }
        "Events" | "Nodes" => "the file has too many values".into(),
        _ => "the file is too large".into(),
    };
    format!("{why}; it is refused as too large or too deeply nested to be a spec")
}

fn too_large(len: usize) -> ParseError {
    ParseError {
        loc: Loc::new(1, 1),
        message: format!("the file is {len} bytes; costgate reads at most {MAX_INPUT_BYTES} bytes"),
    }
}

// ---------------------------------------------------------------- TOML ----

/// Parse TOML text into a [`Node`].
pub fn parse_toml(text: &str) -> Result<Node, ParseError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(too_large(text.len()));
    }
    let table = toml::de::DeTable::parse(text).map_err(|e| {
        let loc = e
            .span()
            .map(|s| Loc::from_offset(text, s.start))
            .unwrap_or(Loc::UNKNOWN);
        let msg = e.message().trim().to_string();
        ParseError {
            loc,
            message: format!("invalid TOML: {msg}"),
        }
    })?;
    let span = table.span();
    let root = table.into_inner();
    convert_table(text, root, Loc::from_offset(text, span.start), 0)
}

fn convert_table(text: &str, table: toml::de::DeTable<'_>, loc: Loc, depth: usize) -> Result<Node, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError {
            loc,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    let mut entries = Vec::with_capacity(table.len());
    for (k, v) in table {
        let key = Key {
            name: k.get_ref().to_string(),
            loc: Loc::from_offset(text, k.span().start),
        };
        entries.push((key, convert_value(text, v, depth + 1)?));
    }
    Ok(Node {
        value: Value::Map(entries),
        loc,
    })
}

fn convert_value(text: &str, v: toml::Spanned<toml::de::DeValue<'_>>, depth: usize) -> Result<Node, ParseError> {
    use toml::de::DeValue;
    let loc = Loc::from_offset(text, v.span().start);
    if depth > MAX_DEPTH {
        return Err(ParseError {
            loc,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    let value = match v.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        DeValue::Integer(i) => {
            let raw = i.as_str().replace('_', "");
            match i64::from_str_radix(
                raw.trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b"),
                i.radix(),
            ) {
                Ok(n) => Value::Int(n),
                Err(_) => {
                    return Err(ParseError {
                        loc,
                        message: format!("the integer `{}` is out of range", i.as_str()),
                    });
                }
            }
        }
        DeValue::Float(f) => {
            let raw = f.as_str().replace('_', "");
            let parsed = match raw.as_str() {
                "inf" | "+inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" | "+nan" | "-nan" => f64::NAN,
                other => other.parse().map_err(|_| ParseError {
                    loc,
                    message: format!("`{other}` is not a number"),
                })?,
            };
            Value::Float(parsed)
        }
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(d) => Value::Date(d.to_string()),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(convert_value(text, item, depth + 1)?);
            }
            Value::Seq(out)
        }
        DeValue::Table(t) => return convert_table(text, t, loc, depth + 1),
    };
    Ok(Node { value, loc })
}

/// Parse by file extension: `.toml` is TOML, anything else YAML.
pub fn parse_by_extension(path: &str, text: &str) -> Result<Node, ParseError> {
    if path.to_ascii_lowercase().ends_with(".toml") {
        parse_toml(text)
    } else {
        parse_yaml(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(n: &'a Node, key: &str) -> &'a Node {
        match &n.value {
            Value::Map(m) => &m.iter().find(|(k, _)| k.name == key).unwrap().1,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn yaml_values_carry_their_line_and_column() {
        let n = parse_yaml("a: 1\nb:\n  c: [2.5, x]\n  d: {p50: 3}\n").unwrap();
        assert_eq!(get(&n, "a").loc, Loc::new(1, 4));
        let c = get(get(&n, "b"), "c");
        match &c.value {
            Value::Seq(items) => {
                assert_eq!(items[0].value, Value::Float(2.5));
                assert_eq!(items[1].loc, Loc::new(3, 12));
            }
            _ => panic!(),
        }
        let d = get(get(&n, "b"), "d");
        assert_eq!(get(d, "p50").loc, Loc::new(4, 12));
    }

    #[test]
    fn yaml_special_floats_are_parsed_for_validation_to_refuse() {
        let n = parse_yaml("a: .nan\nb: .inf\n").unwrap();
        assert!(matches!(get(&n, "a").value, Value::Float(f) if f.is_nan()));
        assert!(matches!(get(&n, "b").value, Value::Float(f) if f.is_infinite()));
    }

    #[test]
    fn toml_values_carry_their_line_and_column() {
        let n = parse_toml("x = 1\n[t]\ny = \"s\"\nz = [1, 2.0]\n").unwrap();
        assert_eq!(get(&n, "x").loc, Loc::new(1, 5));
        let t = get(&n, "t");
        assert_eq!(get(t, "y").loc, Loc::new(3, 5));
        assert_eq!(get(t, "y").value, Value::Str("s".into()));
    }

    #[test]
    fn yaml_alias_bomb_is_refused_quickly() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let err = parse_yaml(&y).unwrap_err();
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        assert!(!err.message.is_empty());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let y = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_yaml(&y).is_err());
        let t = format!("a = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_toml(&t).is_err());
    }

    #[test]
    fn duplicate_yaml_keys_are_errors() {
        let err = parse_yaml("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.loc.line, 2);
    }
}
