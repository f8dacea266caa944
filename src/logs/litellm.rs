//! LiteLLM proxy spend logs: rows of its `LiteLLM_SpendLogs` table, as the
//! JSON array its `/spend/logs` API answers (or JSON Lines of rows), or as
//! CSV with the table's column names (a database export).
//!
//! Read: `startTime`, `model` (else `model_group`), `prompt_tokens`,
//! `completion_tokens`, `spend`, the user (`end_user`, the customer the
//! request named, when set; else `user`, the internal user owning the API
//! key), `team_id` (the tenant), `session_id` (the interaction),
//! `status` (`failure` rows are skipped), and the cached input tokens from
//! `metadata` (`usage_object` or `additional_usage_values`:
//! `prompt_tokens_details.cached_tokens`, else `cache_read_input_tokens`).

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::mapped::{
    check_cached, count_text, count_value, header_names, kind, model_text, next_json, spend_text, spend_value,
    time_value, too_long,
};
use super::scan::{CsvSplitter, Fields, JsonSplitter, loc_in};
use super::{BadRecord, Call, LogError, MAX_RECORD_BYTES, ReadError, Tally, id_hash, time};
use crate::source::ProblemCode;

/// A row's fields, from JSON or CSV, before they make a call.
#[derive(Default)]
struct Parts<'a> {
    time_s: Option<f64>,
    model: Option<String>,
    input: u64,
    output: u64,
    spend: Option<f64>,
    user: Option<&'a str>,
    end_user: Option<&'a str>,
    team: Option<&'a str>,
    session: Option<&'a str>,
    cached: Option<u64>,
    failed: bool,
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The call a row makes, `None` for a failed request.
fn finish(p: Parts<'_>) -> Result<Option<Call>, (String, String)> {
    if p.failed {
        return Ok(None);
    }
    let user = nonempty(p.end_user).or(nonempty(p.user)).map(id_hash);
    let call = Call {
        time_s: p.time_s,
        user,
        tenant: nonempty(p.team).map(id_hash),
        interaction: nonempty(p.session).map(id_hash),
        model: p.model,
        input_tokens: p.input,
        output_tokens: p.output,
        cached_tokens: p.cached,
        spend_usd: p.spend,
    };
    check_cached(&call).map_err(|e| ("metadata.usage_object".to_string(), e))?;
    Ok(Some(call))
}

/// Cached input tokens recorded in a row's `metadata` (an object, or JSON
/// text of one).
fn cached_in_metadata(meta: &Value) -> Result<Option<u64>, String> {
    let parsed;
    let obj = match meta {
        Value::Object(o) => o,
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| format!("is text that is not JSON: {e}"))?;
            match &parsed {
                Value::Object(o) => o,
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    for section in ["usage_object", "additional_usage_values"] {
        let Some(Value::Object(u)) = obj.get(section) else {
            continue;
        };
        if let Some(Value::Object(d)) = u.get("prompt_tokens_details")
            && let Some(v) = d.get("cached_tokens")
            && !v.is_null()
        {
            return count_value(v)
                .map(Some)
                .map_err(|e| format!("{section}.prompt_tokens_details.cached_tokens {e}"));
        }
        if let Some(v) = u.get("cache_read_input_tokens")
            && !v.is_null()
        {
            return count_value(v)
                .map(Some)
                .map_err(|e| format!("{section}.cache_read_input_tokens {e}"));
        }
    }
    Ok(None)
}

/// A row as the `/spend/logs` API gives it (the fields read; the rest,
/// prompts and responses included, is skipped).
#[derive(Deserialize)]
struct Row {
    #[serde(rename = "startTime", default)]
    start_time: Option<Value>,
    #[serde(default)]
    model: Option<Value>,
    #[serde(default)]
    model_group: Option<Value>,
    #[serde(default)]
    prompt_tokens: Option<Value>,
    #[serde(default)]
    completion_tokens: Option<Value>,
    #[serde(default)]
    spend: Option<Value>,
    #[serde(default)]
    user: Option<Value>,
    #[serde(default)]
    end_user: Option<Value>,
    #[serde(default)]
    team_id: Option<Value>,
    #[serde(default)]
    session_id: Option<Value>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    status: Option<Value>,
}

fn str_field<'a>(name: &str, v: &'a Option<Value>) -> Result<Option<&'a str>, (String, String)> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err((name.to_string(), format!("is {}, not text", kind(other)))),
    }
}

fn json_parts(row: &Row) -> Result<Parts<'_>, (String, String)> {
    let at = |name: &'static str| move |e: String| (name.to_string(), e);
    let required = |name: &'static str, v: &Option<Value>| -> Result<u64, (String, String)> {
        match v {
            None | Some(Value::Null) => Err((name.to_string(), "is missing (a token count is required)".into())),
            Some(v) => count_value(v).map_err(at(name)),
        }
    };
    let model = match str_field("model", &row.model)?.filter(|s| !s.trim().is_empty()) {
        Some(m) => Some(m),
        None => str_field("model_group", &row.model_group)?,
    };
    Ok(Parts {
        time_s: match &row.start_time {
            None | Some(Value::Null) => None,
            Some(v) => Some(time_value(v).map_err(at("startTime"))?),
        },
        model: match model {
            Some(m) => model_text(m).map_err(at("model"))?,
            None => None,
        },
        input: required("prompt_tokens", &row.prompt_tokens)?,
        output: required("completion_tokens", &row.completion_tokens)?,
        spend: match &row.spend {
            None | Some(Value::Null) => None,
            Some(v) => Some(spend_value(v).map_err(at("spend"))?),
        },
        user: str_field("user", &row.user)?,
        end_user: str_field("end_user", &row.end_user)?,
        team: str_field("team_id", &row.team_id)?,
        session: str_field("session_id", &row.session_id)?,
        cached: match &row.metadata {
            None | Some(Value::Null) => None,
            Some(m) => cached_in_metadata(m).map_err(at("metadata"))?,
        },
        failed: matches!(&row.status, Some(Value::String(s)) if s == "failure"),
    })
}

/// Read LiteLLM spend logs: JSON when the first byte opens an array or an
/// object, CSV otherwise.
pub(crate) fn read(r: &mut dyn BufRead, tally: &mut Tally<'_>, path: &Path) -> Result<(), ReadError> {
    let chunk = r.fill_buf()?;
    let chunk = chunk.strip_prefix(b"\xef\xbb\xbf").unwrap_or(chunk);
    let first = if chunk.is_empty() {
        None
    } else {
        // a buffer of whitespace only is read as CSV (which skips blank lines)
        Some(chunk.iter().copied().find(|b| !b.is_ascii_whitespace()).unwrap_or(b' '))
    };
    match first {
        None => Ok(()),
        Some(b'[') | Some(b'{') => read_json(r, tally),
        Some(_) => read_csv(r, tally, path),
    }
}

fn read_json(r: &mut dyn BufRead, tally: &mut Tally<'_>) -> Result<(), ReadError> {
    let mut split = JsonSplitter::new(MAX_RECORD_BYTES);
    while let Some((at, row)) = next_json::<Row>(&mut split, r, tally, MAX_RECORD_BYTES)? {
        match json_parts(&row).and_then(finish) {
            Ok(Some(c)) => tally.call(&c),
            Ok(None) => tally.skipped(),
            Err((field, msg)) => tally.bad(BadRecord::new(
                at.line,
                Some(at.column),
                &field,
                msg,
                ProblemCode::InvalidValue,
            )),
        }
    }
    Ok(())
}

/// Column indices of a LiteLLM CSV export.
struct Cols {
    start_time: Option<usize>,
    model: Option<usize>,
    model_group: Option<usize>,
    prompt_tokens: usize,
    completion_tokens: usize,
    spend: Option<usize>,
    user: Option<usize>,
    end_user: Option<usize>,
    team_id: Option<usize>,
    session_id: Option<usize>,
    metadata: Option<usize>,
    status: Option<usize>,
    names: Vec<String>,
}

fn read_csv(r: &mut dyn BufRead, tally: &mut Tally<'_>, path: &Path) -> Result<(), ReadError> {
    let mut split = CsvSplitter::new(MAX_RECORD_BYTES);
    let mut fields = Fields::new();
    let Some(h) = split.next(r)? else {
        return Ok(());
    };
    fields.split(&split.buf);
    let names = header_names(&fields);
    let pos = |n: &str| names.iter().position(|c| c == n);
    let need = |n: &str| {
        pos(n).ok_or_else(|| LogError::Invalid {
            path: path.display().to_string(),
            line: h.line,
            column: 1,
            field: n.to_string(),
            message: format!("the header has no `{n}` column, which LiteLLM spend logs have"),
            code: ProblemCode::MissingField,
        })
    };
    let cols = Cols {
        start_time: pos("startTime"),
        model: pos("model"),
        model_group: pos("model_group"),
        prompt_tokens: need("prompt_tokens")?,
        completion_tokens: need("completion_tokens")?,
        spend: pos("spend"),
        user: pos("user"),
        end_user: pos("end_user"),
        team_id: pos("team_id"),
        session_id: pos("session_id"),
        metadata: pos("metadata"),
        status: pos("status"),
        names,
    };
    while let Some(at) = split.next(r)? {
        if at.too_long {
            tally.bad(too_long(at.line, 1, at.len, MAX_RECORD_BYTES));
            continue;
        }
        fields.split(&split.buf);
        match csv_parts(&fields, &cols)
            .and_then(|p| finish(p).map_err(|(f, m)| (cols.metadata.unwrap_or(0), format!("{f}: {m}"))))
        {
            Ok(Some(c)) => tally.call(&c),
            Ok(None) => tally.skipped(),
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

fn csv_parts<'f>(f: &'f Fields, c: &Cols) -> Result<Parts<'f>, (usize, String)> {
    let text = |k: usize| -> Result<&'f str, (usize, String)> {
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
    let opt = |k: Option<usize>| -> Result<Option<&'f str>, (usize, String)> {
        match k {
            None => Ok(None),
            Some(k) => Ok(nonempty(Some(text(k)?))),
        }
    };
    let model = match opt(c.model)? {
        Some(m) => Some((c.model.unwrap_or(0), m)),
        None => opt(c.model_group)?.map(|m| (c.model_group.unwrap_or(0), m)),
    };
    Ok(Parts {
        time_s: match opt(c.start_time)? {
            None => None,
            Some(t) => Some(time::parse(t).map_err(|e| (c.start_time.unwrap_or(0), e))?),
        },
        model: match model {
            Some((k, m)) => model_text(m).map_err(|e| (k, e))?,
            None => None,
        },
        input: count_text(text(c.prompt_tokens)?).map_err(|e| (c.prompt_tokens, e))?,
        output: count_text(text(c.completion_tokens)?).map_err(|e| (c.completion_tokens, e))?,
        spend: match opt(c.spend)? {
            None => None,
            Some(t) => Some(spend_text(t).map_err(|e| (c.spend.unwrap_or(0), e))?),
        },
        user: opt(c.user)?,
        end_user: opt(c.end_user)?,
        team: opt(c.team_id)?,
        session: opt(c.session_id)?,
        cached: match opt(c.metadata)? {
            None => None,
            Some(m) => cached_in_metadata(&Value::String(m.to_string())).map_err(|e| (c.metadata.unwrap_or(0), e))?,
        },
        failed: opt(c.status)? == Some("failure"),
    })
}
