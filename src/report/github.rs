//! GitHub Actions workflow commands: one annotation per finding, on the spec
//! line it concerns, so the pull request shows it in the diff.
//! `deny` -> `::error`, an `approve` finding no approval covers ->
//! `::warning`, `warn` -> `::notice`; a covered approval is a notice too.

use std::fmt::Write;

use super::sarif::display_path;
use crate::outcome::CheckReport;
use crate::policy::{Finding, Level};

/// Escape the message of a workflow command.
///
/// The runner decodes only `%25`, `%0D` and `%0A`, so any other control
/// character, and the invisible ones that reorder text (bidi overrides), is
/// written as `\u{..}` the way [`crate::untrusted::clean`] writes it: an
/// escape sequence from a spec never reaches the log raw.
pub fn escape_data(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => o.push_str("%25"),
            '\r' => o.push_str("%0D"),
            '\n' => o.push_str("%0A"),
            c if crate::untrusted::needs_escape(c) => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// Escape a property value of a workflow command (`file=`, `title=`, ...).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(x: &Finding) -> Option<(&'static str, String, String)> {
    let (cmd, title, then) = match x.level {
        Level::Deny => (
            "error",
            format!("costgate: {} (blocks)", x.rule.code()),
            format!("Fix: {}", x.help),
        ),
        Level::Approve => match &x.approval {
            Some(a) if a.covered => (
                "notice",
                format!("costgate: {} (approved)", x.rule.code()),
                format!("Approved: {}", a.note),
            ),
            Some(a) => (
                "warning",
                format!("costgate: {} (needs exec approval)", x.rule.code()),
                format!("The approval does not cover it: {}", a.note),
            ),
            None => (
                "warning",
                format!("costgate: {} (needs exec approval)", x.rule.code()),
                format!("Fix: {}", x.help),
            ),
        },
        Level::Warn => (
            "notice",
            format!("costgate: {}", x.rule.code()),
            format!("Fix: {}", x.help),
        ),
        Level::Allow => return None,
    };
    Some((cmd, title, format!("{} {then}", x.message)))
}

/// One workflow command per finding, without the summary line.
pub fn annotations(r: &CheckReport) -> String {
    let mut o = String::new();
    for f in &r.features {
        for x in &f.findings {
            let Some((cmd, mut title, message)) = command(x) else {
                continue;
            };
            if f.blocked_not_new && x.level == Level::Deny {
                // under --fail-on new, an old deny finding does not fail the run
                title = format!("costgate: {} ({})", x.rule.code(), super::doc::BLOCKED_NOT_NEW);
            }
            let mut props = Vec::new();
            match &x.span {
                Some(s) => {
                    props.push(format!("file={}", escape_property(&display_path(&s.file))));
                    if s.line > 0 {
                        props.push(format!("line={}", s.line));
                        props.push(format!("col={}", s.column.max(1)));
                    }
                }
                None => props.push(format!("file={}", escape_property(&display_path(&f.file)))),
            }
            props.push(format!("title={}", escape_property(&title)));
            let _ = writeln!(o, "::{cmd} {}::{}", props.join(","), escape_data(&message));
        }
    }
    o
}

/// `--format github`: the annotations and a summary line.
pub fn render(r: &CheckReport) -> String {
    let mut o = annotations(r);
    let _ = writeln!(o, "costgate: {}.", super::doc::tally(r));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a,b:c%"), "a%2Cb%3Ac%25");
    }

    #[test]
    fn escapes_and_bidi_overrides_never_reach_the_log_raw() {
        let out = escape_data("red \u{1b}[31mtext\u{1b}[0m \u{202e}desrever\u{9b}2J");
        assert!(!out.chars().any(crate::untrusted::needs_escape), "{out:?}");
        assert_eq!(out, "red \\u{1b}[31mtext\\u{1b}[0m \\u{202e}desrever\\u{9b}2J");
        let prop = escape_property("tier\u{1b}]8;;http://x\u{7}");
        assert!(!prop.chars().any(crate::untrusted::needs_escape), "{prop:?}");
    }
}
