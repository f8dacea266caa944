//! What a change does to each feature's cost: two check reports compared.
//!
//! Features are matched by id. For each: the month at central inputs, the
//! month at the policy's confidence and the worst-case month and the
//! cost/revenue ratio, before and after, with the change in money and
//! percent; features added and removed; findings new, resolved and unchanged
//! (a finding is the same when its rule, feature and field path are). The
//! labels and the findings shown are the reports' own ([`crate::fmt`],
//! [`Finding::is_shown`]).

use std::fmt::Write;

use serde::Serialize;

use crate::fmt::{self, pct, quantile_label, usd};
use crate::outcome::CheckReport;
use crate::policy::rules::{Finding, Level, Verdict};
use crate::report::doc::verdict_label;
use crate::report::markdown::escape as md;

/// Two check reports compared, feature by feature.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    /// Version of the JSON output (the report's).
    pub schema_version: u32,
    /// What the base is (a git ref, or a path).
    pub base: String,
    /// What the head is.
    pub head: String,
    /// The features in both, in the head's order.
    pub features: Vec<FeatureDiff>,
    /// Feature ids only the head has.
    pub added: Vec<String>,
    /// Feature ids only the base has.
    pub removed: Vec<String>,
    /// The head's verdict.
    pub verdict: Verdict,
}

/// One feature before and after.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureDiff {
    /// Its id.
    pub feature: String,
    /// Its name in the head.
    pub name: String,
    /// The base's verdict.
    pub verdict_before: Verdict,
    /// The head's verdict.
    pub verdict_after: Verdict,
    /// The month at central inputs.
    pub typical: Change,
    /// The month at the policy's confidence.
    pub at_confidence: Change,
    /// The head's policy confidence, which labels `at_confidence` (`p95`).
    #[serde(skip)]
    pub confidence: f64,
    /// The worst-case month (`None`: unbounded).
    pub worst_case: Change,
    /// Cost / revenue at the policy's confidence (`None`: no revenue).
    pub cost_revenue_ratio: Change,
    /// Shown findings the head has and the base had not.
    pub findings_new: Vec<Finding>,
    /// Shown findings the base had and the head has not.
    pub findings_resolved: Vec<Finding>,
    /// Shown findings both have.
    pub findings_unchanged: Vec<Finding>,
    /// The `--set` overrides the head was checked with (a what-if against the base).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<crate::spec::overrides::Applied>,
    /// "overridden for this run: ..." (from the head's report).
    #[serde(skip)]
    pub overridden: Option<String>,
}

/// A figure before and after; `None` is "not defined" (unbounded, no revenue).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Change {
    /// The base's figure.
    pub before: Option<f64>,
    /// The head's figure.
    pub after: Option<f64>,
    /// After minus before; `None` when either is not defined.
    pub delta: Option<f64>,
    /// Relative change (0.1 = +10%); `None` when `before` is zero or undefined.
    pub delta_share: Option<f64>,
}

impl Change {
    /// The change from `before` to `after`.
    pub fn new(before: Option<f64>, after: Option<f64>) -> Self {
        let delta = match (before, after) {
            (Some(b), Some(a)) => Some(a - b),
            _ => None,
        };
        let delta_share = match (before, delta) {
            (Some(b), Some(d)) if b != 0.0 => Some(d / b),
            _ => None,
        };
        Change {
            before,
            after,
            delta,
            delta_share,
        }
    }
}

/// The identity of a finding across two runs.
pub fn finding_key(f: &Finding) -> (String, String, String) {
    (
        f.rule.code().to_string(),
        f.feature.clone(),
        f.span.as_ref().map(|s| s.path.clone()).unwrap_or_default(),
    )
}

fn split_findings(before: &[Finding], after: &[Finding]) -> (Vec<Finding>, Vec<Finding>, Vec<Finding>) {
    // the reports' filter: above `allow`, or lowered to it by an exception
    let shown = |f: &&Finding| f.is_shown();
    let bk: Vec<_> = before.iter().filter(shown).map(finding_key).collect();
    let ak: Vec<_> = after.iter().filter(shown).map(finding_key).collect();
    let new = after
        .iter()
        .filter(shown)
        .filter(|f| !bk.contains(&finding_key(f)))
        .cloned()
        .collect();
    let resolved = before
        .iter()
        .filter(shown)
        .filter(|f| !ak.contains(&finding_key(f)))
        .cloned()
        .collect();
    let same = after
        .iter()
        .filter(shown)
        .filter(|f| bk.contains(&finding_key(f)))
        .cloned()
        .collect();
    (new, resolved, same)
}

/// Compare two reports: each feature of `head` that `base` also has, and
/// the features added and removed (`base_label` and `head_label` name them).
pub fn compare(base: &CheckReport, head: &CheckReport, base_label: &str, head_label: &str) -> DiffReport {
    let mut features = Vec::new();
    for h in &head.features {
        let Some(b) = base.features.iter().find(|b| b.id == h.id) else {
            continue;
        };
        let (new, resolved, same) = split_findings(&b.findings, &h.findings);
        features.push(FeatureDiff {
            feature: h.id.clone(),
            name: h.name.clone(),
            verdict_before: b.verdict,
            verdict_after: h.verdict,
            typical: Change::new(Some(b.typical.cost), Some(h.typical.cost)),
            at_confidence: Change::new(Some(b.cost_at_confidence()), Some(h.cost_at_confidence())),
            confidence: h.confidence(),
            worst_case: Change::new(b.worst_case.monthly_usd, h.worst_case.monthly_usd),
            cost_revenue_ratio: Change::new(b.ratio_at_confidence(), h.ratio_at_confidence()),
            findings_new: new,
            findings_resolved: resolved,
            findings_unchanged: same,
            overrides: h.overrides.clone(),
            overridden: h.overridden_note(),
        });
    }
    let added = head
        .features
        .iter()
        .filter(|h| !base.features.iter().any(|b| b.id == h.id))
        .map(|h| h.id.clone())
        .collect();
    let removed = base
        .features
        .iter()
        .filter(|b| !head.features.iter().any(|h| h.id == b.id))
        .map(|b| b.id.clone())
        .collect();
    DiffReport {
        schema_version: crate::report::SCHEMA_VERSION,
        base: base_label.to_string(),
        head: head_label.to_string(),
        features,
        added,
        removed,
        verdict: head.verdict,
    }
}

/// Deny findings of `head` that `base` did not have (for `--fail-on new`).
pub fn new_denials<'a>(base: &CheckReport, head: &'a CheckReport) -> Vec<&'a Finding> {
    let base_keys: Vec<_> = base
        .features
        .iter()
        .flat_map(|f| &f.findings)
        .map(finding_key)
        .collect();
    head.features
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| f.level == Level::Deny && !base_keys.contains(&finding_key(f)))
        .collect()
}

fn money(v: Option<f64>) -> String {
    v.map_or("unbounded".into(), usd)
}

fn ratio(v: Option<f64>) -> String {
    v.map_or("n/a".into(), pct)
}

fn signed_money(c: &Change) -> String {
    match (c.delta, c.delta_share) {
        (Some(d), Some(s)) if d != 0.0 => format!(
            "{}{} ({}{})",
            if d > 0.0 { "+" } else { "" },
            usd(d),
            if s > 0.0 { "+" } else { "" },
            pct(s)
        ),
        (Some(d), None) if d != 0.0 => format!("{}{}", if d > 0.0 { "+" } else { "" }, usd(d)),
        (Some(_), _) => "no change".into(),
        (None, _) if c.before == c.after => "no change".into(),
        (None, _) => "—".into(),
    }
}

fn signed_points(c: &Change) -> String {
    match c.delta {
        Some(d) if d.abs() > 0.0 => format!("{}{:.1} pts", if d > 0.0 { "+" } else { "" }, d * 100.0),
        Some(_) => "no change".into(),
        None => "—".into(),
    }
}

fn verdict_word(v: Verdict) -> String {
    verdict_label(v).to_lowercase()
}

/// `d` with every input string made inert for a terminal or a CI log (see
/// [`crate::untrusted::clean`]).
fn inert(d: &DiffReport) -> DiffReport {
    use crate::untrusted::clean_in_place as c;
    let mut d = d.clone();
    c(&mut d.base);
    c(&mut d.head);
    d.added.iter_mut().chain(d.removed.iter_mut()).for_each(c);
    for f in &mut d.features {
        c(&mut f.feature);
        c(&mut f.name);
        if let Some(n) = &mut f.overridden {
            c(n);
        }
        for x in f
            .findings_new
            .iter_mut()
            .chain(&mut f.findings_resolved)
            .chain(&mut f.findings_unchanged)
        {
            c(&mut x.message);
            c(&mut x.feature);
        }
    }
    d
}

/// The diff as Markdown, for a pull-request comment.
pub fn render_markdown(d: &DiffReport) -> String {
    let d = &inert(d);
    let mut o = String::new();
    let _ = writeln!(o, "### costgate: cost change of this pull request\n");
    if d.features.is_empty() && d.added.is_empty() && d.removed.is_empty() {
        let _ = writeln!(o, "No AI feature specs changed.");
        return o;
    }
    if !d.features.is_empty() {
        // one column for every feature: labelled by their confidence when
        // they share it, else each cell says its own
        let common = d.features.iter().all(|f| f.confidence == d.features[0].confidence);
        let (month, ratio_at) = if common {
            let c = d.features[0].confidence;
            (fmt::bad_month(c), quantile_label(c))
        } else {
            ("bad month".to_string(), "bad month".to_string())
        };
        let cell = |f: &FeatureDiff| {
            if common {
                String::new()
            } else {
                format!(" at {}", quantile_label(f.confidence))
            }
        };
        let _ = writeln!(
            o,
            "| feature | verdict | {} | {month} | worst case | cost / revenue ({ratio_at}) |",
            fmt::CENTRAL_INPUTS
        );
        let _ = writeln!(o, "| --- | --- | --- | --- | --- | --- |");
        for f in &d.features {
            let _ = writeln!(
                o,
                "| {} | {} → **{}** | {} → {} ({}) | {} → {} ({}){} | {} → {} ({}) | {} → {} ({}){} |",
                md(&f.feature),
                verdict_word(f.verdict_before),
                verdict_word(f.verdict_after),
                usd(f.typical.before.unwrap_or(0.0)),
                usd(f.typical.after.unwrap_or(0.0)),
                signed_money(&f.typical),
                usd(f.at_confidence.before.unwrap_or(0.0)),
                usd(f.at_confidence.after.unwrap_or(0.0)),
                signed_money(&f.at_confidence),
                cell(f),
                money(f.worst_case.before),
                money(f.worst_case.after),
                signed_money(&f.worst_case),
                ratio(f.cost_revenue_ratio.before),
                ratio(f.cost_revenue_ratio.after),
                signed_points(&f.cost_revenue_ratio),
                cell(f),
            );
        }
        o.push('\n');
    }
    for id in &d.added {
        let _ = writeln!(o, "- **added**: `{}`", md(id));
    }
    for id in &d.removed {
        let _ = writeln!(o, "- **removed**: `{}`", md(id));
    }
    for f in &d.features {
        if let Some(n) = &f.overridden {
            let _ = writeln!(o, "- ⚠️ {} ({})", md(n), md(&f.feature));
        }
        for x in &f.findings_new {
            let _ = writeln!(
                o,
                "- 🆕 **{}** `{}` ({}): {}",
                x.level.as_str(),
                x.rule.code(),
                md(&f.feature),
                md(&x.message)
            );
        }
        for x in &f.findings_resolved {
            let _ = writeln!(
                o,
                "- ✅ resolved `{}` ({}): {}",
                x.rule.code(),
                md(&f.feature),
                md(&x.message)
            );
        }
        if !f.findings_unchanged.is_empty() {
            let codes: Vec<String> = f
                .findings_unchanged
                .iter()
                .map(|x| format!("`{}`", x.rule.code()))
                .collect();
            let _ = writeln!(o, "- unchanged ({}): {}", md(&f.feature), codes.join(", "));
        }
    }
    o
}

/// The diff as terminal text, as wide as its lines are.
pub fn render_table(d: &DiffReport) -> String {
    render_table_fitted(d, None)
}

/// The diff as terminal text fitted to `width` columns (at least 80), as
/// `check`'s table is: the table's cells wrap at spaces and its columns
/// split into blocks, the finding lines wrap at spaces; a number is never
/// cut. `None`: unfitted.
pub fn render_table_fitted(d: &DiffReport, width: Option<usize>) -> String {
    let d = &inert(d);
    let mut o = String::new();
    let _ = writeln!(o, "{} → {}", d.base, d.head);
    for f in &d.features {
        let _ = writeln!(
            o,
            "\n{}: {} → {}",
            f.feature,
            verdict_word(f.verdict_before),
            verdict_word(f.verdict_after)
        );
        let at = fmt::bad_month(f.confidence);
        let rows = [
            (
                fmt::CENTRAL_INPUTS,
                usd(f.typical.before.unwrap_or(0.0)),
                usd(f.typical.after.unwrap_or(0.0)),
                signed_money(&f.typical),
            ),
            (
                at.as_str(),
                usd(f.at_confidence.before.unwrap_or(0.0)),
                usd(f.at_confidence.after.unwrap_or(0.0)),
                signed_money(&f.at_confidence),
            ),
            (
                "worst case",
                money(f.worst_case.before),
                money(f.worst_case.after),
                signed_money(&f.worst_case),
            ),
            (
                "cost / revenue",
                ratio(f.cost_revenue_ratio.before),
                ratio(f.cost_revenue_ratio.after),
                signed_points(&f.cost_revenue_ratio),
            ),
        ];
        let mut t = crate::report::table::Table::new(&["", "before", "after", "change"]);
        for (a, b, c, e) in rows {
            t.row(vec![a.into(), b, c, e]);
        }
        o.push_str(&t.render("  ", crate::report::table::Style { color: false, width }));
        if let Some(n) = &f.overridden {
            let _ = writeln!(o, "  after: {n}");
        }
        for x in &f.findings_new {
            let _ = writeln!(
                o,
                "  new       {:<7} {}: {}",
                x.level.as_str(),
                x.rule.code(),
                x.message
            );
        }
        for x in &f.findings_resolved {
            let _ = writeln!(o, "  resolved  {:<7} {}", x.level.as_str(), x.rule.code());
        }
        for x in &f.findings_unchanged {
            let _ = writeln!(o, "  unchanged {:<7} {}", x.level.as_str(), x.rule.code());
        }
    }
    for id in &d.added {
        let _ = writeln!(o, "\nadded: {id}");
    }
    for id in &d.removed {
        let _ = writeln!(o, "\nremoved: {id}");
    }
    match width {
        Some(w) => crate::report::fit::wrap_prose(&o, w.max(crate::report::fit::MIN_WIDTH)),
        None => o,
    }
}

/// The diff as JSON (with a final newline).
pub fn render_json(d: &DiffReport) -> String {
    let mut s = crate::untrusted::json_inert(serde_json::to_string_pretty(d).expect("diffs serialise"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_compute_money_and_percent() {
        let c = Change::new(Some(100.0), Some(125.0));
        assert_eq!(c.delta, Some(25.0));
        assert_eq!(c.delta_share, Some(0.25));
        assert_eq!(signed_money(&c), "+$25.00 (+25%)");
        let u = Change::new(Some(100.0), None);
        assert_eq!(u.delta, None);
        assert_eq!(signed_money(&u), "—");
        assert_eq!(signed_money(&Change::new(None, None)), "no change");
    }

    #[test]
    fn markdown_cells_are_escaped() {
        assert_eq!(md("<script>|x*"), "&lt;script&gt;\\|x\\*");
    }
}
