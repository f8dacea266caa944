//! Any CSV or JSON Lines log, read through a column mapping (`--map
//! time=ts,user=customer_id,input=prompt_tokens,output=completion_tokens`).

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::scan::{CsvSplitter, Fields, JsonSplitter, Piece, loc_in};
use super::{BadRecord, Call, LogError, MAX_RECORD_BYTES, ReadError, Tally, id_hash, time};
use crate::source::ProblemCode;

/// Which column (CSV) or field (JSON Lines; `a.b` reaches into nested
/// objects) holds each part of a call. `input` and `output` are required.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The call's start time.
    pub time: Option<String>,
    /// The user id.
    pub user: Option<String>,
    /// The tenant (organisation, team) id.
    pub tenant: Option<String>,
    /// The interaction id (a session, conversation or trace id), grouping
    /// calls into one interaction.
    pub session: Option<String>,
    /// The model name.
    pub model: Option<String>,
    /// Input tokens (cached ones included).
    pub input: String,
    /// Output tokens.
    pub output: String,
    /// Of the input tokens, those read from the cache.
    pub cached: Option<String>,
    /// The cost the log recorded, in USD.
    pub spend: Option<String>,
}

/// The keys a mapping has, in the order messages list them.
pub const MAPPING_KEYS: &[&str] = &[
    "time", "user", "tenant", "session", "model", "input", "output", "cached", "spend",
];

impl Mapping {
    /// Parse `key=column,key=column,...` (`--map`): keys are `time`, `user`,
    /// `tenant`, `session` (or `interaction`), `model`, `input`, `output`,
    /// `cached`, `spend`; `input` and `output` are required. An unknown,
    /// repeated or empty key or column is an error naming it.
    pub fn parse(s: &str) -> Result<Mapping, String> {
        let mut time = None;
        let mut user = None;
        let mut tenant = None;
        let mut session = None;
        let mut model = None;
        let mut input = None;
        let mut output = None;
        let mut cached = None;
        let mut spend = None;
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "`{s}`: an empty entry in the mapping (two commas, or a comma at an end)"
                ));
            }
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!("`{part}` in the mapping is not `key=column`"));
            };
            let (k, v) = (k.trim(), v.trim());
            if v.is_empty() {
                return Err(format!("`{k}=` in the mapping names no column"));
            }
            let slot = match k {
                "time" => &mut time,
                "user" => &mut user,
                "tenant" => &mut tenant,
                "session" | "interaction" => &mut session,
                "model" => &mut model,
                "input" => &mut input,
                "output" => &mut output,
                "cached" => &mut cached,
                "spend" => &mut spend,
                _ => {
                    let hint = crate::source::did_you_mean(&crate::source::closest(k, MAPPING_KEYS.iter().copied(), 2))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown key `{k}` in the mapping (keys: {}){hint}",
                        MAPPING_KEYS.join(", ")
                    ));
                }
            };
            if slot.is_some() {
                return Err(format!("the key `{k}` is mapped twice"));
            }
            *slot = Some(v.to_string());
        }
        let (Some(input), Some(output)) = (input.clone(), output.clone()) else {
            let missing: Vec<&str> = [("input", &input), ("output", &output)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
            return Err(format!(
                "the mapping has no `{}`: `input` and `output` (the token columns) are required",
                missing.join("` or `")
            ));
        };
        Ok(Mapping {
            time,
            user,
            tenant,
            session,
            model,
            input,
            output,
            cached,
            spend,
        })
    }

    /// (key, column) for every mapped key.
    fn entries(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::new();
        let opt = [
            ("time", &self.time),
            ("user", &self.user),
            ("tenant", &self.tenant),
            ("session", &self.session),
            ("model", &self.model),
        ];
        for (k, c) in opt {
            if let Some(c) = c {
                v.push((k, c.as_str()));
            }
        }
        v.push(("input", self.input.as_str()));
        v.push(("output", self.output.as_str()));
        for (k, c) in [("cached", &self.cached), ("spend", &self.spend)] {
            if let Some(c) = c {
                v.push((k, c.as_str()));
            }
        }
        v
    }
}

/// The longest model name kept; a longer one makes the record bad.
pub(crate) const MAX_MODEL_CHARS: usize = 256;

/// A token count from text: a whole number of at least 0 (`12`, `12.0`).
pub(crate) fn count_text(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 => Ok(v as u64),
        Ok(_) => Err(format!("`{t}` is not a token count (a whole number of at least 0)")),
        Err(_) if t.is_empty() => Err("is empty (a token count is required)".into()),
        Err(_) => Err(format!("`{t}` is not a token count (a whole number of at least 0)")),
    }
}

/// A token count from a JSON value (a number, or text of one).
pub(crate) fn count_value(v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(u),
            (None, Some(f)) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
            _ => Err(format!("`{n}` is not a token count (a whole number of at least 0)")),
        },
        Value::String(s) => count_text(s),
        other => Err(format!("is {}, not a token count", kind(other))),
    }
}

/// A recorded cost in USD from text: a finite number of at least 0.
pub(crate) fn spend_text(s: &str) -> Result<f64, String> {
    let t = s.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{t}` is not a cost (a number of USD, at least 0)")),
    }
}

/// A recorded cost from a JSON value.
pub(crate) fn spend_value(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() && f >= 0.0 => Ok(f),
            _ => Err(format!("`{n}` is not a cost (a number of USD, at least 0)")),
        },
        Value::String(s) => spend_text(s),
        other => Err(format!("is {}, not a cost", kind(other))),
    }
}

/// A time from a JSON value (text or a Unix number).
pub(crate) fn time_value(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => time::from_number(n.as_f64().unwrap_or(-1.0)),
        Value::String(s) => time::parse(s),
        other => Err(format!("is {}, not a time", kind(other))),
    }
}

/// An id from a JSON value: text, or a number's digits; empty or null is none.
pub(crate) fn id_value(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(id_hash(s))),
        Value::Number(n) => Ok(Some(id_hash(&n.to_string()))),
        other => Err(format!("is {}, not an id", kind(other))),
    }
}

/// A model name from text: empty is none; longer than [`MAX_MODEL_CHARS`] is refused.
pub(crate) fn model_text(s: &str) -> Result<Option<String>, String> {
    let t = s.trim();
    if t.is_empty() {
        Ok(None)
    } else if t.chars().count() > MAX_MODEL_CHARS {
        Err(format!("the model name is longer than {MAX_MODEL_CHARS} characters"))
    } else {
        Ok(Some(t.to_string()))
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Check a call's cached count against its input.
pub(crate) fn check_cached(c: &Call) -> Result<(), String> {
    match c.cached_tokens {
        Some(k) if k > c.input_tokens => Err(format!(
            "{k} cached tokens is more than the {} input tokens (input tokens include the cached ones)",
            c.input_tokens
        )),
        _ => Ok(()),
    }
}

/// The bad record for a record longer than the bound.
pub(crate) fn too_long(line: u64, column: u64, len: u64, max: usize) -> BadRecord {
    BadRecord::new(
        line,
        Some(column),
        "",
        format!("the record is {len} bytes long, more than the {max} a record may have; skipped unread"),
        ProblemCode::OutOfRange,
    )
}

/// Column indices of the mapped keys in a CSV header.
struct Columns {
    time: Option<usize>,
    user: Option<usize>,
    tenant: Option<usize>,
    session: Option<usize>,
    model: Option<usize>,
    input: usize,
    output: usize,
    cached: Option<usize>,
    spend: Option<usize>,
    names: Vec<String>,
}

pub(crate) fn header_names(f: &Fields) -> Vec<String> {
    (0..f.len())
        .map(|k| String::from_utf8_lossy(f.get(k).unwrap_or_default()).trim().to_string())
        .collect()
}

fn columns(m: &Mapping, names: Vec<String>, path: &Path, line: u64) -> Result<Columns, LogError> {
    let find = |key: &str, col: &str| -> Result<usize, LogError> {
        names.iter().position(|n| n == col).ok_or_else(|| {
            let close = crate::source::closest(col, names.iter().map(String::as_str), 2);
            let hint = crate::source::did_you_mean(&close)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            LogError::Invalid {
                path: path.display().to_string(),
                line,
                column: 1,
                field: key.to_string(),
                message: format!(
                    "the mapping's `{key}={col}` names a column the header does not have (it has {}){hint}",
                    names
                        .iter()
                        .take(12)
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                code: ProblemCode::MissingField,
            }
        })
    };
    let opt = |key: &str, col: &Option<String>| -> Result<Option<usize>, LogError> {
        col.as_deref().map(|c| find(key, c)).transpose()
    };
    Ok(Columns {
        time: opt("time", &m.time)?,
        user: opt("user", &m.user)?,
        tenant: opt("tenant", &m.tenant)?,
        session: opt("session", &m.session)?,
        model: opt("model", &m.model)?,
        input: find("input", &m.input)?,
        output: find("output", &m.output)?,
        cached: opt("cached", &m.cached)?,
        spend: opt("spend", &m.spend)?,
        names,
    })
}

/// Read a mapped CSV file.
pub(crate) fn read_csv(r: &mut dyn BufRead, tally: &mut Tally<'_>, m: &Mapping, path: &Path) -> Result<(), ReadError> {
    let mut split = CsvSplitter::new(MAX_RECORD_BYTES);
    let mut fields = Fields::new();
    let Some(h) = split.next(r)? else {
        return Ok(());
    };
    if h.too_long {
        return Err(LogError::Invalid {
            path: path.display().to_string(),
            line: h.line,
            column: 1,
            field: String::new(),
            message: format!("the header line is longer than {MAX_RECORD_BYTES} bytes"),
            code: ProblemCode::OutOfRange,
        }
        .into());
    }
    fields.split(&split.buf);
    let cols = columns(m, header_names(&fields), path, h.line)?;
    while let Some(at) = split.next(r)? {
        if at.too_long {
            tally.bad(too_long(at.line, 1, at.len, MAX_RECORD_BYTES));
            continue;
        }
        fields.split(&split.buf);
        match csv_call(&fields, &cols) {
            Ok(c) => tally.call(&c),
            Err((k, msg)) => {
                let offset = if k < fields.len() {
                    fields.offset(k)
                } else {
                    split.buf.len()
                };
                let (line, column) = loc_in(&split.buf, offset, at);
                let name = cols.names.get(k).map_or("", String::as_str);
                tally.bad(BadRecord::new(line, Some(column), name, msg, ProblemCode::InvalidValue));
            }
        }
    }
    Ok(())
}

/// One CSV row as a call; on failure the column index and what is wrong.
fn csv_call(f: &Fields, c: &Columns) -> Result<Call, (usize, String)> {
    let text = |k: usize| -> Result<&str, (usize, String)> {
        match f.get(k) {
            None => Err((
                k,
                format!(
                    "the row has {} fields; the column `{}` is number {}",
                    f.len(),
                    c.names[k],
                    k + 1
                ),
            )),
            Some(b) => std::str::from_utf8(b).map_err(|e| {
                (
                    k,
                    format!("is not UTF-8 text (byte {} of the field)", e.valid_up_to() + 1),
                )
            }),
        }
    };
    let opt_text = |k: Option<usize>| -> Result<Option<&str>, (usize, String)> {
        match k {
            None => Ok(None),
            Some(k) => {
                let t = text(k)?.trim();
                Ok(if t.is_empty() { None } else { Some(t) })
            }
        }
    };
    let input = count_text(text(c.input)?).map_err(|e| (c.input, e))?;
    let output = count_text(text(c.output)?).map_err(|e| (c.output, e))?;
    let cached = match opt_text(c.cached)? {
        None => None,
        Some(t) => Some(count_text(t).map_err(|e| (c.cached.unwrap_or(0), e))?),
    };
    let spend_usd = match opt_text(c.spend)? {
        None => None,
        Some(t) => Some(spend_text(t).map_err(|e| (c.spend.unwrap_or(0), e))?),
    };
    let time_s = match opt_text(c.time)? {
        None => None,
        Some(t) => Some(time::parse(t).map_err(|e| (c.time.unwrap_or(0), e))?),
    };
    let model = match opt_text(c.model)? {
        None => None,
        Some(t) => model_text(t).map_err(|e| (c.model.unwrap_or(0), e))?,
    };
    let call = Call {
        time_s,
        user: opt_text(c.user)?.map(id_hash),
        tenant: opt_text(c.tenant)?.map(id_hash),
        interaction: opt_text(c.session)?.map(id_hash),
        model,
        input_tokens: input,
        output_tokens: output,
        cached_tokens: cached,
        spend_usd,
    };
    check_cached(&call).map_err(|e| (c.cached.unwrap_or(0), e))?;
    Ok(call)
}

/// The value at `path` (`a.b.c` reaches into nested objects; a key that
/// itself has a dot is tried whole first).
fn lookup<'v>(obj: &'v serde_json::Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match obj.get(head)? {
        Value::Object(o) => lookup(o, rest),
        _ => None,
    }
}

/// Read a mapped JSON Lines file (or a JSON array of objects).
pub(crate) fn read_json(r: &mut dyn BufRead, tally: &mut Tally<'_>, m: &Mapping) -> Result<(), ReadError> {
    let mut split = JsonSplitter::new(MAX_RECORD_BYTES);
    let entries = m.entries();
    while let Some((at, v)) = next_json::<Value>(&mut split, r, tally, MAX_RECORD_BYTES)? {
        let Value::Object(obj) = v else {
            tally.bad(BadRecord::new(
                at.line,
                Some(at.column),
                "",
                format!("the record is {}, not a JSON object", kind(&v)),
                ProblemCode::WrongType,
            ));
            continue;
        };
        match json_call(&obj, m, &entries) {
            Ok(c) => tally.call(&c),
            Err((field, msg, code)) => tally.bad(BadRecord::new(at.line, Some(at.column), &field, msg, code)),
        }
    }
    Ok(())
}

/// The next record of a JSON log that parses as `T`, with where it starts;
/// `None` at the end. Stray text between records, records longer than
/// `max` bytes and records that do not parse as `T` are counted bad on the
/// way, by line and column: the one loop every JSON reader shares.
pub(crate) fn next_json<T: serde::de::DeserializeOwned>(
    split: &mut super::scan::JsonSplitter,
    r: &mut dyn BufRead,
    tally: &mut Tally<'_>,
    max: usize,
) -> Result<Option<(super::scan::At, T)>, ReadError> {
    while let Some(piece) = split.next(r)? {
        let at = match piece {
            Piece::Stray(at, msg) => {
                tally.bad(BadRecord::new(at.line, Some(at.column), "", msg, ProblemCode::Syntax));
                continue;
            }
            Piece::Record(at) => at,
        };
        if at.too_long {
            tally.bad(too_long(at.line, at.column, at.len, max));
            continue;
        }
        match serde_json::from_slice(&split.buf) {
            Ok(v) => return Ok(Some((at, v))),
            Err(e) => tally.bad(json_error(&e, at)),
        }
    }
    Ok(None)
}

/// The bad record for a JSON parse error in a record starting at `at`.
pub(crate) fn json_error(e: &serde_json::Error, at: super::scan::At) -> BadRecord {
    let (line, column) = if e.line() <= 1 {
        (at.line, at.column + e.column().saturating_sub(1) as u64)
    } else {
        (at.line + e.line() as u64 - 1, e.column() as u64)
    };
    let code = if e.is_data() {
        ProblemCode::WrongType
    } else {
        ProblemCode::Syntax
    };
    // serde_json's message ends with " at line L column C" (relative to
    // the record): the absolute place is given instead.
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    BadRecord::new(line, Some(column.max(1)), "", format!("not valid JSON: {msg}"), code)
}

fn json_call(
    obj: &serde_json::Map<String, Value>,
    m: &Mapping,
    entries: &[(&'static str, &str)],
) -> Result<Call, (String, String, ProblemCode)> {
    let mut call = Call {
        time_s: None,
        user: None,
        tenant: None,
        interaction: None,
        model: None,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: None,
        spend_usd: None,
    };
    for &(key, col) in entries {
        let v = lookup(obj, col);
        let bad = |e: String| (col.to_string(), e, ProblemCode::InvalidValue);
        let v = match v {
            None | Some(Value::Null) => {
                if key == "input" || key == "output" {
                    return Err((
                        col.to_string(),
                        format!("the record has no `{col}` (mapped as `{key}`, required)"),
                        ProblemCode::MissingField,
                    ));
                }
                continue;
            }
            Some(v) => v,
        };
        match key {
            "time" => call.time_s = Some(time_value(v).map_err(bad)?),
            "user" => call.user = id_value(v).map_err(bad)?,
            "tenant" => call.tenant = id_value(v).map_err(bad)?,
            "session" => call.interaction = id_value(v).map_err(bad)?,
            "model" => {
                call.model = match v {
                    Value::String(s) => model_text(s).map_err(bad)?,
                    other => return Err(bad(format!("is {}, not a model name", kind(other)))),
                }
            }
            "input" => call.input_tokens = count_value(v).map_err(bad)?,
            "output" => call.output_tokens = count_value(v).map_err(bad)?,
            "cached" => call.cached_tokens = Some(count_value(v).map_err(bad)?),
            "spend" => call.spend_usd = Some(spend_value(v).map_err(bad)?),
            _ => {}
        }
    }
    check_cached(&call).map_err(|e| (m.cached.clone().unwrap_or_default(), e, ProblemCode::InvalidValue))?;
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_syntax_reads_every_key() {
        let m = Mapping::parse(
            "time=ts,user=customer_id,input=prompt_tokens,output=completion_tokens,cached=cache_read,model=model,session=conversation_id,tenant=org_id,spend=cost",
        )
        .unwrap();
        assert_eq!(m.time.as_deref(), Some("ts"));
        assert_eq!(m.user.as_deref(), Some("customer_id"));
        assert_eq!(m.tenant.as_deref(), Some("org_id"));
        assert_eq!(m.session.as_deref(), Some("conversation_id"));
        assert_eq!(m.model.as_deref(), Some("model"));
        assert_eq!(m.input, "prompt_tokens");
        assert_eq!(m.output, "completion_tokens");
        assert_eq!(m.cached.as_deref(), Some("cache_read"));
        assert_eq!(m.spend.as_deref(), Some("cost"));
        let m = Mapping::parse(" input = a , output=b,interaction=s").unwrap();
        assert_eq!(
            (m.input.as_str(), m.output.as_str(), m.session.as_deref()),
            ("a", "b", Some("s"))
        );
    }

    #[test]
    fn mapping_errors_name_the_key() {
        let e = Mapping::parse("input=a,output=b,usr=c").unwrap_err();
        assert!(
            e.contains("unknown key `usr`") && e.contains("did you mean `user`"),
            "{e}"
        );
        let e = Mapping::parse("input=a,output=b,input=c").unwrap_err();
        assert!(e.contains("`input` is mapped twice"), "{e}");
        let e = Mapping::parse("input=a,output=").unwrap_err();
        assert!(e.contains("`output=`"), "{e}");
        let e = Mapping::parse("input=a").unwrap_err();
        assert!(e.contains("no `output`"), "{e}");
        let e = Mapping::parse("time=t").unwrap_err();
        assert!(e.contains("no `input` or `output`"), "{e}");
        let e = Mapping::parse("input=a,,output=b").unwrap_err();
        assert!(e.contains("empty entry"), "{e}");
        let e = Mapping::parse("input").unwrap_err();
        assert!(e.contains("not `key=column`"), "{e}");
    }

    #[test]
    fn counts_and_costs_refuse_what_is_not_one() {
        assert_eq!(count_text("12"), Ok(12));
        assert_eq!(count_text(" 12.0 "), Ok(12));
        for bad in ["-1", "1.5", "x", "", "NaN", "inf", "1e30"] {
            assert!(count_text(bad).is_err(), "{bad}");
        }
        assert_eq!(spend_text("0.0012"), Ok(0.0012));
        assert!(spend_text("-0.1").is_err() && spend_text("NaN").is_err());
        assert_eq!(count_value(&serde_json::json!(7)), Ok(7));
        assert!(count_value(&serde_json::json!(-7)).is_err());
        assert!(count_value(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn nested_fields_are_reached_by_dots() {
        let v: Value = serde_json::from_str(r#"{"usage": {"in": 3}, "a.b": 1}"#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(lookup(o, "usage.in"), Some(&serde_json::json!(3)));
        assert_eq!(lookup(o, "a.b"), Some(&serde_json::json!(1)));
        assert_eq!(lookup(o, "usage.out"), None);
    }
}
