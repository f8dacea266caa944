//! Properties of the simulation that must hold for any spec (proptest).
//!
//! Monotonicity is checked per trial on the expectation engine (the same
//! shared draws, no finite-users term) — a stronger statement than on the
//! means — and on the full simulation's means with a slack of three
//! standard errors for its zero-mean finite-users term.

use costgate::economics::{Model, worst_case};
use costgate::sim::demand::stream;
use costgate::sim::month::Engine;
use costgate::sim::{Options, simulate, typical};
use proptest::prelude::*;

fn model(yaml: &str) -> Model {
    let spec = costgate::spec::load_str("p.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}\n{yaml}"));
    let priced = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()).unwrap();
    Model::new(&spec, &priced, 0.999)
}

#[derive(Clone, Debug)]
struct Params {
    users: (u32, u32, u32),
    active: (f64, f64),
    ipd: (f64, f64),
    calls: (f64, f64, u32),
    input: (f64, f64),
    output: (f64, f64),
    cap: Option<(u32, &'static str)>,
    monthly: Option<u32>,
    tenants: Option<(u32, u32, bool)>,
    breaker: Option<(u32, bool)>,
    viral: Option<(f64, f64)>,
    prices: Option<(f64, f64)>,
    power: (f64, f64),
}

fn params() -> impl Strategy<Value = Params> {
    (
        (100u32..3000, 0u32..2000, 0u32..3000),
        (0.05f64..0.9, 0.0f64..0.1),
        (0.5f64..8.0, 1.0f64..5.0),
        (1.0f64..2.5, 1.0f64..3.0, 2u32..6),
        (100.0f64..4000.0, 1.0f64..4.0),
        (50.0f64..800.0, 1.0f64..4.0),
        proptest::option::of((
            2000u32..80_000,
            prop_oneof![Just("block"), Just("fallback"), Just("shrink"), Just("throttle")],
        )),
        proptest::option::of(50_000u32..800_000),
        proptest::option::of((1u32..6, 50u32..2000, any::<bool>())),
        proptest::option::of((50u32..3000, any::<bool>())),
        proptest::option::of((0.0f64..1.0, 1.5f64..10.0)),
        (
            proptest::option::of((0.0f64..1.0, 1.1f64..2.0)),
            (0.0f64..0.1, 1.5f64..6.0),
        ),
    )
        .prop_map(
            |(u, a, i, c, inp, out, cap, monthly, tenants, breaker, viral, (prices, power))| Params {
                users: u,
                active: a,
                ipd: i,
                calls: c,
                input: inp,
                output: out,
                cap,
                monthly,
                tenants,
                breaker,
                viral,
                prices,
                power,
            },
        )
}

/// The region where the finite-users spread is largest next to the worst
/// case: a tier of 1 to 10 users, active (nearly) every day, output-heavy,
/// far past a blocking daily cap (and maybe a monthly one), so that nearly
/// every user-day is at the cap the worst case assumes.
fn tiny_capped() -> impl Strategy<Value = Params> {
    (
        (1u32..4, 0u32..4, 0u32..4),
        (0.9f64..1.0, 0.0f64..0.1),
        (20.0f64..60.0, 1.0f64..3.0),
        (1.0f64..2.5, 1.0f64..3.0, 2u32..6),
        (20.0f64..300.0, 1.0f64..4.0),
        (800.0f64..3000.0, 1.0f64..3.0),
        2000u32..40_000,
        proptest::option::of(20_000u32..600_000),
        proptest::option::of((0.0f64..1.0, 1.1f64..2.0)),
        (0.0f64..0.1, 1.5f64..6.0),
    )
        .prop_map(|(u, a, i, c, inp, out, daily, monthly, prices, power)| Params {
            users: u,
            active: a,
            ipd: i,
            calls: c,
            input: inp,
            output: out,
            cap: Some((daily, "block")),
            monthly,
            tenants: None,
            breaker: None,
            viral: None,
            prices,
            power,
        })
}

fn yaml(p: &Params, user_scale: f64, price_scale: f64, with_cap: bool) -> String {
    let (lo, m, h) = p.users;
    let (lo, m, h) = (
        lo as f64 * user_scale,
        (lo + m) as f64 * user_scale,
        (lo + m + h) as f64 * user_scale,
    );
    let (a, da) = p.active;
    let calls_p95 = p.calls.0 * p.calls.1;
    let mut limit = String::new();
    if with_cap && let Some((d, on)) = p.cap {
        limit = format!(
            "    limit: {{daily_tokens: {d}, {}on_limit: {on}, fallback_model: cheap, message: \"{{used}}/{{limit}}, resets at {{reset}}\"}}\n",
            p.monthly.map_or(String::new(), |x| format!("monthly_tokens: {x}, "))
        );
    }
    let mut s = format!(
        "costgate: 1
feature: {{id: p, value: {{kind: revenue}}}}
models:
  main: {{input_usd_per_mtok: {pin}, output_usd_per_mtok: {pout}, cached_input_usd_per_mtok: {pc}}}
  cheap: {{input_usd_per_mtok: {fin}, output_usd_per_mtok: {fout}}}
interaction:
  calls: {{p50: {c50}, p95: {calls_p95}}}
  input_tokens: {{p50: {i50}, p95: {i95}}}
  output_tokens: {{p50: {o50}, p95: {o95}}}
  cached_input_share: {{low: 0, mode: 0.2, high: 0.5}}
  max_calls: {maxc}
  max_input_tokens: {maxi}
  max_output_tokens: {maxo}
usage:
  active_share: {{low: {alo}, mode: {a}, high: {ahi}}}
  interactions_per_active_day: {{p50: {n50}, p95: {n95}}}
  power_users: {{share: {ps}, multiplier: {pm}}}
tiers:
  - name: a
    users: {{low: {lo}, mode: {m}, high: {h}}}
    price_usd_per_month: 20
    model: main
{limit}",
        pin = 3.0 * price_scale,
        pout = 15.0 * price_scale,
        pc = 0.3 * price_scale,
        fin = 0.3 * price_scale,
        fout = 1.5 * price_scale,
        c50 = p.calls.0,
        maxc = p.calls.2.max(p.calls.0.ceil() as u32),
        i50 = p.input.0,
        i95 = p.input.0 * p.input.1,
        o50 = p.output.0,
        o95 = p.output.0 * p.output.1,
        maxi = (p.input.0 * p.input.1 * 2.0).ceil(),
        maxo = (p.output.0 * p.output.1 * 2.0).ceil(),
        alo = (a - da).max(0.0),
        ahi = (a + da).min(1.0),
        n50 = p.ipd.0,
        n95 = p.ipd.0 * p.ipd.1,
        ps = p.power.0,
        pm = p.power.1,
    );
    if let Some((n, upt, block)) = p.tenants {
        s.push_str(&format!(
            "  - name: t\n    tenants: {n}\n    users_per_tenant: {{p50: {}, p95: {}}}\n    price_usd_per_month: 1000\n    model: main\n    tenant_budget: {{monthly_usd: 400, on_limit: {}, message: \"{{used}}/{{limit}}, renews on the 1st\"}}\n",
            upt as f64 * user_scale,
            upt as f64 * user_scale * 2.0,
            if block { "block" } else { "notify" }
        ));
    }
    if let Some((limit, block)) = p.breaker {
        s.push_str(&format!(
            "breakers:\n  global_daily_usd: {{limit: {limit}, on_trip: {}, factor: 0.5, message: \"paused at {{limit}}, back at midnight\"}}\n",
            if block { "block" } else { "throttle" }
        ));
    }
    let mut sc = Vec::new();
    if let Some((chance, mult)) = p.viral {
        sc.push(format!(
            "  - {{name: v, chance: {chance}, usage_multiplier: {mult}, days: 3}}"
        ));
        sc.push(format!("  - {{name: d, chance: {chance}, power_share: 0.2}}"));
        sc.push(format!(
            "  - {{name: l, chance: {chance}, calls_per_hour: 600, hours_until_detected: 5}}"
        ));
    }
    if let Some((chance, mult)) = p.prices {
        sc.push(format!("  - {{name: p, chance: {chance}, price_multiplier: {mult}}}"));
    }
    if !sc.is_empty() {
        s.push_str("scenarios:\n");
        s.push_str(&sc.join("\n"));
        s.push('\n');
    }
    s
}

const TRIALS: usize = 150;

/// Per-trial costs of the expectation engine over common draws.
fn expected_costs(m: &Model) -> Vec<f64> {
    let e = Engine::sampled(m, 11);
    (0..TRIALS)
        .map(|i| {
            let draw = e.draw(&mut stream(11, i as u64));
            e.month(&draw, None).cost
        })
        .collect()
}

fn mean_and_se(m: &Model) -> (f64, f64) {
    let r = simulate(
        m,
        &Options {
            trials: TRIALS,
            seed: 11,
            ..Options::default()
        },
    );
    (r.cost.mean.unwrap(), r.cost.mean_se.unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_trial_costs_more_than_the_worst_case(p in params()) {
        let m = model(&yaml(&p, 1.0, 1.0, true));
        let w = worst_case(&m);
        prop_assume!(w.monthly_usd.is_some());
        let r = simulate(&m, &Options { trials: TRIALS, seed: 3, ..Options::default() });
        let max = r.cost.max.unwrap();
        prop_assert!(max <= w.monthly_usd.unwrap() * (1.0 + 1e-12), "max trial {} > worst case {:?}", max, w);
    }

    #[test]
    fn no_trial_of_a_tiny_capped_tier_costs_more_than_the_worst_case(p in tiny_capped()) {
        let m = model(&yaml(&p, 1.0, 1.0, true));
        let w = worst_case(&m).monthly_usd.expect("a block cap bounds the worst case");
        let r = simulate(&m, &Options { trials: TRIALS, seed: 3, ..Options::default() });
        let max = r.cost.max.unwrap();
        prop_assert!(max <= w * (1.0 + 1e-12), "max trial {} > worst case {}", max, w);
    }

    #[test]
    fn more_users_never_lower_the_cost(p in params(), k in 1.0f64..3.0) {
        let (a, b) = (model(&yaml(&p, 1.0, 1.0, true)), model(&yaml(&p, k, 1.0, true)));
        for (x, y) in expected_costs(&a).iter().zip(expected_costs(&b)) {
            prop_assert!(y >= x * (1.0 - 1e-9), "{} users x{}: {} < {}", "more", k, y, x);
        }
        let ((ma, sa), (mb, sb)) = (mean_and_se(&a), mean_and_se(&b));
        prop_assert!(mb >= ma - 3.0 * (sa * sa + sb * sb).sqrt(), "mean {} < {}", mb, ma);
    }

    #[test]
    fn higher_prices_never_lower_the_cost(p in params(), k in 1.0f64..3.0) {
        let (a, b) = (model(&yaml(&p, 1.0, 1.0, true)), model(&yaml(&p, 1.0, k, true)));
        for (x, y) in expected_costs(&a).iter().zip(expected_costs(&b)) {
            prop_assert!(y >= x * (1.0 - 1e-9), "{} < {}", y, x);
        }
        let ((ma, sa), (mb, sb)) = (mean_and_se(&a), mean_and_se(&b));
        prop_assert!(mb >= ma - 3.0 * (sa * sa + sb * sb).sqrt(), "mean {} < {}", mb, ma);
    }

    #[test]
    fn adding_a_block_cap_never_raises_the_cost(p in params(), daily in 1000u32..60_000) {
        let mut capped = p.clone();
        capped.cap = Some((daily, "block"));
        let (a, b) = (model(&yaml(&p, 1.0, 1.0, false)), model(&yaml(&capped, 1.0, 1.0, true)));
        for (x, y) in expected_costs(&a).iter().zip(expected_costs(&b)) {
            prop_assert!(y <= x * (1.0 + 1e-9), "capped {} > uncapped {}", y, x);
        }
        let ((ma, sa), (mb, sb)) = (mean_and_se(&a), mean_and_se(&b));
        prop_assert!(mb <= ma + 3.0 * (sa * sa + sb * sb).sqrt(), "mean {} > {}", mb, ma);
    }

    #[test]
    fn with_no_uncertainty_the_distribution_collapses(
        users in 1u32..50_000, n in 1u32..30, calls in 1u32..4, i in 100u32..8000, o in 10u32..2000,
        cap in proptest::option::of(1000u32..200_000), monthly in proptest::option::of(10_000u32..3_000_000),
    ) {
        let limit = match (cap, monthly) {
            (None, None) => String::new(),
            (d, m) => format!(
                "    limit: {{{}{}on_limit: block}}\n",
                d.map_or(String::new(), |d| format!("daily_tokens: {d}, ")),
                m.map_or(String::new(), |m| format!("monthly_tokens: {m}, "))
            ),
        };
        let y = format!("costgate: 1
feature: {{id: c, value: {{kind: revenue}}}}
models: {{main: {{input_usd_per_mtok: 3, output_usd_per_mtok: 15}}}}
interaction: {{calls: {calls}, input_tokens: {i}, output_tokens: {o}, max_calls: {calls}}}
usage: {{active_share: 1, interactions_per_active_day: {n}}}
tiers:
  - name: a
    users: {users}
    price_usd_per_month: 20
    model: main
{limit}");
        let m = model(&y);
        let t = typical(&m).cost;
        let r = simulate(&m, &Options { trials: 40, ..Options::default() });
        for q in [r.cost.p50.unwrap(), r.cost.p95.unwrap(), r.cost.max.unwrap(), r.cost.mean.unwrap()] {
            prop_assert!((q - t).abs() <= 1e-9 * t.max(1.0), "{} vs typical {}", q, t);
        }
        prop_assert!(r.cost.mean_se.unwrap() <= 1e-9 * t.max(1.0));
    }
}
