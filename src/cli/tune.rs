//! `costgate tune`: the most generous caps that pass, each tier's frontier,
//! and the spec written with them.

use std::fmt::Write as _;
use std::path::PathBuf;

use costgate::check::{self, Choice, Inputs};
use costgate::fmt::{count, pct, usd};
use costgate::tune::{self, Objective, Tuning};
use costgate::untrusted::clean;

use super::{ExportFormat, Failure, ObjectiveArg, TuneArgs, VaryArg};

fn render(t: &Tuning, verdict: &str, written: Option<&str>) -> String {
    let mut o = String::new();
    let q = costgate::fmt::quantile_label(t.confidence);
    let _ = writeln!(
        o,
        "{}: tuning limits, objective {}, {} trials per candidate (seed {}, common random numbers){}",
        clean(&t.feature),
        costgate::tune::page::objective_words(t.objective),
        count(t.trials as f64),
        t.seed,
        if t.coupled {
            "; the limits are coupled (a breaker, two limits of one tier, or a shared breaker or budget): each step was simulated as a whole"
        } else {
            ""
        }
    );
    for f in &t.frontiers {
        let _ = writeln!(
            o,
            "\n{} ({}{}):",
            clean(&f.path),
            clean(&f.tier),
            if f.paying { ", paying" } else { "" }
        );
        let usd_unit = f.unit == "usd";
        let _ = writeln!(
            o,
            "     {:>12}  {:>12}  {:>10}  {:>9}  {:>13}  {:>9}",
            if usd_unit { "limit" } else { "cap" },
            format!("month {q}"),
            format!("cost/rev {q}"),
            "users hit",
            "days affected",
            "unserved"
        );
        for (i, p) in f.points.iter().enumerate() {
            let mark = match (i == f.chosen, p.cap == f.current) {
                (true, true) => "> = ",
                (true, false) => ">   ",
                (false, true) => "  = ",
                _ => "    ",
            };
            let _ = writeln!(
                o,
                " {mark}{:>12}  {:>12}  {:>10}  {:>9}  {:>13}  {:>9}",
                if usd_unit { usd(p.cap) } else { count(p.cap) },
                usd(p.cost_at_confidence),
                if p.ratio_at_confidence.is_finite() {
                    pct(p.ratio_at_confidence)
                } else {
                    "-".into()
                },
                pct(p.users_hit_share),
                pct(p.user_days_affected_share),
                pct(p.unserved_share)
            );
        }
    }
    for g in &t.on_limit {
        let _ = writeln!(o, "\n{} ({}), at the recommended caps:", clean(&g.path), clean(&g.tier));
        let _ = writeln!(
            o,
            "     {:<24}  {:>12}  {:>10}  {:>9}  passes",
            "past the cap",
            format!("month {q}"),
            format!("cost/rev {q}"),
            "unserved"
        );
        for (i, w) in g.ways.iter().enumerate() {
            let mark = match (i == g.chosen, i == g.current) {
                (true, true) => "> = ",
                (true, false) => ">   ",
                (false, true) => "  = ",
                _ => "    ",
            };
            let _ = writeln!(
                o,
                " {mark}{:<24}  {:>12}  {:>10}  {:>9}  {}",
                clean(&w.label()),
                usd(w.cost_at_confidence),
                if w.ratio_at_confidence.is_finite() {
                    pct(w.ratio_at_confidence)
                } else {
                    "-".into()
                },
                pct(w.unserved_share),
                if w.passes { "yes" } else { "no" }
            );
        }
        for w in g.ways.iter().filter(|w| !w.passes) {
            let why = match (w.thresholds_pass, w.verdict) {
                (false, _) => format!("fails {}", w.failing.join(", ")),
                (true, Some(_)) if !w.new_rules.is_empty() => {
                    format!("the check adds {}", w.new_rules.join(", "))
                }
                (true, Some(v)) => format!(
                    "the check says {} (a rule)",
                    match v {
                        costgate::policy::Verdict::Pass => "pass",
                        costgate::policy::Verdict::NeedsApproval => "needs approval",
                        costgate::policy::Verdict::Blocked => "blocked",
                    }
                ),
                (true, None) => "the spec with it could not be checked".to_string(),
            };
            let _ = writeln!(o, "       {}: {why}", clean(&w.label()));
        }
    }
    if !t.not_tuned.is_empty() {
        let _ = writeln!(
            o,
            "\nnot tuned: {}",
            t.not_tuned
                .iter()
                .map(|n| clean(n).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        o,
        "\n(> recommended, = the spec's value; {})",
        if t.on_limit.is_empty() {
            "the other limits at the spec's values in each table"
        } else if t.frontiers.is_empty() {
            "each table past the cap is at the spec's caps"
        } else {
            "the other limits at the spec's values in each frontier; each table past the cap is at the recommended caps"
        }
    );
    if t.passes {
        if t.frontiers.iter().all(|f| f.chosen + 1 == f.points.len()) && !t.frontiers.is_empty() {
            let _ = writeln!(
                o,
                "\nthe most generous value searched passes for every limit: the policy does not bind these limits \
                 (the recommendation is the top of the searched range, 8x the spec's value)"
            );
        }
        let _ = writeln!(o, "\nrecommended:");
        for f in &t.frontiers {
            let (old, new) = (f.current, f.points[f.chosen].cap);
            let show = |v: f64| if f.unit == "usd" { usd(v) } else { count(v) };
            let _ = writeln!(o, "  {}: {} -> {}", clean(&f.path), show(old), show(new));
        }
        for g in &t.on_limit {
            let _ = writeln!(
                o,
                "  {}: {} -> {}",
                clean(&g.path),
                clean(&g.ways[g.current].label()),
                clean(&g.ways[g.chosen].label())
            );
        }
    } else {
        let _ = writeln!(o, "\nnothing in the searched range passes:");
        if let Some(w) = &t.why_not {
            let _ = writeln!(o, "  {}", clean(w));
        }
    }
    let _ = writeln!(o, "\nat the recommendation:");
    for c in &t.checks {
        let _ = writeln!(
            o,
            "  {} {}: {} (policy: {})",
            if c.ok { "ok  " } else { "FAIL" },
            c.figure,
            tune::show(&c.figure, c.value),
            tune::show(&c.figure, c.limit)
        );
    }
    let _ = writeln!(o, "  costgate check of the recommended spec: {verdict}");
    if let Some(s) = &t.stopped {
        let _ = writeln!(o, "\nnote: {}", clean(s));
    }
    if let Some(w) = written {
        let _ = writeln!(o, "\nwrote {}", clean(w));
    }
    o
}

pub fn run(a: &TuneArgs) -> Result<i32, Failure> {
    let paths = vec![a.spec.clone()];
    let choice = Choice {
        policy: a.run.policy.as_deref(),
        pricing: a.run.pricing.as_deref(),
    };
    let today = super::today()?;
    let inputs = Inputs::resolve(&paths, choice, today)?;
    let files = check::spec_files(&paths).map_err(Failure::Input)?;
    if files.len() != 1 {
        return Err(Failure::Usage("tune takes one spec file".into()));
    }
    let set = a.what_if.overrides()?;
    if a.write && !set.is_empty() {
        return Err(Failure::Usage(
            "--write writes the spec as committed with the tuned caps; with --set it would not be the spec you ran: \
             drop --set or --write"
                .into(),
        ));
    }
    // The files this run writes: never the spec it reads (but with
    // --write and no -o), never one another, and a tuned spec in the
    // spec's own format.
    let target: Option<PathBuf> = a.write.then(|| a.output.clone().unwrap_or_else(|| a.spec.clone()));
    let is_toml = |p: &std::path::Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if let Some(o) = &a.output
        && is_toml(o) != is_toml(&a.spec)
    {
        return Err(Failure::Usage(format!(
            "-o {}: the tuned spec is written in the format of {} ({}); give a file ending in .{}",
            clean(&o.display().to_string()),
            clean(&a.spec.display().to_string()),
            if is_toml(&a.spec) { "TOML" } else { "YAML" },
            if is_toml(&a.spec) { "toml" } else { "yaml" }
        )));
    }
    let outputs: Vec<(&str, &PathBuf)> = [
        ("-o", a.output.as_ref()),
        ("--chart", a.chart.as_ref()),
        ("--html", a.html.as_ref()),
    ]
    .into_iter()
    .filter_map(|(f, p)| p.map(|p| (f, p)))
    .collect();
    for (i, (flag, p)) in outputs.iter().enumerate() {
        if costgate::fsutil::same_file(p, &a.spec) {
            return Err(Failure::Usage(format!(
                "{flag} {}: that is the spec being tuned; write it elsewhere{}",
                clean(&p.display().to_string()),
                if *flag == "-o" {
                    " (or drop -o: --write alone writes the spec)"
                } else {
                    ""
                }
            )));
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, q)| costgate::fsutil::same_file(p, q)) {
            return Err(Failure::Usage(format!(
                "{flag} {}: {other} writes that file too; give each its own",
                clean(&p.display().to_string())
            )));
        }
    }
    let loaded = check::load_all_with(&files, &inputs.catalog, &set)?;
    let l = &loaded[0];
    for t in &a.tiers {
        if !l.spec.tiers.iter().any(|x| &x.name == t) {
            return Err(Failure::Usage(format!(
                "--tier {}: the spec has no such tier ({})",
                clean(t),
                l.spec
                    .tiers
                    .iter()
                    .map(|x| clean(&x.name).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if let Some(m) = a.max_p95_usd
        && !(m.is_finite() && m > 0.0)
    {
        return Err(Failure::Usage("--max-p95-usd must be a positive amount".into()));
    }
    let sim = super::check::sim_options(&a.run.sim, false);
    let opts = tune::Options {
        objective: match a.objective {
            ObjectiveArg::Paying => Objective::Paying,
            ObjectiveArg::Cost => Objective::Cost,
            ObjectiveArg::Users => Objective::Users,
        },
        vary: tune::Vary {
            caps: a.vary.contains(&VaryArg::Caps),
            budgets: a.vary.contains(&VaryArg::Budgets),
            breakers: a.vary.contains(&VaryArg::Breakers),
            on_limit: a.vary.contains(&VaryArg::OnLimit),
        },
        tiers: a.tiers.clone(),
        candidates: a.candidates as usize,
        max_p95_usd: a.max_p95_usd,
        sim: sim.clone(),
        today,
    };
    // The search simulates the spec once per candidate (and once per step
    // when the limits are coupled): bounded by the work limit of an analysis.
    let runs = tune::planned_runs(&l.spec, &opts) as f64;
    check::within_limits_for(&l.spec, opts.sim.trials, runs, costgate::sim::limits::Analysis::Tune)
        .map_err(|p| Failure::Input(vec![p]))?;
    let t = tune::tune(l, &inputs.policy, &opts);
    // The recommendation's own check, in full.
    let rec = check::Loaded {
        spec: tune::apply(&l.spec, &t),
        priced: l.priced.clone(),
        approval: None,
    };
    let report = check::analyse(&rec, &inputs.policy, &sim, today).map_err(|p| Failure::Input(vec![p]))?;
    let verdict_words = costgate::report::doc::verdict_label(report.verdict).to_lowercase();
    // The tuned spec, written only when it reads back as the recommendation
    // (the edits are made on text: an anchor shared with another field, a
    // construct the editor does not know, or a file changed during the run
    // would otherwise write something else). A failure is reported after
    // the analysis, with nothing written.
    let mut written = None;
    let mut write_failed = None;
    if let (true, Some(target)) = (t.passes, &target) {
        match write_tuned(a, l, &t, target) {
            Ok(()) => written = Some(target.display().to_string()),
            Err(f) => write_failed = Some(f),
        }
    }
    let th = inputs
        .policy
        .thresholds_for(l.spec.feature.value.as_ref().map(|v| v.kind));
    if let Some(c) = &a.chart {
        costgate::fsutil::write_atomic(c, tune::svg(&t, th.p95_monthly_usd).as_bytes())?;
    }
    if let Some(h) = &a.html {
        let page = costgate::tune::page::html(&t, report.verdict, th.p95_monthly_usd, &a.spec.display().to_string());
        costgate::fsutil::write_atomic(h, page.as_bytes())?;
    }
    let out = match a.format {
        // On a terminal, the lines fit its width (the frontier tables are
        // 80 columns; prose wraps at spaces, never inside a number).
        ExportFormat::Text => match super::check::terminal_width() {
            Some(w) => costgate::report::wrap_prose(&render(&t, &verdict_words, written.as_deref()), w),
            None => render(&t, &verdict_words, written.as_deref()),
        },
        ExportFormat::Json => {
            let v = serde_json::json!({"tuning": t, "recommended_verdict": report.verdict, "written": written});
            let mut s = serde_json::to_string_pretty(&v).map_err(|e| Failure::Internal(e.to_string()))?;
            s.push('\n');
            costgate::untrusted::json_inert(s)
        }
    };
    super::output::print(&out)?;
    if let Some(f) = write_failed {
        return Err(f);
    }
    Ok(if t.passes { 0 } else { 1 })
}

/// Write the spec with `t`'s recommendation to `target`: the spec file's
/// text with the tuned fields edited, checked to read back as
/// [`tune::apply`] of the spec before anything is written.
fn write_tuned(a: &TuneArgs, l: &check::Loaded, t: &Tuning, target: &std::path::Path) -> Result<(), Failure> {
    use costgate::spec::rewrite::{self, Edit, NewValue};
    let cannot = |why: String| {
        Failure::CantCreate(format!(
            "cannot write {}: {why}; nothing was written (the recommendation above can be set by hand)",
            clean(&target.display().to_string())
        ))
    };
    let text = costgate::input::read_text(&a.spec).map_err(|e| cannot(e.message))?;
    let toml = a.spec.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let edits: Vec<Edit> = t
        .changes()
        .into_iter()
        .map(|(path, _, new)| Edit {
            path,
            value: NewValue::Number(new),
        })
        .chain(t.way_changes().into_iter().map(|(path, new)| Edit {
            path,
            value: NewValue::Text(new),
        }))
        .collect();
    let r = rewrite::rewrite(&text, toml, &edits)
        .map_err(|e| cannot(format!("the spec no longer parses: {}", e.message)))?;
    if let Some((p, why)) = r.not_placed.first() {
        return Err(cannot(format!("`{}`: {}", clean(p), clean(why))));
    }
    rewrite::reads_as(&tune::apply(&l.spec, t), &r.text).map_err(|why| cannot(clean(&why).into_owned()))?;
    costgate::fsutil::write_atomic(target, r.text.as_bytes())?;
    Ok(())
}
