//! The same limits at runtime: the spec's caps, budgets and breakers written
//! as the configuration of the gateways that enforce them (`costgate
//! export`), and a deployed configuration read back and compared with the
//! spec (`costgate check --runtime`).
//!
//! Every gateway is an adapter with three parts:
//! - a *plan*: the limits the spec relies on, in the gateway's own terms
//!   (a token cap converted to USD where the gateway only counts dollars),
//!   and the list of what the gateway cannot express ([`Gap`]);
//! - a *renderer*: the plan as the gateway's files;
//! - a *reader*: a deployed configuration as the limits it enforces.
//!
//! The comparison is gateway-neutral: each limit has a [`Key`] (whose limit
//! it is and what it counts), an amount, a window and what happens past it.

use std::sync::Arc;

use serde::Serialize;

use crate::pricing::PricedModels;
use crate::source::{Loc, Problem};
use crate::spec::{BreakerLevel, Spec};

pub mod envoy;
pub mod kong;
pub mod litellm;
pub mod portkey;
mod tree;
mod yaml;

/// The gateways costgate writes configuration for and reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gateway {
    /// The LiteLLM proxy: budgets, customers, teams, the global budget.
    Litellm,
    /// Envoy AI Gateway with Envoy Gateway global rate limits.
    Envoy,
    /// Portkey usage-limit and rate-limit policies.
    Portkey,
    /// Kong's `ai-rate-limiting-advanced` plugin.
    Kong,
}

impl Gateway {
    /// Every gateway, in the order they are documented.
    pub const ALL: [Gateway; 4] = [Gateway::Litellm, Gateway::Envoy, Gateway::Portkey, Gateway::Kong];

    /// The word `--to` takes and the folder the files go in.
    pub fn as_str(self) -> &'static str {
        match self {
            Gateway::Litellm => "litellm",
            Gateway::Envoy => "envoy",
            Gateway::Portkey => "portkey",
            Gateway::Kong => "kong",
        }
    }

    /// Its name for people.
    pub fn title(self) -> &'static str {
        match self {
            Gateway::Litellm => "LiteLLM proxy",
            Gateway::Envoy => "Envoy AI Gateway",
            Gateway::Portkey => "Portkey",
            Gateway::Kong => "Kong AI Gateway",
        }
    }
}

/// Whose limit it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "scope", content = "name", rename_all = "kebab-case")]
pub enum Scope {
    /// Each user of a tier (`tiers[].limit`).
    TierUser(String),
    /// Each tenant of a tier (`tiers[].tenant_budget`).
    TierTenant(String),
    /// One named account of a tier (`tiers[].accounts[]`): tier, account.
    Account(String, String),
    /// A breaker (`breakers.*_daily_usd`).
    Breaker(BreakerLevel),
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Tokens (input and output).
    Tokens,
    /// US dollars.
    Usd,
}

impl Measure {
    fn amount(self, v: f64) -> String {
        match self {
            Measure::Tokens => format!("{} tokens", crate::fmt::count(v)),
            Measure::Usd => format!("${}", crate::spec::rewrite::number(v)),
        }
    }
}

/// Which limit: the feature it belongs to (none for what the whole gateway
/// shares), whose it is and what it counts. A scope may hold several limits
/// of one measure with different windows (a daily and a monthly cap).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    /// The spec's `feature.id`; `None` for the global breaker.
    pub feature: Option<String>,
    /// Whose limit.
    pub scope: Scope,
    /// What it counts.
    pub measure: Measure,
}

/// Seconds in a day.
pub const DAY: u64 = 86_400;
/// Seconds in a month as the gateways count it (30 days; LiteLLM's `1mo`
/// is compared as the same).
pub const MONTH: u64 = 30 * DAY;

/// A window's length in words.
pub fn window_words(secs: u64) -> String {
    match secs {
        s if s == DAY => "a day".into(),
        s if s == MONTH => "a month".into(),
        s if s == 7 * DAY => "a week".into(),
        3600 => "an hour".into(),
        60 => "a minute".into(),
        1 => "a second".into(),
        s if s % DAY == 0 => format!("{} days", s / DAY),
        s => format!("{s} seconds"),
    }
}

/// What the gateway does past the limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "model", rename_all = "kebab-case")]
pub enum Enforce {
    /// Refuses the request.
    Block,
    /// Routes to this model (the gateway's model name).
    Fallback(String),
    /// Counts and alerts, and keeps serving.
    Alert,
}

impl Enforce {
    fn words(&self) -> String {
        match self {
            Enforce::Block => "blocks".into(),
            Enforce::Fallback(m) => format!("falls back to {m}"),
            Enforce::Alert => "only alerts (keeps serving)".into(),
        }
    }
}

/// A limit the spec relies on, as the gateway should enforce it.
#[derive(Clone, Debug, Serialize)]
pub struct Want {
    /// Which limit.
    pub key: Key,
    /// Its amount in the key's measure.
    pub amount: f64,
    /// Its window, in seconds.
    pub window: u64,
    /// What happens past it.
    pub enforce: Enforce,
    /// The absolute level at which the gateway alerts, if it should.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<f64>,
    /// The gateway's resolution for the amount: an exported amount is
    /// rounded down by less than this, so a deployed amount this much
    /// below is not "tighter".
    pub quantum: f64,
    /// The spec field it comes from.
    pub spec_path: String,
    /// Where that field is.
    #[serde(skip)]
    pub spec_loc: Loc,
}

/// A limit a deployed configuration enforces.
#[derive(Clone, Debug, Serialize)]
pub struct Have {
    /// Which limit.
    pub key: Key,
    /// Its amount in the key's measure.
    pub amount: f64,
    /// Its window, in seconds.
    pub window: u64,
    /// What happens past it.
    pub enforce: Enforce,
    /// The absolute level at which it alerts, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<f64>,
    /// The gateway file.
    pub file: Arc<str>,
    /// Where in it.
    #[serde(skip)]
    pub loc: Loc,
    /// The key's path in the file (`spec.rateLimit.global.rules[0]`).
    pub path: String,
}

impl Have {
    fn site(&self) -> String {
        let path = crate::untrusted::clean(&self.path);
        if self.loc == Loc::UNKNOWN {
            format!("{} `{path}`", crate::untrusted::clean(&self.file))
        } else {
            format!(
                "{}:{}:{} `{path}`",
                crate::untrusted::clean(&self.file),
                self.loc.line,
                self.loc.column
            )
        }
    }
}

/// How far an exported limit is from the spec's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// The gateway cannot express it: not exported.
    Missing,
    /// Exported as something stricter than the spec (a hard stop for a
    /// fallback).
    Tighter,
    /// Exported as an approximation (a 30-day window for a calendar month,
    /// tokens converted to USD at one rate).
    Approximate,
}

/// Something the gateway cannot express exactly, printed by `export` and
/// shown by `check --runtime`: never dropped silently.
#[derive(Clone, Debug, Serialize)]
pub struct Gap {
    /// How far it is.
    pub kind: GapKind,
    /// The spec field.
    pub spec_path: String,
    /// Where it is.
    #[serde(skip)]
    pub spec_loc: Loc,
    /// What the export does instead, in words.
    pub message: String,
}

/// The limits a spec relies on in one gateway's terms, and what the
/// gateway cannot express.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The gateway.
    pub gateway: Gateway,
    /// The limits to enforce.
    pub wants: Vec<Want>,
    /// What the gateway cannot express exactly.
    pub gaps: Vec<Gap>,
}

impl Plan {
    fn new(gateway: Gateway) -> Plan {
        Plan {
            gateway,
            wants: Vec::new(),
            gaps: Vec::new(),
        }
    }

    fn gap(&mut self, kind: GapKind, path: impl Into<String>, loc: Loc, message: impl Into<String>) {
        self.gaps.push(Gap {
            kind,
            spec_path: path.into(),
            spec_loc: loc,
            message: message.into(),
        });
    }
}

/// One file an export writes, relative to the output folder.
#[derive(Clone, Debug)]
pub struct OutFile {
    /// Its path below `<out>/<feature-id>/<gateway>/`.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether it should be executable (a shell script).
    pub executable: bool,
}

/// A spec's export to one gateway.
#[derive(Clone, Debug)]
pub struct Export {
    /// The plan the files enforce.
    pub plan: Plan,
    /// The files.
    pub files: Vec<OutFile>,
}

/// The plan of `spec` for `gateway`.
pub fn plan(spec: &Spec, priced: &PricedModels, gateway: Gateway) -> Plan {
    match gateway {
        Gateway::Litellm => litellm::plan(spec, priced),
        Gateway::Envoy => envoy::plan(spec, priced),
        Gateway::Portkey => portkey::plan(spec, priced),
        Gateway::Kong => kong::plan(spec, priced),
    }
}

/// Export `spec` to `gateway`: its plan and the files that enforce it.
pub fn export(spec: &Spec, priced: &PricedModels, gateway: Gateway) -> Export {
    let plan = plan(spec, priced, gateway);
    let files = match gateway {
        Gateway::Litellm => litellm::render(spec, priced, &plan),
        Gateway::Envoy => envoy::render(spec, priced, &plan),
        Gateway::Portkey => portkey::render(spec, priced, &plan),
        Gateway::Kong => kong::render(spec, priced, &plan),
    };
    Export { plan, files }
}

/// Limits read from deployed gateway configuration files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Deployed {
    /// The files read, with the gateway each belongs to.
    pub files: Vec<(String, Gateway)>,
    /// The limits they enforce.
    pub haves: Vec<Have>,
    /// Envoy: cost expressions that are not the one the spec's prices give,
    /// by metadata key (the USD limits counted with them are suspect).
    #[serde(skip)]
    pub envoy_costs: Vec<envoy::CostExpr>,
}

impl Deployed {
    /// The gateways the files belong to, each once.
    pub fn gateways(&self) -> Vec<Gateway> {
        let mut g: Vec<Gateway> = self.files.iter().map(|(_, g)| *g).collect();
        g.sort();
        g.dedup();
        g
    }
}

/// Read deployed configuration files: each file's gateway is recognised
/// from its content (a LiteLLM `config.yaml` or management-API JSON, Envoy
/// manifests, Portkey policies, a Kong declarative config).
pub fn read(paths: &[std::path::PathBuf]) -> Result<Deployed, Vec<Problem>> {
    let mut out = Deployed::default();
    let mut problems = Vec::new();
    for path in paths {
        let name: Arc<str> = Arc::from(path.display().to_string());
        match tree::load(path, &name) {
            Err(p) => problems.push(p),
            // An empty list (a list endpoint with nothing in it) enforces
            // nothing and belongs to no gateway in particular.
            Ok(docs) if tree::is_empty_list(&docs) => {}
            Ok(docs) => match tree::recognise(&docs) {
                None => problems.push(tree::problem(
                    &name,
                    docs.first().map_or(Loc::new(1, 1), |d| d.loc),
                    "",
                    "not a gateway configuration costgate reads: expected a LiteLLM config.yaml or management-API JSON \
                     (budgets, customers, teams, keys), Envoy AI Gateway / Envoy Gateway manifests, Portkey policies \
                     JSON or a Kong declarative config",
                )),
                Some(g) => {
                    let r = match g {
                        Gateway::Litellm => litellm::read(&name, &docs, &mut out),
                        Gateway::Envoy => envoy::read(&name, &docs, &mut out),
                        Gateway::Portkey => portkey::read(&name, &docs, &mut out),
                        Gateway::Kong => kong::read(&name, &docs, &mut out),
                    };
                    match r {
                        Ok(()) => out.files.push((name.to_string(), g)),
                        Err(mut p) => problems.append(&mut p),
                    }
                }
            },
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The three ways a deployed limit can disagree with the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The spec relies on a limit the gateway does not enforce.
    Missing,
    /// The gateway's limit lets more through than the spec's.
    Looser,
    /// The gateway's limit stops users earlier than the spec assumes.
    Tighter,
}

/// One disagreement between the spec and a deployed configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Which kind.
    pub kind: FindingKind,
    /// The gateway.
    pub gateway: Gateway,
    /// The spec field.
    pub spec_path: String,
    /// Where it is.
    #[serde(skip)]
    pub spec_loc: Loc,
    /// What disagrees, with both figures and the gateway file and key.
    pub message: String,
}

/// What `check --runtime` found for one feature: kept in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The gateways compared.
    pub gateways: Vec<Gateway>,
    /// The configuration files read.
    pub files: Vec<String>,
    /// How many of the spec's limits were compared.
    pub limits: usize,
    /// The disagreements (each also a `runtime-limit-*` finding).
    pub findings: Vec<Finding>,
    /// What the gateways cannot express (not findings).
    pub gaps: Vec<(Gateway, Gap)>,
}

/// Compare `spec` with the deployed configuration, gateway by gateway.
pub fn compare(spec: &Spec, priced: &PricedModels, deployed: &Deployed) -> Comparison {
    let mut findings = Vec::new();
    let mut gaps = Vec::new();
    let mut limits = 0;
    let gateways = deployed.gateways();
    let names = deployed.files.iter().map(|(f, _)| f.clone()).collect();
    for &g in &gateways {
        let plan = plan(spec, priced, g);
        limits += plan.wants.len();
        let haves: Vec<&Have> = deployed
            .haves
            .iter()
            .filter(|h| deployed.files.iter().any(|(f, fg)| *fg == g && **f == *h.file))
            .collect();
        compare_plan(&plan, &haves, &mut findings);
        if g == Gateway::Envoy {
            envoy::compare_costs(spec, priced, &plan, deployed, &mut findings);
        }
        gaps.extend(plan.gaps.into_iter().map(|gap| (g, gap)));
    }
    Comparison {
        gateways,
        files: names,
        limits,
        findings,
        gaps,
    }
}

const REL: f64 = 1e-9;

/// Compare a plan with the limits deployed for the same gateway.
pub fn compare_plan(plan: &Plan, haves: &[&Have], out: &mut Vec<Finding>) {
    let g = plan.gateway;
    let mut keys: Vec<&Key> = plan.wants.iter().map(|w| &w.key).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let mut wants: Vec<&Want> = plan.wants.iter().filter(|w| &w.key == key).collect();
        wants.sort_by_key(|w| w.window);
        let mut hs: Vec<&Have> = haves.iter().copied().filter(|h| &h.key == key).collect();
        hs.sort_by_key(|h| h.window);
        if hs.is_empty() {
            for w in wants {
                out.push(Finding {
                    kind: FindingKind::Missing,
                    gateway: g,
                    spec_path: w.spec_path.clone(),
                    spec_loc: w.spec_loc,
                    message: format!(
                        "the spec relies on {} {} per {} ({}), and the {} configuration enforces none",
                        scope_words(&w.key),
                        w.key.measure.amount(w.amount),
                        window_words(w.window)
                            .trim_start_matches("a ")
                            .trim_start_matches("an "),
                        w.enforce.words(),
                        g.title()
                    ),
                });
            }
            continue;
        }
        if wants.len() == 1 {
            // Every deployed copy (one team per tenant, say) must hold.
            for h in &hs {
                compare_one(g, wants[0], h, out);
            }
        } else {
            // Several windows in one scope: pair them shortest first; a
            // window the gateway does not have is missing.
            for (i, w) in wants.iter().enumerate() {
                match hs.get(i) {
                    Some(h) => compare_one(g, w, h, out),
                    None => out.push(Finding {
                        kind: FindingKind::Missing,
                        gateway: g,
                        spec_path: w.spec_path.clone(),
                        spec_loc: w.spec_loc,
                        message: format!(
                            "the spec relies on {} {} per {}, and the {} configuration has no limit for it",
                            scope_words(&w.key),
                            w.key.measure.amount(w.amount),
                            window_words(w.window)
                                .trim_start_matches("a ")
                                .trim_start_matches("an "),
                            g.title()
                        ),
                    }),
                }
            }
        }
    }
}

fn scope_words(k: &Key) -> String {
    match &k.scope {
        Scope::TierUser(t) => format!("a cap for each user of tier `{}` of", crate::untrusted::clean(t)),
        Scope::TierTenant(t) => format!("a budget for each tenant of tier `{}` of", crate::untrusted::clean(t)),
        Scope::Account(t, a) => format!(
            "a budget for account `{}` of tier `{}` of",
            crate::untrusted::clean(a),
            crate::untrusted::clean(t)
        ),
        Scope::Breaker(BreakerLevel::Global) => "a global breaker at".into(),
        Scope::Breaker(l) => format!("a {} breaker at", l.as_str()),
    }
}

fn compare_one(g: Gateway, w: &Want, h: &Have, out: &mut Vec<Finding>) {
    let site = h.site();
    let m = w.key.measure;
    let mut push = |kind: FindingKind, what: String| {
        out.push(Finding {
            kind,
            gateway: g,
            spec_path: w.spec_path.clone(),
            spec_loc: w.spec_loc,
            message: format!("{what} ({}: {site})", g.title()),
        })
    };
    let per = |secs: u64| window_words(secs);
    if h.amount > w.amount * (1.0 + REL) + 1e-12 {
        push(
            FindingKind::Looser,
            format!(
                "the gateway allows {} per {}, the spec {}",
                m.amount(h.amount),
                per(h.window).trim_start_matches("a ").trim_start_matches("an "),
                m.amount(w.amount)
            ),
        );
    } else if h.amount < (w.amount - w.quantum) * (1.0 - REL) - 1e-12 {
        push(
            FindingKind::Tighter,
            format!(
                "the gateway stops at {} per {}, the spec at {}: users are stopped earlier than the spec assumes",
                m.amount(h.amount),
                per(h.window).trim_start_matches("a ").trim_start_matches("an "),
                m.amount(w.amount)
            ),
        );
    }
    if h.window > w.window {
        push(
            FindingKind::Looser,
            format!(
                "the gateway counts {} over {}, the spec over {}: a longer window lets more through",
                m.amount(h.amount),
                per(h.window),
                per(w.window)
            ),
        );
    } else if h.window < w.window {
        push(
            FindingKind::Tighter,
            format!(
                "the gateway counts {} over {}, the spec over {}",
                m.amount(h.amount),
                per(h.window),
                per(w.window)
            ),
        );
    }
    match (&w.enforce, &h.enforce) {
        (a, b) if a == b => {}
        (Enforce::Block, other) | (Enforce::Fallback(_), other @ (Enforce::Alert | Enforce::Fallback(_))) => push(
            FindingKind::Looser,
            format!(
                "past the limit the gateway {}; the spec {}",
                other.words(),
                w.enforce.words()
            ),
        ),
        (_, other) => push(
            FindingKind::Tighter,
            format!(
                "past the limit the gateway {}; the spec {}",
                other.words(),
                w.enforce.words()
            ),
        ),
    }
    match (w.alert, h.alert) {
        (Some(a), None) => push(
            FindingKind::Missing,
            format!("the spec alerts at {} and the gateway has no alert", m.amount(a)),
        ),
        (Some(a), Some(b)) if b > a * (1.0 + REL) + 1e-12 => push(
            FindingKind::Looser,
            format!("the gateway alerts at {}, the spec at {}", m.amount(b), m.amount(a)),
        ),
        _ => {}
    }
}

/// Human text for a gap list, one line per gap.
pub fn gap_lines(file: &str, gaps: &[Gap]) -> Vec<String> {
    gaps.iter()
        .map(|g| {
            let at = if g.spec_loc == Loc::UNKNOWN {
                crate::untrusted::clean(file).into_owned()
            } else {
                format!(
                    "{}:{}:{}",
                    crate::untrusted::clean(file),
                    g.spec_loc.line,
                    g.spec_loc.column
                )
            };
            let kind = match g.kind {
                GapKind::Missing => "not enforced",
                GapKind::Tighter => "stricter",
                GapKind::Approximate => "approximate",
            };
            format!(
                "{at}: `{}`: {kind}: {}",
                crate::untrusted::clean(&g.spec_path),
                crate::untrusted::clean_message(&g.message)
            )
        })
        .collect()
}

/// The central blended rate (USD per token) of `model` at the spec's
/// central call: what a daily token cap is converted to USD at where a
/// gateway counts only dollars. Also returns the dearest rate (the worst
/// case's), which the gap list gives beside it.
pub fn token_rates(spec: &Spec, priced: &PricedModels, model: &str) -> (f64, f64) {
    let price = priced.get(model);
    let i = &spec.interaction;
    let input = i.input_tokens.dist.central();
    let output = i.output_tokens.dist.central();
    let cached = i.cached_input_share.dist.central().clamp(0.0, 1.0);
    let total = input + output;
    let central = if total > 0.0 {
        price.call_cost(input, output, cached) / total
    } else {
        0.0
    };
    let max_in = i.max_input_tokens.as_ref().map_or(input, |n| n.value);
    (central, price.dearest_rate(max_in))
}

/// Round a USD amount down to `decimals` places (an exported budget is
/// never looser than the spec's).
pub fn usd_down(v: f64, decimals: i32) -> f64 {
    let s = 10f64.powi(decimals);
    ((v * s) * (1.0 + 1e-12)).floor() / s
}

/// Text from a spec made safe for a comment line of an exported file.
pub(crate) fn tree_comment(s: &str) -> String {
    crate::untrusted::clean(s).replace(['\n', '\r'], " ")
}
