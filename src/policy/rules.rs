//! Rules: each a stable kebab-case code, a level set by policy, and a
//! message that says what to change. Findings are data, not errors.

use serde::{Serialize, Serializer};

use super::{Policy, Thresholds};
use crate::economics::{UnitCosts, WorstCase};
use crate::fmt::{pct, usd};
use crate::sim::{SimResult, Typical};
use crate::source::Span;
use crate::spec::{OnLimit, Spec, Text};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Warn,
    Approve,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Approve => "approve",
            Level::Deny => "deny",
        }
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

macro_rules! rules {
    ($($variant:ident = $code:literal, $level:ident, $summary:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule { $($variant),* }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code),* }
            }

            pub fn default_level(self) -> Level {
                match self { $(Rule::$variant => Level::$level),* }
            }

            /// One line on what the rule checks (for `--help`, SARIF, the README).
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary),* }
            }

            pub fn from_code(code: &str) -> Option<Rule> {
                match code { $($code => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    MissingUnitEconomics = "missing-unit-economics", Deny, "The feature has no value, or a tier has no price: cost cannot be judged against what it earns.";
    UnboundedWorstCase = "unbounded-worst-case", Deny, "Nothing bounds the worst-case month: a tier has no hard cap, blocking tenant budget or blocking breaker.";
    FreeTierWithoutHardCap = "free-tier-without-hard-cap", Deny, "A tier that pays nothing has no hard per-user cap with `on_limit: block`.";
    MissingLimitMessage = "missing-limit-message", Warn, "A limit, tenant budget or breaker that stops or degrades users has no message for them.";
    GenericLimitMessage = "generic-limit-message", Warn, "A limit message gives no quota figure or no reset time, or is a bare \"Error 429\" / \"try again later\".";
    WorstCaseOverBudget = "worst-case-over-budget", Deny, "The deterministic worst-case month is above `worst_case_monthly_usd`.";
    P95OverBudget = "p95-over-budget", Deny, "The simulated month at the policy's confidence is above `p95_monthly_usd`.";
    CostRevenueNeedsApproval = "cost-revenue-needs-approval", Approve, "Cost/revenue at the policy's confidence is above `approval_cost_revenue_ratio`: an executive decides.";
    CostRevenueOverMax = "cost-revenue-over-max", Deny, "Cost/revenue at the policy's confidence is above `max_cost_revenue_ratio`.";
    CostPerCallOverMax = "cost-per-call-over-max", Deny, "The worst-case cost of one call is above `max_cost_per_call_usd`.";
    InfraBudgetShare = "infra-budget-share", Deny, "The month at the policy's confidence takes more than `max_infra_budget_share` of `infra_monthly_budget_usd`.";
    CostsMoreThanBaseline = "costs-more-than-baseline", Warn, "The feature costs more per month than the non-AI way of doing the job (`feature.baseline`).";
    MissingCallLimit = "missing-call-limit", Warn, "No `interaction.max_calls`: one interaction's worst case has no ceiling.";
    PayingUsersBlocked = "paying-users-blocked", Warn, "Limits block more than `max_paying_blocked_share` of a paying tier's active user-days: the cap protects the budget by turning customers away.";
    StaleException = "stale-exception", Warn, "A policy exception has expired; it no longer applies.";
    UnusedException = "unused-exception", Warn, "A policy exception matches no finding of the feature it names.";
    StalePricing = "stale-pricing", Warn, "The pinned price snapshot is older than `pricing.max_age_days`.";
    ZeroPriceModel = "zero-price-model", Warn, "A model the feature uses is priced at $0 for input and output: the figures show it as free.";
    PortfolioOverBudget = "portfolio-over-budget", Deny, "The features checked together cost more than the `[portfolio]` budget, or take more of the infrastructure budget than `max_infra_budget_share` (the portfolio's, else the thresholds') allows.";
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A figure compared with a threshold (what an approval binds to).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub threshold: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub level: Level,
    pub feature: String,
    pub message: String,
    /// What to change.
    pub help: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<Figure>,
    /// Set when a policy exception lowered this finding to `allow`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    /// For `approve` findings: whether a recorded approval covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalState>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ApprovalState {
    pub covered: bool,
    /// Who approved and why it covers, or why it no longer does.
    pub note: String,
}

/// The verdict of one feature or of a whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    NeedsApproval,
    Blocked,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Blocked => 1,
            Verdict::NeedsApproval => 2,
        }
    }
}

pub fn verdict_of(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.level == Level::Deny) {
        Verdict::Blocked
    } else if findings
        .iter()
        .any(|f| f.level == Level::Approve && !f.approval.as_ref().is_some_and(|a| a.covered))
    {
        Verdict::NeedsApproval
    } else {
        Verdict::Pass
    }
}

/// Everything the rules look at for one feature.
pub struct FeatureFacts<'a> {
    pub spec: &'a Spec,
    pub unit_costs: &'a [UnitCosts],
    pub typical: &'a Typical,
    pub worst: &'a WorstCase,
    pub sim: Option<&'a SimResult>,
    /// The catalog that priced the spec (a pinned snapshot's age is judged).
    pub pricing: &'a crate::pricing::CatalogInfo,
}

struct Out<'a> {
    policy: &'a Policy,
    feature: String,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn push(&mut self, rule: Rule, span: Option<Span>, message: String, help: impl Into<String>) -> &mut Finding {
        self.findings.push(Finding {
            rule,
            level: self.policy.level(rule),
            feature: self.feature.clone(),
            message,
            help: help.into(),
            span,
            figure: None,
            exception: None,
            approval: None,
        });
        self.findings.last_mut().expect("just pushed")
    }
}

/// Whether the cost/revenue thresholds apply: some tier is priced above
/// zero, or the month at the policy's confidence has revenue (overage). A
/// feature with no revenue has no ratio to judge.
pub fn ratio_applies(spec: &Spec, ratio_at_confidence: f64) -> bool {
    spec.tiers
        .iter()
        .any(|t| t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0))
        || ratio_at_confidence.is_finite()
}

/// Evaluate every rule for one feature. Exceptions are applied; stale ones
/// are findings. `today` decides expiry.
pub fn evaluate(f: &FeatureFacts, policy: &Policy, today: jiff::civil::Date) -> Vec<Finding> {
    let spec = f.spec;
    let th: Thresholds = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let mut out = Out {
        policy,
        feature: spec.feature.id.clone(),
        findings: Vec::new(),
    };
    let at = |loc, path: &str| Some(spec.span(loc, path));
    let conf_label = crate::fmt::quantile_label(th.confidence);

    // --- unit economics present
    if spec.feature.value.is_none() {
        out.push(
            Rule::MissingUnitEconomics,
            at(spec.feature.loc, "feature.value"),
            format!("feature `{}` says nothing of the value it brings", spec.feature.id),
            "add `feature.value` with `kind` (revenue | retention | engagement), the `unit` of value and `units_per_interaction`",
        );
    }
    for t in &spec.tiers {
        if t.price_usd_per_month.is_none() {
            out.push(
                Rule::MissingUnitEconomics,
                at(t.loc, &t.path),
                format!(
                    "tier `{}` has no `price_usd_per_month`: its cost cannot be set against revenue",
                    t.name
                ),
                "add `price_usd_per_month` (0 for a free tier)",
            );
        }
    }

    // --- worst case bounded
    match f.worst.monthly_usd {
        None => {
            for (tw, t) in f.worst.tiers.iter().zip(&spec.tiers) {
                if tw.monthly_usd.is_none() {
                    let (loc, path) = match &t.limit {
                        Some(l) => (l.on_limit_loc, format!("{}.on_limit", l.path)),
                        None => (t.loc, t.path.clone()),
                    };
                    out.push(
                        Rule::UnboundedWorstCase,
                        at(loc, &path),
                        format!("the worst-case month is unbounded: {}", tw.reason),
                        "add a hard per-user cap (`limit.daily_tokens` or `monthly_tokens` with `on_limit: block`), a blocking `tenant_budget`, or a blocking `breakers.global_daily_usd`",
                    );
                }
            }
        }
        Some(w) if w > th.worst_case_monthly_usd => {
            let biggest = f.worst.tiers.iter().zip(&spec.tiers).max_by(|a, b| {
                a.0.monthly_usd
                    .unwrap_or(0.0)
                    .total_cmp(&b.0.monthly_usd.unwrap_or(0.0))
            });
            let (span, who) = match (&f.worst.bounded_by_breaker, biggest) {
                (Some(b), _) => {
                    let br = spec.breakers.iter().find(|(n, _)| n == b).map(|(_, br)| br);
                    (
                        br.and_then(|br| at(br.limit.loc, &br.limit.path)),
                        format!("the `{b}` breaker"),
                    )
                }
                (None, Some((_, t))) => (
                    t.limit.as_ref().map_or(at(t.loc, &t.path), |l| at(l.loc, &l.path)),
                    format!("tier `{}`", t.name),
                ),
                _ => (None, String::new()),
            };
            out.push(
                Rule::WorstCaseOverBudget,
                span,
                format!(
                    "the worst-case month is {} (set by {who}), above the policy's {}",
                    usd(w),
                    usd(th.worst_case_monthly_usd)
                ),
                "lower the caps that bound the worst case (daily/monthly tokens, tenant budgets, the global breaker) or route capped traffic to a cheaper model",
            )
            .figure = Some(Figure { name: "worst_case_monthly_usd".into(), value: w, threshold: th.worst_case_monthly_usd });
        }
        _ => {}
    }

    // --- free tiers hard-capped
    for t in &spec.tiers {
        if t.price_usd_per_month.as_ref().is_some_and(|p| p.value == 0.0) {
            let hard = t.limit.as_ref().is_some_and(|l| l.on_limit == OnLimit::Block);
            if !hard {
                let (loc, path, what) = match &t.limit {
                    Some(l) => (
                        l.on_limit_loc,
                        format!("{}.on_limit", l.path),
                        format!("its limit does `{}` instead of stopping", l.on_limit.as_str()),
                    ),
                    None => (t.loc, t.path.clone(), "it has no limit".to_string()),
                };
                out.push(
                    Rule::FreeTierWithoutHardCap,
                    at(loc, &path),
                    format!("free tier `{}` has no hard cap: {what}", t.name),
                    "give free users a daily token cap with `on_limit: block` and a message that says when it resets",
                );
            }
        }
    }

    // --- limit messages
    let check_message = |out: &mut Out, msg: &Option<Text>, loc, path: &str, what: &str, stops: bool| match msg {
        None if stops => {
            out.push(
                Rule::MissingLimitMessage,
                at(loc, path),
                format!("{what} has no message for the users it stops"),
                "add `message`: say what was used of what quota and when it resets, e.g. \"You've used {used}/{limit} tokens today. It resets at {reset}.\"",
            );
        }
        Some(t) => {
            if let Some(why) = generic_message(&t.text) {
                out.push(
                    Rule::GenericLimitMessage,
                    at(t.loc, &t.path),
                    format!("the message of {what} is generic: {why}"),
                    "say what was used of what quota and when it resets, e.g. \"You've used 90% of your daily AI quota (450/500 requests). Quota resets at midnight PST.\"",
                );
            }
        }
        None => {}
    };
    for t in &spec.tiers {
        if let Some(l) = &t.limit {
            check_message(
                &mut out,
                &l.message,
                l.loc,
                &format!("{}.message", l.path),
                &format!("tier `{}`'s limit", t.name),
                true,
            );
        }
        if let Some(b) = &t.tenant_budget {
            check_message(
                &mut out,
                &b.message,
                b.loc,
                &format!("{}.tenant_budget.message", t.path),
                &format!("tier `{}`'s tenant budget", t.name),
                b.on_limit == crate::spec::OnBudget::Block,
            );
        }
    }
    for (name, b) in spec.breakers.iter() {
        check_message(
            &mut out,
            &b.message,
            b.loc,
            &format!("{}.message", b.path),
            &format!("breaker `{name}`"),
            true,
        );
    }

    // --- figures against thresholds
    let sim = f.sim;
    let cost_at = sim.and_then(|s| s.cost.at_confidence).unwrap_or(f.typical.cost);
    let ratio_at = match sim {
        Some(s) => s.ratio_samples.quantile(th.confidence),
        // Without revenue: infinite when something is spent, else undefined.
        None => f
            .typical
            .cost_revenue_ratio
            .unwrap_or(if f.typical.cost > 0.0 { f64::INFINITY } else { f64::NAN }),
    };
    let basis = if sim.is_some() {
        format!("at {conf_label} of the simulated month")
    } else {
        "in the typical month".to_string()
    };
    if cost_at > th.p95_monthly_usd {
        out.push(
            Rule::P95OverBudget,
            at(spec.feature.loc, "feature"),
            format!(
                "the monthly cost {basis} is {}, above the policy's {}",
                usd(cost_at),
                usd(th.p95_monthly_usd)
            ),
            "tighten per-user caps, lower tokens per interaction, cache more of the prompt, or use a cheaper model",
        )
        .figure = Some(Figure {
            name: "p95_monthly_usd".into(),
            value: cost_at,
            threshold: th.p95_monthly_usd,
        });
    }
    if ratio_applies(spec, ratio_at) {
        let paying = spec
            .tiers
            .iter()
            .filter(|t| t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0))
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let who = if paying.is_empty() {
            "its customers".to_string()
        } else {
            format!("what customers pay ({paying})")
        };
        if ratio_at > th.max_cost_revenue_ratio {
            out.push(
                Rule::CostRevenueOverMax,
                at(spec.feature.loc, "feature"),
                format!(
                    "{basis} the feature costs {} of {who}; the policy blocks above {}",
                    pct(ratio_at),
                    pct(th.max_cost_revenue_ratio)
                ),
                "raise prices or overage, cap usage harder, or make each interaction cheaper",
            )
            .figure = Some(Figure {
                name: "cost_revenue_ratio".into(),
                value: ratio_at,
                threshold: th.max_cost_revenue_ratio,
            });
        } else if ratio_at > th.approval_cost_revenue_ratio {
            out.push(
                Rule::CostRevenueNeedsApproval,
                at(spec.feature.loc, "feature"),
                format!(
                    "{basis} the feature costs {} of {who}; policy asks for approval above {}",
                    pct(ratio_at),
                    pct(th.approval_cost_revenue_ratio)
                ),
                "record an executive approval with `costgate approve`, or bring the ratio under the threshold",
            )
            .figure = Some(Figure {
                name: "cost_revenue_ratio".into(),
                value: ratio_at,
                threshold: th.approval_cost_revenue_ratio,
            });
        }
    }
    for u in f.unit_costs {
        let t = spec
            .tiers
            .iter()
            .find(|t| t.name == u.tier)
            .expect("unit costs follow tiers");
        match u.worst_call_usd {
            Some(w) if w > th.max_cost_per_call_usd => {
                out.push(
                    Rule::CostPerCallOverMax,
                    at(spec.interaction.loc, "interaction"),
                    format!(
                        "one call of tier `{}` on {} can cost {} at the limits, above the policy's {}",
                        u.tier,
                        u.model,
                        usd(w),
                        usd(th.max_cost_per_call_usd)
                    ),
                    "lower `max_input_tokens` / `max_output_tokens`, or use a cheaper model for this tier",
                )
                .figure = Some(Figure {
                    name: "max_cost_per_call_usd".into(),
                    value: w,
                    threshold: th.max_cost_per_call_usd,
                });
            }
            None => {
                out.push(
                    Rule::CostPerCallOverMax,
                    at(t.model_loc, &format!("{}.model", t.path)),
                    format!(
                        "one call of tier `{}` has no cost ceiling: no token limits are set and {} publishes none",
                        u.tier, u.model
                    ),
                    "set `interaction.max_input_tokens` and `max_output_tokens`",
                );
            }
            _ => {}
        }
    }
    if let Some(s) = sim {
        for (t, ts) in spec.tiers.iter().zip(&s.tiers) {
            let paying = t.price_usd_per_month.as_ref().is_some_and(|p| p.value > 0.0);
            let blocked = ts.effects.user_days_blocked_share;
            if paying && blocked > th.max_paying_blocked_share {
                let (loc, path) = match &t.limit {
                    Some(l) => (l.loc, l.path.clone()),
                    None => (t.loc, t.path.clone()),
                };
                out.push(
                    Rule::PayingUsersBlocked,
                    at(loc, &path),
                    format!(
                        "limits block {} of the active days of paying tier `{}` ({} of its users hit a limit in a month); policy allows {}",
                        pct(blocked),
                        t.name,
                        pct(ts.effects.users_hit_share),
                        pct(th.max_paying_blocked_share)
                    ),
                    "raise the cap, or degrade instead of blocking (`on_limit: fallback`, `shrink` or `throttle`, or overage billing) so paying users keep working",
                )
                .figure = Some(Figure {
                    name: "max_paying_blocked_share".into(),
                    value: blocked,
                    threshold: th.max_paying_blocked_share,
                });
            }
        }
    }
    if spec.interaction.max_calls.is_none() {
        out.push(
            Rule::MissingCallLimit,
            at(spec.interaction.loc, "interaction"),
            "no `max_calls`: an agent loop or retry storm can make any number of LLM calls per interaction".into(),
            "set `interaction.max_calls` to the most calls the feature allows per interaction",
        );
    }
    if th.infra_monthly_budget_usd > 0.0 {
        let share = cost_at / th.infra_monthly_budget_usd;
        if share > th.max_infra_budget_share {
            out.push(
                Rule::InfraBudgetShare,
                at(spec.feature.loc, "feature"),
                format!(
                    "{basis} the feature costs {} a month, {} of the {} infrastructure budget (policy: at most {})",
                    usd(cost_at),
                    pct(share),
                    usd(th.infra_monthly_budget_usd),
                    pct(th.max_infra_budget_share)
                ),
                "cap usage, or agree a larger share of the infrastructure budget in the policy",
            )
            .figure = Some(Figure {
                name: "infra_budget_share".into(),
                value: share,
                threshold: th.max_infra_budget_share,
            });
        }
    }
    if let Some(b) = &spec.feature.baseline {
        let mean = sim.and_then(|s| s.cost.mean).unwrap_or(f.typical.cost);
        if mean > b.monthly_usd.value {
            out.push(
                Rule::CostsMoreThanBaseline,
                at(b.monthly_usd.loc, &b.monthly_usd.path),
                format!(
                    "the feature costs {} a month on average, more than {} ({}) it was meant to help",
                    usd(mean),
                    b.name,
                    usd(b.monthly_usd.value)
                ),
                "check that the value it adds justifies costing more than the non-AI way; cap or cheapen it otherwise",
            );
        }
    }

    // --- pinned prices fresh enough
    if let (Some(max), Some(file)) = (policy.max_pin_age_days, &f.pricing.pinned)
        && let Ok(checked) = f.pricing.checked.parse::<jiff::civil::Date>()
        && let Ok(age) = today.since(checked).map(|s| s.get_days())
        && f64::from(age) > max
    {
        out.push(
            Rule::StalePricing,
            Some(Span::new(&std::sync::Arc::from(file.as_str()), crate::source::Loc::UNKNOWN, "checked")),
            format!(
                "the pinned price snapshot {file} was checked on {checked}, {age} days ago: older than the {max} days `pricing.max_age_days` allows"
            ),
            "run `costgate pricing update` to pin current prices, and review the changes it prints",
        );
    }

    // --- models priced at $0
    for z in &f.pricing.zero_priced {
        let def = spec.models.iter().find(|m| m.key == z.key);
        let from = if z.provider == crate::pricing::SPEC_PROVIDER {
            "by the prices given in the spec".to_string()
        } else {
            format!(
                "by the catalog entry `{}`{} ({})",
                z.entry,
                if z.provider.is_empty() {
                    String::new()
                } else {
                    format!(" of provider `{}`", z.provider)
                },
                if z.source.is_empty() {
                    &f.pricing.name
                } else {
                    &z.source
                }
            )
        };
        out.push(
            Rule::ZeroPriceModel,
            def.and_then(|d| at(d.loc, &d.path)),
            format!(
                "model `{}` (`{}`) is priced at $0 for input and output {from}: every figure counts its calls as free",
                z.key, z.requested
            ),
            "check the price with the vendor; if it is not free, give its prices in the spec (`{input_usd_per_mtok: .., output_usd_per_mtok: ..}`) or use a catalog entry that prices it",
        );
    }

    // --- exceptions
    let mut findings = out.findings;
    for e in &policy.exceptions {
        if e.feature != spec.feature.id {
            continue;
        }
        let expired = e.expires.parse::<jiff::civil::Date>().is_ok_and(|d| d < today);
        let span = policy.span(e.loc, "exceptions");
        if expired {
            findings.push(Finding {
                rule: Rule::StaleException,
                level: policy.level(Rule::StaleException),
                feature: spec.feature.id.clone(),
                message: format!(
                    "the exception for `{}` expired on {}; it no longer applies",
                    e.rule, e.expires
                ),
                help: "remove it, or renew it with a new expiry and reason".into(),
                span,
                figure: None,
                exception: None,
                approval: None,
            });
            continue;
        }
        let mut used = false;
        for x in findings.iter_mut().filter(|x| x.rule.code() == e.rule) {
            x.exception = Some(format!("{} (until {})", e.reason, e.expires));
            x.level = Level::Allow;
            used = true;
        }
        if !used {
            findings.push(Finding {
                rule: Rule::UnusedException,
                level: policy.level(Rule::UnusedException),
                feature: spec.feature.id.clone(),
                message: format!("the exception for `{}` matches no finding of `{}`", e.rule, e.feature),
                help: "remove it: the feature no longer breaks that rule".into(),
                span,
                figure: None,
                exception: None,
                approval: None,
            });
        }
    }
    sort_findings(&mut findings);
    findings
}

/// The order findings are shown in: most severe first, then by rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.level.cmp(&a.level).then(a.rule.cmp(&b.rule)));
}

/// Why a limit message is generic, if it is.
pub fn generic_message(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let trimmed = t.trim().trim_end_matches(['.', '!']);
    const BARE: [&str; 8] = [
        "error 429",
        "429",
        "too many requests",
        "try again later",
        "please try again later",
        "service temporarily unavailable",
        "rate limit exceeded",
        "quota exceeded",
    ];
    if trimmed.is_empty() {
        return Some("it is empty");
    }
    if BARE.contains(&trimmed) {
        return Some("it is a bare error that tells the user nothing they can act on");
    }
    let has_figure = t.contains("{used}")
        || t.contains("{limit}")
        || t.contains("{remaining}")
        || t.contains("{percent}")
        || t.chars().any(|c| c.is_ascii_digit());
    let has_reset = [
        "{reset}",
        "reset",
        "midnight",
        "tomorrow",
        "renew",
        "next month",
        "{resets_at}",
        "back at",
        "until",
    ]
    .iter()
    .any(|w| t.contains(w));
    match (has_figure, has_reset) {
        (false, false) => Some("it gives neither the quota used nor when it resets"),
        (false, true) => Some("it does not say how much of what quota was used"),
        (true, false) => Some("it does not say when the quota resets"),
        (true, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_messages_are_recognised() {
        assert!(generic_message("Error 429").is_some());
        assert!(generic_message("Service temporarily unavailable.").is_some());
        assert!(generic_message("Try again later").is_some());
        assert!(generic_message("You've used your quota.").is_some());
        assert!(generic_message("You've used {used}/{limit} tokens.").is_some());
        assert_eq!(
            generic_message("You've used 90% of your daily AI quota (450/500 requests). Quota resets at midnight PST."),
            None
        );
        assert_eq!(
            generic_message("You've used {used}/{limit} tokens today. It resets at {reset}."),
            None
        );
    }

    #[test]
    fn rule_codes_round_trip_and_are_kebab_case() {
        for r in Rule::ALL {
            assert_eq!(Rule::from_code(r.code()), Some(*r));
            assert!(
                r.code()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
            );
        }
    }
}
