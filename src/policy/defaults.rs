//! The built-in policy written out as a `costgate.toml` (`costgate policy
//! --defaults`, and the policy `costgate init` writes): generated from
//! [`Policy::default`], so the text cannot drift from what a run without a
//! policy file uses.

use std::fmt::Write as _;

use super::{Policy, Rule};

/// One threshold line: the key, its default and what it means.
fn line(o: &mut String, key: &str, value: f64, what: &str) {
    let kv = format!("{key} = {value}");
    let _ = writeln!(o, "{kv:<36} # {what}");
}

/// The built-in defaults as the text of a valid `costgate.toml`: every
/// threshold and setting with its default value and a comment; what is off
/// by default (on-call pages, pin age, signatures) and the rule levels are
/// commented out. Reading it back gives the built-in policy
/// (`tests::the_defaults_read_back_as_the_built_in_policy`).
pub fn defaults_toml() -> String {
    let p = Policy::default();
    let t = &p.thresholds;
    let mut o = String::new();
    // taplo (Even Better TOML) reads the schema from this header directive
    let _ = writeln!(o, "#:schema {}", crate::schema::POLICY_URL);
    o.push_str(
        "# costgate.toml: costgate's built-in policy, written out (`costgate policy --defaults`).\n\
         # Without a costgate.toml these values apply; edit any of them for your organisation.\n\
         # Commented lines are off by default, or show a rule's default level.\n\n",
    );
    o.push_str("[thresholds]\n");
    line(
        &mut o,
        "worst_case_monthly_usd",
        t.worst_case_monthly_usd,
        "the worst-case month may not pass this (USD)",
    );
    line(
        &mut o,
        "p95_monthly_usd",
        t.p95_monthly_usd,
        "the month at `confidence` may not pass this (USD)",
    );
    line(
        &mut o,
        "approval_cost_revenue_ratio",
        t.approval_cost_revenue_ratio,
        "above: exec approval required",
    );
    line(
        &mut o,
        "max_cost_revenue_ratio",
        t.max_cost_revenue_ratio,
        "above: blocked",
    );
    line(
        &mut o,
        "max_cost_per_call_usd",
        t.max_cost_per_call_usd,
        "one call at the limits may not cost more (USD)",
    );
    line(
        &mut o,
        "infra_monthly_budget_usd",
        t.infra_monthly_budget_usd,
        "the infrastructure budget (USD a month)",
    );
    line(
        &mut o,
        "max_infra_budget_share",
        t.max_infra_budget_share,
        "most of it one feature's month at `confidence` may take",
    );
    line(
        &mut o,
        "max_paying_blocked_share",
        t.max_paying_blocked_share,
        "limits may block at most this share of a paying tier's active days",
    );
    line(
        &mut o,
        "max_unserved_share",
        t.max_unserved_share,
        "most of a tier's demand left unserved (read at `confidence`)",
    );
    line(
        &mut o,
        "confidence",
        t.confidence,
        "the percentile read as the \"bad month\"",
    );
    line(
        &mut o,
        "worst_case_quantile",
        t.worst_case_quantile,
        "where open-ended counts are read for the worst case",
    );
    match t.max_oncall_pages_per_month {
        Some(v) => line(&mut o, "max_oncall_pages_per_month", v, "most expected on-call pages a month from breakers"),
        None => o.push_str("# max_oncall_pages_per_month = 4     # off by default: most expected on-call pages a month from breakers\n"),
    }
    for (kind, values) in &p.overrides {
        let _ = writeln!(
            o,
            "\n{:<36} # overrides for features whose value kind is {}",
            format!("[thresholds.{}]", kind.as_str()),
            kind.as_str()
        );
        for (key, v) in values {
            line(&mut o, key, *v, "(a built-in default)");
        }
    }
    o.push_str("\n[rules]                              # level per rule code: deny | approve | warn | allow\n");
    for r in Rule::ALL {
        let kv = format!("# {} = \"{}\"", r.code(), r.default_level().as_str());
        let _ = writeln!(o, "{kv}");
    }
    o.push_str(
        "\n# [[exceptions]]                     # a rule waived for one feature, with a reason and an expiry\n\
         # rule = \"costs-more-than-baseline\"\n\
         # feature = \"support-assistant\"\n\
         # reason = \"replaces the contractors from Q1; CFO agreed 2026-11-02\"\n\
         # expires = \"2027-03-31\"\n",
    );
    o.push_str("\n[approvals]\n");
    line(
        &mut o,
        "max_drift",
        p.approvals.max_drift,
        "how far approved figures may grow before an approval lapses",
    );
    let _ = writeln!(
        o,
        "{:<36} # true: only signed approvals cover (needs allowed_signers)",
        format!("require_signature = {}", p.approvals.require_signature)
    );
    o.push_str("# allowed_signers = \"approvers.allowed_signers\"   # who may sign approvals (docs/approvals.md)\n");
    o.push_str(
        "\n[pricing]\n\
         # source = \"costgate-prices.lock.toml\"   # default: the pinned snapshot if there is one, else the built-in catalog\n\
         # max_age_days = 90                      # off by default: a pinned snapshot older than this is a finding\n",
    );
    o.push_str(
        "\n# [portfolio]                        # off by default: every feature a run covers, against one AI budget\n\
         # monthly_budget_usd = 80000\n",
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_read_back_as_the_built_in_policy() {
        let text = defaults_toml();
        let read = super::super::load_str("costgate.toml", &text).unwrap();
        let built_in = Policy::default();
        assert_eq!(read.thresholds, built_in.thresholds);
        assert_eq!(read.overrides, built_in.overrides);
        assert_eq!(read.approvals, built_in.approvals);
        assert_eq!(read.levels, Vec::new());
        assert_eq!(read.exceptions, Vec::new());
        assert_eq!(read.pricing_source, built_in.pricing_source);
        assert_eq!(read.max_pin_age_days, built_in.max_pin_age_days);
        assert_eq!(read.portfolio, built_in.portfolio);
        // every rule is listed at its default level
        for r in Rule::ALL {
            assert!(
                text.contains(&format!("# {} = \"{}\"", r.code(), r.default_level().as_str())),
                "{}",
                r.code()
            );
        }
    }

    #[test]
    fn uncommenting_the_rule_levels_keeps_every_default() {
        // The commented rule lines are themselves valid: uncommented they set
        // each rule to its default level.
        let text: String = defaults_toml()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if Rule::ALL.iter().any(|r| rest.starts_with(&format!("{} = ", r.code()))) => rest,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let read = super::super::load_str("costgate.toml", &text).unwrap();
        assert_eq!(read.levels.len(), Rule::ALL.len());
        for (r, l) in &read.levels {
            assert_eq!(*l, r.default_level());
        }
    }
}
