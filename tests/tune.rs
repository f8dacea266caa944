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
        tiers: Vec::new(),
        candidates,
        max_p95_usd: None,
        sim: sim::Options {
            trials: TRIALS,
            threads: Some(2),
            ..sim::Options::default()
        },
    }
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
    let rec = tune::apply(&l.spec, &t);
    let m = Model::new(&rec, &l.priced, 0.999);
    let o = sim::Options {
        trials: TRIALS,
        confidence: 0.95,
        ..sim::Options::default()
    };
    let direct = Sorted::new(sim::months(&m, &o).iter().map(|x| x.cost).collect()).quantile(0.95);
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
