//! JUnit XML, for CI test dashboards: one test suite per feature, one test
//! case per rule of the policy, so a dashboard counts the same cases on
//! every run. A case fails on a `deny` finding, and on an `approve` finding
//! no valid approval covers (the gate stops there too, with exit 2). A
//! covered approval and a warning pass, with the text in `<system-out>`; a
//! rule a policy exception lowered to `allow` is skipped, with the reason.

use std::fmt::Write;

use crate::outcome::CheckReport;
use crate::outcome::Remedy;
use crate::policy::{Finding, Level, Rule};

/// Escape text for XML element content: as [`escape`], keeping line breaks.
fn escape_text(s: &str) -> String {
    escape(s).replace("&#10;", "\n")
}

/// Escape text for XML content and attribute values; drop the characters
/// XML 1.0 cannot hold.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            // C1 controls (CSI among them) are legal XML but act on a
            // terminal, and bidi overrides reorder what a reader sees:
            // written as references, never raw.
            c if crate::untrusted::needs_escape(c) => {
                let _ = write!(o, "&#{};", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

enum Outcome<'a> {
    Pass(Vec<String>),
    Fail(&'static str, Vec<&'a Finding>),
    Skip(String),
}

/// A finding as lines of text. JUnit goes to CI logs: the message, help and
/// note quote input strings, so they are made inert (one line each, no
/// control characters) before costgate's own line breaks join them.
fn describe(x: &Finding) -> String {
    use crate::untrusted::clean;
    let place = x.span.as_ref().map_or(String::new(), |s| format!(" ({s})"));
    let then = match x.remedy() {
        Remedy::Excepted(e) => format!("excepted by policy: {}", clean(&e)),
        Remedy::Approval { note, .. } => format!("approval: {}", clean(&note)),
        Remedy::Fix(help) => format!("fix: {}", clean(&help)),
    };
    format!("{}: {}{place}\n{then}", x.level.as_str(), clean(&x.message))
}

fn outcome<'a>(found: &[&'a Finding]) -> Outcome<'a> {
    let deny: Vec<&Finding> = found.iter().copied().filter(|x| x.level == Level::Deny).collect();
    if !deny.is_empty() {
        return Outcome::Fail("deny", deny);
    }
    let open: Vec<&Finding> = found.iter().copied().filter(|x| x.is_open_approval()).collect();
    if !open.is_empty() {
        return Outcome::Fail("approve", open);
    }
    if let Some(e) = found.iter().find_map(|x| x.exception.as_ref())
        && found.iter().all(|x| x.level == Level::Allow)
    {
        return Outcome::Skip(format!("excepted by policy: {e}"));
    }
    Outcome::Pass(found.iter().filter(|x| x.is_shown()).map(|x| describe(x)).collect())
}

/// The JUnit XML of a run.
pub fn render(r: &CheckReport) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for f in &r.features {
        let mut cases = String::new();
        let (mut ff, mut fs) = (0, 0);
        for rule in Rule::ALL {
            let found: Vec<&Finding> = f.findings.iter().filter(|x| x.rule == *rule).collect();
            let first = found.iter().find_map(|x| x.span.as_ref().filter(|s| s.line > 0));
            let (file, line) = match first {
                Some(s) => (s.file.to_string(), Some(s.line)),
                None => (f.file.clone(), None),
            };
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"costgate.{}\" file=\"{}\"{} time=\"0\">",
                escape(rule.code()),
                escape(&f.id),
                escape(&file),
                line.map_or(String::new(), |l| format!(" line=\"{l}\""))
            );
            match outcome(&found) {
                Outcome::Pass(notes) if notes.is_empty() => {
                    cases.truncate(cases.len() - 1);
                    cases.push_str("/>\n");
                    continue;
                }
                Outcome::Pass(notes) => {
                    let _ = write!(
                        cases,
                        "\n      <system-out>{}</system-out>\n    ",
                        escape_text(&notes.join("\n\n"))
                    );
                }
                Outcome::Fail(kind, xs) => {
                    ff += 1;
                    let message = match kind {
                        "approve" => format!("needs exec approval: {}", xs[0].message),
                        _ => xs[0].message.clone(),
                    };
                    let body: Vec<String> = xs.iter().map(|x| describe(x)).collect();
                    let _ = write!(
                        cases,
                        "\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    ",
                        escape(&message),
                        escape_text(&body.join("\n\n"))
                    );
                }
                Outcome::Skip(why) => {
                    fs += 1;
                    let _ = write!(cases, "\n      <skipped message=\"{}\"/>\n    ", escape(&why));
                }
            }
            cases.push_str("</testcase>\n");
        }
        let n = Rule::ALL.len();
        tests += n;
        failures += ff;
        skipped += fs;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{ff}\" errors=\"0\" skipped=\"{fs}\" time=\"0\" file=\"{}\">\n\
             \x20   <properties>\n\
             \x20     <property name=\"feature\" value=\"{}\"/>\n\
             \x20     <property name=\"verdict\" value=\"{}\"/>\n\
             \x20     <property name=\"fingerprint\" value=\"{}\"/>\n\
             \x20   </properties>\n{cases}  </testsuite>\n",
            escape(&f.id),
            escape(&f.file),
            escape(&f.name),
            super::doc::verdict_label(f.verdict),
            escape(&f.approval.fingerprint)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"costgate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">\n{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            super::escape("<a b=\"c\">&'\u{1}"),
            "&lt;a b=&quot;c&quot;&gt;&amp;&apos;"
        );
    }
}
