//! Portkey usage-limit and rate-limit policies: each tier's per-user token
//! cap as a usage-limit policy counting `tokens` grouped by the user
//! (`metadata._user`), each tenant budget, named account and breaker as a
//! usage-limit policy counting `cost` (USD), keyed on request metadata
//! costgate's convention names (`metadata.costgate_feature`,
//! `metadata.costgate_tier`, `metadata.costgate_tenant`).
//!
//! Field names are those of Portkey's Admin API (`POST /v1/policies/usage-limits`
//! and `/v1/policies/rate-limits`, `openapi.yaml` of Portkey-AI/openapi) and of
//! its policy documentation (`product/enterprise-offering/budget-policies`):
//! `conditions`, `group_by`, `type`, `credit_limit` (USD for `cost`, at least
//! 1; tokens for `tokens`, at least 100), `alert_threshold` (absolute, below
//! `credit_limit`), `periodic_reset` (`monthly`: the 1st at 00:00 UTC;
//! `weekly`) or `periodic_reset_days` (every N days at 00:00 UTC). Past a
//! usage limit Portkey answers 412; past a rate limit, 429.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::tree::{self, get, items, number_at};
use super::{DAY, Deployed, Enforce, GapKind, Have, Key, MONTH, Measure, OutFile, Plan, Scope, Want, usd_down};
use crate::input::node::{Node, Value};
use crate::pricing::PricedModels;
use crate::source::{Loc, Problem, ProblemCode};
use crate::spec::{BreakerLevel, OnBudget, OnLimit, OnTrip, Spec};

/// The request metadata key naming the feature.
pub const FEATURE_KEY: &str = "metadata.costgate_feature";
/// The request metadata key naming the user's tier.
pub const TIER_KEY: &str = "metadata.costgate_tier";
/// The request metadata key naming the tenant (or named account).
pub const TENANT_KEY: &str = "metadata.costgate_tenant";
/// Portkey's own metadata key for the end user.
pub const USER_KEY: &str = "metadata._user";
const WORKSPACE_KEY: &str = "workspace_id";
const API_KEY: &str = "api_key";

/// The smallest `credit_limit` of a `tokens` usage limit.
pub const MIN_TOKENS: f64 = 100.0;
/// The smallest `credit_limit` of a `cost` usage limit, USD.
pub const MIN_USD: f64 = 1.0;
/// Budgets are exported to the micro-dollar, rounded down.
const DECIMALS: i32 = 6;
const QUANTUM_USD: f64 = 1e-6;
/// A usage limit with no reset: it never renews.
const NEVER: u64 = u64::MAX;
/// Portkey's longest policy name.
const MAX_NAME: usize = 255;

fn key(fid: Option<&str>, scope: Scope, measure: Measure) -> Key {
    Key {
        feature: fid.map(str::to_string),
        scope,
        measure,
    }
}

/// Whether a want is exported as a rate-limit policy (a daily token cap below
/// the smallest usage limit) rather than a usage-limit policy.
fn is_rate_limit(w: &Want) -> bool {
    w.key.measure == Measure::Tokens && w.window == DAY && w.amount < MIN_TOKENS
}

/// The plan: what Portkey enforces for `spec`, and what it cannot.
pub fn plan(spec: &Spec, _priced: &PricedModels) -> Plan {
    let mut plan = Plan::new(super::Gateway::Portkey);
    let fid = spec.feature.id.as_str();
    for tier in &spec.tiers {
        let tname = tier.name.as_str();
        if let Some(l) = &tier.limit {
            for (n, window) in [(&l.daily_tokens, DAY), (&l.monthly_tokens, MONTH)] {
                let Some(n) = n else { continue };
                let amount = n.value.floor();
                let mut alert = None;
                if amount < MIN_TOKENS && window == MONTH {
                    plan.gap(
                        GapKind::Missing,
                        &n.path,
                        n.loc,
                        "below 100 tokens, Portkey's smallest usage limit, and a rate-limit policy counts a day at \
                         most: not exported",
                    );
                    continue;
                }
                if amount < MIN_TOKENS {
                    plan.gap(
                        GapKind::Approximate,
                        &n.path,
                        n.loc,
                        format!(
                            "below 100 tokens, Portkey's smallest usage limit: exported as a rate-limit policy of {} \
                             tokens a day (`unit: rpd`), whose window Portkey documents both as resetting each day \
                             and as rolling",
                            amount
                        ),
                    );
                    if let Some(w) = &l.warn_at {
                        plan.gap(
                            GapKind::Missing,
                            &w.path,
                            w.loc,
                            "a Portkey rate-limit policy has no alert threshold: the application warns from its own \
                             count",
                        );
                    }
                } else if let Some(w) = &l.warn_at {
                    let a = (w.value * amount * (1.0 + 1e-12)).floor();
                    if a >= 1.0 && a < amount {
                        alert = Some(a);
                        plan.gap(
                            GapKind::Approximate,
                            &w.path,
                            w.loc,
                            format!(
                                "exported as `alert_threshold: {a}`: Portkey records the crossing in its audit log \
                                 (its email alerts are not sent yet) and the user is not warned; the application \
                                 warns users from its own count"
                            ),
                        );
                    } else {
                        plan.gap(
                            GapKind::Missing,
                            &w.path,
                            w.loc,
                            "Portkey's `alert_threshold` must be at least 1 and below `credit_limit`: not exported",
                        );
                    }
                }
                plan.wants.push(Want {
                    key: key(Some(fid), Scope::TierUser(tname.into()), Measure::Tokens),
                    amount,
                    window,
                    enforce: Enforce::Block,
                    alert,
                    quantum: 1.0,
                    spec_path: n.path.clone(),
                    spec_loc: n.loc,
                });
            }
            if l.on_limit != OnLimit::Block {
                plan.gap(
                    GapKind::Tighter,
                    format!("{}.on_limit", l.path),
                    l.on_limit_loc,
                    format!(
                        "a Portkey usage limit refuses the request (HTTP 412): `on_limit: {}` becomes a hard stop at \
                         the cap unless the application catches the 412 and does it (whether a Portkey config's \
                         fallback on status codes fires on a policy refusal is not documented)",
                        l.on_limit.as_str()
                    ),
                );
            }
            if let Some(m) = &l.message {
                plan.gap(
                    GapKind::Missing,
                    &m.path,
                    m.loc,
                    "the message is the application's to show: Portkey answers a spent limit with its own error",
                );
            }
            if let Some(t) = &l.top_up {
                plan.gap(
                    GapKind::Missing,
                    &t.path,
                    t.loc,
                    "top-ups are billing: Portkey cannot raise one user's limit (the application can reset a user's \
                     usage with `reset_usage_for_value` when one is bought)",
                );
            }
        }
        if let Some(o) = &tier.overage {
            plan.gap(
                GapKind::Missing,
                &o.after_daily_tokens.path,
                o.after_daily_tokens.loc,
                "overage is billing, not a limit: Portkey does not charge it",
            );
        }
        if let Some(tb) = &tier.tenant_budget {
            let path = format!("{}.tenant_budget", tier.path);
            if tb.monthly_drawn.is_some() {
                plan.gap(
                    GapKind::Approximate,
                    format!("{path}.monthly_usd"),
                    tb.monthly_usd.loc,
                    format!(
                        "each tenant's budget is drawn from a distribution: one policy counts every tenant against \
                         the central ${}",
                        crate::spec::rewrite::number(tb.monthly_usd.value)
                    ),
                );
            }
            budget(
                &mut plan,
                fid,
                Scope::TierTenant(tname.into()),
                tb.monthly_usd.value,
                &tb.alerts,
                tb.on_limit,
                &path,
                tb.loc,
            );
            if let Some(m) = &tb.message {
                plan.gap(
                    GapKind::Missing,
                    &m.path,
                    m.loc,
                    "the message is the application's to show",
                );
            }
        }
        for a in &tier.accounts {
            budget(
                &mut plan,
                fid,
                Scope::Account(tname.into(), a.name.clone()),
                a.monthly_usd.value,
                &a.alerts,
                a.on_limit,
                &a.path,
                a.loc,
            );
        }
    }
    for (_, level, b) in spec.breakers.levels() {
        if let Some(m) = &b.message {
            plan.gap(
                GapKind::Missing,
                &m.path,
                m.loc,
                "the message is the application's to show",
            );
        }
        match b.on_trip {
            OnTrip::Block => {}
            OnTrip::Notify => {
                plan.gap(
                    GapKind::Missing,
                    &b.path,
                    b.loc,
                    "`on_trip: notify`: a Portkey usage limit always blocks at `credit_limit` (and its \
                     `alert_threshold` needs a `credit_limit` above it): not exported; alert on spend outside the \
                     gateway",
                );
                continue;
            }
            other => plan.gap(
                GapKind::Tighter,
                &b.path,
                b.loc,
                format!(
                    "`on_trip: {}` has no Portkey equivalent: exported as a usage limit, a hard stop (HTTP 412)",
                    other.as_str()
                ),
            ),
        }
        if b.limit.value < MIN_USD {
            plan.gap(
                GapKind::Missing,
                &b.limit.path,
                b.limit.loc,
                "below $1, Portkey's smallest cost limit: not exported",
            );
            continue;
        }
        if level == BreakerLevel::Global {
            plan.gap(
                GapKind::Approximate,
                &b.path,
                b.loc,
                "Portkey policies belong to a workspace: the global breaker counts the whole workspace's spend \
                 (every feature and application that uses it)",
            );
        }
        let feature = (level != BreakerLevel::Global).then_some(fid);
        plan.wants.push(Want {
            key: key(feature, Scope::Breaker(level), Measure::Usd),
            amount: usd_down(b.limit.value, DECIMALS),
            window: DAY,
            enforce: Enforce::Block,
            alert: None,
            quantum: QUANTUM_USD,
            spec_path: b.path.clone(),
            spec_loc: b.loc,
        });
    }
    if plan.wants.iter().any(|w| w.key.measure == Measure::Usd)
        && let Some(m) = spec.models.first()
    {
        plan.gap(
            GapKind::Approximate,
            &m.path,
            m.loc,
            "Portkey counts `cost` at its own prices for each model, not the spec's catalog: the USD limits hold as \
             the spec assumes only where those prices agree",
        );
    }
    plan
}

#[allow(clippy::too_many_arguments)]
fn budget(plan: &mut Plan, fid: &str, scope: Scope, monthly: f64, alerts: &[f64], on: OnBudget, path: &str, loc: Loc) {
    if on == OnBudget::Notify {
        plan.gap(
            GapKind::Missing,
            format!("{path}.on_limit"),
            loc,
            "`on_limit: notify`: a Portkey usage limit always blocks at `credit_limit` (and its `alert_threshold` \
             needs a `credit_limit` above it): not exported; alert on the tenant's spend outside the gateway",
        );
        return;
    }
    if monthly < MIN_USD {
        plan.gap(
            GapKind::Missing,
            path,
            loc,
            "below $1, Portkey's smallest cost limit: not exported",
        );
        return;
    }
    let amount = usd_down(monthly, DECIMALS);
    let first = alerts
        .iter()
        .copied()
        .find(|a| *a < 1.0 && usd_down(a * monthly, DECIMALS) >= 1.0);
    let later: Vec<String> = alerts
        .iter()
        .filter(|a| Some(**a) != first)
        .map(|a| crate::fmt::pct(*a))
        .collect();
    if !later.is_empty() {
        plan.gap(
            GapKind::Missing,
            format!("{path}.alerts"),
            loc,
            format!(
                "a Portkey usage limit has one `alert_threshold`, below its `credit_limit`: the alert at {} is \
                 exported, the alerts at {} are not",
                first.map_or("none".into(), crate::fmt::pct),
                later.join(", ")
            ),
        );
    }
    plan.wants.push(Want {
        key: key(Some(fid), scope, Measure::Usd),
        amount,
        window: MONTH,
        enforce: Enforce::Block,
        alert: first.map(|a| usd_down(a * monthly, DECIMALS)),
        quantum: QUANTUM_USD,
        spec_path: path.to_string(),
        spec_loc: loc,
    });
}

fn cond(k: &str, v: &str) -> Json {
    json!({"key": k, "value": v})
}

fn group(k: &str) -> Json {
    json!([{ "key": k }])
}

fn name(parts: &[&str]) -> String {
    let s = parts.join(" ");
    match s.char_indices().nth(MAX_NAME) {
        Some((i, _)) => s[..i].to_string(),
        None => s,
    }
}

fn num(v: f64) -> Json {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// The files: one `policies.json` holding the bodies to POST.
pub fn render(spec: &Spec, _priced: &PricedModels, plan: &Plan) -> Vec<OutFile> {
    let fid = spec.feature.id.as_str();
    let mut usage = Vec::new();
    let mut rate = Vec::new();
    for w in &plan.wants {
        let feature = cond(FEATURE_KEY, fid);
        let (conditions, group_by, who) = match &w.key.scope {
            Scope::TierUser(t) => (
                json!([feature, cond(TIER_KEY, t), cond(USER_KEY, "*")]),
                group(USER_KEY),
                format!("tier {t}, each user"),
            ),
            Scope::TierTenant(t) => {
                let mut tenant = cond(TENANT_KEY, "*");
                let named: Vec<&str> = spec
                    .tiers
                    .iter()
                    .filter(|x| x.name == *t)
                    .flat_map(|x| x.accounts.iter().map(|a| a.name.as_str()))
                    .collect();
                if !named.is_empty() {
                    // Named accounts have budgets of their own.
                    tenant["excludes"] = json!(named);
                }
                (
                    json!([feature, cond(TIER_KEY, t), tenant]),
                    group(TENANT_KEY),
                    format!("tier {t}, each tenant"),
                )
            }
            Scope::Account(t, a) => (
                json!([feature, cond(TIER_KEY, t), cond(TENANT_KEY, a)]),
                group(TENANT_KEY),
                format!("tier {t}, account {a}"),
            ),
            Scope::Breaker(BreakerLevel::User) => (
                json!([feature, cond(USER_KEY, "*")]),
                group(USER_KEY),
                "user breaker".into(),
            ),
            Scope::Breaker(BreakerLevel::Tenant) => (
                json!([feature, cond(TENANT_KEY, "*")]),
                group(TENANT_KEY),
                "tenant breaker".into(),
            ),
            Scope::Breaker(BreakerLevel::Feature) => (json!([feature]), group(FEATURE_KEY), "feature breaker".into()),
            Scope::Breaker(BreakerLevel::Global) => (
                json!([cond(API_KEY, "*")]),
                group(WORKSPACE_KEY),
                "global breaker (workspace)".into(),
            ),
        };
        let per = if w.window == MONTH { "a month" } else { "a day" };
        let what = match w.key.measure {
            Measure::Tokens => "tokens",
            Measure::Usd => "USD",
        };
        let title = name(&["costgate", fid, &who, what, per]);
        if is_rate_limit(w) {
            rate.push(json!({
                "name": title,
                "conditions": conditions,
                "group_by": group_by,
                "type": "tokens",
                "unit": "rpd",
                "value": num(w.amount),
            }));
            continue;
        }
        let mut p = json!({
            "name": title,
            "conditions": conditions,
            "group_by": group_by,
            "type": if w.key.measure == Measure::Tokens { "tokens" } else { "cost" },
            "credit_limit": num(w.amount),
        });
        if let Some(a) = w.alert {
            p["alert_threshold"] = num(a);
        }
        if w.window == MONTH {
            p["periodic_reset"] = json!("monthly");
        } else {
            p["periodic_reset_days"] = json!(w.window / DAY);
        }
        usage.push(p);
    }
    let doc = json!({
        "about": format!(
            "Portkey policies enforcing the limits of feature {fid} (written by costgate export from {}). POST each \
             usage_limits entry to /v1/policies/usage-limits and each rate_limits entry to /v1/policies/rate-limits. \
             Every request must carry the metadata costgate_feature, costgate_tier, costgate_tenant (tenants) and \
             _user, set by the application, never by the client: see docs/runtime.md.",
            spec.file.as_ref()
        ),
        "usage_limits": usage,
        "rate_limits": rate,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    vec![OutFile {
        name: "policies.json".into(),
        bytes: text.into_bytes(),
        executable: false,
    }]
}

/// One policy found in a file, with its path.
struct Found<'n> {
    node: &'n Node,
    path: String,
}

fn collect<'n>(doc: &'n Node, out: &mut Vec<Found<'n>>) {
    let list = |n: &'n Node, base: &str, out: &mut Vec<Found<'n>>| {
        for (i, item) in items(n).iter().enumerate() {
            unwrap(item, tree::index(base, i), out);
        }
    };
    match &doc.value {
        Value::Seq(_) => list(doc, "", out),
        Value::Map(_) => {
            let mut any = false;
            for k in ["usage_limits", "rate_limits", "data"] {
                if let Some(n) = get(doc, k) {
                    any = true;
                    list(n, k, out);
                }
            }
            if !any {
                unwrap(doc, String::new(), out);
            }
        }
        _ => {}
    }
}

/// The documentation's `{"type": "usage_limits", "policy": {...}}` wrapper.
fn unwrap<'n>(n: &'n Node, path: String, out: &mut Vec<Found<'n>>) {
    match get(n, "policy") {
        Some(p) if matches!(p.value, Value::Map(_)) => out.push(Found {
            node: p,
            path: tree::child(&path, "policy"),
        }),
        _ => out.push(Found { node: n, path }),
    }
}

/// Read Portkey policies: costgate's `policies.json`, the list endpoints'
/// `{"data": [...]}`, a list of policy objects, or one. Archived policies are
/// skipped; so are policies that do not follow costgate's metadata keys
/// (they limit something else).
pub fn read(file: &Arc<str>, docs: &[Node], out: &mut Deployed) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    for doc in docs {
        let mut found = Vec::new();
        collect(doc, &mut found);
        for f in found {
            match read_policy(file, f.node, &f.path) {
                Ok(Some(h)) => out.haves.push(h),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn wrong(file: &Arc<str>, n: &Node, path: &str, what: &str) -> Problem {
    let found = match &n.value {
        Value::Null => "null".to_string(),
        other => other.kind().to_string(),
    };
    tree::problem_as(
        file,
        ProblemCode::WrongType,
        n.loc,
        path,
        format!("expected {what}, found {found}"),
    )
}

/// A string field, if present: an error when it is not a string.
fn opt_str<'n>(file: &Arc<str>, n: &'n Node, key: &str, path: &str) -> Result<Option<&'n str>, Problem> {
    match get(n, key) {
        None => Ok(None),
        Some(v) => match &v.value {
            Value::Null => Ok(None),
            Value::Str(s) => Ok(Some(s)),
            _ => Err(wrong(file, v, &tree::child(path, key), "a string")),
        },
    }
}

/// A condition value: a string or a list of strings.
fn values(file: &Arc<str>, n: &Node, path: &str) -> Result<Vec<String>, Problem> {
    match &n.value {
        Value::Str(s) => Ok(vec![s.clone()]),
        Value::Seq(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| match &v.value {
                Value::Str(s) => Ok(s.clone()),
                _ => Err(wrong(file, v, &tree::index(path, i), "a string")),
            })
            .collect(),
        _ => Err(wrong(file, n, path, "a string or a list of strings")),
    }
}

/// What a policy's conditions select, in costgate's terms.
#[derive(Default)]
struct Selects {
    feature: Option<String>,
    tier: Option<String>,
    /// One named tenant (an account).
    tenant: Option<String>,
    /// Whether the conditions narrow the policy to something costgate does
    /// not model (a model, a provider, one API key, excluded users): then
    /// it does not hold the spec's limit for every request.
    foreign: bool,
}

fn selects(file: &Arc<str>, p: &Node, path: &str) -> Result<Selects, Problem> {
    let mut s = Selects::default();
    let Some(list) = get(p, "conditions") else {
        s.foreign = true;
        return Ok(s);
    };
    let lpath = tree::child(path, "conditions");
    if !matches!(list.value, Value::Seq(_)) {
        return Err(wrong(file, list, &lpath, "a list of conditions"));
    }
    for (i, c) in items(list).iter().enumerate() {
        let cpath = tree::index(&lpath, i);
        if !matches!(c.value, Value::Map(_)) {
            return Err(wrong(file, c, &cpath, "a condition ({\"key\": ..., \"value\": ...})"));
        }
        let Some(k) = opt_str(file, c, "key", &cpath)? else {
            s.foreign = true;
            continue;
        };
        let vals = match get(c, "value") {
            Some(v) => values(file, v, &tree::child(&cpath, "value"))?,
            None => Vec::new(),
        };
        let excludes = match get(c, "excludes") {
            Some(v) if v.value != Value::Null => values(file, v, &tree::child(&cpath, "excludes"))?,
            _ => Vec::new(),
        };
        let one = || match vals.as_slice() {
            [v] if v != "*" => Some(v.clone()),
            _ => None,
        };
        let any = vals.len() == 1 && vals[0] == "*";
        match k {
            FEATURE_KEY | TIER_KEY => match one() {
                Some(v) if excludes.is_empty() => {
                    if k == FEATURE_KEY {
                        s.feature = Some(v);
                    } else {
                        s.tier = Some(v);
                    }
                }
                _ => s.foreign = true,
            },
            // Excluded tenants are the named accounts, with budgets of their own.
            TENANT_KEY => match one() {
                Some(v) if excludes.is_empty() => s.tenant = Some(v),
                _ if any => {}
                _ => s.foreign = true,
            },
            USER_KEY | API_KEY if any && excludes.is_empty() => {}
            WORKSPACE_KEY => {}
            _ => s.foreign = true,
        }
    }
    Ok(s)
}

fn group_keys(file: &Arc<str>, p: &Node, path: &str) -> Result<Vec<String>, Problem> {
    let Some(list) = get(p, "group_by") else {
        return Ok(Vec::new());
    };
    let lpath = tree::child(path, "group_by");
    if !matches!(list.value, Value::Seq(_)) {
        return Err(wrong(file, list, &lpath, "a list of {\"key\": ...}"));
    }
    let mut keys = Vec::new();
    for (i, g) in items(list).iter().enumerate() {
        let gpath = tree::index(&lpath, i);
        if !matches!(g.value, Value::Map(_)) {
            return Err(wrong(file, g, &gpath, "{\"key\": ...}"));
        }
        if let Some(k) = opt_str(file, g, "key", &gpath)? {
            keys.push(k.to_string());
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

fn scope_of(s: &Selects, groups: &[String]) -> Option<(Option<String>, Scope)> {
    if s.foreign {
        return None;
    }
    let g: Vec<&str> = groups.iter().map(String::as_str).collect();
    let feature = s.feature.clone();
    let scope = match (&s.feature, &s.tier, &s.tenant, g.as_slice()) {
        (Some(_), Some(t), None, [USER_KEY]) => Scope::TierUser(t.clone()),
        (Some(_), Some(t), None, [TENANT_KEY]) => Scope::TierTenant(t.clone()),
        (Some(_), Some(t), Some(a), [TENANT_KEY | WORKSPACE_KEY | FEATURE_KEY | TIER_KEY]) => {
            Scope::Account(t.clone(), a.clone())
        }
        (Some(_), None, None, [USER_KEY]) => Scope::Breaker(BreakerLevel::User),
        (Some(_), None, None, [TENANT_KEY]) => Scope::Breaker(BreakerLevel::Tenant),
        (Some(_), None, None, [FEATURE_KEY | WORKSPACE_KEY]) => Scope::Breaker(BreakerLevel::Feature),
        (None, None, None, [WORKSPACE_KEY]) => Scope::Breaker(BreakerLevel::Global),
        _ => return None,
    };
    Some((feature, scope))
}

fn read_policy(file: &Arc<str>, p: &Node, path: &str) -> Result<Option<Have>, Problem> {
    if !matches!(p.value, Value::Map(_)) {
        return Err(wrong(file, p, path, "a policy object"));
    }
    if opt_str(file, p, "status", path)? == Some("archived") {
        return Ok(None);
    }
    let usage = get(p, "credit_limit").is_some();
    if !usage && get(p, "unit").is_none() && get(p, "value").is_none() {
        return Ok(None);
    }
    // What it counts.
    let kind = opt_str(file, p, "type", path)?;
    let tpath = tree::child(path, "type");
    let type_loc = get(p, "type").map_or(p.loc, |n| n.loc);
    let measure = match (usage, kind) {
        (true, Some("cost")) => Some(Measure::Usd),
        (_, Some("tokens")) => Some(Measure::Tokens),
        (_, Some("requests")) => None,
        (true, other) => {
            return Err(tree::problem(
                file,
                type_loc,
                &tpath,
                format!(
                    "`{}` is not a Portkey usage-limit type (cost, tokens, requests)",
                    crate::untrusted::clean(other.unwrap_or(""))
                ),
            ));
        }
        (false, other) => {
            return Err(tree::problem(
                file,
                type_loc,
                &tpath,
                format!(
                    "`{}` is not a Portkey rate-limit type (requests, tokens)",
                    crate::untrusted::clean(other.unwrap_or(""))
                ),
            ));
        }
    };
    // Over what window, and how much.
    let (amount, window, alert, field) = if usage {
        let reset = opt_str(file, p, "periodic_reset", path)?;
        let days = number_at(file, p, "periodic_reset_days", path)?;
        let rpath = tree::child(path, "periodic_reset");
        let window = match (reset, days) {
            (Some(_), Some((_, loc))) => {
                return Err(tree::problem(
                    file,
                    loc,
                    &tree::child(path, "periodic_reset_days"),
                    "`periodic_reset` and `periodic_reset_days` are mutually exclusive",
                ));
            }
            (Some("monthly"), None) => MONTH,
            (Some("weekly"), None) => 7 * DAY,
            (Some(other), None) => {
                return Err(tree::problem(
                    file,
                    get(p, "periodic_reset").map_or(p.loc, |n| n.loc),
                    &rpath,
                    format!(
                        "`{}` is not a Portkey reset period (monthly, weekly; or `periodic_reset_days`)",
                        crate::untrusted::clean(other)
                    ),
                ));
            }
            (None, Some((d, loc))) => {
                if d.fract() != 0.0 || !(1.0..=365.0).contains(&d) {
                    return Err(tree::problem_as(
                        file,
                        ProblemCode::OutOfRange,
                        loc,
                        &tree::child(path, "periodic_reset_days"),
                        "`periodic_reset_days` must be a whole number of days from 1 to 365",
                    ));
                }
                d as u64 * DAY
            }
            (None, None) => NEVER,
        };
        let Some((amount, loc)) = number_at(file, p, "credit_limit", path)? else {
            return Ok(None);
        };
        let alert = number_at(file, p, "alert_threshold", path)?.map(|(v, _)| v);
        (amount, window, alert, (loc, tree::child(path, "credit_limit")))
    } else {
        let unit = opt_str(file, p, "unit", path)?;
        let window = match unit {
            Some("rpm") => 60,
            Some("rph") => 3600,
            Some("rpd") => DAY,
            Some("rpw") => 7 * DAY,
            other => {
                return Err(tree::problem(
                    file,
                    get(p, "unit").map_or(p.loc, |n| n.loc),
                    &tree::child(path, "unit"),
                    format!(
                        "`{}` is not a Portkey rate unit (rpm, rph, rpd, rpw)",
                        crate::untrusted::clean(other.unwrap_or(""))
                    ),
                ));
            }
        };
        let Some((amount, loc)) = number_at(file, p, "value", path)? else {
            return Ok(None);
        };
        (amount, window, None, (loc, tree::child(path, "value")))
    };
    let sel = selects(file, p, path)?;
    let groups = group_keys(file, p, path)?;
    let Some(measure) = measure else { return Ok(None) };
    let Some((feature, scope)) = scope_of(&sel, &groups) else {
        return Ok(None);
    };
    Ok(Some(Have {
        key: Key {
            feature,
            scope,
            measure,
        },
        amount,
        window,
        enforce: Enforce::Block,
        alert,
        file: file.clone(),
        loc: field.0,
        path: field.1,
    }))
}
