//! The HTML page of a tuning (`costgate tune --html FILE`): the
//! recommendation and the check verdict of the spec with it, each varied
//! limit's frontier as a table and an inline SVG chart (the month at
//! confidence by value, the policy's limit dashed, the spec's value and the
//! recommended point marked), what was not tuned and why, and, when nothing
//! in the searched range passes, the reason.
//!
//! One self-contained file in the look of the HTML report
//! ([`crate::report::html`]): inline CSS, no script, no external request (the same
//! Content-Security-Policy). Every string from the spec (the feature id,
//! tier names, the reasons that quote them) is made inert
//! ([`crate::untrusted::clean`]) and escaped ([`crate::report::html::escape`]): it
//! reads as text, never as markup or a terminal escape.

use std::fmt::Write as _;

use super::{Frontier, Objective, Tuning};
use crate::fmt::{count, pct, quantile_label, usd};
use crate::policy::Verdict;
use crate::report::html::{CSS, escape, ticks};

/// What a search optimised, in words (the terminal and the page say the same).
pub fn objective_words(o: Objective) -> &'static str {
    match o {
        Objective::Paying => "fewest paying users blocked or degraded",
        Objective::Cost => "cheapest passing caps",
        Objective::Users => "fewest users hitting a cap under the target",
    }
}

/// Text from input, inert and escaped for HTML.
fn esc(s: &str) -> String {
    escape(&crate::untrusted::clean(s))
}

/// A limit's value as written: tokens as a count, budgets and breakers in USD.
fn value(f: &Frontier, v: f64) -> String {
    if f.unit == "usd" { usd(v) } else { count(v) }
}

fn ratio(v: f64) -> String {
    if v.is_finite() { pct(v) } else { "-".into() }
}

// Chart geometry (SVG user units), as the report's charts.
const W: f64 = 760.0;
const H: f64 = 270.0;
const LEFT: f64 = 66.0;
const RIGHT: f64 = 18.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 36.0;

/// Round values for a log axis from `lo` to `hi`: 1, 2 and 5 of each
/// decade (only the 1s when that is too many; the ends when none falls
/// inside).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return vec![lo];
    }
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
    let all: Vec<f64> = decades
        .clone()
        .flat_map(|d| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(d)))
        .filter(within)
        .collect();
    if all.len() <= 8 && all.len() >= 2 {
        return all;
    }
    let ones: Vec<f64> = decades.map(|d| 10f64.powi(d)).filter(within).collect();
    if ones.len() >= 2 { ones } else { vec![lo, hi] }
}

/// One frontier's chart: the month at confidence by the limit's value (log
/// scale), the policy's limit dashed, the spec's value as a vertical line,
/// the recommendation as a large dot with its label.
fn chart(f: &Frontier, q: &str, p95_limit: f64) -> String {
    let pts: Vec<(f64, f64)> = f
        .points
        .iter()
        .filter(|p| p.cap > 0.0 && p.cost_at_confidence.is_finite())
        .map(|p| (p.cap, p.cost_at_confidence))
        .collect();
    let title = format!("{} ({}): the month at {q} by {}", f.path, f.tier, f.kind);
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure class=\"chart frontier\"><figcaption class=\"chart-title\">{}</figcaption>",
        esc(&title)
    );
    if pts.is_empty() {
        o.push_str("<p class=\"caption\">No chart: no value of this limit has a finite month to draw.</p></figure>\n");
        return o;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let (lo, hi) = (pts[0].0, pts[pts.len() - 1].0);
    let span = (hi.ln() - lo.ln()).max(1e-12);
    let x = |v: f64| {
        if hi > lo {
            LEFT + ((v.ln() - lo.ln()) / span).clamp(0.0, 1.0) * pw
        } else {
            LEFT + pw / 2.0
        }
    };
    let data_max = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    // The policy's line is drawn when it is within twice the highest month;
    // beyond that it would flatten the curve, and is named at the top.
    let limit_on = p95_limit.is_finite() && p95_limit > 0.0 && p95_limit <= 2.0 * data_max.max(f64::MIN_POSITIVE);
    // headroom over the highest month for the recommendation's label
    let want = if limit_on {
        (data_max * 1.15).max(p95_limit)
    } else {
        data_max * 1.15
    };
    let want = if want > 0.0 { want } else { 1.0 };
    let top = ticks(want, 4)
        .last()
        .copied()
        .filter(|t| *t >= want)
        .unwrap_or(want * 1.05);
    let y = |v: f64| TOP + ph * (1.0 - (v / top).clamp(0.0, 1.0));
    let _ = write!(
        o,
        "<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(&title)
    );
    // y grid and labels: the month, USD
    for g in ticks(top, 4) {
        let gy = y(g);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            gy + 4.0,
            escape(&usd(g))
        );
    }
    // x axis, log scale
    let base = TOP + ph;
    let _ = write!(
        o,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" class=\"axis-line\"/>",
        W - RIGHT
    );
    for t in log_ticks(lo, hi) {
        let tx = x(t);
        let _ = write!(
            o,
            "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\" class=\"axis-line\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            base + 4.0,
            base + 17.0,
            escape(&value(f, t))
        );
    }
    let _ = write!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{} ({}, log scale)</text>",
        W - RIGHT,
        base + 31.0,
        escape(f.kind),
        if f.unit == "usd" { "USD" } else { "tokens" }
    );
    // the policy's limit
    if limit_on {
        let ly = y(p95_limit);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" class=\"policy-line\" stroke=\"#b45309\" stroke-width=\"1.6\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"mlabel\" fill=\"#b45309\" text-anchor=\"end\">policy: month at {q} at most {}</text>",
            W - RIGHT,
            W - RIGHT,
            ly - 5.0,
            escape(&usd(p95_limit))
        );
    } else if p95_limit.is_finite() {
        let _ = write!(
            o,
            "<text x=\"{LEFT}\" y=\"{:.1}\" class=\"mlabel\" fill=\"#b45309\" text-anchor=\"start\">policy: month at {q} at most {} (above the chart) ↑</text>",
            TOP - 8.0,
            escape(&usd(p95_limit))
        );
    }
    // the spec's value
    if f.current > 0.0 && f.current >= lo && f.current <= hi {
        let cx = x(f.current);
        let _ = write!(
            o,
            "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{TOP:.1}\" y2=\"{base:.1}\" stroke=\"#64748b\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" class=\"mlabel\" fill=\"#475569\" text-anchor=\"middle\">spec {}</text>",
            TOP - 22.0,
            escape(&value(f, f.current))
        );
    }
    // the frontier
    let line: Vec<String> = pts.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect();
    let _ = write!(
        o,
        "<polyline class=\"frontier-line\" fill=\"none\" stroke=\"#1d4ed8\" stroke-width=\"2\" points=\"{}\"/>",
        line.join(" ")
    );
    for (a, b) in &pts {
        let _ = write!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1d4ed8\"><title>{}: {}</title></circle>",
            x(*a),
            y(*b),
            escape(&value(f, *a)),
            escape(&usd(*b))
        );
    }
    // the recommendation
    let c = &f.points[f.chosen];
    if c.cap > 0.0 && c.cost_at_confidence.is_finite() {
        let (cx, cy) = (x(c.cap), y(c.cost_at_confidence));
        let label = format!(
            "recommended {}: {}, {} of days affected",
            value(f, c.cap),
            usd(c.cost_at_confidence),
            pct(c.user_days_affected_share)
        );
        let w = label.chars().count() as f64 * 6.1;
        let (lx, anchor) = if cx + 10.0 + w > W - RIGHT {
            (cx - 10.0, "end")
        } else {
            (cx + 10.0, "start")
        };
        // on the side away from the curve (the month grows with the limit:
        // the curve runs down to the left of the dot, up to its right)
        let (above, below) = (cy - 10.0, cy + 18.0);
        let (fits_above, fits_below) = (above >= TOP - 4.0, below <= TOP + ph - 4.0);
        let ly = match anchor {
            "start" if fits_below => below,
            _ if fits_above => above,
            _ => below,
        };
        let _ = write!(
            o,
            "<circle class=\"chosen\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"6\" fill=\"#15803d\" stroke=\"#fff\" stroke-width=\"1.5\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" class=\"mlabel\" fill=\"#15803d\" text-anchor=\"{anchor}\">{}</text>",
            escape(&label)
        );
    }
    o.push_str("</svg>");
    let _ = writeln!(
        o,
        "<p class=\"caption\">Each dot is one value of <code>{}</code> with every other limit at the spec's value, \
         simulated on the same months (common random numbers); the green dot is the recommendation, the dotted \
         line the spec's value, the dashed line the policy's limit on the month at {q}.</p></figure>",
        esc(&f.path)
    );
    o
}

/// One frontier's table: every value searched, the recommended row and the
/// spec's row marked.
fn table(f: &Frontier, q: &str) -> String {
    let mut o = String::from("<div class=\"table-wrap\"><table class=\"data nowrap frontier\"><thead><tr>");
    let head = [
        if f.unit == "usd" { "limit" } else { "cap" }.to_string(),
        format!("month at {q}"),
        format!("cost/revenue at {q}"),
        "users who hit the cap".into(),
        if f.paying {
            "paying user-days blocked or degraded".into()
        } else {
            "user-days blocked or degraded".into()
        },
        "unserved demand".into(),
        String::new(),
    ];
    for (i, h) in head.iter().enumerate() {
        let class = if (1..6).contains(&i) || i == 0 {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(o, "<th{class}>{}</th>", escape(h));
    }
    o.push_str("</tr></thead><tbody>");
    for (i, p) in f.points.iter().enumerate() {
        let chosen = i == f.chosen;
        let spec = p.cap == f.current;
        let mut marks = Vec::new();
        if chosen {
            marks.push("<span class=\"tag rec\">recommended</span>");
        }
        if spec {
            marks.push("<span class=\"tag spec\">spec</span>");
        }
        let _ = write!(
            o,
            "<tr{}><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            if chosen { " class=\"chosen\"" } else { "" },
            escape(&value(f, p.cap)),
            escape(&usd(p.cost_at_confidence)),
            escape(&ratio(p.ratio_at_confidence)),
            escape(&pct(p.users_hit_share)),
            escape(&pct(p.user_days_affected_share)),
            escape(&pct(p.unserved_share)),
            marks.join(" ")
        );
    }
    o.push_str("</tbody></table></div>\n");
    o
}

const EXTRA_CSS: &str = r#"
table.frontier tr.chosen td { background: var(--pass-bg); font-weight: 600; }
.tag { display: inline-block; font-size: 11px; font-weight: 700; padding: 0 6px; border-radius: 3px; color: #fff; }
.tag.rec { background: var(--pass); } .tag.spec { background: var(--faint); }
td.ok { color: var(--pass); font-weight: 600; } td.fail { color: var(--blocked); font-weight: 600; }
"#;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::NeedsApproval => "approve",
        Verdict::Blocked => "blocked",
    }
}

/// The page of tuning `t` of the spec `file`: `verdict` is `costgate
/// check`'s of the spec with the recommended values, `p95_limit` the
/// policy's limit on the month at confidence.
pub fn html(t: &Tuning, verdict: Verdict, p95_limit: f64, file: &str) -> String {
    let q = quantile_label(t.confidence);
    let mut o = String::new();
    let title = format!("{}: tuning limits", t.feature);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"generator\" content=\"costgate {}\">\n<link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>{CSS}{EXTRA_CSS}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&title)
    );
    let _ = writeln!(
        o,
        "<header class=\"doc\"><p class=\"eyebrow\">costgate · tuning limits</p><h1>{}</h1><p class=\"tally\">{} · \
         objective: {} · {} trials per candidate (seed {}, common random numbers)</p></header>",
        esc(&title),
        esc(file),
        objective_words(t.objective),
        escape(&count(t.trials as f64)),
        t.seed
    );
    // The answer first.
    let label = crate::report::doc::verdict_label(verdict);
    if t.passes {
        let _ = writeln!(
            o,
            "<div class=\"verdict {}\"><span class=\"badge\">{label}</span><h2>Recommended limits</h2>\
             <p class=\"headline\">The most generous limits searched that pass the policy's thresholds limits can move.</p>\
             <p class=\"decision\"><code>costgate check</code> of the spec with them: <strong>{label}</strong>.</p></div>",
            verdict_class(verdict)
        );
    } else {
        let _ = writeln!(
            o,
            "<div class=\"verdict blocked\"><span class=\"badge\">NOTHING PASSES</span><h2>Nothing in the searched range passes</h2>\
             <p class=\"headline\">{}</p>\
             <p class=\"decision\"><code>costgate check</code> of the spec where the search ended: <strong>{label}</strong>.</p></div>",
            esc(t
                .why_not
                .as_deref()
                .unwrap_or("no combination of the searched limits passes every threshold at once"))
        );
    }
    if let Some(s) = &t.stopped {
        let _ = writeln!(o, "<p class=\"caption\">Note: {}</p>", esc(s));
    }
    if t.coupled {
        o.push_str(
            "<p class=\"caption\">The limits are coupled (a breaker, two limits of one tier, or a shared breaker or \
             budget): each step of the search was simulated as a whole.</p>\n",
        );
    }
    // The recommendation and the thresholds there.
    let mut n = 0;
    let mut section = |o: &mut String, title: &str| {
        n += 1;
        let _ = writeln!(o, "<section><h3><span class=\"n\">{n}</span>{}</h3>", esc(title));
    };
    section(
        &mut o,
        if t.passes {
            "The recommendation"
        } else {
            "Where the search ended"
        },
    );
    if t.frontiers.is_empty() {
        o.push_str("<p>No limit was varied.</p>\n");
    } else {
        o.push_str(
            "<div class=\"table-wrap\"><table class=\"data nowrap compact\"><thead><tr><th>limit</th><th>tier</th>\
             <th class=\"num\">spec</th><th class=\"num\">recommended</th></tr></thead><tbody>",
        );
        for f in &t.frontiers {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&f.path),
                esc(&f.tier),
                if f.paying { " (paying)" } else { "" },
                escape(&value(f, f.current)),
                escape(&value(f, f.points[f.chosen].cap))
            );
        }
        for g in &t.on_limit {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&g.path),
                esc(&g.tier),
                esc(&g.ways[g.current].label()),
                esc(&g.ways[g.chosen].label())
            );
        }
        o.push_str("</tbody></table></div>\n");
    }
    if t.passes && !t.frontiers.is_empty() && t.frontiers.iter().all(|f| f.chosen + 1 == f.points.len()) {
        o.push_str(
            "<p>The most generous value searched passes for every limit: the policy does not bind these limits \
             (the recommendation is the top of the searched range, 8x the spec's value).</p>\n",
        );
    }
    o.push_str(
        "<div class=\"table-wrap\"><table class=\"data nowrap compact\"><thead><tr><th>threshold</th>\
         <th class=\"num\">there</th><th class=\"num\">policy</th><th></th></tr></thead><tbody>",
    );
    for c in &t.checks {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
            esc(&c.figure),
            escape(&super::show(&c.figure, c.value)),
            escape(&super::show(&c.figure, c.limit)),
            if c.ok { "ok" } else { "fail" },
            if c.ok { "ok" } else { "FAIL" }
        );
    }
    o.push_str("</tbody></table></div>\n</section>\n");
    // Every frontier.
    for f in &t.frontiers {
        section(
            &mut o,
            &format!(
                "Frontier of {} ({}{})",
                f.path,
                f.tier,
                if f.paying { ", paying" } else { "" }
            ),
        );
        o.push_str(&chart(f, &q, p95_limit));
        o.push_str(&table(f, &q));
        o.push_str("</section>\n");
    }
    // What each cap does past it (`--vary on-limit`).
    for g in &t.on_limit {
        section(
            &mut o,
            &format!("Past the cap of {} ({}), at the recommended caps", g.path, g.tier),
        );
        let _ = write!(
            o,
            "<div class=\"table-wrap\"><table class=\"data nowrap compact\"><thead><tr><th></th><th>past the cap</th>\
             <th class=\"num\">month {q}</th><th class=\"num\">cost/revenue {q}</th><th class=\"num\">unserved</th>\
             <th>check</th></tr></thead><tbody>",
            q = escape(&q)
        );
        for (i, w) in g.ways.iter().enumerate() {
            let mark = match (i == g.chosen, i == g.current) {
                (true, true) => "recommended, the spec's",
                (true, false) => "recommended",
                (false, true) => "the spec's",
                _ => "",
            };
            let verdict = match (w.thresholds_pass, w.verdict) {
                (false, _) => format!("fails: {}", w.failing.join(", ")),
                (true, Some(v)) if !w.new_rules.is_empty() => format!(
                    "{}; adds {}",
                    crate::report::doc::verdict_label(v).to_lowercase(),
                    w.new_rules.join(", ")
                ),
                (true, Some(v)) => crate::report::doc::verdict_label(v).to_lowercase(),
                (true, None) => "could not be checked".to_string(),
            };
            let _ = write!(
                o,
                "<tr><td>{mark}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
                esc(&w.label()),
                escape(&crate::fmt::usd(w.cost_at_confidence)),
                escape(&super::show("cost/revenue", w.ratio_at_confidence)),
                escape(&crate::fmt::pct(w.unserved_share)),
                if w.passes { "ok" } else { "fail" },
                escape(&verdict)
            );
        }
        o.push_str(
            "</tbody></table></div>\n<p>The same users reach the cap whatever it then does; of the ways that pass (the \
             thresholds, a check no worse than with the spec's way, and no rule that denies or asks for an approval with it \
             and not with the spec's way), the one that leaves the least demand unserved is \
             recommended (the cheapest with the cost objective); on a tie the spec's way stays.</p>\n</section>\n",
        );
    }
    section(&mut o, "Not tuned");
    if t.not_tuned.is_empty() {
        o.push_str("<p>Every limit of the kinds searched was varied.</p>\n");
    } else {
        let li: String = t.not_tuned.iter().map(|n| format!("<li>{}</li>", esc(n))).collect();
        let _ = writeln!(o, "<ul class=\"notes\">{li}</ul>");
    }
    o.push_str("</section>\n");
    let _ = write!(
        o,
        "<footer class=\"doc\">costgate {}. Seed {}, {} trials per candidate, {} (common random numbers: every \
         candidate sees the same simulated months).</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        t.seed,
        escape(&count(t.trials as f64)),
        escape(&crate::fmt::plural(t.simulations, "simulation", "simulations"))
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_round_and_within_the_range() {
        assert_eq!(
            log_ticks(1_200.0, 160_000.0),
            vec![2_000.0, 5_000.0, 10_000.0, 20_000.0, 50_000.0, 100_000.0]
        );
        assert_eq!(
            log_ticks(1.0, 1e6),
            vec![1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1e6]
        );
        assert_eq!(log_ticks(3.0, 4.0), vec![3.0, 4.0]);
    }
}
