//! The calibration statistics (`costgate::calibrate`): fits on a real
//! production trace, recovery of known parameters from generated logs, and
//! drift against a spec. Tolerances are stated with the standard errors they
//! come from.

use costgate::calibrate::{self, Calibration, FitMode, Observations, Observer, Options};
use costgate::dist::{Dist, stochastic_count};
use costgate::logs::{Call, id_hash};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

// ------------------------------------------------------------ real data ----

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2023-11-16 18:17:03.9799600` as seconds since the epoch.
fn parse_time(s: &str) -> f64 {
    let (date, time) = s.split_once(' ').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<f64> = time.split(':').map(|x| x.parse().unwrap()).collect();
    days_from_civil(d[0], d[1], d[2]) as f64 * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}

/// The Azure LLM inference trace (2023, code), one call per row.
fn azure_calls() -> Vec<Call> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/logs/azure-llm-inference-2023-code.csv"
    ))
    .unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap().trim(), "TIMESTAMP,ContextTokens,GeneratedTokens");
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.trim().split(',').collect();
            Call {
                time_s: Some(parse_time(f[0])),
                user: None,
                tenant: None,
                interaction: None,
                model: None,
                input_tokens: f[1].parse().unwrap(),
                output_tokens: f[2].parse().unwrap(),
                cached_tokens: None,
                spend_usd: None,
            }
        })
        .collect()
}

fn observe(calls: &[Call], opts: &Options) -> Observations {
    let mut o = Observer::new(opts);
    for c in calls {
        o.add(c);
    }
    o.finish()
}

/// The inverse of the empirical distribution function, computed here
/// independently of the library.
fn ecdf_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let k = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[k - 1]
}

fn central() -> Options {
    Options {
        fit: FitMode::Central,
        ..Options::default()
    }
}

#[test]
fn azure_trace_empirical_fit_reproduces_its_token_quantiles_within_2_percent() {
    let calls = azure_calls();
    assert_eq!(calls.len(), 8819);
    let cal = calibrate::fit(&observe(&calls, &central()), &central());
    for (path, pick) in [
        ("interaction.input_tokens", 0usize),
        ("interaction.output_tokens", 1usize),
    ] {
        let mut xs: Vec<f64> = calls
            .iter()
            .map(|c| if pick == 0 { c.input_tokens } else { c.output_tokens } as f64)
            .collect();
        xs.sort_by(f64::total_cmp);
        let f = cal.get(path).unwrap();
        assert_eq!(f.n, 8819);
        assert_eq!(f.unit, "calls");
        // Neither token count is lognormal or normal within the tolerance
        // (the trace's input is bimodal, its output has a long thin tail):
        // the fit is empirical, 1,000 equal-probability bin means.
        let Dist::Empirical { samples } = &f.dist else {
            panic!("{path}: expected samples, got {:?} ({})", f.dist, f.why_this_form)
        };
        assert_eq!(samples.len(), calibrate::EMPIRICAL_BINS);
        for q in [0.5, 0.95, 0.99] {
            let obs = ecdf_quantile(&xs, q);
            let fit = f.dist.quantile(q);
            assert!(
                (fit - obs).abs() <= 0.02 * obs,
                "{path} p{}: fitted {fit} vs observed {obs}",
                q * 100.0
            );
            let row = f.table.iter().find(|r| r.q == q).unwrap();
            assert_eq!(row.observed, obs, "{path}: the table's observed column");
        }
        // The bins keep the mean exactly.
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((f.dist.mean() - mean).abs() < 1e-9 * mean);
    }
}

#[test]
fn azure_trace_parametric_fit_states_its_error() {
    let calls = azure_calls();
    let cal = calibrate::fit(&observe(&calls, &central()), &central());
    let f = cal.get("interaction.input_tokens").unwrap();
    let mut xs: Vec<f64> = calls.iter().map(|c| c.input_tokens as f64).collect();
    xs.sort_by(f64::total_cmp);
    // The lognormal through the observed p50 and p95, and its worst relative
    // error over p50..p99, computed here.
    let d = Dist::LogNormal {
        p50: ecdf_quantile(&xs, 0.5),
        p95: ecdf_quantile(&xs, 0.95),
        min: None,
        max: None,
    };
    let worst = [0.5, 0.9, 0.95, 0.99]
        .iter()
        .map(|&q| (d.quantile(q) - ecdf_quantile(&xs, q)).abs() / ecdf_quantile(&xs, q))
        .fold(0.0, f64::max);
    let stated = f.candidates.iter().find(|c| c.form == "{p50, p95}").unwrap();
    assert!(
        (stated.worst_error - worst).abs() < 1e-9,
        "{} vs {worst}",
        stated.worst_error
    );
    assert!(
        worst > calibrate::FIT_TOLERANCE,
        "the lognormal is rejected for a reason"
    );
    assert!(
        f.why_this_form.contains("no parametric form fits"),
        "{}",
        f.why_this_form
    );
}

#[test]
fn azure_trace_predicted_cost_matches_the_exact_sum_within_1_percent() {
    let calls = azure_calls();
    let cal = calibrate::fit(&observe(&calls, &central()), &central());
    let (pin, pout) = (3.0 / 1e6, 15.0 / 1e6);
    let exact: f64 = calls
        .iter()
        .map(|c| c.input_tokens as f64 * pin + c.output_tokens as f64 * pout)
        .sum();
    // The spec's expected cost of the trace's request count: tokens drawn
    // independently per call, so the mean cost is linear in the means.
    let spec = azure_spec(&cal);
    let n = calls.len() as f64;
    let predicted =
        n * (spec.interaction.input_tokens.dist.mean() * pin + spec.interaction.output_tokens.dist.mean() * pout);
    assert!(
        (predicted - exact).abs() <= 0.01 * exact,
        "predicted {predicted} vs exact {exact}"
    );
    // And by simulation: the mean of 200,000 calls drawn from the fitted
    // distributions, within 1% (the draws' standard error is 0.3% of the
    // mean here; 1% is over 3 standard errors).
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let k = 200_000;
    let drawn: f64 = (0..k)
        .map(|_| {
            spec.interaction.input_tokens.dist.sample(&mut rng) * pin
                + spec.interaction.output_tokens.dist.sample(&mut rng) * pout
        })
        .sum::<f64>()
        / k as f64
        * n;
    assert!(
        (drawn - exact).abs() <= 0.01 * exact,
        "simulated {drawn} vs exact {exact}"
    );
}

const BASE_SPEC: &str = r#"
costgate: 1
feature:
  id: calibrated
  value: { kind: revenue, units_per_interaction: 0.001, usd_per_unit: 20 }
models:
  primary: { input_usd_per_mtok: 3, output_usd_per_mtok: 15 }
interaction:
  calls: CALLS
  input_tokens: INPUT
  output_tokens: OUTPUT
usage:
  active_share: 0.4
  interactions_per_active_day: IPD
  power_users: { share: SHARE, multiplier: MULT }
tiers:
  - name: teams
    tenants: 20
    users_per_tenant: { p50: 8, p95: 40 }
    price_usd_per_month: 30
    model: primary
"#;

fn spec_text(calls: &str, input: &str, output: &str, ipd: &str, share: f64, mult: f64) -> String {
    BASE_SPEC
        .replace("CALLS", calls)
        .replace("INPUT", input)
        .replace("OUTPUT", output)
        .replace("IPD", ipd)
        .replace("SHARE", &share.to_string())
        .replace("MULT", &mult.to_string())
}

fn azure_spec(cal: &Calibration) -> costgate::spec::Spec {
    let text = spec_text(
        "1",
        "{p50: 1000, p95: 3000}",
        "{p50: 100, p95: 300}",
        "{p50: 3, p95: 8}",
        0.05,
        5.0,
    );
    let spec = costgate::spec::load_str("calibrated.yaml", &text).unwrap();
    let out = calibrate::apply(&spec, cal);
    assert_eq!(out.interaction.input_tokens.origin.label(), "measured");
    assert_eq!(out.interaction.calls.origin.label(), "spec", "no interactions measured");
    out
}

#[test]
fn the_trace_has_no_users_so_per_user_quantities_are_unmeasured() {
    let calls = azure_calls();
    let cal = calibrate::fit(&observe(&calls, &central()), &central());
    let unmeasured: Vec<&str> = cal.unmeasured.iter().map(|u| u.0.as_str()).collect();
    for p in [
        "interaction.calls",
        "interaction.cached_input_share",
        "usage.interactions_per_active_day",
        "usage.active_share",
        "usage.power_users.share",
        "usage.power_users.multiplier",
        "tiers[].users_per_tenant",
    ] {
        assert!(unmeasured.contains(&p), "{p} not reported unmeasured: {unmeasured:?}");
        assert!(cal.get(p).is_none());
    }
    assert_eq!(cal.provenance.records, 8819);
    assert_eq!(cal.provenance.users, 0);
    assert_eq!(cal.provenance.period_days, 1);
}

// ------------------------------------------------------- generated logs ----

/// What the generator draws from: the engine's own model of a month.
struct Truth {
    users: usize,
    days: usize,
    active: f64,
    ipd: Dist,
    power_share: f64,
    power_mult: f64,
    calls: Dist,
    input: Dist,
    output: Dist,
    /// Users per tenant drawn from this (whole, at least 1).
    tenant_size: Dist,
    cached_share: f64,
}

fn lognormal(p50: f64, p95: f64) -> Dist {
    Dist::LogNormal {
        p50,
        p95,
        min: None,
        max: None,
    }
}

fn truth(users: usize) -> Truth {
    Truth {
        users,
        days: 30,
        active: 0.4,
        ipd: lognormal(3.0, 8.0),
        power_share: 0.05,
        power_mult: 5.0,
        calls: lognormal(2.0, 4.0),
        input: lognormal(1800.0, 6000.0),
        output: lognormal(350.0, 1100.0),
        tenant_size: lognormal(8.0, 40.0),
        cached_share: 0.3,
    }
}

struct Generated {
    calls: Vec<Call>,
    power_users: usize,
    tenant_sizes: Vec<u64>,
    interactions: u64,
}

/// Logs of `t.users` users over `t.days` days. Users are power users with
/// probability `power_share`; each is active on a day with probability
/// `active`; an active day has N = stochastic_round(X * m) interactions (X
/// from `ipd`, m the multiplier of a power user), each of
/// stochastic_count(calls) calls 1 s apart; interactions start at least 80 s
/// apart, on the same day. Half the users' calls carry an interaction id (the others
/// are grouped by the time gap). Each call's tokens are drawn from
/// `input`/`output`, a share `cached_share` of its input cached.
fn generate(t: &Truth, seed: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let u01 = |rng: &mut ChaCha8Rng| costgate::dist::open01(rng);
    let mut calls = Vec::new();
    let mut tenant_sizes = Vec::new();
    let mut tenant_of = Vec::with_capacity(t.users);
    while tenant_of.len() < t.users {
        let size = stochastic_count(t.tenant_size.sample(&mut rng), 1.0, f64::INFINITY, &mut rng) as usize;
        let size = size.min(t.users - tenant_of.len());
        let id = tenant_sizes.len();
        tenant_sizes.push(size as u64);
        tenant_of.extend(std::iter::repeat_n(id, size));
    }
    let t0 = days_from_civil(2026, 11, 1) as f64 * 86_400.0;
    let mut power_users = 0;
    let mut interactions = 0u64;
    for (u, tenant_id) in tenant_of.iter().enumerate() {
        let power = u01(&mut rng) < t.power_share;
        power_users += power as usize;
        let mult = if power { t.power_mult } else { 1.0 };
        let uid = id_hash(&format!("user-{u}"));
        let tenant = id_hash(&format!("tenant-{tenant_id}"));
        for d in 0..t.days {
            if u01(&mut rng) >= t.active {
                continue;
            }
            let n = stochastic_count(t.ipd.sample(&mut rng) * mult, 0.0, f64::INFINITY, &mut rng) as usize;
            if n == 0 {
                // An active day with no interaction leaves no call: the
                // user-day is not seen. The generator's ipd has P(N = 0)
                // below 0.1%.
                continue;
            }
            // Interactions spread over the day, at least 80 s apart (n is
            // below 1,000), so each interaction's calls (1 s apart) are more
            // than the 60 s gap from the next one's.
            let spacing = (80_000.0 / n as f64).min(600.0);
            for i in 0..n {
                interactions += 1;
                let start = t0 + d as f64 * 86_400.0 + 600.0 + i as f64 * spacing;
                let k = stochastic_count(t.calls.sample(&mut rng), 1.0, f64::INFINITY, &mut rng) as usize;
                let ix = (u % 2 == 0).then(|| id_hash(&format!("ix-{u}-{d}-{i}")));
                for c in 0..k {
                    let input = t.input.sample(&mut rng).round() as u64;
                    calls.push(Call {
                        time_s: Some(start + c as f64),
                        user: Some(uid),
                        tenant: Some(tenant),
                        interaction: ix,
                        model: Some(if c == 0 { "big" } else { "small" }.to_string()),
                        input_tokens: input,
                        output_tokens: t.output.sample(&mut rng).round() as u64,
                        cached_tokens: Some((input as f64 * t.cached_share).round() as u64),
                        spend_usd: Some(0.01),
                    });
                }
            }
        }
    }
    // Shuffle: the observer must not depend on the order of calls.
    for i in (1..calls.len()).rev() {
        let j = (u01(&mut rng) * (i + 1) as f64) as usize;
        calls.swap(i, j.min(i));
    }
    Generated {
        calls,
        power_users,
        tenant_sizes,
        interactions,
    }
}

/// The relative standard error of a sample p-quantile of a lognormal of
/// log-sd `sigma` from n draws: sqrt(p(1-p)/n) / (f(x_p) x_p), and
/// f(x_p) x_p = φ(z_p) / sigma.
fn lognormal_quantile_rse(p: f64, sigma: f64, n: f64) -> f64 {
    let z = costgate::dist::norm_inv(p);
    (p * (1.0 - p) / n).sqrt() * sigma / costgate::dist::norm_pdf(z)
}

#[test]
fn generated_logs_recover_the_known_parameters() {
    let t = truth(3000);
    let g = generate(&t, 42);
    let opts = Options {
        population: Some(t.users as f64),
        ..central()
    };
    let obs = observe(&g.calls, &opts);
    let cal = calibrate::fit(&obs, &opts);
    assert!(
        cal.warnings.iter().all(|w| !w.contains("too few")),
        "{:?}",
        cal.warnings
    );
    let n_calls = g.calls.len() as f64;

    // Tokens per call: lognormal, recovered at p50 and p95 within 5 standard
    // errors of a sample quantile.
    for (path, d) in [
        ("interaction.input_tokens", &t.input),
        ("interaction.output_tokens", &t.output),
    ] {
        let f = cal.get(path).unwrap();
        assert!(matches!(f.dist, Dist::LogNormal { .. }), "{path}: {}", f.why_this_form);
        let sigma = (d.quantile(0.95) / d.quantile(0.5)).ln() / costgate::dist::Z95;
        for q in [0.5, 0.95] {
            let tol = 5.0 * lognormal_quantile_rse(q, sigma, n_calls);
            let (got, want) = (f.dist.quantile(q), d.quantile(q));
            assert!(
                (got / want - 1.0).abs() < tol,
                "{path} p{q}: {got} vs {want} (tol {tol})"
            );
        }
        let iv = f.interval.as_ref().unwrap();
        assert!(iv.low <= iv.point && iv.point <= iv.high && iv.resamples == calibrate::BOOTSTRAP_B);
    }

    // Cached share: every call caches round(0.3 x input); the rounding is
    // within half a token of calls of ~1,800 tokens.
    let cs = cal.get("interaction.cached_input_share").unwrap();
    assert!((cs.dist.central() - 0.3).abs() < 1e-3, "{:?}", cs.dist);

    // Calls per interaction: every interaction is found (half by id, half by
    // the 60 s gap: calls 1 s apart, interactions at least 80 s apart).
    let fc = cal.get("interaction.calls").unwrap();
    assert_eq!(fc.n, g.interactions);
    assert_eq!(cal.provenance.interactions, g.interactions);
    // Its mean is the engine's E[stochastic_count(X)] = E[max(X, 1)] up to
    // the rounding at 1; sd of a count of ~2.2 is ~1, so 5 standard errors
    // of the mean are 5 / sqrt(n) of it.
    let truth_mean = {
        let k = 200_000;
        (0..k)
            .map(|i| t.calls.quantile((i as f64 + 0.5) / k as f64).max(1.0))
            .sum::<f64>()
            / k as f64
    };
    let tol = 5.0 * 1.2 / (g.interactions as f64).sqrt();
    assert!(
        (fc.dist.mean() - truth_mean).abs() < tol,
        "{} vs {truth_mean}",
        fc.dist.mean()
    );

    // Power users: the share of users (binomial: 5 standard errors of
    // sqrt(p(1-p)/users)) and the multiplier (ratio of two means of ~2,000
    // and ~35,000 user-days, relative standard error ~2.5%: 10%).
    let share = cal.get("usage.power_users.share").unwrap().dist.central();
    let se = (0.05 * 0.95 / t.users as f64).sqrt();
    assert!((share - 0.05).abs() < 5.0 * se, "share {share}");
    assert!(
        (share - g.power_users as f64 / t.users as f64).abs() < 1e-12,
        "every power user is found"
    );
    let mult = cal.get("usage.power_users.multiplier").unwrap().dist.central();
    assert!((mult / t.power_mult - 1.0).abs() < 0.10, "multiplier {mult}");

    // Interactions per active day of ordinary users: the mean is the
    // lognormal's (stochastic rounding keeps it), within 5 standard errors
    // (sd of a day ~2.4 over ~34,000 user-days).
    let ipd = cal.get("usage.interactions_per_active_day").unwrap();
    assert_eq!(ipd.unit, "user-days");
    let tol = 5.0 * 2.4 / (ipd.n as f64).sqrt();
    assert!(
        (ipd.dist.mean() / t.ipd.mean() - 1.0).abs() < tol / t.ipd.mean(),
        "{:?} {}",
        ipd.dist,
        ipd.why_this_form
    );

    // Active share: 0.4 a day; a day's share has sd sqrt(0.24 / 3000) =
    // 0.009, the mean over 30 days 0.0016: 5 standard errors = 0.008.
    let a = cal.get("usage.active_share").unwrap();
    assert_eq!(a.unit, "days");
    assert!((a.dist.mean() - 0.4).abs() < 0.008, "{:?}", a.dist);

    // Users per tenant: exactly the generated sizes' quantiles.
    let mut sizes: Vec<f64> = g.tenant_sizes.iter().map(|s| *s as f64).collect();
    sizes.sort_by(f64::total_cmp);
    let up = cal.get("tiers[].users_per_tenant").unwrap();
    assert_eq!(up.n, g.tenant_sizes.len() as u64);
    for r in &up.table {
        assert_eq!(r.observed, ecdf_quantile(&sizes, r.q));
    }
    // Tenant monthly spend: 0.01 a call over 30 days.
    let sp = cal.get("tenants.monthly_spend_usd").unwrap();
    assert_eq!(sp.n, g.tenant_sizes.len() as u64);

    // The model mix: first calls on "big", the rest on "small".
    assert_eq!(cal.model_mix.len(), 2);
    let big = cal.model_mix.iter().find(|m| m.model == "big").unwrap();
    assert_eq!(big.calls, g.interactions);

    // Provenance.
    assert_eq!(cal.provenance.records, g.calls.len() as u64);
    assert_eq!(cal.provenance.users, t.users as u64);
    assert_eq!(cal.provenance.period_days, 30);
}

#[test]
fn the_default_fit_writes_the_upper_end_of_the_tail_interval() {
    let t = truth(300);
    let g = generate(&t, 3);
    let tail = Options::default();
    let obs = observe(&g.calls, &tail);
    let c_tail = calibrate::fit(&obs, &tail);
    let c_central = calibrate::fit(&obs, &central());
    for path in [
        "interaction.input_tokens",
        "interaction.output_tokens",
        "usage.power_users.multiplier",
    ] {
        let (a, b) = (c_tail.get(path).unwrap(), c_central.get(path).unwrap());
        let iv = a.interval.as_ref().unwrap();
        assert!(iv.high > iv.point, "{path}: a real interval");
        let figure = |f: &calibrate::Fitted| {
            if f.table.is_empty() {
                f.dist.central()
            } else {
                f.dist.quantile(0.95)
            }
        };
        assert!(
            (figure(a) - iv.high).abs() <= 1e-9 * iv.high,
            "{path}: {} vs {}",
            figure(a),
            iv.high
        );
        assert!(figure(b) < figure(a), "{path}: central below tail");
    }
    // A count's p95 is a whole number: its interval can be a single value,
    // and the tail fit is never below the central one.
    let (a, b) = (
        c_tail.get("usage.interactions_per_active_day").unwrap(),
        c_central.get("usage.interactions_per_active_day").unwrap(),
    );
    let iv = a.interval.as_ref().unwrap();
    assert!(iv.high >= iv.point && a.dist.quantile(0.95) >= b.dist.quantile(0.95));
    assert_eq!(iv.unit, "users", "user-days are resampled by user");
    // The same seed gives the same intervals.
    assert_eq!(c_tail, calibrate::fit(&obs, &tail));
}

#[test]
fn a_50_user_beta_warns_that_it_cannot_tell_the_tail() {
    let t = truth(50);
    let g = generate(&t, 7);
    let obs = observe(&g.calls, &Options::default());
    let cal = calibrate::fit(&obs, &Options::default());
    assert!(
        cal.warnings
            .iter()
            .any(|w| w.contains("50 users") && w.contains("too few")),
        "{:?}",
        cal.warnings
    );
    assert_eq!(cal.provenance.users, 50);
}

#[test]
fn calls_without_time_are_counted_and_said() {
    let mut calls = generate(&truth(20), 9).calls;
    for c in calls.iter_mut().take(7) {
        c.time_s = None;
    }
    let obs = observe(&calls, &Options::default());
    let cal = calibrate::fit(&obs, &Options::default());
    assert_eq!(cal.provenance.untimed, 7);
    assert!(
        cal.warnings.iter().any(|w| w.starts_with("7 calls have no time")),
        "{:?}",
        cal.warnings
    );
    assert_eq!(cal.get("interaction.input_tokens").unwrap().n, calls.len() as u64);
}

// ---------------------------------------------------------------- drift ----

fn truth_spec(input_p95: f64, ipd_p95: f64) -> costgate::spec::Spec {
    let text = spec_text(
        "{p50: 2, p95: 4}",
        &format!("{{p50: 1800, p95: {input_p95}}}"),
        "{p50: 350, p95: 1100}",
        &format!("{{p50: 3, p95: {ipd_p95}}}"),
        0.05,
        5.0,
    );
    costgate::spec::load_str("spec.yaml", &text).unwrap()
}

#[test]
fn drift_flags_a_doubled_p95_and_not_the_unchanged_spec() {
    let spec = truth_spec(6000.0, 8.0);
    // Production with twice the spec's p95 of input tokens and of
    // interactions per active day.
    let mut t = truth(1000);
    t.input = lognormal(1800.0, 12_000.0);
    t.ipd = lognormal(3.0, 16.0);
    let obs = observe(&generate(&t, 11).calls, &Options::default());
    let d = calibrate::drift(&spec, &obs);
    let get = |p: &str| d.iter().find(|x| x.path == p).unwrap().clone();
    let input = get("interaction.input_tokens");
    assert!(input.above, "{input:?}");
    assert!(input.observed_p95_low > input.spec_p95);
    assert_eq!(input.spec_p95.round(), 6000.0);
    assert_eq!((input.loc.line, input.unit), (10, "calls"));
    let ipd = get("usage.interactions_per_active_day");
    assert!(ipd.above, "{ipd:?}");
    assert_eq!(ipd.unit, "user-days");
    assert!(!get("interaction.output_tokens").above);
    assert!(!get("interaction.calls").above, "{:?}", get("interaction.calls"));

    // The unchanged spec against logs drawn from it.
    let obs = observe(&generate(&truth(1000), 12).calls, &Options::default());
    for x in calibrate::drift(&spec, &obs) {
        assert!(!x.above, "{x:?}");
    }
}

#[test]
fn drift_false_flag_rate_is_within_the_tests_level() {
    // Each quantity is flagged by two one-sided 5% tests (p95, mean): at most
    // 10% of the time when the spec is right (less: the order-statistic bound
    // is conservative). 20 seeds x 4 quantities = 80 trials; under a 10% rate
    // more than 17 flags has probability below 0.5%.
    let spec = truth_spec(6000.0, 8.0);
    let mut flags = 0;
    let mut trials = 0;
    for seed in 0..20 {
        let obs = observe(&generate(&truth(200), 1000 + seed).calls, &Options::default());
        for x in calibrate::drift(&spec, &obs) {
            trials += 1;
            flags += x.above as usize;
        }
    }
    assert_eq!(trials, 80);
    assert!(flags <= 17, "{flags} false flags in {trials}");
}

#[test]
fn apply_marks_the_fitted_quantities_measured() {
    let t = truth(300);
    let opts = Options {
        population: Some(300.0),
        ..Options::default()
    };
    let cal = calibrate::fit(&observe(&generate(&t, 5).calls, &opts), &opts);
    let spec = truth_spec(6000.0, 8.0);
    let out = calibrate::apply(&spec, &cal);
    for q in [
        &out.interaction.input_tokens,
        &out.interaction.output_tokens,
        &out.interaction.calls,
        &out.interaction.cached_input_share,
        &out.usage.interactions_per_active_day,
        &out.usage.active_share,
    ] {
        assert_eq!(q.origin.label(), "measured", "{}", q.path);
        assert_eq!(q.dist, cal.get(&q.path).unwrap().dist);
    }
    let pu = out.usage.power_users.as_ref().unwrap();
    assert_eq!(
        pu.share.value,
        cal.get("usage.power_users.share").unwrap().dist.central()
    );
    let costgate::spec::Audience::Tenants { users_per_tenant, .. } = &out.tiers[0].audience else {
        panic!()
    };
    assert_eq!(users_per_tenant.origin.label(), "measured");
    // Fields the logs do not measure are kept.
    assert_eq!(out.usage.days, spec.usage.days);
}
