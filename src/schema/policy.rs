//! The policy's JSON Schema (`costgate schema policy`): `costgate.toml` as
//! `policy::load_str` reads it, generated from the reader's own tables (the
//! threshold keys, the rule registry and its levels).

use serde_json::{Map, Value, json};

use super::{Field, POLICY_URL, def, document, name, non_negative, object, opt, positive, req, share, words};
use crate::policy::{Level, Rule, THRESHOLD_KEYS};

/// The words of a rule's level (as the `[rules]` reader takes them).
const LEVELS: [(&str, Level); 4] = [
    ("deny", Level::Deny),
    ("approve", Level::Approve),
    ("warn", Level::Warn),
    ("allow", Level::Allow),
];

/// What a threshold means, and its schema (the checks of
/// `policy::threshold_value`).
fn threshold(key: &str) -> (Value, &'static str) {
    match key {
        "worst_case_monthly_usd" => (non_negative(), "The worst-case month may not pass this (USD)."),
        "p95_monthly_usd" => (
            non_negative(),
            "The month at `confidence` may not pass this (USD); named p95 whatever the confidence.",
        ),
        "approval_cost_revenue_ratio" => (non_negative(), "Cost / revenue above this needs an executive approval."),
        "max_cost_revenue_ratio" => (non_negative(), "Cost / revenue above this is blocked."),
        "max_cost_per_call_usd" => (non_negative(), "One call at the limits may not cost more (USD)."),
        "infra_monthly_budget_usd" => (non_negative(), "The infrastructure budget (USD a month)."),
        "max_infra_budget_share" => (
            share(),
            "Most of the infrastructure budget one feature's month at `confidence` may take (0..1).",
        ),
        "max_paying_blocked_share" => (
            share(),
            "Limits may block at most this share of a paying tier's active user-days (0..1).",
        ),
        "max_unserved_share" => (
            share(),
            "Most of a tier's demand that may go unserved, read at `confidence` (0..1).",
        ),
        "confidence" => (
            percentile_schema(),
            "The percentile read as the \"bad month\" (0.5 to below 1).",
        ),
        "worst_case_quantile" => (
            percentile_schema(),
            "Where counts with no upper end are read for the worst case (0.5 to below 1).",
        ),
        "max_oncall_pages_per_month" => (
            non_negative(),
            "Most expected on-call pages a month from the breakers (off by default).",
        ),
        _ => (non_negative(), ""),
    }
}

/// A percentile: 0.5 <= v < 1 (`policy::threshold_value`).
fn percentile_schema() -> Value {
    json!({ "type": "number", "minimum": 0.5, "exclusiveMaximum": 1 })
}

fn thresholds(doc: &str, with_kinds: bool) -> Value {
    let mut fields: Vec<Field> = THRESHOLD_KEYS
        .iter()
        .map(|k| {
            let (s, d) = threshold(k);
            opt(k, s, d)
        })
        .collect();
    if with_kinds {
        for kind in ["revenue", "retention", "engagement"] {
            fields.push(opt(
                kind,
                def("thresholds_per_kind"),
                match kind {
                    "revenue" => "Overrides for features whose value kind is revenue.",
                    "retention" => "Overrides for features whose value kind is retention.",
                    _ => "Overrides for features whose value kind is engagement (built in: approval_cost_revenue_ratio = 0.05).",
                },
            ));
        }
    }
    object(doc, fields)
}

/// The policy's schema.
pub fn schema() -> Value {
    let mut defs = Map::new();
    defs.insert(
        "thresholds".into(),
        thresholds(
            "Thresholds; each can be overridden per value kind ([thresholds.revenue], ...).",
            true,
        ),
    );
    defs.insert(
        "thresholds_per_kind".into(),
        thresholds("Thresholds for the features of one value kind.", false),
    );
    let mut rules = Map::new();
    for r in Rule::ALL {
        let mut s = words(&LEVELS);
        if let Value::Object(o) = &mut s {
            o.insert(
                "description".into(),
                json!(format!("{} (default: {})", r.summary(), r.default_level().as_str())),
            );
        }
        rules.insert(r.code().to_string(), s);
    }
    defs.insert(
        "rules".into(),
        json!({
            "description": "The level of a rule, by its code: deny | approve | warn | allow (`costgate rules` lists them).",
            "type": "object",
            "properties": rules,
            "additionalProperties": false,
        }),
    );
    let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
    defs.insert(
        "exception".into(),
        object(
            "A rule waived for one feature, with a reason and an expiry.",
            vec![
                req(
                    "rule",
                    json!({ "type": "string", "enum": codes }),
                    "The rule code it waives.",
                ),
                req("feature", name(), "The feature id it applies to."),
                req("reason", name(), "Why the exception is acceptable."),
                req(
                    "expires",
                    json!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" }),
                    "The last day it applies (YYYY-MM-DD).",
                ),
            ],
        ),
    );
    defs.insert(
        "approvals".into(),
        object(
            "How approvals are judged (docs/approvals.md).",
            vec![
                opt(
                    "max_drift",
                    non_negative(),
                    "How far approved figures may grow before an approval lapses (0.05 = 5%).",
                ),
                opt(
                    "allowed_signers",
                    name(),
                    "The OpenSSH allowed_signers file naming who may sign approvals (relative to this file).",
                ),
                opt(
                    "require_signature",
                    json!({ "type": "boolean" }),
                    "true: only signed approvals cover (needs allowed_signers).",
                ),
            ],
        ),
    );
    defs.insert(
        "pricing".into(),
        object(
            "Where prices come from (docs/pricing.md).",
            vec![
                opt(
                    "source",
                    name(),
                    "The default price source (default: the pinned snapshot if there is one, else the built-in catalog).",
                ),
                opt(
                    "max_age_days",
                    positive(),
                    "A pinned snapshot older than this many days is a finding (off by default).",
                ),
            ],
        ),
    );
    defs.insert(
        "portfolio".into(),
        object(
            "Every feature a run covers, against one AI budget.",
            vec![
                opt(
                    "monthly_budget_usd",
                    positive(),
                    "The features' months at `confidence`, added up, must stay under this (USD).",
                ),
                opt(
                    "infra_monthly_budget_usd",
                    positive(),
                    "Overrides the thresholds' infrastructure budget for the portfolio (USD a month).",
                ),
                opt(
                    "max_infra_budget_share",
                    share(),
                    "Overrides the thresholds' max_infra_budget_share for the portfolio.",
                ),
            ],
        ),
    );
    let body = object(
        "costgate.toml: the organisation's cost policy (README: The policy). Everything not set keeps its built-in default (`costgate policy --defaults`).",
        vec![
            opt(
                "thresholds",
                def("thresholds"),
                "Thresholds the rules compare figures with.",
            ),
            opt("rules", def("rules"), "Rule levels."),
            opt(
                "exceptions",
                json!({ "type": "array", "items": def("exception") }),
                "Rules waived for one feature until a day ([[exceptions]]).",
            ),
            opt("approvals", def("approvals"), "Approvals."),
            opt("pricing", def("pricing"), "Pricing."),
            opt(
                "portfolio",
                def("portfolio"),
                "One AI budget for every feature a run covers.",
            ),
        ],
    );
    document(POLICY_URL, "costgate policy (costgate.toml)", body, defs)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{UNKNOWN, assert_portable, known_at, objects, properties_at};
    use super::*;

    fn known(toml: &str, path: &str) -> Vec<String> {
        let problems = crate::policy::load_str("costgate.toml", toml).expect_err(toml);
        known_at(&problems, path)
    }

    /// (the schema object, a policy with [`UNKNOWN`] in it, its path)
    fn cases() -> Vec<(&'static str, String, &'static str)> {
        let u = UNKNOWN;
        vec![
            ("", format!("{u} = 1\n"), ""),
            ("/$defs/thresholds", format!("[thresholds]\n{u} = 1\n"), "thresholds"),
            (
                "/$defs/thresholds_per_kind",
                format!("[thresholds.revenue]\n{u} = 1\n"),
                "thresholds.revenue",
            ),
            (
                "/$defs/exception",
                format!(
                    "[[exceptions]]\nrule = \"stale-pricing\"\nfeature = \"f\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n{u} = 1\n"
                ),
                "exceptions[0]",
            ),
            ("/$defs/approvals", format!("[approvals]\n{u} = 1\n"), "approvals"),
            ("/$defs/pricing", format!("[pricing]\n{u} = 1\n"), "pricing"),
            (
                "/$defs/portfolio",
                format!("[portfolio]\nmonthly_budget_usd = 5\n{u} = 1\n"),
                "portfolio",
            ),
        ]
    }

    #[test]
    fn every_object_of_the_schema_has_the_fields_the_reader_reads_there() {
        let s = schema();
        for (pointer, toml, path) in cases() {
            assert_eq!(
                properties_at(&s, pointer),
                known(&toml, path),
                "the schema at {pointer} and the policy reader at `{path}` disagree"
            );
        }
        // every threshold of the per-kind tables is one of the thresholds
        for kind in ["revenue", "retention", "engagement"] {
            assert_eq!(
                known(
                    &format!("[thresholds.{kind}]\n{UNKNOWN} = 1\n"),
                    &format!("thresholds.{kind}")
                ),
                properties_at(&s, "/$defs/thresholds_per_kind")
            );
        }
    }

    #[test]
    fn every_object_of_the_schema_is_checked_against_the_reader() {
        let s = schema();
        let mut covered: Vec<String> = cases().into_iter().map(|(p, _, _)| p.to_string()).collect();
        covered.push("/$defs/rules".into());
        covered.sort();
        assert_eq!(objects(&s), covered);
    }

    #[test]
    fn the_rules_are_the_registry_and_their_levels_the_readers() {
        let s = schema();
        let rules = s["$defs"]["rules"]["properties"].as_object().unwrap();
        let codes: Vec<&str> = rules.keys().map(String::as_str).collect();
        let mut want: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
        want.sort_unstable();
        assert_eq!(codes, want);
        // every code at every level the schema lists reads back; a code the
        // registry does not know does not
        for (code, r) in rules {
            for level in r["enum"].as_array().unwrap() {
                let text = format!("[rules]\n{code} = {level}\n");
                crate::policy::load_str("costgate.toml", &text).unwrap_or_else(|p| panic!("{text}: {p:?}"));
            }
        }
        assert!(crate::policy::load_str("costgate.toml", "[rules]\nno-such-rule = \"deny\"\n").is_err());
        let problems = crate::policy::load_str("costgate.toml", "[rules]\nstale-pricing = \"nope\"\n").unwrap_err();
        let levels: Vec<&str> = LEVELS.iter().map(|(w, _)| *w).collect();
        assert!(
            problems[0]
                .hint
                .as_deref()
                .unwrap()
                .ends_with(&format!("one of: {}", levels.join(" | "))),
            "{problems:?}"
        );
    }

    #[test]
    fn every_threshold_has_a_description() {
        for k in THRESHOLD_KEYS {
            assert!(!threshold(k).1.is_empty(), "{k}");
        }
    }

    #[test]
    fn the_schema_uses_only_portable_keywords() {
        assert_portable(&schema());
    }
}
