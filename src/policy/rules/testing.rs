//! For the rules' unit tests: a spec that breaks no rule, and one rule
//! function run on it alone.

use super::{Check, Ctx, FeatureFacts, Finding, Out, RuleDef};
use crate::economics::{Model, unit_costs, worst_case};
use crate::pricing::CatalogInfo;
use crate::sim::{self, Options};

/// A spec that breaks no rule under the default policy (shared with the
/// integration tests: `tests/support/good.yaml`).
pub const GOOD: &str = include_str!("../../../tests/support/good.yaml");

/// The day the tests judge on.
pub const TODAY: &str = "2026-11-28";

/// The findings `def`'s function alone gives on `spec` under `policy`
/// (TOML; empty: the defaults), priced by the built-in catalog.
pub fn fired(def: &RuleDef, spec: &str, policy: &str) -> Vec<Finding> {
    fired_with(def, spec, policy, |_| {})
}

/// As [`fired`], with the catalog's description changed first (a pin's age,
/// models priced at $0).
pub fn fired_with(def: &RuleDef, spec: &str, policy: &str, catalog: impl FnOnce(&mut CatalogInfo)) -> Vec<Finding> {
    fired_full(def, spec, policy, catalog, |_| Vec::new(), |_, _| Vec::new())
}

/// As [`fired`], with the drift against usage logs that `drift` computes
/// from the loaded spec (`check --observed`).
pub fn fired_with_drift(
    def: &RuleDef,
    spec: &str,
    policy: &str,
    drift: impl FnOnce(&crate::spec::Spec) -> Vec<crate::calibrate::Drift>,
) -> Vec<Finding> {
    fired_full(def, spec, policy, |_| {}, drift, |_, _| Vec::new())
}

/// The findings of `def` with a deployed gateway configuration compared with
/// the spec (`check --runtime`).
pub fn fired_with_runtime(
    def: &RuleDef,
    spec: &str,
    runtime: impl FnOnce(&crate::spec::Spec, &crate::pricing::PricedModels) -> Vec<crate::runtime::Finding>,
) -> Vec<Finding> {
    fired_full(def, spec, "", |_| {}, |_| Vec::new(), runtime)
}

fn fired_full(
    def: &RuleDef,
    spec: &str,
    policy: &str,
    catalog: impl FnOnce(&mut CatalogInfo),
    drift: impl FnOnce(&crate::spec::Spec) -> Vec<crate::calibrate::Drift>,
    runtime: impl FnOnce(&crate::spec::Spec, &crate::pricing::PricedModels) -> Vec<crate::runtime::Finding>,
) -> Vec<Finding> {
    let Check::Feature(check) = def.check else {
        panic!("{} is not a per-feature rule", def.code)
    };
    let spec = crate::spec::load_str("r.yaml", spec).unwrap_or_else(|p| panic!("{p:#?}"));
    let policy = crate::policy::load_str("costgate.toml", policy).unwrap_or_else(|p| panic!("{p:#?}"));
    let mut priced = crate::pricing::resolve(&spec, &crate::pricing::builtin()).unwrap_or_else(|p| panic!("{p:#?}"));
    catalog(&mut priced.catalog);
    let drift = drift(&spec);
    let runtime = runtime(&spec, &priced);
    let th = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let model = Model::new(&spec, &priced, th.worst_case_quantile);
    let units = unit_costs(&model);
    let worst = worst_case(&model);
    let typical = sim::typical(&model);
    let simulation = sim::simulate(
        &model,
        &Options {
            trials: 300,
            confidence: th.confidence,
            ..Options::default()
        },
    );
    let facts = FeatureFacts {
        spec: &spec,
        unit_costs: &units,
        typical: &typical,
        worst: &worst,
        sim: Some(&simulation),
        pricing: &priced.catalog,
        drift: &drift,
        runtime: &runtime,
    };
    let ctx = Ctx::new(&facts, &policy, TODAY.parse().unwrap());
    let mut out = Out {
        policy: &policy,
        feature: spec.feature.id.clone(),
        findings: Vec::new(),
    };
    check(&ctx, &mut out);
    assert!(out.findings.iter().all(|f| f.rule == def.rule), "only its own rule");
    out.findings
}
