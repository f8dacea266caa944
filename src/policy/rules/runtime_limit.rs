//! `runtime-limit-missing`, `runtime-limit-looser`, `runtime-limit-tighter`:
//! the deployed gateway configuration (`check --runtime`) against the limits
//! the spec's worst case and simulated month rely on.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};
use crate::runtime::FindingKind;

pub(super) const MISSING: RuleDef = RuleDef {
    rule: Rule::RuntimeLimitMissing,
    code: "runtime-limit-missing",
    default_level: Level::Deny,
    summary: "A cap, tenant budget or breaker the spec relies on is not enforced by the deployed gateway (`check --runtime`).",
    help: "apply the limits `costgate export --to GATEWAY` writes, or read the gateway's configuration again",
    doc: "Fires with `check --runtime CONFIG...` for each limit of the spec (a tier's per-user cap, a tenant \
          budget, a named account's budget, a breaker) that the deployed gateway configuration does not enforce: \
          no budget, team, rate-limit rule or policy for it, an alert level the spec sets and the gateway lacks, \
          or (Envoy) no cost expression for the USD limits to count. The spec's worst case and simulated month \
          assume every limit is enforced: without it they are fiction. It points at the limit's line in the spec. \
          What a gateway cannot express at all is not a finding: `export` prints it and the report lists it. Not \
          judged without `--runtime`.",
    check: Check::Feature(missing),
};

pub(super) const LOOSER: RuleDef = RuleDef {
    rule: Rule::RuntimeLimitLooser,
    code: "runtime-limit-looser",
    default_level: Level::Deny,
    summary: "The deployed gateway's limit lets more through than the spec's (`check --runtime`).",
    help: "set the gateway's limit to the spec's (`costgate export` writes it), or change the spec and let the gate judge it",
    doc: "Fires with `check --runtime CONFIG...` when a deployed limit is looser than the spec's: a higher cap or \
          budget, a longer window, a limit that only alerts (shadow mode, a soft budget) where the spec blocks, a \
          fallback to another model than the one the spec prices, a later alert, or (Envoy) a cost expression that \
          is not the spec's prices. The message gives both figures and the gateway file, line and key. A pull \
          request that loosens the gateway without touching the spec is caught here.",
    check: Check::Feature(looser),
};

pub(super) const TIGHTER: RuleDef = RuleDef {
    rule: Rule::RuntimeLimitTighter,
    code: "runtime-limit-tighter",
    default_level: Level::Warn,
    summary: "The deployed gateway stops users earlier than the spec assumes (`check --runtime`).",
    help: "set the gateway's limit to the spec's, or model the stricter limit in the spec so revenue and experience are priced as they are",
    doc: "Fires with `check --runtime CONFIG...` when a deployed limit is tighter than the spec's: a lower cap or \
          budget (beyond the gateway's rounding), a shorter window, or a hard stop where the spec falls back or \
          keeps serving. Cost is then lower than modelled, but users are blocked earlier: revenue or experience is \
          worse than the spec says. The message gives both figures and the gateway file, line and key.",
    check: Check::Feature(tighter),
};

fn push(c: &Ctx, out: &mut Out, def: &'static RuleDef, kind: FindingKind) {
    for f in c.facts.runtime.iter().filter(|f| f.kind == kind) {
        out.push(def, c.at(f.spec_loc, &f.spec_path), f.message.clone());
    }
}

fn missing(c: &Ctx, out: &mut Out) {
    push(c, out, &MISSING, FindingKind::Missing);
}

fn looser(c: &Ctx, out: &mut Out) {
    push(c, out, &LOOSER, FindingKind::Looser);
}

fn tighter(c: &Ctx, out: &mut Out) {
    push(c, out, &TIGHTER, FindingKind::Tighter);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired, fired_with_runtime};
    use super::*;
    use crate::runtime::{Deployed, Gateway, compare};

    fn with_edit(
        spec: &crate::spec::Spec,
        priced: &crate::pricing::PricedModels,
        edit: impl Fn(&str) -> String,
    ) -> Vec<crate::runtime::Finding> {
        let e = crate::runtime::export(spec, priced, Gateway::Envoy);
        let text = edit(std::str::from_utf8(&e.files[0].bytes).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("limits.yaml");
        std::fs::write(&path, text).unwrap();
        let d: Deployed = crate::runtime::read(&[path]).unwrap();
        compare(spec, priced, &d).findings
    }

    #[test]
    fn silent_without_runtime_and_on_the_exported_config() {
        for def in [&MISSING, &LOOSER, &TIGHTER] {
            assert!(fired(def, GOOD, "").is_empty());
            assert!(fired_with_runtime(def, GOOD, |s, p| with_edit(s, p, str::to_string)).is_empty());
        }
    }

    #[test]
    fn each_rule_fires_at_the_limit_line_with_both_figures() {
        // GOOD's free tier caps 20,000 tokens a day.
        let looser = fired_with_runtime(&LOOSER, GOOD, |s, p| {
            with_edit(s, p, |t| t.replace("requests: 20000", "requests: 22000"))
        });
        assert_eq!(looser.len(), 1, "{looser:#?}");
        assert!(
            looser[0].message.contains("22,000") && looser[0].message.contains("20,000"),
            "{}",
            looser[0].message
        );
        let span = looser[0].span.as_ref().expect("a place in the spec");
        assert!(span.path.ends_with("daily_tokens"), "{}", span.path);
        let tighter = fired_with_runtime(&TIGHTER, GOOD, |s, p| {
            with_edit(s, p, |t| t.replace("requests: 20000", "requests: 18000"))
        });
        assert_eq!(tighter.len(), 1, "{tighter:#?}");
        let missing = fired_with_runtime(&MISSING, GOOD, |s, p| {
            with_edit(s, p, |t| t.replace("x-costgate-tier", "x-other-header"))
        });
        assert!(!missing.is_empty(), "{missing:#?}");
    }
}
