//! The report as the human renderers see it: every string that can carry
//! input (ids, names, owners, files, tiers, models, units, scenario and
//! breaker names, messages, notes, approval fields, catalog names) passed
//! through [`crate::untrusted::clean`], so a spec cannot write a line
//! break, a terminal escape or a GitHub Actions workflow command into the
//! terminal table, the Markdown summary or the HTML report. JSON, SARIF,
//! JUnit and `--format github` render the report as it is and escape in
//! their own syntax.

use std::borrow::Cow;

use crate::outcome::CheckReport;
use crate::untrusted::clean_in_place as c;

fn opt(s: &mut Option<String>) {
    if let Some(s) = s {
        c(s);
    }
}

fn finding(x: &mut crate::policy::Finding) {
    c(&mut x.feature);
    c(&mut x.message);
    c(&mut x.help);
    opt(&mut x.exception);
    if let Some(a) = &mut x.approval {
        c(&mut a.note);
    }
    if let Some(s) = &mut x.span {
        if let Cow::Owned(f) = crate::untrusted::clean(&s.file) {
            s.file = f.into();
        }
        c(&mut s.path);
    }
    if let Some(f) = &mut x.figure {
        c(&mut f.name);
    }
}

fn figures(v: &mut [crate::approval::ApprovedFigure]) {
    for f in v {
        c(&mut f.rule);
        opt(&mut f.name);
    }
}

/// `r` with every input string made inert.
pub fn inert(r: &CheckReport) -> CheckReport {
    let mut r = r.clone();
    c(&mut r.policy);
    c(&mut r.today);
    for f in &mut r.features {
        if let Some(s) = &mut f.sensitivity {
            for i in &mut s.inputs {
                c(&mut i.input);
            }
        }
        c(&mut f.file);
        c(&mut f.id);
        c(&mut f.name);
        opt(&mut f.owner);
        let p = &mut f.pricing;
        c(&mut p.name);
        c(&mut p.checked);
        c(&mut p.source);
        opt(&mut p.pinned);
        for a in &mut p.announced_changes {
            c(&mut a.model);
            c(&mut a.provider);
            c(&mut a.starts);
        }
        for m in &mut f.models {
            c(&mut m.key);
            c(&mut m.requested);
            c(&mut m.id);
            c(&mut m.provider);
            c(&mut m.source);
        }
        for u in &mut f.unit_costs {
            c(&mut u.tier);
            c(&mut u.model);
            opt(&mut u.unbounded_because);
        }
        for t in &mut f.typical.tiers {
            c(&mut t.tier);
        }
        for t in &mut f.worst_case.tiers {
            c(&mut t.tier);
            c(&mut t.reason);
        }
        if let Some(o) = &mut f.observed {
            for x in &mut o.files {
                c(&mut x.path);
            }
            for (_, why) in &mut o.unmeasured {
                c(why);
            }
            for w in &mut o.warnings {
                c(w);
            }
        }
        opt(&mut f.worst_case.bounded_by_breaker);
        for n in &mut f.worst_case.notes {
            c(n);
        }
        if let Some(s) = &mut f.simulation {
            for t in &mut s.tiers {
                c(&mut t.tier);
                for a in &mut t.accounts_breaching_most {
                    c(&mut a.account);
                }
            }
            for b in &mut s.breakers {
                c(&mut b.breaker);
            }
            for x in &mut s.scenarios {
                c(&mut x.scenario);
            }
        }
        for x in &mut f.scenario_effects {
            c(&mut x.scenario);
        }
        if let Some(v) = &mut f.value {
            opt(&mut v.unit);
        }
        if let Some(b) = &mut f.baseline {
            c(&mut b.name);
        }
        for b in &mut f.breach_probabilities {
            c(&mut b.threshold);
        }
        for a in &mut f.assumptions {
            c(&mut a.path);
            c(&mut a.value);
            match &mut a.origin {
                crate::spec::Origin::Measured { note, .. } => c(note),
                crate::spec::Origin::Catalog { entry, source } => {
                    c(entry);
                    c(source);
                }
                crate::spec::Origin::Override { flag } => c(flag),
                _ => {}
            }
        }
        for x in &mut f.findings {
            finding(x);
        }
        for l in &mut f.limits {
            c(&mut l.applies_to);
            c(&mut l.limit);
            c(&mut l.at_limit);
            opt(&mut l.message);
        }
        for o in &mut f.overrides {
            c(&mut o.flag);
            c(&mut o.path);
        }
        let a = &mut f.approval;
        c(&mut a.file);
        c(&mut a.fingerprint);
        figures(&mut a.figures);
        for p in &mut a.inputs.prices {
            c(&mut p.model);
            c(&mut p.id);
        }
        if let Some(rec) = &mut a.record {
            c(&mut rec.by);
            opt(&mut rec.role);
            c(&mut rec.reason);
            c(&mut rec.approved_on);
            c(&mut rec.expires);
            c(&mut rec.fingerprint);
            figures(&mut rec.figures);
        }
    }
    if let Some(p) = &mut r.portfolio {
        for s in &mut p.shares {
            c(&mut s.feature);
        }
        for x in &mut p.findings {
            finding(x);
        }
    }
    r
}
