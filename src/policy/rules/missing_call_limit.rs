//! `missing-call-limit`: one interaction may make any number of calls.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::MissingCallLimit,
    code: "missing-call-limit",
    default_level: Level::Warn,
    summary: "No `interaction.max_calls`: one interaction's worst case has no ceiling.",
    help: "set `interaction.max_calls` to the most calls the feature allows per interaction",
    doc: "Fires when `interaction.max_calls` is not set, pointing at `interaction`. An agent loop or a retry \
          storm then has no ceiling per interaction, and the worst case reads the calls' distribution instead.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    if c.spec.interaction.max_calls.is_none() {
        out.push(
            &DEF,
            c.at(c.spec.interaction.loc, "interaction"),
            "no `max_calls`: an agent loop or retry storm can make any number of LLM calls per interaction".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_without_max_calls_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, &GOOD.replace("  max_calls: 2\n", ""), "");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span.as_ref().unwrap().path, "interaction");
    }
}
