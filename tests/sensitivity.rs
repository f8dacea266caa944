//! The sensitivity analysis (`sim::sensitivity`): the dominant input ranks
//! first with the right signs, a spec of fixed numbers has only its prices
//! to rank, a bar agrees with a run of the spec written at the input's end
//! (within standard errors) and with the closed form for prices, the base is
//! the report's figure, and the result does not depend on the thread count.

use costgate::economics::Model;
use costgate::sim::sensitivity::{InputKind, Sensitivity, analyse};
use costgate::sim::{Options, simulate};

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap_or_else(|p| panic!("{p:#?}"));
    Model::new(&spec, &priced, 0.99)
}

fn opts(trials: usize, threads: usize) -> Options {
    Options {
        trials,
        threads: Some(threads),
        seed: 7,
        ..Options::default()
    }
}

/// One tier, custom prices, no caps: `interactions` and `users` as given.
/// `costgate check` of one spec file over `trials` months on two threads,
/// with the sensitivity analysis or not.
fn check_one(
    path: std::path::PathBuf,
    policy: &costgate::policy::Policy,
    trials: usize,
    sensitivity: bool,
) -> costgate::report::CheckReport {
    let catalog = costgate::pricing::builtin();
    let req = costgate::check::Request {
        paths: vec![path],
        policy,
        catalog: &catalog,
        sim: Options {
            trials,
            threads: Some(2),
            sensitivity,
            ..Options::default()
        },
        today: "2026-11-28".parse().unwrap(),
    };
    costgate::check::run(&req).unwrap()
}

fn spec(interactions: &str, users: &str, scenarios: &str) -> String {
    format!(
        "costgate: 1
feature: {{id: s, value: {{kind: revenue}}}}
models:
  m: {{input_usd_per_mtok: 1, output_usd_per_mtok: 4}}
interaction:
  input_tokens: {{p50: 1000, p95: 1100}}
  output_tokens: 200
usage:
  active_share: {{low: 0.29, mode: 0.3, high: 0.31}}
  interactions_per_active_day: {interactions}
tiers:
  - name: t
    users: {users}
    price_usd_per_month: 1
    model: m
{scenarios}"
    )
}

fn input<'a>(s: &'a Sensitivity, name: &str) -> &'a costgate::sim::sensitivity::InputEffect {
    s.inputs.iter().find(|i| i.input == name).unwrap_or_else(|| {
        panic!(
            "no input {name} in {:?}",
            s.inputs.iter().map(|i| &i.input).collect::<Vec<_>>()
        )
    })
}

#[test]
fn the_dominant_input_ranks_first_and_every_effect_has_its_sign() {
    // Interactions per active day spread 3 -> 30 at p95; every other input
    // within a few percent. Every input raises the cost when it rises, so
    // each low end's change is below zero and each high end's above,
    // wherever the change is more than 3 standard errors from zero (an
    // input that moves nothing measurable may sit either side).
    let m = model(&spec("{p50: 3, p95: 30}", "{low: 990, mode: 1000, high: 1010}", ""));
    let s = analyse(&m, &opts(2000, 2));
    assert_eq!(
        s.inputs[0].input, "usage.interactions_per_active_day",
        "{:#?}",
        s.inputs
    );
    assert!(s.inputs[0].cost_swing_usd > 3.0 * s.inputs[1].cost_swing_usd.abs());
    for i in &s.inputs {
        for (e, sign) in [(&i.low, -1.0), (&i.high, 1.0)] {
            let (d, se) = (e.cost_change_usd.unwrap(), e.cost_change_se_usd.unwrap());
            if d.abs() > 3.0 * se {
                assert!(d * sign > 0.0, "{}: change {d} ± {se} at the {sign} end", i.input);
            }
        }
    }
    // The list is sorted by the cost swing, largest first.
    assert!(
        s.inputs
            .windows(2)
            .all(|w| w[0].cost_swing_usd.abs() >= w[1].cost_swing_usd.abs())
    );
}

#[test]
fn a_spec_of_fixed_numbers_has_only_its_prices_to_rank_and_they_follow_the_closed_form() {
    // Nothing uncertain but the model's prices. The month's cost is linear
    // in them (no cap, budget or breaker in dollars), and every trial sees
    // the same random numbers: at x0.8 and x1.2 the cost at confidence is
    // the base's x0.8 and x1.2, to rounding.
    let yaml = spec("3", "1000", "")
        .replace("{p50: 1000, p95: 1100}", "1000")
        .replace("{low: 0.29, mode: 0.3, high: 0.31}", "0.3");
    let m = model(&yaml);
    let s = analyse(&m, &opts(1000, 2));
    assert_eq!(s.inputs.len(), 1, "{:#?}", s.inputs);
    let p = &s.inputs[0];
    assert_eq!(p.kind, InputKind::ModelPrice);
    let base = s.base_cost_usd.unwrap();
    assert!(base > 0.0);
    let (lo, hi) = (p.low.cost_usd.unwrap(), p.high.cost_usd.unwrap());
    assert!((lo / base - 0.8).abs() < 1e-9, "low {lo} base {base}");
    assert!((hi / base - 1.2).abs() < 1e-9, "high {hi} base {base}");
}

#[test]
fn a_bar_agrees_with_a_run_of_the_spec_written_at_the_inputs_end() {
    // The users of the tier at their 95th percentile (a triangle 500..2000
    // around 1000: 2000 - sqrt(0.05 x 1500 x 1000) = 1726.1) in every trial
    // against the plain simulation of the same spec with `users: 1726.1...`
    // written in: the same figure up to Monte Carlo noise. The two runs
    // draw different random numbers (a fixed number takes none), so their
    // difference has the variance of two independent figures: allow 4
    // standard errors of it (each figure's SE is the written run's).
    let m = model(&spec("{p50: 3, p95: 6}", "{low: 500, mode: 1000, high: 2000}", ""));
    let s = analyse(&m, &opts(4000, 2));
    let u = input(&s, "tiers.t.users");
    let want = 2000.0 - (0.05f64 * 1500.0 * 1000.0).sqrt();
    assert!((u.high.value - want).abs() < 1e-6, "{} vs {want}", u.high.value);
    let written = model(&spec("{p50: 3, p95: 6}", &format!("{}", u.high.value), ""));
    let r = simulate(&written, &opts(4000, 2));
    let (got, se) = (u.high.cost_usd.unwrap(), r.cost.at_confidence_se.unwrap());
    let direct = r.cost.at_confidence.unwrap();
    assert!(
        (got - direct).abs() < 4.0 * (2.0f64).sqrt() * se,
        "sensitivity {got} vs written {direct} ± {se}"
    );
    // The change's standard error is no worse than that of two independent
    // runs (here the base run's own spread dominates it: pinning the users
    // removes most of the month's spread).
    let base_se = simulate(&m, &opts(4000, 2)).cost.at_confidence_se.unwrap();
    let independent = (base_se * base_se + se * se).sqrt();
    let change_se = u.high.cost_change_se_usd.unwrap();
    assert!(change_se < 1.25 * independent, "{change_se} vs {independent}");
    // Prices x1.2 scale every month by 1.2 on the same trials: the change is
    // 0.2 of the base figure and its standard error 0.2 of the base's (the
    // slope estimates of the two runs differ a little: allow 0.3), where
    // two independent runs would give sqrt(1 + 1.2^2) = 1.56 of it.
    let p = s.inputs.iter().find(|i| i.kind == InputKind::ModelPrice).unwrap();
    let p_se = p.high.cost_change_se_usd.unwrap();
    assert!(p_se < 0.3 * base_se, "{p_se} vs {base_se}");
}

#[test]
fn scenario_chances_go_from_never_to_every_month() {
    // A viral week x10 with a 2% chance (below 5%: the p95 month is an
    // ordinary one): at chance 1 every month has the week and the cost at
    // confidence rises; at 0 it cannot rise.
    let sc = "scenarios:\n  - {name: viral, chance: 0.02, usage_multiplier: 10, days: 7}\n";
    let m = model(&spec("{p50: 3, p95: 6}", "1000", sc));
    let s = analyse(&m, &opts(2000, 2));
    let v = input(&s, "scenarios.viral.chance");
    assert_eq!(v.kind, InputKind::ScenarioChance);
    assert_eq!((v.low.value, v.high.value), (0.0, 1.0));
    let (d, se) = (v.high.cost_change_usd.unwrap(), v.high.cost_change_se_usd.unwrap());
    assert!(d > 3.0 * se, "every month viral: {d} ± {se}");
    assert!(v.low.cost_change_usd.unwrap() <= 3.0 * v.low.cost_change_se_usd.unwrap());
}

#[test]
fn the_base_is_the_reports_figure_and_threads_do_not_change_a_byte() {
    let m = model(&spec("{p50: 3, p95: 12}", "{low: 500, mode: 1000, high: 2000}", ""));
    let one = analyse(&m, &opts(600, 1));
    let two = analyse(&m, &opts(600, 2));
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    let r = simulate(&m, &opts(600, 2));
    assert_eq!(one.base_cost_usd, r.cost.at_confidence);
    assert_eq!(one.base_cost_revenue_ratio, r.cost_revenue_ratio.at_confidence);
}

#[test]
fn a_findings_help_names_the_two_inputs_that_move_its_figure_most_and_the_approval_binds_the_same_figure() {
    // A p95 budget of $1 fails the spec: with the sensitivity analysis the
    // finding's help names interactions per active day first; its figure
    // (what an approval binds to) is the one without the analysis.
    let policy = costgate::policy::load_str("p.toml", "[thresholds]\np95_monthly_usd = 1\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        spec("{p50: 3, p95: 30}", "{low: 990, mode: 1000, high: 1010}", ""),
    )
    .unwrap();
    let catalog = costgate::pricing::builtin();
    let run = |sensitivity: bool| {
        let req = costgate::check::Request {
            paths: vec![path.clone()],
            policy: &policy,
            catalog: &catalog,
            sim: Options {
                trials: 500,
                threads: Some(2),
                sensitivity,
                ..Options::default()
            },
            today: "2026-11-28".parse().unwrap(),
        };
        costgate::check::run(&req).unwrap().features.remove(0)
    };
    let (with, without) = (run(true), run(false));
    let find = |f: &costgate::outcome::FeatureReport| {
        f.findings
            .iter()
            .find(|x| x.rule.code() == "p95-over-budget")
            .cloned()
            .expect("p95-over-budget fires")
    };
    let (a, b) = (find(&with), find(&without));
    assert!(
        a.help
            .contains("p95 month is most sensitive to usage.interactions_per_active_day ("),
        "{}",
        a.help
    );
    assert!(a.help.contains(" and "), "{}", a.help);
    assert!(!b.help.contains("sensitive"), "{}", b.help);
    assert_eq!(
        serde_json::to_string(&a.figure).unwrap(),
        serde_json::to_string(&b.figure).unwrap()
    );
    assert_eq!(with.approval.fingerprint, without.approval.fingerprint);
    assert!(with.sensitivity.is_some() && without.sensitivity.is_none());
}

#[test]
fn every_report_shows_it_sorted_and_the_html_draws_a_tornado() {
    let policy = costgate::policy::Policy::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        spec("{p50: 3, p95: 30}", "{low: 500, mode: 1000, high: 2000}", ""),
    )
    .unwrap();
    let r = check_one(path, &policy, 400, true);
    let s = r.features[0].sensitivity.as_ref().unwrap();
    let names: Vec<&str> = s.inputs.iter().map(|i| i.input.as_str()).collect();
    // JSON: every input
    let json: serde_json::Value = serde_json::from_str(&costgate::report::json(&r)).unwrap();
    let listed: Vec<&str> = json["features"][0]["sensitivity"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["input"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names);
    // input tokens, active share, interactions, users, the model's prices
    assert_eq!(names.len(), 5, "{names:?}");
    // Markdown: a table with every input, in the same order
    let md = costgate::report::markdown::render(&r);
    let at: Vec<usize> = names
        .iter()
        .map(|n| {
            md.find(&format!("| {} |", costgate::report::markdown::escape(n)))
                .unwrap()
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{md}");
    // HTML: the tornado, a bar pair per input
    let html = costgate::report::html::render(&r);
    assert!(html.contains("with each input at its low and high end"), "no tornado");
    assert!(html.matches("fill=\"#1d4ed8\"").count() == names.len());
    // terminal: the five largest
    let t = costgate::report::table::render(
        &r,
        costgate::report::table::Style {
            color: false,
            width: None,
        },
    );
    assert!(t.contains("sensitivity of the p95 month (5 of 5 inputs"), "{t}");
    assert!(t.contains(&format!("    {}", names[0])), "{t}");
}

/// A sensitivity analysis past the work limit of an analysis is not
/// computed, and every format says so and why, instead of dropping it.
#[test]
fn an_analysis_not_computed_says_so_in_every_format() {
    let policy = costgate::policy::Policy::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, spec("{p50: 3, p95: 30}", "1000", "")).unwrap();
    let mut r = check_one(path, &policy, 200, false);
    // The reason the check gives when the limit is passed.
    let why = "the sensitivity analysis simulates the spec about 9 times: too much work";
    r.features[0].sensitivity_not_computed = Some(why.into());
    let json: serde_json::Value = serde_json::from_str(&costgate::report::json(&r)).unwrap();
    assert_eq!(json["features"][0]["sensitivity_not_computed"], why);
    assert!(json["features"][0].get("sensitivity").is_none());
    let table = costgate::report::table::render(&r, costgate::report::table::Style::default());
    assert!(table.contains(&format!("sensitivity not computed: {why}")), "{table}");
    let md = costgate::report::markdown::render(&r);
    assert!(
        md.contains("Sensitivity: what moves the month") && md.contains(&format!("Not computed: {why}.")),
        "{md}"
    );
    // The limit itself: the analysis of a spec is refused by the same check
    // `check` uses, naming it, when its runs pass the analysis limit.
    let spec = costgate::spec::load_str("t.yaml", &spec("{p50: 3, p95: 30}", "1000", "")).unwrap();
    let w = costgate::sim::limits::work(&spec, 10_000).steps;
    let runs = (costgate::sim::limits::MAX_ANALYSIS_STEPS / w).ceil() + 1.0;
    let e = costgate::sim::limits::check_runs(&spec, 10_000, runs, costgate::sim::limits::Analysis::Sensitivity)
        .unwrap_err();
    assert!(
        e.message
            .starts_with("the sensitivity analysis simulates the spec about"),
        "{}",
        e.message
    );
    assert!(e.hint.contains("`--trials "), "{}", e.hint);
    assert!(
        costgate::sim::limits::check_runs(&spec, 10_000, 2.0, costgate::sim::limits::Analysis::Sensitivity).is_ok()
    );
}
