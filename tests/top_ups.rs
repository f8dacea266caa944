//! Top-ups (`limit.top_up`, `on_limit: top_up`): decoding and its hostile
//! values, the month at central inputs worked by hand, and the fast engine
//! against the brute-force simulator on the same shared draws.

use costgate::economics::Model;
use costgate::sim::demand::stream;
use costgate::sim::month::{Engine, Month, TierMonth};
use costgate::sim::{Options, brute, simulate, typical};

const SEED: u64 = 11;

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

/// The spec's problems: (line, column, field path, message) each.
fn problems(yaml: &str) -> Vec<(u32, u32, String, String)> {
    match costgate::spec::load_str("t.yaml", yaml) {
        Ok(_) => panic!("expected problems"),
        Err(v) => v
            .into_iter()
            .map(|p| (p.span.line, p.span.column, p.span.path.clone(), p.message.clone()))
            .collect(),
    }
}

/// A small tier of users with a blocking daily cap of 15,000 tokens (about
/// a tenth of the user-days pass it) and a top-up of `top` beside `on`.
fn spec(on: &str, top: &str) -> String {
    format!(
        "costgate: 1
feature: {{id: f, value: {{kind: revenue}}}}
models:
  primary: claude-sonnet-4-5
  fallback: claude-haiku-4-5
interaction:
  calls: {{p50: 1, p95: 3}}
  input_tokens: {{p50: 1800, p95: 6000}}
  output_tokens: {{p50: 350, p95: 1100}}
  cached_input_share: 0.4
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: {{low: 0.3, mode: 0.45, high: 0.7}}
  interactions_per_active_day: {{p50: 3, p95: 14}}
  power_users: {{share: 0.05, multiplier: 5}}
tiers:
  - name: pro
    users: {{low: 200, mode: 300, high: 400}}
    price_usd_per_month: 50
    model: primary
    limit:
      daily_tokens: 15000
      on_limit: {on}
      top_up: {top}
"
    )
}

const TOP: &str = "{price_usd: 5, tokens: 40000, uptake: {low: 0.2, mode: 0.4, high: 0.6}, max_per_month: 3}";

#[test]
fn hostile_top_up_values_are_refused_with_their_place() {
    let cases = [
        (
            "{price_usd: 5, tokens: 10000, uptake: 1.5, max_per_month: 2}",
            "tiers[0].limit.top_up.uptake",
            "out of range",
        ),
        (
            "{price_usd: 5, tokens: 10000, uptake: {low: -0.1, mode: 0.2, high: 0.3}, max_per_month: 2}",
            "tiers[0].limit.top_up.uptake.low",
            "out of range",
        ),
        (
            "{price_usd: -5, tokens: 10000, uptake: 0.3, max_per_month: 2}",
            "tiers[0].limit.top_up.price_usd",
            "must be above zero",
        ),
        (
            "{price_usd: 5, tokens: 10000, uptake: 0.3, max_per_month: 1000000}",
            "tiers[0].limit.top_up.max_per_month",
            "more than costgate simulates",
        ),
        (
            "{price_usd: 5, tokens: 10000, uptake: 0.3, max_per_month: 2.5}",
            "tiers[0].limit.top_up.max_per_month",
            "whole number",
        ),
        (
            "{price_usd: 5, tokens: 10000, interactions: 5, uptake: 0.3, max_per_month: 2}",
            "tiers[0].limit.top_up",
            "both `tokens` and `interactions`",
        ),
        (
            "{price_usd: 5, uptake: 0.3, max_per_month: 2}",
            "tiers[0].limit.top_up",
            "buys nothing",
        ),
        (
            "{price_usd: 5, tokens: 10000, max_per_month: 2}",
            "tiers[0].limit.top_up",
            "missing required field `uptake`",
        ),
    ];
    for (top, path, says) in cases {
        let p = problems(&spec("block", top));
        assert_eq!(p.len(), 1, "{top}: {p:#?}");
        let (line, column, got_path, message) = &p[0];
        assert_eq!(got_path, path, "{top}: {message}");
        assert!(message.contains(says), "{top}: {message}");
        // The block is on line 26 of the spec; its values after column 15.
        assert_eq!(*line, 26, "{top}");
        assert!(*column >= 15, "{top}: column {column}");
    }
    // `on_limit: top_up` needs its block.
    let bare = spec("top_up", TOP).replace(&format!("      top_up: {TOP}\n"), "");
    let p = problems(&bare);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!((p[0].0, p[0].2.as_str()), (25, "tiers[0].limit.top_up"));
    assert!(p[0].3.contains("needs a `top_up` block"), "{}", p[0].3);
    // Top-ups and overage are two ways of selling past the cap: one only.
    let both = spec("block", TOP).replace(
        "    model: primary\n",
        "    model: primary\n    overage: {after_daily_tokens: 5000, usd_per_1k_tokens: 0.02}\n",
    );
    let p = problems(&both);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].2, "tiers[0].limit.top_up");
    assert!(p[0].3.contains("both top-ups and overage"), "{}", p[0].3);
}

/// Every shared quantity fixed: 100 users, all active, 2 interactions a
/// day of one call of 1,000 input + 500 output tokens: 3,000 tokens a
/// user-day against a daily cap of 1,000, so 2,000 past it every day.
fn fixed(top: &str) -> String {
    format!(
        "costgate: 1
feature: {{id: f, value: {{kind: revenue}}}}
models: {{primary: {{input_usd_per_mtok: 2, output_usd_per_mtok: 10}}}}
interaction: {{input_tokens: 1000, output_tokens: 500, max_calls: 1}}
usage: {{active_share: 1, interactions_per_active_day: 2}}
tiers:
  - name: free
    users: 100
    price_usd_per_month: 0
    model: primary
    limit: {{daily_tokens: 1000, on_limit: top_up, top_up: {top}}}
"
    )
}

#[test]
fn the_month_at_central_inputs_sells_what_the_buyers_need_up_to_the_maximum() {
    // Half the users buy; a top-up of 5,000 tokens covers 2.5 days past the
    // cap, so a buyer needs 0.4 a day and reaches the maximum of 4 after 10
    // days (4 x 5,000 = 10 x 2,000): 100 x 0.5 x 4 = 200 top-ups, $400 at $2.
    let m = model(&fixed("{price_usd: 2, tokens: 5000, uptake: 0.5, max_per_month: 4}"));
    let t = &typical(&m).tiers[0];
    assert!((t.top_ups_per_month.unwrap() - 200.0).abs() < 1e-9, "{t:?}");
    assert!((t.top_up_revenue.unwrap() - 400.0).abs() < 1e-9, "{t:?}");
    assert!((t.revenue - 400.0).abs() < 1e-9, "top-ups are revenue: {t:?}");
    // Cost: every user-day serves its 1,000 tokens within the cap (a third
    // of its $0.014: 2 x (1,000 x $2 + 500 x $10)/1M), and buyers have 10
    // days served in full: 100 x 30 x $0.014/3 + 50 x 10 x $0.014 x 2/3.
    let day = 2.0 * (1000.0 * 2.0 + 500.0 * 10.0) / 1e6;
    let want = 100.0 * 30.0 * day / 3.0 + 50.0 * 10.0 * day * 2.0 / 3.0;
    assert!((t.cost - want).abs() < 1e-9 * want, "cost {} vs {want}", t.cost);
    // `interactions` buys the typical interaction's tokens: 1,500 each, so
    // 10 interactions are 15,000 tokens, 7.5 days: 2 x 15,000 cover 15 days.
    let m = model(&fixed(
        "{price_usd: 2, interactions: 10, uptake: 0.5, max_per_month: 2}",
    ));
    let t = &typical(&m).tiers[0];
    assert!((t.top_ups_per_month.unwrap() - 100.0).abs() < 1e-9, "{t:?}");
    let want = 100.0 * 30.0 * day / 3.0 + 50.0 * 15.0 * day * 2.0 / 3.0;
    assert!((t.cost - want).abs() < 1e-9 * want, "cost {} vs {want}", t.cost);
    // Nobody buys: the tier is a blocking cap and earns nothing from top-ups.
    let m = model(&fixed("{price_usd: 2, tokens: 5000, uptake: 0, max_per_month: 4}"));
    let t = &typical(&m).tiers[0];
    assert_eq!(t.top_ups_per_month, Some(0.0));
    assert!((t.cost - 100.0 * 30.0 * day / 3.0).abs() < 1e-9, "{t:?}");
}

#[test]
fn the_monte_carlo_month_buys_whole_top_ups_and_reports_them() {
    // The same month simulated: a buyer buys one top-up of 5,000 tokens on
    // day 1, 3, 6 and 8 (whole top-ups, what is left carried over): 4, as
    // at central inputs; the panel's share of buyers is 0.5 within its
    // sampling error (2,048 users: SE 1.1%, four of them 4.4%).
    let m = model(&fixed("{price_usd: 2, tokens: 5000, uptake: 0.5, max_per_month: 4}"));
    let r = simulate(
        &m,
        &Options {
            trials: 64,
            ..Options::default()
        },
    );
    let t = r.tiers[0].top_ups.as_ref().expect("a tier with a top-up reports it");
    assert!((t.purchases_per_month / 200.0 - 1.0).abs() < 0.045, "{t:?}");
    assert!(
        (t.revenue_usd_per_month - 2.0 * t.purchases_per_month).abs() < 1e-9,
        "{t:?}"
    );
    assert_eq!(t.months_with_purchase_share, 1.0);
    // The blocked user-days are the non-buyers' every day and the buyers'
    // past their tenth: (0.5 x 30 + 0.5 x 20) / 30 = 83%.
    let blocked = r.tiers[0].effects.user_days_blocked_share;
    assert!((blocked / (25.0 / 30.0) - 1.0).abs() < 0.045, "{blocked}");
    // A tier without a top-up reports none.
    let plain = fixed("{price_usd: 2, tokens: 5000, uptake: 0.5, max_per_month: 4}").replace(
        ", on_limit: top_up, top_up: {price_usd: 2, tokens: 5000, uptake: 0.5, max_per_month: 4}",
        "",
    );
    let r = simulate(
        &model(&plain),
        &Options {
            trials: 8,
            ..Options::default()
        },
    );
    assert!(r.tiers[0].top_ups.is_none());
}

fn months(m: &Model, seed: u64, trials: usize) -> (Vec<Month>, Vec<Month>) {
    let engine = Engine::sampled(m, seed);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for i in 0..trials {
        let mut rng = stream(SEED, i as u64);
        let draw = engine.draw(&mut rng);
        fast.push(engine.month(&draw, Some(&mut rng)));
        slow.push(brute::month(m, &draw, &mut stream(SEED ^ 0xB007, i as u64)));
    }
    (fast, slow)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
}

/// Months of one model: the engine (seed `SEED`) and the brute force on
/// the same draws, and the engine from `SEEDS` other seeds on those draws.
struct Runs {
    fast: Vec<Month>,
    slow: Vec<Month>,
    seeds: Vec<Vec<Month>>,
}

const TRIALS: usize = 150;
const SEEDS: u64 = 20;

fn runs(m: &Model) -> Runs {
    let (fast, slow) = months(m, SEED, TRIALS);
    let seeds = (0..SEEDS)
        .map(|s| {
            let engine = Engine::sampled(m, 1000 + s);
            (0..TRIALS)
                .map(|i| {
                    let mut rng = stream(SEED, i as u64);
                    let draw = engine.draw(&mut rng);
                    engine.month(&draw, Some(&mut rng))
                })
                .collect()
        })
        .collect();
    Runs { fast, slow, seeds }
}

/// The engine's figure `f` (per trial) against the brute force's on the
/// same draws, within four standard errors of their difference. Two errors
/// add up: the paired one (the sd of the per-trial difference over
/// sqrt(trials): the users' own variation, drawn independently by each
/// simulator), and the engine's tables and panel, fixed for all the trials
/// of one engine and so not in the paired one. The second is measured: the
/// engine built from `SEEDS` other seeds (each its own tables and panel),
/// run on the same draws; the sd of its means over the seeds is that error
/// (estimated with SEEDS - 1 = 19 degrees of freedom: within about 16% of
/// it). The panel's share is the larger: 2,048 users, each buying 0 to 3
/// top-ups a month with an sd near 1, give the mean an SE near 0.02 per
/// user, several times the paired one; it is fixed for all the trials of
/// one engine, so only other seeds show it.
fn assert_agree(what: &str, r: &Runs, f: fn(&TierMonth) -> f64) {
    let per = |v: &[Month]| v.iter().map(|x| f(&x.tiers[0])).collect::<Vec<_>>();
    let (fv, sv) = (per(&r.fast), per(&r.slow));
    let diffs: Vec<f64> = fv.iter().zip(&sv).map(|(a, b)| a - b).collect();
    let paired = sd(&diffs) / (TRIALS as f64).sqrt();
    let engines: Vec<f64> = r.seeds.iter().map(|v| mean(&per(v))).collect();
    let se = paired.hypot(sd(&engines));
    let (a, b) = (mean(&fv), mean(&sv));
    eprintln!(
        "{what}: fast {a:.5} brute {b:.5} paired SE {paired:.5} engines SE {:.5} (their mean {:.5})",
        sd(&engines),
        mean(&engines)
    );
    assert!(b.abs() > 0.0, "{what}: the brute force must see some");
    assert!(
        (a - b).abs() < 4.0 * se,
        "{what}: fast {a:.5} vs brute force {b:.5} (4 SE = {:.5}; paired {paired:.5}, engines {:.5})",
        4.0 * se,
        sd(&engines)
    );
    // The mean of the SEEDS engines averages their tables' and panels'
    // errors: SE sd/sqrt(SEEDS), with the paired one (the brute force's own
    // noise, which they all share). A bias of a few percent that one
    // engine's panel could hide shows here.
    let all = mean(&engines);
    let se_all = paired.hypot(sd(&engines) / (SEEDS as f64).sqrt());
    assert!(
        (all - b).abs() < 4.0 * se_all,
        "{what}: {SEEDS} engines {all:.5} vs brute force {b:.5} (4 SE = {:.5})",
        4.0 * se_all
    );
}

fn per_user(x: f64, t: &TierMonth) -> f64 {
    x / t.users.max(1.0)
}

#[test]
fn top_ups_behind_a_blocking_daily_cap_match_the_brute_force() {
    // Of the users who pass the cap, 20-60% (drawn per month) buy top-ups
    // of 40,000 tokens at $5, at most 3 a month; the others are blocked.
    let m = model(&spec("top_up", TOP));
    let r = runs(&m);
    assert_agree("top-ups per user", &r, |t| per_user(t.topups, t));
    assert_agree("top-up revenue per user", &r, |t| per_user(t.topup_revenue, t));
    assert_agree("cost per user", &r, |t| per_user(t.cost, t));
    assert_agree("unserved share", &r, |t| t.unserved_tokens / t.demand_tokens);
    assert_agree("blocked user-days", &r, |t| t.blocked_user_days / t.user_days);
    assert_agree("users who reach the cap", &r, |t| t.users_hit / t.users);
    // The top-ups must matter for the test to mean anything: the same tier
    // without them serves less and costs less.
    let plain = model(&spec("block", TOP).replace(&format!("      top_up: {TOP}\n"), ""));
    let (with, _) = months(&m, SEED, 40);
    let (without, _) = months(&plain, SEED, 40);
    let unserved = |v: &[Month]| mean(&v.iter().map(|x| x.tiers[0].unserved_tokens).collect::<Vec<_>>());
    assert!(unserved(&with) < 0.9 * unserved(&without));
}

#[test]
fn top_ups_beside_a_fallback_and_a_monthly_cap_match_the_brute_force() {
    // A monthly cap of 120,000 tokens as well, non-buyers falling back to
    // the cheaper model; half the users buy 20 interactions (the typical
    // interaction's 2,150 tokens each) at a time, at most 3 a month.
    let y = spec(
        "fallback\n      fallback_model: fallback\n      monthly_tokens: 120000",
        "{price_usd: 4, interactions: 20, uptake: 0.5, max_per_month: 3}",
    );
    let r = runs(&model(&y));
    assert_agree("top-ups per user", &r, |t| per_user(t.topups, t));
    assert_agree("cost per user", &r, |t| per_user(t.cost, t));
    assert_agree("degraded user-days", &r, |t| t.degraded_user_days / t.user_days);
}

#[test]
fn a_top_up_tier_follows_a_panel_in_the_work_estimate() {
    let with = costgate::spec::load_str("t.yaml", &spec("top_up", TOP)).unwrap();
    let without = costgate::spec::load_str(
        "t.yaml",
        &spec("block", TOP).replace(&format!("      top_up: {TOP}\n"), ""),
    )
    .unwrap();
    let (a, b) = (
        costgate::spec::limits::work(&with, 10_000),
        costgate::spec::limits::work(&without, 10_000),
    );
    // One panel of 2,048 users x 30 days x 8 steps (a top-up's wallet
    // costs about twice a monthly cap's panel, README "Bounded work"), each
    // trial.
    let panel = 2048.0 * 30.0 * 8.0 * 10_000.0;
    assert!(
        (a.steps - b.steps - panel).abs() < 1e-6 * panel,
        "{} vs {}",
        a.steps,
        b.steps
    );
    assert!(a.bytes > b.bytes);
}

#[test]
fn the_reports_show_top_up_revenue_and_purchases() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("top-up.yaml");
    std::fs::write(&p, fixed("{price_usd: 2, tokens: 5000, uptake: 0.5, max_per_month: 4}")).unwrap();
    let run = |format: &str| {
        let out = assert_cmd::Command::cargo_bin("costgate")
            .unwrap()
            .args(["check", "--trials", "64", "--allow-few-trials", "--format", format])
            .arg(&p)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let f = &v["features"][0];
    let central = &f["at_central_inputs"]["tiers"][0];
    assert!(
        (central["top_up_revenue"].as_f64().unwrap() - 400.0).abs() < 1e-6,
        "{central}"
    );
    assert!(
        (central["top_ups_per_month"].as_f64().unwrap() - 200.0).abs() < 1e-6,
        "{central}"
    );
    let sim = &f["simulation"]["tiers"][0]["top_ups"];
    let bought = sim["purchases_per_month"].as_f64().unwrap();
    assert!((bought / 200.0 - 1.0).abs() < 0.045, "{sim}");
    assert!(
        f["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["path"] == "tiers[0].limit.top_up.uptake"),
        "{f}"
    );
    // A 1,000-token cap against a 1,500-token call serves no call: the
    // rule says so (and denies: who does not buy is blocked).
    let rules: Vec<&str> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"cap-below-one-call"), "{rules:?}");
    // Markdown escapes the dollar signs.
    let md = run("markdown");
    assert!(
        md.contains(r"`free` sells 200.0 top-ups a month at central inputs, \$400 of its \$400; simulated,"),
        "{md}"
    );
    assert!(
        md.contains(r"offered 5,000 tokens for \$2.00 (at most 4 a month); otherwise blocked"),
        "{md}"
    );
    // The worst case counts the top-ups: 30 x 1,000 + 4 x 5,000 tokens.
    assert!(md.contains("100 users x 50,000 tokens a month"), "{md}");
}
