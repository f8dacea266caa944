//! Kong AI Gateway's `ai-rate-limiting-advanced` plugin: each tier's
//! per-user token caps as one plugin instance scoped to the tier's consumer
//! group, counting each consumer's tokens (`identifier: consumer`) in fixed
//! windows (`window_size: [86400]` for a day, `[2592000]` for 30 days).
//!
//! Field names are those of Kong's plugin documentation and examples
//! (Kong/developer.konghq.com, `app/_kong_plugins/ai-rate-limiting-advanced`)
//! and of its decK declarative format (`_format_version: "3.0"`,
//! `consumer_groups`, `plugins` with `consumer_group`). Kong counts tokens
//! only: its `cost` strategy counts in the unit of the AI Proxy plugin's
//! `model.options.input_cost`/`output_cost`, which costgate does not write,
//! and one plugin instance (one strategy) applies to a request, so the USD
//! budgets and breakers are on the gap list.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::json;

use super::tree::{self, get, items};
use super::{DAY, Deployed, Enforce, GapKind, Have, Key, MONTH, Measure, OutFile, Plan, Scope, Want};
use crate::input::node::{Node, Value};
use crate::pricing::PricedModels;
use crate::source::{Loc, Problem, ProblemCode};
use crate::spec::{OnLimit, Spec};

/// The plugin's name.
pub const PLUGIN: &str = "ai-rate-limiting-advanced";
/// The separator of costgate's consumer-group names (`<feature>~<tier>`): a
/// feature id cannot hold it, and Kong names accept it.
const SEP: char = '~';
/// The providers `llm_providers[].name` accepts that count a model's tokens.
const PROVIDERS: [&str; 9] = [
    "anthropic",
    "azure",
    "bedrock",
    "cohere",
    "gemini",
    "huggingface",
    "llama2",
    "mistral",
    "openai",
];

/// The tier name written with only the characters Kong names accept
/// (letters, digits, `.`, `-`, `_`; anything else as `~XX`).
fn escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            o.push(b as char);
        } else {
            let _ = write!(o, "~{b:02X}");
        }
    }
    o
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'~' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The consumer group of a tier's users: `<feature>~<tier>`.
pub fn group_name(feature: &str, tier: &str) -> String {
    format!("{feature}{SEP}{}", escape(tier))
}

/// The feature and tier of a consumer group costgate named.
pub fn parse_group(name: &str) -> Option<(String, String)> {
    let (f, t) = name.split_once(SEP)?;
    if f.is_empty() || t.is_empty() {
        return None;
    }
    Some((f.to_string(), unescape(t)?))
}

/// The instance name costgate gives a tier's plugin: the Admin API names a
/// plugin's consumer group by id only, so the reader finds the tier here.
fn instance_name(feature: &str, tier: &str) -> String {
    format!("costgate{SEP}{}", group_name(feature, tier))
}

/// Kong's provider name for a catalog provider.
fn provider(catalog: &str) -> Option<&'static str> {
    let p = catalog.to_ascii_lowercase();
    Some(match p.as_str() {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "google" | "gemini" | "vertex_ai" | "vertex" => "gemini",
        "azure" | "azure_openai" => "azure",
        "bedrock" | "aws" | "amazon" => "bedrock",
        "cohere" => "cohere",
        "mistral" => "mistral",
        "huggingface" => "huggingface",
        _ => return None,
    })
}

/// The plan: what Kong enforces for `spec`, and what it cannot.
pub fn plan(spec: &Spec, priced: &PricedModels) -> Plan {
    let mut plan = Plan::new(super::Gateway::Kong);
    let fid = spec.feature.id.as_str();
    for tier in &spec.tiers {
        let tname = tier.name.as_str();
        if let Some(l) = &tier.limit {
            let price = priced.get(&tier.model);
            let prov = provider(&price.provider);
            let mut any = false;
            for (n, window) in [(&l.daily_tokens, DAY), (&l.monthly_tokens, MONTH)] {
                let Some(n) = n else { continue };
                if prov.is_none() {
                    plan.gap(
                        GapKind::Missing,
                        &n.path,
                        n.loc,
                        format!(
                            "Kong counts tokens per LLM provider, and `{}` (provider `{}`) is not one it names: not \
                             exported",
                            crate::untrusted::clean(&price.id),
                            crate::untrusted::clean(&price.provider)
                        ),
                    );
                    continue;
                }
                if n.value < 1.0 {
                    plan.gap(GapKind::Missing, &n.path, n.loc, "a cap below one token: not exported");
                    continue;
                }
                if window == MONTH {
                    plan.gap(
                        GapKind::Approximate,
                        &n.path,
                        n.loc,
                        "Kong's window is a fixed 2,592,000 seconds (30 days), not the calendar month",
                    );
                }
                any = true;
                plan.wants.push(Want {
                    key: Key {
                        feature: Some(fid.to_string()),
                        scope: Scope::TierUser(tname.to_string()),
                        measure: Measure::Tokens,
                    },
                    amount: n.value.floor(),
                    window,
                    enforce: Enforce::Block,
                    alert: None,
                    quantum: 1.0,
                    spec_path: n.path.clone(),
                    spec_loc: n.loc,
                });
            }
            if any {
                plan.gap(
                    GapKind::Approximate,
                    &l.path,
                    l.loc,
                    format!(
                        "the plugin is scoped to the consumer group `{}` only: it counts the tier's consumers' AI \
                         requests on every route (add `service:` or `route:` to count only this feature's), and Kong \
                         learns a response's tokens after serving it, so the request that crosses the cap is served",
                        group_name(fid, tname)
                    ),
                );
            }
            if l.on_limit != OnLimit::Block {
                plan.gap(
                    GapKind::Tighter,
                    format!("{}.on_limit", l.path),
                    l.on_limit_loc,
                    format!(
                        "the plugin answers 429 at the cap: `on_limit: {}` becomes a hard stop unless the application \
                         catches the 429 and does it",
                        l.on_limit.as_str()
                    ),
                );
            }
            if let Some(w) = &l.warn_at {
                plan.gap(
                    GapKind::Missing,
                    &w.path,
                    w.loc,
                    "Kong does not warn: the application can warn from the `X-AI-RateLimit-Remaining-*` headers",
                );
            }
            if let Some(m) = &l.message {
                plan.gap(
                    GapKind::Missing,
                    &m.path,
                    m.loc,
                    "the message is the application's to show on a 429 (the plugin's `error_message` is one text for \
                     every user)",
                );
            }
            if let Some(t) = &l.top_up {
                plan.gap(
                    GapKind::Missing,
                    &t.path,
                    t.loc,
                    "top-ups are billing: Kong cannot raise one consumer's limit",
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
            usd_gap(&mut plan, &format!("{}.tenant_budget", tier.path), tb.loc);
        }
        for a in &tier.accounts {
            usd_gap(&mut plan, &a.path, a.loc);
        }
    }
    for (_, _, b) in spec.breakers.levels() {
        usd_gap(&mut plan, &b.path, b.loc);
    }
    plan
}

fn usd_gap(plan: &mut Plan, path: &str, loc: Loc) {
    plan.gap(
        GapKind::Missing,
        path,
        loc,
        "a USD budget: Kong's `tokens_count_strategy: cost` counts in the unit of the AI Proxy plugin's \
         `model.options.input_cost`/`output_cost` (per million tokens), which costgate does not write, and only one \
         instance of the plugin (one strategy) applies to a request, beside the tier's token cap: not exported",
    );
}

/// The files: one decK declarative `kong.yaml`.
pub fn render(spec: &Spec, priced: &PricedModels, plan: &Plan) -> Vec<OutFile> {
    let fid = spec.feature.id.as_str();
    // One plugin per tier: its windows in order.
    let mut tiers: BTreeMap<usize, Vec<&Want>> = BTreeMap::new();
    for w in &plan.wants {
        if let Scope::TierUser(t) = &w.key.scope
            && let Some(i) = spec.tiers.iter().position(|x| x.name == *t)
        {
            tiers.entry(i).or_default().push(w);
        }
    }
    let mut groups = Vec::new();
    let mut plugins = Vec::new();
    for (i, wants) in &tiers {
        let tier = &spec.tiers[*i];
        let Some(prov) = provider(&priced.get(&tier.model).provider) else {
            continue;
        };
        let mut wants = wants.clone();
        wants.sort_by_key(|w| w.window);
        let group = group_name(fid, &tier.name);
        groups.push(json!({"name": group, "tags": ["costgate"]}));
        plugins.push(json!({
            "name": PLUGIN,
            "instance_name": instance_name(fid, &tier.name),
            "consumer_group": group,
            "tags": ["costgate"],
            "config": {
                "identifier": "consumer",
                "window_type": "fixed",
                "tokens_count_strategy": "total_tokens",
                "llm_providers": [{
                    "name": prov,
                    "limit": wants.iter().map(|w| w.amount as u64).collect::<Vec<_>>(),
                    "window_size": wants.iter().map(|w| w.window).collect::<Vec<_>>(),
                }],
            },
        }));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Kong declarative configuration (decK) enforcing the token caps of {} (written by costgate export).",
        super::tree_comment(fid)
    );
    text.push_str(
        "# Each tier's users are Kong consumers in the tier's consumer group; an authentication plugin must\n\
         # identify them. The plugin needs AI Proxy (Advanced) on the feature's route and Kong Enterprise.\n\
         # Set `strategy: redis` (and its `redis:` block) when several Kong nodes serve the feature:\n\
         # `local` counts per node. What Kong cannot express is listed by `costgate export`.\n",
    );
    let doc = json!({
        "_format_version": "3.0",
        "consumer_groups": groups,
        "plugins": plugins,
    });
    let mut body = String::new();
    super::yaml::emit(&doc, 0, &mut body);
    text.push_str(&body);
    vec![OutFile {
        name: "kong.yaml".into(),
        bytes: text.into_bytes(),
        executable: false,
    }]
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

/// A number in a list: finite and at least 0.
fn number(file: &Arc<str>, n: &Node, path: &str) -> Result<f64, Problem> {
    let x = match &n.value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return Err(wrong(file, n, path, "a number")),
    };
    if !x.is_finite() || x < 0.0 {
        return Err(tree::problem_as(
            file,
            ProblemCode::OutOfRange,
            n.loc,
            path,
            "a limit must be a finite number of at least 0",
        ));
    }
    Ok(x)
}

/// A plugin found in a file: its node, path and the consumer group it is
/// nested under, if any.
struct Found<'n> {
    node: &'n Node,
    path: String,
    group: Option<&'n str>,
}

fn plugins_of<'n>(n: &'n Node, base: &str, group: Option<&'n str>, out: &mut Vec<Found<'n>>) {
    if let Some(list) = get(n, "plugins") {
        let p = tree::child(base, "plugins");
        for (i, item) in items(list).iter().enumerate() {
            out.push(Found {
                node: item,
                path: tree::index(&p, i),
                group,
            });
        }
    }
}

fn collect<'n>(doc: &'n Node, out: &mut Vec<Found<'n>>) {
    match &doc.value {
        // The Admin API's `GET /plugins` answers `{"data": [...]}`.
        Value::Seq(list) => {
            for (i, item) in list.iter().enumerate() {
                out.push(Found {
                    node: item,
                    path: tree::index("", i),
                    group: None,
                })
            }
        }
        Value::Map(_) => {
            if let Some(d) = get(doc, "data") {
                for (i, item) in items(d).iter().enumerate() {
                    out.push(Found {
                        node: item,
                        path: tree::index("data", i),
                        group: None,
                    })
                }
            }
            plugins_of(doc, "", None, out);
            if let Some(gs) = get(doc, "consumer_groups") {
                for (i, g) in items(gs).iter().enumerate() {
                    let name = match get(g, "name").map(|n| &n.value) {
                        Some(Value::Str(s)) => Some(s.as_str()),
                        _ => None,
                    };
                    plugins_of(g, &tree::index("consumer_groups", i), name, out);
                }
            }
            for k in ["services", "routes"] {
                if let Some(ss) = get(doc, k) {
                    for (i, s) in items(ss).iter().enumerate() {
                        let sp = tree::index(k, i);
                        plugins_of(s, &sp, None, out);
                        if let Some(rs) = get(s, "routes") {
                            for (j, r) in items(rs).iter().enumerate() {
                                plugins_of(r, &tree::index(&tree::child(&sp, "routes"), j), None, out);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Read a Kong declarative configuration (decK `kong.yaml`, YAML or JSON)
/// or the Admin API's `GET /plugins` answer: every enabled
/// `ai-rate-limiting-advanced` instance scoped to one of costgate's
/// consumer groups, counting each consumer's total tokens, as the tier's
/// per-user caps. Instances costgate did not name limit something else and
/// are skipped; values of any instance of the plugin are checked.
pub fn read(file: &Arc<str>, docs: &[Node], out: &mut Deployed) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    for doc in docs {
        let mut found = Vec::new();
        collect(doc, &mut found);
        for f in found {
            match read_plugin(file, &f) {
                Ok(mut hs) => out.haves.append(&mut hs),
                Err(p) => problems.push(p),
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The consumer group a plugin is scoped to: a name in decK, `{"id": ...}`
/// (or `{"name": ...}`) in the Admin API.
fn scope_group<'n>(file: &Arc<str>, f: &Found<'n>) -> Result<Option<&'n str>, Problem> {
    if f.group.is_some() {
        return Ok(f.group);
    }
    let Some(g) = get(f.node, "consumer_group") else {
        return Ok(None);
    };
    let gpath = tree::child(&f.path, "consumer_group");
    match &g.value {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(s)),
        Value::Map(_) => match opt_str(file, g, "name", &gpath)? {
            Some(n) => Ok(Some(n)),
            // By id only: costgate's instance name says which tier it is.
            None => match opt_str(file, f.node, "instance_name", &f.path)? {
                Some(i) => Ok(i.strip_prefix("costgate~")),
                None => Ok(None),
            },
        },
        _ => Err(wrong(file, g, &gpath, "a consumer group name or {\"id\": ...}")),
    }
}

fn read_plugin(file: &Arc<str>, f: &Found) -> Result<Vec<Have>, Problem> {
    let p = f.node;
    if !matches!(p.value, Value::Map(_)) || opt_str(file, p, "name", &f.path)? != Some(PLUGIN) {
        return Ok(Vec::new());
    }
    if !tree::bool_at(file, p, "enabled", &f.path)? && get(p, "enabled").is_some_and(|e| e.value != Value::Null) {
        return Ok(Vec::new());
    }
    let cpath = tree::child(&f.path, "config");
    let Some(config) = get(p, "config") else {
        return Ok(Vec::new());
    };
    if !matches!(config.value, Value::Map(_)) {
        return Err(wrong(file, config, &cpath, "the plugin's configuration (a mapping)"));
    }
    // Check what the plugin counts, and over which windows.
    let identifier = opt_str(file, config, "identifier", &cpath)?.unwrap_or("consumer");
    let strategy = opt_str(file, config, "tokens_count_strategy", &cpath)?.unwrap_or("total_tokens");
    if !matches!(
        strategy,
        "total_tokens" | "prompt_tokens" | "completion_tokens" | "cost"
    ) {
        return Err(tree::problem(
            file,
            get(config, "tokens_count_strategy").map_or(config.loc, |n| n.loc),
            &tree::child(&cpath, "tokens_count_strategy"),
            format!(
                "`{}` is not a Kong token count strategy (total_tokens, prompt_tokens, completion_tokens, cost)",
                crate::untrusted::clean(strategy)
            ),
        ));
    }
    match opt_str(file, config, "window_type", &cpath)? {
        None | Some("fixed" | "sliding") => {}
        Some(other) => {
            return Err(tree::problem(
                file,
                get(config, "window_type").map_or(config.loc, |n| n.loc),
                &tree::child(&cpath, "window_type"),
                format!(
                    "`{}` is not a Kong window type (fixed, sliding)",
                    crate::untrusted::clean(other)
                ),
            ));
        }
    }
    // Per window, the most any provider lets through, and where.
    let mut windows: BTreeMap<u64, (f64, Loc, String)> = BTreeMap::new();
    if let Some(list) = get(config, "llm_providers") {
        let lpath = tree::child(&cpath, "llm_providers");
        if !matches!(list.value, Value::Seq(_) | Value::Null) {
            return Err(wrong(file, list, &lpath, "a list of providers"));
        }
        for (i, e) in items(list).iter().enumerate() {
            let epath = tree::index(&lpath, i);
            let name = opt_str(file, e, "name", &epath)?.unwrap_or("");
            let (Some(limits), Some(sizes)) = (get(e, "limit"), get(e, "window_size")) else {
                continue;
            };
            let (lp, wp) = (tree::child(&epath, "limit"), tree::child(&epath, "window_size"));
            for (n, p) in [(limits, &lp), (sizes, &wp)] {
                if !matches!(n.value, Value::Seq(_)) {
                    return Err(wrong(file, n, p, "a list of numbers"));
                }
            }
            if items(limits).len() != items(sizes).len() {
                return Err(tree::problem(
                    file,
                    sizes.loc,
                    &wp,
                    format!(
                        "{} limits and {} window sizes: Kong pairs them one to one",
                        items(limits).len(),
                        items(sizes).len()
                    ),
                ));
            }
            for (j, (l, s)) in items(limits).iter().zip(items(sizes)).enumerate() {
                let amount = number(file, l, &tree::index(&lp, j))?;
                let size = number(file, s, &tree::index(&wp, j))?;
                if size < 1.0 || size.fract() != 0.0 {
                    return Err(tree::problem_as(
                        file,
                        ProblemCode::OutOfRange,
                        s.loc,
                        &tree::index(&wp, j),
                        "a window size is a whole number of seconds, at least 1",
                    ));
                }
                if !PROVIDERS.contains(&name) {
                    // `requestPrompt` and `customCost` count something else.
                    continue;
                }
                let w = size as u64;
                let here = (amount, l.loc, tree::index(&lp, j));
                windows
                    .entry(w)
                    .and_modify(|e| {
                        if amount > e.0 {
                            *e = here.clone();
                        }
                    })
                    .or_insert(here);
            }
        }
    }
    // Whose: a costgate consumer group, each consumer counted alone.
    if identifier != "consumer" || strategy != "total_tokens" {
        return Ok(Vec::new());
    }
    // One consumer's plugin, or one that runs only when its `condition` holds.
    if ["consumer", "condition"]
        .iter()
        .any(|k| get(p, k).is_some_and(|c| c.value != Value::Null))
    {
        return Ok(Vec::new());
    }
    let Some((feature, tier)) = scope_group(file, f)?.and_then(parse_group) else {
        return Ok(Vec::new());
    };
    Ok(windows
        .into_iter()
        .map(|(window, (amount, loc, path))| Have {
            key: Key {
                feature: Some(feature.clone()),
                scope: Scope::TierUser(tier.clone()),
                measure: Measure::Tokens,
            },
            amount,
            window,
            enforce: Enforce::Block,
            alert: None,
            file: file.clone(),
            loc,
            path,
        })
        .collect())
}
