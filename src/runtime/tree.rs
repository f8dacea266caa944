//! Reading gateway configuration files: loaded as YAML documents (JSON is
//! YAML), recognised by shape, and read leniently (a gateway file holds far
//! more than the limits costgate compares) but with every value costgate
//! reads checked, and named by line, column and key path when it is wrong.

use std::sync::Arc;

use crate::input::node::{Node, Value};
use crate::source::{Loc, Problem, ProblemCode, Span};

use super::Gateway;

/// A problem in a gateway file.
pub(crate) fn problem(file: &Arc<str>, loc: Loc, path: &str, message: impl Into<String>) -> Problem {
    Problem {
        code: ProblemCode::InvalidValue,
        span: Span::new(file, loc, path),
        message: message.into(),
        hint: None,
    }
}

/// A problem of a given code.
pub(crate) fn problem_as(
    file: &Arc<str>,
    code: ProblemCode,
    loc: Loc,
    path: &str,
    message: impl Into<String>,
) -> Problem {
    Problem {
        code,
        span: Span::new(file, loc, path),
        message: message.into(),
        hint: None,
    }
}

/// The file's documents (one for JSON and most YAML; several for manifests).
pub(crate) fn load(path: &std::path::Path, name: &Arc<str>) -> Result<Vec<Node>, Problem> {
    let text =
        crate::input::read_text(path).map_err(|e| problem_as(name, ProblemCode::Unreadable, e.loc, "", e.message))?;
    let docs = crate::input::node::parse_yaml_documents(&text)
        .map_err(|e| problem_as(name, ProblemCode::Syntax, e.loc, "", e.message))?;
    // A `kubectl get -o yaml` List holds its objects under `items`.
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        if str_at(&d, "kind") == Some("List")
            && let Some(Value::Seq(items)) = get(&d, "items").map(|n| &n.value)
        {
            out.extend(items.iter().cloned());
        } else {
            out.push(d);
        }
    }
    Ok(out)
}

/// Whether the file is one empty JSON list (or `{"data": []}`).
pub(crate) fn is_empty_list(docs: &[Node]) -> bool {
    match docs {
        [d] => match &d.value {
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) if entries.len() == 1 => {
                matches!(get(d, "data").map(|n| &n.value), Some(Value::Seq(items)) if items.is_empty())
            }
            _ => false,
        },
        _ => false,
    }
}

/// Which gateway the documents belong to, from their shape.
pub(crate) fn recognise(docs: &[Node]) -> Option<Gateway> {
    let first = docs.first()?;
    if docs.iter().any(|d| {
        str_at(d, "apiVersion")
            .is_some_and(|v| v.starts_with("aigateway.envoyproxy.io/") || v.starts_with("gateway.envoyproxy.io/"))
    }) {
        return Some(Gateway::Envoy);
    }
    if get(first, "_format_version").is_some()
        || get(first, "plugins").is_some()
            && (get(first, "services").is_some() || get(first, "consumer_groups").is_some())
    {
        return Some(Gateway::Kong);
    }
    // costgate's Portkey `policies.json`.
    if get(first, "usage_limits").is_some() || get(first, "rate_limits").is_some() {
        return Some(Gateway::Portkey);
    }
    if get(first, "litellm_settings").is_some()
        || get(first, "general_settings").is_some()
        || get(first, "model_list").is_some()
    {
        return Some(Gateway::Litellm);
    }
    // JSON: a list of objects, or `{"data": [...]}` as list endpoints answer.
    let items: &[Node] = match &first.value {
        Value::Seq(items) => items,
        Value::Map(_) => match get(first, "data").map(|n| &n.value) {
            Some(Value::Seq(items)) => items,
            _ => std::slice::from_ref(first),
        },
        _ => return None,
    };
    let any = |keys: &[&str]| items.iter().any(|i| keys.iter().any(|k| get(i, k).is_some()));
    // Portkey policies, bare or in the documentation's `{"type": ..., "policy": {...}}`.
    let policy = |i: &Node| {
        let p = get(i, "policy").unwrap_or(i);
        ["credit_limit", "periodic_reset", "periodic_reset_days"]
            .iter()
            .any(|k| get(p, k).is_some())
            || get(p, "conditions").is_some() && get(p, "group_by").is_some()
    };
    if items.iter().any(policy) {
        return Some(Gateway::Portkey);
    }
    if any(&["budget_id", "team_id", "user_id", "key_alias", "token", "max_budget"]) {
        return Some(Gateway::Litellm);
    }
    // Kong's Admin API `GET /plugins`: plugin objects with a name and a config.
    if items.iter().any(|i| {
        str_at(i, "name") == Some("ai-rate-limiting-advanced")
            || str_at(i, "name").is_some()
                && matches!(get(i, "config").map(|c| &c.value), Some(Value::Map(_)))
                && (get(i, "protocols").is_some() || get(i, "consumer_group").is_some())
    }) {
        return Some(Gateway::Kong);
    }
    None
}

/// The value of `key` in a mapping.
pub(crate) fn get<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The string at `key`, if it is one.
pub(crate) fn str_at<'n>(n: &'n Node, key: &str) -> Option<&'n str> {
    match &get(n, key)?.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// The items of a list (none when it is not one).
pub(crate) fn items(n: &Node) -> &[Node] {
    match &n.value {
        Value::Seq(items) => items,
        _ => &[],
    }
}

/// A number at `key`: `Ok(None)` when absent or null, an error naming the
/// key when it is not a finite, non-negative number.
pub(crate) fn number_at(file: &Arc<str>, n: &Node, key: &str, path: &str) -> Result<Option<(f64, Loc)>, Problem> {
    let Some(v) = get(n, key) else { return Ok(None) };
    let p = child(path, key);
    let x = match &v.value {
        Value::Null => return Ok(None),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        // LiteLLM's API answers with numbers; a config may quote them.
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| problem_as(file, ProblemCode::WrongType, v.loc, &p, "expected a number"))?,
        other => {
            return Err(problem_as(
                file,
                ProblemCode::WrongType,
                v.loc,
                &p,
                format!("expected a number, found {}", other.kind()),
            ));
        }
    };
    if !x.is_finite() || x < 0.0 {
        return Err(problem_as(
            file,
            ProblemCode::OutOfRange,
            v.loc,
            &p,
            "a limit must be a finite number of at least 0",
        ));
    }
    Ok(Some((x, v.loc)))
}

/// The boolean at `key` (absent: `false`).
pub(crate) fn bool_at(file: &Arc<str>, n: &Node, key: &str, path: &str) -> Result<bool, Problem> {
    match get(n, key).map(|v| (v, &v.value)) {
        None | Some((_, Value::Null)) => Ok(false),
        Some((_, Value::Bool(b))) => Ok(*b),
        Some((v, other)) => Err(problem_as(
            file,
            ProblemCode::WrongType,
            v.loc,
            &child(path, key),
            format!("expected true or false, found {}", other.kind()),
        )),
    }
}

/// `path.key`.
pub(crate) fn child(path: &str, key: &str) -> String {
    crate::input::read::child(path, key)
}

/// `path[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}
