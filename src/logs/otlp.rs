//! OpenTelemetry GenAI spans as OTLP/JSON: what the Collector's file
//! exporter writes, one `ExportTraceServiceRequest` (`{"resourceSpans":
//! [...]}`) a line (a pretty-printed request over several lines is read
//! too). Only the attributes a call needs are kept while parsing; the rest
//! of a span (events, links, prompt contents) is skipped unallocated.

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::mapped::{check_cached, model_text, next_json};
use super::scan::JsonSplitter;
use super::{BadRecord, Call, MAX_OTLP_LINE_BYTES, ReadError, Tally, id_hash};
use crate::source::ProblemCode;

/// The attributes read, by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    InputTokens,
    OutputTokens,
    CacheRead,
    /// `gen_ai.usage.prompt_tokens`, deprecated for `input_tokens`.
    PromptTokens,
    /// `gen_ai.usage.completion_tokens`, deprecated for `output_tokens`.
    CompletionTokens,
    ResponseModel,
    RequestModel,
    Operation,
    UserId,
    EnduserId,
    SessionId,
    ConversationId,
}

impl Key {
    fn of(s: &str) -> Option<Key> {
        Some(match s {
            "gen_ai.usage.input_tokens" => Key::InputTokens,
            "gen_ai.usage.output_tokens" => Key::OutputTokens,
            "gen_ai.usage.cache_read.input_tokens" => Key::CacheRead,
            "gen_ai.usage.prompt_tokens" => Key::PromptTokens,
            "gen_ai.usage.completion_tokens" => Key::CompletionTokens,
            "gen_ai.response.model" => Key::ResponseModel,
            "gen_ai.request.model" => Key::RequestModel,
            "gen_ai.operation.name" => Key::Operation,
            "user.id" => Key::UserId,
            "enduser.id" => Key::EnduserId,
            "session.id" => Key::SessionId,
            "gen_ai.conversation.id" => Key::ConversationId,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Key::InputTokens => "gen_ai.usage.input_tokens",
            Key::OutputTokens => "gen_ai.usage.output_tokens",
            Key::CacheRead => "gen_ai.usage.cache_read.input_tokens",
            Key::PromptTokens => "gen_ai.usage.prompt_tokens",
            Key::CompletionTokens => "gen_ai.usage.completion_tokens",
            Key::ResponseModel => "gen_ai.response.model",
            Key::RequestModel => "gen_ai.request.model",
            Key::Operation => "gen_ai.operation.name",
            Key::UserId => "user.id",
            Key::EnduserId => "enduser.id",
            Key::SessionId => "session.id",
            Key::ConversationId => "gen_ai.conversation.id",
        }
    }
}

/// An attribute's value (`AnyValue`), scalars only.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Str(String),
    /// `intValue`: a JSON string per the OTLP/JSON encoding (64-bit
    /// integers), or a number (receivers accept both).
    Int(i128),
    Double(f64),
    /// A boolean, bytes, an array or a key-value list.
    Other(&'static str),
    /// No value, or one that could not be read as its kind says.
    Bad(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OTLP AnyValue object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                let mut out = Scalar::Bad("no value".into());
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    out = match &*k {
                        "stringValue" => Scalar::Str(m.next_value()?),
                        "intValue" => match m.next_value::<serde_json::Value>()? {
                            serde_json::Value::String(s) => s.trim().parse().map_or_else(
                                |_| Scalar::Bad(format!("intValue `{s}` is not an integer")),
                                Scalar::Int,
                            ),
                            serde_json::Value::Number(n) => n
                                .as_i64()
                                .map(i128::from)
                                .or_else(|| n.as_u64().map(i128::from))
                                .map_or_else(|| Scalar::Bad(format!("intValue {n} is not an integer")), Scalar::Int),
                            _ => Scalar::Bad("intValue is neither text nor a number".into()),
                        },
                        "doubleValue" => match m.next_value::<serde_json::Value>()? {
                            serde_json::Value::Number(n) => Scalar::Double(n.as_f64().unwrap_or(f64::NAN)),
                            // proto3 JSON writes NaN and the infinities as text
                            serde_json::Value::String(s) => Scalar::Double(s.parse().unwrap_or(f64::NAN)),
                            _ => Scalar::Bad("doubleValue is not a number".into()),
                        },
                        "boolValue" => {
                            m.next_value::<IgnoredAny>()?;
                            Scalar::Other("a boolean")
                        }
                        "bytesValue" => {
                            m.next_value::<IgnoredAny>()?;
                            Scalar::Other("bytes")
                        }
                        "arrayValue" => {
                            m.next_value::<IgnoredAny>()?;
                            Scalar::Other("an array")
                        }
                        "kvlistValue" => {
                            m.next_value::<IgnoredAny>()?;
                            Scalar::Other("a key-value list")
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// A span's or a resource's attributes: only the keys read are kept.
#[derive(Debug, Default)]
struct Attrs(Vec<(Key, Scalar)>);

impl Attrs {
    fn get(&self, k: Key) -> Option<&Scalar> {
        self.0.iter().rev().find(|(key, _)| *key == k).map(|(_, v)| v)
    }
}

#[derive(Deserialize)]
struct KeyValue {
    #[serde(default)]
    key: std::borrow::Cow<'static, str>,
    #[serde(default)]
    value: Option<Scalar>,
}

impl<'de> Deserialize<'de> for Attrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attrs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of {key, value} attributes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Attrs, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = s.next_element::<KeyValue>()? {
                    if let Some(k) = Key::of(&kv.key) {
                        out.push((k, kv.value.unwrap_or(Scalar::Bad("no value".into()))));
                    }
                }
                Ok(Attrs(out))
            }
        }
        d.deserialize_seq(V)
    }
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default, deserialize_with = "null_as_default")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default, deserialize_with = "null_as_default")]
    resource: Resource,
    #[serde(default, deserialize_with = "null_as_default")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize, Default)]
struct Resource {
    #[serde(default, deserialize_with = "null_as_default")]
    attributes: Attrs,
}

#[derive(Deserialize, Default)]
struct ScopeSpans {
    #[serde(default, deserialize_with = "null_as_default")]
    spans: Vec<SpanRec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SpanRec {
    #[serde(default, deserialize_with = "null_as_default")]
    trace_id: String,
    #[serde(default)]
    start_time_unix_nano: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    attributes: Attrs,
}

/// `gen_ai.operation.name` values whose spans wrap model calls rather than
/// being one: their usage, when they carry it, sums their children's.
const WRAPPER_OPERATIONS: &[&str] = &["invoke_agent", "create_agent", "execute_tool", "invoke_workflow"];

/// Read an OTLP/JSON file.
pub(crate) fn read(r: &mut dyn BufRead, tally: &mut Tally<'_>) -> Result<(), ReadError> {
    let mut split = JsonSplitter::new(MAX_OTLP_LINE_BYTES);
    let mut calls: Vec<Result<Call, BadRecord>> = Vec::new();
    while let Some((at, req)) = next_json::<Request>(&mut split, r, tally, MAX_OTLP_LINE_BYTES)? {
        calls.clear();
        let mut skipped = 0u64;
        for (i, rs) in req.resource_spans.iter().enumerate() {
            for (j, ss) in rs.scope_spans.iter().enumerate() {
                for (k, sp) in ss.spans.iter().enumerate() {
                    let where_ = format!("resourceSpans[{i}].scopeSpans[{j}].spans[{k}]");
                    match span_call(sp, &rs.resource.attributes) {
                        Ok(Some(c)) => calls.push(Ok(c)),
                        Ok(None) => skipped += 1,
                        Err((field, msg)) => calls.push(Err(BadRecord::new(
                            at.line,
                            Some(at.column),
                            &format!("{where_}.{field}"),
                            msg,
                            ProblemCode::InvalidValue,
                        ))),
                    }
                }
            }
        }
        for c in calls.drain(..) {
            match c {
                Ok(c) => tally.call(&c),
                Err(b) => tally.bad(b),
            }
        }
        for _ in 0..skipped {
            tally.skipped();
        }
    }
    Ok(())
}

fn count(k: Key, v: &Scalar) -> Result<u64, (String, String)> {
    let bad = |m: String| (k.name().to_string(), m);
    match v {
        Scalar::Int(i) if *i >= 0 && *i <= i128::from(u64::MAX) => Ok(*i as u64),
        Scalar::Int(i) => Err(bad(format!("{i} is not a token count (a whole number of at least 0)"))),
        Scalar::Double(f) if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19 => Ok(*f as u64),
        Scalar::Double(f) => Err(bad(format!("{f} is not a token count (a whole number of at least 0)"))),
        Scalar::Str(s) => super::mapped::count_text(s).map_err(bad),
        Scalar::Other(what) => Err(bad(format!("is {what}, not a token count (intValue)"))),
        Scalar::Bad(m) => Err(bad(m.clone())),
    }
}

fn text(v: Option<&Scalar>) -> Option<&str> {
    match v {
        Some(Scalar::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// A span as a call, `None` when it is not one (no token usage, or a wrapper).
fn span_call(sp: &SpanRec, resource: &Attrs) -> Result<Option<Call>, (String, String)> {
    let a = &sp.attributes;
    let input = a
        .get(Key::InputTokens)
        .map(|v| (Key::InputTokens, v))
        .or_else(|| a.get(Key::PromptTokens).map(|v| (Key::PromptTokens, v)));
    let output = a
        .get(Key::OutputTokens)
        .map(|v| (Key::OutputTokens, v))
        .or_else(|| a.get(Key::CompletionTokens).map(|v| (Key::CompletionTokens, v)));
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    if text(a.get(Key::Operation)).is_some_and(|op| WRAPPER_OPERATIONS.contains(&op)) {
        return Ok(None);
    }
    let input_tokens = input.map_or(Ok(0), |(k, v)| count(k, v))?;
    let output_tokens = output.map_or(Ok(0), |(k, v)| count(k, v))?;
    let cached_tokens = a.get(Key::CacheRead).map(|v| count(Key::CacheRead, v)).transpose()?;
    let model = match text(a.get(Key::ResponseModel)).or_else(|| text(a.get(Key::RequestModel))) {
        Some(m) => model_text(m).map_err(|e| ("gen_ai.response.model".to_string(), e))?,
        None => None,
    };
    let user = text(a.get(Key::UserId))
        .or_else(|| text(a.get(Key::EnduserId)))
        .or_else(|| text(resource.get(Key::UserId)))
        .or_else(|| text(resource.get(Key::EnduserId)))
        .map(id_hash);
    let trace = sp.trace_id.trim();
    let interaction = if !trace.is_empty() && !trace.bytes().all(|b| b == b'0') {
        Some(id_hash(&trace.to_ascii_lowercase()))
    } else {
        text(a.get(Key::ConversationId))
            .or_else(|| text(a.get(Key::SessionId)))
            .or_else(|| text(resource.get(Key::SessionId)))
            .map(id_hash)
    };
    let time_s = match &sp.start_time_unix_nano {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            let ns: Option<u64> = match v {
                serde_json::Value::String(s) => s.trim().parse().ok(),
                serde_json::Value::Number(n) => n.as_u64(),
                _ => None,
            };
            match ns {
                // 0 is the field's default: not set
                Some(0) => None,
                Some(ns) => Some((ns / 1_000_000_000) as f64 + (ns % 1_000_000_000) as f64 / 1e9),
                None => {
                    return Err((
                        "startTimeUnixNano".into(),
                        format!("`{v}` is not a time in nanoseconds since the Unix epoch"),
                    ));
                }
            }
        }
    };
    let call = Call {
        time_s,
        user,
        tenant: None,
        interaction,
        model,
        input_tokens,
        output_tokens,
        cached_tokens,
        spend_usd: None,
    };
    check_cached(&call).map_err(|e| (Key::CacheRead.name().to_string(), e))?;
    Ok(Some(call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_follow_the_otlp_json_encoding() {
        let a: Attrs = serde_json::from_str(
            r#"[{"key":"gen_ai.usage.input_tokens","value":{"intValue":"120"}},
                {"key":"gen_ai.usage.output_tokens","value":{"intValue":45}},
                {"key":"http.method","value":{"stringValue":"POST"}},
                {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
                {"key":"user.id","value":{"arrayValue":{"values":[]}}}]"#,
        )
        .unwrap();
        assert_eq!(a.0.len(), 4, "only the keys read are kept");
        assert_eq!(a.get(Key::InputTokens), Some(&Scalar::Int(120)));
        assert_eq!(a.get(Key::OutputTokens), Some(&Scalar::Int(45)));
        assert_eq!(a.get(Key::RequestModel), Some(&Scalar::Str("gpt-4o".into())));
        assert_eq!(a.get(Key::UserId), Some(&Scalar::Other("an array")));
    }
}
