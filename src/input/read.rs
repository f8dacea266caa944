//! Reading typed values out of a [`Node`] tree, collecting every problem.
//!
//! Each reader knows the field path it is at, so a problem says
//! `tiers[1].limit.on_limit` as well as the line and column.

use crate::input::node::{Key, Node, Value};
use crate::source::{Loc, ProblemCode, Problems, closest, did_you_mean};

/// Reads the entries of one mapping, remembering which keys were asked for so
/// that [`MapReader::finish`] can report the ones nobody asked for (typos).
pub struct MapReader<'n> {
    /// The mapping's field path.
    pub path: String,
    /// Where the mapping is.
    pub loc: Loc,
    entries: &'n [(Key, Node)],
    used: Vec<bool>,
    known: Vec<&'static str>,
}

impl<'n> MapReader<'n> {
    /// `None` (and a problem) when `node` is not a mapping.
    pub fn new(p: &mut Problems, node: &'n Node, path: &str) -> Option<Self> {
        match &node.value {
            Value::Map(entries) => Some(MapReader {
                path: path.to_string(),
                loc: node.loc,
                entries,
                used: vec![false; entries.len()],
                known: Vec::new(),
            }),
            other => {
                p.push_as(
                    ProblemCode::WrongType,
                    node.loc,
                    path,
                    format!("expected a mapping of fields, found {}", other.kind()),
                    None,
                );
                None
            }
        }
    }

    pub(crate) fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.path, name)
        }
    }

    /// The value of `name`, if present.
    pub fn get(&mut self, name: &'static str) -> Option<&'n Node> {
        self.known.push(name);
        let idx = self.entries.iter().position(|(k, _)| k.name == name)?;
        self.used[idx] = true;
        Some(&self.entries[idx].1)
    }

    /// The value of `name`; a problem when it is missing.
    pub fn require(&mut self, p: &mut Problems, name: &'static str, what: &str) -> Option<&'n Node> {
        let v = self.get(name);
        if v.is_none() {
            p.push_as(
                ProblemCode::MissingField,
                self.loc,
                &self.path,
                format!("missing required field `{name}`"),
                Some(what.to_string()),
            );
        }
        v
    }

    /// Whether the mapping has the key `name` (without marking it read).
    pub fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == name)
    }

    /// The mapping's keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'n Key> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Report every key that was never asked for.
    pub fn finish(self, p: &mut Problems) {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                let near = closest(&key.name, self.known.iter().copied(), 2);
                let hint = did_you_mean(&near).unwrap_or_else(|| {
                    let mut known = self.known.clone();
                    known.sort_unstable();
                    known.dedup();
                    format!("known fields here: {}", known.join(", "))
                });
                p.push_as(
                    ProblemCode::UnknownField,
                    key.loc,
                    &self.child_path(&key.name),
                    format!("unknown field `{}`", key.name),
                    Some(hint),
                );
            }
        }
    }
}

/// The field path of `name` under `path` (`a.b`; `b` at the top).
pub fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The largest number an input may hold anywhere, in YAML and TOML alike (a
/// count, token number, price, budget, multiplier or threshold), and the
/// most negative: 1,000,000,000. Past it, figures lose their meaning (a
/// month of `1e308` users is infinite).
pub const MAX_NUMBER: f64 = 1e9;

/// A finite number within [`MAX_NUMBER`] either side of zero (integers are
/// accepted as numbers). Every number the readers take goes through here, so
/// one past the limit is refused at its own line, column and field path.
pub fn number(p: &mut Problems, node: &Node, path: &str) -> Option<f64> {
    let v = match node.value {
        Value::Int(i) => i as f64,
        Value::Float(f) if f.is_finite() => f,
        Value::Float(f) => {
            p.push_as(
                ProblemCode::OutOfRange,
                node.loc,
                path,
                format!("`{f}` is not a finite number"),
                Some("write a plain number; NaN and infinity cannot be priced".into()),
            );
            return None;
        }
        ref other => {
            p.push_as(
                ProblemCode::WrongType,
                node.loc,
                path,
                format!("expected a number, found {}", other.kind()),
                None,
            );
            return None;
        }
    };
    if v.abs() > MAX_NUMBER {
        let shown = if v.abs() >= 1e15 {
            format!("{v:e}")
        } else {
            v.to_string()
        };
        p.push_as(
            ProblemCode::OutOfRange,
            node.loc,
            path,
            format!(
                "`{shown}` is {} than costgate accepts",
                if v > 0.0 { "larger" } else { "more negative" }
            ),
            Some("every number costgate reads is at most 1,000,000,000 (1e9) either side of zero".into()),
        );
        return None;
    }
    Some(v)
}

/// A finite number that is zero or more.
pub fn non_negative(p: &mut Problems, node: &Node, path: &str) -> Option<f64> {
    let v = number(p, node, path)?;
    if v < 0.0 {
        p.push_as(
            ProblemCode::OutOfRange,
            node.loc,
            path,
            format!("`{v}` is negative"),
            Some("use zero or a positive number".into()),
        );
        return None;
    }
    Some(v)
}

/// A finite number strictly above zero.
pub fn positive(p: &mut Problems, node: &Node, path: &str) -> Option<f64> {
    let v = number(p, node, path)?;
    if v <= 0.0 {
        p.push_as(
            ProblemCode::OutOfRange,
            node.loc,
            path,
            format!("`{v}` must be above zero"),
            Some("use a positive number".into()),
        );
        return None;
    }
    Some(v)
}

/// A share in 0..=1.
pub fn share(p: &mut Problems, node: &Node, path: &str) -> Option<f64> {
    let v = number(p, node, path)?;
    if !(0.0..=1.0).contains(&v) {
        p.push_as(
            ProblemCode::OutOfRange,
            node.loc,
            path,
            format!("`{v}` is outside 0..1"),
            Some("a share is a fraction: 0.25 means 25%".into()),
        );
        return None;
    }
    Some(v)
}

/// A whole number of at least `min`.
pub fn whole(p: &mut Problems, node: &Node, path: &str, min: i64) -> Option<i64> {
    let v = number(p, node, path)?;
    // `number` keeps `v` within MAX_NUMBER, so it fits an i64.
    if v.fract() != 0.0 || v < min as f64 {
        p.push_as(
            ProblemCode::OutOfRange,
            node.loc,
            path,
            format!("expected a whole number of at least {min}, found `{v}`"),
            None,
        );
        return None;
    }
    Some(v as i64)
}

/// The string (or TOML date) at `node`; a problem otherwise.
pub fn string(p: &mut Problems, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Date(s) => Some(s.clone()),
        other => {
            p.push_as(
                ProblemCode::WrongType,
                node.loc,
                path,
                format!("expected a string, found {}", other.kind()),
                None,
            );
            None
        }
    }
}

/// A non-empty string.
pub fn name(p: &mut Problems, node: &Node, path: &str) -> Option<String> {
    let s = string(p, node, path)?;
    if s.trim().is_empty() {
        p.push(node.loc, path, "must not be empty");
        return None;
    }
    Some(s)
}

/// One of a fixed set of words.
pub fn word<T: Copy>(p: &mut Problems, node: &Node, path: &str, options: &[(&'static str, T)]) -> Option<T> {
    let s = string(p, node, path)?;
    if let Some((_, v)) = options.iter().find(|(w, _)| *w == s) {
        return Some(*v);
    }
    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    let near = closest(&s, words.iter().copied(), 1);
    let mut hint = format!("one of: {}", words.join(" | "));
    if let Some(d) = did_you_mean(&near) {
        hint = format!("{d} ({hint})");
    }
    p.push_hint(node.loc, path, format!("`{s}` is not a valid value"), hint);
    None
}

pub(crate) fn seq<'n>(p: &mut Problems, node: &'n Node, path: &str) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        other => {
            p.push_as(
                ProblemCode::WrongType,
                node.loc,
                path,
                format!("expected a list, found {}", other.kind()),
                None,
            );
            None
        }
    }
}
