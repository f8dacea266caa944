//! The sensitivity section of the reports: each uncertain input at its low
//! and high end ([`crate::sim::sensitivity`]), as a sorted table (Markdown,
//! HTML), a tornado chart (HTML) and the five largest (the terminal).

use std::fmt::Write as _;

use super::doc::{Block, Section, Table, ticks as rich_ticks};
use crate::fmt::{quantile_label, signed_usd, usd};
use crate::outcome::FeatureReport;
use crate::sim::sensitivity::{End, InputEffect, Sensitivity};

/// The most bars a tornado chart draws (the table lists every input).
pub const TORNADO_BARS: usize = 12;
/// The inputs the terminal lists.
pub const TERMINAL_TOP: usize = 5;

/// A tornado chart: per input, the month's cost at confidence with the input
/// at its low and its high end, around the base run's.
#[derive(Clone, Debug, PartialEq)]
pub struct Tornado {
    /// Its title.
    pub title: String,
    /// The base run's figure.
    pub base: f64,
    /// The bars, largest swing first.
    pub bars: Vec<Bar>,
    /// What it shows.
    pub caption: String,
}

/// One bar of a tornado chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// The input.
    pub label: String,
    /// The figure with the input at its low end, and the change's standard error.
    pub low: (f64, Option<f64>),
    /// The figure with the input at its high end, and the change's standard error.
    pub high: (f64, Option<f64>),
    /// The input's low and high ends, formatted.
    pub ends: (String, String),
}

fn cost_cell(e: &End) -> String {
    match (e.cost_usd, e.cost_change_usd) {
        (Some(c), Some(d)) => match e.cost_change_se_usd {
            Some(se) => format!("{} ({} ± {})", usd(c), signed_usd(d), usd(se)),
            None => format!("{} ({})", usd(c), signed_usd(d)),
        },
        (Some(c), None) => usd(c),
        _ => "n/a".into(),
    }
}

fn ratio_cell(e: &End) -> String {
    match (e.cost_revenue_ratio, e.ratio_change) {
        (Some(r), Some(d)) => match e.ratio_change_se {
            Some(se) => format!("{} ({:+.1} ± {:.1} points)", crate::fmt::pct(r), d * 100.0, se * 100.0),
            None => format!("{} ({:+.1} points)", crate::fmt::pct(r), d * 100.0),
        },
        (Some(r), None) => crate::fmt::pct(r),
        _ => "n/a".into(),
    }
}

/// The rule for an input's ends, in words.
fn ends_rule() -> String {
    format!(
        "A quantity's ends are its {} and {} percentiles (the value in every draw); a scenario's chance goes from 0 (never) to 1 (every month); a model's prices are multiplied by {} and {}.",
        quantile_label(crate::sim::sensitivity::END_QUANTILE),
        quantile_label(1.0 - crate::sim::sensitivity::END_QUANTILE),
        crate::sim::sensitivity::PRICE_ENDS.0,
        crate::sim::sensitivity::PRICE_ENDS.1
    )
}

/// The section, when the report has a sensitivity analysis.
pub(crate) fn section(f: &FeatureReport, conf: &str) -> Option<Section> {
    let Some(s) = f.sensitivity.as_ref() else {
        let why = f.sensitivity_not_computed.as_ref()?;
        return Some(Section {
            title: "Sensitivity: what moves the month".into(),
            blocks: vec![Block::Para(rich_ticks(&format!("Not computed: {why}.")))],
            fold: false,
        });
    };
    let mut blocks = vec![Block::Para(rich_ticks(&format!(
        "Each uncertain input at its low and at its high end, every other input at its distribution, the {} simulated months of the base run again (common random numbers: the same seed and trials, so the differences are not noise). {} Each change is from the base run's {} month of {}, with its standard error. Largest cost swing first.",
        crate::fmt::count(s.trials as f64),
        ends_rule(),
        conf,
        s.base_cost_usd.map_or("n/a".into(), usd),
    )))];
    if s.inputs.is_empty() {
        blocks.push(Block::Para(rich_ticks(
            "Every input of this spec is a fixed number: there is nothing to rank.",
        )));
    } else {
        let mut t = Table::figures(&[
            "input",
            "low end",
            "high end",
            &format!("cost {conf} at low"),
            &format!("cost {conf} at high"),
            &format!("cost/revenue {conf} at low"),
            &format!("cost/revenue {conf} at high"),
        ]);
        for i in &s.inputs {
            t.push(vec![
                i.input.clone(),
                i.shown(i.low.value),
                i.shown(i.high.value),
                cost_cell(&i.low),
                cost_cell(&i.high),
                ratio_cell(&i.low),
                ratio_cell(&i.high),
            ]);
        }
        if let Some(tornado) = tornado(s, conf) {
            blocks.push(Block::Tornado(tornado));
        }
        blocks.push(Block::Table(t));
    }
    Some(Section {
        title: "Sensitivity: what moves the month".into(),
        blocks,
        fold: false,
    })
}

fn tornado(s: &Sensitivity, conf: &str) -> Option<Tornado> {
    let base = s.base_cost_usd?;
    let bars: Vec<Bar> = s
        .inputs
        .iter()
        .filter_map(|i: &InputEffect| {
            Some(Bar {
                label: i.input.clone(),
                low: (i.low.cost_usd?, i.low.cost_change_se_usd),
                high: (i.high.cost_usd?, i.high.cost_change_se_usd),
                ends: (i.shown(i.low.value), i.shown(i.high.value)),
            })
        })
        .take(TORNADO_BARS)
        .collect();
    (!bars.is_empty()).then(|| Tornado {
        title: format!("Cost {conf} with each input at its low and high end"),
        base,
        caption: format!(
            "Each bar runs from the {conf} month with the input at its low end (light) to that at its high end (dark), around the base run's {} (the vertical line); the whiskers are ±1 standard error of each change.",
            usd(base)
        ),
        bars,
    })
}

/// The terminal's lines: the inputs that move the cost most.
pub(crate) fn terminal(s: &Sensitivity, style: super::table::Style) -> String {
    let mut o = String::new();
    let conf = quantile_label(s.confidence);
    let top = s.top_for_cost(TERMINAL_TOP);
    if top.is_empty() {
        let _ = writeln!(o, "  sensitivity: no uncertain input moves the {conf} month");
        return o;
    }
    let _ = writeln!(
        o,
        "  sensitivity of the {conf} month ({} of {}; each at its low -> high end):",
        top.len(),
        crate::fmt::plural(s.inputs.len(), "input", "inputs")
    );
    let mut t = super::table::Table::new(&["input", "low -> high", "cost at low", "cost at high"]);
    for i in top {
        let change = |e: &End| match (e.cost_change_usd, e.cost_change_se_usd) {
            (Some(d), Some(se)) => format!("{} ± {}", signed_usd(d), usd(se)),
            (Some(d), None) => signed_usd(d),
            _ => "n/a".into(),
        };
        t.row(vec![
            i.input.clone(),
            format!("{} -> {}", i.shown(i.low.value), i.shown(i.high.value)),
            change(&i.low),
            change(&i.high),
        ]);
    }
    o.push_str(&t.render("    ", style));
    o
}

/// The tornado chart as inline SVG (escaped text only).
pub(crate) fn svg(t: &Tornado) -> String {
    use super::html::escape;
    const W: f64 = 760.0;
    const LEFT: f64 = 250.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 16.0;
    const ROW: f64 = 24.0;
    const BOTTOM: f64 = 30.0;
    let h = TOP + ROW * t.bars.len() as f64 + BOTTOM;
    let lo = t
        .bars
        .iter()
        .flat_map(|b| [b.low.0 - b.low.1.unwrap_or(0.0), b.high.0 - b.high.1.unwrap_or(0.0)])
        .fold(t.base, f64::min)
        .max(0.0);
    let hi = t
        .bars
        .iter()
        .flat_map(|b| [b.low.0 + b.low.1.unwrap_or(0.0), b.high.0 + b.high.1.unwrap_or(0.0)])
        .fold(t.base, f64::max);
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6).max(f64::MIN_POSITIVE);
    let (x_min, x_max) = ((lo - pad).max(0.0), hi + pad);
    let span = x_max - x_min;
    let pw = W - LEFT - RIGHT;
    let x = |v: f64| LEFT + ((v - x_min) / span).clamp(0.0, 1.0) * pw;
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure class=\"chart\"><figcaption class=\"chart-title\">{}</figcaption>\
         <svg viewBox=\"0 0 {W} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.title),
        escape(&t.caption)
    );
    for (k, b) in t.bars.iter().enumerate() {
        let y = TOP + ROW * k as f64;
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{} ({} → {})</text>",
            LEFT - 8.0,
            y + ROW * 0.6,
            escape(&b.label),
            escape(&b.ends.0),
            escape(&b.ends.1)
        );
        for ((v, se), fill) in [(b.low, "#93c5fd"), (b.high, "#1d4ed8")] {
            let (a, c) = (x(t.base.min(v)), x(t.base.max(v)));
            let _ = write!(
                o,
                "<rect x=\"{a:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{fill}\"/>",
                y + 4.0,
                (c - a).max(0.5),
                ROW - 8.0
            );
            if let Some(se) = se.filter(|s| *s > 0.0) {
                let ym = y + ROW / 2.0;
                let _ = write!(
                    o,
                    "<line x1=\"{:.2}\" x2=\"{:.2}\" y1=\"{ym:.2}\" y2=\"{ym:.2}\" stroke=\"#0f172a\" stroke-width=\"1\"/>",
                    x(v - se),
                    x(v + se)
                );
            }
        }
    }
    let base_x = x(t.base);
    let bottom = TOP + ROW * t.bars.len() as f64;
    let _ = write!(
        o,
        "<line x1=\"{base_x:.1}\" x2=\"{base_x:.1}\" y1=\"{TOP:.1}\" y2=\"{bottom:.1}\" stroke=\"#0f172a\" stroke-width=\"1.6\"/>\
         <line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{bottom:.1}\" y2=\"{bottom:.1}\" class=\"axis-line\"/>",
        W - RIGHT
    );
    for v in axis(x_min, x_max, 5) {
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            x(v),
            bottom + 16.0,
            escape(&usd(v))
        );
    }
    o.push_str("</svg>");
    let _ = writeln!(o, "<p class=\"caption\">{}</p></figure>", escape(&t.caption));
    o
}

/// Round numbers for an axis from `lo` to `hi`: about `n` of them.
fn axis(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return vec![lo];
    }
    let raw = span / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|x| *x <= hi * (1.0 + 1e-9))
        .collect()
}
