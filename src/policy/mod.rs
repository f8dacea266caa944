//! The organisation's policy: thresholds, rule levels, exceptions.
//!
//! `costgate.toml` is found by walking up from a spec's folder (or given with
//! `--policy`); without one the built-in defaults apply and the output says
//! so. It is read through the same located tree as specs, so every problem
//! names its line and column.

mod defaults;
mod finding;
pub mod rules;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::input::node::{self, Node};
use crate::input::read::{self, MapReader, child, index};
use crate::source::{Loc, Problem, Problems, Span};
use crate::spec::ValueKind;

pub use defaults::defaults_toml;
pub use finding::Remedy;
pub use rules::{FeatureFacts, Finding, Level, Rule, Verdict, evaluate, verdict_of};

pub(crate) const POLICY_FILE: &str = "costgate.toml";

/// Thresholds; every one can be overridden per value kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// The worst-case month may not pass this (USD).
    pub worst_case_monthly_usd: f64,
    /// The month at `confidence` may not pass this (USD); named `p95` whatever the confidence.
    pub p95_monthly_usd: f64,
    /// Cost / revenue above this needs an executive approval.
    pub approval_cost_revenue_ratio: f64,
    /// Cost / revenue above this is blocked.
    pub max_cost_revenue_ratio: f64,
    /// The worst call may not cost more than this (USD).
    pub max_cost_per_call_usd: f64,
    /// The infrastructure budget (USD a month).
    pub infra_monthly_budget_usd: f64,
    /// Most of the infrastructure budget a feature's month at `confidence` may take.
    pub max_infra_budget_share: f64,
    /// Largest share of a paying tier's active user-days that limits may block.
    pub max_paying_blocked_share: f64,
    /// Largest share of a tier's demand that may go unserved (at `confidence`).
    pub max_unserved_share: f64,
    /// The percentile read as the "expected worst" month.
    pub confidence: f64,
    /// Where a count with no upper end is read for the worst case.
    pub worst_case_quantile: f64,
    /// Most expected on-call pages a month from the breakers (off: `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_oncall_pages_per_month: Option<f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            worst_case_monthly_usd: 60_000.0,
            p95_monthly_usd: 25_000.0,
            approval_cost_revenue_ratio: 0.20,
            max_cost_revenue_ratio: 0.50,
            max_cost_per_call_usd: 2.0,
            infra_monthly_budget_usd: 250_000.0,
            max_infra_budget_share: 0.15,
            max_paying_blocked_share: 0.05,
            max_unserved_share: 0.9,
            confidence: 0.95,
            worst_case_quantile: 0.999,
            max_oncall_pages_per_month: None,
        }
    }
}

/// `[portfolio]`: one AI budget for every feature a run covers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortfolioPolicy {
    /// The features' months at `confidence`, added up, must stay under this.
    pub monthly_budget_usd: Option<f64>,
    /// Overrides the thresholds' infrastructure budget for the portfolio.
    pub infra_monthly_budget_usd: Option<f64>,
    /// Overrides the thresholds' `max_infra_budget_share` for the portfolio.
    pub max_infra_budget_share: Option<f64>,
    /// Where `[portfolio]` is.
    #[serde(skip)]
    pub loc: Loc,
}

/// A threshold value and where it was set (for messages).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Set {
    /// The threshold.
    pub value: f64,
    /// Where it is set.
    pub loc: Loc,
}

/// A policy exception: one rule lowered to `allow` for one feature, until a day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exception {
    /// The rule code.
    pub rule: String,
    /// The feature id.
    pub feature: String,
    /// Why.
    pub reason: String,
    /// The last day it applies (YYYY-MM-DD).
    pub expires: String,
    /// Where it is.
    #[serde(skip)]
    pub loc: Loc,
}

/// How far approved figures may drift before an approval stops covering.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApprovalPolicy {
    /// Relative increase allowed over each approved figure (0.05 = 5%).
    pub max_drift: f64,
    /// `allowed_signers`: the OpenSSH allowed_signers file naming who may
    /// sign approvals, as written (relative to the policy file).
    pub allowed_signers: Option<String>,
    /// `require_signature`: an unsigned approval record covers nothing.
    pub require_signature: bool,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            max_drift: 0.05,
            allowed_signers: None,
            require_signature: false,
        }
    }
}

/// A policy (`costgate.toml`), or the built-in defaults.
#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    /// `None`: the built-in defaults.
    pub path: Option<String>,
    /// The thresholds (`[thresholds]`).
    pub thresholds: Thresholds,
    /// Per value kind overrides (only the keys that were given).
    #[serde(skip)]
    pub overrides: Vec<(ValueKind, Vec<(&'static str, f64)>)>,
    /// Rule levels set by `[rules]`.
    pub levels: Vec<(Rule, Level)>,
    /// `[[exceptions]]`.
    pub exceptions: Vec<Exception>,
    /// `[approvals]`.
    pub approvals: ApprovalPolicy,
    /// Default pricing source (`[pricing] source`).
    pub pricing_source: Option<String>,
    /// Pinned snapshot older than this many days is a finding.
    pub max_pin_age_days: Option<f64>,
    /// The budget every feature checked together is judged against.
    pub portfolio: Option<PortfolioPolicy>,
    /// The file as named in problems (`built-in policy` when none).
    #[serde(skip)]
    pub file: Arc<str>,
    /// The allowed_signers file of `[approvals]`, read.
    #[serde(skip)]
    pub signers: Option<Arc<crate::signers::AllowedSigners>>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            path: None,
            thresholds: Thresholds::default(),
            overrides: vec![(ValueKind::Engagement, vec![("approval_cost_revenue_ratio", 0.05)])],
            levels: Vec::new(),
            exceptions: Vec::new(),
            approvals: ApprovalPolicy::default(),
            pricing_source: None,
            max_pin_age_days: None,
            portfolio: None,
            file: Arc::from("built-in policy"),
            signers: None,
        }
    }
}

impl Policy {
    /// A short description for output: which policy was used.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(p) => p.clone(),
            None => "built-in defaults (no costgate.toml found)".to_string(),
        }
    }

    /// Thresholds for a feature of this value kind.
    pub fn thresholds_for(&self, kind: Option<ValueKind>) -> Thresholds {
        let mut t = self.thresholds.clone();
        if let Some(k) = kind {
            for (kk, vals) in &self.overrides {
                if *kk == k {
                    for (name, v) in vals {
                        set_threshold(&mut t, name, *v);
                    }
                }
            }
        }
        t
    }

    /// The level of `rule`: the policy's `[rules]`, else the rule's default.
    pub fn level(&self, rule: Rule) -> Level {
        self.levels
            .iter()
            .find(|(r, _)| *r == rule)
            .map_or(rule.default_level(), |(_, l)| *l)
    }

    /// A span in the policy file; `None` for the built-in defaults or an unknown place.
    pub fn span(&self, loc: Loc, path: &str) -> Option<Span> {
        self.path.as_ref().map(|_| Span::new(&self.file, loc, path))
    }
}

/// Every threshold key `[thresholds]` (and each value kind's table) reads.
pub(crate) const THRESHOLD_KEYS: [&str; 12] = [
    "worst_case_monthly_usd",
    "p95_monthly_usd",
    "approval_cost_revenue_ratio",
    "max_cost_revenue_ratio",
    "max_cost_per_call_usd",
    "infra_monthly_budget_usd",
    "max_infra_budget_share",
    "max_paying_blocked_share",
    "max_unserved_share",
    "confidence",
    "worst_case_quantile",
    "max_oncall_pages_per_month",
];

fn set_threshold(t: &mut Thresholds, name: &str, v: f64) {
    match name {
        "worst_case_monthly_usd" => t.worst_case_monthly_usd = v,
        "p95_monthly_usd" => t.p95_monthly_usd = v,
        "approval_cost_revenue_ratio" => t.approval_cost_revenue_ratio = v,
        "max_cost_revenue_ratio" => t.max_cost_revenue_ratio = v,
        "max_cost_per_call_usd" => t.max_cost_per_call_usd = v,
        "infra_monthly_budget_usd" => t.infra_monthly_budget_usd = v,
        "max_infra_budget_share" => t.max_infra_budget_share = v,
        "max_paying_blocked_share" => t.max_paying_blocked_share = v,
        "max_unserved_share" => t.max_unserved_share = v,
        "confidence" => t.confidence = v,
        "worst_case_quantile" => t.worst_case_quantile = v,
        "max_oncall_pages_per_month" => t.max_oncall_pages_per_month = Some(v),
        _ => unreachable!("threshold keys are validated"),
    }
}

/// Find `costgate.toml` in `start` or a folder above it, up to the git
/// repository's root (the filesystem root outside a repository): a policy
/// above the repository is not the repository's.
pub fn discover(start: &Path) -> Option<PathBuf> {
    crate::fsutil::find_up(start, POLICY_FILE)
}

/// Load a policy file.
pub fn load_file(path: &Path) -> Result<Policy, Vec<Problem>> {
    let display = path.display().to_string();
    let file: Arc<str> = Arc::from(display.as_str());
    let text = crate::input::read_text(path).map_err(|e| {
        vec![Problem {
            code: crate::source::ProblemCode::Unreadable,
            span: Span::new(&file, e.loc, ""),
            message: e.message,
            hint: None,
        }]
    })?;
    let mut policy = load_str(&display, &text)?;
    if let Some(rel) = &policy.approvals.allowed_signers {
        // Relative to the policy file, as the policy names it.
        let at = path.parent().unwrap_or(Path::new("")).join(rel);
        let shown = at.display().to_string();
        policy.signers = Some(Arc::new(crate::signers::AllowedSigners::load(&at, &shown)?));
    }
    Ok(policy)
}

/// Read a policy from its TOML text (`display` names the file in problems).
pub fn load_str(display: &str, text: &str) -> Result<Policy, Vec<Problem>> {
    let file: Arc<str> = Arc::from(display);
    let root = node::parse_toml(text).map_err(|e| {
        vec![Problem {
            code: crate::source::ProblemCode::Syntax,
            span: Span::new(&file, e.loc, ""),
            message: e.message,
            hint: None,
        }]
    })?;
    let mut p = Problems::new(&file);
    let mut policy = Policy {
        path: Some(display.to_string()),
        file: Arc::clone(&file),
        ..Policy::default()
    };
    decode(&mut p, &root, &mut policy);
    if p.is_empty() { Ok(policy) } else { Err(p.into_vec()) }
}

fn decode(p: &mut Problems, root: &Node, policy: &mut Policy) {
    let Some(mut m) = MapReader::new(p, root, "") else {
        return;
    };
    if let Some(n) = m.get("thresholds")
        && let Some(mut t) = MapReader::new(p, n, "thresholds")
    {
        for key in THRESHOLD_KEYS {
            if let Some(v) = t.get(key)
                && let Some(x) = threshold_value(p, v, &child("thresholds", key), key)
            {
                set_threshold(&mut policy.thresholds, key, x);
            }
        }
        let mut overrides = Vec::new();
        for (kind, name) in [
            (ValueKind::Revenue, "revenue"),
            (ValueKind::Retention, "retention"),
            (ValueKind::Engagement, "engagement"),
        ] {
            let base = child("thresholds", name);
            match t.get(name) {
                Some(v) => {
                    let Some(mut o) = MapReader::new(p, v, &base) else {
                        continue;
                    };
                    let mut vals = Vec::new();
                    for key in THRESHOLD_KEYS {
                        if let Some(n) = o.get(key)
                            && let Some(x) = threshold_value(p, n, &child(&base, key), key)
                        {
                            vals.push((key, x));
                        }
                    }
                    o.finish(p);
                    overrides.push((kind, vals));
                }
                None => {
                    // keep the built-in engagement override unless replaced
                    if kind == ValueKind::Engagement {
                        overrides.push((kind, vec![("approval_cost_revenue_ratio", 0.05)]));
                    }
                }
            }
        }
        policy.overrides = overrides;
        t.finish(p);
    }
    if let Some(n) = m.get("rules")
        && let Some(r) = MapReader::new(p, n, "rules")
    {
        let keys: Vec<_> = r.keys().cloned().collect();
        let node::Value::Map(entries) = &n.value else {
            unreachable!()
        };
        for (k, v) in keys.iter().zip(entries.iter().map(|(_, v)| v)) {
            let path = child("rules", &k.name);
            let Some(rule) = Rule::from_code(&k.name) else {
                let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
                let near = crate::source::closest(&k.name, codes.iter().copied(), 2);
                p.push_hint(
                    k.loc,
                    &path,
                    format!("unknown rule `{}`", k.name),
                    crate::source::did_you_mean(&near)
                        .unwrap_or_else(|| "see `costgate rules` or the README's rule table".into()),
                );
                continue;
            };
            if let Some(level) = read::word(
                p,
                v,
                &path,
                &[
                    ("deny", Level::Deny),
                    ("approve", Level::Approve),
                    ("warn", Level::Warn),
                    ("allow", Level::Allow),
                ],
            ) {
                policy.levels.push((rule, level));
            }
        }
    }
    if let Some(n) = m.get("exceptions")
        && let Some(items) = read::seq(p, n, "exceptions")
    {
        for (i, it) in items.iter().enumerate() {
            let path = index("exceptions", i);
            let Some(mut e) = MapReader::new(p, it, &path) else {
                continue;
            };
            let rule = e.require(p, "rule", "the rule code it exempts").and_then(|v| {
                let code = read::name(p, v, &child(&path, "rule"))?;
                if Rule::from_code(&code).is_none() {
                    p.push(v.loc, &child(&path, "rule"), format!("unknown rule `{code}`"));
                    return None;
                }
                Some(code)
            });
            let feature = e
                .require(p, "feature", "the feature id it applies to")
                .and_then(|v| read::name(p, v, &child(&path, "feature")));
            let reason = e
                .require(p, "reason", "why the exception is acceptable")
                .and_then(|v| read::name(p, v, &child(&path, "reason")));
            let expires = e
                .require(p, "expires", "the date it stops applying, e.g. 2026-12-31")
                .and_then(|v| {
                    let s = read::string(p, v, &child(&path, "expires"))?;
                    if s.parse::<jiff::civil::Date>().is_err() {
                        p.push_hint(
                            v.loc,
                            &child(&path, "expires"),
                            format!("`{s}` is not a date"),
                            "write YYYY-MM-DD",
                        );
                        return None;
                    }
                    Some(s)
                });
            e.finish(p);
            if let (Some(rule), Some(feature), Some(reason), Some(expires)) = (rule, feature, reason, expires) {
                policy.exceptions.push(Exception {
                    rule,
                    feature,
                    reason,
                    expires,
                    loc: it.loc,
                });
            }
        }
    }
    if let Some(n) = m.get("approvals")
        && let Some(mut a) = MapReader::new(p, n, "approvals")
    {
        if let Some(v) = a.get("max_drift")
            && let Some(x) = read::non_negative(p, v, "approvals.max_drift")
        {
            policy.approvals.max_drift = x;
        }
        if let Some(v) = a.get("allowed_signers") {
            policy.approvals.allowed_signers = read::name(p, v, "approvals.allowed_signers");
        }
        if let Some(v) = a.get("require_signature") {
            match &v.value {
                node::Value::Bool(b) => policy.approvals.require_signature = *b,
                other => p.push(
                    v.loc,
                    "approvals.require_signature",
                    format!("expected true or false, found {}", other.kind()),
                ),
            }
            if policy.approvals.require_signature && !a.has("allowed_signers") {
                p.push_hint(
                    v.loc,
                    "approvals.require_signature",
                    "a signature is required, but no `allowed_signers` file says whose signatures count".to_string(),
                    "add `allowed_signers = \"path\"` (OpenSSH allowed_signers format, relative to this file)",
                );
            }
        }
        a.finish(p);
    }
    if let Some(n) = m.get("pricing")
        && let Some(mut a) = MapReader::new(p, n, "pricing")
    {
        if let Some(v) = a.get("source") {
            policy.pricing_source = read::name(p, v, "pricing.source");
        }
        if let Some(v) = a.get("max_age_days") {
            policy.max_pin_age_days = read::positive(p, v, "pricing.max_age_days");
        }
        a.finish(p);
    }
    if let Some(n) = m.get("portfolio")
        && let Some(mut a) = MapReader::new(p, n, "portfolio")
    {
        let mut pf = PortfolioPolicy {
            monthly_budget_usd: None,
            infra_monthly_budget_usd: None,
            max_infra_budget_share: None,
            loc: n.loc,
        };
        if let Some(v) = a.get("monthly_budget_usd") {
            pf.monthly_budget_usd = read::positive(p, v, "portfolio.monthly_budget_usd");
        }
        if let Some(v) = a.get("infra_monthly_budget_usd") {
            pf.infra_monthly_budget_usd = read::positive(p, v, "portfolio.infra_monthly_budget_usd");
        }
        if let Some(v) = a.get("max_infra_budget_share") {
            pf.max_infra_budget_share = read::share(p, v, "portfolio.max_infra_budget_share");
        }
        if pf.monthly_budget_usd.is_none() && pf.max_infra_budget_share.is_none() && p.is_empty() {
            p.push_hint(
                n.loc,
                "portfolio",
                "the portfolio sets no budget",
                "give `monthly_budget_usd`, or `max_infra_budget_share` (with `infra_monthly_budget_usd` or the thresholds' one)",
            );
        }
        a.finish(p);
        policy.portfolio = Some(pf);
    }
    m.finish(p);
}

fn threshold_value(p: &mut Problems, n: &Node, path: &str, key: &str) -> Option<f64> {
    let v = read::non_negative(p, n, path)?;
    if (key == "confidence" || key == "worst_case_quantile") && !(0.5..1.0).contains(&v) {
        p.push_hint(
            n.loc,
            path,
            format!("`{v}` is not a percentile"),
            "use a share between 0.5 and 1, e.g. 0.95",
        );
        return None;
    }
    if (key == "max_infra_budget_share" || key == "max_paying_blocked_share" || key == "max_unserved_share") && v > 1.0
    {
        p.push_hint(
            n.loc,
            path,
            format!("`{v}` is above 1"),
            "a share is a fraction: 0.15 means 15%",
        );
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_walks_up_from_a_spec() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(POLICY_FILE), "").unwrap();
        std::fs::create_dir(d.path().join("specs")).unwrap();
        std::fs::write(d.path().join("specs/a.yaml"), "").unwrap();
        let want = std::fs::canonicalize(d.path().join(POLICY_FILE)).unwrap();
        assert_eq!(discover(&d.path().join("specs/a.yaml")), Some(want.clone()));
        assert_eq!(discover(&d.path().join("specs")), Some(want));
    }

    #[test]
    fn overrides_apply_per_value_kind() {
        let p = load_str(
            "costgate.toml",
            "[thresholds]\np95_monthly_usd = 1000\n[thresholds.revenue]\nmax_cost_revenue_ratio = 0.3\n",
        )
        .unwrap();
        assert_eq!(p.thresholds_for(Some(ValueKind::Revenue)).max_cost_revenue_ratio, 0.3);
        assert_eq!(p.thresholds_for(Some(ValueKind::Retention)).max_cost_revenue_ratio, 0.5);
        assert_eq!(
            p.thresholds_for(Some(ValueKind::Engagement))
                .approval_cost_revenue_ratio,
            0.05
        );
        assert_eq!(p.thresholds.p95_monthly_usd, 1000.0);
    }

    #[test]
    fn bad_policy_problems_name_line_and_field() {
        let ps = load_str(
            "costgate.toml",
            "[thresholds]\nconfidence = 2\n[rules]\nunbounded-worst-cas = \"deny\"\nfree-tier-without-hard-cap = \"block\"\n",
        )
        .unwrap_err();
        assert_eq!(ps.len(), 3, "{ps:#?}");
        assert_eq!(
            (ps[0].span.line, ps[0].span.path.as_str()),
            (2, "thresholds.confidence")
        );
        assert!(ps[1].hint.as_deref().unwrap().contains("unbounded-worst-case"));
        assert_eq!(ps[2].span.line, 5);
    }
}
