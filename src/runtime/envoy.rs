//! Envoy AI Gateway with Envoy Gateway global rate limits: an
//! `AIGatewayRoute` whose `llmRequestCosts` count each response's tokens
//! and its cost (a CEL expression of the spec's prices, in whole USD
//! sub-units), and a `BackendTrafficPolicy` with one global rate-limit rule
//! per limit, keyed on costgate's headers (`x-costgate-feature`,
//! `x-costgate-tier`, `x-user-id`, `x-tenant-id`).
//!
//! Field names are those of the CRDs in `fixtures/gateways/`, which
//! `.ci/check_gateway_exports.py` validates every export against.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::tree::{self, get, items, number_at, str_at};
use super::{
    DAY, Deployed, Enforce, Finding, FindingKind, GapKind, Have, Key, MONTH, Measure, OutFile, Plan, Scope, Want,
};
use crate::input::node::{Node, Value};
use crate::pricing::{ModelPrice, PricedModels};
use crate::source::{Loc, Problem};
use crate::spec::{BreakerLevel, OnBudget, OnLimit, OnTrip, Spec};

/// The header naming the feature.
pub const FEATURE_HEADER: &str = "x-costgate-feature";
/// The header naming the user's tier.
pub const TIER_HEADER: &str = "x-costgate-tier";
/// The header naming the end user.
pub const USER_HEADER: &str = "x-user-id";
/// The header naming the tenant.
pub const TENANT_HEADER: &str = "x-tenant-id";
/// The dynamic-metadata namespace AI Gateway writes costs to.
pub const NAMESPACE: &str = "io.envoy.ai_gateway";
/// The metadata key of each response's total tokens.
pub const TOKENS_KEY: &str = "llm_total_token";
/// The largest `limit.requests` (a uint32 in the CRD).
pub const MAX_REQUESTS: f64 = 4_294_967_295.0;

/// The USD sub-units a cost can be counted in: (USD per unit, metadata key).
const UNITS: [(f64, &str); 5] = [
    (1e-6, "costgate_cost_micro_usd"),
    (1e-5, "costgate_cost_10micro_usd"),
    (1e-4, "costgate_cost_100micro_usd"),
    (1e-3, "costgate_cost_milli_usd"),
    (1e-2, "costgate_cost_cent_usd"),
];

fn unit_of_key(k: &str) -> Option<f64> {
    UNITS.iter().find(|(_, n)| *n == k).map(|(u, _)| *u)
}

/// The unit every USD limit of `spec` fits in: the finest whose largest
/// limit is at most [`MAX_REQUESTS`] units.
fn unit_for(max_usd: f64) -> Option<(f64, &'static str)> {
    UNITS
        .iter()
        .copied()
        .find(|(u, _)| (max_usd / u).floor() <= MAX_REQUESTS)
}

fn usd_amounts(spec: &Spec) -> Vec<f64> {
    let mut v = Vec::new();
    for t in &spec.tiers {
        if let Some(tb) = &t.tenant_budget {
            v.push(tb.monthly_usd.value);
        }
        v.extend(t.accounts.iter().map(|a| a.monthly_usd.value));
    }
    v.extend(spec.breakers.iter().map(|(_, b)| b.limit.value));
    v
}

/// The cost unit and metadata key the spec's USD limits are counted in.
pub fn cost_unit(spec: &Spec) -> Option<(f64, &'static str)> {
    let max = usd_amounts(spec).into_iter().fold(0.0, f64::max);
    unit_for(max)
}

fn scope_key(fid: Option<&str>, scope: Scope, measure: Measure) -> Key {
    Key {
        feature: fid.map(str::to_string),
        scope,
        measure,
    }
}

/// The plan: what Envoy enforces for `spec`, and what it cannot.
pub fn plan(spec: &Spec, _priced: &PricedModels) -> Plan {
    let mut plan = Plan::new(super::Gateway::Envoy);
    let fid = spec.feature.id.as_str();
    let unit = cost_unit(spec);
    let usd = |plan: &mut Plan, key: Key, amount: f64, window: u64, enforce: Enforce, path: &str, loc: Loc| match unit {
        Some((u, _)) => plan.wants.push(Want {
            key,
            amount: (amount / u * (1.0 + 1e-12)).floor() * u,
            window,
            enforce,
            alert: None,
            quantum: u,
            spec_path: path.to_string(),
            spec_loc: loc,
        }),
        None => plan.gap(
            GapKind::Missing,
            path,
            loc,
            "above $42,949,672.95, the most one Envoy rate-limit bucket counts in cents: not exported",
        ),
    };
    for tier in &spec.tiers {
        let tname = tier.name.as_str();
        if let Some(l) = &tier.limit {
            for (n, window) in [(&l.daily_tokens, DAY), (&l.monthly_tokens, MONTH)] {
                let Some(n) = n else { continue };
                if n.value.floor() > MAX_REQUESTS {
                    plan.gap(
                        GapKind::Missing,
                        &n.path,
                        n.loc,
                        "above 4,294,967,295 tokens, the most one Envoy rate-limit bucket counts: not exported",
                    );
                    continue;
                }
                if window == MONTH {
                    plan.gap(
                        GapKind::Approximate,
                        &n.path,
                        n.loc,
                        "Envoy's `unit: Month` is a fixed 30-day window, not the calendar month",
                    );
                }
                plan.wants.push(Want {
                    key: scope_key(Some(fid), Scope::TierUser(tname.into()), Measure::Tokens),
                    amount: n.value.floor(),
                    window,
                    enforce: Enforce::Block,
                    alert: None,
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
                        "an Envoy rate limit answers 429: `on_limit: {}` becomes a hard stop at the cap unless the \
                         application catches the 429 and does it",
                        l.on_limit.as_str()
                    ),
                );
            }
            if let Some(w) = &l.warn_at {
                plan.gap(
                    GapKind::Missing,
                    &w.path,
                    w.loc,
                    "Envoy does not warn: the application can warn from the rate-limit headers (`xRateLimitHeaders`)",
                );
            }
            if let Some(m) = &l.message {
                plan.gap(
                    GapKind::Missing,
                    &m.path,
                    m.loc,
                    "the message is the application's to show on a 429",
                );
            }
            if let Some(t) = &l.top_up {
                plan.gap(
                    GapKind::Missing,
                    &t.path,
                    t.loc,
                    "top-ups are billing: Envoy cannot raise one user's limit",
                );
            }
        }
        if let Some(o) = &tier.overage {
            plan.gap(
                GapKind::Missing,
                &o.after_daily_tokens.path,
                o.after_daily_tokens.loc,
                "overage is billing, not a limit",
            );
        }
        if let Some(tb) = &tier.tenant_budget {
            let path = format!("{}.tenant_budget", tier.path);
            let enforce = budget_enforce(&mut plan, tb.on_limit, &tb.alerts, &path, tb.loc);
            if tb.monthly_drawn.is_some() {
                plan.gap(
                    GapKind::Approximate,
                    format!("{path}.monthly_usd"),
                    tb.monthly_usd.loc,
                    "each tenant's budget is drawn from a distribution: one rule counts every tenant against the \
                     central budget",
                );
            }
            usd(
                &mut plan,
                scope_key(Some(fid), Scope::TierTenant(tname.into()), Measure::Usd),
                tb.monthly_usd.value,
                MONTH,
                enforce,
                &path,
                tb.loc,
            );
        }
        for a in &tier.accounts {
            let enforce = budget_enforce(&mut plan, a.on_limit, &a.alerts, &a.path, a.loc);
            usd(
                &mut plan,
                scope_key(Some(fid), Scope::Account(tname.into(), a.name.clone()), Measure::Usd),
                a.monthly_usd.value,
                MONTH,
                enforce,
                &a.path,
                a.loc,
            );
        }
    }
    for (_, level, b) in spec.breakers.levels() {
        let enforce = match b.on_trip {
            OnTrip::Block => Enforce::Block,
            OnTrip::Notify => {
                plan.gap(
                    GapKind::Approximate,
                    &b.path,
                    b.loc,
                    "`on_trip: notify` is exported in `shadowMode` (counted, never enforced): alert on the \
                     rate-limit service's metrics",
                );
                Enforce::Alert
            }
            other => {
                plan.gap(
                    GapKind::Tighter,
                    &b.path,
                    b.loc,
                    format!(
                        "`on_trip: {}` has no Envoy equivalent: exported as a hard stop (429)",
                        other.as_str()
                    ),
                );
                Enforce::Block
            }
        };
        if let Some(m) = &b.message {
            plan.gap(
                GapKind::Missing,
                &m.path,
                m.loc,
                "the message is the application's to show on a 429",
            );
        }
        let feature = (level != BreakerLevel::Global).then_some(fid);
        usd(
            &mut plan,
            scope_key(feature, Scope::Breaker(level), Measure::Usd),
            b.limit.value,
            DAY,
            enforce,
            &b.path,
            b.loc,
        );
    }
    plan
}

fn budget_enforce(plan: &mut Plan, on: OnBudget, alerts: &[f64], path: &str, loc: Loc) -> Enforce {
    plan.gap(
        GapKind::Approximate,
        path,
        loc,
        "Envoy's `unit: Month` is a fixed 30-day window, not the calendar month",
    );
    if !alerts.is_empty() {
        plan.gap(
            GapKind::Missing,
            format!("{path}.alerts"),
            loc,
            "Envoy rate limits have no alert thresholds: alert on the rate-limit service's metrics",
        );
    }
    match on {
        OnBudget::Block => Enforce::Block,
        OnBudget::Notify => Enforce::Alert,
    }
}

/// A DNS-1123 name for Kubernetes objects.
fn k8s_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(50);
    let t = out.trim_matches('-').to_string();
    if t.is_empty() { "feature".into() } else { t }
}

fn nano(usd_per_mtok: f64) -> u64 {
    // USD per million tokens = micro-USD per token; x1000 = nano-USD per
    // token, rounded up (a cost is never undercounted).
    (usd_per_mtok * 1000.0 * (1.0 - 1e-12)).ceil().max(0.0) as u64
}

fn cel_string(s: &str) -> String {
    let mut o = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

fn rates_expr(input: f64, cached: f64, output: f64, d: u64) -> String {
    format!(
        "((input_tokens > cached_input_tokens ? input_tokens - cached_input_tokens : 0u) * {}u + \
         cached_input_tokens * {}u + output_tokens * {}u + {}u) / {d}u",
        nano(input),
        nano(cached),
        nano(output),
        d - 1
    )
}

fn price_expr(p: &ModelPrice, d: u64) -> String {
    let base = rates_expr(
        p.input_usd_per_mtok,
        p.cached_input_usd_per_mtok.unwrap_or(p.input_usd_per_mtok),
        p.output_usd_per_mtok,
        d,
    );
    match &p.above {
        Some(lc) => format!(
            "(input_tokens > {}u ? {} : {base})",
            lc.threshold_tokens.floor() as u64,
            rates_expr(
                lc.input_usd_per_mtok,
                lc.cached_input_usd_per_mtok.unwrap_or(lc.input_usd_per_mtok),
                lc.output_usd_per_mtok,
                d
            )
        ),
        None => base,
    }
}

/// The CEL expression that counts one response's cost in `unit` USD from
/// the spec's prices. A model the spec does not name is counted at the
/// dearest of its models' rates: never at zero.
pub fn cost_cel(priced: &PricedModels, unit: f64) -> String {
    let d = (unit / 1e-9).round() as u64;
    let mut models: Vec<(&str, &ModelPrice)> = priced.models.iter().map(|m| (m.requested.as_str(), &m.price)).collect();
    models.dedup_by(|a, b| a.0 == b.0);
    let mut seen = std::collections::BTreeSet::new();
    let mut expr = String::new();
    let (mut i, mut c, mut o) = (0f64, 0f64, 0f64);
    for (name, p) in &models {
        for r in [p.rates(0.0), p.rates(f64::INFINITY)] {
            i = i.max(r.input * 1e6);
            c = c.max(r.cached_input * 1e6);
            o = o.max(r.output * 1e6);
        }
        if !seen.insert(*name) {
            continue;
        }
        let _ = write!(expr, "model == {} ? {} : ", cel_string(name), price_expr(p, d));
    }
    expr.push_str(&rates_expr(i, c, o, d));
    expr
}

fn header(name: &str, kind: &str, value: Option<&str>) -> Json {
    let mut h = json!({"name": name, "type": kind});
    if let Some(v) = value {
        h["value"] = json!(v);
    }
    h
}

/// The files: one multi-document `costgate-limits.yaml`.
pub fn render(spec: &Spec, priced: &PricedModels, plan: &Plan) -> Vec<OutFile> {
    let fid = spec.feature.id.as_str();
    let name = k8s_name(fid);
    let unit = cost_unit(spec);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Envoy AI Gateway / Envoy Gateway manifests enforcing the limits of {} (written by costgate export).",
        super::tree_comment(fid)
    );
    text.push_str(
        "# The application (or its auth layer) must set x-costgate-feature, x-costgate-tier, x-user-id and\n\
         # x-tenant-id on every request, and clients must not be able to set them: see docs/runtime.md.\n\
         # Edit the Gateway name, the namespace and the backendRefs to your deployment's.\n",
    );
    // The route: a rule per model, and the costs every limit counts.
    let mut models: Vec<&str> = priced.models.iter().map(|m| m.requested.as_str()).collect();
    models.sort();
    models.dedup();
    let rules: Vec<Json> = models
        .iter()
        .map(|m| {
            json!({
                "matches": [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": m}]}],
                "backendRefs": [{"name": "llm-backend"}],
            })
        })
        .collect();
    let mut costs = vec![json!({"metadataKey": TOKENS_KEY, "type": "TotalToken"})];
    if let Some((u, key)) = unit {
        costs.push(json!({"metadataKey": key, "type": "CEL", "cel": cost_cel(priced, u)}));
    }
    let route = json!({
        "apiVersion": "aigateway.envoyproxy.io/v1beta1",
        "kind": "AIGatewayRoute",
        "metadata": {"name": format!("costgate-{name}"), "namespace": "default",
                     "annotations": {"costgate.dev/feature": fid, "costgate.dev/spec": spec.file.as_ref()}},
        "spec": {
            "parentRefs": [{"name": "ai-gateway", "kind": "Gateway", "group": "gateway.networking.k8s.io"}],
            "rules": rules,
            "llmRequestCosts": costs,
        },
    });
    text.push_str("---\n");
    super::yaml::emit(&route, 0, &mut text);
    // The policy: one rule per limit.
    let mut rule_text = String::new();
    for w in &plan.wants {
        let mut headers = Vec::new();
        if w.key.feature.is_some() {
            headers.push(header(FEATURE_HEADER, "Exact", Some(fid)));
        }
        match &w.key.scope {
            Scope::TierUser(t) => {
                headers.push(header(TIER_HEADER, "Exact", Some(t)));
                headers.push(header(USER_HEADER, "Distinct", None));
            }
            Scope::TierTenant(t) => {
                headers.push(header(TIER_HEADER, "Exact", Some(t)));
                headers.push(header(TENANT_HEADER, "Distinct", None));
            }
            Scope::Account(t, a) => {
                headers.push(header(TIER_HEADER, "Exact", Some(t)));
                headers.push(header(TENANT_HEADER, "Exact", Some(a)));
            }
            Scope::Breaker(BreakerLevel::User) => headers.push(header(USER_HEADER, "Distinct", None)),
            Scope::Breaker(BreakerLevel::Tenant) => headers.push(header(TENANT_HEADER, "Distinct", None)),
            Scope::Breaker(_) => {}
        }
        let (requests, key) = match w.key.measure {
            Measure::Tokens => (w.amount, TOKENS_KEY),
            Measure::Usd => {
                let (u, k) = unit.unwrap_or(UNITS[0]);
                ((w.amount / u).round(), k)
            }
        };
        let mut rule = json!({
            "limit": {"requests": requests as u64, "unit": if w.window == MONTH { "Month" } else { "Day" }},
            "cost": {
                "request": {"from": "Number", "number": 0},
                "response": {"from": "Metadata", "metadata": {"namespace": NAMESPACE, "key": key}},
            },
        });
        if !headers.is_empty() {
            rule["clientSelectors"] = json!([{"headers": headers}]);
        } else {
            rule["shared"] = json!(true);
        }
        if w.enforce == Enforce::Alert {
            rule["shadowMode"] = json!(true);
        }
        let _ = writeln!(
            rule_text,
            "        # {}: {} per {}",
            super::tree_comment(&w.spec_path),
            match w.key.measure {
                Measure::Tokens => format!("{} tokens", w.amount),
                Measure::Usd => format!("${}", crate::spec::rewrite::number(w.amount)),
            },
            if w.window == MONTH { "30 days" } else { "UTC day" }
        );
        super::yaml::item_into(&rule, 8, &mut rule_text);
    }
    if !plan.wants.is_empty() {
        text.push_str("---\n");
        let policy = json!({
            "apiVersion": "gateway.envoyproxy.io/v1alpha1",
            "kind": "BackendTrafficPolicy",
            "metadata": {"name": format!("costgate-{name}-limits"), "namespace": "default",
                         "annotations": {"costgate.dev/feature": fid, "costgate.dev/spec": spec.file.as_ref()}},
            "spec": {
                "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "ai-gateway"}],
                "rateLimit": {"type": "Global", "global": {}},
            },
        });
        let mut p = String::new();
        super::yaml::emit(&policy, 0, &mut p);
        // `global: {}` becomes the rules list.
        let p = p.replacen(
            "    global: {}\n",
            &format!("    global:\n      rules:\n{rule_text}"),
            1,
        );
        text.push_str(&p);
    }
    vec![OutFile {
        name: "costgate-limits.yaml".into(),
        bytes: text.into_bytes(),
        executable: false,
    }]
}

/// A cost expression found in a deployed route.
#[derive(Clone, Debug)]
pub struct CostExpr {
    /// Its metadata key.
    pub key: String,
    /// Its CEL (empty for a built-in type).
    pub cel: String,
    /// Its type (`TotalToken`, `CEL`, ...).
    pub kind: String,
    /// The file.
    pub file: Arc<str>,
    /// Where.
    pub loc: Loc,
    /// Its path in the file.
    pub path: String,
}

fn window_of(unit: &str) -> Option<u64> {
    Some(match unit {
        "Second" => 1,
        "Minute" => 60,
        "Hour" => 3600,
        "Day" => DAY,
        "Week" => 7 * DAY,
        "Month" => MONTH,
        "Year" => 365 * DAY,
        _ => return None,
    })
}

/// Read Envoy manifests: every `AIGatewayRoute`'s costs and every
/// `BackendTrafficPolicy` global rule keyed on costgate's headers.
pub fn read(file: &Arc<str>, docs: &[Node], out: &mut Deployed) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut costs: Vec<CostExpr> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        if str_at(doc, "kind") != Some("AIGatewayRoute") {
            continue;
        }
        let base = format!("[{d}].spec.llmRequestCosts");
        let Some(list) = get(doc, "spec").and_then(|s| get(s, "llmRequestCosts")) else {
            continue;
        };
        for (i, c) in items(list).iter().enumerate() {
            let (Some(key), Some(kind)) = (str_at(c, "metadataKey"), str_at(c, "type")) else {
                continue;
            };
            costs.push(CostExpr {
                key: key.to_string(),
                cel: str_at(c, "cel").unwrap_or("").to_string(),
                kind: kind.to_string(),
                file: file.clone(),
                loc: c.loc,
                path: tree::index(&base, i),
            });
        }
    }
    for (d, doc) in docs.iter().enumerate() {
        if str_at(doc, "kind") != Some("BackendTrafficPolicy") {
            continue;
        }
        let Some(rl) = get(doc, "spec").and_then(|s| get(s, "rateLimit")) else {
            continue;
        };
        if str_at(rl, "type").is_some_and(|t| t != "Global") {
            continue;
        }
        let Some(rules) = get(rl, "global").and_then(|g| get(g, "rules")) else {
            continue;
        };
        let base = format!("[{d}].spec.rateLimit.global.rules");
        for (i, r) in items(rules).iter().enumerate() {
            let path = tree::index(&base, i);
            match read_rule(file, r, &path, &costs, &out.envoy_costs) {
                Ok(Some(h)) => out.haves.push(h),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
    }
    out.envoy_costs.extend(costs);
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn read_rule(
    file: &Arc<str>,
    r: &Node,
    path: &str,
    costs: &[CostExpr],
    earlier: &[CostExpr],
) -> Result<Option<Have>, Problem> {
    // What it counts: tokens or costgate's USD sub-units.
    let Some(key) = get(r, "cost")
        .and_then(|c| get(c, "response"))
        .and_then(|c| get(c, "metadata"))
        .and_then(|m| str_at(m, "key"))
    else {
        return Ok(None);
    };
    let kind_of = |k: &str| {
        costs
            .iter()
            .chain(earlier)
            .find(|c| c.key == k)
            .map(|c| c.kind.as_str())
    };
    let (measure, per_unit) = if kind_of(key) == Some("TotalToken") || key == TOKENS_KEY && kind_of(key).is_none() {
        (Measure::Tokens, 1.0)
    } else if let Some(u) = unit_of_key(key) {
        (Measure::Usd, u)
    } else {
        return Ok(None);
    };
    // Whose: costgate's headers.
    let selectors = get(r, "clientSelectors").map(items).unwrap_or(&[]);
    if selectors.len() > 1 {
        return Ok(None);
    }
    let (mut feature, mut tier, mut user, mut tenant_any, mut tenant) = (None, None, false, false, None);
    if let Some(s) = selectors.first() {
        if get(s, "headers").is_none() {
            return Ok(None);
        }
        for h in items(get(s, "headers").unwrap_or(s)) {
            let name = str_at(h, "name").unwrap_or("").to_ascii_lowercase();
            let kind = str_at(h, "type").unwrap_or("Exact");
            if tree::get(h, "invert").is_some_and(|v| v.value == Value::Bool(true)) {
                return Ok(None);
            }
            let value = str_at(h, "value");
            match (name.as_str(), kind) {
                (FEATURE_HEADER, "Exact") => feature = value.map(str::to_string),
                (TIER_HEADER, "Exact") => tier = value.map(str::to_string),
                (USER_HEADER, "Distinct") => user = true,
                (TENANT_HEADER, "Distinct") => tenant_any = true,
                (TENANT_HEADER, "Exact") => tenant = value.map(str::to_string),
                _ => return Ok(None),
            }
        }
    }
    let scope = match (&feature, tier, user, tenant_any, tenant) {
        (Some(_), Some(t), true, false, None) => Scope::TierUser(t),
        (Some(_), Some(t), false, true, None) => Scope::TierTenant(t),
        (Some(_), Some(t), false, false, Some(a)) => Scope::Account(t, a),
        (Some(_), None, true, false, None) => Scope::Breaker(BreakerLevel::User),
        (Some(_), None, false, true, None) => Scope::Breaker(BreakerLevel::Tenant),
        (Some(_), None, false, false, None) => Scope::Breaker(BreakerLevel::Feature),
        (None, None, false, false, None) => Scope::Breaker(BreakerLevel::Global),
        _ => return Ok(None),
    };
    let Some(limit) = get(r, "limit") else { return Ok(None) };
    let lpath = tree::child(path, "limit");
    let Some((requests, loc)) = number_at(file, limit, "requests", &lpath)? else {
        return Ok(None);
    };
    let unit = str_at(limit, "unit").unwrap_or("");
    let window = window_of(unit).ok_or_else(|| {
        tree::problem(
            file,
            get(limit, "unit").map_or(limit.loc, |n| n.loc),
            &tree::child(&lpath, "unit"),
            format!(
                "`{}` is not an Envoy rate-limit unit (Second, Minute, Hour, Day, Week, Month, Year)",
                crate::untrusted::clean(unit)
            ),
        )
    })?;
    let shadow = tree::bool_at(file, r, "shadowMode", path)?;
    Ok(Some(Have {
        key: Key {
            feature,
            scope,
            measure,
        },
        amount: requests * per_unit,
        window,
        enforce: if shadow { Enforce::Alert } else { Enforce::Block },
        alert: None,
        file: file.clone(),
        loc,
        path: tree::child(&lpath, "requests"),
    }))
}

/// The deployed cost expression must be the one the spec's prices give:
/// otherwise every USD limit counts something else.
pub fn compare_costs(spec: &Spec, priced: &PricedModels, plan: &Plan, deployed: &Deployed, out: &mut Vec<Finding>) {
    let Some((u, key)) = cost_unit(spec) else { return };
    let Some(first) = plan.wants.iter().find(|w| w.key.measure == Measure::Usd) else {
        return;
    };
    let want = cost_cel(priced, u);
    let found: Vec<&CostExpr> = deployed.envoy_costs.iter().filter(|c| c.key == key).collect();
    let (path, loc) = spec
        .models
        .first()
        .map_or((first.spec_path.clone(), first.spec_loc), |m| (m.path.clone(), m.loc));
    if found.is_empty() {
        out.push(Finding {
            kind: FindingKind::Missing,
            gateway: super::Gateway::Envoy,
            spec_path: path,
            spec_loc: loc,
            message: format!(
                "no AIGatewayRoute counts `{key}` (`llmRequestCosts`): the USD limits count nothing and never trip"
            ),
        });
    } else if !found.iter().any(|c| c.kind == "CEL" && c.cel == want) {
        let c = found[0];
        out.push(Finding {
            kind: FindingKind::Looser,
            gateway: super::Gateway::Envoy,
            spec_path: path,
            spec_loc: loc,
            message: format!(
                "the cost expression `{key}` is not the one the spec's prices give, so the USD limits cannot be \
                 trusted to count what the spec prices ({}:{}:{} `{}`); export it again",
                crate::untrusted::clean(&c.file),
                c.loc.line,
                c.loc.column,
                crate::untrusted::clean(&c.path)
            ),
        });
    }
}
