//! The content of the reports people read (HTML for the executive who signs,
//! Markdown for the pull request), chosen once from a [`CheckReport`] so both
//! say the same thing. [`super::html`] and [`super::markdown`] only lay it out
//! and escape it: every string here is plain text, never markup.

use crate::approval;
use crate::fmt::{self, confidence_pct, low_quantile, pct, plural, quantile_label, signed_usd, usd};
pub use crate::outcome::Remedy;
use crate::outcome::{CheckReport, FeatureReport};
use crate::policy::{Level, Verdict};
use crate::sim::Summary;
use crate::spec::Origin;

/// A run of text with its emphasis.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Emphasised text.
    Strong(String),
    /// A rule code, a command, a file name.
    Code(String),
}

/// A line of text made of runs.
pub type Rich = Vec<Inline>;

/// Plain text, one run.
pub fn text(s: impl Into<String>) -> Rich {
    vec![Inline::Text(s.into())]
}

/// Plain text in which `backticked` words are code, as in rule messages.
pub fn ticks(s: &str) -> Rich {
    if !s.matches('`').count().is_multiple_of(2) {
        return text(s);
    }
    s.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| {
            if i % 2 == 1 {
                Inline::Code(part.to_string())
            } else {
                Inline::Text(part.to_string())
            }
        })
        .collect()
}

/// One run of code.
pub fn code(s: impl Into<String>) -> Rich {
    vec![Inline::Code(s.into())]
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Left (labels, words).
    Left,
    /// Right (figures).
    Right,
}

/// A table of the document.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column headings.
    pub head: Vec<String>,
    /// Alignment of each column.
    pub align: Vec<Align>,
    /// The rows, a cell per column.
    pub rows: Vec<Vec<Rich>>,
}

impl Table {
    /// The first column left-aligned (labels), the others right (figures).
    pub(crate) fn figures(head: &[&str]) -> Self {
        let align = (0..head.len())
            .map(|i| if i == 0 { Align::Left } else { Align::Right })
            .collect();
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            align,
            rows: Vec::new(),
        }
    }

    fn text(head: &[&str]) -> Self {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            align: vec![Align::Left; head.len()],
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.into_iter().map(text).collect());
    }

    /// Add a row of plain-text cells.
    pub(crate) fn push(&mut self, cells: Vec<String>) {
        self.row(cells);
    }
}

/// How a figure reads against the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Nothing to say either way.
    Neutral,
    /// Within policy.
    Good,
    /// Near a threshold, or a warning.
    Warn,
    /// Beyond a threshold.
    Bad,
}

/// A figure a report leads with (the HTML report's cards).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyFigure {
    /// What it is.
    pub label: String,
    /// Its value, formatted.
    pub value: String,
    /// The policy line it is read against, or what it means.
    pub note: String,
    /// How it reads against the policy.
    pub tone: Tone,
}

/// What a marker on a chart stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// A percentile of the simulated months.
    Stat,
    /// The deterministic worst case.
    Worst,
    /// A policy threshold.
    Policy,
}

/// A marked value on a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// What it is (`p95`, `worst case`, a threshold's name).
    pub label: String,
    /// Where it is, in the chart's unit.
    pub value: f64,
    /// Its value, formatted.
    pub shown: String,
    /// What it stands for.
    pub kind: MarkerKind,
}

/// The unit of a chart's axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Dollars.
    Usd,
    /// A share (percent).
    Share,
}

impl Unit {
    /// A value of this unit, formatted.
    pub fn fmt(self, v: f64) -> String {
        match self {
            Unit::Usd => usd(v),
            Unit::Share => pct(v),
        }
    }
}

/// A histogram of simulated months, with markers. Bins cover `0..x_max` in
/// equal widths; markers beyond `x_max` are drawn at the edge as off-scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The chart's title.
    pub title: String,
    /// The unit of its axis.
    pub unit: Unit,
    /// The right edge of its axis.
    pub x_max: f64,
    /// Share of the simulated months in each bin.
    pub bins: Vec<f64>,
    /// The marked values.
    pub markers: Vec<Marker>,
    /// What the chart shows.
    pub caption: String,
    /// How to read the drawing's lines (the HTML chart; Markdown lists the
    /// markers instead).
    pub legend: String,
}

/// A finding as the reports show it.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingView {
    /// Its level.
    pub level: Level,
    /// Its rule code.
    pub rule: String,
    /// What is wrong.
    pub message: String,
    /// `file:line:column`.
    pub place: Option<String>,
    /// What to do: the fix, the exception, or the approval.
    pub remedy: Remedy,
    /// Shown under the remedy when an approval no longer covers.
    pub fix: Option<String>,
}

/// The approval block of a feature: what an approval binds, and its signature.
#[derive(Clone, Debug, PartialEq)]
pub struct SignOff {
    /// What the signature is asked for, in plain words.
    pub ask: String,
    /// The fingerprint an approval of this run carries.
    pub fingerprint: String,
    /// The figures an approval binds: (what, value, threshold).
    pub figures: Vec<(String, String, String)>,
    /// Filled in from the approval on file, else blank lines to sign.
    pub by: Option<String>,
    /// The approver's role.
    pub role: Option<String>,
    /// The day approved.
    pub date: Option<String>,
    /// The last day it covers.
    pub expires: Option<String>,
    /// Why it was approved.
    pub reason: Option<String>,
    /// Whether the approval on file covers this run, and why.
    pub status: Option<String>,
    /// The command that records it.
    pub command: Option<String>,
    /// The spec's file.
    pub file: String,
    /// Whether to lay out fields to sign: an approval is asked for, or on file.
    pub form: bool,
}

/// A block of a section.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A paragraph.
    Para(Rich),
    /// A bullet list.
    Bullets(Vec<Rich>),
    /// A table.
    Table(Table),
    /// A histogram with markers.
    Chart(Chart),
    /// The findings.
    Findings(Vec<FindingView>),
    /// The approval block.
    SignOff(SignOff),
    /// A tornado chart (the HTML report draws it; Markdown has its table).
    Tornado(super::sensitivity::Tornado),
}

/// A titled section of a feature.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Its title.
    pub title: String,
    /// Its blocks.
    pub blocks: Vec<Block>,
    /// Reference material a PR comment folds away (assumptions).
    pub fold: bool,
}

/// Everything a report says about one feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureDoc {
    /// A fragment id made of `[a-z0-9-]` only.
    pub anchor: String,
    /// The feature id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The spec file.
    pub file: String,
    /// Its owner, if named.
    pub owner: Option<String>,
    /// Its verdict.
    pub verdict: Verdict,
    /// `check --fail-on new`: blocked only by deny findings the baseline
    /// already had, so it does not fail this run (see [`FeatureDoc::label`]).
    pub blocked_not_new: bool,
    /// The verdict in one plain sentence.
    pub headline: String,
    /// "overridden for this run: ..." when `--set` changed the spec for
    /// this run (a what-if).
    pub overridden: Option<String>,
    /// The decision asked of the reader.
    pub decision: Rich,
    /// The figures it leads with.
    pub figures: Vec<KeyFigure>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// The document every report format renders (HTML, Markdown; the terminal
/// takes its sentences from it).
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// The title.
    pub title: String,
    /// The run's verdict.
    pub verdict: Verdict,
    /// "4 features checked: 2 pass, ...".
    pub tally: String,
    /// One row per feature, when there are several.
    pub overview: Option<Table>,
    /// One per feature.
    pub features: Vec<FeatureDoc>,
    /// Where the numbers come from: version, policy, prices, seed, trials, date.
    pub provenance: String,
}

/// The verdict in capitals, as every report labels it: `PASS`, `NEEDS APPROVAL`, `BLOCKED`.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::NeedsApproval => "NEEDS APPROVAL",
        Verdict::Blocked => "BLOCKED",
    }
}

/// What a feature blocked only by deny findings its baseline already had
/// is labelled under `check --fail-on new`, in every report (the terminal's
/// feature line says the same).
pub const BLOCKED_NOT_NEW: &str = "blocked, not new: not failing this run";

/// A feature's verdict label: [`verdict_label`], and under `--fail-on new`
/// for a feature blocked only by old deny findings, that it does not fail
/// the run: `BLOCKED, not new: not failing this run`, never a bare `BLOCKED`.
pub fn feature_label(v: Verdict, blocked_not_new: bool) -> String {
    if blocked_not_new && v == Verdict::Blocked {
        format!("BLOCKED{}", BLOCKED_NOT_NEW.trim_start_matches("blocked"))
    } else {
        verdict_label(v).to_string()
    }
}

impl FeatureDoc {
    /// Its verdict label (see [`feature_label`]).
    pub fn label(&self) -> String {
        feature_label(self.verdict, self.blocked_not_new)
    }
}

/// The plain-words verdict of a feature: the headline of every report
/// (terminal, Markdown, HTML).
pub fn verdict_sentence(f: &FeatureReport) -> String {
    let first = |lvl: Level| f.findings.iter().find(|x| x.level == lvl);
    match f.verdict {
        Verdict::Blocked => {
            let n = f.findings.iter().filter(|x| x.level == Level::Deny).count();
            let why = first(Level::Deny).map_or(String::new(), |x| x.message.clone());
            if n > 1 {
                format!("Blocked: {why} (and {} more)", n - 1)
            } else {
                format!("Blocked: {why}")
            }
        }
        Verdict::NeedsApproval => {
            let why = f
                .findings
                .iter()
                .find(|x| x.is_open_approval())
                .map_or(String::new(), |x| x.message.clone());
            format!("Needs your approval: {why}")
        }
        Verdict::Pass => match f.findings.iter().find(|x| x.is_approved()) {
            Some(a) => format!(
                "Passes with a recorded approval: {}",
                a.approval.as_ref().map_or("", |x| x.note.as_str())
            ),
            None => format!(
                "Passes: {} a month at {}, {} at worst, within policy",
                usd(f.cost_at_confidence()),
                quantile_label(f.confidence()),
                worst(f)
            ),
        },
    }
}

/// What the terminal's month table means, a line each: the bad month's
/// percentiles, and what the central-inputs column is (and, when it is,
/// why it sits below the simulated p50).
pub fn month_notes(f: &FeatureReport) -> Vec<String> {
    let c = f.confidence();
    let mut v = vec![format!(
        "bad month: cost and cost / revenue at {}, revenue and margin at {}: {} is worse.",
        quantile_label(c),
        quantile_label(low_quantile(c)),
        one_in(c)
    )];
    if f.central_below_p50() {
        v.push(
            "central inputs: every input at its central value, no scenario. It sits below p50 because a month".into(),
        );
        v.push(
            "adds up many interactions, so it follows each input's mean, and a skewed input's mean is above its median."
                .into(),
        );
    } else {
        v.push("central inputs: every input at its central value, no scenario.".into());
    }
    v
}

/// "1 month in 20" for 0.95; "2.5% of months" when 1 / (1 − c) is not whole.
pub fn one_in(confidence: f64) -> String {
    let n = 1.0 / low_quantile(confidence);
    if (n - n.round()).abs() < 1e-6 {
        format!("1 month in {}", n.round())
    } else {
        format!("{} of months", pct(low_quantile(confidence)))
    }
}

/// How many features were checked and how many of each verdict.
pub fn tally(r: &CheckReport) -> String {
    let count = |v: Verdict| r.features.iter().filter(|f| f.verdict == v).count();
    let not_new = r.features.iter().filter(|f| f.blocked_not_new).count();
    format!(
        "{} checked: {} passed, {}, {} blocked{}",
        plural(r.features.len(), "feature", "features"),
        count(Verdict::Pass),
        plural(count(Verdict::NeedsApproval), "needs approval", "need approval"),
        count(Verdict::Blocked),
        if not_new > 0 {
            format!(
                " ({not_new} of them {}, --fail-on new)",
                BLOCKED_NOT_NEW.trim_start_matches("blocked, ")
            )
        } else {
            String::new()
        }
    )
}

pub(crate) fn provenance(r: &CheckReport) -> String {
    let prices = r.features.first().map_or(String::new(), |f| {
        format!(" Prices: {} (checked {}).", f.pricing.name, f.pricing.checked)
    });
    format!(
        "costgate {} on {}. Policy: {}.{prices} Simulation: seed {}, {}.",
        r.costgate_version,
        r.today,
        r.policy,
        r.seed,
        plural(r.trials, "month", "months")
    )
}

/// The document of a check report.
pub fn build(r: &CheckReport) -> Doc {
    // input strings made inert once, for every report built from here
    let r = &super::inert::inert(r);
    let overview = (r.features.len() > 1).then(|| overview(r));
    Doc {
        title: match r.features.as_slice() {
            [f] => format!("{}: unit economics", f.name),
            _ => "AI features: unit economics".to_string(),
        },
        verdict: r.verdict,
        tally: tally(r),
        overview,
        features: r.features.iter().map(|f| feature(r, f)).collect(),
        provenance: provenance(r),
    }
}

fn worst(f: &FeatureReport) -> String {
    f.worst_case.monthly_usd.map_or("unbounded".into(), usd)
}

fn level_counts(f: &FeatureReport) -> String {
    let n = |l: Level| f.findings.iter().filter(|x| x.level == l).count();
    let mut parts = Vec::new();
    for (l, word) in [
        (Level::Deny, "deny"),
        (Level::Approve, "approve"),
        (Level::Warn, "warn"),
    ] {
        if n(l) > 0 {
            parts.push(format!("{} {word}", n(l)));
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn overview(r: &CheckReport) -> Table {
    let mut t = Table::figures(&[
        "feature",
        "verdict",
        "cost, bad month",
        "worst case",
        "cost / revenue, bad month",
        "findings",
    ]);
    t.align[1] = Align::Left;
    t.align[5] = Align::Left;
    for f in &r.features {
        t.row(vec![
            f.name.clone(),
            feature_label(f.verdict, f.blocked_not_new),
            format!(
                "{} ({})",
                usd(f.cost_at_confidence()),
                quantile_label(f.thresholds.confidence)
            ),
            worst(f),
            f.ratio_at_confidence().map_or("no revenue".into(), |x| {
                format!("{} ({})", pct(x), quantile_label(f.thresholds.confidence))
            }),
            level_counts(f),
        ]);
    }
    t
}

pub(crate) fn anchor(id: &str) -> String {
    let a: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("feature-{}", a.trim_matches('-'))
}

fn feature(r: &CheckReport, f: &FeatureReport) -> FeatureDoc {
    let conf = quantile_label(f.thresholds.confidence);
    FeatureDoc {
        anchor: anchor(&f.id),
        id: f.id.clone(),
        name: f.name.clone(),
        file: f.file.clone(),
        owner: f.owner.clone(),
        verdict: f.verdict,
        blocked_not_new: f.blocked_not_new,
        // as the terminal's feature line
        headline: if f.blocked_not_new {
            format!("{BLOCKED_NOT_NEW} (--fail-on new). {}", verdict_sentence(f))
        } else {
            verdict_sentence(f)
        },
        overridden: f.overridden_note(),
        decision: decision(f),
        figures: key_figures(f, &conf),
        sections: {
            let mut v = vec![unit_economics(f), month(f, &conf)];
            v.extend(observed(f, &conf));
            v.extend([tiers(f, &conf), scenarios(f, &conf)]);
            v.extend(super::sensitivity::section(f, &conf));
            v.extend([
                limits(f),
                value(f, &conf),
                assumptions(f),
                findings(f),
                sign_off(r, f, &conf),
            ]);
            v
        },
    }
}

/// `check --observed`: the spec's quantities against the usage logs, and
/// the month with the observed figures beside the spec's.
fn observed(f: &FeatureReport, conf: &str) -> Option<Section> {
    let o = f.observed.as_ref()?;
    let n = crate::spec::rewrite::number;
    let mut blocks = vec![Block::Para(text(format!(
        "{} calls from {} users over {} user-days in {} log file{}, against the spec's figures; \
         \"above\" means above beyond the sampling error (the lower end of the observed figure's one-sided 95% interval is above the spec's).",
        fmt::count(o.records as f64),
        fmt::count(o.users as f64),
        fmt::count(o.user_days as f64),
        o.files.len(),
        if o.files.len() == 1 { "" } else { "s" }
    )))];
    let mut t = Table::figures(&[
        "quantity",
        "observed p95",
        "spec p95",
        "observed mean",
        "spec mean",
        "observations",
        "",
    ]);
    for d in &o.drift {
        t.rows.push(vec![
            ticks(&format!("`{}`", d.path)),
            text(n(d.observed_p95)),
            text(n(d.spec_p95)),
            text(n(d.observed_mean)),
            text(n(d.spec_mean)),
            text(format!("{} {}", fmt::count(d.n as f64), d.unit)),
            text(if d.above { "above" } else { "" }),
        ]);
    }
    blocks.push(Block::Table(t));
    let mut m = Table::figures(&["month", "mean", conf]);
    m.rows.push(vec![
        text("as the spec models it"),
        text(fmt::usd(o.spec_month.mean_usd)),
        text(fmt::usd(o.spec_month.at_confidence_usd)),
    ]);
    match &o.observed_month {
        Some(om) => m.rows.push(vec![
            text("with the observed figures"),
            text(fmt::usd(om.mean_usd)),
            text(fmt::usd(om.at_confidence_usd)),
        ]),
        None => m
            .rows
            .push(vec![text("with the observed figures"), text("not simulated"), text("")]),
    }
    blocks.push(Block::Table(m));
    let mut notes: Vec<Rich> = Vec::new();
    if !o.replaced.is_empty() {
        notes.push(ticks(&format!(
            "The observed month takes from the logs: {}.",
            o.replaced
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for (p, why) in &o.unmeasured {
        notes.push(ticks(&format!(
            "`{p}` is not measured by the logs ({why}); the spec's figure is kept."
        )));
    }
    for w in &o.warnings {
        notes.push(text(w.clone()));
    }
    if !notes.is_empty() {
        blocks.push(Block::Bullets(notes));
    }
    Some(Section {
        title: "Observed usage".into(),
        blocks,
        fold: false,
    })
}

fn drift_words(d: f64) -> String {
    if d == 0.0 {
        "exactly as approved, not a cent worse".to_string()
    } else {
        format!("within {} of what was approved", fmt::drift(d))
    }
}

/// Split the backticked words of every text run into code.
fn expand(r: Rich) -> Rich {
    r.into_iter()
        .flat_map(|i| match i {
            Inline::Text(s) => ticks(&s),
            other => vec![other],
        })
        .collect()
}

fn decision(f: &FeatureReport) -> Rich {
    expand(decision_words(f))
}

fn decision_words(f: &FeatureReport) -> Rich {
    let deny = f.findings.iter().filter(|x| x.level == Level::Deny).count();
    let open_approvals = f.findings.iter().filter(|x| x.is_open_approval()).count();
    match f.verdict {
        Verdict::Blocked => {
            let mut v = vec![
                Inline::Strong("No decision can be taken yet.".into()),
                Inline::Text(format!(
                    " The policy blocks this feature until the team fixes the {} below; an approval cannot override a block.",
                    plural(deny, "`deny` finding", "`deny` findings")
                )),
            ];
            if open_approvals > 0 {
                v.push(Inline::Text(
                    " Once fixed, it will still need an executive's approval for its cost against revenue.".into(),
                ));
            }
            v
        }
        Verdict::NeedsApproval => vec![
            Inline::Strong("Your decision:".into()),
            Inline::Text(
                " approve launching it with these economics, until a date you choose, or send it back to be made cheaper. An approval is recorded with ".into(),
            ),
            Inline::Code("costgate approve".into()),
            Inline::Text(format!(
                " and lets the feature through only while its figures stay {}.",
                drift_words(f.approval.max_drift)
            )),
        ],
        Verdict::Pass => match f.approval.record.as_ref().filter(|_| {
            f.findings.iter().any(|x| x.is_approved())
        }) {
            Some(rec) => vec![
                Inline::Strong("No decision needed:".into()),
                Inline::Text(format!(
                    " it passes on the approval recorded by {} on {}, valid until {}.",
                    who(&rec.by, rec.role.as_deref()),
                    rec.approved_on,
                    rec.expires
                )),
            ],
            None => vec![
                Inline::Strong("No decision needed:".into()),
                Inline::Text(" the feature is within policy.".into()),
            ],
        },
    }
}

fn who(by: &str, role: Option<&str>) -> String {
    match role {
        Some(r) if !r.is_empty() => format!("{by} ({r})"),
        _ => by.to_string(),
    }
}

fn key_figures(f: &FeatureReport, conf: &str) -> Vec<KeyFigure> {
    let th = &f.thresholds;
    let over = |v: f64, limit: f64| if v > limit { Tone::Bad } else { Tone::Good };
    let c = f.cost_at_confidence();
    let mut v = vec![KeyFigure {
        label: format!("Monthly cost, {conf}"),
        value: usd(c),
        note: format!("policy limit {}", usd(th.p95_monthly_usd)),
        tone: over(c, th.p95_monthly_usd),
    }];
    v.push(match f.worst_case.monthly_usd {
        Some(w) => KeyFigure {
            label: "Worst-case month".into(),
            value: usd(w),
            note: format!("policy limit {}", usd(th.worst_case_monthly_usd)),
            tone: over(w, th.worst_case_monthly_usd),
        },
        None => KeyFigure {
            label: "Worst-case month".into(),
            value: "unbounded".into(),
            note: "nothing caps it".into(),
            tone: Tone::Bad,
        },
    });
    let ratio_note = format!(
        "approval above {}, blocked above {}",
        pct(th.approval_cost_revenue_ratio),
        pct(th.max_cost_revenue_ratio)
    );
    v.push(match f.ratio_at_confidence() {
        Some(x) => KeyFigure {
            label: format!("Cost / revenue, {conf}"),
            value: pct(x),
            note: ratio_note,
            tone: if x > th.max_cost_revenue_ratio {
                Tone::Bad
            } else if x > th.approval_cost_revenue_ratio {
                Tone::Warn
            } else {
                Tone::Good
            },
        },
        None => KeyFigure {
            label: format!("Cost / revenue, {conf}"),
            value: "no revenue".into(),
            note: ratio_note,
            tone: Tone::Warn,
        },
    });
    let margin = f
        .simulation
        .as_ref()
        .and_then(|s| s.margin.p50)
        .unwrap_or(f.typical.margin);
    v.push(KeyFigure {
        label: "Margin, median month".into(),
        value: usd(margin),
        note: "revenue less AI cost".into(),
        tone: if margin < 0.0 { Tone::Bad } else { Tone::Neutral },
    });
    if let Some(val) = &f.value
        && let (Some(c), Some(unit)) = (val.cost_per_unit_usd, &val.unit)
    {
        v.push(KeyFigure {
            label: format!("Cost per {unit}"),
            value: usd(c),
            note: val
                .value_cost_ratio
                .map_or(format!("a {} feature", val.kind.as_str()), |r| {
                    format!("value / cost {r:.1}x")
                }),
            tone: Tone::Neutral,
        });
    }
    v
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or("—".into(), f)
}

fn unit_economics(f: &FeatureReport) -> Section {
    let mut t = Table::figures(&[
        "tier",
        "customers",
        "model",
        "per call",
        "per call, worst",
        "per interaction",
        "per interaction, worst",
        "worst-case month",
    ]);
    t.align[2] = Align::Left;
    for (i, u) in f.unit_costs.iter().enumerate() {
        t.row(vec![
            u.tier.clone(),
            f.typical.tiers.get(i).map_or("—".into(), |x| fmt::count(x.users)),
            u.model.clone(),
            usd(u.typical_call_usd),
            opt(u.worst_call_usd, usd),
            usd(u.typical_interaction_usd),
            opt(u.worst_interaction_usd, usd),
            f.worst_case
                .tiers
                .get(i)
                .map_or("—".into(), |w| w.monthly_usd.map_or("unbounded".into(), usd)),
        ]);
    }
    let mut notes: Vec<Rich> = f
        .worst_case
        .tiers
        .iter()
        .map(|w| ticks(&format!("Worst case of `{}`: {}.", w.tier, w.reason)))
        .collect();
    for u in &f.unit_costs {
        if let Some(why) = &u.unbounded_because {
            notes.push(ticks(&format!("One interaction of `{}` is unbounded: {why}.", u.tier)));
        }
    }
    if let Some(b) = &f.worst_case.bounded_by_breaker {
        notes.push(ticks(&format!("The whole month is bounded by the `{b}` breaker.")));
    }
    if f.worst_case.price_multiplier > 1.0 {
        notes.push(ticks(&format!(
            "The worst case prices every token {:.2}x, the price increases the scenarios allow.",
            f.worst_case.price_multiplier
        )));
    }
    Section {
        title: "Unit economics".into(),
        blocks: vec![
            Block::Para(text(
                "Typical: at the median tokens and calls, with the prompt-cache discount. Worst: at the spec's token and call limits, no cache discount, as a gateway would reserve it. Customers: the typical month's users.",
            )),
            Block::Table(t),
            Block::Bullets(notes),
        ],
        fold: false,
    }
}

/// A figure's p50 and its bad side at the policy's confidence, labelled.
fn summary_cells(s: Option<&Summary>, f: fn(f64) -> String) -> [String; 2] {
    match s {
        Some(s) => [
            opt(s.p50, f),
            s.at_confidence.map_or("—".into(), |v| {
                format!("{} ({})", f(v), quantile_label(s.at_quantile))
            }),
        ],
        None => ["—".into(), "—".into()],
    }
}

/// Equal-width bins of `values` over `0..x_max`, as shares of `n`.
fn histogram(values: &[f64], x_max: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let n = values.len().max(1) as f64;
    for &v in values {
        if !v.is_finite() || v < 0.0 {
            continue;
        }
        let i = ((v / x_max) * bins as f64).floor() as usize;
        counts[i.min(bins - 1)] += 1;
    }
    counts.into_iter().map(|c| c as f64 / n).collect()
}

/// The chart's right edge: the largest month, widened to take in markers
/// that are near it, but not ones so far out they would squash the bars.
fn x_range(max_sample: f64, markers: &[Marker]) -> f64 {
    let mut hi = max_sample;
    for m in markers {
        if m.value.is_finite() && m.value <= 2.5 * max_sample.max(f64::MIN_POSITIVE) {
            hi = hi.max(m.value);
        }
    }
    if hi <= 0.0 { 1.0 } else { hi * 1.06 }
}

fn chart(
    title: String,
    unit: Unit,
    values: &[f64],
    markers: Vec<Marker>,
    caption: String,
    legend: String,
) -> Option<Chart> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if finite.is_empty() || max.is_nan() {
        return None;
    }
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let x_max = x_range(max, &markers);
    // Enough bins that the months themselves span about 40 of them.
    let spread = (max - min).max(x_max / 160.0);
    let bins = ((40.0 * x_max / spread).ceil() as usize).clamp(40, 120);
    Some(Chart {
        title,
        unit,
        x_max,
        bins: histogram(&finite, x_max, bins),
        markers,
        caption,
        legend,
    })
}

fn marker(label: impl Into<String>, value: f64, unit: Unit, kind: MarkerKind) -> Marker {
    Marker {
        label: label.into(),
        value,
        shown: unit.fmt(value),
        kind,
    }
}

fn month(f: &FeatureReport, conf: &str) -> Section {
    let th = &f.thresholds;
    let sim = f.simulation.as_ref();
    let mut blocks = Vec::new();
    if let Some(s) = sim {
        let mut markers = Vec::new();
        if let Some(v) = s.cost.p50 {
            markers.push(marker("p50", v, Unit::Usd, MarkerKind::Stat));
        }
        if let Some(v) = s.cost.at_confidence {
            markers.push(marker(conf, v, Unit::Usd, MarkerKind::Stat));
        }
        markers.push(match f.worst_case.monthly_usd {
            Some(w) => marker("worst case", w, Unit::Usd, MarkerKind::Worst),
            None => Marker {
                label: "worst case".into(),
                value: f64::INFINITY,
                shown: "unbounded".into(),
                kind: MarkerKind::Worst,
            },
        });
        markers.push(marker(
            format!("{conf} limit"),
            th.p95_monthly_usd,
            Unit::Usd,
            MarkerKind::Policy,
        ));
        markers.push(marker(
            "worst-case limit",
            th.worst_case_monthly_usd,
            Unit::Usd,
            MarkerKind::Policy,
        ));
        let caption = format!(
            "Monthly AI cost over {} simulated months (seed {}).",
            fmt::count(s.trials as f64),
            s.seed,
        );
        let legend = format!(
            "Solid lines: the simulated p50 and {conf}, and the deterministic worst case. Dashed: the policy's limits."
        );
        if let Some(c) = chart(
            "How the monthly cost is spread".into(),
            Unit::Usd,
            s.cost_samples.values(),
            markers,
            caption,
            legend,
        ) {
            blocks.push(Block::Chart(c));
        }
    }
    let c = th.confidence;
    let bad = fmt::bad_month(c);
    let mut t = Table::figures(&["month", "p50", &bad, "worst case", fmt::CENTRAL_INPUTS]);
    type Row<'a> = (&'a str, String, Option<&'a Summary>, fn(f64) -> String, String);
    let rows: [Row; 4] = [
        ("cost", usd(f.typical.cost), sim.map(|s| &s.cost), usd, worst(f)),
        (
            "revenue",
            usd(f.typical.revenue),
            sim.map(|s| &s.revenue),
            usd,
            String::new(),
        ),
        (
            "cost / revenue",
            opt(f.typical.cost_revenue_ratio, pct),
            sim.map(|s| &s.cost_revenue_ratio),
            pct,
            String::new(),
        ),
        (
            "margin",
            usd(f.typical.margin),
            sim.map(|s| &s.margin),
            usd,
            String::new(),
        ),
    ];
    for (label, typical, s, fmt, w) in rows {
        let [p50, bad] = summary_cells(s, fmt);
        t.row(vec![label.into(), p50, bad, w, typical]);
    }
    blocks.push(Block::Table(t));
    let mut notes = vec![
        ticks(&format!(
            "Bad month: each figure on the side that hurts, at the policy's {} confidence: cost and cost / revenue at {conf}, revenue and margin at {}. {} is worse. The percentiles are of the simulated months, where adoption, activity, scenarios and prices vary together.",
            confidence_pct(c),
            quantile_label(low_quantile(c)),
            capitalise(&one_in(c))
        )),
        text(if f.central_below_p50() {
            "Central inputs: every input at its central value (its median, or the mode of a range) and no stress scenario. It sits below the simulated p50 because a month adds up many interactions, so it follows each input's mean, and a skewed input's mean is above its median."
        } else {
            "Central inputs: every input at its central value (its median, or the mode of a range) and no stress scenario."
        }),
    ];
    if let Some(s) = sim
        && let (Some(v), Some(se)) = (s.cost.at_confidence, s.cost.at_confidence_se)
    {
        notes.push(ticks(&format!(
            "The {conf} month, {}, is known to ±{} (Monte Carlo standard error over {}).",
            usd(v),
            usd(se),
            plural(s.trials, "month", "months")
        )));
    }
    blocks.push(Block::Bullets(notes));
    if let Some(s) = sim {
        let mut markers = Vec::new();
        if let Some(v) = s.cost_revenue_ratio.p50 {
            markers.push(marker("p50", v, Unit::Share, MarkerKind::Stat));
        }
        if let Some(v) = s.cost_revenue_ratio.at_confidence {
            markers.push(marker(conf, v, Unit::Share, MarkerKind::Stat));
        }
        markers.push(marker(
            "approval above",
            th.approval_cost_revenue_ratio,
            Unit::Share,
            MarkerKind::Policy,
        ));
        markers.push(marker(
            "blocked above",
            th.max_cost_revenue_ratio,
            Unit::Share,
            MarkerKind::Policy,
        ));
        let values = s.ratio_samples.values();
        if values.iter().any(|v| v.is_finite() && *v > 0.0) {
            let caption = "AI cost as a share of revenue, per simulated month.".to_string();
            let legend = format!(
                "Dashed: above {} the policy asks for an executive's approval; above {} it blocks.",
                pct(th.approval_cost_revenue_ratio),
                pct(th.max_cost_revenue_ratio)
            );
            if let Some(c) = chart(
                "Cost against revenue".into(),
                Unit::Share,
                values,
                markers,
                caption,
                legend,
            ) {
                blocks.push(Block::Chart(c));
            }
        }
    }
    Section {
        title: "The month".into(),
        blocks,
        fold: false,
    }
}

fn tiers(f: &FeatureReport, conf: &str) -> Section {
    let sim = f.simulation.as_ref();
    let mut t = Table::figures(&[
        "tier",
        "cost, central inputs",
        "revenue, central inputs",
        &format!("cost {conf}"),
        &format!("revenue {}", quantile_label(low_quantile(f.thresholds.confidence))),
        &format!("cost / revenue {conf}"),
        "margin p50",
    ]);
    let mut notes = Vec::new();
    for (i, x) in f.typical.tiers.iter().enumerate() {
        let ts = sim.and_then(|s| s.tiers.get(i));
        t.row(vec![
            x.tier.clone(),
            usd(x.cost),
            usd(x.revenue),
            ts.and_then(|s| s.cost.at_confidence).map_or("—".into(), usd),
            ts.and_then(|s| s.revenue.at_confidence).map_or("—".into(), usd),
            ts.map_or(opt(x.cost_revenue_ratio, pct), |s| {
                s.cost_revenue_ratio.at_confidence.map_or("no revenue".into(), pct)
            }),
            ts.and_then(|s| s.margin.p50).map_or(usd(x.margin), usd),
        ]);
        if x.overage_revenue > 0.0 {
            notes.push(ticks(&format!(
                "`{}` earns {} of its {} at central inputs from overage billing.",
                x.tier,
                usd(x.overage_revenue),
                usd(x.revenue)
            )));
        }
        if let Some(r) = x.top_up_revenue {
            let sim_part = ts.and_then(|s| s.top_ups.as_ref()).map_or(String::new(), |t| {
                format!(
                    "; simulated, {:.1} top-ups a month on average ({} a month)",
                    t.purchases_per_month,
                    usd(t.revenue_usd_per_month)
                )
            });
            notes.push(ticks(&format!(
                "`{}` sells {:.1} top-ups a month at central inputs, {} of its {}{sim_part}.",
                x.tier,
                x.top_ups_per_month.unwrap_or(0.0),
                usd(r),
                usd(x.revenue)
            )));
        }
    }
    let mut blocks = vec![Block::Table(t)];
    if !notes.is_empty() {
        blocks.push(Block::Bullets(notes));
    }
    Section {
        title: "Cost against revenue, per tier".into(),
        blocks,
        fold: false,
    }
}

fn scenarios(f: &FeatureReport, conf: &str) -> Section {
    let Some(s) = f.simulation.as_ref().filter(|s| !s.scenarios.is_empty()) else {
        return Section {
            title: "Stress scenarios".into(),
            blocks: vec![Block::Para(text(
                "The spec models no stress scenarios (a viral spike, a power-user discovery, a runaway client, a price increase): the figures assume none of them happens.",
            ))],
            fold: false,
        };
    };
    let mut t = Table::figures(&[
        "scenario",
        "chance a month",
        "happened in",
        &format!("cost {conf} without"),
        &format!("cost {conf} with"),
        "effect (± standard error)",
    ]);
    for (x, e) in s.scenarios.iter().zip(&f.scenario_effects) {
        let effect = match (e.difference_usd, e.difference_se) {
            (Some(d), Some(se)) if e.measurable => format!("{} ± {}", signed_usd(d), usd(se)),
            (Some(d), Some(se)) if !e.enough_months => {
                format!("too few months to tell ({} ± {})", signed_usd(d), usd(se))
            }
            (Some(d), Some(se)) => format!("no measurable effect ({} ± {})", signed_usd(d), usd(se)),
            _ => "too few months to tell".into(),
        };
        t.row(vec![
            x.scenario.clone(),
            pct(x.chance),
            format!("{} of months", pct(x.happened_share)),
            opt(x.cost_at_confidence_without, usd),
            opt(x.cost_at_confidence_with, usd),
            effect,
        ]);
    }
    Section {
        title: "Stress scenarios and their effect".into(),
        blocks: vec![
            Block::Para(ticks(&format!(
                "Each scenario happens at random in the simulated months with its chance. The effect is the {conf} cost of the months in which it happened minus that of the months in which it did not, with the standard error of that difference; it is measurable when it is more than {} standard errors from zero, and otherwise reads as no measurable effect at {}. With fewer than {} months beyond the percentile with or without the scenario, its standard error is not trustworthy and the effect reads as too few months to tell.",
                crate::report::MEASURABLE_SE,
                plural(s.trials, "month", "months"),
                crate::report::MIN_TAIL_MONTHS
            ))),
            Block::Table(t),
        ],
        fold: false,
    }
}

fn limits(f: &FeatureReport) -> Section {
    let Some(s) = &f.simulation else {
        return Section {
            title: "What the limits do to users".into(),
            blocks: vec![Block::Para(text("Not simulated (no trials were run)."))],
            fold: false,
        };
    };
    let mut t = Table::figures(&[
        "tier",
        "users who hit a limit",
        "days warned",
        "days degraded",
        "days blocked",
        "demand not served",
    ]);
    for x in &s.tiers {
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
    let mut notes = Vec::new();
    for x in &s.tiers {
        for a in &x.effects.tenant_alerts {
            notes.push(ticks(&format!(
                "`{}`: {:.1} tenants a month reach {} of their budget (in {} of months at least one does).",
                x.tier,
                a.tenants_per_month,
                pct(a.at),
                pct(a.trials_share)
            )));
        }
    }
    for x in &s.tiers {
        for a in &x.accounts_breaching_most {
            notes.push(ticks(&format!(
                "`{}` account `{}` reaches its {} budget in {} of months ({:.1} alerts a month).",
                x.tier,
                a.account,
                usd(a.monthly_usd),
                pct(a.breach_share),
                a.alerts_per_month
            )));
        }
    }
    match &s.breaker_levels {
        None => {
            for b in &s.breakers {
                notes.push(ticks(&format!(
                    "Breaker `{}` trips in {} of months, {:.1} days a month on average.",
                    b.breaker,
                    pct(b.trips_share),
                    b.mean_days_tripped
                )));
            }
        }
        Some(lv) => {
            for b in &lv.breakers {
                notes.push(ticks(&format!(
                    "The {} breaker `{}` (`{}`) trips in {} of months, {:.1} times a month on average (p95 {:.0}).",
                    b.level.as_str(),
                    b.breaker,
                    b.on_trip.as_str(),
                    pct(b.months_with_trip_share),
                    b.mean_trips_per_month,
                    b.p95_trips_per_month
                )));
            }
            notes.push(text(format!(
                "Expected on-call pages: {:.1} a month. Account-manager alerts: {:.1} a month ({:.1} of them tenant budget alerts).",
                lv.oncall_pages_per_month, lv.account_manager_alerts_per_month, lv.tenant_budget_alerts_per_month
            )));
        }
    }
    let mut blocks = vec![
        Block::Para(text(
            "The other side of the budget: how many users the caps reach, and how. Shares of users over the month; shares of active user-days warned (near the cap), degraded (a cheaper model, shorter answers, slow mode) or blocked.",
        )),
        Block::Table(t),
    ];
    if !notes.is_empty() {
        blocks.push(Block::Bullets(notes));
    }
    blocks.extend(limit_messages(f));
    Section {
        title: "What the limits do to users".into(),
        blocks,
        fold: false,
    }
}

/// The limits and what each tells the users it stops.
fn limit_messages(f: &FeatureReport) -> Vec<Block> {
    if f.limits.is_empty() {
        return vec![Block::Para(text(
            "The spec sets no per-user cap, tenant budget or breaker.",
        ))];
    }
    let mut t = Table::text(&["limit", "applies to", "at the limit", "what users are told"]);
    for l in &f.limits {
        t.rows.push(vec![
            text(&l.limit),
            ticks(&l.applies_to),
            ticks(&l.at_limit),
            match &l.message {
                Some(m) => text(format!("“{m}”")),
                None => vec![Inline::Strong("no message".into())],
            },
        ]);
    }
    vec![
        Block::Para(text(
            "The limits as designed, and the words users see when they meet one:",
        )),
        Block::Table(t),
    ]
}

fn value(f: &FeatureReport, conf: &str) -> Section {
    let mut t = Table::figures(&["measure", "value"]);
    if let Some(v) = &f.value {
        let unit = v.unit.clone().unwrap_or_else(|| "unit of value".into());
        t.row(vec!["kind of value".into(), v.kind.as_str().into()]);
        t.row(vec![
            "interactions a month, central inputs".into(),
            fmt::count(v.interactions_per_month),
        ]);
        if let Some(u) = v.units_per_month {
            t.row(vec![format!("{unit}s a month, central inputs"), fmt::count(u)]);
        }
        if let Some(c) = v.cost_per_unit_usd {
            t.row(vec![format!("cost per {unit}"), usd(c)]);
        }
        if let Some(x) = v.value_usd_per_month {
            t.row(vec!["value a month, central inputs".into(), usd(x)]);
        }
        if let Some(r) = v.value_cost_ratio {
            t.row(vec!["value / cost".into(), format!("{r:.1}x")]);
        }
    } else {
        t.row(vec!["value".into(), "not stated in the spec".into()]);
    }
    if let Some(b) = &f.baseline {
        t.row(vec![
            format!("baseline: {}", b.name),
            format!("{} a month", usd(b.monthly_usd)),
        ]);
        t.row(vec!["feature, mean month".into(), usd(b.feature_mean_monthly_usd)]);
        let d = b.difference_usd;
        t.row(vec![
            "feature against baseline".into(),
            if d > 0.0 {
                format!("{} more", usd(d))
            } else {
                format!("{} less", usd(-d))
            },
        ]);
    }
    if let Some(sh) = f.budget_share.share_at_confidence {
        t.row(vec![
            format!(
                "share of the {} infrastructure budget, {conf}",
                usd(f.budget_share.infra_monthly_budget_usd)
            ),
            format!(
                "{} (policy: at most {})",
                pct(sh),
                pct(f.thresholds.max_infra_budget_share)
            ),
        ]);
    }
    Section {
        title: "Value and baseline".into(),
        blocks: vec![Block::Table(t)],
        fold: false,
    }
}

fn origin(o: &Origin) -> String {
    match o {
        Origin::Spec { line, .. } => format!("spec, line {line}"),
        Origin::Measured { line, note, .. } => format!("measured: {note} (line {line})"),
        Origin::Default => "costgate default".into(),
        Origin::Catalog { entry, source } => format!("price catalog: {entry} ({source})"),
        Origin::Override { flag } => format!("overridden for this run: {flag}"),
    }
}

fn assumptions(f: &FeatureReport) -> Section {
    let mut t = Table::text(&["input", "value", "from"]);
    for a in &f.assumptions {
        t.row(vec![a.path.clone(), a.value.clone(), origin(&a.origin)]);
    }
    let mut p = Table::figures(&[
        "model",
        "priced as",
        "input $/M tokens",
        "cached input $/M",
        "output $/M tokens",
        "source",
    ]);
    p.align[1] = Align::Left;
    p.align[5] = Align::Left;
    for m in &f.models {
        let rate = |v: f64| {
            format!("{v:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        };
        p.row(vec![
            m.key.clone(),
            format!("{} ({})", m.id, m.provider),
            rate(m.input_usd_per_mtok),
            m.cached_input_usd_per_mtok.map_or("—".into(), rate),
            rate(m.output_usd_per_mtok),
            m.source.clone(),
        ]);
    }
    let th = &f.thresholds;
    let mut pol = Table::figures(&["policy threshold", "value"]);
    for (k, v) in [
        ("p95_monthly_usd", usd(th.p95_monthly_usd)),
        ("worst_case_monthly_usd", usd(th.worst_case_monthly_usd)),
        ("approval_cost_revenue_ratio", pct(th.approval_cost_revenue_ratio)),
        ("max_cost_revenue_ratio", pct(th.max_cost_revenue_ratio)),
        ("max_cost_per_call_usd", usd(th.max_cost_per_call_usd)),
        ("infra_monthly_budget_usd", usd(th.infra_monthly_budget_usd)),
        ("max_infra_budget_share", pct(th.max_infra_budget_share)),
        ("confidence", quantile_label(th.confidence)),
    ] {
        pol.row(vec![k.into(), v]);
    }
    let mut blocks = vec![
        Block::Para(text(
            "Every input the figures rest on, and where it came from: written in the spec (with its line), measured from logs, costgate's documented default, or the price catalog's entry.",
        )),
        Block::Table(t),
        Block::Para(ticks(&format!(
            "Prices: {} (checked {}).",
            f.pricing.name, f.pricing.checked
        ))),
        Block::Table(p),
        Block::Table(pol),
    ];
    if !f.worst_case.notes.is_empty() {
        blocks.push(Block::Bullets(
            f.worst_case.notes.iter().map(|n| ticks(&format!("{n}."))).collect(),
        ));
    }
    Section {
        title: "Assumptions and where they come from".into(),
        blocks,
        fold: true,
    }
}

pub(crate) fn finding_views(f: &FeatureReport) -> Vec<FindingView> {
    f.shown_findings()
        .map(|x| FindingView {
            level: x.level,
            rule: x.rule.code().to_string(),
            message: x.message.clone(),
            place: x.span.as_ref().map(|s| s.to_string()),
            remedy: x.remedy(),
            fix: x.fix_beyond_approval().map(str::to_string),
        })
        .collect()
}

fn findings(f: &FeatureReport) -> Section {
    let v = finding_views(f);
    let blocks = if v.is_empty() {
        vec![Block::Para(text("None: every rule of the policy passes."))]
    } else {
        vec![Block::Findings(v)]
    };
    Section {
        title: "Findings".into(),
        blocks,
        fold: false,
    }
}

/// Quote a command-line argument for a POSIX shell when it needs it.
fn shell_arg(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn sign_off(r: &CheckReport, f: &FeatureReport, conf: &str) -> Section {
    let a = &f.approval;
    let figures: Vec<(String, String, String)> = a
        .figures
        .iter()
        .map(|x| {
            let what = match x.name.as_deref() {
                Some("cost_revenue_ratio") => format!("cost / revenue at {conf}"),
                Some(n) => n.replace('_', " "),
                None => x.rule.clone(),
            };
            let threshold = match (&x.name, x.threshold) {
                (Some(n), Some(t)) => format!("approval above {}", fmt::figure(n, t)),
                _ => String::new(),
            };
            (what, x.shown(), threshold)
        })
        .collect();
    let mut cmd = format!("costgate approve {}", shell_arg(&f.file));
    if r.seed != crate::sim::DEFAULT_SEED {
        cmd.push_str(&format!(" --seed {}", r.seed));
    }
    if r.trials != crate::sim::DEFAULT_TRIALS {
        cmd.push_str(&format!(" --trials {}", r.trials));
    }
    cmd.push_str(" --by NAME --role ROLE --expires YYYY-MM-DD --reason 'WHY'");
    let needs = !a.figures.is_empty();
    let what_if = !f.overrides.is_empty();
    let ask = match f.verdict {
        _ if what_if => "Nothing to sign for this run: it overrides the spec with --set (a what-if). An approval binds the spec as written: change the spec, then approve it with `costgate approve`.".to_string(),
        Verdict::Blocked if needs => {
            "Nothing can be approved while the feature is blocked: an approval never covers a `deny` finding. The figures below are what an approval would bind once the block is fixed.".to_string()
        }
        Verdict::Blocked => "Nothing to sign: the feature is blocked, and needs no approval once fixed.".to_string(),
        _ if !needs => "No approval needed: the feature is within every approval threshold of the policy.".to_string(),
        _ => format!(
            "I approve launching {} with the figures below, fingerprint {}, until the expiry date. The approval lapses if a figure gets worse than approved by more than {}.",
            f.name,
            approval::short(&a.fingerprint),
            fmt::drift(a.max_drift)
        ),
    };
    let rec = a.record.as_ref();
    let status = rec.map(|rec| {
        let covers: Vec<&str> = f
            .findings
            .iter()
            .filter(|x| x.level == Level::Approve)
            .filter_map(|x| x.approval.as_ref().map(|s| s.note.as_str()))
            .collect();
        let head = if rec.matches {
            "On file, and this run's figures are exactly the ones approved."
        } else if rec.expired {
            "On file, but expired."
        } else if rec.edited {
            "On file, but edited by hand since it was recorded."
        } else {
            "On file, recorded for different figures (fingerprint "
        };
        let mut s = head.to_string();
        if !rec.matches && !rec.expired && !rec.edited {
            s.push_str(&format!("{}).", approval::short(&rec.fingerprint)));
        }
        for c in covers {
            s.push(' ');
            s.push_str(&capitalise(c));
            s.push('.');
        }
        s
    });
    let so = SignOff {
        ask,
        fingerprint: a.fingerprint.clone(),
        figures,
        by: rec.map(|x| x.by.clone()),
        role: rec.and_then(|x| x.role.clone()),
        date: rec.map(|x| x.approved_on.clone()),
        expires: rec.map(|x| x.expires.clone()),
        reason: rec.map(|x| x.reason.clone()),
        status,
        command: (needs && f.verdict != Verdict::Blocked && !what_if).then_some(cmd),
        file: a.file.clone(),
        form: rec.is_some() || (needs && f.verdict != Verdict::Blocked && !what_if),
    };
    Section {
        title: "Sign-off".into(),
        blocks: vec![Block::SignOff(so)],
        fold: false,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_shares_and_clamp_the_top() {
        let h = histogram(&[0.0, 1.0, 2.0, 3.0, 4.0], 4.0, 4);
        assert_eq!(h, vec![0.2, 0.2, 0.2, 0.4]);
    }

    #[test]
    fn far_markers_do_not_squash_the_chart() {
        let m = |v| marker("x", v, Unit::Usd, MarkerKind::Policy);
        assert!((x_range(100.0, &[m(200.0)]) - 212.0).abs() < 1e-9);
        assert!((x_range(100.0, &[m(1000.0)]) - 106.0).abs() < 1e-9);
    }

    #[test]
    fn anchors_and_shell_args_are_safe() {
        assert_eq!(anchor("Support <Assistant>"), "feature-support--assistant");
        assert_eq!(shell_arg("specs/a.yaml"), "specs/a.yaml");
        assert_eq!(shell_arg("it's"), r"'it'\''s'");
        assert_eq!(quantile_label(0.95), "p95");
        assert_eq!(quantile_label(0.975), "p97.5");
    }

    #[test]
    fn backticks_make_code() {
        assert_eq!(
            ticks("tier `free` has"),
            vec![
                Inline::Text("tier ".into()),
                Inline::Code("free".into()),
                Inline::Text(" has".into())
            ]
        );
        assert_eq!(ticks("odd ` tick"), text("odd ` tick"));
    }
}
