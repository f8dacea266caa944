//! The HTML report: the document an executive reads and signs. One
//! self-contained file: inline CSS, inline SVG charts, no script, no external
//! request (a Content-Security-Policy forbids both), printable to PDF.
//!
//! Every string from a spec is escaped: it reads as text, never as markup.

use std::fmt::Write;

use super::doc::{self, Align, Block, Chart, Doc, FeatureDoc, Inline, MarkerKind, Remedy, Rich, Table, Tone};
use crate::outcome::CheckReport;
use crate::policy::{Level, Verdict};

/// Escape text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

fn rich(r: &Rich) -> String {
    r.iter()
        .map(|i| match i {
            Inline::Text(s) => escape(s),
            Inline::Strong(s) => format!("<strong>{}</strong>", escape(s)),
            Inline::Code(s) => format!("<code>{}</code>", escape(s)),
        })
        .collect()
}

fn cell_len(r: &Rich) -> usize {
    r.iter()
        .map(|i| match i {
            Inline::Text(s) | Inline::Strong(s) | Inline::Code(s) => s.chars().count(),
        })
        .sum()
}

fn table(t: &Table, class: &str) -> String {
    let mut class = class.to_string();
    if t.head.len() <= 3 {
        class.push_str(" compact");
    }
    if t.rows.iter().flatten().all(|c| cell_len(c) <= 24) {
        class.push_str(" nowrap");
    }
    let mut o = String::new();
    let _ = write!(o, "<div class=\"table-wrap\"><table class=\"{class}\"><thead><tr>");
    for (i, h) in t.head.iter().enumerate() {
        let c = if t.align.get(i) == Some(&Align::Right) {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(o, "<th{c}>{}</th>", escape(h));
    }
    o.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        o.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let c = if t.align.get(i) == Some(&Align::Right) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(o, "<td{c}>{}</td>", rich(cell));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></div>\n");
    o
}

// Chart geometry (SVG user units).
const W: f64 = 760.0;
const H: f64 = 250.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 34.0;

/// Round numbers for axis ticks: about `n` of them from 0 to `max`.
pub(crate) fn ticks(max: f64, n: usize) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|x| *x <= max * 1.0001)
        .collect()
}

fn marker_style(k: MarkerKind) -> (&'static str, &'static str) {
    match k {
        MarkerKind::Stat => ("#1e293b", ""),
        MarkerKind::Worst => ("#b91c1c", ""),
        MarkerKind::Policy => ("#b45309", " stroke-dasharray=\"6 4\""),
    }
}

fn chart(c: &Chart) -> String {
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = |v: f64| LEFT + (v / c.x_max).clamp(0.0, 1.0) * pw;
    let top = c.bins.iter().copied().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure class=\"chart\"><figcaption class=\"chart-title\">{}</figcaption>\
         <svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&c.title),
        escape(&c.caption)
    );
    // grid and y labels: share of months
    let top = ticks(top, 4).last().copied().filter(|t| *t >= top).unwrap_or(top);
    for g in ticks(top, 4).into_iter().skip(1) {
        let y = TOP + ph * (1.0 - g / top);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&crate::fmt::pct(g))
        );
    }
    // bars
    let bw = pw / c.bins.len().max(1) as f64;
    for (i, b) in c.bins.iter().enumerate() {
        if *b <= 0.0 {
            continue;
        }
        let h = ph * b / top;
        let _ = write!(
            o,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" class=\"bar\"/>",
            LEFT + i as f64 * bw + 0.5,
            TOP + ph - h,
            (bw - 1.0).max(0.5),
            h
        );
    }
    // x axis
    let base = TOP + ph;
    let _ = write!(
        o,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" class=\"axis-line\"/>",
        W - RIGHT
    );
    for t in ticks(c.x_max, 6) {
        let tx = x(t);
        let _ = write!(
            o,
            "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\" class=\"axis-line\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            base + 4.0,
            base + 17.0,
            escape(&c.unit.fmt(t))
        );
    }
    // markers, labels staggered in rows so they do not overlap
    let mut on: Vec<&doc::Marker> = c.markers.iter().filter(|m| m.value <= c.x_max).collect();
    on.sort_by(|a, b| a.value.total_cmp(&b.value));
    let mut row_end: Vec<f64> = vec![f64::NEG_INFINITY; 3];
    for m in on {
        let (color, dash) = marker_style(m.kind);
        let mx = x(m.value);
        let label = format!("{} {}", m.label, m.shown);
        let w = label.chars().count() as f64 * 6.1;
        let (anchor, start) = if mx + w / 2.0 > W - RIGHT {
            ("end", mx - w)
        } else if mx - w / 2.0 < LEFT {
            ("start", mx)
        } else {
            ("middle", mx - w / 2.0)
        };
        let row = row_end
            .iter()
            .position(|e| start > *e + 6.0)
            .unwrap_or(row_end.len() - 1);
        row_end[row] = start + w;
        let ly = TOP - 30.0 + row as f64 * 13.0;
        let _ = write!(
            o,
            "<line x1=\"{mx:.1}\" x2=\"{mx:.1}\" y1=\"{:.1}\" y2=\"{base:.1}\" stroke=\"{color}\" stroke-width=\"1.6\"{dash}/>\
             <text x=\"{mx:.1}\" y=\"{ly:.1}\" class=\"mlabel\" fill=\"{color}\" text-anchor=\"{anchor}\">{}</text>",
            ly + 3.0,
            escape(&label)
        );
    }
    // markers beyond the scale: named at the right edge, with an arrow
    let mut y = TOP + 14.0;
    for m in c.markers.iter().filter(|m| m.value > c.x_max) {
        let (color, _) = marker_style(m.kind);
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{y:.1}\" class=\"mlabel\" fill=\"{color}\" text-anchor=\"end\">{} {} →</text>",
            W - RIGHT,
            escape(&m.label),
            escape(&m.shown)
        );
        y += 14.0;
    }
    o.push_str("</svg>");
    let off: Vec<String> = c
        .markers
        .iter()
        .filter(|m| m.value > c.x_max)
        .map(|m| format!("{} {}", escape(&m.label), escape(&m.shown)))
        .collect();
    let _ = write!(o, "<p class=\"caption\">{} {}", escape(&c.caption), escape(&c.legend));
    if !off.is_empty() {
        let _ = write!(o, " Beyond the right edge: {}.", off.join(", "));
    }
    o.push_str("</p></figure>\n");
    o
}

fn level_class(l: Level) -> &'static str {
    match l {
        Level::Deny => "deny",
        Level::Approve => "approve",
        Level::Warn => "warn",
        Level::Allow => "allow",
    }
}

fn findings(v: &[doc::FindingView]) -> String {
    let mut o = String::from("<ul class=\"findings\">");
    for x in v {
        let _ = write!(
            o,
            "<li class=\"finding {}\"><div class=\"finding-head\"><span class=\"level\">{}</span> <code class=\"rule\">{}</code>",
            level_class(x.level),
            x.level.as_str(),
            escape(&x.rule)
        );
        if let Some(p) = &x.place {
            let _ = write!(o, " <span class=\"place\">{}</span>", escape(p));
        }
        let _ = write!(o, "</div><p class=\"message\">{}</p>", rich(&doc::ticks(&x.message)));
        let (label, body, class) = match &x.remedy {
            Remedy::Fix(h) => ("What to change", h.as_str(), "fix"),
            Remedy::Excepted(e) => ("Excepted by policy", e.as_str(), "excepted"),
            Remedy::Approval { covered: true, note } => ("Approved", note.as_str(), "approved"),
            Remedy::Approval { covered: false, note } => ("Approval does not cover it", note.as_str(), "lapsed"),
        };
        let _ = write!(
            o,
            "<p class=\"remedy {class}\"><span>{label}:</span> {}</p>",
            rich(&doc::ticks(body))
        );
        if let Some(fix) = &x.fix {
            let _ = write!(
                o,
                "<p class=\"remedy fix\"><span>What to change:</span> {}</p>",
                rich(&doc::ticks(fix))
            );
        }
        o.push_str("</li>");
    }
    o.push_str("</ul>\n");
    o
}

fn sign_off(s: &doc::SignOff) -> String {
    let mut o = String::from("<div class=\"signoff\">");
    let _ = write!(o, "<p class=\"ask\">{}</p>", rich(&doc::ticks(&s.ask)));
    if !s.figures.is_empty() {
        let mut t = Table {
            head: vec!["figure bound by the approval".into(), "value".into(), "policy".into()],
            align: vec![Align::Left, Align::Right, Align::Left],
            rows: Vec::new(),
        };
        for (what, v, th) in &s.figures {
            t.rows.push(vec![doc::text(what), doc::text(v), doc::text(th)]);
        }
        o.push_str(&table(&t, "data"));
    }
    if s.form {
        o.push_str(&fields(s));
    }
    let _ = write!(
        o,
        "<p class=\"fingerprint\"><span>Fingerprint of the figures and inputs {}</span><code>{}</code></p>",
        if s.form { "approved" } else { "reviewed" },
        escape(&s.fingerprint)
    );
    if let Some(st) = &s.status {
        let _ = write!(o, "<p class=\"status\">{}</p>", rich(&doc::ticks(st)));
    }
    if let Some(cmd) = &s.command {
        let _ = write!(
            o,
            "<p class=\"howto\">Recorded in <code>{}</code> with:</p><pre>{}</pre>",
            escape(&s.file),
            escape(cmd)
        );
    }
    o.push_str("</div>\n");
    o
}

fn fields(s: &doc::SignOff) -> String {
    let mut o = String::from("<dl class=\"fields\">");
    for (k, v) in [
        ("Approved by", &s.by),
        ("Role", &s.role),
        ("Date", &s.date),
        ("Expires", &s.expires),
    ] {
        match v {
            Some(v) => {
                let _ = write!(o, "<div><dt>{k}</dt><dd>{}</dd></div>", escape(v));
            }
            None => {
                let _ = write!(o, "<div><dt>{k}</dt><dd class=\"blank\"></dd></div>");
            }
        }
    }
    match &s.reason {
        Some(r) => {
            let _ = write!(o, "<div class=\"wide\"><dt>Reason</dt><dd>{}</dd></div>", escape(r));
        }
        None => {
            o.push_str("<div class=\"wide\"><dt>Reason</dt><dd class=\"blank\"></dd></div>");
            o.push_str("<div class=\"wide\"><dt>Signature</dt><dd class=\"blank\"></dd></div>");
        }
    }
    o.push_str("</dl>");
    o
}

fn block(b: &Block) -> String {
    match b {
        Block::Para(r) => format!("<p>{}</p>\n", rich(r)),
        Block::Bullets(items) if items.is_empty() => String::new(),
        Block::Bullets(items) => {
            let li: String = items.iter().map(|r| format!("<li>{}</li>", rich(r))).collect();
            format!("<ul class=\"notes\">{li}</ul>\n")
        }
        Block::Table(t) => table(t, "data"),
        Block::Chart(c) => chart(c),
        Block::Findings(v) => findings(v),
        Block::SignOff(s) => sign_off(s),
        Block::Tornado(t) => super::sensitivity::svg(t),
    }
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::NeedsApproval => "approve",
        Verdict::Blocked => "blocked",
    }
}

fn tone_class(t: Tone) -> &'static str {
    match t {
        Tone::Neutral => "neutral",
        Tone::Good => "good",
        Tone::Warn => "warn",
        Tone::Bad => "bad",
    }
}

fn feature(f: &FeatureDoc) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<article class=\"feature\" id=\"{}\"><div class=\"verdict {}\"><span class=\"badge\">{}</span>\
         <h2>{}</h2><p class=\"ids\"><code>{}</code> · {}",
        escape(&f.anchor),
        verdict_class(f.verdict),
        escape(&f.label()),
        escape(&f.name),
        escape(&f.id),
        escape(&f.file)
    );
    if let Some(w) = &f.owner {
        let _ = write!(o, " · owner {}", escape(w));
    }
    o.push_str("</p>");
    if let Some(n) = &f.overridden {
        let _ = write!(o, "<p class=\"headline overridden\">{}</p>", escape(n));
    }
    let _ = write!(
        o,
        "<p class=\"headline\">{}</p><p class=\"decision\">{}</p></div>",
        rich(&doc::ticks(&f.headline)),
        rich(&f.decision)
    );
    o.push_str("<div class=\"kpis\">");
    for k in &f.figures {
        let _ = write!(
            o,
            "<div class=\"kpi {}\"><div class=\"kpi-label\">{}</div><div class=\"kpi-value\">{}</div><div class=\"kpi-note\">{}</div></div>",
            tone_class(k.tone),
            escape(&k.label),
            escape(&k.value),
            escape(&k.note)
        );
    }
    o.push_str("</div>\n");
    for (i, s) in f.sections.iter().enumerate() {
        let _ = writeln!(
            o,
            "<section><h3><span class=\"n\">{}</span>{}</h3>",
            i + 1,
            escape(&s.title)
        );
        for b in &s.blocks {
            o.push_str(&block(b));
        }
        o.push_str("</section>\n");
    }
    o.push_str("</article>\n");
    o
}

fn overview(d: &Doc) -> String {
    let Some(t) = &d.overview else {
        return String::new();
    };
    let mut t = t.clone();
    for (row, f) in t.rows.iter_mut().zip(&d.features) {
        row[1] = vec![Inline::Strong(f.label())];
    }
    let mut o = String::from("<section class=\"overview\"><h2>Overview</h2>");
    o.push_str(&table(&t, "data"));
    o.push_str("<p class=\"toc\">");
    let links: Vec<String> = d
        .features
        .iter()
        .map(|f| format!("<a href=\"#{}\">{}</a>", escape(&f.anchor), escape(&f.name)))
        .collect();
    o.push_str(&links.join(" · "));
    o.push_str("</p></section>\n");
    o
}

/// The reports' stylesheet (also the tuning page's, [`crate::tune::page`]).
pub(crate) const CSS: &str = r#"
:root { --ink:#0f172a; --muted:#475569; --faint:#94a3b8; --line:#e2e8f0; --paper:#ffffff; --wash:#f8fafc;
  --pass:#15803d; --pass-bg:#f0fdf4; --approve:#b45309; --approve-bg:#fffbeb; --blocked:#b91c1c; --blocked-bg:#fef2f2; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--wash); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 28px 48px; background: var(--paper); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.86em; }
code { background: #f1f5f9; padding: 0 4px; border-radius: 3px; }
pre { background: #0f172a; color: #e2e8f0; padding: 10px 12px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
header.doc { border-bottom: 2px solid var(--ink); padding-bottom: 10px; margin-bottom: 22px; }
header.doc .eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); margin: 0; }
header.doc h1 { margin: 4px 0 2px; font-size: 26px; line-height: 1.2; }
header.doc .tally { margin: 0; color: var(--muted); }
h2 { font-size: 22px; margin: 6px 0 2px; line-height: 1.25; }
h3 { font-size: 16px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 .n { display: inline-block; min-width: 1.6em; color: var(--faint); font-weight: 600; }
p { margin: 6px 0; }
.feature + .feature { margin-top: 48px; border-top: 2px solid var(--ink); padding-top: 24px; }
.verdict { border-left: 6px solid; border-radius: 6px; padding: 14px 18px; }
.verdict.pass { border-color: var(--pass); background: var(--pass-bg); }
.verdict.approve { border-color: var(--approve); background: var(--approve-bg); }
.verdict.blocked { border-color: var(--blocked); background: var(--blocked-bg); }
.badge { display: inline-block; font-weight: 700; font-size: 12px; letter-spacing: .06em; color: #fff; padding: 2px 8px; border-radius: 4px; }
.pass .badge { background: var(--pass); } .approve .badge { background: var(--approve); } .blocked .badge { background: var(--blocked); }
.ids { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
.headline { font-size: 17px; font-weight: 600; }
.decision { font-size: 15px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; margin: 16px 0 4px; }
.kpi { border: 1px solid var(--line); border-top: 4px solid var(--faint); border-radius: 6px; padding: 8px 12px; }
.kpi.good { border-top-color: var(--pass); } .kpi.warn { border-top-color: var(--approve); } .kpi.bad { border-top-color: var(--blocked); }
.kpi-label { font-size: 12px; color: var(--muted); }
.kpi-value { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
.kpi.bad .kpi-value { color: var(--blocked); } .kpi.warn .kpi-value { color: var(--approve); }
.kpi-note { font-size: 12px; color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--faint); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
table.compact { width: auto; min-width: 60%; }
table.nowrap td { white-space: nowrap; }
ul.notes { margin: 6px 0; padding-left: 20px; color: var(--muted); font-size: 13.5px; }
figure.chart { margin: 10px 0 14px; }
.chart-title { font-weight: 600; font-size: 14px; }
.chart svg { display: block; max-width: 100%; height: auto; }
.chart .bar { fill: #7aa2d6; }
.chart .grid { stroke: #eef2f7; stroke-width: 1; }
.chart .axis-line { stroke: #94a3b8; stroke-width: 1; }
.chart .axis { fill: #64748b; font-size: 11px; font-family: inherit; }
.chart .mlabel { font-size: 11px; font-weight: 600; font-family: inherit; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.caption { font-size: 12.5px; color: var(--muted); }
ul.findings { list-style: none; padding: 0; margin: 8px 0; }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--faint); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.finding.deny { border-left-color: var(--blocked); } .finding.approve { border-left-color: var(--approve); }
.finding.warn { border-left-color: #ca8a04; }
.finding .level { font-weight: 700; text-transform: uppercase; font-size: 12px; letter-spacing: .05em; }
.finding.deny .level { color: var(--blocked); } .finding.approve .level { color: var(--approve); } .finding.warn .level { color: #a16207; }
.finding .place { color: var(--muted); font-size: 12px; }
.finding .message { font-weight: 500; }
.remedy { font-size: 13.5px; color: var(--muted); }
.remedy span { font-weight: 600; color: var(--ink); }
.remedy.approved span { color: var(--pass); } .remedy.lapsed span { color: var(--blocked); }
.signoff { border: 2px solid var(--ink); border-radius: 8px; padding: 14px 18px; }
.signoff .ask { font-weight: 600; }
dl.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 14px 28px; margin: 14px 0; }
dl.fields .wide { grid-column: 1 / -1; }
dl.fields dt { font-size: 12px; color: var(--muted); }
dl.fields dd { margin: 0; min-height: 26px; border-bottom: 1px solid var(--ink); padding: 2px 0; }
.fingerprint span { display: block; font-size: 12px; color: var(--muted); }
.fingerprint code { word-break: break-all; background: none; padding: 0; }
.status, .howto { font-size: 13.5px; }
.overview .toc { font-size: 13.5px; margin-bottom: 28px; }
footer.doc { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
a { color: #1d4ed8; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { background: #fff; font-size: 12.5px; }
  main { max-width: none; padding: 0; }
  .feature + .feature { break-before: page; border-top: none; margin-top: 0; padding-top: 0; }
  figure, .kpis, .verdict, .finding, .signoff, .table-wrap, tr { break-inside: avoid; }
  h3 { break-after: avoid; }
  .table-wrap { overflow: visible; }
}
"#;

/// The HTML report.
pub fn render(r: &CheckReport) -> String {
    let d = doc::build(r);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"generator\" content=\"costgate {}\">\n<link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(&r.costgate_version),
        escape(&d.title)
    );
    let _ = writeln!(
        o,
        "<header class=\"doc\"><p class=\"eyebrow\">costgate · unit economics review</p><h1>{}</h1><p class=\"tally\">{}</p></header>",
        escape(&d.title),
        escape(&d.tally)
    );
    o.push_str(&overview(&d));
    for f in &d.features {
        o.push_str(&feature(f));
    }
    let _ = write!(
        o,
        "<footer class=\"doc\">{}</footer>\n</main>\n</body>\n</html>\n",
        escape(&d.provenance)
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("\"'&"), "&quot;&#39;&amp;");
    }

    #[test]
    fn axis_ticks_are_round() {
        assert_eq!(ticks(47_700.0, 6), vec![0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0]);
        let t: Vec<String> = ticks(0.41, 5).into_iter().map(crate::fmt::pct).collect();
        assert_eq!(t, ["0.0%", "10%", "20%", "30%", "40%"]);
    }
}
