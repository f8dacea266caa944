//! Where a value came from in an input file, and the problems found in input.
//!
//! Every problem costgate reports about a spec, a policy or a price catalog
//! carries the file, the 1-based line and column, and the field's path
//! (`tiers[1].limit.on_limit`), so an editor or a CI annotation can point at it.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::untrusted::{clean, clean_message};

/// A 1-based line and column; `line == 0` means "not known" (for example a
/// value that came from a built-in default rather than a file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Loc {
    /// 1-based line (0: not known).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Loc {
    /// Not known.
    pub const UNKNOWN: Loc = Loc { line: 0, column: 0 };

    /// Line and column.
    pub fn new(line: u32, column: u32) -> Self {
        Loc { line, column }
    }

    pub(crate) fn is_known(self) -> bool {
        self.line > 0
    }

    /// Line and column of a byte offset in `text` (columns count characters).
    pub fn from_offset(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() as u32 + 1;
        Loc { line, column }
    }
}

/// A place in a named file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The file as named.
    pub file: Arc<str>,
    /// 1-based line (0: not known).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The field's path inside the file, e.g. `tiers[0].limit.daily_tokens`.
    pub path: String,
}

impl Span {
    /// A span of `file` at `loc`.
    pub fn new(file: &Arc<str>, loc: Loc, path: impl Into<String>) -> Self {
        Span {
            file: Arc::clone(file),
            line: loc.line,
            column: loc.column,
            path: path.into(),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = clean(&self.file);
        if self.line > 0 {
            write!(f, "{file}:{}:{}", self.line, self.column)
        } else {
            write!(f, "{file}")
        }
    }
}

/// What kind of thing is wrong with an input file: a stable kebab-case
/// code, documented in the README ("Input problem codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    /// The file cannot be read: missing, not a regular file, too large, not UTF-8.
    Unreadable,
    /// The file does not parse as YAML, TOML or JSON.
    Syntax,
    /// A key that nothing reads (a typo, or a field of another version).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong kind: a string where a number goes, a list where a mapping goes.
    WrongType,
    /// A number outside what the field allows: negative, zero, not finite, above 1 for a share, not whole.
    OutOfRange,
    /// Any other value the field does not allow: an unknown word, a reference to nothing, values that contradict each other.
    InvalidValue,
    /// Two specs of one run have the same feature id.
    DuplicateId,
}

impl ProblemCode {
    /// Every code, in the README's order.
    pub const ALL: &'static [ProblemCode] = &[
        ProblemCode::Unreadable,
        ProblemCode::Syntax,
        ProblemCode::UnknownField,
        ProblemCode::MissingField,
        ProblemCode::WrongType,
        ProblemCode::OutOfRange,
        ProblemCode::InvalidValue,
        ProblemCode::DuplicateId,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Unreadable => "unreadable",
            ProblemCode::Syntax => "syntax",
            ProblemCode::UnknownField => "unknown-field",
            ProblemCode::MissingField => "missing-field",
            ProblemCode::WrongType => "wrong-type",
            ProblemCode::OutOfRange => "out-of-range",
            ProblemCode::InvalidValue => "invalid-value",
            ProblemCode::DuplicateId => "duplicate-id",
        }
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One thing wrong with an input file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// What kind of problem it is (stable; see the README).
    pub code: ProblemCode,
    /// Where.
    pub span: Span,
    /// What is wrong (quotes input; printed inert).
    pub message: String,
    /// What to do about it, if costgate knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A problem as printed, ruff-style: the place first (editors and CI
/// problem matchers read `FILE:LINE:COL:`), its code in brackets at the end
/// of the message, the hint on its own line:
/// ``t.yaml:3:5: `tiers[0].users`: must be above 0 [out-of-range]``.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The file, the field path (keys from the input) and the message
        // (which quotes input) are shown as one inert line each.
        write!(f, "{}: ", self.span)?;
        if !self.span.path.is_empty() {
            write!(f, "`{}`: ", clean(&self.span.path))?;
        }
        write!(f, "{} [{}]", clean_message(&self.message), self.code.as_str())?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", clean_message(hint))?;
        }
        Ok(())
    }
}

/// Collects problems during one validation pass; nothing stops at the first.
#[derive(Debug)]
pub struct Problems {
    file: Arc<str>,
    items: Vec<Problem>,
}

impl Problems {
    /// No problem yet, in `file`.
    pub fn new(file: &Arc<str>) -> Self {
        Problems {
            file: Arc::clone(file),
            items: Vec::new(),
        }
    }

    /// The file problems are reported in.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// A [`ProblemCode::InvalidValue`] problem.
    pub fn push(&mut self, loc: Loc, path: &str, message: impl Into<String>) {
        self.items.push(Problem {
            code: ProblemCode::InvalidValue,
            span: Span::new(&self.file, loc, path),
            message: message.into(),
            hint: None,
        });
    }

    /// A [`ProblemCode::InvalidValue`] problem with a hint.
    pub fn push_hint(&mut self, loc: Loc, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.push_as(ProblemCode::InvalidValue, loc, path, message, Some(hint.into()));
    }

    /// A problem of the given kind.
    pub fn push_as(
        &mut self,
        code: ProblemCode,
        loc: Loc,
        path: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.items.push(Problem {
            code,
            span: Span::new(&self.file, loc, path),
            message: message.into(),
            hint,
        });
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn into_vec(self) -> Vec<Problem> {
        self.items
    }

    /// Add problems found elsewhere.
    pub fn extend(&mut self, other: Vec<Problem>) {
        self.items.extend(other);
    }
}

/// The closest names to `wanted` among `known`, best first (for "did you mean").
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let wanted_l = wanted.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| {
            let kl = k.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&wanted_l, &kl);
            if kl.contains(&wanted_l) || wanted_l.contains(&kl) {
                score += 0.1;
            }
            (score, k)
        })
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(n).map(|(_, k)| k).collect()
}

/// "did you mean `a`, `b`?"; `None` when there is no candidate.
pub fn did_you_mean(candidates: &[&str]) -> Option<String> {
    if candidates.is_empty() {
        None
    } else {
        let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        Some(format!("did you mean {}?", list.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a: 1\nbé: 2\n";
        assert_eq!(Loc::from_offset(text, 0), Loc::new(1, 1));
        assert_eq!(Loc::from_offset(text, 5), Loc::new(2, 1));
        // 'é' is two bytes but one column
        assert_eq!(Loc::from_offset(text, 9), Loc::new(2, 4));
    }

    #[test]
    fn closest_names_rank_by_similarity() {
        let known = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o"];
        assert_eq!(closest("claude-sonet-4-5", known, 2)[0], "claude-sonnet-4-5");
        assert!(closest("zzzz", known, 3).is_empty());
    }
}
