//! LiteLLM proxy: each tier's per-user cap as a budget its end users
//! (LiteLLM "customers") are assigned to, each tenant and named account as
//! a team, the feature breaker as a tag budget and the global breaker as the
//! proxy's own budget. LiteLLM counts dollars only: token caps are converted
//! at the tier model's central rate, and the gap list says so.
//!
//! Field names are LiteLLM 1.110.2's request models (`BudgetNewRequest`,
//! `NewTeamRequest`, `litellm_settings`), which `.ci/check_gateway_exports.py`
//! validates the export against.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::tree::{self, get, items, number_at, str_at};
use super::{
    DAY, Deployed, Enforce, GapKind, Have, Key, MONTH, Measure, OutFile, Plan, Scope, Want, token_rates, usd_down,
};
use crate::input::node::{Node, Value};
use crate::pricing::PricedModels;
use crate::source::{Loc, Problem, ProblemCode};
use crate::spec::{BreakerLevel, OnBudget, OnLimit, OnTrip, Spec};

/// Budgets are exported to the micro-dollar, rounded down.
const DECIMALS: i32 = 6;
const QUANTUM: f64 = 1e-6;
/// A duration that never resets (a `max_budget` with no `budget_duration`).
const NEVER: u64 = u64::MAX;
/// The separator of costgate's ids (`<feature>:<tier>`): a feature id
/// cannot hold it.
const SEP: &str = ":";

/// The budget id of a tier's users.
pub fn budget_id(feature: &str, tier: &str) -> String {
    format!("{feature}{SEP}{tier}")
}

/// The tag a request carries so the feature's tag budget counts it.
pub fn feature_tag(feature: &str) -> String {
    format!("costgate-feature{SEP}{feature}")
}

fn duration(secs: u64) -> &'static str {
    if secs == MONTH { "1mo" } else { "1d" }
}

/// Parse a LiteLLM duration as its `duration_in_seconds` does: `30s`, `5m`,
/// `1h`, `1d`, `1w`, `1mo` (compared as 30 days), and the words `hourly`,
/// `daily`, `weekly`, `monthly`.
pub fn parse_duration(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = match t.as_str() {
        "hourly" => "1h",
        "daily" => "24h",
        "weekly" => "7d",
        "monthly" => "30d",
        other => other,
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let n: u64 = t[..digits].parse().ok()?;
    let unit = match &t[digits..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => DAY,
        "w" => 7 * DAY,
        "mo" => MONTH,
        _ => return None,
    };
    (n > 0).then_some(n * unit)
}

/// The plan: what LiteLLM enforces for `spec`, and what it cannot.
pub fn plan(spec: &Spec, priced: &PricedModels) -> Plan {
    let mut plan = Plan::new(super::Gateway::Litellm);
    let fid = spec.feature.id.as_str();
    let user_breaker = spec.breakers.user_daily_usd.as_ref();
    for tier in &spec.tiers {
        let tname = tier.name.as_str();
        // Each user's daily budget: the token cap in USD, or the user
        // breaker, whichever is lower (a customer has one budget).
        let mut user: Option<(f64, u64, String, Loc)> = None;
        let mut alert = None;
        if let Some(l) = &tier.limit {
            let (central, dearest) = token_rates(spec, priced, &tier.model);
            let model = &priced.get(&tier.model).id;
            let cap = match (&l.daily_tokens, &l.monthly_tokens) {
                (Some(d), m) => {
                    if let Some(m) = m {
                        plan.gap(
                            GapKind::Missing,
                            &m.path,
                            m.loc,
                            "a LiteLLM customer has one budget: the daily cap is exported, the monthly cap is not \
                             enforced",
                        );
                    }
                    Some((d, DAY, "a day"))
                }
                (None, Some(m)) => Some((m, MONTH, "a month")),
                (None, None) => None,
            };
            if let Some((n, window, per)) = cap {
                let usd = usd_down(n.value * central, DECIMALS);
                plan.gap(
                    GapKind::Approximate,
                    &n.path,
                    n.loc,
                    format!(
                        "LiteLLM budgets count USD, not tokens: {} tokens {per} is exported as ${usd} {per} at \
                         {model}'s central rate (${} per million tokens at the spec's central call); at the dearest \
                         rate the worst case uses it would be ${}",
                        crate::fmt::count(n.value),
                        crate::spec::rewrite::number(central * 1e6),
                        crate::spec::rewrite::number(usd_down(n.value * dearest, DECIMALS)),
                    ),
                );
                if window == MONTH {
                    plan.gap(
                        GapKind::Approximate,
                        &n.path,
                        n.loc,
                        "`budget_duration: 1mo` resets a month after the budget starts, not on the 1st",
                    );
                }
                user = Some((usd, window, n.path.clone(), n.loc));
                if let Some(w) = &l.warn_at {
                    alert = Some(w.value);
                }
            }
            if l.on_limit != OnLimit::Block {
                plan.gap(
                    GapKind::Tighter,
                    format!("{}.on_limit", l.path),
                    l.on_limit_loc,
                    format!(
                        "a LiteLLM customer budget only blocks: `on_limit: {}` becomes a hard stop at the cap \
                         (model fallback on budget, `budget_fallbacks`, exists only on virtual keys with \
                         `model_max_budget`, a LiteLLM Enterprise feature)",
                        l.on_limit.as_str()
                    ),
                );
            }
            if let Some(m) = &l.message {
                plan.gap(
                    GapKind::Missing,
                    &m.path,
                    m.loc,
                    "the message is the application's to show: LiteLLM answers a spent budget with its own error",
                );
            }
            if let Some(t) = &l.top_up {
                plan.gap(
                    GapKind::Missing,
                    &t.path,
                    t.loc,
                    "top-ups are billing: the application raises the customer's budget when one is bought",
                );
            }
        }
        if let Some(o) = &tier.overage {
            plan.gap(
                GapKind::Missing,
                &o.after_daily_tokens.path,
                o.after_daily_tokens.loc,
                "overage is billing, not a limit: LiteLLM does not charge it",
            );
        }
        if let Some(b) = user_breaker {
            let stricter = user
                .as_ref()
                .is_none_or(|(usd, window, _, _)| *window != DAY || b.limit.value < *usd);
            if stricter {
                if user.as_ref().is_some_and(|u| u.1 == MONTH) {
                    plan.gap(
                        GapKind::Missing,
                        &b.path,
                        b.loc,
                        format!(
                            "tier `{tname}`: a customer has one budget, the monthly cap is exported and the user \
                             breaker is not"
                        ),
                    );
                } else {
                    user = Some((usd_down(b.limit.value, DECIMALS), DAY, b.path.clone(), b.loc));
                    alert = None;
                }
            }
        }
        if let Some((usd, window, path, loc)) = user {
            plan.wants.push(Want {
                key: Key {
                    feature: Some(fid.to_string()),
                    scope: Scope::TierUser(tname.to_string()),
                    measure: Measure::Usd,
                },
                amount: usd,
                window,
                enforce: Enforce::Block,
                alert: alert.map(|a| usd_down(a * usd, DECIMALS)),
                quantum: QUANTUM,
                spec_path: path,
                spec_loc: loc,
            });
        }
        if let Some(tb) = &tier.tenant_budget {
            let path = format!("{}.tenant_budget", tier.path);
            if tb.monthly_drawn.is_some() {
                plan.gap(
                    GapKind::Approximate,
                    format!("{path}.monthly_usd"),
                    tb.monthly_usd.loc,
                    format!(
                        "each tenant's budget is drawn from a distribution: the team template uses its central \
                         ${}; give each tenant's team its own",
                        crate::spec::rewrite::number(tb.monthly_usd.value)
                    ),
                );
            }
            team_wants(
                &mut plan,
                fid,
                Scope::TierTenant(tname.to_string()),
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
            team_wants(
                &mut plan,
                fid,
                Scope::Account(tname.to_string(), a.name.clone()),
                a.monthly_usd.value,
                &a.alerts,
                a.on_limit,
                &a.path,
                a.loc,
            );
        }
    }
    for (_, b) in spec.breakers.iter() {
        if let Some(m) = &b.message {
            plan.gap(
                GapKind::Missing,
                &m.path,
                m.loc,
                "the message is the application's to show",
            );
        }
    }
    if let Some(b) = &spec.breakers.tenant_daily_usd {
        if spec
            .tiers
            .iter()
            .any(|t| t.tenant_budget.is_some() || !t.accounts.is_empty())
        {
            if breaker_enforce(
                &mut plan,
                b,
                "each tenant's team gets a second, daily budget window (`budget_limits`)",
            ) {
                plan.wants.push(breaker_want(fid, BreakerLevel::Tenant, b));
            }
        } else {
            plan.gap(
                GapKind::Missing,
                &b.path,
                b.loc,
                "no tier has tenants, so no team carries the tenant breaker",
            );
        }
    }
    if let Some(b) = &spec.breakers.feature_daily_usd
        && breaker_enforce(
            &mut plan,
            b,
            &format!(
                "a tag budget (`litellm_settings.tag_budget_config`, a LiteLLM Enterprise feature) on requests tagged \
                 `{}`",
                feature_tag(fid)
            ),
        )
    {
        plan.wants.push(breaker_want(fid, BreakerLevel::Feature, b));
    }
    if let Some(b) = &spec.breakers.global_daily_usd
        && breaker_enforce(
            &mut plan,
            b,
            "the proxy's own budget (`litellm_settings.max_budget`): every feature behind this proxy shares it",
        )
    {
        let mut w = breaker_want(fid, BreakerLevel::Global, b);
        w.key.feature = None;
        plan.wants.push(w);
    }
    plan
}

/// Whether a breaker is exported, and the gaps of how.
fn breaker_enforce(plan: &mut Plan, b: &crate::spec::Breaker, how: &str) -> bool {
    match b.on_trip {
        OnTrip::Block => {
            plan.gap(GapKind::Approximate, &b.path, b.loc, format!("exported as {how}"));
            true
        }
        OnTrip::Notify => {
            plan.gap(
                GapKind::Missing,
                &b.path,
                b.loc,
                "`on_trip: notify` has no LiteLLM equivalent on a daily budget (budgets block); alert on spend \
                 outside the gateway",
            );
            false
        }
        other => {
            plan.gap(
                GapKind::Tighter,
                &b.path,
                b.loc,
                format!(
                    "`on_trip: {}` has no LiteLLM equivalent: exported as {how}, a hard stop",
                    other.as_str()
                ),
            );
            true
        }
    }
}

fn breaker_want(fid: &str, level: BreakerLevel, b: &crate::spec::Breaker) -> Want {
    Want {
        key: Key {
            feature: Some(fid.to_string()),
            scope: Scope::Breaker(level),
            measure: Measure::Usd,
        },
        amount: usd_down(b.limit.value, DECIMALS),
        window: DAY,
        enforce: Enforce::Block,
        alert: None,
        quantum: QUANTUM,
        spec_path: b.path.clone(),
        spec_loc: b.loc,
    }
}

#[allow(clippy::too_many_arguments)]
fn team_wants(
    plan: &mut Plan,
    fid: &str,
    scope: Scope,
    monthly: f64,
    alerts: &[f64],
    on: OnBudget,
    path: &str,
    loc: Loc,
) {
    let first = alerts.iter().copied().find(|a| *a < 1.0 || on == OnBudget::Notify);
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
                "a LiteLLM team has one soft budget: the alert at {} is exported, the alerts at {} are not",
                first.map_or("none".into(), crate::fmt::pct),
                later.join(", ")
            ),
        );
    }
    let (amount, enforce, alert) = match on {
        OnBudget::Block => (
            usd_down(monthly, DECIMALS),
            Enforce::Block,
            first.map(|a| usd_down(a * monthly, DECIMALS)),
        ),
        OnBudget::Notify => {
            plan.gap(
                GapKind::Approximate,
                format!("{path}.on_limit"),
                loc,
                "`on_limit: notify`: a LiteLLM `max_budget` always blocks, so the team gets only a soft budget \
                 (an alert) at the first alert level and keeps serving",
            );
            (usd_down(first.unwrap_or(1.0) * monthly, DECIMALS), Enforce::Alert, None)
        }
    };
    plan.gap(
        GapKind::Approximate,
        path,
        loc,
        "`budget_duration: 1mo` resets a month after the team is created, not on the 1st",
    );
    plan.wants.push(Want {
        key: Key {
            feature: Some(fid.to_string()),
            scope,
            measure: Measure::Usd,
        },
        amount,
        window: MONTH,
        enforce,
        alert,
        quantum: QUANTUM,
        spec_path: path.to_string(),
        spec_loc: loc,
    });
}

fn num(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
}

/// The files: `config.yaml`, `budgets.json`, `teams.json`, `apply.sh`.
pub fn render(spec: &Spec, _priced: &PricedModels, plan: &Plan) -> Vec<OutFile> {
    let fid = spec.feature.id.as_str();
    let mut budgets = Vec::new();
    let mut teams = Vec::new();
    let tenant_breaker = plan
        .wants
        .iter()
        .find(|w| w.key.scope == Scope::Breaker(BreakerLevel::Tenant))
        .map(|w| w.amount);
    let mut global = None;
    let mut tag = None;
    for w in &plan.wants {
        match &w.key.scope {
            Scope::TierUser(t) => {
                let mut b = json!({
                    "budget_id": budget_id(fid, t),
                    "max_budget": num(w.amount),
                    "budget_duration": duration(w.window),
                });
                if let Some(a) = w.alert {
                    b["soft_budget"] = num(a);
                }
                budgets.push(b);
            }
            Scope::TierTenant(t) | Scope::Account(t, _) => {
                let (id, alias, kind, account) = match &w.key.scope {
                    Scope::Account(_, a) => (format!("{fid}{SEP}{t}{SEP}{a}"), a.clone(), "account", Some(a)),
                    _ => (
                        format!("{fid}{SEP}{t}{SEP}tenant-template"),
                        format!("{t} tenant (template)"),
                        "tenant",
                        None,
                    ),
                };
                let mut team = json!({
                    "team_id": id,
                    "team_alias": alias,
                    "budget_duration": duration(w.window),
                    "metadata": {
                        "costgate_feature": fid,
                        "costgate_tier": t,
                        "costgate_scope": kind,
                        "costgate_spec": spec.file.as_ref(),
                    },
                });
                if let Some(a) = account {
                    team["metadata"]["costgate_account"] = json!(a);
                }
                match w.enforce {
                    Enforce::Alert => team["soft_budget"] = num(w.amount),
                    _ => {
                        team["max_budget"] = num(w.amount);
                        if let Some(a) = w.alert {
                            team["soft_budget"] = num(a);
                        }
                    }
                }
                if let Some(d) = tenant_breaker {
                    team["budget_limits"] = json!([{"budget_duration": "1d", "max_budget": num(d)}]);
                }
                teams.push(team);
            }
            Scope::Breaker(BreakerLevel::Global) => global = Some(w.amount),
            Scope::Breaker(BreakerLevel::Feature) => tag = Some(w.amount),
            Scope::Breaker(_) => {}
        }
    }
    let mut files = Vec::new();
    let mut cfg = String::new();
    let _ = writeln!(
        cfg,
        "# LiteLLM proxy settings enforcing {} (written by costgate export; merge into the proxy's config.yaml).",
        yaml_comment(fid)
    );
    let _ = writeln!(
        cfg,
        "# What LiteLLM cannot express is listed by `costgate export` and in docs/runtime.md."
    );
    cfg.push_str("litellm_settings:\n");
    if let Some(g) = global {
        let _ = writeln!(
            cfg,
            "  max_budget: {}  # breakers.global_daily_usd: the whole proxy's daily spend",
            num(g)
        );
        cfg.push_str("  budget_duration: \"1d\"\n");
    }
    if let Some(t) = tag {
        cfg.push_str("  tag_budget_config:  # breakers.feature_daily_usd (LiteLLM Enterprise)\n");
        let _ = writeln!(cfg, "    {}:", json!(feature_tag(fid)));
        let _ = writeln!(cfg, "      max_budget: {}", num(t));
        cfg.push_str("      budget_duration: \"1d\"\n");
    }
    if let Some(free) = spec.tiers.iter().find(|t| {
        t.price_usd_per_month.as_ref().is_none_or(|p| p.value == 0.0)
            && budgets.iter().any(|b| b["budget_id"] == json!(budget_id(fid, &t.name)))
    }) {
        let _ = writeln!(
            cfg,
            "  max_end_user_budget_id: {}  # an end user with no budget of their own gets the free tier's",
            json!(budget_id(fid, &free.name))
        );
    }
    cfg.push_str("general_settings:\n");
    cfg.push_str("  master_key: os.environ/LITELLM_MASTER_KEY\n");
    cfg.push_str("  database_url: os.environ/DATABASE_URL  # budgets live in the proxy's database\n");
    cfg.push_str("  user_header_mappings:  # the end user is the x-user-id header\n");
    cfg.push_str("    - header_name: x-user-id\n");
    cfg.push_str("      litellm_user_role: customer\n");
    files.push(OutFile {
        name: "config.yaml".into(),
        bytes: cfg.into_bytes(),
        executable: false,
    });
    let pretty = |v: &Vec<Json>| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    };
    for (name, list) in [("budgets.json", &budgets), ("teams.json", &teams)] {
        if !list.is_empty() {
            files.push(OutFile {
                name: name.into(),
                bytes: pretty(list),
                executable: false,
            });
        }
    }
    files.push(OutFile {
        name: "apply.sh".into(),
        bytes: APPLY_SH.as_bytes().to_vec(),
        executable: true,
    });
    files
}

fn yaml_comment(s: &str) -> String {
    crate::untrusted::clean(s).replace(['\n', '\r'], " ")
}

const APPLY_SH: &str = r#"#!/usr/bin/env bash
# Apply costgate's LiteLLM export to a running proxy (written by costgate export).
#   LITELLM_URL=http://localhost:4000 LITELLM_MASTER_KEY=sk-... ./apply.sh
# Creates every budget in budgets.json and every team in teams.json except the
# tenant templates. Then, for each end user and tenant as they sign up:
#   ./apply.sh customer USER_ID BUDGET_ID    (POST /customer/new)
#   ./apply.sh tenant TEAM_ID TEMPLATE_ID    (POST /team/new from a template)
# Needs curl and jq. The master key is read from the environment, never printed.
set -euo pipefail
cd "$(dirname "$0")"
: "${LITELLM_URL:?set LITELLM_URL to the proxy's address}"
: "${LITELLM_MASTER_KEY:?set LITELLM_MASTER_KEY}"

post() {
  curl -sS --fail-with-body -X POST "$LITELLM_URL$1" \
    -H "Authorization: Bearer $LITELLM_MASTER_KEY" \
    -H 'Content-Type: application/json' \
    --data-binary @- >/dev/null
}

case "${1:-all}" in
  all)
    if [ -f budgets.json ]; then
      jq -c '.[]' budgets.json | while IFS= read -r body; do
        printf '%s\n' "$body" | post /budget/new
      done
    fi
    if [ -f teams.json ]; then
      jq -c '.[] | select(.metadata.costgate_scope != "tenant")' teams.json | while IFS= read -r body; do
        printf '%s\n' "$body" | post /team/new
      done
    fi
    ;;
  customer)
    jq -n --arg u "$2" --arg b "$3" '{user_id: $u, budget_id: $b}' | post /customer/new
    ;;
  tenant)
    jq -c --arg id "$2" --arg t "$3" '.[] | select(.team_id == $t) | .team_id = $id | .team_alias = $id' teams.json \
      | post /team/new
    ;;
  *)
    echo "usage: $0 [all | customer USER_ID BUDGET_ID | tenant TEAM_ID TEMPLATE_ID]" >&2
    exit 64
    ;;
esac
"#;

/// Read a LiteLLM file: a `config.yaml`, or the JSON of `/budget/list`,
/// `/team/list` (or costgate's own `budgets.json` and `teams.json`).
/// Customers and keys are recognised and skipped: their budgets are the
/// ones compared.
pub fn read(file: &Arc<str>, docs: &[Node], out: &mut Deployed) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    for doc in docs {
        if get(doc, "litellm_settings").is_some()
            || get(doc, "general_settings").is_some()
            || get(doc, "model_list").is_some()
        {
            if let Err(p) = read_config(file, doc, out) {
                problems.push(p);
            }
            continue;
        }
        let (list, base): (&[Node], String) = match &doc.value {
            Value::Seq(items) => (items, String::new()),
            Value::Map(_) => match get(doc, "data") {
                Some(d) if matches!(d.value, Value::Seq(_)) => (items(d), "data".into()),
                _ => (std::slice::from_ref(doc), String::new()),
            },
            _ => (&[], String::new()),
        };
        for (i, item) in list.iter().enumerate() {
            let path = if matches!(doc.value, Value::Seq(_)) || !base.is_empty() {
                format!("{base}[{i}]")
            } else {
                String::new()
            };
            let r = if get(item, "team_id").is_some() {
                read_team(file, item, &path, out)
            } else if get(item, "budget_id").is_some() && get(item, "user_id").is_none() && get(item, "token").is_none()
            {
                read_budget(file, item, &path, out)
            } else {
                Ok(())
            };
            if let Err(p) = r {
                problems.push(p);
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn window_at(file: &Arc<str>, n: &Node, path: &str) -> Result<u64, Problem> {
    match get(n, "budget_duration") {
        None => Ok(NEVER),
        Some(v) => match &v.value {
            Value::Null => Ok(NEVER),
            Value::Str(s) => parse_duration(s).ok_or_else(|| {
                tree::problem(
                    file,
                    v.loc,
                    &tree::child(path, "budget_duration"),
                    format!(
                        "`{}` is not a LiteLLM duration (30s, 5m, 1h, 1d, 1w, 1mo)",
                        crate::untrusted::clean(s)
                    ),
                )
            }),
            other => Err(tree::problem_as(
                file,
                ProblemCode::WrongType,
                v.loc,
                &tree::child(path, "budget_duration"),
                format!("expected a duration such as \"1d\", found {}", other.kind()),
            )),
        },
    }
}

fn read_config(file: &Arc<str>, doc: &Node, out: &mut Deployed) -> Result<(), Problem> {
    let Some(s) = get(doc, "litellm_settings") else {
        return Ok(());
    };
    if let Some((max, loc)) = number_at(file, s, "max_budget", "litellm_settings")? {
        out.haves.push(Have {
            key: Key {
                feature: None,
                scope: Scope::Breaker(BreakerLevel::Global),
                measure: Measure::Usd,
            },
            amount: max,
            window: window_at(file, s, "litellm_settings")?,
            enforce: Enforce::Block,
            alert: None,
            file: file.clone(),
            loc,
            path: "litellm_settings.max_budget".into(),
        });
    }
    if let Some(tags) = get(s, "tag_budget_config")
        && let Value::Map(entries) = &tags.value
    {
        for (k, v) in entries {
            let Some(fid) = k.name.strip_prefix(&feature_tag("")) else {
                continue;
            };
            let path = format!("litellm_settings.tag_budget_config.{}", k.name);
            // `BudgetConfig` accepts `budget_limit` / `time_period` as aliases.
            let max = match number_at(file, v, "max_budget", &path)? {
                Some(m) => Some(m),
                None => number_at(file, v, "budget_limit", &path)?,
            };
            let Some((max, loc)) = max else { continue };
            let window = if get(v, "budget_duration").is_some() {
                window_at(file, v, &path)?
            } else {
                match str_at(v, "time_period").and_then(parse_duration) {
                    Some(w) => w,
                    None => NEVER,
                }
            };
            out.haves.push(Have {
                key: Key {
                    feature: Some(fid.to_string()),
                    scope: Scope::Breaker(BreakerLevel::Feature),
                    measure: Measure::Usd,
                },
                amount: max,
                window,
                enforce: Enforce::Block,
                alert: None,
                file: file.clone(),
                loc,
                path: format!("{path}.max_budget"),
            });
        }
    }
    Ok(())
}

fn read_budget(file: &Arc<str>, b: &Node, path: &str, out: &mut Deployed) -> Result<(), Problem> {
    let Some(id) = str_at(b, "budget_id") else {
        return Ok(());
    };
    let Some((fid, tier)) = id.split_once(SEP) else {
        return Ok(());
    };
    let Some((max, loc)) = number_at(file, b, "max_budget", path)? else {
        return Ok(());
    };
    out.haves.push(Have {
        key: Key {
            feature: Some(fid.to_string()),
            scope: Scope::TierUser(tier.to_string()),
            measure: Measure::Usd,
        },
        amount: max,
        window: window_at(file, b, path)?,
        enforce: Enforce::Block,
        alert: number_at(file, b, "soft_budget", path)?.map(|(v, _)| v),
        file: file.clone(),
        loc,
        path: tree::child(path, "max_budget"),
    });
    Ok(())
}

fn read_team(file: &Arc<str>, t: &Node, path: &str, out: &mut Deployed) -> Result<(), Problem> {
    let Some(meta) = get(t, "metadata") else { return Ok(()) };
    let (Some(fid), Some(tier)) = (str_at(meta, "costgate_feature"), str_at(meta, "costgate_tier")) else {
        return Ok(());
    };
    let scope = match (str_at(meta, "costgate_scope"), str_at(meta, "costgate_account")) {
        (Some("account"), Some(a)) => Scope::Account(tier.to_string(), a.to_string()),
        (Some("tenant"), _) => Scope::TierTenant(tier.to_string()),
        _ => return Ok(()),
    };
    let key = Key {
        feature: Some(fid.to_string()),
        scope,
        measure: Measure::Usd,
    };
    let window = window_at(file, t, path)?;
    let soft = number_at(file, t, "soft_budget", path)?;
    match number_at(file, t, "max_budget", path)? {
        Some((max, loc)) => out.haves.push(Have {
            key: key.clone(),
            amount: max,
            window,
            enforce: Enforce::Block,
            alert: soft.map(|(v, _)| v),
            file: file.clone(),
            loc,
            path: tree::child(path, "max_budget"),
        }),
        None => {
            if let Some((s, loc)) = soft {
                out.haves.push(Have {
                    key: key.clone(),
                    amount: s,
                    window,
                    enforce: Enforce::Alert,
                    alert: None,
                    file: file.clone(),
                    loc,
                    path: tree::child(path, "soft_budget"),
                });
            }
        }
    }
    if let Some(limits) = get(t, "budget_limits") {
        let lpath = tree::child(path, "budget_limits");
        for (i, l) in items(limits).iter().enumerate() {
            let p = tree::index(&lpath, i);
            let Some((max, loc)) = number_at(file, l, "max_budget", &p)? else {
                continue;
            };
            let w = window_at(file, l, &p)?;
            let key = if w == DAY {
                Key {
                    feature: Some(fid.to_string()),
                    scope: Scope::Breaker(BreakerLevel::Tenant),
                    measure: Measure::Usd,
                }
            } else {
                key.clone()
            };
            out.haves.push(Have {
                key,
                amount: max,
                window: w,
                enforce: Enforce::Block,
                alert: None,
                file: file.clone(),
                loc,
                path: tree::child(&p, "max_budget"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_litellm_reads_them() {
        assert_eq!(parse_duration("1d"), Some(DAY));
        assert_eq!(parse_duration("24h"), Some(DAY));
        assert_eq!(parse_duration("daily"), Some(DAY));
        assert_eq!(parse_duration("1mo"), Some(MONTH));
        assert_eq!(parse_duration("monthly"), Some(MONTH));
        assert_eq!(parse_duration("2w"), Some(14 * DAY));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("1y"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("0d"), None);
        assert_eq!(parse_duration("99999999999999d"), None);
    }
}
