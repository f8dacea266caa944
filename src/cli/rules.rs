//! `costgate rules`: the registry's rules, a line each, or one rule's full
//! documentation (`costgate rules CODE`).

use costgate::policy::Rule;
use costgate::policy::rules::{Level, RuleDef};
use costgate::untrusted::clean;

use super::Failure;
use super::args::RulesArgs;
use super::output;

pub fn run(a: &RulesArgs) -> Result<(), Failure> {
    let text = match &a.code {
        None => list(),
        Some(code) => match Rule::from_code(code) {
            Some(r) => document(r.def()),
            None => {
                return Err(Failure::Usage(format!(
                    "unknown rule code `{}`; `costgate rules` lists the {} rule codes",
                    clean(code),
                    Rule::ALL.len()
                )));
            }
        },
    };
    output::print(&text)
}

/// Every rule: code, default level, summary.
fn list() -> String {
    let mut o = String::new();
    for r in Rule::ALL {
        o.push_str(&format!(
            "{:<28} {:<8} {}\n",
            r.code(),
            r.default_level().as_str(),
            r.summary()
        ));
    }
    o
}

/// One rule's entry in the registry, in full.
fn document(d: &RuleDef) -> String {
    let mut o = format!("{}\n\n", d.code);
    o.push_str(&format!("default level: {}\n", d.default_level.as_str()));
    o.push_str(&wrap("summary: ", d.summary, "  "));
    o.push_str(&wrap("fix: ", d.help, "  "));
    o.push('\n');
    o.push_str(&wrap("", d.doc, ""));
    // The example sets the rule's level in a policy: to a level other than
    // its default, so that the example changes something.
    let other = match d.default_level {
        Level::Deny => Level::Warn,
        _ => Level::Deny,
    };
    o.push_str(&format!(
        "\nexample: in costgate.toml, set its level (deny, approve, warn or allow):\n\n    [rules]\n    {} = \"{}\"\n",
        d.code,
        other.as_str()
    ));
    o
}

/// `text` after `lead`, its words joined with single spaces and wrapped at
/// 78 columns, continuation lines starting with `indent`.
fn wrap(lead: &str, text: &str, indent: &str) -> String {
    let mut o = String::new();
    let mut line = lead.to_string();
    let mut empty = true;
    for w in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + w.chars().count() > 78 {
            o.push_str(&line);
            o.push('\n');
            line = format!("{indent}{w}");
        } else {
            if !empty {
                line.push(' ');
            }
            line.push_str(w);
        }
        empty = false;
    }
    o.push_str(&line);
    o.push('\n');
    o
}
