//! `costgate tune`: a spec a cap can fix gets a passing recommendation that
//! `check` passes once written; a spec no cap can fix says why; frontiers
//! are monotone under common random numbers; the per-tier decomposition is
//! the direct simulation of the combination when the tiers are independent,
//! and coupling (a shared breaker) is detected.

use std::path::PathBuf;

use costgate::check::Loaded;
use costgate::economics::Model;
use costgate::sim::{self, Sorted};
use costgate::tune::{self, Objective, Options};

const GOOD: &str = include_str!("support/good.yaml");
const TRIALS: usize = 600;

fn load(yaml: &str) -> Loaded {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Loaded {
        spec,
        priced,
        approval: None,
    }
}

fn policy(toml: &str) -> costgate::policy::Policy {
    costgate::policy::load_str("costgate.toml", toml).unwrap_or_else(|p| panic!("{p:#?}"))
}

fn opts(candidates: usize) -> Options {
    Options {
        objective: Objective::Paying,
        vary: tune::Vary::default(),
        tiers: Vec::new(),
        candidates,
        max_p95_usd: None,
        sim: sim::Options {
            trials: TRIALS,
            threads: Some(2),
            ..sim::Options::default()
        },
        today: jiff::civil::date(2026, 11, 29),
    }
}

/// The month at 95% of `l`'s spec with `t`'s recommendation applied,
/// simulated directly.
fn recommended_p95(l: &Loaded, t: &tune::Tuning) -> f64 {
    let rec = tune::apply(&l.spec, t);
    let m = Model::new(&rec, &l.priced, 0.999);
    let o = sim::Options {
        trials: TRIALS,
        confidence: 0.95,
        ..sim::Options::default()
    };
    Sorted::new(sim::months(&m, &o).iter().map(|x| x.cost).collect()).quantile(0.95)
}

/// The month at 95% of `l`'s spec with every cap replaced by `cap(tier)`.
fn p95_month(l: &Loaded, cap: impl Fn(&str, f64) -> f64) -> f64 {
    let mut s = l.spec.clone();
    for t in &mut s.tiers {
        if let Some(d) = t.limit.as_mut().and_then(|x| x.daily_tokens.as_mut()) {
            d.value = cap(&t.name, d.value);
        }
    }
    let m = Model::new(&s, &l.priced, 0.999);
    let o = sim::Options {
        trials: TRIALS,
        confidence: 0.95,
        ..sim::Options::default()
    };
    Sorted::new(sim::months(&m, &o).iter().map(|x| x.cost).collect()).quantile(0.95)
}

#[test]
fn a_budget_only_caps_can_meet_gets_a_passing_recommendation_that_check_passes() {
    let l = load(GOOD);
    // The smallest cap searched is one interaction's tokens (1,200).
    let tight = p95_month(&l, |_, _| 1200.0);
    let now = p95_month(&l, |_, v| v);
    assert!(tight < now * 0.8, "caps move the month: {tight} vs {now}");
    let budget = (tight + now) / 2.0;
    let pol = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let t = tune::tune(&l, &pol, &opts(12));
    assert!(!t.coupled, "GOOD has no shared breaker");
    assert!(t.passes, "{:#?}", t.checks);
    assert!(t.why_not.is_none());
    assert!(t.checks.iter().all(|c| c.ok));
    let changes = t.changes();
    assert!(changes.iter().any(|(_, old, new)| new < old), "{changes:?}");
    // The written spec passes `costgate check` under that policy.
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("good.yaml");
    std::fs::write(&spec, GOOD).unwrap();
    std::fs::write(
        tmp.path().join("costgate.toml"),
        format!("[thresholds]\np95_monthly_usd = {budget}\n"),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("costgate");
    let before = std::process::Command::new(&bin)
        .args([
            "check",
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
            "--color",
            "never",
        ])
        .arg(&spec)
        .env("COSTGATE_TODAY", "2026-11-28")
        .output()
        .unwrap();
    assert_eq!(
        before.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&before.stdout)
    );
    let tuned = std::process::Command::new(&bin)
        .arg("tune")
        .arg(&spec)
        .args([
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
            "--candidates",
            "12",
            "--write",
        ])
        .env("COSTGATE_TODAY", "2026-11-28")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&tuned.stdout);
    assert_eq!(
        tuned.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&tuned.stderr)
    );
    assert!(text.contains("recommended:") && text.contains("wrote"), "{text}");
    let written = std::fs::read_to_string(&spec).unwrap();
    assert!(written.contains("message: \"You've used {used}/{limit} free tokens today; they reset at {reset}.\""));
    let after = std::process::Command::new(&bin)
        .args([
            "check",
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
            "--color",
            "never",
        ])
        .arg(&spec)
        .env("COSTGATE_TODAY", "2026-11-28")
        .output()
        .unwrap();
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
}

#[test]
fn a_price_below_cost_says_no_cap_can_fix_it_and_why() {
    // The paying tier pays a cent a month: even one interaction a day
    // costs more than the revenue.
    let yaml = GOOD.replace("price_usd_per_month: 20", "price_usd_per_month: 0.01");
    let l = load(&yaml);
    let t = tune::tune(&l, &policy(""), &opts(8));
    assert!(!t.passes);
    let why = t.why_not.expect("a reason");
    assert!(why.contains("cost/revenue"), "{why}");
    assert!(why.contains("the price or the model must change"), "{why}");
    assert!(why.contains("tiers[0].limit.daily_tokens = 1,200"), "{why}");
}

#[test]
fn frontiers_are_monotone_under_common_random_numbers() {
    let l = load(GOOD);
    let t = tune::tune(&l, &policy(""), &opts(16));
    for f in &t.frontiers {
        assert!(f.points.len() >= 16, "{}: {} points", f.tier, f.points.len());
        assert!(f.points.iter().any(|p| p.cap == f.current), "the spec's cap is a point");
        for w in f.points.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            assert!(a.cap < b.cap);
            assert!(b.cost_at_confidence >= a.cost_at_confidence, "{}: {a:?} {b:?}", f.tier);
            assert!(b.users_hit_share <= a.users_hit_share, "{}: {a:?} {b:?}", f.tier);
            assert!(
                b.user_days_affected_share <= a.user_days_affected_share,
                "{}: {a:?} {b:?}",
                f.tier
            );
            assert!(b.unserved_share <= a.unserved_share, "{}: {a:?} {b:?}", f.tier);
        }
    }
}

#[test]
fn the_decomposition_is_the_direct_simulation_and_coupling_is_detected() {
    let l = load(GOOD);
    let budget = p95_month(&l, |n, v| if n == "free" { 1200.0 } else { v * 0.5 }) * 1.02;
    let pol = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let t = tune::tune(&l, &pol, &opts(10));
    assert!(!t.coupled);
    // The month at the recommendation, as the search combined it, is the
    // month simulated directly with the recommended caps.
    let direct = recommended_p95(&l, &t);
    let combined = t.checks[0].value;
    assert!((direct - combined).abs() <= 1e-9 * direct, "{direct} vs {combined}");
    // A feature breaker couples the tiers: detected, and every step is
    // simulated as a whole.
    let yaml = format!("{GOOD}breakers:\n  feature_daily_usd: {{limit: 2, on_trip: block}}\n");
    let l = load(&yaml);
    let t = tune::tune(&l, &policy(""), &opts(4));
    assert!(t.coupled);
}

#[test]
fn tiers_past_the_rows_inline_ones_decompose_like_the_first() {
    // Six tiers (a search keeps the first four's figures of each trial in
    // the row itself, the others beside it): the decomposition still holds
    // (no tier's month moves but its own cap's), and the month the search
    // combined at the recommendation is the month simulated directly.
    let mut yaml = GOOD.to_string();
    for k in 2..5 {
        let more = &GOOD[GOOD.find("  - name: free").unwrap()..];
        yaml.push_str(
            &more
                .replace("name: free", &format!("name: free{k}"))
                .replace("name: pro", &format!("name: pro{k}")),
        );
    }
    let l = load(&yaml);
    assert_eq!(l.spec.tiers.len(), 8);
    let budget = p95_month(&l, |n, v| if n == "pro4" { v * 0.2 } else { v }) * 1.01;
    let pol = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let t = tune::tune(&l, &pol, &opts(6));
    assert!(!t.coupled, "separate tiers' caps found coupled");
    let direct = recommended_p95(&l, &t);
    let combined = t.checks[0].value;
    assert!((direct - combined).abs() <= 1e-9 * direct, "{direct} vs {combined}");
    assert!(direct <= budget, "{direct} > {budget}");
}

/// GOOD with a second, cheaper model and a pro cap that binds.
fn two_models() -> String {
    GOOD.replace(
        "  primary: claude-haiku-4-5\n",
        "  primary: claude-haiku-4-5\n  cheap: gpt-4.1-nano\n",
    )
    .replace("daily_tokens: 100000", "daily_tokens: 6000")
        + "breakers:\n  feature_daily_usd: {limit: 60, on_trip: block}\n"
}

fn ways_only_opts() -> Options {
    let mut o = opts(4);
    ways_only(&mut o);
    o
}

fn ways_only(o: &mut Options) {
    o.vary = tune::Vary {
        caps: false,
        budgets: false,
        breakers: false,
        on_limit: true,
    };
}

#[test]
fn on_limit_search_picks_the_most_graceful_way_that_passes() {
    let l = load(&two_models());
    let mut o = opts(4);
    ways_only(&mut o);
    let t = tune::tune(&l, &policy(""), &o);
    assert!(t.passes, "{:#?}", t.checks);
    assert_eq!(t.on_limit.len(), 2, "{:#?}", t.on_limit);
    // The free tier: every way but block is denied by the default rules
    // (free-tier-without-hard-cap), so it stays at block.
    let free = &t.on_limit[0];
    assert_eq!(free.tier, "free");
    assert_eq!(free.ways[free.current].label(), "block");
    assert_eq!(free.chosen, free.current);
    for w in free.ways.iter().filter(|w| w.label() != "block") {
        assert!(w.thresholds_pass && !w.passes, "{w:?}");
        assert_eq!(w.verdict, Some(costgate::policy::Verdict::Blocked));
    }
    // Without the breaker no cap that stops blocking bounds the worst case:
    // those ways fail that threshold and say so.
    let unbounded = load(&GOOD.replace(
        "  primary: claude-haiku-4-5\n",
        "  primary: claude-haiku-4-5\n  cheap: gpt-4.1-nano\n",
    ));
    let tu = tune::tune(&unbounded, &policy(""), &o);
    for w in tu.on_limit[1].ways.iter().filter(|w| w.label() != "block") {
        assert!(
            !w.passes && w.failing.iter().any(|f| f.starts_with("worst-case")),
            "{w:?}"
        );
    }
    // The pro tier: every way passes; the chosen one leaves the least demand
    // unserved (the cheaper model serves everything past the cap).
    let pro = &t.on_limit[1];
    let labels: Vec<String> = pro.ways.iter().map(|w| w.label()).collect();
    assert_eq!(labels, ["block", "throttle", "shrink", "fallback to cheap"]);
    assert!(pro.ways.iter().all(|w| w.passes), "{:#?}", pro.ways);
    let chosen = &pro.ways[pro.chosen];
    assert_eq!(chosen.label(), "fallback to cheap");
    let block = &pro.ways[0];
    assert!(block.unserved_share > 0.01, "the cap binds: {block:?}");
    assert!(pro.ways.iter().all(|w| chosen.unserved_share <= w.unserved_share));
    // Common random numbers: serving more past the cap costs more, trial
    // by trial, so the month at p95 is ordered as the demand served.
    assert!(
        chosen.cost_at_confidence > block.cost_at_confidence,
        "{chosen:?} vs {block:?}"
    );
    // The thresholds at the recommendation are those of the chosen ways.
    assert_eq!(t.checks[0].value, chosen.cost_at_confidence);
    let rec = tune::apply(&l.spec, &t);
    let lim = rec.tiers[1].limit.as_ref().unwrap();
    assert_eq!(lim.on_limit, costgate::spec::OnLimit::Fallback);
    assert_eq!(lim.fallback_model.as_deref(), Some("cheap"));
    assert_eq!(
        t.way_changes(),
        [
            ("tiers[1].limit.on_limit".to_string(), "fallback".to_string()),
            ("tiers[1].limit.fallback_model".to_string(), "cheap".to_string()),
        ]
    );

    // A month budget between block's and the fallback's: the fallback
    // breaks it, so it is not chosen; the way chosen meets it and leaves
    // the least unserved of those that do.
    let budget = (block.cost_at_confidence + chosen.cost_at_confidence) / 2.0;
    let t2 = tune::tune(&l, &policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n")), &o);
    let pro2 = &t2.on_limit[1];
    let c2 = &pro2.ways[pro2.chosen];
    assert!(c2.cost_at_confidence <= budget && c2.passes, "{c2:?}");
    assert_ne!(c2.label(), "fallback to cheap");
    assert!(!pro2.ways[3].thresholds_pass && !pro2.ways[3].passes);
    for w in pro2.ways.iter().filter(|w| w.passes) {
        assert!(c2.unserved_share <= w.unserved_share, "{c2:?} vs {w:?}");
    }
    // With the cost objective: the cheapest way that passes (block).
    o.objective = Objective::Cost;
    let t3 = tune::tune(&l, &policy(""), &o);
    let pro3 = &t3.on_limit[1];
    assert_eq!(pro3.ways[pro3.chosen].label(), "block");
    // A fallback to the tier's own model is the spec's way, shown as such
    // (not taken for block).
    let own = load(&two_models().replacen(
        "      daily_tokens: 6000\n      on_limit: block\n",
        "      daily_tokens: 6000\n      on_limit: fallback\n      fallback_model: primary\n",
        1,
    ));
    let t5 = tune::tune(&own, &policy(""), &ways_only_opts());
    let pro5 = &t5.on_limit[1];
    assert_eq!(pro5.ways[pro5.current].label(), "fallback to primary");
    assert_eq!(pro5.ways.len(), 5);
    // Not asked for: nothing of it.
    let t4 = tune::tune(&l, &policy(""), &opts(4));
    assert!(t4.on_limit.is_empty());
}

#[test]
fn on_limit_written_keeps_the_file_and_the_written_spec_passes_check() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("two.yaml");
    let text = two_models();
    std::fs::write(&spec, &text).unwrap();
    let run = |args: &[&str]| {
        let (code, out, _) = cli(args, &spec);
        (code, out)
    };
    let page = tmp.path().join("tune.html");
    let (code, out) = run(&[
        "tune",
        "--vary",
        "on-limit",
        "--write",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Past the cap of tiers[1].limit.on_limit (pro)"), "{html}");
    assert!(
        html.contains("<td>recommended</td><td>fallback to cheap</td>"),
        "{html}"
    );
    assert!(html.contains("<td>the spec's</td><td>block</td>"), "{html}");
    assert!(
        out.contains("tiers[1].limit.on_limit: block -> fallback to cheap"),
        "{out}"
    );
    assert!(
        out.contains("       throttle: the check adds free-tier-without-hard-cap\n"),
        "{out}"
    );
    let written = std::fs::read_to_string(&spec).unwrap();
    // Only the pro tier's way changed: its on_limit, and a fallback_model
    // added to the limit; everything else byte for byte.
    let want = text.replacen(
        "      daily_tokens: 6000\n      on_limit: block\n",
        "      daily_tokens: 6000\n      on_limit: fallback\n",
        1,
    );
    let (a, b) = (want.lines().collect::<Vec<_>>(), written.lines().collect::<Vec<_>>());
    assert_eq!(b.len(), a.len() + 1, "{written}");
    assert!(written.contains("      fallback_model: cheap\n"), "{written}");
    let without: Vec<&str> = b
        .iter()
        .copied()
        .filter(|x| *x != "      fallback_model: cheap")
        .collect();
    assert_eq!(without, a, "{written}");
    let (code, out) = run(&["check"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let bin = assert_cmd::cargo::cargo_bin("costgate");
    let spec = PathBuf::from("specs/tiered-assistant.yaml");
    let out = std::process::Command::new(&bin)
        .args(["tune", "--tier", "platinum"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--tier platinum: the spec has no such tier (free, pro, enterprise)")
    );
    let out = std::process::Command::new(&bin)
        .args(["tune", "--objective", "users"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "--objective users needs --max-p95-usd");
    let out = std::process::Command::new(&bin)
        .arg("tune")
        .arg(&spec)
        .args(["--write", "--set", "tiers.pro.limit.daily_tokens=5000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "a what-if is never written as the spec");
    let out = std::process::Command::new(&bin)
        .arg("tune")
        .arg(&spec)
        .args(["--objective", "users", "--max-p95-usd", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-p95-usd must be a positive amount"));
    let out = std::process::Command::new(&bin)
        .args(["tune", "specs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tune takes one spec file"));
}

#[test]
fn the_chart_draws_each_frontier_and_escapes_the_names() {
    let yaml = GOOD.replace("- name: free", "- name: \"free <b>&amp;\"");
    let l = load(&yaml);
    let t = tune::tune(&l, &policy(""), &opts(6));
    let svg = tune::svg(&t, 25_000.0);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("<polyline").count(), t.frontiers.len());
    for f in &t.frontiers {
        let line = svg
            .lines()
            .filter(|l| l.starts_with("<polyline"))
            .nth(t.frontiers.iter().position(|g| g.tier == f.tier).unwrap())
            .unwrap();
        let n = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .count();
        assert_eq!(n, f.points.len());
    }
    assert!(svg.contains("free &lt;b&gt;&amp;amp;"), "{svg}");
    assert!(!svg.contains("<b>"));
    assert_eq!(
        svg.matches("<circle").count(),
        t.frontiers.len(),
        "one recommended point per tier"
    );
}

/// The candidates share the spec's demand tables: that must be exactly the
/// simulation that draws them again, for every kind of change a search
/// makes (caps, tenant budgets, breakers), or the frontier would not be
/// the months `check` simulates.
#[test]
fn shared_tables_give_the_months_of_a_fresh_simulation() {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/tiered-assistant.yaml")).unwrap();
    let l = load(&text);
    let o = sim::Options {
        trials: 300,
        confidence: 0.95,
        threads: Some(2),
        ..sim::Options::default()
    };
    let base = Model::new(&l.spec, &l.priced, 0.999);
    let tables = sim::Tables::new(&base, &o);
    let mut variants = Vec::new();
    for k in [0.1, 3.0] {
        let mut s = l.spec.clone();
        for t in &mut s.tiers {
            if let Some(d) = t.limit.as_mut().and_then(|x| x.daily_tokens.as_mut()) {
                d.value *= k;
            }
            if let Some(b) = t.tenant_budget.as_mut() {
                b.monthly_usd.value *= k;
            }
        }
        if let Some(b) = s.breakers.feature_daily_usd.as_mut() {
            b.limit.value *= k;
        }
        variants.push(s);
    }
    variants.push(l.spec.clone());
    for s in &variants {
        let m = Model::new(s, &l.priced, 0.999);
        let fresh = sim::months(&m, &o);
        let shared = sim::months_on(&m, &o, &tables);
        assert_eq!(fresh.len(), shared.len());
        assert!(fresh == shared, "shared tables changed the months");
    }
}

/// Months worked out together (models that differ in caps and breaker
/// limits, sharing the tiers they have alike) are byte for byte each
/// model's own months, on every bundled example (tenants with budgets,
/// monthly caps, top-ups, overage, runaway loops); and a set that differs
/// in something else (a tenant budget) is still right, one model at a time.
#[test]
fn months_worked_out_together_are_each_models_own_months() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let o = sim::Options {
        trials: 200,
        confidence: 0.95,
        threads: Some(2),
        ..sim::Options::default()
    };
    let mut shared_somewhere = false;
    let mut alerts_left_out = false;
    let (mut twin_followed, mut twin_split) = (false, false);
    for name in [
        "specs/tiered-assistant.yaml",
        "specs/tiers-from-the-thread.yaml",
        "specs/enterprise-copilot.yaml",
        "specs/support-assistant.yaml",
        "specs/consumer-chat.toml",
        "fixtures/bench/monthly-caps.yaml",
        "fixtures/bench/top-ups.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        let spec = costgate::spec::load_str(name, &text).unwrap_or_else(|p| panic!("{p:#?}"));
        let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
        let l = Loaded {
            spec,
            priced,
            approval: None,
        };
        let base = Model::new(&l.spec, &l.priced, 0.999);
        let tables = sim::Tables::new(&base, &o);
        // The spec with the caps of tier `ti` (`usize::MAX`: every tier's;
        // `None`: no tier's) and the feature and global breakers' limits
        // times `k`.
        let scaled = |k: f64, caps: Option<usize>| {
            let mut s = l.spec.clone();
            for (j, t) in s.tiers.iter_mut().enumerate() {
                if caps.is_none_or(|ti| ti != usize::MAX && j != ti) {
                    continue;
                }
                if let Some(x) = t.limit.as_mut() {
                    for v in [x.daily_tokens.as_mut(), x.monthly_tokens.as_mut()]
                        .into_iter()
                        .flatten()
                    {
                        v.value *= k;
                    }
                }
            }
            for b in [
                s.breakers.feature_daily_usd.as_mut(),
                s.breakers.global_daily_usd.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                b.limit.value *= k;
            }
            Model::new(&s, &l.priced, 0.999)
        };
        let mut models = vec![base.clone()];
        for (k, ti) in [(0.1, 0usize), (3.0, 1), (0.5, 0), (2.0, usize::MAX)] {
            models.push(scaled(k, Some(ti)));
        }
        // Breaker limits alone: the highest's month is followed for the
        // others (twins) until a day on which one of them trips.
        // (Not with a user breaker: its trips are drawn, and such models are
        // worked out one at a time.)
        let has_breakers = (l.spec.breakers.feature_daily_usd.is_some() || l.spec.breakers.global_daily_usd.is_some())
            && l.spec.breakers.user_daily_usd.is_none();
        let twins_from = models.len();
        for k in [0.3, 1.5, 4.0] {
            models.push(scaled(k, None));
        }
        let sharing = sim::sharing(&models, &o, &tables);
        if has_breakers {
            assert!(sharing.twins, "{name}: breaker limits alone make twins");
        }
        // A set that differs in a tenant budget cannot share: still right.
        let mut odd = models.clone();
        let mut s = l.spec.clone();
        for t in &mut s.tiers {
            if let Some(b) = t.tenant_budget.as_mut() {
                b.monthly_usd.value *= 0.3;
            }
        }
        odd.push(Model::new(&s, &l.priced, 0.999));
        // Each month without its tenants' alerts.
        let without_alerts = |months: &[sim::month::Month]| -> Vec<sim::month::Month> {
            let mut months = months.to_vec();
            for month in &mut months {
                for t in &mut month.tiers {
                    t.tenant_alerts.clear();
                }
            }
            months
        };
        for (n, set) in [&models, &odd].into_iter().enumerate() {
            let together = sim::months_together_on(set, &o, &tables, true);
            let lean = sim::months_together_on(set, &o, &tables, false);
            assert_eq!(together.len(), set.len());
            assert_eq!(lean.len(), set.len());
            for ((m, months), lean) in set.iter().zip(&together).zip(&lean) {
                let alone = sim::months_on(m, &o, &tables);
                assert!(
                    alone == *months,
                    "{name}: months worked out together differ from the model's own"
                );
                // Without the tenants' alerts, the rest is the same.
                alerts_left_out |= lean.iter().zip(months).any(|(l, w)| {
                    l.tiers
                        .iter()
                        .zip(&w.tiers)
                        .any(|(l, w)| l.tenant_alerts.is_empty() && !w.tenant_alerts.is_empty())
                });
                assert!(
                    without_alerts(&alone) == without_alerts(lean),
                    "{name}: months without tenant alerts differ from the model's own in another figure"
                );
            }
            // A twin's month is its lead's in a trial where neither trips a
            // breaker, and its own in one where one does: both happen.
            if n == 0 && has_breakers {
                let (low, lead) = (&together[twins_from], &together[twins_from + 2]);
                twin_followed |= low.iter().zip(lead).any(|(a, b)| a == b);
                twin_split |= low.iter().zip(lead).any(|(a, b)| a != b);
            }
        }
        shared_somewhere |= sharing.days;
    }
    assert!(
        twin_followed && twin_split,
        "twins: followed {twin_followed}, split {twin_split}"
    );
    assert!(
        alerts_left_out,
        "no example left out a tenant alert: the test would not test it"
    );
    assert!(
        shared_somewhere,
        "no example shared a tier's day: the test would not test the sharing"
    );
}

/// A spec whose caps are not varied but whose feature breaker is: the
/// breaker's frontier is monotone in its limit, a month budget only a lower
/// limit meets gets a passing recommendation, and the spec with it passes
/// when simulated in full.
#[test]
fn a_breaker_limit_is_tuned_when_only_it_can_meet_the_budget() {
    let yaml = format!("{GOOD}breakers:\n  feature_daily_usd: {{limit: 20, on_trip: block}}\n");
    let l = load(&yaml);
    let month_with = |limit: f64| {
        let mut s = l.spec.clone();
        s.breakers.feature_daily_usd.as_mut().unwrap().limit.value = limit;
        let m = Model::new(&s, &l.priced, 0.999);
        let o = sim::Options {
            trials: TRIALS,
            confidence: 0.95,
            ..sim::Options::default()
        };
        Sorted::new(sim::months(&m, &o).iter().map(|x| x.cost).collect()).quantile(0.95)
    };
    let now = month_with(20.0);
    // A day's spend is capped at the limit: 30 days at 20/16 bound the month.
    let tight = month_with(20.0 / 16.0);
    assert!(tight < now * 0.8, "the breaker moves the month: {tight} vs {now}");
    let budget = (tight + now) / 2.0;
    let pol = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let mut o = opts(12);
    o.vary = tune::Vary {
        caps: false,
        budgets: false,
        breakers: true,
        on_limit: false,
    };
    let t = tune::tune(&l, &pol, &o);
    assert_eq!(t.frontiers.len(), 1, "only the breaker is varied");
    let f = &t.frontiers[0];
    assert_eq!(f.path, "breakers.feature_daily_usd.limit");
    assert_eq!((f.kind, f.unit, f.tier.as_str()), ("breaker", "usd", "all tiers"));
    assert!(
        t.coupled,
        "a breaker sees every tier: the search simulates whole months"
    );
    for w in f.points.windows(2) {
        assert!(w[0].cap < w[1].cap);
        assert!(w[1].cost_at_confidence >= w[0].cost_at_confidence, "{:?}", w);
        assert!(w[1].unserved_share <= w[0].unserved_share, "{:?}", w);
    }
    assert!(t.passes, "{:#?}", t.checks);
    let chosen = f.points[f.chosen].cap;
    assert!(chosen < 20.0, "the limit is lowered: {chosen}");
    // The recommendation, simulated directly, is within the budget: the
    // search's figure is that simulation's (whole months when coupled).
    let direct = month_with(chosen);
    assert!(direct <= budget, "{direct} > {budget}");
    assert!((direct - t.checks[0].value).abs() <= 1e-9 * direct);
    // And the next value up does not pass: the most generous that passes.
    if f.chosen + 1 < f.points.len() {
        assert!(month_with(f.points[f.chosen + 1].cap) > budget);
    }
}

/// A breaker or budget that only notifies cuts nothing: it is not varied,
/// and `tune` says why.
#[test]
fn limits_that_only_notify_are_not_varied_and_say_why() {
    let yaml = format!("{GOOD}breakers:\n  feature_daily_usd: {{limit: 1000, on_trip: notify, notify: [on-call]}}\n");
    let l = load(&yaml);
    let t = tune::tune(&l, &policy(""), &opts(3));
    assert!(t.frontiers.iter().all(|f| f.kind == "cap"), "{:?}", t.frontiers);
    assert!(
        t.not_tuned
            .iter()
            .any(|n| n.contains("breakers.feature_daily_usd") && n.contains("only notifies")),
        "{:?}",
        t.not_tuned
    );
}

/// The work limit counts every simulation of an analysis: a search of
/// 40 candidates over 20 tiers is refused before anything runs, naming
/// `tune`, with the trials that would fit.
#[test]
fn tune_is_bounded_by_the_work_limit_of_an_analysis() {
    let mut yaml = GOOD.split("tiers:\n").next().unwrap().to_string() + "tiers:\n";
    for i in 0..20 {
        yaml.push_str(&format!(
            "  - {{name: t{i}, users: {{p50: 2000, p95: 4000}}, price_usd_per_month: 20, model: primary, limit: {{daily_tokens: 50000, on_limit: block, message: \"Limit {{used}}/{{limit}}, resets {{reset}}.\"}}}}\n"
        ));
    }
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("wide.yaml");
    std::fs::write(&spec, &yaml).unwrap();
    let l = load(&yaml);
    let w = sim::limits::work(&l.spec, 10_000);
    assert!(w.steps <= sim::limits::MAX_STEPS, "one run fits: {}", w.steps);
    let mut o = opts(40);
    o.vary = tune::Vary {
        caps: true,
        budgets: false,
        breakers: false,
        on_limit: false,
    };
    let runs = tune::planned_runs(&l.spec, &o) as f64;
    assert!(runs > 20.0 * 30.0, "{runs}");
    assert!(w.steps * runs > sim::limits::MAX_ANALYSIS_STEPS, "the search does not");
    let bin = assert_cmd::cargo::cargo_bin("costgate");
    let out = std::process::Command::new(&bin)
        .arg("tune")
        .arg(&spec)
        .args(["--candidates", "40", "--vary", "caps"])
        .env("COSTGATE_TODAY", "2026-11-28")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(err.contains("tune simulates the spec about"), "{err}");
    assert!(err.contains("`--trials "), "{err}");
    // The hint's trials fit; one more does not.
    let n: usize = err
        .split("`--trials ")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .and_then(|s| s.parse().ok())
        .expect("a trial count in the hint");
    assert!(sim::limits::check_runs(&l.spec, n, runs, sim::limits::Analysis::Tune).is_ok());
    assert!(sim::limits::check_runs(&l.spec, n + 1, runs, sim::limits::Analysis::Tune).is_err());
}

/// A coupled search that reaches its budget of whole simulations stops
/// where it got to, says so, and does not claim a pass it did not find; with
/// room it goes on to a passing recommendation.
#[test]
fn a_coupled_search_stops_at_its_budget_and_says_so() {
    let yaml = format!("{GOOD}breakers:\n  feature_daily_usd: {{limit: 20, on_trip: block}}\n");
    let l = load(&yaml);
    let mut o = opts(12);
    o.vary = tune::Vary {
        caps: false,
        budgets: false,
        breakers: true,
        on_limit: false,
    };
    // A budget only a tight breaker meets: the search must step down from
    // the most generous limit, one whole simulation per step.
    let month_with = |limit: f64| {
        let mut s = l.spec.clone();
        s.breakers.feature_daily_usd.as_mut().unwrap().limit.value = limit;
        let m = Model::new(&s, &l.priced, 0.999);
        let so = sim::Options {
            trials: TRIALS,
            confidence: 0.95,
            ..sim::Options::default()
        };
        Sorted::new(sim::months(&m, &so).iter().map(|x| x.cost).collect()).quantile(0.95)
    };
    let budget = (month_with(20.0 / 16.0) + month_with(20.0)) / 2.0;
    let pol = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let planned = tune::planned_runs(&l.spec, &o);
    let free = tune::tune_within(&l, &pol, &o, usize::MAX);
    assert!(
        free.coupled && free.passes && free.stopped.is_none(),
        "{:#?}",
        free.checks
    );
    let top = free.frontiers[0].points.len() - 1;
    assert!(
        free.frontiers[0].chosen + 2 <= top,
        "the search needs two steps down or more: chose {} of {top}",
        free.frontiers[0].chosen
    );
    // One simulation past the planned runs: the search starts, then stops.
    let t = tune::tune_within(&l, &pol, &o, planned + 1);
    let why = t.stopped.as_deref().expect("stopped at the budget");
    assert!(why.contains("work limit"), "{why}");
    assert!(t.simulations <= planned + 2, "{} simulations", t.simulations);
    assert!(!t.passes, "the search did not reach a passing combination");
    assert_eq!(
        t.why_not.as_deref(),
        Some(why),
        "the reason it does not pass is the stop"
    );
    // The frontier is the same: the limit's own runs were all simulated.
    assert_eq!(t.frontiers[0].points.len(), free.frontiers[0].points.len());
}

/// A coupled search that simulates ahead on guesses (the combinations it
/// would need next if the guesses were the answers, simulated together)
/// takes the same steps and recommends the same limits as the search that
/// simulates each combination when it needs it: the guesses only choose
/// what is simulated when. On the tiered example (coupled through its
/// breakers), with the default objective and with a target the guesses
/// lead astray on the way.
#[test]
fn a_search_ahead_on_guesses_takes_the_steps_of_the_search_step_by_step() {
    let yaml =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/tiered-assistant.yaml")).unwrap();
    let l = load(&yaml);
    let without = |t: &tune::Tuning| {
        let mut v = serde_json::to_value(t).unwrap();
        v.as_object_mut().unwrap().remove("simulations");
        v
    };
    for (objective, target) in [(Objective::Paying, None), (Objective::Users, Some(5_000.0))] {
        let mut o = opts(12);
        o.objective = objective;
        o.max_p95_usd = target;
        let pol = policy("");
        let ahead = tune::tune_within(&l, &pol, &o, usize::MAX);
        let stepwise = tune::tune_stepwise(&l, &pol, &o, usize::MAX);
        assert!(ahead.coupled, "the breakers couple the tiers");
        let steps: usize = ahead.frontiers.iter().map(|f| f.points.len() - 1 - f.chosen).sum();
        assert!(steps >= 3, "{objective:?}: the search took {steps} steps down");
        assert_eq!(without(&ahead), without(&stepwise), "{objective:?}");
    }
}

#[test]
fn on_a_tie_the_spec_s_way_stays_and_a_way_that_adds_a_gating_rule_is_not_chosen() {
    // A cap nothing reaches: every way gives the same months, and the
    // spec's way (shrink, or a fallback) is kept rather than moved to block.
    for (way, label) in [
        ("on_limit: shrink\n", "shrink"),
        ("on_limit: fallback\n      fallback_model: cheap\n", "fallback to cheap"),
    ] {
        let l = load(&two_models().replacen(
            "      daily_tokens: 6000\n      on_limit: block\n",
            &format!("      daily_tokens: 50000000\n      {way}"),
            1,
        ));
        let t = tune::tune(&l, &policy(""), &ways_only_opts());
        let pro = &t.on_limit[1];
        assert_eq!(pro.ways[pro.current].label(), label);
        let c = &pro.ways[pro.current];
        // The tie is real: every way that passes has the same figures.
        for w in pro.ways.iter().filter(|w| w.passes) {
            assert_eq!(
                (w.unserved_share, w.cost_at_confidence),
                (c.unserved_share, c.cost_at_confidence)
            );
        }
        assert!(pro.ways.iter().filter(|w| w.passes).count() > 1, "{:#?}", pro.ways);
        assert_eq!(pro.chosen, pro.current, "{label}: {:#?}", pro.ways);
        assert!(t.way_changes().is_empty());
    }
    // A spec already blocked by another rule (the free cap is below one
    // call): a free tier that stops blocking adds `free-tier-without-hard-cap`,
    // so it stays at block although its verdict would be no worse.
    let l = load(&two_models().replacen("daily_tokens: 20000", "daily_tokens: 50", 1));
    let t = tune::tune(&l, &policy(""), &ways_only_opts());
    let free = &t.on_limit[0];
    assert_eq!(
        free.ways[free.current].verdict,
        Some(costgate::policy::Verdict::Blocked)
    );
    assert_eq!(free.chosen, free.current, "{:#?}", free.ways);
    let others: Vec<&tune::Way> = free.ways.iter().filter(|w| w.label() != "block").collect();
    assert!(!others.is_empty());
    for w in others {
        assert!(w.unserved_share < free.ways[free.current].unserved_share, "{w:?}");
        assert_eq!(w.new_rules, ["free-tier-without-hard-cap"], "{w:?}");
        assert!(!w.passes);
    }
}

#[test]
fn with_only_the_ways_varied_a_way_can_fix_a_failing_spec() {
    // The pro tier falls back to a dear model past its cap; a month budget
    // between the cheapest way's month and the spec's fails the spec, and
    // another way past the cap meets it.
    let text = two_models()
        .replace("  cheap: gpt-4.1-nano\n", "  cheap: gpt-4.1-nano\n  dear: gpt-4.1\n")
        .replacen(
            "      daily_tokens: 6000\n      on_limit: block\n",
            "      daily_tokens: 6000\n      on_limit: fallback\n      fallback_model: dear\n",
            1,
        );
    let l = load(&text);
    let t0 = tune::tune(&l, &policy(""), &ways_only_opts());
    let pro0 = &t0.on_limit[1];
    let spec_month = pro0.ways[pro0.current].cost_at_confidence;
    let least = pro0
        .ways
        .iter()
        .map(|w| w.cost_at_confidence)
        .fold(f64::INFINITY, f64::min);
    assert!(least < spec_month * 0.98, "{:#?}", pro0.ways);
    let budget = (least + spec_month) / 2.0;
    let p = policy(&format!("[thresholds]\np95_monthly_usd = {budget}\n"));
    let t = tune::tune(&l, &p, &ways_only_opts());
    assert!(t.passes, "{:?}", t.why_not);
    assert!(t.why_not.is_none());
    let pro = &t.on_limit[1];
    let chosen = &pro.ways[pro.chosen];
    assert_ne!(pro.chosen, pro.current);
    assert!(chosen.passes && chosen.cost_at_confidence <= budget, "{chosen:?}");
    assert!(!pro.ways[pro.current].thresholds_pass);
    // The thresholds reported are the chosen way's.
    assert!(t.checks.iter().all(|c| c.ok), "{:#?}", t.checks);
    // Too tight for any way: nothing passes, and it says the ways were tried.
    let p = policy(&format!("[thresholds]\np95_monthly_usd = {}\n", least * 0.5));
    let t = tune::tune(&l, &p, &ways_only_opts());
    assert!(!t.passes);
    let why = t.why_not.unwrap();
    assert!(why.contains("no way past the caps"), "{why}");
    assert!(why.contains("the limits as the spec writes them"), "{why}");
}

/// Run `costgate ARGS SPEC` (few trials, a fixed date): exit code, stdout,
/// stderr.
fn cli(args: &[&str], spec: &std::path::Path) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("costgate"))
        .args(args)
        .arg(spec)
        .args([
            "--trials",
            &TRIALS.to_string(),
            "--allow-few-trials",
            "--color",
            "never",
        ])
        .env("COSTGATE_TODAY", "2026-11-28")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run `costgate tune SPEC ARGS`.
fn tune_cli(spec: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    cli(&[&["tune"], args].concat(), spec)
}

#[test]
fn a_written_spec_reads_back_as_the_recommendation_or_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let check = |p: &std::path::Path| cli(&["check"], p).0;
    // A model key with a tab in it: written as the escape YAML reads back
    // as that key, not as a look-alike (`"che ap"` could be another model).
    let tab = tmp.path().join("tab.yaml");
    let text = two_models().replace(
        "  cheap: gpt-4.1-nano\n",
        "  \"che\\tap\": gpt-4.1-nano\n  \"che ap\": gpt-4.1\n",
    );
    std::fs::write(&tab, &text).unwrap();
    let (code, out, err) = tune_cli(&tab, &["--vary", "on-limit", "--write"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("block -> fallback to che\\tap"), "{out}");
    let written = std::fs::read_to_string(&tab).unwrap();
    assert!(written.contains("      fallback_model: \"che\\tap\"\n"), "{written}");
    assert_eq!(check(&tab), Some(0));
    // A limit written as a flow mapping is edited entry by entry.
    let flow = tmp.path().join("flow.yaml");
    let text = two_models().replacen(
        "    limit:\n      daily_tokens: 6000\n      on_limit: block\n      message: \"You've used {used}/{limit} tokens today; they reset at {reset}.\"\n",
        "    limit: {daily_tokens: 6000, on_limit: block, message: \"Used {used}/{limit}, back at {reset}.\"}  # pro\n",
        1,
    );
    assert_ne!(text, two_models());
    std::fs::write(&flow, &text).unwrap();
    let (code, out, err) = tune_cli(&flow, &["--vary", "on-limit", "--write"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let written = std::fs::read_to_string(&flow).unwrap();
    assert!(
        written.contains(
            "    limit: {daily_tokens: 6000, on_limit: fallback, message: \"Used {used}/{limit}, back at {reset}.\", fallback_model: cheap}  # pro\n"
        ),
        "{written}"
    );
    assert_eq!(check(&flow), Some(0));
    // A way shared through a YAML anchor: editing it would change the
    // other tier too, so nothing is written (exit 73), after the analysis.
    let anchored = tmp.path().join("anchored.yaml");
    let text = two_models().replacen(
        "      daily_tokens: 6000\n      on_limit: block\n",
        "      daily_tokens: 6000\n      on_limit: &way block\n",
        1,
    )
    .replacen(
        "breakers:\n",
        "  - name: team\n    users: 100\n    price_usd_per_month: 20\n    model: primary\n    limit:\n      daily_tokens: 6000\n      on_limit: *way\n      message: \"You've used {used}/{limit} tokens today; they reset at {reset}.\"\nbreakers:\n",
        1,
    );
    std::fs::write(&anchored, &text).unwrap();
    let (code, out, err) = tune_cli(&anchored, &["--vary", "on-limit", "--tier", "pro", "--write"]);
    assert_eq!(code, Some(73), "{out}{err}");
    assert!(out.contains("recommended:"), "the analysis is still shown: {out}");
    assert!(!out.contains("wrote "), "{out}");
    assert!(err.contains("nothing was written") && err.contains("anchor"), "{err}");
    assert_eq!(std::fs::read_to_string(&anchored).unwrap(), text);
}

#[test]
fn outputs_never_overwrite_the_spec_or_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("two.yaml");
    let text = two_models();
    std::fs::write(&spec, &text).unwrap();
    let other = tmp.path().join("out.yaml");
    let spec_s = spec.to_str().unwrap().to_string();
    let other_s = other.to_str().unwrap().to_string();
    // Through another spelling of the same path too.
    let dotted = tmp.path().join(".").join("two.yaml");
    let dotted_s = dotted.to_str().unwrap().to_string();
    for (args, says) in [
        (vec!["--html", spec_s.as_str()], "--html"),
        (vec!["--chart", dotted_s.as_str()], "--chart"),
        (vec!["--write", "-o", dotted_s.as_str()], "-o"),
        (
            vec!["--write", "-o", other_s.as_str(), "--html", other_s.as_str()],
            "--html",
        ),
    ] {
        let (code, out, err) = tune_cli(&spec, &args);
        assert_eq!(code, Some(64), "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(std::fs::read_to_string(&spec).unwrap(), text, "{args:?}");
        assert!(!other.exists());
    }
    // The tuned spec is written in the spec's own format.
    let toml = tmp.path().join("out.toml");
    let (code, _, err) = tune_cli(&spec, &["--write", "-o", toml.to_str().unwrap()]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains(".yaml"), "{err}");
    assert!(!toml.exists());
}
