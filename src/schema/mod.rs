//! JSON Schemas (draft 2020-12) of the spec and of `costgate.toml`, for
//! editors (`costgate schema spec|policy`, committed under `schemas/`).
//!
//! The spec and the policy are read by hand-written readers
//! ([`crate::spec`], [`crate::policy`]) that report every unknown field
//! with the list of the fields known at that place. The schemas are built
//! here, beside them, from the readers' own tables where the readers have
//! one (the threshold keys, the rule codes, the words each field accepts),
//! and field by field elsewhere. The unit tests of [`spec`] and [`policy`]
//! hold the two together: for every object of a schema they make the reader
//! read a mapping at that place with one unknown field and check that the
//! fields the reader says it knows there are exactly the schema's
//! properties; and every object of the schema must be covered by such a
//! case. A field added to a reader without the schema (or the reverse)
//! fails those tests.
//!
//! Only keywords whose meaning is the same in draft 7 and 2020-12 are used
//! (checked by a test), so editors whose validator predates 2020-12 (the
//! YAML extension of VS Code among them) read the schemas the same way.

use serde_json::{Map, Value, json};

pub mod policy;
pub mod spec;

/// Where a released schema is published: the file under `schemas/` at the
/// release's tag (the project's repository, as `Cargo.toml` names it).
macro_rules! schema_url {
    ($file:literal) => {
        concat!(
            "https://raw.githubusercontent.com/costgate/costgate/v",
            env!("CARGO_PKG_VERSION"),
            "/schemas/",
            $file
        )
    };
}

/// The spec schema's file under `schemas/`.
pub const SPEC_FILE: &str = "costgate-spec.schema.json";
/// The policy schema's file under `schemas/`.
pub const POLICY_FILE: &str = "costgate-policy.schema.json";
/// The spec schema's `$id`: its URL at this version's release tag (what the
/// specs `costgate init` writes point their editor at).
pub const SPEC_URL: &str = schema_url!("costgate-spec.schema.json");
/// The policy schema's `$id`: its URL at this version's release tag (what
/// the `costgate.toml` of `costgate policy --defaults` points taplo at).
pub const POLICY_URL: &str = schema_url!("costgate-policy.schema.json");

/// The draft the schemas declare.
const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The largest number any input may hold, either side of zero
/// ([`crate::input::read::MAX_NUMBER`]).
const MAX: f64 = crate::input::read::MAX_NUMBER;

/// A schema as the text `costgate schema` prints (and `schemas/` holds):
/// pretty JSON, two-space indent, a final newline.
pub fn to_text(schema: &Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
    s.push('\n');
    s
}

/// One field of an object: its name, whether it is required, its schema
/// (a `description` is added to it).
pub(crate) struct Field {
    name: &'static str,
    required: bool,
    schema: Value,
    doc: &'static str,
}

/// A required field.
pub(crate) fn req(name: &'static str, schema: Value, doc: &'static str) -> Field {
    Field {
        name,
        required: true,
        schema,
        doc,
    }
}

/// An optional field.
pub(crate) fn opt(name: &'static str, schema: Value, doc: &'static str) -> Field {
    Field {
        name,
        required: false,
        schema,
        doc,
    }
}

/// A closed object: these fields and no other (the readers refuse unknown
/// fields), `required` listing the required ones.
pub(crate) fn object(doc: &str, fields: Vec<Field>) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut s = f.schema;
        if let Value::Object(o) = &mut s {
            o.insert("description".into(), Value::String(f.doc.to_string()));
        }
        if f.required {
            required.push(Value::String(f.name.to_string()));
        }
        props.insert(f.name.to_string(), s);
    }
    let mut o = Map::new();
    o.insert("description".into(), Value::String(doc.to_string()));
    o.insert("type".into(), json!("object"));
    o.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        o.insert("required".into(), Value::Array(required));
    }
    o.insert("additionalProperties".into(), json!(false));
    Value::Object(o)
}

/// A reference to `$defs/name`.
pub(crate) fn def(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// Any number the readers take (`read::number`).
pub(crate) fn number() -> Value {
    json!({ "type": "number", "minimum": -MAX, "maximum": MAX })
}

/// A number of zero or more (`read::non_negative`).
pub(crate) fn non_negative() -> Value {
    json!({ "type": "number", "minimum": 0, "maximum": MAX })
}

/// A number above zero (`read::positive`).
pub(crate) fn positive() -> Value {
    json!({ "type": "number", "exclusiveMinimum": 0, "maximum": MAX })
}

/// A share in 0..=1 (`read::share`).
pub(crate) fn share() -> Value {
    json!({ "type": "number", "minimum": 0, "maximum": 1 })
}

/// A whole number in `min..=max` (`read::whole`; 3.0 is whole, as JSON
/// Schema's `integer` reads it too).
pub(crate) fn whole(min: f64, max: f64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// Any string (`read::string`; a TOML date reads as its text).
pub(crate) fn string() -> Value {
    json!({ "type": "string" })
}

/// A string that is not blank (`read::name`).
pub(crate) fn name() -> Value {
    json!({ "type": "string", "pattern": "\\S" })
}

/// One of the words a field accepts (`read::word`'s options).
pub(crate) fn words<T>(options: &[(&'static str, T)]) -> Value {
    let w: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    json!({ "type": "string", "enum": w })
}

/// The schema's head: draft, `$id`, title and description, then `body`'s
/// keys, then `$defs`.
pub(crate) fn document(id: &str, title: &str, body: Value, defs: Map<String, Value>) -> Value {
    let mut o = Map::new();
    o.insert("$schema".into(), json!(DRAFT));
    o.insert("$id".into(), json!(id));
    o.insert("title".into(), json!(title));
    if let Value::Object(b) = body {
        o.extend(b);
    }
    if !defs.is_empty() {
        o.insert("$defs".into(), Value::Object(defs));
    }
    Value::Object(o)
}

#[cfg(test)]
pub(crate) mod testing {
    //! What the drift tests of [`super::spec`] and [`super::policy`] share.

    use serde_json::Value;

    /// The unknown field the drift tests put in a mapping: near no known
    /// field, so the reader lists every field it knows there.
    pub(crate) const UNKNOWN: &str = "qqqqqqqqqqqq";

    /// The fields the reader knows at `path`, from the hint of the
    /// unknown-field problem it reports for [`UNKNOWN`] there.
    pub(crate) fn known_at(problems: &[crate::source::Problem], path: &str) -> Vec<String> {
        let at = if path.is_empty() {
            UNKNOWN.to_string()
        } else {
            format!("{path}.{UNKNOWN}")
        };
        let p = problems
            .iter()
            .find(|p| p.span.path == at)
            .unwrap_or_else(|| panic!("no problem at {at}: {problems:#?}"));
        assert_eq!(p.code, crate::source::ProblemCode::UnknownField, "{p:?}");
        let hint = p.hint.as_deref().unwrap_or_default();
        let list = hint
            .strip_prefix("known fields here: ")
            .unwrap_or_else(|| panic!("{at}: the hint lists no known fields: {hint}"));
        let mut v: Vec<String> = list.split(", ").map(str::to_string).collect();
        v.sort();
        v
    }

    /// The property names of the object at `pointer` in `schema`, sorted.
    pub(crate) fn properties_at(schema: &Value, pointer: &str) -> Vec<String> {
        let o = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("nothing at {pointer}"));
        assert_eq!(o["additionalProperties"], Value::Bool(false), "{pointer} is closed");
        let mut v: Vec<String> = o["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{pointer} has no properties"))
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// The JSON pointers of every object schema with `properties` in
    /// `schema` (the places a drift case must cover).
    pub(crate) fn objects(schema: &Value) -> Vec<String> {
        fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
            match v {
                Value::Object(o) => {
                    if o.contains_key("properties") && o.get("type") == Some(&Value::from("object")) {
                        out.push(at.to_string());
                    }
                    for (k, c) in o {
                        // a property named like a keyword is still a property
                        walk(c, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        walk(c, &format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(schema, "", &mut out);
        out.sort();
        out
    }

    /// The keywords allowed: those that mean the same in draft 7 and
    /// 2020-12 (`$defs` is only a place `$ref` points into by JSON pointer,
    /// which a draft-7 validator resolves too), and annotations.
    const KEYWORDS: [&str; 26] = [
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "pattern",
        "default",
        "examples",
    ];

    /// Every keyword of `schema` is one of [`KEYWORDS`] (property names
    /// and `$defs` names excepted).
    pub(crate) fn assert_portable(schema: &Value) {
        fn walk(v: &Value, at: &str) {
            match v {
                Value::Object(o) => {
                    for (k, c) in o {
                        assert!(KEYWORDS.contains(&k.as_str()), "{at}: keyword `{k}`");
                        match k.as_str() {
                            "properties" | "$defs" => {
                                for (name, s) in c.as_object().unwrap() {
                                    walk(s, &format!("{at}/{k}/{name}"));
                                }
                            }
                            "enum" | "const" | "default" | "examples" | "required" => {}
                            _ => walk(c, &format!("{at}/{k}")),
                        }
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        walk(c, &format!("{at}/{i}"));
                    }
                }
                _ => {}
            }
        }
        walk(schema, "");
    }
}
