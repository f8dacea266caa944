//! Rewriting fields of a spec file in place, keeping everything else: the
//! other fields, their order and the comments (YAML and TOML both keep
//! comments). `costgate calibrate --spec` writes its fitted quantities
//! through this.
//!
//! YAML is edited as text: the located value tree (`input::node`) says where
//! each field's value starts, and the value is replaced by a flow mapping
//! (`{p50: 2, p95: 6, measured: "..."}`) on its key's line; a block value
//! below the key is removed with the lines indented under it, and the
//! comment on the key's line is kept. A field that is not in the file is
//! added as the last entry of its parent block. TOML is edited with
//! `toml_edit`, which keeps comments and layout.

use crate::dist::Dist;
use crate::input::node::{self, Node, Value};

/// A new value for one field.
#[derive(Clone, Debug, PartialEq)]
pub enum NewValue {
    /// An uncertain quantity in its spec form, with its `measured:` note.
    Quantity {
        /// The distribution.
        dist: Dist,
        /// The provenance written as `measured: "..."`.
        note: String,
    },
    /// A plain number (fields that take no distribution).
    Number(f64),
    /// A mapping of plain numbers (`power_users: {share, multiplier}`).
    Map(Vec<(String, f64)>),
    /// A string (`on_limit: fallback`, a model key), written quoted.
    Text(String),
}

/// One field to set, by its field path (`interaction.input_tokens`,
/// `tiers[0].users_per_tenant`, `usage.power_users.share`).
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    /// The field path.
    pub path: String,
    /// Its new value.
    pub value: NewValue,
}

/// What rewriting did.
#[derive(Clone, Debug, PartialEq)]
pub struct Rewritten {
    /// The new file text.
    pub text: String,
    /// The fields set, in the order of the edits.
    pub placed: Vec<String>,
    /// Fields that could not be set, with the reason (nothing is dropped
    /// silently: the caller reports these).
    pub not_placed: Vec<(String, String)>,
}

/// A number as a spec writes it: at most six significant figures, no
/// exponent for the sizes specs use, `-0` as `0`.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (5 - mag).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// The entries of a distribution in its spec form, in order.
fn dist_entries(d: &Dist) -> Vec<(&'static str, String)> {
    match d {
        Dist::Fixed { value } => vec![("value", number(*value))],
        Dist::LogNormal { p50, p95, min, max } => {
            let mut e = vec![("p50", number(*p50)), ("p95", number(*p95))];
            if let Some(m) = min {
                e.push(("min", number(*m)));
            }
            if let Some(m) = max {
                e.push(("max", number(*m)));
            }
            e
        }
        Dist::Triangular { low, mode, high } => {
            vec![("low", number(*low)), ("mode", number(*mode)), ("high", number(*high))]
        }
        Dist::Pert { low, mode, high } => vec![
            ("low", number(*low)),
            ("mode", number(*mode)),
            ("high", number(*high)),
            ("shape", "pert".into()),
        ],
        Dist::Normal { mean, sd, min, max } => {
            let mut e = vec![("mean", number(*mean)), ("sd", number(*sd))];
            if min.is_finite() {
                e.push(("min", number(*min)));
            }
            if max.is_finite() {
                e.push(("max", number(*max)));
            }
            e
        }
        Dist::Empirical { samples } => {
            let list: Vec<String> = samples.iter().map(|s| number(*s)).collect();
            vec![("samples", format!("[{}]", list.join(", ")))]
        }
    }
}

/// A string as a double-quoted YAML / TOML basic string (both read the same
/// escapes for these characters).
/// A string as a YAML scalar: plain when it is a lowercase word YAML reads
/// back as that same string (`fallback`, `mini-model`), else quoted.
fn word(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(&s);
    if plain { s.to_string() } else { quoted(s) }
}

/// `s` as a YAML double-quoted scalar that reads back as exactly `s`:
/// control characters, line and paragraph separators, the byte order mark
/// and non-characters are written as escapes (YAML 1.2, 5.7).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The YAML flow text of a new value.
pub fn yaml_value(v: &NewValue) -> String {
    match v {
        NewValue::Number(x) => number(*x),
        NewValue::Text(t) => word(t),
        NewValue::Map(entries) => {
            let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {}", number(*v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        NewValue::Quantity { dist, note } => {
            if let Dist::Fixed { value } = dist
                && note.is_empty()
            {
                return number(*value);
            }
            let mut parts: Vec<String> = match dist {
                Dist::Fixed { value } => vec![format!("p50: {0}, p95: {0}", number(*value))],
                d => dist_entries(d).into_iter().map(|(k, v)| format!("{k}: {v}")).collect(),
            };
            if !note.is_empty() {
                // A note is one line for people: its control characters
                // (line breaks) become spaces.
                parts.push(format!(
                    "measured: {}",
                    quoted(&note.replace(|c: char| c.is_control(), " "))
                ));
            }
            format!("{{{}}}", parts.join(", "))
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return None;
        }
        out.push(Seg::Key(name.to_string()));
        let mut rest = rest;
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Seg::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// Rewrite `text` (YAML, or TOML when `toml` is set) with `edits`.
pub fn rewrite(text: &str, toml: bool, edits: &[Edit]) -> Result<Rewritten, node::ParseError> {
    if toml {
        rewrite_toml(text, edits)
    } else {
        rewrite_yaml(text, edits)
    }
}

/// Whether `text` (the rewritten spec file) reads as `expected`, field by
/// field (numbers to nine significant figures, the precision a rewrite
/// writes with to spare): `Err` names the first field that does not, or
/// why the text does not load. A rewrite edits text, so this is what says
/// the file written means what was asked for (an anchor shared with
/// another field, a file changed while it was read, a construct the
/// editor does not know would each show here).
pub fn reads_as(expected: &crate::spec::Spec, text: &str) -> Result<(), String> {
    let got = crate::spec::load_str(&expected.file, text).map_err(|p| {
        p.first().map_or_else(
            || "it would not load".to_string(),
            |p| format!("it would not load: {}", p.message),
        )
    })?;
    let (a, b) = (serde_json::to_value(expected), serde_json::to_value(&got));
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err("it could not be compared".into());
    };
    match first_difference(&a, &b, "") {
        None => Ok(()),
        Some(path) => Err(format!(
            "`{}` would read differently from what was asked for",
            if path.is_empty() { "(the spec)" } else { &path }
        )),
    }
}

fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (x.as_f64()?, y.as_f64()?);
            ((x - y).abs() > 1e-9 * x.abs().max(y.abs())).then(|| path.to_string())
        }
        (J::Object(x), J::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, &sub),
                    _ => Some(sub),
                }
            })
        }
        (J::Array(x), J::Array(y)) => {
            if x.len() != y.len() {
                return Some(path.to_string());
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ => (a != b).then(|| path.to_string()),
    }
}

// ---------------------------------------------------------------- YAML ----

/// Byte offset of a 1-based (line, char column) in `lines`.
fn byte_col(line: &str, column: u32) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(line.len(), |(i, _)| i)
}

fn indent_of(line: &str) -> Option<usize> {
    let t = line.trim_start_matches(' ');
    if t.trim().is_empty() || t.starts_with('#') {
        None
    } else {
        Some(line.len() - t.len())
    }
}

/// End (byte, exclusive) of a one-line flow value or scalar starting at
/// `start`. Inside a flow collection (`flow`), a scalar also ends at the
/// `,`, `}` or `]` after it.
fn inline_end(line: &str, start: usize, flow: bool) -> usize {
    let b = line.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
                if depth == 0 {
                    return i + 1;
                }
            }
        } else {
            match c {
                // A quote opens a quoted scalar only where one starts (a
                // plain scalar may hold a quote: `it's`).
                b'"' | b'\'' if i == start || (depth > 0 && opens_scalar(&line[start..i])) => quote = Some(c),
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 && flow => return line[..i].trim_end().len(),
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b',' if depth == 0 && flow => return line[..i].trim_end().len(),
                b'#' if depth == 0 && i > start && matches!(b[i - 1], b' ' | b'\t') => {
                    return line[..i].trim_end().len();
                }
                _ => {}
            }
        }
        i += 1;
    }
    line.trim_end().len()
}

/// Whether a scalar may start after `before` inside a flow collection.
fn opens_scalar(before: &str) -> bool {
    before
        .trim_end()
        .chars()
        .last()
        .is_some_and(|c| matches!(c, '{' | '[' | ',' | ':'))
}

/// Whether the entry `segs` names sits inside a flow collection (`{...}`
/// or `[...]`) of `text`: some mapping or list it is in starts with a
/// bracket.
fn in_flow(text: &str, root: &Node, segs: &[Seg]) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    let opens = |n: &Node| {
        let Some(line) = lines.get((n.loc.line as usize).wrapping_sub(1)) else {
            return false;
        };
        let at = byte_col(line, n.loc.column);
        matches!(line.as_bytes().get(at), Some(b'{' | b'['))
    };
    (0..segs.len()).any(|k| find(root, &segs[..k]).is_some_and(opens))
}

fn find<'a>(root: &'a Node, segs: &[Seg]) -> Option<&'a Node> {
    let mut n = root;
    for s in segs {
        n = match (s, &n.value) {
            (Seg::Key(k), Value::Map(m)) => &m.iter().find(|(key, _)| &key.name == k)?.1,
            (Seg::Index(i), Value::Seq(v)) => v.get(*i)?,
            _ => return None,
        };
    }
    Some(n)
}

fn rewrite_yaml(text: &str, edits: &[Edit]) -> Result<Rewritten, node::ParseError> {
    let mut text = text.to_string();
    let mut placed = Vec::new();
    let mut not_placed = Vec::new();
    for e in edits {
        // Parse again after every edit: each one moves lines.
        let root = node::parse_yaml(&text)?;
        let Some(segs) = segments(&e.path) else {
            not_placed.push((e.path.clone(), "not a field path".into()));
            continue;
        };
        let value = yaml_value(&e.value);
        let result = match find(&root, &segs) {
            Some(_) => replace_yaml(&text, &root, &segs, &value),
            None => insert_yaml(&text, &root, &segs, &value),
        };
        match result {
            Ok(t) => {
                // The result must parse and hold the value where it was put.
                match node::parse_yaml(&t) {
                    Ok(r) if find(&r, &segs).is_some() => {
                        text = t;
                        placed.push(e.path.clone());
                    }
                    _ => not_placed.push((
                        e.path.clone(),
                        "the edited file would not read back; left as it was".into(),
                    )),
                }
            }
            Err(why) => not_placed.push((e.path.clone(), why)),
        }
    }
    Ok(Rewritten {
        text,
        placed,
        not_placed,
    })
}

fn split_lines(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

/// The key of the entry `segs` names in its parent mapping, with its node.
fn key_of<'a>(root: &'a Node, segs: &[Seg]) -> Option<(&'a node::Key, &'a Node)> {
    let (last, parent) = segs.split_last()?;
    let Seg::Key(k) = last else { return None };
    let p = find(root, parent)?;
    match &p.value {
        Value::Map(m) => m.iter().find(|(key, _)| &key.name == k).map(|(k, n)| (k, n)),
        _ => None,
    }
}

fn replace_yaml(text: &str, root: &Node, segs: &[Seg], value: &str) -> Result<String, String> {
    let (key, node) = key_of(root, segs).ok_or("not a mapping entry")?;
    let mut lines = split_lines(text);
    let kl = key.loc.line as usize - 1;
    let key_line = lines.get(kl).ok_or("out of the file")?.clone();
    let key_indent = indent_of(&key_line).unwrap_or(0);
    let kb = byte_col(&key_line, key.loc.column);
    // The colon after the key.
    let colon = key_line[kb..]
        .find(':')
        .map(|i| kb + i)
        .ok_or("it is not written on its own line (a mapping shared through a YAML alias `*name` or a merge key `<<:`); edit it by hand")?;
    // An anchor before the value (`key: &name value`): other fields may
    // read the value through it.
    if key_line[colon + 1..].trim_start().starts_with('&') {
        return Err("its value has a YAML anchor (`&`) that other fields may use; edit it by hand".into());
    }
    let vl = node.loc.line as usize - 1;
    let flow = in_flow(text, root, segs);
    if vl == kl {
        let vb = byte_col(&key_line, node.loc.column);
        if vb <= colon {
            return Err("the value is not after its key".into());
        }
        let end = inline_end(&key_line, vb, flow);
        let new = format!("{}{}{}", &key_line[..vb], value, &key_line[end..]);
        lines[kl] = new;
        return Ok(lines.join("\n"));
    }
    if flow {
        return Err("its value is on a line of its own inside a flow mapping (`{...}`); edit it by hand".into());
    }
    // A block value below its key: remove the lines indented deeper than the key.
    let mut end = kl + 1;
    let mut last_content = kl;
    while end < lines.len() {
        match indent_of(&lines[end]) {
            Some(i) if i <= key_indent => break,
            Some(_) => last_content = end,
            None => {}
        }
        end += 1;
    }
    let after_colon = &key_line[colon + 1..];
    let comment = after_colon.trim();
    let cr = if key_line.ends_with('\r') { "\r" } else { "" };
    let new_key_line = if comment.starts_with('#') {
        format!("{} {}  {}{cr}", &key_line[..=colon], value, comment)
    } else {
        format!("{} {}{cr}", &key_line[..=colon], value)
    };
    lines.splice(kl..=last_content, [new_key_line]);
    Ok(lines.join("\n"))
}

fn insert_yaml(text: &str, root: &Node, segs: &[Seg], value: &str) -> Result<String, String> {
    let (last, parent_segs) = segs.split_last().ok_or("empty path")?;
    let Seg::Key(name) = last else {
        return Err("a list entry cannot be added".into());
    };
    let parent = find(root, parent_segs).ok_or("its parent is not in the file")?;
    let Value::Map(entries) = &parent.value else {
        return Err("its parent is not a mapping".into());
    };
    let (first_key, _) = entries.first().ok_or("its parent is empty")?;
    let mut lines = split_lines(text);
    if in_flow(text, root, segs) {
        // A flow mapping (`{a: 1, b: 2}`): added after its last entry, when
        // that entry's value ends on its line.
        let (_, last_value) = entries.last().ok_or("its parent is empty")?;
        let ll = last_value.loc.line as usize - 1;
        let line = lines.get(ll).ok_or("out of the file")?;
        let vb = byte_col(line, last_value.loc.column);
        let end = inline_end(line, vb, true);
        let rest = line[end..].trim();
        if !(rest.is_empty() || rest.starts_with(['}', ',', '#'])) {
            return Err("its parent is a flow mapping whose last value spans lines; add it by hand".into());
        }
        lines[ll] = format!("{}, {name}: {value}{}", &line[..end], &line[end..]);
        return Ok(lines.join("\n"));
    }
    let fl = first_key.loc.line as usize - 1;
    let first_line = lines.get(fl).ok_or("out of the file")?;
    let col = byte_col(first_line, first_key.loc.column);
    let indent = col;
    // The parent's last line: the last line indented at least as the keys,
    // from the first key on.
    let mut last = fl;
    let mut i = fl + 1;
    while i < lines.len() {
        match indent_of(&lines[i]) {
            Some(ind) if ind < indent => break,
            Some(_) => last = i,
            None => {}
        }
        i += 1;
    }
    let cr = if lines[last].ends_with('\r') { "\r" } else { "" };
    lines.insert(last + 1, format!("{}{name}: {value}{cr}", " ".repeat(indent)));
    Ok(lines.join("\n"))
}

// ---------------------------------------------------------------- TOML ----

fn toml_value(v: &NewValue) -> toml_edit::Item {
    use toml_edit::{InlineTable, Item, Value as TV};
    let num = |x: f64| -> TV {
        let s = number(x);
        match s.parse::<i64>() {
            Ok(i) => TV::from(i),
            Err(_) => TV::from(s.parse::<f64>().unwrap_or(x)),
        }
    };
    match v {
        NewValue::Number(x) => Item::Value(num(*x)),
        NewValue::Text(t) => Item::Value(TV::from(t.as_str())),
        NewValue::Map(entries) => {
            let mut t = InlineTable::new();
            for (k, v) in entries {
                t.insert(k, num(*v));
            }
            Item::Value(TV::InlineTable(t))
        }
        NewValue::Quantity { dist, note } => {
            let mut t = InlineTable::new();
            match dist {
                Dist::Fixed { value } => {
                    t.insert("p50", num(*value));
                    t.insert("p95", num(*value));
                }
                Dist::Empirical { samples } => {
                    let mut a = toml_edit::Array::new();
                    for s in samples {
                        a.push(num(*s));
                    }
                    t.insert("samples", TV::Array(a));
                }
                d => {
                    for (k, val) in dist_entries(d) {
                        if k == "shape" {
                            t.insert(k, TV::from(val));
                        } else {
                            t.insert(k, num(val.parse::<f64>().unwrap_or(0.0)));
                        }
                    }
                }
            }
            if !note.is_empty() {
                t.insert("measured", TV::from(note.replace(|c: char| c.is_control(), " ")));
            }
            Item::Value(TV::InlineTable(t))
        }
    }
}

fn rewrite_toml(text: &str, edits: &[Edit]) -> Result<Rewritten, node::ParseError> {
    // The located parse gives the same errors as reading the spec does.
    node::parse_toml(text)?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| node::ParseError {
        loc: crate::source::Loc::new(1, 1),
        message: e.message().to_string(),
    })?;
    let mut placed = Vec::new();
    let mut not_placed = Vec::new();
    for e in edits {
        let Some(segs) = segments(&e.path) else {
            not_placed.push((e.path.clone(), "not a field path".into()));
            continue;
        };
        match toml_set(doc.as_item_mut(), &segs, toml_value(&e.value)) {
            Ok(()) => placed.push(e.path.clone()),
            Err(why) => not_placed.push((e.path.clone(), why.into())),
        }
    }
    Ok(Rewritten {
        text: doc.to_string(),
        placed,
        not_placed,
    })
}

fn toml_set(root: &mut toml_edit::Item, segs: &[Seg], value: toml_edit::Item) -> Result<(), &'static str> {
    let (last, parents) = segs.split_last().ok_or("empty path")?;
    let mut it = root;
    for s in parents {
        it = match s {
            Seg::Key(k) => it.get_mut(k.as_str()).ok_or("its parent is not in the file")?,
            Seg::Index(i) => it.get_mut(*i).ok_or("no such entry")?,
        };
    }
    let Seg::Key(k) = last else {
        return Err("a list entry cannot be set");
    };
    match it {
        toml_edit::Item::Table(t) => {
            t.insert(k, value);
            Ok(())
        }
        toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => match value {
            toml_edit::Item::Value(v) => {
                t.insert(k, v);
                Ok(())
            }
            _ => Err("cannot set"),
        },
        _ => Err("its parent is not a table"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
# A spec with comments.
costgate: 1
interaction:
  calls: {p50: 2, p95: 6}   # agentic
  input_tokens:             # per call
    p50: 1000
    p95: 4000
  output_tokens: 300
usage:
  active_share: 0.5
  interactions_per_active_day: {p50: 3, p95: 9}
tiers:
  - name: pro
    users: 100  # seats
    price_usd_per_month: 20
";

    fn q(p50: f64, p95: f64) -> NewValue {
        NewValue::Quantity {
            dist: Dist::LogNormal {
                p50,
                p95,
                min: None,
                max: None,
            },
            note: "calibrate: logs.csv".into(),
        }
    }

    fn edit(path: &str, value: NewValue) -> Edit {
        Edit {
            path: path.into(),
            value,
        }
    }

    #[test]
    fn numbers_are_written_to_six_significant_figures() {
        assert_eq!(number(1234.5678), "1234.57");
        assert_eq!(number(0.123456789), "0.123457");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(1e7), "10000000");
    }

    #[test]
    fn yaml_fields_are_replaced_in_place_and_comments_kept() {
        let r = rewrite(
            YAML,
            false,
            &[
                edit("interaction.calls", q(3.0, 7.5)),
                edit("interaction.input_tokens", q(1200.0, 5000.0)),
                edit("interaction.output_tokens", q(310.0, 900.0)),
                edit("tiers[0].users", NewValue::Number(150.0)),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}", r.not_placed);
        let t = &r.text;
        assert!(
            t.contains("  calls: {p50: 3, p95: 7.5, measured: \"calibrate: logs.csv\"}   # agentic"),
            "{t}"
        );
        assert!(t.contains("  input_tokens: {p50: 1200, p95: 5000, measured: \"calibrate: logs.csv\"}  # per call\n  output_tokens:"), "{t}");
        assert!(t.contains("    users: 150  # seats"), "{t}");
        assert!(t.starts_with("# A spec with comments.\ncostgate: 1\n"));
        // The rewritten file reads back with the new values.
        let root = node::parse_yaml(t).unwrap();
        let calls = find(&root, &segments("interaction.calls").unwrap()).unwrap();
        assert!(matches!(&calls.value, Value::Map(m) if m.len() == 3));
    }

    #[test]
    fn text_is_written_plain_only_when_yaml_reads_it_back_as_that_string() {
        for (t, want) in [
            ("fallback", "fallback"),
            ("mini-2", "mini-2"),
            ("yes", "\"yes\""),
            ("null", "\"null\""),
            ("2024", "\"2024\""),
            ("Mini Model", "\"Mini Model\""),
            ("a\"b: c", "\"a\\\"b: c\""),
        ] {
            let y = yaml_value(&NewValue::Text(t.into()));
            assert_eq!(y, want);
            let root = node::parse_yaml(&format!("k: {y}\n")).unwrap();
            let v = find(&root, &segments("k").unwrap()).unwrap();
            assert!(matches!(&v.value, Value::Str(s) if s == t), "{t}: {:?}", v.value);
        }
        let r = rewrite(
            "[tiers]\nx = 1\n",
            true,
            &[edit("tiers.x", NewValue::Text("yes".into()))],
        )
        .unwrap();
        assert!(r.text.contains("x = \"yes\""), "{}", r.text);
    }

    #[test]
    fn text_with_control_characters_reads_back_as_itself() {
        for t in [
            "a\tb",
            "a\nb",
            "a\u{1b}[31mb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{2028}b",
            "\u{feff}a",
            "a\rb\\",
        ] {
            let y = yaml_value(&NewValue::Text(t.into()));
            assert!(!y.chars().any(|c| c.is_control()), "{y:?}");
            let root = node::parse_yaml(&format!("k: {y}\n")).unwrap();
            let v = find(&root, &segments("k").unwrap()).unwrap();
            assert!(
                matches!(&v.value, Value::Str(s) if s == t),
                "{t:?}: {y} read as {:?}",
                v.value
            );
        }
    }

    #[test]
    fn flow_mappings_are_edited_entry_by_entry() {
        let text = "tiers:\n  - name: a\n    limit: {daily_tokens: 100, on_limit: block, message: \"cap, hit\"}  # c\n  - name: b\n    limit: {\n      daily_tokens: 5, on_limit: block\n    }\n";
        let r = rewrite(
            text,
            false,
            &[
                edit("tiers[0].limit.on_limit", NewValue::Text("fallback".into())),
                edit("tiers[0].limit.fallback_model", NewValue::Text("cheap one".into())),
                edit("tiers[0].limit.daily_tokens", NewValue::Number(2000.0)),
                edit("tiers[1].limit.on_limit", NewValue::Text("shrink".into())),
                edit("tiers[1].limit.fallback_model", NewValue::Text("x".into())),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}\n{}", r.not_placed, r.text);
        assert!(
            r.text.contains(
                "    limit: {daily_tokens: 2000, on_limit: fallback, message: \"cap, hit\", fallback_model: \"cheap one\"}  # c\n"
            ),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains("      daily_tokens: 5, on_limit: shrink, fallback_model: x\n"),
            "{}",
            r.text
        );
        let root = node::parse_yaml(&r.text).unwrap();
        let m = find(&root, &segments("tiers[0].limit.message").unwrap()).unwrap();
        assert!(matches!(&m.value, Value::Str(s) if s == "cap, hit"));
    }

    #[test]
    fn an_anchored_value_is_left_for_a_person_and_line_endings_and_comments_are_kept() {
        let text = "a:\n  on_limit: &w block\nb:\n  on_limit: *w\n";
        let r = rewrite(text, false, &[edit("a.on_limit", NewValue::Text("shrink".into()))]).unwrap();
        assert_eq!(r.not_placed.len(), 1, "{}", r.text);
        assert!(r.not_placed[0].1.contains("anchor"));
        assert_eq!(r.text, text);
        // An `&` in a comment or inside a value is no anchor.
        let amp = "a:\n  on_limit: block  # R&D\n  message: \"Q&A\"\n";
        let r = rewrite(
            amp,
            false,
            &[
                edit("a.on_limit", NewValue::Text("shrink".into())),
                edit("a.message", NewValue::Text("Q & A".into())),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}", r.not_placed);
        assert_eq!(r.text, "a:\n  on_limit: shrink  # R&D\n  message: \"Q & A\"\n");
        // A field of a mapping shared through an alias is not on a line of
        // its own: left for a person too.
        let shared = "base: &lim\n  on_limit: block\nt:\n  limit: *lim\n";
        let r = rewrite(
            shared,
            false,
            &[edit("t.limit.on_limit", NewValue::Text("shrink".into()))],
        )
        .unwrap();
        assert_eq!(r.not_placed.len(), 1, "{}", r.text);
        assert!(r.not_placed[0].1.contains("alias"), "{:?}", r.not_placed);
        assert_eq!(r.text, shared);
        // The alias's own field is only that field.
        let r = rewrite(text, false, &[edit("b.on_limit", NewValue::Text("shrink".into()))]).unwrap();
        assert!(
            r.text.contains("  on_limit: &w block\nb:\n  on_limit: shrink\n"),
            "{}",
            r.text
        );
        let crlf = "t:\r\n  on_limit: block\t# hard stop\r\n  daily_tokens: 5\r\n";
        let r = rewrite(
            crlf,
            false,
            &[
                edit("t.on_limit", NewValue::Text("fallback".into())),
                edit("t.fallback_model", NewValue::Text("m".into())),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}", r.not_placed);
        assert_eq!(
            r.text,
            "t:\r\n  on_limit: fallback\t# hard stop\r\n  daily_tokens: 5\r\n  fallback_model: m\r\n"
        );
    }

    #[test]
    fn a_rewritten_file_is_compared_with_what_was_asked_for_field_by_field() {
        let text = include_str!("../../tests/support/good.yaml");
        let spec = crate::spec::load_str("good.yaml", text).unwrap();
        assert_eq!(reads_as(&spec, text), Ok(()));
        // The same values written another way read the same.
        assert_eq!(
            reads_as(&spec, &text.replace("daily_tokens: 20000", "daily_tokens: 2.0e4")),
            Ok(())
        );
        let e = reads_as(&spec, &text.replace("daily_tokens: 100000", "daily_tokens: 100001")).unwrap_err();
        assert!(e.contains("tiers[1].limit.daily_tokens"), "{e}");
        let e = reads_as(
            &spec,
            &text.replace(
                "on_limit: block\n      message: \"You've used {used}/{limit} tokens",
                "on_limit: shrink\n      message: \"You've used {used}/{limit} tokens",
            ),
        )
        .unwrap_err();
        assert!(e.contains("tiers[1].limit.on_limit"), "{e}");
        let e = reads_as(&spec, "costgate: 1\n").unwrap_err();
        assert!(e.starts_with("it would not load"), "{e}");
    }

    #[test]
    fn a_yaml_field_not_in_the_file_is_added_to_its_parent_block() {
        let r = rewrite(
            YAML,
            false,
            &[
                edit("interaction.cached_input_share", q(0.2, 0.4)),
                edit("usage.power_users", NewValue::Number(1.0)),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}", r.not_placed);
        assert!(
            r.text
                .contains("  output_tokens: 300\n  cached_input_share: {p50: 0.2, p95: 0.4"),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains("  interactions_per_active_day: {p50: 3, p95: 9}\n  power_users: 1\ntiers:"),
            "{}",
            r.text
        );
    }

    #[test]
    fn what_cannot_be_placed_is_said_not_dropped() {
        let r = rewrite(
            YAML,
            false,
            &[
                edit("interaction.calls.p50.deeper", NewValue::Number(1.0)),
                edit("nowhere.field", NewValue::Number(1.0)),
                edit("bad..path", NewValue::Number(1.0)),
            ],
        )
        .unwrap();
        assert_eq!(r.not_placed.len(), 3, "{:?}", r.not_placed);
        assert_eq!(r.text, YAML);
    }

    #[test]
    fn empirical_samples_and_quotes_in_notes_are_written_safely() {
        let v = NewValue::Quantity {
            dist: Dist::Empirical {
                samples: vec![1.0, 2.5, 40.0],
            },
            note: "a \"quoted\" note\nwith a line break".into(),
        };
        assert_eq!(
            yaml_value(&v),
            "{samples: [1, 2.5, 40], measured: \"a \\\"quoted\\\" note with a line break\"}"
        );
        let r = rewrite(YAML, false, &[edit("interaction.output_tokens", v)]).unwrap();
        assert!(r.not_placed.is_empty());
        assert!(node::parse_yaml(&r.text).is_ok());
    }

    #[test]
    fn toml_fields_are_replaced_and_comments_kept() {
        let toml = "\
# top comment
costgate = 1

[interaction]
calls = { p50 = 2, p95 = 6 } # agentic
input_tokens = 1000

[[tiers]]
name = \"pro\" # the paid tier
users = 100
";
        let r = rewrite(
            toml,
            true,
            &[
                edit("interaction.input_tokens", q(1200.0, 5000.0)),
                edit("interaction.cached_input_share", q(0.2, 0.4)),
                edit("tiers[0].users", NewValue::Number(150.0)),
            ],
        )
        .unwrap();
        assert!(r.not_placed.is_empty(), "{:?}", r.not_placed);
        let t = &r.text;
        assert!(t.contains("# top comment"), "{t}");
        assert!(t.contains("calls = { p50 = 2, p95 = 6 } # agentic"), "{t}");
        assert!(t.contains("name = \"pro\" # the paid tier"), "{t}");
        assert!(
            t.contains("input_tokens = { p50 = 1200, p95 = 5000, measured = \"calibrate: logs.csv\" }"),
            "{t}"
        );
        assert!(t.contains("users = 150"), "{t}");
        assert!(node::parse_toml(t).is_ok());
    }
}
