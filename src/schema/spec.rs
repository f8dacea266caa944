//! The spec's JSON Schema (`costgate schema spec`): the fields
//! `spec::decode` reads, where it reads them, with the words it accepts.
//!
//! What the schema cannot say is checked by `costgate validate` only: a key
//! under `models:` that a tier names, a tier's audience (`users`, or
//! `tenants` with `users_per_tenant`), the order of a distribution's
//! figures (p50 <= p95, low <= mode <= high), the catalog's model names,
//! and the bounds on the work a spec asks for.

use serde_json::{Map, Value, json};

use super::{
    Field, MAX, SPEC_URL, def, document, name, non_negative, number, object, opt, positive, req, share, string, whole,
    words,
};
use crate::spec::{FORMAT_VERSION, MAX_ACCOUNTS, MAX_TOPUPS_PER_MONTH};

/// The words of `value.kind` (as `spec::decode` reads them).
const VALUE_KINDS: [(&str, ()); 3] = [("revenue", ()), ("retention", ()), ("engagement", ())];
/// The words of `limit.on_limit`.
const ON_LIMIT: [(&str, ()); 5] = [
    ("block", ()),
    ("fallback", ()),
    ("shrink", ()),
    ("throttle", ()),
    ("top_up", ()),
];
/// The words of `tenant_budget.on_limit` and an account's `on_limit`.
const ON_BUDGET: [(&str, ()); 2] = [("notify", ()), ("block", ())];
/// The words of a breaker's `on_trip`.
const ON_TRIP: [(&str, ()); 5] = [
    ("block", ()),
    ("throttle", ()),
    ("fallback", ()),
    ("shrink", ()),
    ("notify", ()),
];
/// Who a breaker's `notify` names.
const NOTIFY: [(&str, ()); 3] = [("user", ()), ("account-manager", ()), ("on-call", ())];
/// The words of a triangular quantity's `shape`.
const SHAPES: [(&str, ()); 2] = [("triangular", ()), ("pert", ())];

/// `measured`, in every distribution form.
fn measured() -> Field {
    opt(
        "measured",
        string(),
        "Where the figures were measured (e.g. \"beta logs, 2026-10\"): the assumptions list it as `measured`.",
    )
}

/// The distribution forms, by `$defs` name.
fn forms(defs: &mut Map<String, Value>) {
    defs.insert(
        "lognormal".into(),
        object(
            "A lognormal through its median and 95th percentile; optional `min` and `max` clip the draws.",
            vec![
                req("p50", positive(), "The median (above zero)."),
                req("p95", number(), "The 95th percentile: at least p50."),
                opt("min", number(), "The smallest value a draw takes (at most p95)."),
                opt(
                    "max",
                    number(),
                    "The largest value a draw takes (at least p50): the worst case reads it.",
                ),
                measured(),
            ],
        ),
    );
    defs.insert(
        "triangular".into(),
        object(
            "A triangular distribution (low <= mode <= high), or PERT with `shape: pert`.",
            vec![
                req("low", number(), "The smallest value."),
                req(
                    "mode",
                    number(),
                    "The most likely value: the month at central inputs reads it.",
                ),
                req("high", number(), "The largest value: the worst case reads it."),
                opt(
                    "shape",
                    words(&SHAPES),
                    "`triangular` (the default) or `pert` (PERT, lambda = 4).",
                ),
                measured(),
            ],
        ),
    );
    defs.insert(
        "normal".into(),
        object(
            "A normal distribution, truncated to `min`/`max` and to the quantity's valid range.",
            vec![
                req("mean", number(), "The mean: the month at central inputs reads it."),
                req("sd", non_negative(), "The standard deviation (zero or more)."),
                opt("min", number(), "The smallest value a draw takes."),
                opt(
                    "max",
                    number(),
                    "The largest value a draw takes: the worst case reads it.",
                ),
                measured(),
            ],
        ),
    );
    defs.insert(
        "samples".into(),
        object(
            "An empirical distribution: each sample equally likely.",
            vec![
                req(
                    "samples",
                    json!({ "type": "array", "minItems": 1, "items": number() }),
                    "The samples (at least one); the largest is the worst case.",
                ),
                measured(),
            ],
        ),
    );
}

/// An uncertain quantity in `lo..=hi` (`hi` infinite: no upper bound): a
/// number in range, or one of the distribution forms.
fn quantity(doc: &str, lo: f64, hi: Option<f64>) -> Value {
    let mut n = json!({ "type": "number", "minimum": lo, "maximum": hi.unwrap_or(MAX) });
    if let Value::Object(o) = &mut n {
        o.insert("description".into(), json!("A fixed value."));
    }
    json!({
        "description": doc,
        "oneOf": [n, def("lognormal"), def("triangular"), def("normal"), def("samples")],
    })
}

fn count_quantity() -> Value {
    quantity("A count: a number (zero or more) or a distribution.", 0.0, None)
}

fn share_quantity() -> Value {
    quantity("A share in 0..1: a number or a distribution.", 0.0, Some(1.0))
}

fn alerts() -> Value {
    json!({ "type": "array", "items": positive() })
}

fn message() -> Value {
    string()
}

/// A scenario of one effect: `name`, `chance` and the effect's fields.
fn scenario(doc: &str, effect: Vec<Field>) -> Value {
    let mut fields = vec![
        req("name", name(), "The scenario's name, e.g. `viral`."),
        req("chance", share(), "The chance it happens in a month (0..1)."),
    ];
    fields.extend(effect);
    object(doc, fields)
}

fn breaker() -> Value {
    object(
        "A circuit breaker on a day's spend: it trips when the spend it counts passes `limit` in a day.",
        vec![
            req("limit", positive(), "The daily spend in USD at which it trips."),
            opt(
                "on_trip",
                words(&ON_TRIP),
                "What happens to the rest of the day: block (default) | throttle (with `factor`) | fallback (with `fallback_model`) | shrink (`factor` of the output, default 0.5) | notify (nothing is cut).",
            ),
            opt(
                "factor",
                share(),
                "With throttle: the share of the demand past the limit still served; with shrink: the share of the output kept.",
            ),
            opt(
                "fallback_model",
                name(),
                "With `on_trip: fallback`: the key under `models:` that serves once it trips.",
            ),
            opt(
                "notify",
                json!({ "oneOf": [
                    words(&NOTIFY),
                    { "type": "array", "items": words(&NOTIFY), "uniqueItems": true },
                ] }),
                "Who is told of a trip: user | account-manager | on-call, one or a list (required with `on_trip: notify`).",
            ),
            opt("message", message(), "What the users cut off are told."),
        ],
    )
}

/// The spec's schema.
pub fn schema() -> Value {
    let mut defs = Map::new();
    forms(&mut defs);
    defs.insert(
        "feature".into(),
        object(
            "The AI feature this spec describes.",
            vec![
                req(
                    "id",
                    json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]+$" }),
                    "A short id, unique among your specs: letters, digits, `.`, `_`, `-`.",
                ),
                opt("name", name(), "A display name (default: the id)."),
                opt("owner", name(), "Who answers for this feature's costs."),
                opt(
                    "value",
                    def("value"),
                    "What the feature is for (the policy's thresholds differ by kind).",
                ),
                opt(
                    "baseline",
                    def("baseline"),
                    "The non-AI way of doing the job, and what it costs.",
                ),
            ],
        ),
    );
    defs.insert(
        "value".into(),
        object(
            "What the feature is for.",
            vec![
                req(
                    "kind",
                    words(&VALUE_KINDS),
                    "revenue | retention | engagement: the policy can set thresholds per kind.",
                ),
                opt("unit", name(), "The unit of value, e.g. `saved support ticket`."),
                opt(
                    "units_per_interaction",
                    non_negative(),
                    "Units of value one interaction yields.",
                ),
                opt(
                    "usd_per_unit",
                    non_negative(),
                    "What one unit is worth in USD: gives value / cost.",
                ),
            ],
        ),
    );
    defs.insert(
        "baseline".into(),
        object(
            "The non-AI way of doing the job.",
            vec![
                opt("name", name(), "Its name (default: `the current way`)."),
                req("monthly_usd", non_negative(), "What it costs per month, in USD."),
            ],
        ),
    );
    defs.insert(
        "prices".into(),
        object(
            "A model with its own prices instead of a catalog name.",
            vec![
                req("input_usd_per_mtok", non_negative(), "USD per million input tokens."),
                req("output_usd_per_mtok", non_negative(), "USD per million output tokens."),
                opt(
                    "cached_input_usd_per_mtok",
                    non_negative(),
                    "USD per million cached input tokens.",
                ),
                opt(
                    "cache_write_usd_per_mtok",
                    non_negative(),
                    "USD per million tokens written to the cache.",
                ),
                opt("context_window", positive(), "The model's context window, in tokens."),
                opt(
                    "max_output_tokens",
                    positive(),
                    "The most output tokens one call returns.",
                ),
            ],
        ),
    );
    defs.insert(
        "interaction".into(),
        object(
            "One user interaction: its LLM calls and their tokens.",
            vec![
                opt(
                    "calls",
                    quantity("LLM calls per interaction (default 1): at least 1.", 1.0, None),
                    "LLM calls per interaction (default 1).",
                ),
                req(
                    "input_tokens",
                    count_quantity(),
                    "Input tokens per call, e.g. {p50: 1800, p95: 6000}.",
                ),
                req(
                    "output_tokens",
                    count_quantity(),
                    "Output tokens per call, e.g. {p50: 350, p95: 1100}.",
                ),
                opt(
                    "cached_input_share",
                    share_quantity(),
                    "The share of input billed at the cached rate (default 0).",
                ),
                opt(
                    "max_calls",
                    json!({ "type": "integer", "exclusiveMinimum": 0, "maximum": MAX }),
                    "The most calls an interaction makes, as the gateway enforces it: the worst case uses it.",
                ),
                opt(
                    "max_input_tokens",
                    positive(),
                    "The most input tokens a call takes (default: the model's context window).",
                ),
                opt(
                    "max_output_tokens",
                    positive(),
                    "The most output tokens a call returns (default: the model's output limit).",
                ),
            ],
        ),
    );
    defs.insert(
        "usage".into(),
        object(
            "How much the feature is used.",
            vec![
                opt("days", whole(1.0, 366.0), "The simulated month, in days (default 30)."),
                req("active_share", share_quantity(), "The share of users active on a day."),
                req(
                    "interactions_per_active_day",
                    count_quantity(),
                    "Interactions per active user per day, e.g. {p50: 3, p95: 14}.",
                ),
                opt(
                    "power_users",
                    def("power_users"),
                    "A share of users who use it much more.",
                ),
            ],
        ),
    );
    defs.insert(
        "power_users".into(),
        object(
            "Power users.",
            vec![
                req("share", share(), "The share of users who are power users, e.g. 0.02."),
                req(
                    "multiplier",
                    positive(),
                    "How many times a typical user's interactions a power user makes.",
                ),
            ],
        ),
    );
    defs.insert(
        "tier".into(),
        object(
            "A customer tier: individual `users`, or `tenants` with `users_per_tenant` (and/or named `accounts`).",
            vec![
                req("name", name(), "The tier's name, unique in the spec, e.g. `free`."),
                opt(
                    "users",
                    count_quantity(),
                    "The tier's users (a tier of individual users).",
                ),
                opt(
                    "tenants",
                    count_quantity(),
                    "The tier's tenants (a tier of tenants: the price is per tenant).",
                ),
                opt(
                    "users_per_tenant",
                    count_quantity(),
                    "Users per tenant (required with `tenants`).",
                ),
                opt(
                    "price_usd_per_month",
                    non_negative(),
                    "What a user (a tenant, for a tier of tenants) pays a month, in USD.",
                ),
                opt(
                    "model",
                    name(),
                    "The key under `models:` the tier uses (optional when there is one model).",
                ),
                opt("limit", def("limit"), "The per-user cap and what happens at it."),
                opt(
                    "overage",
                    def("overage"),
                    "Tokens past an allowance billed to the user (below a blocking cap).",
                ),
                opt(
                    "tenant_budget",
                    def("tenant_budget"),
                    "Each tenant's negotiated monthly budget (tiers of tenants).",
                ),
                opt(
                    "accounts",
                    json!({ "type": "array", "maxItems": MAX_ACCOUNTS, "items": def("account") }),
                    "Named tenants with their own users, price and budget (tiers of tenants).",
                ),
            ],
        ),
    );
    let mut limit = object(
        "A per-user cap: `daily_tokens`, `monthly_tokens` or both.",
        vec![
            opt("daily_tokens", positive(), "Tokens a user may use a day."),
            opt("monthly_tokens", positive(), "Tokens a user may use a month."),
            opt("warn_at", share(), "The share of the cap where users are warned."),
            opt(
                "on_limit",
                words(&ON_LIMIT),
                "What happens past the cap: block (default) | fallback | shrink | throttle | top_up (a top-up; who does not buy is blocked).",
            ),
            opt(
                "fallback_model",
                name(),
                "With `on_limit: fallback`: the key under `models:` that serves past the cap.",
            ),
            opt(
                "shrink_to",
                share(),
                "With shrink: the share of the output kept (default 0.5).",
            ),
            opt(
                "throttle_to",
                share(),
                "With throttle: the share of the demand past the cap served (default 0.5).",
            ),
            opt(
                "message",
                message(),
                "What users are told at the cap ({used}, {limit} and {reset} are filled in).",
            ),
            opt(
                "top_up",
                def("top_up"),
                "A paid top-up at the cap (not with `overage`).",
            ),
        ],
    );
    if let Value::Object(o) = &mut limit {
        o.insert(
            "anyOf".into(),
            json!([{ "required": ["daily_tokens"] }, { "required": ["monthly_tokens"] }]),
        );
    }
    defs.insert("limit".into(), limit);
    let mut top_up = object(
        "A paid top-up at the cap: what it costs and what it buys (`tokens` or `interactions`).",
        vec![
            req("price_usd", positive(), "What one top-up costs the user, in USD."),
            opt("tokens", positive(), "Tokens one top-up buys."),
            opt(
                "interactions",
                positive(),
                "Interactions one top-up buys (each the typical interaction's tokens).",
            ),
            req(
                "uptake",
                share_quantity(),
                "The share of users reaching the cap who buy, e.g. {low: 0.02, mode: 0.05, high: 0.1}.",
            ),
            req(
                "max_per_month",
                whole(1.0, MAX_TOPUPS_PER_MONTH),
                "The most top-ups one user buys a month.",
            ),
        ],
    );
    if let Value::Object(o) = &mut top_up {
        o.insert(
            "oneOf".into(),
            json!([{ "required": ["tokens"] }, { "required": ["interactions"] }]),
        );
    }
    defs.insert("top_up".into(), top_up);
    defs.insert(
        "overage".into(),
        object(
            "Overage billed to the user past a daily allowance.",
            vec![
                req(
                    "after_daily_tokens",
                    non_negative(),
                    "Tokens per user-day included before overage is billed.",
                ),
                req(
                    "usd_per_1k_tokens",
                    non_negative(),
                    "What the user pays per 1,000 tokens past the allowance.",
                ),
            ],
        ),
    );
    defs.insert(
        "tenant_budget".into(),
        object(
            "Each tenant's negotiated monthly AI budget.",
            vec![
                req(
                    "monthly_usd",
                    json!({ "oneOf": [
                        positive(),
                        def("lognormal"),
                        def("triangular"),
                        def("normal"),
                        def("samples"),
                    ] }),
                    "The budget in USD a month (above zero), or a distribution each tenant's budget is drawn from.",
                ),
                opt(
                    "alerts",
                    alerts(),
                    "Shares of the budget that alert (default [0.8, 1.0, 1.2]).",
                ),
                opt(
                    "on_limit",
                    words(&ON_BUDGET),
                    "notify (keep serving; the default) | block (stop the tenant).",
                ),
                opt("message", message(), "What the tenant's users are told."),
            ],
        ),
    );
    defs.insert(
        "account".into(),
        object(
            "A named tenant with its own negotiated budget.",
            vec![
                req("name", name(), "The account's name, unique in the tier."),
                req("users", count_quantity(), "The account's users."),
                opt(
                    "price_usd_per_month",
                    non_negative(),
                    "What it pays a month (default: the tier's price).",
                ),
                req("monthly_usd", positive(), "Its negotiated monthly AI budget, in USD."),
                opt(
                    "alerts",
                    alerts(),
                    "Shares of the budget that alert (default: the tier's).",
                ),
                opt("on_limit", words(&ON_BUDGET), "notify | block (default: the tier's)."),
            ],
        ),
    );
    defs.insert(
        "breakers".into(),
        object(
            "Circuit breakers on the daily spend, at up to four levels.",
            vec![
                opt("user_daily_usd", breaker(), "One user's day."),
                opt("tenant_daily_usd", breaker(), "One tenant's day (tiers of tenants)."),
                opt("feature_daily_usd", breaker(), "The feature's day."),
                opt("global_daily_usd", breaker(), "The feature's day: the emergency brake."),
            ],
        ),
    );
    defs.insert(
        "scenario_viral".into(),
        scenario(
            "A viral spike: usage multiplied for some days.",
            vec![
                req("usage_multiplier", positive(), "How many times the usual usage."),
                opt(
                    "days",
                    whole(1.0, 366.0),
                    "How many days it lasts (default 1; at most `usage.days`).",
                ),
            ],
        ),
    );
    defs.insert(
        "scenario_power_users".into(),
        scenario(
            "Power users discover the feature.",
            vec![req(
                "power_share",
                share(),
                "The share of users who become power users.",
            )],
        ),
    );
    defs.insert(
        "scenario_runaway".into(),
        scenario(
            "A runaway client calling in a loop until someone stops it.",
            vec![
                req("calls_per_hour", positive(), "Calls an hour the loop makes."),
                req(
                    "hours_until_detected",
                    positive(),
                    "How long it runs before someone stops it.",
                ),
                opt("tier", name(), "The tier of the client (default: the first)."),
            ],
        ),
    );
    defs.insert(
        "scenario_price".into(),
        scenario(
            "A price increase.",
            vec![req(
                "price_multiplier",
                positive(),
                "How many times the catalog prices.",
            )],
        ),
    );
    let body = object(
        "A costgate spec: one AI feature, its models, usage, customer tiers and controls (README: The spec).",
        vec![
            req(
                "costgate",
                json!({ "const": FORMAT_VERSION }),
                "The spec format version: 1.",
            ),
            req("feature", def("feature"), "The feature: id, name, owner, value."),
            req(
                "models",
                json!({
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {
                        "oneOf": [
                            { "type": "string", "pattern": "\\S", "description": "A name the price catalog lists (`costgate pricing list`)." },
                            def("prices"),
                        ],
                    },
                }),
                "The models the tiers use: keys the tiers name, each a catalog name or its own prices.",
            ),
            req("interaction", def("interaction"), "One user interaction."),
            req("usage", def("usage"), "How much the feature is used."),
            req(
                "tiers",
                json!({ "type": "array", "minItems": 1, "items": def("tier") }),
                "The customer tiers.",
            ),
            opt("breakers", def("breakers"), "Circuit breakers on the daily spend."),
            opt(
                "scenarios",
                json!({ "type": "array", "items": { "oneOf": [
                    def("scenario_viral"),
                    def("scenario_power_users"),
                    def("scenario_runaway"),
                    def("scenario_price"),
                ] } }),
                "Stress events, each with a chance per month and one effect.",
            ),
        ],
    );
    document(SPEC_URL, "costgate spec", body, defs)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{UNKNOWN, assert_portable, known_at, objects, properties_at};
    use super::*;

    /// A valid spec the cases put an unknown field into.
    const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}, baseline: {monthly_usd: 5}}
models: {primary: gpt-4o, own: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 10, power_users: {share: 0.1, multiplier: 2}}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

    /// What the decoder says `yaml` has at `path`: the fields it knows there.
    fn known(yaml: &str, path: &str) -> Vec<String> {
        let problems = crate::spec::load_str("t.yaml", yaml).expect_err(yaml);
        known_at(&problems, path)
    }

    /// (the schema object, a spec with [`UNKNOWN`] in that object, its path)
    fn cases() -> Vec<(&'static str, String, &'static str)> {
        let u = UNKNOWN;
        let tier = |extra: &str| {
            BASE.replace(
                "{name: pro, users: 1000, price_usd_per_month: 20, model: primary}",
                &format!("{{name: pro, price_usd_per_month: 20, model: primary, {extra}}}"),
            )
        };
        let input = |q: &str| BASE.replace("input_tokens: 1000", &format!("input_tokens: {q}"));
        let scenario = |s: &str| format!("{BASE}scenarios:\n  - {{name: s, chance: 0.1, {s}, {u}: 1}}\n");
        vec![
            ("", format!("{BASE}{u}: 1\n"), ""),
            (
                "/$defs/feature",
                BASE.replace("{id: f,", &format!("{{id: f, {u}: 1,")),
                "feature",
            ),
            (
                "/$defs/value",
                BASE.replace("{kind: revenue}", &format!("{{kind: revenue, {u}: 1}}")),
                "feature.value",
            ),
            (
                "/$defs/baseline",
                BASE.replace("{monthly_usd: 5}", &format!("{{monthly_usd: 5, {u}: 1}}")),
                "feature.baseline",
            ),
            (
                "/$defs/prices",
                BASE.replace("output_usd_per_mtok: 2}", &format!("output_usd_per_mtok: 2, {u}: 1}}")),
                "models.own",
            ),
            (
                "/$defs/interaction",
                BASE.replace("output_tokens: 500}", &format!("output_tokens: 500, {u}: 1}}")),
                "interaction",
            ),
            (
                "/$defs/lognormal",
                input(&format!("{{p50: 1000, p95: 2000, {u}: 1}}")),
                "interaction.input_tokens",
            ),
            (
                "/$defs/triangular",
                input(&format!("{{low: 1, mode: 2, high: 3, {u}: 1}}")),
                "interaction.input_tokens",
            ),
            (
                "/$defs/normal",
                input(&format!("{{mean: 1000, sd: 10, {u}: 1}}")),
                "interaction.input_tokens",
            ),
            (
                "/$defs/samples",
                input(&format!("{{samples: [1, 2], {u}: 1}}")),
                "interaction.input_tokens",
            ),
            (
                "/$defs/usage",
                BASE.replace(
                    "interactions_per_active_day: 10,",
                    &format!("interactions_per_active_day: 10, {u}: 1,"),
                ),
                "usage",
            ),
            (
                "/$defs/power_users",
                BASE.replace("multiplier: 2}", &format!("multiplier: 2, {u}: 1}}")),
                "usage.power_users",
            ),
            ("/$defs/tier", tier(&format!("users: 1, {u}: 1")), "tiers[0]"),
            (
                "/$defs/limit",
                tier(&format!("users: 1, limit: {{daily_tokens: 100000, {u}: 1}}")),
                "tiers[0].limit",
            ),
            (
                "/$defs/top_up",
                tier(&format!(
                    "users: 1, limit: {{daily_tokens: 100000, top_up: {{price_usd: 5, tokens: 1000, uptake: 0.1, max_per_month: 2, {u}: 1}}}}"
                )),
                "tiers[0].limit.top_up",
            ),
            (
                "/$defs/overage",
                tier(&format!(
                    "users: 1, overage: {{after_daily_tokens: 1, usd_per_1k_tokens: 1, {u}: 1}}"
                )),
                "tiers[0].overage",
            ),
            (
                "/$defs/tenant_budget",
                tier(&format!(
                    "tenants: 2, users_per_tenant: 3, tenant_budget: {{monthly_usd: 100, {u}: 1}}"
                )),
                "tiers[0].tenant_budget",
            ),
            (
                "/$defs/account",
                tier(&format!(
                    "tenant_budget: {{monthly_usd: 100}}, accounts: [{{name: a, users: 2, monthly_usd: 100, {u}: 1}}]"
                )),
                "tiers[0].accounts[0]",
            ),
            ("/$defs/breakers", format!("{BASE}breakers: {{{u}: 1}}\n"), "breakers"),
            (
                "/$defs/breakers/properties/user_daily_usd",
                format!("{BASE}breakers: {{user_daily_usd: {{limit: 1, {u}: 1}}}}\n"),
                "breakers.user_daily_usd",
            ),
            (
                "/$defs/breakers/properties/tenant_daily_usd",
                format!("{BASE}breakers: {{tenant_daily_usd: {{limit: 1, {u}: 1}}}}\n"),
                "breakers.tenant_daily_usd",
            ),
            (
                "/$defs/breakers/properties/feature_daily_usd",
                format!("{BASE}breakers: {{feature_daily_usd: {{limit: 1, {u}: 1}}}}\n"),
                "breakers.feature_daily_usd",
            ),
            (
                "/$defs/breakers/properties/global_daily_usd",
                format!("{BASE}breakers: {{global_daily_usd: {{limit: 1, {u}: 1}}}}\n"),
                "breakers.global_daily_usd",
            ),
            ("/$defs/scenario_viral", scenario("usage_multiplier: 2"), "scenarios[0]"),
            (
                "/$defs/scenario_power_users",
                scenario("power_share: 0.2"),
                "scenarios[0]",
            ),
            (
                "/$defs/scenario_runaway",
                scenario("calls_per_hour: 10, hours_until_detected: 2"),
                "scenarios[0]",
            ),
            ("/$defs/scenario_price", scenario("price_multiplier: 2"), "scenarios[0]"),
        ]
    }

    #[test]
    fn the_base_spec_is_valid() {
        crate::spec::load_str("t.yaml", BASE).unwrap();
    }

    #[test]
    fn every_object_of_the_schema_has_the_fields_the_decoder_reads_there() {
        let s = schema();
        for (pointer, yaml, path) in cases() {
            assert_eq!(
                properties_at(&s, pointer),
                known(&yaml, path),
                "the schema at {pointer} and the decoder at `{path}` disagree"
            );
        }
    }

    #[test]
    fn every_object_of_the_schema_is_checked_against_the_decoder() {
        let s = schema();
        let mut covered: Vec<String> = cases().into_iter().map(|(p, _, _)| p.to_string()).collect();
        covered.sort();
        covered.dedup();
        // the plain-number form of a quantity and a models entry are not objects
        assert_eq!(objects(&s), covered);
    }

    #[test]
    fn a_drifted_schema_would_be_caught() {
        // The check itself: a field the decoder does not read is told apart.
        let (pointer, yaml, path) = cases().remove(1);
        let mut s = schema();
        s.pointer_mut(&format!("{pointer}/properties"))
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("colour".into(), json!({}));
        assert_ne!(properties_at(&s, pointer), known(&yaml, path));
    }

    #[test]
    fn the_required_fields_are_the_ones_the_decoder_requires() {
        // Each case without its unknown field loads; without one of the
        // object's required fields as well, it is refused naming that field.
        let s = schema();
        let mut n = 0;
        for (pointer, yaml, _) in cases() {
            crate::spec::load_str("t.yaml", &without(&yaml, None))
                .unwrap_or_else(|p| panic!("{pointer}: the case without its unknown field: {p:#?}"));
            let Some(required) = s.pointer(pointer).unwrap()["required"].as_array() else {
                continue;
            };
            for r in required.iter().map(|r| r.as_str().unwrap()) {
                let problems = crate::spec::load_str("t.yaml", &without(&yaml, Some(r)))
                    .err()
                    .unwrap_or_else(|| panic!("{pointer}: without `{r}` the spec still loads"));
                assert!(
                    problems
                        .iter()
                        .any(|p| p.message.contains(r) || p.hint.as_deref().is_some_and(|h| h.contains(r))),
                    "{pointer}: without `{r}`: {problems:#?}"
                );
                n += 1;
            }
        }
        assert!(n >= 30, "{n}");
    }

    /// The fields of a flow mapping's text (`a: 1, b: {c: 2}`), split at its
    /// top-level commas.
    fn split_top(inner: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let (mut depth, mut from) = (0i32, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&inner[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        out.push(&inner[from..]);
        out.into_iter().filter(|f| !f.trim().is_empty()).collect()
    }

    /// A case's spec without its unknown field and (`drop`) one more field
    /// of the mapping that holds it.
    fn without(yaml: &str, drop: Option<&str>) -> String {
        let gone = |field: &str| {
            let key = field.trim().split(':').next().unwrap_or("").trim();
            key == UNKNOWN || Some(key) == drop
        };
        let at = yaml.find(UNKNOWN).unwrap();
        if yaml[..at].ends_with('\n') {
            // the top level: a line, and the lines indented under it
            let mut out = String::new();
            let mut skipping = false;
            for l in yaml.lines() {
                if !l.starts_with(' ') {
                    skipping = gone(l);
                }
                if !skipping {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            return out;
        }
        // the flow mapping around the unknown field
        let mut depth = 0;
        let mut open = 0;
        for (i, c) in yaml[..at].char_indices().rev() {
            match c {
                '}' | ']' => depth += 1,
                '{' | '[' if depth > 0 => depth -= 1,
                '{' => {
                    open = i;
                    break;
                }
                _ => {}
            }
        }
        let mut depth = 0;
        let mut close = yaml.len();
        for (i, c) in yaml[open + 1..].char_indices() {
            match c {
                '{' | '[' => depth += 1,
                '}' if depth == 0 => {
                    close = open + 1 + i;
                    break;
                }
                '}' | ']' => depth -= 1,
                _ => {}
            }
        }
        let kept: Vec<&str> = split_top(&yaml[open + 1..close])
            .into_iter()
            .filter(|f| !gone(f))
            .map(str::trim)
            .collect();
        format!("{}{{{}}}{}", &yaml[..open], kept.join(", "), &yaml[close + 1..])
    }

    #[test]
    fn the_words_are_the_decoders() {
        // The enums are the words `spec::decode` accepts: each is read back,
        // and a word outside them is refused with the same list.
        let s = schema();
        let limit = |w: &str| {
            BASE.replace(
                "model: primary}",
                &format!("model: primary, limit: {{daily_tokens: 100000, on_limit: {w}}}}}"),
            )
        };
        let problems = crate::spec::load_str("t.yaml", &limit("nope")).unwrap_err();
        let hint = problems[0].hint.clone().unwrap();
        let listed: Vec<&str> = s["$defs"]["limit"]["properties"]["on_limit"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(hint.ends_with(&format!("one of: {}", listed.join(" | "))), "{hint}");
        let problems = crate::spec::load_str(
            "t.yaml",
            &format!("{BASE}breakers: {{global_daily_usd: {{limit: 1, on_trip: nope}}}}\n"),
        )
        .unwrap_err();
        let listed: Vec<&str> =
            s["$defs"]["breakers"]["properties"]["global_daily_usd"]["properties"]["on_trip"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
        assert!(
            problems[0]
                .hint
                .as_deref()
                .unwrap()
                .ends_with(&format!("one of: {}", listed.join(" | "))),
            "{problems:?}"
        );
    }

    #[test]
    fn the_schema_uses_only_portable_keywords() {
        assert_portable(&schema());
    }
}
