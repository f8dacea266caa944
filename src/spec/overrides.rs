//! What-if overrides from the command line: `--set [FEATURE:]PATH=VALUE`.
//!
//! An override replaces (or adds) one field of a spec for one run. It is
//! applied to the parsed [`Node`] tree, before [`super::decode`], so the
//! value is validated exactly as if it were written in the file, YAML and
//! TOML alike. The nodes it puts in the tree carry no line or column
//! ([`Loc::UNKNOWN`]): nothing points at a line of the file that does not
//! hold the value, and a problem at or under an overridden field is
//! attributed to the flag ([`attribute`]).
//!
//! PATH is dot-separated keys. In a list, a key names the item whose `name`
//! is that key (`tiers.pro`), or, failing that, a number is an index
//! (`tiers.1`); `tiers[1]` is always an index. A key with a dot in it is
//! quoted: `tiers."pro.v2".limit`. VALUE is one YAML value: a scalar
//! (`20000`, `claude-haiku-4-5`) or a flow mapping or list (`{p50: 5, p95: 14}`).
//! A mapping key that does not exist yet is added (with the mappings on the
//! way to it); a list item that does not exist, or a path through something
//! that is not a mapping or a list, is an error of the flag.

use serde::Serialize;

use crate::input::node::{self, Key, Node, Value};
use crate::source::{Loc, Problem};

/// Flag text longer than this many characters is cut in messages and reports.
const SHOWN_CHARS: usize = 80;

/// One `--set` argument, parsed: where and what, not yet applied to a spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The argument as given (what follows `--set`).
    pub flag: String,
    /// With a `FEATURE:` prefix, the feature id of the one spec it applies to.
    pub feature: Option<String>,
    steps: Vec<Step>,
    value: Node,
}

/// One step of a PATH.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    /// A mapping key, or in a list the `name` of an item (else a number as an index).
    Key(String),
    /// `[N]`: an index into a list.
    Index(usize),
}

impl Override {
    /// The flag as messages name it: `--set PATH=VALUE`, cut when long.
    pub fn shown(&self) -> String {
        flag_label(&self.flag)
    }
}

/// An override as applied to one spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Applied {
    /// The argument as given, `--set` included.
    pub flag: String,
    /// The field it set, as problems and findings name it (`tiers[1].limit.daily_tokens`).
    pub path: String,
    /// The value it set (the flag's YAML as JSON).
    pub value: serde_json::Value,
    /// The highest node the override replaced or created: every problem at
    /// or under it is the flag's.
    #[serde(skip)]
    pub root: String,
}

impl Applied {
    /// The flag as people read it: `--set PATH=VALUE`, cut when long (not
    /// yet made inert: callers print through [`crate::untrusted::clean`]).
    pub fn shown(&self) -> String {
        cut(&self.flag)
    }

    /// Whether the field at `path` is set, wholly or in part, by this
    /// override (`path` may end with an item's name, as the assumptions
    /// name scenarios: `scenarios[0] viral`).
    pub fn touches(&self, path: &str) -> bool {
        let field = path.split(' ').next().unwrap_or(path);
        under(path, &self.root) || under(&self.root, field)
    }
}

/// Why overrides could not be applied to the specs of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A flag that is malformed or does not fit a spec (a PATH that leads
    /// nowhere, a VALUE that is not YAML, a FEATURE no spec has): a usage
    /// error, exit 64.
    Usage(String),
    /// The specs (with the overrides applied) do not validate: exit 65.
    Invalid(Vec<Problem>),
}

impl From<Vec<Problem>> for Error {
    fn from(p: Vec<Problem>) -> Self {
        Error::Invalid(p)
    }
}

/// `s` cut to [`SHOWN_CHARS`] characters, with `…` when cut.
fn cut(s: &str) -> String {
    if s.chars().count() <= SHOWN_CHARS {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(SHOWN_CHARS).collect();
        o.push('…');
        o
    }
}

/// `--set ARG` as messages name it.
fn flag_label(arg: &str) -> String {
    format!("--set {}", cut(arg))
}

/// Whether `path` is `root` or a field under it (`root.x`, `root[1]`, or an
/// assumption's `root name`).
fn under(path: &str, root: &str) -> bool {
    if root.is_empty() {
        return true;
    }
    match path.strip_prefix(root) {
        Some("") => true,
        Some(rest) => rest.starts_with(['.', '[', ' ']),
        None => false,
    }
}

/// Parse one `--set` argument (`[FEATURE:]PATH=VALUE`). The error names the
/// flag and says what is wrong with it.
pub fn parse(arg: &str) -> Result<Override, String> {
    let fail = |why: String| Err(format!("{}: {why}", flag_label(arg)));
    let Some((target, value_text)) = arg.split_once('=') else {
        return fail("expected PATH=VALUE (for example `tiers.pro.limit.daily_tokens=20000`)".into());
    };
    let (feature, path) = match split_feature(target) {
        Some((f, p)) => {
            if f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return fail(format!(
                    "`{}` is not a feature id (letters, digits, `-`, `_` or `.`) before `:`",
                    cut(f)
                ));
            }
            (Some(f.to_string()), p)
        }
        None => (None, target),
    };
    let steps = match parse_path(path.trim()) {
        Ok(s) => s,
        Err(why) => return fail(why),
    };
    if value_text.trim().is_empty() {
        return fail("no VALUE after `=`: write `null` to remove a field's value, `''` for an empty string".into());
    }
    let mut value = match node::parse_yaml(value_text) {
        Ok(v) => v,
        Err(e) => {
            return fail(format!(
                "VALUE is not one YAML value: {}",
                e.message.replace("the file", "the value")
            ));
        }
    };
    unlocate(&mut value);
    Ok(Override {
        flag: arg.to_string(),
        feature,
        steps,
        value,
    })
}

/// The `FEATURE:` prefix of a target and the PATH after it: the first `:`
/// outside quotes, if any.
fn split_feature(target: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in target.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&target[..i], &target[i + 1..])),
            _ => {}
        }
    }
    None
}

fn parse_path(s: &str) -> Result<Vec<Step>, String> {
    if s.is_empty() {
        return Err("PATH is empty: name the field to set, e.g. `models.primary`".into());
    }
    let mut steps = Vec::new();
    let mut rest = s;
    loop {
        // a key: quoted, or bare up to `.` or `[`
        if let Some(q) = rest.strip_prefix('"') {
            let Some(end) = q.find('"') else {
                return Err(format!("unclosed quote in PATH `{}`", cut(s)));
            };
            if end == 0 {
                return Err(format!("an empty key `\"\"` in PATH `{}`", cut(s)));
            }
            steps.push(Step::Key(q[..end].to_string()));
            rest = &q[end + 1..];
        } else {
            let end = rest.find(['.', '[', ']', '"']).unwrap_or(rest.len());
            if end == 0 {
                return Err(format!(
                    "an empty key in PATH `{}`: keys are separated by single dots",
                    cut(s)
                ));
            }
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        // indexes
        while let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return Err(format!("unclosed `[` in PATH `{}`", cut(s)));
            };
            let digits = &r[..end];
            match digits.parse::<usize>() {
                Ok(i) if digits.chars().all(|c| c.is_ascii_digit()) => steps.push(Step::Index(i)),
                _ => {
                    return Err(format!(
                        "`[{}]` in PATH `{}` is not an index (a whole number from 0)",
                        cut(digits),
                        cut(s)
                    ));
                }
            }
            rest = &r[end + 1..];
        }
        if rest.is_empty() {
            return Ok(steps);
        }
        match rest.strip_prefix('.') {
            Some(r) if !r.is_empty() => rest = r,
            Some(_) => return Err(format!("PATH `{}` ends with a dot", cut(s))),
            None => {
                return Err(format!(
                    "unexpected `{}` in PATH `{}`",
                    rest.chars().next().unwrap_or(' '),
                    cut(s)
                ));
            }
        }
    }
}

/// Forget the places of a value parsed from the flag: they are columns of
/// the flag, not of the spec.
fn unlocate(n: &mut Node) {
    n.loc = Loc::UNKNOWN;
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(unlocate),
        Value::Map(entries) => {
            for (k, v) in entries {
                k.loc = Loc::UNKNOWN;
                unlocate(v);
            }
        }
        _ => {}
    }
}

/// The feature id a spec tree declares (`feature.id`), if it is a string.
pub fn feature_id(root: &Node) -> Option<&str> {
    fn get<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
        match &n.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }
    match &get(get(root, "feature")?, "id")?.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// Apply `overrides` to the tree of the spec `file`, in order (a later one
/// wins): those with a `FEATURE:` prefix only when the tree's feature id is
/// that one. Returns what was applied; an error (naming the flag and the
/// file) for a PATH that leads nowhere in this spec.
pub fn apply(root: &mut Node, file: &str, overrides: &[Override]) -> Result<Vec<Applied>, String> {
    let id = feature_id(root).map(str::to_string);
    let mut applied = Vec::new();
    for o in overrides {
        if o.feature.is_some() && o.feature != id {
            continue;
        }
        let (path, root_path) = set(root, &o.steps, &o.value)
            .map_err(|why| format!("{}: in {}, {why}", flag_label(&o.flag), crate::untrusted::clean(file)))?;
        applied.push(Applied {
            flag: format!("--set {}", o.flag),
            path,
            value: to_json(&o.value),
            root: root_path,
        });
    }
    Ok(applied)
}

/// How messages name a field path (the top level has none).
fn named(path: &str) -> String {
    if path.is_empty() {
        "the spec's top level".into()
    } else {
        format!("`{path}`")
    }
}

/// Put `value` at `steps` under `root`: the field path it landed at and the
/// highest node replaced or created.
fn set(root: &mut Node, steps: &[Step], value: &Node) -> Result<(String, String), String> {
    let mut cur = root;
    let mut path = String::new();
    let mut created: Option<String> = None;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let kind = cur.value.kind();
        cur = match (&mut cur.value, step) {
            (Value::Map(entries), Step::Key(k)) => {
                path = crate::input::read::child(&path, k);
                let at = match entries.iter().position(|(key, _)| key.name == *k) {
                    Some(at) => at,
                    None => {
                        created.get_or_insert_with(|| path.clone());
                        entries.push((
                            Key {
                                name: k.clone(),
                                loc: Loc::UNKNOWN,
                            },
                            Node {
                                value: Value::Map(Vec::new()),
                                loc: Loc::UNKNOWN,
                            },
                        ));
                        entries.len() - 1
                    }
                };
                &mut entries[at].1
            }
            (Value::Seq(items), step) => {
                let at = match step {
                    Step::Index(n) => *n,
                    Step::Key(k) => match items.iter().position(|it| item_name(it) == Some(k.as_str())) {
                        Some(at) => at,
                        None => match k.parse::<usize>() {
                            Ok(n) if k.chars().all(|c| c.is_ascii_digit()) => n,
                            _ => return Err(no_item(&path, items, k)),
                        },
                    },
                };
                if at >= items.len() {
                    return Err(format!(
                        "{} has {} item{}, so there is no item [{at}] (an override cannot add one)",
                        named(&path),
                        items.len(),
                        if items.len() == 1 { "" } else { "s" }
                    ));
                }
                path = crate::input::read::index(&path, at);
                &mut items[at]
            }
            (Value::Map(_), Step::Index(n)) => {
                return Err(format!(
                    "{} is a mapping, not a list: `[{n}]` indexes a list",
                    named(&path)
                ));
            }
            (_, _) => {
                return Err(format!(
                    "{} is {kind}, not a mapping or a list: there is nothing under it to set",
                    named(&path)
                ));
            }
        };
        if last {
            *cur = value.clone();
        }
    }
    let root_path = created.unwrap_or_else(|| path.clone());
    Ok((path, root_path))
}

/// The `name` of a list item that is a mapping with a string `name`.
fn item_name(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Map(m) => m
            .iter()
            .find(|(k, _)| k.name == "name")
            .and_then(|(_, v)| match &v.value {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            }),
        _ => None,
    }
}

fn no_item(path: &str, items: &[Node], wanted: &str) -> String {
    let names: Vec<&str> = items.iter().filter_map(item_name).collect();
    let mut m = format!("no item of {} is named `{}`", named(path), cut(wanted));
    if names.is_empty() {
        m.push_str(&format!(
            " (its items have no names: give an index from 0 to {})",
            items.len().saturating_sub(1)
        ));
    } else {
        let near = crate::source::closest(wanted, names.iter().copied(), 1);
        let shown: Vec<String> = names.iter().map(|n| cut(n)).collect();
        m.push_str(&format!(" (its items: {})", shown.join(", ")));
        if let Some(d) = crate::source::did_you_mean(&near) {
            m.push_str(&format!("; {d}"));
        }
    }
    m
}

/// A value of the tree as JSON (non-finite numbers, which the spec refuses
/// anyway, as their text).
fn to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number),
        Value::Str(s) | Value::Date(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.name.clone(), to_json(v))).collect()),
    }
}

/// Attribute to their flag the problems at or under a field an override
/// set: their place becomes the flag (`--set PATH=VALUE`), not a line of a
/// file that does not hold the value.
pub fn attribute(problems: &mut [Problem], applied: &[Applied]) {
    for p in problems {
        // the last override that touched it wins, as it did in the tree
        if let Some(a) = applied.iter().rev().find(|a| under(&p.span.path, &a.root)) {
            p.span.file = std::sync::Arc::from(a.shown().as_str());
            p.span.line = 0;
            p.span.column = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(y: &str) -> Node {
        node::parse_yaml(y).unwrap()
    }

    const SPEC: &str = "feature: {id: f}\ntiers:\n  - name: free\n    limit: {daily_tokens: 1}\n  - name: pro\n    limit: {daily_tokens: 2}\n";

    #[test]
    fn paths_parse_into_keys_and_indexes() {
        let o = parse("tiers[1].accounts.0.\"a.b\"=3").unwrap();
        assert_eq!(
            o.steps,
            vec![
                Step::Key("tiers".into()),
                Step::Index(1),
                Step::Key("accounts".into()),
                Step::Key("0".into()),
                Step::Key("a.b".into())
            ]
        );
        assert_eq!(o.value.value, Value::Int(3));
        assert_eq!(o.feature, None);
        let o = parse("my-bot:usage.x={p50: 5, p95: 14}").unwrap();
        assert_eq!(o.feature.as_deref(), Some("my-bot"));
        assert!(matches!(o.value.value, Value::Map(ref m) if m.len() == 2));
        assert_eq!(o.value.loc, Loc::UNKNOWN);
    }

    #[test]
    fn malformed_flags_say_what_is_wrong() {
        for (arg, says) in [
            ("tiers.pro", "expected PATH=VALUE"),
            ("=5", "PATH is empty"),
            ("a..b=1", "an empty key"),
            ("a.=1", "ends with a dot"),
            ("a[x]=1", "is not an index"),
            ("a[1=1", "unclosed `[`"),
            ("\"a=1", "unclosed quote"),
            ("a=", "no VALUE"),
            ("a={p50: 5", "not one YAML value"),
            ("b@d:a=1", "is not a feature id"),
        ] {
            let e = parse(arg).unwrap_err();
            assert!(e.starts_with(&format!("--set {arg}: ")), "{e}");
            assert!(e.contains(says), "{arg}: {e}");
        }
    }

    #[test]
    fn names_and_indexes_reach_the_same_item_and_missing_keys_are_added() {
        for path in [
            "tiers.pro.limit.daily_tokens",
            "tiers[1].limit.daily_tokens",
            "tiers.1.limit.daily_tokens",
        ] {
            let mut t = tree(SPEC);
            let a = apply(&mut t, "s.yaml", &[parse(&format!("{path}=7")).unwrap()]).unwrap();
            assert_eq!(a[0].path, "tiers[1].limit.daily_tokens");
            assert_eq!(a[0].root, "tiers[1].limit.daily_tokens");
            assert_eq!(a[0].value, serde_json::json!(7));
            let expected = tree(&SPEC.replace("daily_tokens: 2", "daily_tokens: 7"));
            assert_eq!(to_json(&t), to_json(&expected));
        }
        // a key that is not there yet, with the mapping on the way to it
        let mut t = tree(SPEC);
        let a = apply(&mut t, "s.yaml", &[parse("tiers.free.top_up.uptake=0.1").unwrap()]).unwrap();
        assert_eq!(a[0].path, "tiers[0].top_up.uptake");
        assert_eq!(a[0].root, "tiers[0].top_up");
        assert!(a[0].touches("tiers[0].top_up"));
        assert!(a[0].touches("tiers[0].top_up.uptake"));
        assert!(!a[0].touches("tiers[0].top_upx"));
        assert_eq!(to_json(&t)["tiers"][0]["top_up"], serde_json::json!({"uptake": 0.1}));
    }

    #[test]
    fn paths_that_lead_nowhere_are_errors_naming_flag_and_file() {
        for (arg, says) in [
            (
                "tiers.prox.limit.daily_tokens=1",
                "no item of `tiers` is named `prox` (its items: free, pro); did you mean `pro`?",
            ),
            (
                "tiers[2].limit=1",
                "`tiers` has 2 items, so there is no item [2] (an override cannot add one)",
            ),
            (
                "tiers.free.limit.daily_tokens.x=1",
                "`tiers[0].limit.daily_tokens` is a number, not a mapping or a list: there is nothing under it to set",
            ),
            (
                "feature[0]=1",
                "`feature` is a mapping, not a list: `[0]` indexes a list",
            ),
        ] {
            let mut t = tree(SPEC);
            let e = apply(&mut t, "s.yaml", &[parse(arg).unwrap()]).unwrap_err();
            assert_eq!(e, format!("--set {arg}: in s.yaml, {says}"));
        }
    }

    #[test]
    fn a_feature_prefix_applies_to_that_feature_only() {
        let mut t = tree(SPEC);
        let a = apply(&mut t, "s.yaml", &[parse("other:tiers.nope=1").unwrap()]).unwrap();
        assert!(a.is_empty());
        let a = apply(&mut t, "s.yaml", &[parse("f:tiers.pro.limit.daily_tokens=9").unwrap()]).unwrap();
        assert_eq!(a[0].flag, "--set f:tiers.pro.limit.daily_tokens=9");
    }

    #[test]
    fn problems_under_an_override_point_at_the_flag() {
        let mut t = tree(SPEC);
        let a = apply(&mut t, "s.yaml", &[parse("tiers.pro.limit.daily_tokens=-5").unwrap()]).unwrap();
        let file: std::sync::Arc<str> = "s.yaml".into();
        let mut ps = vec![
            Problem {
                code: crate::source::ProblemCode::OutOfRange,
                span: crate::source::Span::new(&file, Loc::UNKNOWN, "tiers[1].limit.daily_tokens"),
                message: "must be above 0".into(),
                hint: None,
            },
            Problem {
                code: crate::source::ProblemCode::OutOfRange,
                span: crate::source::Span::new(&file, Loc::new(4, 5), "tiers[0].limit.daily_tokens"),
                message: "x".into(),
                hint: None,
            },
        ];
        attribute(&mut ps, &a);
        assert_eq!(
            ps[0].to_string(),
            "--set tiers.pro.limit.daily_tokens=-5: `tiers[1].limit.daily_tokens`: must be above 0 [out-of-range]"
        );
        assert_eq!(&*ps[1].span.file, "s.yaml");
        assert_eq!(ps[1].span.line, 4);
    }

    #[test]
    fn long_flags_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let e = parse(&format!("a.{long}")).unwrap_err();
        assert!(e.chars().count() < 300, "{}", e.len());
        assert!(e.contains('…'));
    }
}
