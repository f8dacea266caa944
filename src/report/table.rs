//! The terminal rendering: a verdict line in plain words per feature, the
//! month, the tiers, what the limits do to users, and the findings.

use std::fmt::Write;

use super::doc::{month_notes, verdict_sentence};
use crate::fmt::{self, low_quantile, pct, plural, quantile_label, signed_usd, usd};
use crate::outcome::{CheckReport, FeatureReport, Remedy};
use crate::policy::{Level, Verdict};
use crate::sim::Summary;

/// ANSI styling, or none, and the width to fit.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Whether to use ANSI colours.
    pub color: bool,
    /// The terminal's width in columns (at least [`super::fit::MIN_WIDTH`]
    /// is used): tables wrap their cells, then split their columns into
    /// blocks, and prose wraps, to fit it. `None`: as wide as the text is.
    pub width: Option<usize>,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn level(&self, l: Level) -> String {
        let code = match l {
            Level::Deny => "1;31",
            Level::Approve => "1;33",
            Level::Warn => "33",
            Level::Allow => "2",
        };
        self.paint(code, l.as_str())
    }
    fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Pass => self.paint("1;32", "PASS"),
            Verdict::NeedsApproval => self.paint("1;33", "NEEDS APPROVAL"),
            Verdict::Blocked => self.paint("1;31", "BLOCKED"),
        }
    }
}

/// A plain aligned table: first column left, the rest right-aligned.
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(head: &[&str]) -> Self {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row, a cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, each line after `indent`; within `style.width`
    /// when given (cells wrapped at their spaces, never inside a number; when
    /// that is not enough, the columns in blocks that each repeat the first).
    pub fn render(&self, indent: &str, style: Style) -> String {
        let n = self.head.len();
        let blocks = match style.width {
            Some(width) => {
                let avail = width.max(super::fit::MIN_WIDTH).saturating_sub(indent.chars().count());
                super::fit::blocks(&self.head, &self.rows, avail, 2)
            }
            None => {
                let mut w = vec![0usize; n];
                for r in std::iter::once(&self.head).chain(&self.rows) {
                    for (i, c) in r.iter().enumerate().take(n) {
                        w[i] = w[i].max(c.chars().count());
                    }
                }
                vec![((0..n).collect(), w)]
            }
        };
        let mut out = String::new();
        for (b, (cols, w)) in blocks.iter().enumerate() {
            if b > 0 {
                out.push('\n');
            }
            // a cell wraps to its column's width; headings sit on their last lines
            let lines = |r: &[String], bottom: bool| -> Vec<String> {
                let cells: Vec<Vec<String>> = cols
                    .iter()
                    .zip(w)
                    .map(|(&i, &wi)| {
                        let c = r.get(i).map_or("", String::as_str);
                        if c.chars().count() <= wi {
                            vec![c.to_string()]
                        } else {
                            super::fit::wrap_cell(c, wi)
                        }
                    })
                    .collect();
                let height = cells.iter().map(Vec::len).max().unwrap_or(1);
                (0..height)
                    .map(|k| {
                        let mut s = String::from(indent);
                        for (j, (c, wi)) in cells.iter().zip(w).enumerate() {
                            let skip = if bottom { height - c.len() } else { 0 };
                            let text = k.checked_sub(skip).and_then(|k| c.get(k)).map_or("", String::as_str);
                            let pad = wi.saturating_sub(text.chars().count());
                            if j == 0 {
                                s.push_str(text);
                                s.push_str(&" ".repeat(pad));
                            } else {
                                s.push_str("  ");
                                s.push_str(&" ".repeat(pad));
                                s.push_str(text);
                            }
                        }
                        s.trim_end().to_string()
                    })
                    .collect()
            };
            for l in lines(&self.head, true) {
                out.push_str(&style.dim(&l));
                out.push('\n');
            }
            for r in &self.rows {
                for l in lines(r, false) {
                    out.push_str(&l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

fn opt_usd(v: Option<f64>) -> String {
    v.map_or("—".into(), usd)
}

fn opt_pct(v: Option<f64>) -> String {
    v.map_or("—".into(), pct)
}

/// A figure's p50 and its bad side at the policy's confidence, labelled.
fn sim_cells(s: Option<&Summary>, f: fn(f64) -> String) -> [String; 2] {
    match s {
        Some(s) => [
            s.p50.map_or("—".into(), f),
            s.at_confidence.map_or("—".into(), |v| {
                format!("{} ({})", f(v), quantile_label(s.at_quantile))
            }),
        ],
        None => ["—".into(), "—".into()],
    }
}

pub(crate) fn render_feature(f: &FeatureReport, style: Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} {} {}",
        style.bold(&f.id),
        style.dim("·"),
        style.dim(&format!("{} ({})", f.name, f.file))
    );
    let not_new = if f.blocked_not_new {
        "blocked, not new: not failing this run (--fail-on new). "
    } else {
        ""
    };
    let _ = writeln!(o, "  {}  {not_new}{}", style.verdict(f.verdict), verdict_sentence(f));
    if let Some(n) = f.overridden_note() {
        let _ = writeln!(o, "  {}", style.bold(&n));
    }
    o.push('\n');

    let sim = f.simulation.as_ref();
    let c = f.thresholds.confidence;
    let (hi, lo) = (quantile_label(c), quantile_label(low_quantile(c)));
    let bad = fmt::bad_month(c);
    let mut t = Table::new(&["month", "p50", &bad, "worst case", fmt::CENTRAL_INPUTS]);
    let x = sim_cells(sim.map(|s| &s.cost), usd);
    t.row(vec![
        "cost".into(),
        x[0].clone(),
        x[1].clone(),
        f.worst_case.monthly_usd.map_or("unbounded".into(), usd),
        usd(f.typical.cost),
    ]);
    let x = sim_cells(sim.map(|s| &s.revenue), usd);
    t.row(vec![
        "revenue".into(),
        x[0].clone(),
        x[1].clone(),
        String::new(),
        usd(f.typical.revenue),
    ]);
    let x = sim_cells(sim.map(|s| &s.cost_revenue_ratio), pct);
    t.row(vec![
        "cost / revenue".into(),
        x[0].clone(),
        x[1].clone(),
        String::new(),
        opt_pct(f.typical.cost_revenue_ratio),
    ]);
    let x = sim_cells(sim.map(|s| &s.margin), usd);
    t.row(vec![
        "margin".into(),
        x[0].clone(),
        x[1].clone(),
        String::new(),
        usd(f.typical.margin),
    ]);
    o.push_str(&t.render("  ", style));
    for line in month_notes(f) {
        let _ = writeln!(o, "  {}", style.dim(&line));
    }
    o.push('\n');

    let (cost_h, rev_h, ratio_h) = (format!("cost {hi}"), format!("revenue {lo}"), format!("ratio {hi}"));
    let mut t = Table::new(&[
        "tier",
        "users",
        "model",
        "per interaction",
        "worst",
        &cost_h,
        &rev_h,
        &ratio_h,
        "hit a limit",
    ]);
    for (i, u) in f.unit_costs.iter().enumerate() {
        let ts = sim.map(|s| &s.tiers[i]);
        t.row(vec![
            u.tier.clone(),
            fmt::count(f.typical.tiers[i].users),
            u.model.clone(),
            usd(u.typical_interaction_usd),
            opt_usd(u.worst_interaction_usd),
            ts.and_then(|x| x.cost.at_confidence).map_or("—".into(), usd),
            ts.and_then(|x| x.revenue.at_confidence).map_or("—".into(), usd),
            ts.and_then(|x| x.cost_revenue_ratio.at_confidence)
                .map_or("—".into(), pct),
            ts.map_or("—".into(), |x| pct(x.effects.users_hit_share)),
        ]);
    }
    o.push_str(&t.render("  ", style));

    if let Some(s) = sim {
        let capped: Vec<_> = s
            .tiers
            .iter()
            .filter(|t| {
                t.effects.users_hit_share > 0.0
                    || t.effects.user_days_blocked_share > 0.0
                    || t.effects.user_days_degraded_share > 0.0
            })
            .collect();
        if !capped.is_empty() {
            o.push('\n');
            let mut t = Table::new(&[
                "limits, per tier",
                "users hit",
                "days warned",
                "days degraded",
                "days blocked",
                "demand unserved",
            ]);
            for x in capped {
                let e = &x.effects;
                t.row(vec![
                    x.tier.clone(),
                    pct(e.users_hit_share),
                    pct(e.user_days_warned_share),
                    pct(e.user_days_degraded_share),
                    pct(e.user_days_blocked_share),
                    pct(e.demand_unserved_share),
                ]);
            }
            o.push_str(&t.render("  ", style));
        }
        for x in &s.tiers {
            if x.effects.tenant_alerts.is_empty() {
                continue;
            }
            let parts: Vec<String> = x
                .effects
                .tenant_alerts
                .iter()
                .map(|a| format!("{} of budget: {:.1} tenants/month", pct(a.at), a.tenants_per_month))
                .collect();
            let _ = writeln!(o, "  {} tenant budget alerts: {}", x.tier, parts.join(", "));
        }
        for x in &s.tiers {
            if x.accounts_breaching_most.is_empty() {
                continue;
            }
            let parts: Vec<String> = x
                .accounts_breaching_most
                .iter()
                .map(|a| {
                    format!(
                        "{} ({} budget) in {} of months, {:.1} alerts/month",
                        a.account,
                        usd(a.monthly_usd),
                        pct(a.breach_share),
                        a.alerts_per_month
                    )
                })
                .collect();
            let _ = writeln!(o, "  {} accounts breaching most: {}", x.tier, parts.join("; "));
        }
        if let Some(lv) = &s.breaker_levels {
            for b in &lv.breakers {
                let _ = writeln!(
                    o,
                    "  {} breaker {} ({}): trips in {} of months, {:.1} times a month on average, p95 {:.0}",
                    b.level.as_str(),
                    b.breaker,
                    b.on_trip.as_str(),
                    pct(b.months_with_trip_share),
                    b.mean_trips_per_month,
                    b.p95_trips_per_month
                );
            }
            let _ = writeln!(
                o,
                "  on-call pages: {:.1} a month · account-manager alerts: {:.1} a month ({:.1} of them tenant budget alerts)",
                lv.oncall_pages_per_month, lv.account_manager_alerts_per_month, lv.tenant_budget_alerts_per_month
            );
        }
        let tripped: Vec<_> = s
            .breakers
            .iter()
            .filter(|b| b.trips_share > 0.0 && s.breaker_levels.is_none())
            .collect();
        for b in tripped {
            let _ = writeln!(
                o,
                "  breaker {} trips in {} of months, {:.1} days a month on average",
                b.breaker,
                pct(b.trips_share),
                b.mean_days_tripped
            );
        }
        for x in &f.scenario_effects {
            let _ = writeln!(o, "  {}", scenario_line(x, s));
        }
        if let Some(sens) = &f.sensitivity {
            o.push_str(&super::sensitivity::terminal(sens, style));
        }
        if let Some(why) = &f.sensitivity_not_computed {
            let _ = writeln!(o, "  sensitivity not computed: {why}");
        }
        let risky: Vec<String> = f
            .breach_probabilities
            .iter()
            .filter_map(|b| {
                b.probability
                    .filter(|p| *p > 0.0)
                    .map(|p| format!("{} {}", threshold_words(&b.threshold, b.value, &f.thresholds), pct(p)))
            })
            .collect();
        if !risky.is_empty() {
            let _ = writeln!(o, "  chance a month breaks: {}", risky.join(" · "));
        }
    }
    let mut notes = Vec::new();
    if let Some(v) = &f.value {
        if let (Some(c), Some(unit)) = (v.cost_per_unit_usd, &v.unit) {
            notes.push(format!("{} per {unit}", usd(c)));
        }
        if let Some(r) = v.value_cost_ratio {
            notes.push(format!("value/cost {r:.1}x"));
        }
    }
    if let Some(b) = &f.baseline {
        notes.push(format!(
            "{} vs {} for {}",
            usd(b.feature_mean_monthly_usd),
            usd(b.monthly_usd),
            b.name
        ));
    }
    if let Some(sh) = f.budget_share.share_at_confidence {
        notes.push(format!("{} of the infrastructure budget", pct(sh)));
    }
    if !notes.is_empty() {
        let _ = writeln!(o, "\n  {}", notes.join(" · "));
    }
    for n in &f.worst_case.notes {
        let _ = writeln!(o, "  {}", style.dim(&format!("note: {n}")));
    }
    if let Some(obs) = &f.observed {
        o.push_str(&observed(obs, f.thresholds.confidence));
    }

    let shown: Vec<_> = f.shown_findings().collect();
    if !shown.is_empty() {
        o.push('\n');
        for x in shown {
            let place = x
                .span
                .as_ref()
                .map_or(String::new(), |s| format!(" {}", style.dim(&s.to_string())));
            let _ = writeln!(
                o,
                "  {:<7} {}{}",
                style.level(x.level),
                style.bold(x.rule.code()),
                place
            );
            let _ = writeln!(o, "          {}", x.message);
            let remedy = match x.remedy() {
                Remedy::Excepted(e) => format!("excepted by policy: {e}"),
                Remedy::Approval { note, .. } => format!("approval: {note}"),
                Remedy::Fix(help) => format!("fix: {help}"),
            };
            let _ = writeln!(o, "          {}", style.dim(&remedy));
            if let Some(help) = x.fix_beyond_approval() {
                let _ = writeln!(o, "          {}", style.dim(&format!("fix: {help}")));
            }
        }
    }
    o
}

/// A threshold of the "chance a month breaks" line in words, with its
/// value: `the monthly limit ($25,000)` for `p95_monthly_usd`. A key this
/// does not know is written as it is.
fn threshold_words(key: &str, value: f64, th: &crate::policy::Thresholds) -> String {
    match key {
        "worst_case_monthly_usd" => format!("the worst-case limit ({})", usd(value)),
        "p95_monthly_usd" => format!("the monthly limit ({})", usd(value)),
        "approval_cost_revenue_ratio" => format!("cost/revenue needing approval ({})", pct(value)),
        "max_cost_revenue_ratio" => format!("the cost/revenue maximum ({})", pct(value)),
        "infra_budget_share" => format!(
            "{} of the infrastructure budget ({})",
            pct(th.max_infra_budget_share),
            usd(value)
        ),
        other => format!("{other} ({})", fmt::figure(other, value)),
    }
}

/// One stress scenario's effect on the month at the policy's confidence,
/// with its standard error, or "no measurable effect".
pub fn scenario_line(x: &super::ScenarioEffect, s: &crate::sim::SimResult) -> String {
    let conf = quantile_label(s.confidence);
    let head = format!("scenario {} ({} a month)", x.scenario, pct(x.chance));
    match (x.difference_usd, x.difference_se) {
        (Some(d), Some(se)) if x.measurable => format!(
            "{head}: {conf} {} when it happens (± {}, one standard error)",
            signed_usd(d),
            usd(se),
        ),
        (Some(d), Some(se)) if !x.enough_months => format!(
            "{head}: too few months in the tail to measure its effect at {} ({conf} {} ± {})",
            plural(s.trials, "trial", "trials"),
            signed_usd(d),
            usd(se),
        ),
        (Some(d), Some(se)) => format!(
            "{head}: no measurable effect at {} ({conf} {} ± {}, within {} standard errors of zero)",
            plural(s.trials, "trial", "trials"),
            signed_usd(d),
            usd(se),
            super::MEASURABLE_SE
        ),
        _ if x.happened_share == 0.0 => {
            format!(
                "{head}: happened in none of the {}",
                plural(s.trials, "trial", "trials")
            )
        }
        _ if x.happened_share == 1.0 => format!("{head}: happened in every trial, nothing to compare with"),
        _ => format!(
            "{head}: too few months in the tail to measure its effect at {}",
            plural(s.trials, "trial", "trials")
        ),
    }
}

/// The report as terminal text.
pub fn render(r: &CheckReport, style: Style) -> String {
    // input strings made inert once (see `report::inert`)
    let r = &super::inert::inert(r);
    let mut o = String::new();
    for f in &r.features {
        o.push_str(&render_feature(f, style));
        o.push('\n');
    }
    if let Some(p) = &r.portfolio {
        o.push_str(&render_portfolio(p, style));
        o.push('\n');
    }
    let count = |v: Verdict| r.features.iter().filter(|f| f.verdict == v).count();
    let _ = writeln!(
        o,
        "{} checked: {} passed, {}, {} blocked.",
        plural(r.features.len(), "feature", "features"),
        count(Verdict::Pass),
        plural(count(Verdict::NeedsApproval), "needs approval", "need approval"),
        count(Verdict::Blocked)
    );
    let pricing = r.features.first().map_or(String::new(), |f| {
        format!("Prices: {} (checked {}). ", f.pricing.name, f.pricing.checked)
    });
    let _ = writeln!(
        o,
        "{}",
        style.dim(&format!(
            "Policy: {}. {}Seed {}, {}.",
            r.policy,
            pricing,
            r.seed,
            plural(r.trials, "trial", "trials")
        ))
    );
    // price changes the catalog announces inside the simulated month
    let mut announced: Vec<&crate::pricing::AnnouncedChange> = Vec::new();
    for c in r.features.iter().flat_map(|f| &f.pricing.announced_changes) {
        if !announced.contains(&c) {
            announced.push(c);
        }
    }
    for c in announced {
        let _ = writeln!(
            o,
            "Announced price change inside the simulated month: {} (per million tokens; this run prices at today's rates).",
            c.describe()
        );
    }
    let _ = writeln!(o, "{}", style.bold(&final_line(r)));
    match style.width {
        Some(w) => super::fit::wrap_prose(&o, w.max(super::fit::MIN_WIDTH)),
        None => o,
    }
}

/// The last line of every `check`: the run's verdict in words and the exit
/// code it gives (`Verdict: blocked (exit 1).`), and, when `--fail-on new`
/// let blocked features through, that it did.
pub fn final_line(r: &CheckReport) -> String {
    let words = match r.verdict {
        Verdict::Pass => "passed",
        Verdict::NeedsApproval => "needs approval",
        Verdict::Blocked => "blocked",
    };
    let old = r.features.iter().filter(|f| f.blocked_not_new).count();
    let why = if old > 0 && r.verdict != Verdict::Blocked {
        format!(
            "; {} blocked only by deny findings the baseline already had (--fail-on new)",
            plural(old, "feature", "features")
        )
    } else {
        String::new()
    };
    format!("Verdict: {words} (exit {}){why}.", r.exit_code)
}

/// `check --observed`: the spec against the usage logs, and the two months.
fn observed(o: &crate::outcome::ObservedReport, confidence: f64) -> String {
    let n = crate::spec::rewrite::number;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n  Observed: {} calls, {} users, {} user-days in {}",
        fmt::count(o.records as f64),
        fmt::count(o.users as f64),
        fmt::count(o.user_days as f64),
        o.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        s,
        "  {:<36} {:>12} {:>12} {:>12} {:>12}  from",
        "", "observed p95", "spec p95", "obs. mean", "spec mean"
    );
    for d in &o.drift {
        let _ = writeln!(
            s,
            "  {:<36} {:>12} {:>12} {:>12} {:>12}  {} {}{}",
            d.path,
            n(d.observed_p95),
            n(d.spec_p95),
            n(d.observed_mean),
            n(d.spec_mean),
            fmt::count(d.n as f64),
            d.unit,
            if d.above { "  ABOVE" } else { "" }
        );
    }
    let q = fmt::quantile_label(confidence);
    let month =
        |m: &crate::outcome::Month| format!("mean {}, {q} {}", fmt::usd(m.mean_usd), fmt::usd(m.at_confidence_usd));
    let _ = writeln!(s, "  month as the spec models it:    {}", month(&o.spec_month));
    let _ = writeln!(
        s,
        "  month with the observed figures: {}",
        o.observed_month.as_ref().map_or("not simulated".to_string(), month)
    );
    for w in &o.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    s
}

/// Every feature of the run added up, with each one's share.
pub fn render_portfolio(p: &crate::portfolio::PortfolioReport, style: Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} {}",
        style.bold("portfolio"),
        style.dim(&format!("· {} features", p.features))
    );
    let _ = writeln!(o, "  {}  {}", style.verdict(p.verdict), portfolio_sentence(p));
    o.push('\n');
    let mut t = Table::new(&["feature", "month at policy percentile", "share"]);
    for s in &p.shares {
        t.row(vec![s.feature.clone(), usd(s.at_confidence_monthly_usd), pct(s.share)]);
    }
    t.row(vec!["total".into(), usd(p.at_confidence_monthly_usd), "100%".into()]);
    o.push_str(&t.render("  ", style));
    for x in &p.findings {
        let place = x
            .span
            .as_ref()
            .map_or(String::new(), |s| format!(" {}", style.dim(&s.to_string())));
        let _ = writeln!(
            o,
            "\n  {:<7} {}{}",
            style.level(x.level),
            style.bold(x.rule.code()),
            place
        );
        let _ = writeln!(o, "          {}", x.message);
        let _ = writeln!(o, "          {}", style.dim(&format!("fix: {}", x.help)));
    }
    o
}

fn portfolio_sentence(p: &crate::portfolio::PortfolioReport) -> String {
    let worst = p.worst_case_monthly_usd.map_or("unbounded".to_string(), usd);
    let budget = match (p.monthly_budget_usd, p.infra_budget_share) {
        (Some(b), _) => format!(" against a budget of {}", usd(b)),
        (None, Some(s)) => format!(", {} of the infrastructure budget", pct(s)),
        _ => String::new(),
    };
    format!(
        "{} a month on average, {} with every feature at its policy percentile{budget}; {} at worst",
        usd(p.mean_monthly_usd),
        usd(p.at_confidence_monthly_usd),
        worst
    )
}
