//! A small block-YAML writer for exported manifests: every string is written
//! as a JSON string (a valid YAML double-quoted scalar), so nothing from a
//! spec can change the document's structure.

use std::fmt::Write as _;

use serde_json::Value as Json;

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !k.starts_with(['-', '.'])
    {
        k.to_string()
    } else {
        Json::String(k.to_string()).to_string()
    }
}

fn scalar(v: &Json) -> String {
    match v {
        Json::Object(m) if m.is_empty() => "{}".into(),
        Json::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &Json) -> bool {
    matches!(v, Json::Object(m) if !m.is_empty()) || matches!(v, Json::Array(a) if !a.is_empty())
}

/// `v` as block YAML, each line indented by `indent` spaces.
pub(crate) fn emit(v: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Json::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                if is_block(val) {
                    let _ = writeln!(out, "{pad}{}:", key(k));
                    let inner = if matches!(val, Json::Array(_)) {
                        indent
                    } else {
                        indent + 2
                    };
                    emit(val, inner, out);
                } else {
                    let _ = writeln!(out, "{pad}{}: {}", key(k), scalar(val));
                }
            }
        }
        Json::Array(a) if !a.is_empty() => {
            for item in a {
                item_into(item, indent, out);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

/// One list item `- ...` at `indent`.
pub(crate) fn item_into(item: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    if is_block(item) {
        let mut inner = String::new();
        emit(item, indent + 2, &mut inner);
        // The first line's indent becomes the dash.
        let body = &inner[indent + 2..];
        let _ = write!(out, "{pad}- {body}");
    } else {
        let _ = writeln!(out, "{pad}- {}", scalar(item));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_strings_stay_scalars_and_the_text_parses_back() {
        let v = json!({"metadata": {"name": "a\n- b: c", "x: y": ["# not a comment", {"k": "'q'", "n": 1}]}, "e": [], "m": {}});
        let mut s = String::new();
        emit(&v, 0, &mut s);
        let back: Json = serde_saphyr::from_str(&s).expect(&s);
        assert_eq!(back, v, "{s}");
    }
}
