//! The fast Monte Carlo engine against the slow, obviously-correct
//! brute-force simulator (every user, every day, every interaction, every
//! call), and against closed forms.
//!
//! Paired design: for each trial both simulators get the same shared draw
//! (user counts, active share, scenarios and their timing), so the only
//! differences are how each handles the per-user variation. The engine must
//! agree on the mean, p50 and p95 within 1%. Each test also asserts that the
//! standard error of the paired mean difference is below 0.25%, so the 1%
//! tolerance is at least a four-standard-error bound: a correct engine fails
//! it less than once in 15,000 runs, and a bias of 1% or more cannot hide in
//! the noise.

use costgate::economics::Model;
use costgate::sim::demand::stream;
use costgate::sim::month::{Engine, Month, TierMonth};
use costgate::sim::{Options, Sorted, brute, simulate};

const SEED: u64 = 7;

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

struct Paired {
    fast: Vec<f64>,
    slow: Vec<f64>,
}

fn paired(m: &Model, trials: usize) -> Paired {
    let engine = Engine::sampled(m, SEED);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for i in 0..trials {
        let mut rng = stream(SEED, i as u64);
        let draw = engine.draw(&mut rng);
        fast.push(engine.month(&draw, Some(&mut rng)).cost);
        let mut brng = stream(SEED ^ 0xB007, i as u64);
        slow.push(brute::month(m, &draw, &mut brng).cost);
    }
    Paired { fast, slow }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn assert_agree(name: &str, p: &Paired) {
    let n = p.fast.len() as f64;
    let diffs: Vec<f64> = p.fast.iter().zip(&p.slow).map(|(f, s)| f - s).collect();
    let md = mean(&diffs);
    let sd = (diffs.iter().map(|d| (d - md).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let ms = mean(&p.slow);
    let se_rel = sd / n.sqrt() / ms;
    assert!(
        se_rel < 0.0025,
        "{name}: paired SE {:.3}% too large for a 1% test",
        se_rel * 100.0
    );
    let rel = |a: f64, b: f64| (a - b).abs() / b;
    let (fs, ss) = (Sorted::new(p.fast.clone()), Sorted::new(p.slow.clone()));
    // The mean is compared within 1%, 4 paired standard errors (asserted
    // above). A percentile of a few hundred trials is noisier than the mean,
    // and the two simulators' within-trial noise differs, so its difference
    // is not paired as tightly: across six seeds the p50 and p95 of the
    // fallback + monthly-cap case differed by -0.7% to +1.2%. Each percentile
    // is held within 1% or 4 standard errors of the difference, whichever is
    // wider; the difference's SE is at most √2 times one percentile's SE
    // (order statistics) when the two are positively correlated, as paired
    // draws are.
    let q_tol = |q: f64| {
        let se = fs.quantile_se(q).max(ss.quantile_se(q)) / ss.quantile(q);
        (4.0 * std::f64::consts::SQRT_2 * se).max(0.01)
    };
    let checks = [
        ("mean", mean(&p.fast), ms, 0.01),
        ("p50", fs.quantile(0.5), ss.quantile(0.5), q_tol(0.5)),
        ("p95", fs.quantile(0.95), ss.quantile(0.95), q_tol(0.95)),
    ];
    for (what, f, s, tol) in checks {
        assert!(
            rel(f, s) < tol,
            "{name}: {what} fast {f:.2} vs brute force {s:.2} ({:+.2}%, tolerance {:.2}%)",
            (f / s - 1.0) * 100.0,
            tol * 100.0
        );
    }
}

const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models:
  primary: claude-sonnet-4-5
  fallback: claude-haiku-4-5
interaction:
  calls: {p50: 1, p95: 3}
  input_tokens: {p50: 1800, p95: 6000}
  output_tokens: {p50: 350, p95: 1100}
  cached_input_share: 0.4
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: {low: 0.3, mode: 0.45, high: 0.7}
  interactions_per_active_day: {p50: 3, p95: 14}
  power_users: {share: 0.05, multiplier: 5}
tiers:
  - name: pro
    users: {low: 2000, mode: 4000, high: 6000}
    price_usd_per_month: 50
    model: primary
";

#[test]
fn no_caps() {
    assert_agree("no caps", &paired(&model(BASE), 200));
}

#[test]
fn binding_daily_block_cap() {
    let y = BASE.replace(
        "    model: primary\n",
        "    model: primary\n    limit: {daily_tokens: 15000, on_limit: block}\n",
    );
    let m = model(&y);
    // the cap must actually bind for the test to mean anything
    let uncapped = costgate::sim::typical(&model(BASE)).cost;
    assert!(costgate::sim::typical(&m).cost < uncapped);
    assert_agree("daily block cap", &paired(&m, 200));
}

#[test]
fn fallback_cap_with_overage_and_a_monthly_cap() {
    let y = BASE.replace(
        "    model: primary\n",
        "    model: primary\n    limit: {daily_tokens: 15000, monthly_tokens: 120000, on_limit: fallback, fallback_model: fallback}\n",
    );
    assert_agree("fallback + monthly cap", &paired(&model(&y), 200));
}

#[test]
fn scenarios_tenant_budgets_and_breakers() {
    let y = format!(
        "{}  - name: ent\n    tenants: 4\n    users_per_tenant: {{p50: 600, p95: 1500}}\n    price_usd_per_month: 20000\n    model: primary\n    tenant_budget: {{monthly_usd: 1500, on_limit: block}}\nbreakers:\n  global_daily_usd: {{limit: 900, on_trip: block}}\nscenarios:\n  - {{name: viral, chance: 0.5, usage_multiplier: 4, days: 3}}\n  - {{name: discovery, chance: 0.5, power_share: 0.2}}\n  - {{name: prices, chance: 0.5, price_multiplier: 1.5}}\n",
        BASE.replace(
            "    model: primary\n",
            "    model: primary\n    limit: {daily_tokens: 30000, on_limit: shrink}\n"
        )
    );
    assert_agree("scenarios, tenants, breakers", &paired(&model(&y), 200));
}

#[test]
fn lognormal_mean_matches_its_closed_form() {
    // No caps, one call of fixed size: the month's mean is
    // users x active x days x E[interactions] x cost of a call, and
    // E[interactions] = p50 x exp(sigma^2 / 2).
    let y = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 1}
usage: {active_share: 0.5, interactions_per_active_day: {p50: 3, p95: 14}}
tiers:
  - {name: pro, users: 10000, price_usd_per_month: 20, model: primary}
";
    let sigma = (14.0f64 / 3.0).ln() / costgate::dist::Z95;
    let expect = 10_000.0 * 0.5 * 30.0 * 3.0 * (sigma * sigma / 2.0).exp() * 0.0105;
    let r = simulate(
        &model(y),
        &Options {
            trials: 4000,
            ..Options::default()
        },
    );
    let (m, se) = (r.cost.mean.unwrap(), r.cost.mean_se.unwrap());
    // The table's own sampling error is below 0.1% (32,768 stratified draws);
    // allow 4 standard errors of the trials' mean on top.
    assert!(
        (m - expect).abs() < 4.0 * se + 0.001 * expect,
        "mean {m:.2} vs closed form {expect:.2} (se {se:.2})"
    );
}

#[test]
fn a_certain_viral_spike_multiplies_the_mean_by_57_over_30() {
    let base = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction: {input_tokens: {p50: 1000, p95: 3000}, output_tokens: 500, max_calls: 1}
usage: {active_share: {low: 0.3, mode: 0.4, high: 0.6}, interactions_per_active_day: {p50: 3, p95: 14}}
tiers:
  - {name: pro, users: {low: 5000, mode: 8000, high: 9000}, price_usd_per_month: 20, model: primary}
";
    let viral = format!("{base}scenarios:\n  - {{name: viral, chance: 1, usage_multiplier: 10, days: 3}}\n");
    let opts = Options {
        trials: 3000,
        ..Options::default()
    };
    let a = simulate(&model(base), &opts).cost.mean.unwrap();
    let b = simulate(&model(&viral), &opts).cost.mean.unwrap();
    // Same seed, same draws of the shared quantities: the ratio is exact up
    // to the demand tables' sampling error (< 0.2% for the x10 class) and
    // the finite-users term (mean zero, < 0.05% here).
    let ratio = b / a;
    assert!(
        (ratio - 57.0 / 30.0).abs() < 0.005 * 57.0 / 30.0,
        "ratio {ratio} vs {}",
        57.0 / 30.0
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes_whatever_the_thread_count() {
    let m = model(BASE);
    let run = |threads| {
        let r = simulate(
            &m,
            &Options {
                trials: 1500,
                threads: Some(threads),
                ..Options::default()
            },
        );
        serde_json::to_string(&r).unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(8));
    let other = simulate(
        &m,
        &Options {
            trials: 1500,
            seed: 8,
            ..Options::default()
        },
    );
    assert_ne!(one, serde_json::to_string(&other).unwrap());
}

#[test]
fn standard_errors_shrink_with_the_square_root_of_trials() {
    let m = model(BASE);
    let se = |n| {
        simulate(
            &m,
            &Options {
                trials: n,
                ..Options::default()
            },
        )
        .cost
        .mean_se
        .unwrap()
    };
    let ratio = se(500) / se(8000);
    // sqrt(16) = 4; the estimate of a standard error itself varies by ~1/sqrt(2n)
    assert!((3.4..4.7).contains(&ratio), "{ratio}");
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
}

/// A spec whose shared draws are all fixed (users, active and cached share):
/// the month-to-month spread is only what a finite number of users adds.
fn fixed_shares(users: u32, limit: &str) -> Model {
    model(&format!(
        "costgate: 1
feature: {{id: f, value: {{kind: revenue}}}}
models: {{primary: {{input_usd_per_mtok: 3, output_usd_per_mtok: 15, cached_input_usd_per_mtok: 0.3}}}}
interaction:
  calls: {{p50: 1, p95: 3}}
  input_tokens: {{p50: 1800, p95: 6000}}
  output_tokens: {{p50: 350, p95: 1100}}
  cached_input_share: 0.4
  max_calls: 4
  max_input_tokens: 16000
  max_output_tokens: 2048
usage:
  active_share: 0.8
  interactions_per_active_day: {{p50: 3, p95: 14}}
  power_users: {{share: 0.05, multiplier: 5}}
tiers:
  - name: pro
    users: {users}
    price_usd_per_month: 50
    model: primary
{limit}"
    ))
}

/// Month figures of `trials` trials from the engine (one table, as in the
/// paired tests) and from the brute-force simulator, on the same draws.
fn months(m: &Model, trials: usize) -> (Vec<Month>, Vec<Month>) {
    let engine = Engine::sampled(m, SEED);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for i in 0..trials {
        let mut rng = stream(SEED, i as u64);
        let draw = engine.draw(&mut rng);
        fast.push(engine.month(&draw, Some(&mut rng)));
        slow.push(brute::month(m, &draw, &mut stream(SEED ^ 0xB007, i as u64)));
    }
    (fast, slow)
}

/// The spread of a figure over trials, fast against brute force. The sample
/// SD of n trials has a relative standard error of about sqrt((kurtosis - 1)
/// / 4n), 1/sqrt(2n) = 4.1% for a normal figure and n = 300; the ratio of two
/// independent ones about 6%, a little more for heavier tails. A 25% tolerance
/// is four standard errors; the faults it guards against are 2.7x (monthly
/// caps) and 100% (no overage noise).
fn assert_same_spread(what: &str, fast: &[f64], slow: &[f64]) {
    let (f, s) = (sd(fast), sd(slow));
    assert!(s > 0.0, "{what}: the brute-force spread must not be zero");
    assert!(
        (f / s - 1.0).abs() < 0.25,
        "{what}: spread over trials fast {f:.3} vs brute force {s:.3} (x{:.2})",
        f / s
    );
}

#[test]
fn a_binding_monthly_cap_fixes_a_capped_users_month() {
    // 150 users, a monthly block cap of 60,000 tokens: about a third of the
    // typical month, so most users hit it and their month is the cap whatever
    // their days were. The spread of the month comes from the users who do
    // not hit it.
    let m = fixed_shares(150, "    limit: {monthly_tokens: 60000, on_limit: block}\n");
    let (fast, slow) = months(&m, 300);
    let hit: f64 = slow.iter().map(|x| x.tiers[0].users_hit).sum::<f64>() / (300.0 * 150.0);
    assert!(hit > 0.5, "the cap must bind for most users ({hit})");
    let cost = |v: &[costgate::sim::month::Month]| v.iter().map(|x| x.cost).collect::<Vec<_>>();
    assert_same_spread("monthly-capped month cost", &cost(&fast), &cost(&slow));
}

#[test]
fn overage_revenue_varies_with_the_users_as_their_cost_does() {
    // Overage past 8,000 tokens a user-day at $0.02 per 1k: a minority of
    // user-days pay it, so 150 users' overage varies from month to month.
    let m = fixed_shares(
        150,
        "    overage: {after_daily_tokens: 8000, usd_per_1k_tokens: 0.02}\n",
    );
    let (fast, slow) = months(&m, 300);
    let ov = |v: &[costgate::sim::month::Month]| v.iter().map(|x| x.tiers[0].overage_revenue).collect::<Vec<_>>();
    let cost = |v: &[costgate::sim::month::Month]| v.iter().map(|x| x.cost).collect::<Vec<_>>();
    let (fo, so) = (ov(&fast), ov(&slow));
    assert_same_spread("overage revenue", &fo, &so);
    // The same users pay the overage and cause the cost: the two move
    // together. Correlation over 300 trials has a standard error of about
    // (1 - r²)/sqrt(300) < 0.06: allow 0.2.
    let corr = |a: &[f64], b: &[f64]| {
        let (ma, mb) = (mean(a), mean(b));
        let c: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (a.len() as f64 - 1.0);
        c / sd(a) / sd(b)
    };
    let (cf, cs) = (corr(&fo, &cost(&fast)), corr(&so, &cost(&slow)));
    assert!(
        (cf - cs).abs() < 0.2,
        "correlation of overage and cost: fast {cf:.3} vs brute force {cs:.3}"
    );
}

#[test]
fn the_standard_errors_match_the_spread_of_the_figures_across_seeds() {
    // Many users and narrow shared draws: the month-to-month spread is small,
    // so the demand tables' own sampling error (shared by the trials of a run)
    // is a large part of the error of the mean and of the p95. The printed
    // standard errors must account for it: over 40 seeds, the standard
    // deviation of each figure must match the root mean square of its printed
    // standard error within a factor of 1.5. The sample SD of 40 values has a
    // relative standard error of 1/sqrt(2 x 39) = 11% (a little more for the
    // p95, whose distribution has heavier tails); the RMS of 40 standard errors
    // from 32 batches each, about 2%: ln 1.5 is 3.5 standard errors of the log
    // ratio. (Before the batches, the printed SE missed the tables' error and
    // was several times too small here.)
    let m = model(
        &BASE
            .replace(
                "users: {low: 2000, mode: 4000, high: 6000}",
                "users: {low: 95000, mode: 100000, high: 105000}",
            )
            .replace("active_share: {low: 0.3, mode: 0.45, high: 0.7}", "active_share: 0.5"),
    );
    let (mut means, mut mean_se, mut pct, mut pct_se) = (vec![], vec![], vec![], vec![]);
    for seed in 0..40 {
        let r = simulate(
            &m,
            &Options {
                trials: 400,
                seed: 1000 + seed,
                ..Options::default()
            },
        );
        means.push(r.cost.mean.unwrap());
        mean_se.push(r.cost.mean_se.unwrap());
        pct.push(r.cost.at_confidence.unwrap());
        pct_se.push(r.cost.at_confidence_se.unwrap());
    }
    let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
    for (what, fig, se) in [("mean", &means, &mean_se), ("p95", &pct, &pct_se)] {
        let ratio = sd(fig) / rms(se);
        assert!(
            (1.0 / 1.5..1.5).contains(&ratio),
            "{what}: spread over seeds {:.2} vs printed SE {:.2} (x{ratio:.2})",
            sd(fig),
            rms(se)
        );
    }
}

#[test]
fn a_tiny_capped_tier_never_passes_the_worst_case() {
    // One user, a one-day month, output-heavy calls, most days past a daily
    // block cap of 20,000 tokens: the mean is near the worst case (20,000
    // tokens at the output rate) and the spread a finite number of users adds
    // is wide. It must not carry a day or a month past the worst case.
    let m = model(
        "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction:
  calls: 1
  input_tokens: {p50: 10, p95: 30}
  output_tokens: {p50: 2000, p95: 4000}
  max_calls: 1
  max_input_tokens: 100
  max_output_tokens: 8000
usage: {days: 1, active_share: 1, interactions_per_active_day: {p50: 8, p95: 40}}
tiers:
  - name: tiny
    users: 1
    price_usd_per_month: 20
    model: primary
    limit: {daily_tokens: 20000, on_limit: block}
",
    );
    let worst = costgate::economics::worst_case(&m).monthly_usd.unwrap();
    let r = simulate(
        &m,
        &Options {
            trials: 3000,
            ..Options::default()
        },
    );
    let max = r.cost.max.unwrap();
    assert!(max <= worst * (1.0 + 1e-12), "max trial {max} > worst case {worst}");
    // ... and the region matters: the worst case is nearly reached.
    assert!(max > 0.9 * worst, "max trial {max} vs worst case {worst}");
}

#[test]
fn customer_counts_are_whole_numbers_with_the_distributions_mean() {
    // One rule for every count: drawn, rounded stochastically to a whole
    // number (same mean), clipped at the bound the worst case reads.
    let m = model(&BASE.replace(
        "users: {low: 2000, mode: 4000, high: 6000}",
        "users: {low: 2.5, mode: 3, high: 9.5}",
    ));
    let engine = Engine::central(&m);
    let n = 20_000;
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let d = engine.draw(&mut stream(SEED, i as u64));
        let u = d.customers[0].users();
        // whole, or the upper end where it clips
        assert!((u == u.round() || u == 9.5) && (2.0..=9.5).contains(&u), "users {u}");
        v.push(u);
    }
    // The triangular distribution's mean is (2.5 + 3 + 9.5)/3 = 5, its SD
    // sqrt((a²+b²+c²-ab-ac-bc)/18) = 1.55, so with rounding noise added the
    // mean of 20,000 draws has a standard error below 0.013: allow 0.05.
    let mu = mean(&v);
    assert!((mu - 5.0).abs() < 0.05, "mean users {mu}");
}

/// Per-trial share `num / den` of tier 0's figures.
fn shares(v: &[Month], num: fn(&TierMonth) -> f64, den: fn(&TierMonth) -> f64) -> Vec<f64> {
    v.iter().map(|x| num(&x.tiers[0]) / den(&x.tiers[0])).collect()
}

/// The standard error of a ratio of means over the samples of the demand
/// table of each class (ordinary and power users) mixed at the power share
/// `p`: the table's own sampling error, shared by all the trials of a run
/// (so not in the paired standard error). The samples are drawn stratified
/// on interactions, which only lowers it: this bounds it.
fn table_se(engine: &Engine, p: f64, num: &dyn Fn(f64) -> f64, den: &dyn Fn(f64) -> f64) -> f64 {
    let one = |power: bool| {
        let s = &engine.demand.classes[engine.demand.class(0, power)];
        let n = s.len() as f64;
        let (nm, dm) = (
            mean(&s.tokens.iter().map(|t| num(*t)).collect::<Vec<_>>()),
            mean(&s.tokens.iter().map(|t| den(*t)).collect::<Vec<_>>()),
        );
        let r = nm / dm;
        let lin: Vec<f64> = s.tokens.iter().map(|t| num(*t) - r * den(*t)).collect();
        sd(&lin) / n.sqrt() / dm
    };
    ((1.0 - p) * one(false)).hypot(p * one(true))
}

/// The engine's figure within four standard errors of the brute force's:
/// the paired standard error of the per-trial difference and the table's.
fn assert_same_share(what: &str, fast: &[f64], slow: &[f64], table: f64) {
    let diffs: Vec<f64> = fast.iter().zip(slow).map(|(f, s)| f - s).collect();
    let se = (sd(&diffs) / (diffs.len() as f64).sqrt()).hypot(table);
    let (f, s) = (mean(fast), mean(slow));
    assert!(s > 0.0, "{what}: the brute force must see some ({s})");
    assert!(
        (f - s).abs() < 4.0 * se,
        "{what}: fast {f:.5} vs brute force {s:.5} (4 SE = {:.5})",
        4.0 * se
    );
}

#[test]
fn warned_blocked_degraded_and_unserved_shares_match_the_brute_force() {
    // 200 to 400 users, a daily cap of 15,000 tokens (about a tenth of the
    // user-days pass it) warning at half of it. Blocking, then throttling to
    // half: the shares of user-days warned, blocked and degraded and the
    // share of tokens not served, per trial, engine against brute force.
    let cap = 15_000.0;
    let small = BASE.replace(
        "users: {low: 2000, mode: 4000, high: 6000}",
        "users: {low: 200, mode: 300, high: 400}",
    );
    let limit = |on: &str| {
        small.replace(
            "    model: primary\n",
            &format!("    model: primary\n    limit: {{daily_tokens: {cap}, warn_at: 0.5, on_limit: {on}}}\n"),
        )
    };
    let days = |t: &TierMonth| t.user_days;
    let tokens = |t: &TierMonth| t.demand_tokens;
    let hit = |t: f64| f64::from(u8::from(t > cap));
    let warned = |t: f64| f64::from(u8::from(t >= 0.5 * cap));
    let past = |t: f64| (t - cap).max(0.0);
    let one = |_: f64| 1.0;
    let id = |t: f64| t;

    let m = model(&limit("block"));
    let engine = Engine::sampled(&m, SEED);
    let p = m.power_share;
    let (fast, slow) = months(&m, 200);
    assert_same_share(
        "warned user-days",
        &shares(&fast, |t| t.warned_user_days, days),
        &shares(&slow, |t| t.warned_user_days, days),
        table_se(&engine, p, &warned, &one),
    );
    assert_same_share(
        "blocked user-days",
        &shares(&fast, |t| t.blocked_user_days, days),
        &shares(&slow, |t| t.blocked_user_days, days),
        table_se(&engine, p, &hit, &one),
    );
    assert_same_share(
        "unserved tokens (block)",
        &shares(&fast, |t| t.unserved_tokens, tokens),
        &shares(&slow, |t| t.unserved_tokens, tokens),
        table_se(&engine, p, &past, &id),
    );

    let m = model(&limit("throttle, throttle_to: 0.5"));
    let (fast, slow) = months(&m, 200);
    assert_same_share(
        "degraded user-days",
        &shares(&fast, |t| t.degraded_user_days, days),
        &shares(&slow, |t| t.degraded_user_days, days),
        table_se(&engine, p, &hit, &one),
    );
    assert_same_share(
        "unserved tokens (throttle)",
        &shares(&fast, |t| t.unserved_tokens, tokens),
        &shares(&slow, |t| t.unserved_tokens, tokens),
        table_se(&engine, p, &|t| 0.5 * past(t), &id),
    );
}

#[test]
fn tenant_budget_alerts_match_the_brute_force() {
    // Six tenants (p50 50 users, p95 150), a blocking budget of $60 a month
    // with alerts at 50% and 100%: per trial, the count of tenants crossing
    // each alert, engine against brute force on the same draws. On top of
    // the paired standard error, the table's: its mean cost of a user-day
    // has a relative SE `rel` (from its samples), and moving every tenant's
    // spend by `rel` moves the engine's counts by what moving the budget by
    // `rel` does, measured here.
    let spec = |budget: f64| {
        model(&BASE.replace(
            "    users: {low: 2000, mode: 4000, high: 6000}\n",
            &format!(
                "    tenants: 6\n    users_per_tenant: {{p50: 50, p95: 150}}\n    tenant_budget: {{monthly_usd: {budget}, alerts: [0.5, 1.0], on_limit: block}}\n"
            ),
        ))
    };
    let trials = 200;
    let m = spec(60.0);
    let (fast, slow) = months(&m, trials);
    let alerts = |v: &[Month], ai: usize| v.iter().map(|x| x.tiers[0].tenant_alerts[ai]).collect::<Vec<_>>();
    let engine = Engine::sampled(&m, SEED);
    let s = &engine.demand.classes[0];
    let cost: Vec<f64> = s.cost[m.tiers[0].model]
        .iter()
        .map(|x| costgate::sim::demand::combine(x, m.cached_share.central()))
        .collect();
    let rel = sd(&cost) / (cost.len() as f64).sqrt() / mean(&cost);
    let fast_only = |m: &Model| {
        let engine = Engine::sampled(m, SEED);
        (0..trials)
            .map(|i| {
                let mut rng = stream(SEED, i as u64);
                let draw = engine.draw(&mut rng);
                engine.month(&draw, Some(&mut rng))
            })
            .collect::<Vec<_>>()
    };
    let (up, down) = (
        fast_only(&spec(60.0 * (1.0 + rel))),
        fast_only(&spec(60.0 * (1.0 - rel))),
    );
    for ai in 0..2 {
        let table = (mean(&alerts(&down, ai)) - mean(&alerts(&up, ai))).abs() / 2.0;
        assert_same_share(
            &format!("tenants crossing alert {ai}"),
            &alerts(&fast, ai),
            &alerts(&slow, ai),
            table,
        );
    }
}

/// The standard error, from the demand table's own samples, of the share of
/// ordinary and power user-days (mixed at `p`) whose cost at the tier's
/// model passes `limit`: the table's sampling error in a trip rate.
fn trip_table_se(engine: &Engine, m: &Model, p: f64, limit: f64) -> f64 {
    let one = |power: bool| {
        let s = &engine.demand.classes[engine.demand.class(0, power)];
        let hits: Vec<f64> = s.cost[m.tiers[0].model]
            .iter()
            .map(|x| {
                f64::from(u8::from(
                    costgate::sim::demand::combine(x, m.cached_share.central()) > limit,
                ))
            })
            .collect();
        sd(&hits) / (hits.len() as f64).sqrt()
    };
    ((1.0 - p) * one(false)).hypot(p * one(true))
}

/// The `q` quantile of an ordinary user-day's cost in the engine's table.
fn user_day_quantile(m: &Model, q: f64) -> f64 {
    let engine = Engine::sampled(m, SEED);
    let s = &engine.demand.classes[0];
    let v: Vec<f64> = s.cost[m.tiers[0].model]
        .iter()
        .map(|x| costgate::sim::demand::combine(x, m.cached_share.central()))
        .collect();
    Sorted::new(v).quantile(q)
}

#[test]
fn a_user_breaker_trips_and_costs_as_the_brute_force_says() {
    // 200 to 400 users, a user breaker at the 85th percentile of an ordinary
    // user-day's cost: it trips on about 15% of ordinary user-days (more of
    // the power users'). Per trial, the share of user-days it trips, engine
    // against brute force (paired SE and the table's, 4 SE); the month's
    // cost as every paired test (mean within 1%, four paired SE; p50 and p95
    // within max(1%, 4·√2·SE)), for a blocking breaker and a fallback one.
    let small = BASE.replace(
        "users: {low: 2000, mode: 4000, high: 6000}",
        "users: {low: 200, mode: 300, high: 400}",
    );
    let limit = user_day_quantile(&model(&small), 0.85);
    for on in ["block", "fallback, fallback_model: fallback", "throttle, factor: 0.3"] {
        let m = model(&format!(
            "{small}breakers:\n  user_daily_usd: {{limit: {limit}, on_trip: {on}, notify: user}}\n"
        ));
        let engine = Engine::sampled(&m, SEED);
        let (fast, slow) = months(&m, 400);
        let rate = |v: &[Month]| -> Vec<f64> { v.iter().map(|x| x.breaker_trips[0] / x.tiers[0].user_days).collect() };
        let (rf, rs) = (rate(&fast), rate(&slow));
        assert!(mean(&rs) > 0.1 && mean(&rs) < 0.3, "{on}: trip rate {}", mean(&rs));
        assert_same_share(
            &format!("user breaker trips ({on})"),
            &rf,
            &rs,
            trip_table_se(&engine, &m, m.power_share, limit),
        );
        let cost = |v: &[Month]| v.iter().map(|x| x.cost).collect::<Vec<_>>();
        assert_agree(
            &format!("user breaker ({on})"),
            &Paired {
                fast: cost(&fast),
                slow: cost(&slow),
            },
        );
        // It must cut: the month costs less than with no breaker (but a fallback).
        if on == "block" {
            let open = brute::month(&model(&small), &engine.draw(&mut stream(SEED, 0)), &mut stream(1, 1)).cost;
            assert!(mean(&cost(&slow)) < open, "a blocking breaker must cut");
        }
    }
}

#[test]
fn a_tenant_breaker_trips_as_the_brute_force_says() {
    // Six tenants (p50 50 users, p95 150), a tenant breaker at $4 a day
    // (about a fifth of the tenant-days pass it), throttling to 0.3: tenant-days tripped per month and the
    // month's cost, engine against brute force. On top of the paired SE, the
    // table's: its mean cost of a user-day has a relative SE `rel`, and
    // moving every tenant's day by `rel` moves the engine's trips by what
    // moving the limit by `rel` does, measured here.
    let spec = |limit: f64| {
        model(&format!(
            "{}breakers:\n  tenant_daily_usd: {{limit: {limit}, on_trip: throttle, factor: 0.3, notify: [account-manager]}}\n",
            BASE.replace(
                "    users: {low: 2000, mode: 4000, high: 6000}\n",
                "    tenants: 6\n    users_per_tenant: {p50: 50, p95: 150}\n",
            )
        ))
    };
    let limit = 4.0;
    let trials = 200;
    let m = spec(limit);
    let (fast, slow) = months(&m, trials);
    let trips = |v: &[Month]| v.iter().map(|x| x.breaker_trips[0]).collect::<Vec<_>>();
    let s = mean(&trips(&slow));
    assert!(
        s > 20.0 && s < 160.0,
        "the breaker must trip on some tenant-days, not all: {s}"
    );
    let engine = Engine::sampled(&m, SEED);
    let cls = &engine.demand.classes[0];
    let cost: Vec<f64> = cls.cost[m.tiers[0].model]
        .iter()
        .map(|x| costgate::sim::demand::combine(x, m.cached_share.central()))
        .collect();
    let rel = sd(&cost) / (cost.len() as f64).sqrt() / mean(&cost);
    let fast_only = |m: &Model| {
        let engine = Engine::sampled(m, SEED);
        (0..trials)
            .map(|i| {
                let mut rng = stream(SEED, i as u64);
                let draw = engine.draw(&mut rng);
                engine.month(&draw, Some(&mut rng)).breaker_trips[0]
            })
            .collect::<Vec<_>>()
    };
    let table =
        (mean(&fast_only(&spec(limit * (1.0 - rel)))) - mean(&fast_only(&spec(limit * (1.0 + rel))))).abs() / 2.0;
    assert_same_share("tenant breaker trips", &trips(&fast), &trips(&slow), table);
    // The month's cost: six tenants make the paired difference noisier than
    // the 0.25% the 1% test needs, so within max(1%, 4 paired SE).
    let cost = |v: &[Month]| v.iter().map(|x| x.cost).collect::<Vec<_>>();
    let (cf, cs) = (cost(&fast), cost(&slow));
    let diffs: Vec<f64> = cf.iter().zip(&cs).map(|(f, s)| f - s).collect();
    let se = sd(&diffs) / (diffs.len() as f64).sqrt();
    let (f, s) = (mean(&cf), mean(&cs));
    let tol = (0.01 * s).max(4.0 * se);
    assert!(
        (f - s).abs() < tol,
        "tenant breaker: cost fast {f:.3} vs brute force {s:.3} (tolerance {tol:.3})"
    );
}

/// Every user-day alike: 10 users, always active, 2 interactions of one call
/// of 1,000 input and 200 output tokens at $3 / $15 per million: $0.012 a
/// user-day, $0.024 on the 6 days of a certain viral spike (x2).
const DETERMINISTIC: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}, cheap: {input_usd_per_mtok: 1, output_usd_per_mtok: 5}}
interaction: {calls: 1, input_tokens: 1000, output_tokens: 200}
usage: {active_share: 1, interactions_per_active_day: 2}
tiers:
  - {name: pro, users: 10, price_usd_per_month: 50, model: primary}
scenarios:
  - {name: spike, chance: 1, usage_multiplier: 2, days: 6}
";

#[test]
fn a_user_breaker_trips_on_the_known_share_of_days() {
    // A limit of $0.018 between the ordinary day ($0.012) and the spike's
    // ($0.024): it trips on the 6 spike days of each of the 10 users, 60
    // user-days, in every month; blocking, the month costs 10 x (24 x 0.012
    // + 6 x 0.018) = $3.96; falling back to a model a third the price, the
    // $0.006 past the limit costs $0.002: 10 x (24 x 0.012 + 6 x 0.020).
    for (on, want) in [
        ("block", 10.0 * (24.0 * 0.012 + 6.0 * 0.018)),
        ("fallback, fallback_model: cheap", 10.0 * (24.0 * 0.012 + 6.0 * 0.020)),
        ("notify, notify: on-call", 10.0 * (24.0 * 0.012 + 6.0 * 0.024)),
    ] {
        let m = model(&format!(
            "{DETERMINISTIC}breakers:\n  user_daily_usd: {{limit: 0.018, on_trip: {on}}}\n"
        ));
        let r = simulate(
            &m,
            &Options {
                trials: 50,
                ..Options::default()
            },
        );
        let lv = r.breaker_levels.as_ref().expect("breaker levels reported");
        let b = &lv.breakers[0];
        assert_eq!(b.months_with_trip_share, 1.0, "{on}");
        assert!(
            (b.mean_trips_per_month - 60.0).abs() < 1e-9,
            "{on}: {}",
            b.mean_trips_per_month
        );
        let cost = r.cost.mean.unwrap();
        assert!((cost - want).abs() < 1e-9 * want, "{on}: cost {cost} vs {want}");
        let pages = if on.starts_with("notify") { 60.0 } else { 0.0 };
        assert!((lv.oncall_pages_per_month - pages).abs() < 1e-9, "{on}");
        // The brute force agrees exactly on a deterministic month.
        let engine = Engine::sampled(&m, SEED);
        let draw = engine.draw(&mut stream(SEED, 0));
        let slow = brute::month(&m, &draw, &mut stream(SEED, 1));
        assert!((slow.cost - want).abs() < 1e-9 * want, "{on}: brute {}", slow.cost);
        assert_eq!(slow.breaker_trips[0], 60.0);
    }
}

#[test]
fn named_accounts_and_drawn_budgets_match_the_brute_force() {
    // A tier of four other tenants (p50 50 users, p95 150) whose blocking
    // budget is drawn per tenant ({p50: 60, p95: 120}), and two named
    // accounts of their own size, price and budget (one blocking, one only
    // alerting), alerts at 50% and 100%. Per trial, engine against brute
    // force on the same draws: each account's alerts and whether it
    // breached its budget, the tenants' alerts, and the revenue (each
    // account's price on top of the tenants'). As for the tenant budget
    // alerts above, the table's own error is added: the move in the
    // engine's counts when every budget moves by the relative SE `rel` of
    // the table's mean user-day.
    let spec = |f: f64| {
        model(&BASE.replace(
            "    users: {low: 2000, mode: 4000, high: 6000}\n",
            &format!(
                "    tenants: 4\n    users_per_tenant: {{p50: 50, p95: 150}}\n    tenant_budget: {{monthly_usd: {{p50: {}, p95: {}}}, alerts: [0.5, 1.0], on_limit: block}}\n    accounts:\n      - {{name: acme, users: 80, price_usd_per_month: 9000, monthly_usd: {}, alerts: [0.5, 1.0], on_limit: block}}\n      - {{name: globex, users: {{low: 60, mode: 120, high: 180}}, monthly_usd: {}, on_limit: notify}}\n",
                60.0 * f,
                120.0 * f,
                90.0 * f,
                160.0 * f
            ),
        ))
    };
    let trials = 200;
    let m = spec(1.0);
    assert_eq!(m.tiers[0].accounts.len(), 2);
    let (fast, slow) = months(&m, trials);
    let engine = Engine::sampled(&m, SEED);
    let s = &engine.demand.classes[0];
    let cost: Vec<f64> = s.cost[m.tiers[0].model]
        .iter()
        .map(|x| costgate::sim::demand::combine(x, m.cached_share.central()))
        .collect();
    let rel = sd(&cost) / (cost.len() as f64).sqrt() / mean(&cost);
    let fast_only = |m: &Model| {
        let engine = Engine::sampled(m, SEED);
        (0..trials)
            .map(|i| {
                let mut rng = stream(SEED, i as u64);
                let draw = engine.draw(&mut rng);
                engine.month(&draw, Some(&mut rng))
            })
            .collect::<Vec<_>>()
    };
    let (up, down) = (fast_only(&spec(1.0 + rel)), fast_only(&spec(1.0 - rel)));
    type Figure = Box<dyn Fn(&Month) -> f64>;
    let figures: Vec<(String, Figure)> = vec![
        ("acme alerts".into(), Box::new(|x: &Month| x.tiers[0].account_alerts[0])),
        (
            "globex alerts".into(),
            Box::new(|x: &Month| x.tiers[0].account_alerts[1]),
        ),
        (
            "acme breached".into(),
            Box::new(|x: &Month| f64::from(u8::from(x.tiers[0].account_breached[0]))),
        ),
        (
            "globex breached".into(),
            Box::new(|x: &Month| f64::from(u8::from(x.tiers[0].account_breached[1]))),
        ),
        (
            "tenants crossing 50%".into(),
            Box::new(|x: &Month| x.tiers[0].tenant_alerts[0]),
        ),
        (
            "tenants crossing 100%".into(),
            Box::new(|x: &Month| x.tiers[0].tenant_alerts[1]),
        ),
    ];
    for (what, f) in &figures {
        let col = |v: &[Month]| v.iter().map(f).collect::<Vec<_>>();
        let table = (mean(&col(&down)) - mean(&col(&up))).abs() / 2.0;
        assert_same_share(what, &col(&fast), &col(&slow), table);
    }
    // Both accounts breach in some months and not in others: the test sees
    // the budgets act.
    for k in 0..2 {
        let share = slow.iter().filter(|x| x.tiers[0].account_breached[k]).count() as f64 / trials as f64;
        assert!(
            share > 0.05 && share < 0.95,
            "account {k} breaches in {share} of months"
        );
    }
    // Revenue: the tenants pay the tier's $50, acme its $9,000, globex the
    // tier's price; the brute force counts the same payers.
    for (f, s) in fast.iter().zip(&slow) {
        assert!(
            (f.revenue - s.revenue).abs() < 1e-6,
            "revenue {} vs {}",
            f.revenue,
            s.revenue
        );
        assert!(f.revenue >= 9050.0, "revenue {}", f.revenue);
    }
    let cost = |v: &[Month]| v.iter().map(|x| x.cost).collect::<Vec<_>>();
    let p = Paired {
        fast: cost(&fast),
        slow: cost(&slow),
    };
    let rel_diff = (mean(&p.fast) / mean(&p.slow) - 1.0).abs();
    let diffs: Vec<f64> = p.fast.iter().zip(&p.slow).map(|(f, s)| f - s).collect();
    let se = sd(&diffs) / (trials as f64).sqrt() / mean(&p.slow);
    assert!(
        rel_diff < (4.0 * se).max(0.01),
        "cost: fast {} vs brute force {} (4 SE = {:.3}%)",
        mean(&p.fast),
        mean(&p.slow),
        400.0 * se
    );
}

#[test]
fn budgeted_tenants_without_a_breaker_match_the_general_path() {
    // The engine walks the tenants of a tier without a tenant breaker in a
    // loop of its own (the arithmetic of the general one, for speed). A
    // tenant breaker that can never trip ($1e9 a day) sends the same
    // tenants (40, each simulated on its own, so two normal draws each
    // either way) through the general loop: every figure of the month must
    // be the same to the bit, budget cuts and alerts included (the budget,
    // $150 a month with a p50 tenant of 50 users, is reached in most
    // months by some tenants, so both branches of the cut run).
    let spec = |breaker: &str| {
        model(&format!(
            "{}{breaker}",
            BASE.replace(
                "    users: {low: 2000, mode: 4000, high: 6000}\n",
                "    tenants: 40\n    users_per_tenant: {p50: 50, p95: 150}\n    tenant_budget: {monthly_usd: 150, alerts: [0.5, 0.8, 1.0], on_limit: block}\n",
            )
        ))
    };
    let plain = spec("");
    let general = spec("breakers:\n  tenant_daily_usd: {limit: 1000000000, on_trip: block}\n");
    let fast = |m: &Model| {
        let engine = Engine::sampled(m, SEED);
        (0..40)
            .map(|i| {
                let mut rng = stream(SEED, i as u64);
                let draw = engine.draw(&mut rng);
                engine.month(&draw, Some(&mut rng))
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (fast(&plain), fast(&general));
    let blocked: f64 = a.iter().map(|x| x.tiers[0].blocked_user_days).sum();
    let alerts: f64 = a.iter().map(|x| x.tiers[0].tenant_alerts[2]).sum();
    assert!(
        blocked > 0.0 && alerts > 0.0,
        "the budget must cut some tenant-days: {blocked} {alerts}"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.tiers, y.tiers);
        assert_eq!((x.cost, x.revenue), (y.cost, y.revenue));
        assert_eq!(y.breaker_trips, vec![0.0]);
    }
}
