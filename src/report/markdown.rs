//! The Markdown report: the same content as the HTML report, in GitHub
//! Flavored Markdown tables, for a pull-request comment and the job summary
//! (`$GITHUB_STEP_SUMMARY`). It stays under GitHub's 65,536-character limit
//! for a comment, shortening a large portfolio with a note that says so.
//!
//! Every string from a spec is escaped: it reads as text, never as markup,
//! a link, an HTML tag or an @-mention.

use std::fmt::Write;

use super::doc::{self, Align, Block, Chart, Doc, FeatureDoc, Inline, MarkerKind, Remedy, Rich, Table, Tone};
use crate::outcome::CheckReport;
use crate::policy::{Level, Verdict};

/// GitHub's limit on the body of a pull-request comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The Markdown report, within GitHub's comment limit.
pub fn render(r: &CheckReport) -> String {
    render_within(r, GITHUB_COMMENT_LIMIT)
}

/// Escape plain text for Markdown. `in_table`: also keep `|` from ending a cell.
pub fn escape(s: &str) -> String {
    // line breaks and control characters become visible escapes first
    let s = crate::untrusted::clean(s);
    let mut o = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let after_word = prev.is_some_and(|p| p.is_alphanumeric());
        prev = Some(c);
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '$' => {
                o.push('\\');
                o.push(c);
            }
            // a word joiner after a mention's `@` keeps a spec from pinging
            // people; an email address (`cfo@example.com`) is left alone
            '@' if !after_word => o.push_str("@\u{2060}"),
            '\r' | '\n' | '\t' => o.push(' '),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// A code span that holds any text: a fence longer than any run of
/// backticks inside, `|` escaped in tables (GFM reads `\|` there).
fn code_span(s: &str, in_table: bool) -> String {
    let s: String = crate::untrusted::clean(s)
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let s = if in_table { s.replace('|', "\\|") } else { s };
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn rich(r: &Rich, in_table: bool) -> String {
    r.iter()
        .map(|i| match i {
            Inline::Text(s) => escape(s),
            Inline::Strong(s) => format!("**{}**", escape(s)),
            // Markup-like text is shown as escaped text rather than trusted
            // to a code span, which some Markdown renderers do not keep literal.
            Inline::Code(s) if s.contains(['<', '>', '&']) => escape(s),
            Inline::Code(s) => code_span(s, in_table),
        })
        .collect()
}

fn table(t: &Table) -> String {
    let mut o = String::new();
    let head: Vec<String> = t.head.iter().map(|h| escape(h)).collect();
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let rule: Vec<&str> = t
        .align
        .iter()
        .map(|a| match a {
            Align::Left => ":---",
            Align::Right => "---:",
        })
        .collect();
    let _ = writeln!(o, "| {} |", rule.join(" | "));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| rich(c, true)).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    o
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn chart(c: &Chart) -> String {
    let top = c.bins.iter().copied().fold(0.0, f64::max);
    let spark: String = c
        .bins
        .iter()
        .map(|&b| {
            if b <= 0.0 || top <= 0.0 {
                ' '
            } else {
                SPARKS[(((b / top) * 7.0).round() as usize).min(7)]
            }
        })
        .collect();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "**{}**: `{}│{spark}│{}`",
        escape(&c.title),
        c.unit.fmt(0.0),
        c.unit.fmt(c.x_max)
    );
    o.push('\n');
    let part = |kinds: &[MarkerKind]| {
        c.markers
            .iter()
            .filter(|m| kinds.contains(&m.kind))
            .map(|m| format!("{} {}", escape(&m.label), escape(&m.shown)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let _ = writeln!(o, "- simulated: {}", part(&[MarkerKind::Stat, MarkerKind::Worst]));
    let _ = writeln!(o, "- policy: {}", part(&[MarkerKind::Policy]));
    o.push('\n');
    let _ = writeln!(o, "{}", escape(&c.caption));
    o
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::Deny => "🛑 deny",
        Level::Approve => "✋ approve",
        Level::Warn => "⚠️ warn",
        Level::Allow => "allow",
    }
}

fn findings(v: &[doc::FindingView]) -> String {
    let mut o = String::new();
    for x in v {
        let place = x
            .place
            .as_ref()
            .map_or(String::new(), |p| format!(" at {}", code_span(p, false)));
        let _ = writeln!(
            o,
            "- **{}** {}{place}: {}",
            level_word(x.level),
            code_span(&x.rule, false),
            rich(&doc::ticks(&x.message), false)
        );
        let remedy = match &x.remedy {
            Remedy::Fix(h) => format!("fix: {}", rich(&doc::ticks(h), false)),
            Remedy::Excepted(e) => format!("excepted by policy: {}", rich(&doc::ticks(e), false)),
            Remedy::Approval { covered, note } => format!(
                "{}: {}",
                if *covered {
                    "approved"
                } else {
                    "approval does not cover it"
                },
                rich(&doc::ticks(note), false)
            ),
        };
        let _ = writeln!(o, "  - {remedy}");
        if let Some(fix) = &x.fix {
            let _ = writeln!(o, "  - fix: {}", rich(&doc::ticks(fix), false));
        }
    }
    o
}

fn sign_off(s: &doc::SignOff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", rich(&doc::ticks(&s.ask), false));
    o.push('\n');
    let blank = "\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_";
    let field = |v: &Option<String>| v.as_deref().map_or(blank.to_string(), escape);
    let mut t = String::new();
    let _ = writeln!(t, "| sign-off | |");
    let _ = writeln!(t, "| :--- | :--- |");
    if s.form {
        for (k, v) in [
            ("approved by", &s.by),
            ("role", &s.role),
            ("date", &s.date),
            ("expires", &s.expires),
            ("reason", &s.reason),
        ] {
            let _ = writeln!(t, "| {k} | {} |", field(v));
        }
    }
    let _ = writeln!(t, "| fingerprint | {} |", code_span(&s.fingerprint, true));
    let _ = writeln!(t, "| record | {} |", code_span(&s.file, true));
    o.push_str(&t);
    if !s.figures.is_empty() {
        o.push('\n');
        let mut ft = Table {
            head: vec!["figure bound by the approval".into(), "value".into(), "policy".into()],
            align: vec![Align::Left, Align::Right, Align::Left],
            rows: Vec::new(),
        };
        for (what, v, th) in &s.figures {
            ft.rows.push(vec![doc::text(what), doc::text(v), doc::text(th)]);
        }
        o.push_str(&table(&ft));
    }
    if let Some(st) = &s.status {
        o.push('\n');
        let _ = writeln!(o, "{}", rich(&doc::ticks(st), false));
    }
    if let Some(cmd) = &s.command {
        o.push('\n');
        let _ = writeln!(o, "Record it with:\n\n```sh\n{}\n```", cmd.replace("```", "'''"));
    }
    o
}

fn block(b: &Block) -> String {
    match b {
        Block::Para(r) => format!("{}\n", rich(r, false)),
        Block::Bullets(items) if items.is_empty() => String::new(),
        Block::Bullets(items) => items.iter().map(|r| format!("- {}\n", rich(r, false))).collect(),
        Block::Table(t) => table(t),
        Block::Chart(c) => chart(c),
        Block::Findings(v) => findings(v),
        Block::SignOff(s) => sign_off(s),
        Block::Tornado(_) => String::new(),
    }
}

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "🟢",
        Verdict::NeedsApproval => "🟡",
        Verdict::Blocked => "🔴",
    }
}

fn key_figures(f: &FeatureDoc) -> String {
    let mut t = Table {
        head: f.figures.iter().map(|k| k.label.clone()).collect(),
        align: vec![Align::Right; f.figures.len()],
        rows: Vec::new(),
    };
    t.rows.push(
        f.figures
            .iter()
            .map(|k| {
                let mark = match k.tone {
                    Tone::Bad => " ⛔",
                    Tone::Warn => " ⚠️",
                    _ => "",
                };
                vec![Inline::Strong(k.value.clone()), Inline::Text(mark.into())]
            })
            .collect(),
    );
    t.rows.push(f.figures.iter().map(|k| doc::text(&k.note)).collect());
    table(&t)
}

fn feature_head(f: &FeatureDoc) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## {} {}: {}\n", icon(f.verdict), escape(&f.name), f.label());
    let owner = f
        .owner
        .as_ref()
        .map_or(String::new(), |w| format!(" · owner {}", escape(w)));
    let _ = writeln!(
        o,
        "{} · {}{owner}\n",
        code_span(&f.id, false),
        code_span(&f.file, false)
    );
    if let Some(n) = &f.overridden {
        let _ = writeln!(o, "⚠️ {}\n", escape(n));
    }
    let _ = writeln!(o, "**{}**\n", rich(&doc::ticks(&f.headline), false));
    let _ = writeln!(o, "{}\n", rich(&f.decision, false));
    o.push_str(&key_figures(f));
    o
}

fn feature_full(f: &FeatureDoc) -> String {
    let mut o = feature_head(f);
    for s in &f.sections {
        o.push('\n');
        if s.fold {
            let _ = writeln!(o, "<details><summary>{}</summary>\n", escape(&s.title));
        } else {
            let _ = writeln!(o, "### {}\n", escape(&s.title));
        }
        let parts: Vec<String> = s.blocks.iter().map(block).filter(|b| !b.is_empty()).collect();
        o.push_str(&parts.join("\n"));
        if s.fold {
            o.push_str("\n</details>\n");
        }
    }
    o
}

/// The feature in brief: verdict, decision, key figures and findings.
fn feature_brief(f: &FeatureDoc) -> String {
    let mut o = feature_head(f);
    if let Some(s) = f.sections.iter().find(|s| s.title == "Findings") {
        let _ = writeln!(o, "\n### Findings\n");
        for b in &s.blocks {
            o.push_str(&block(b));
        }
    }
    o
}

fn header(d: &Doc, overview_rows: Option<usize>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {} costgate: {}\n", icon(d.verdict), escape(&d.tally));
    if d.features.len() == 1 {
        return o;
    }
    if let Some(t) = &d.overview {
        let mut t = t.clone();
        let total = t.rows.len();
        if let Some(n) = overview_rows.filter(|n| *n < total) {
            t.rows.truncate(n);
            o.push_str(&table(&t));
            let _ = writeln!(
                o,
                "\n… and {} more features, left out of this table for length.",
                total - n
            );
        } else {
            o.push_str(&table(&t));
        }
        o.push('\n');
    }
    o
}

fn footer(d: &Doc) -> String {
    format!("\n---\n\n<sub>{}</sub>\n", escape(&d.provenance))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The Markdown report in at most `max_chars` characters: whole when it
/// fits; otherwise the features most in need of attention first, in full,
/// then in brief, then only in the overview table, with a note.
pub fn render_within(r: &CheckReport, max_chars: usize) -> String {
    let d = doc::build(r);
    let full: Vec<String> = d.features.iter().map(feature_full).collect();
    let foot = footer(&d);
    let whole = {
        let mut o = header(&d, None);
        o.push_str(&full.join("\n"));
        o.push_str(&foot);
        o
    };
    if chars(&whole) <= max_chars {
        return whole;
    }
    // The overview gets at most a third of the room.
    let mut rows = d.features.len();
    let mut head = header(&d, Some(rows));
    while chars(&head) > max_chars / 3 && rows > 0 {
        rows = rows * 3 / 4;
        head = header(&d, Some(rows));
    }
    const NOTE_ROOM: usize = 400;
    let mut left = max_chars.saturating_sub(chars(&head) + chars(&foot) + NOTE_ROOM);
    let mut order: Vec<usize> = (0..d.features.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(d.features[i].verdict));
    let mut chosen: Vec<Option<String>> = vec![None; d.features.len()];
    let (mut briefs, mut omitted) = (0, 0);
    for i in order {
        let f = &full[i];
        if chars(f) < left {
            left -= chars(f) + 1;
            chosen[i] = Some(f.clone());
            continue;
        }
        let b = feature_brief(&d.features[i]);
        if chars(&b) < left {
            left -= chars(&b) + 1;
            chosen[i] = Some(b);
            briefs += 1;
        } else {
            omitted += 1;
        }
    }
    let mut o = head;
    let _ = writeln!(
        o,
        "> [!NOTE]\n> Shortened to stay under GitHub's {GITHUB_COMMENT_LIMIT}-character limit: {} shown in brief, {omitted} left out. `costgate report --format html` writes the whole report.\n",
        crate::fmt::plural(briefs, "feature", "features")
    );
    let body: Vec<String> = chosen.into_iter().flatten().collect();
    o.push_str(&body.join("\n"));
    o.push_str(&foot);
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
        assert_eq!(escape("a|b *c* [x](y) @team"), "a\\|b \\*c\\* \\[x\\](y) @\u{2060}team");
        // a line break from input shows as `\n` (the backslash escaped for Markdown)
        assert_eq!(escape("line\nbreak"), "line\\\\nbreak");
        assert_eq!(escape("cfo@example.com"), "cfo@example.com");
        assert_eq!(code_span("a`b", false), "``a`b``");
        assert_eq!(code_span("a|b", true), "`a\\|b`");
        assert_eq!(code_span("`x`", false), "`` `x` ``");
    }
}
