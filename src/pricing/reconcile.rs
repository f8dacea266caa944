//! Reconciling the cost a usage log recorded (LiteLLM's `spend`) with
//! costgate's price for the same calls: where the two are more than
//! [`TOLERANCE`] apart, prices changed since the calls or the catalog is
//! wrong, and a spec calibrated from those logs would be priced wrongly.
//!
//! Only calls that carry a recorded spend take part. A model the catalog
//! does not know is listed as unpriced, never priced at zero.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Catalog, ModelPrice};
use crate::logs::Call;

/// The relative difference above which a model's recorded and computed
/// cost are reported as apart: 2%.
pub const TOLERANCE: f64 = 0.02;

/// Distinct model names kept; the calls of further models are counted
/// under [`Reconciler::other_calls`], so a hostile log cannot grow memory.
pub const MAX_MODELS: usize = 1_000;

#[derive(Clone, Debug, Default)]
struct Acc {
    price: Option<ModelPrice>,
    calls: u64,
    recorded_usd: f64,
    computed_usd: f64,
}

/// Accumulates, model by model, what the log recorded against what the
/// catalog prices the same calls at (each call priced on its own, so
/// long-context rates apply where a call crosses their threshold).
pub struct Reconciler<'a> {
    catalog: &'a Catalog,
    models: BTreeMap<String, Acc>,
    /// Calls with a recorded spend whose model was beyond [`MAX_MODELS`].
    pub other_calls: u64,
    /// Calls with a recorded spend but no model name.
    pub unnamed_calls: u64,
}

/// One model's reconciliation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelReconciliation {
    /// The model as the log names it.
    pub model: String,
    /// The catalog entry that priced it; `None`: the catalog does not know it.
    pub priced_as: Option<String>,
    /// Calls with a recorded spend.
    pub calls: u64,
    /// What the log recorded, USD.
    pub recorded_usd: f64,
    /// What costgate prices the same calls at, USD (`None`: unpriced).
    pub computed_usd: Option<f64>,
    /// (computed − recorded) ÷ recorded.
    pub relative_difference: Option<f64>,
    /// More than [`TOLERANCE`] apart, or not priced at all.
    pub apart: bool,
}

/// The whole reconciliation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reconciliation {
    /// Model by model, in name order.
    pub models: Vec<ModelReconciliation>,
    /// Recorded spend over the priced models, USD.
    pub recorded_usd: f64,
    /// costgate's price of the same calls, USD.
    pub computed_usd: f64,
    /// Calls with a recorded spend that could not be compared (no model
    /// name, or past the model limit).
    pub not_compared_calls: u64,
}

impl<'a> Reconciler<'a> {
    /// An empty reconciliation against `catalog`.
    pub fn new(catalog: &'a Catalog) -> Self {
        Reconciler {
            catalog,
            models: BTreeMap::new(),
            other_calls: 0,
            unnamed_calls: 0,
        }
    }

    /// Take one call (ignored unless it recorded a spend).
    pub fn add(&mut self, c: &Call) {
        let Some(spend) = c.spend_usd.filter(|s| s.is_finite()) else {
            return;
        };
        let Some(model) = c.model.as_deref() else {
            self.unnamed_calls += 1;
            return;
        };
        if !self.models.contains_key(model) {
            if self.models.len() >= MAX_MODELS {
                self.other_calls += 1;
                return;
            }
            let price = self.catalog.find(model).cloned();
            self.models.insert(
                model.to_string(),
                Acc {
                    price,
                    ..Acc::default()
                },
            );
        }
        let Some(acc) = self.models.get_mut(model) else { return };
        acc.calls += 1;
        acc.recorded_usd += spend;
        if let Some(p) = &acc.price {
            let input = c.input_tokens as f64;
            let cached = c.cached_tokens.map_or(0.0, |k| (k as f64).min(input));
            let share = if input > 0.0 { cached / input } else { 0.0 };
            acc.computed_usd += p.call_cost(input, c.output_tokens as f64, share);
        }
    }

    /// The reconciliation so far.
    pub fn finish(&self) -> Reconciliation {
        let mut models = Vec::new();
        let (mut recorded, mut computed) = (0.0, 0.0);
        for (name, a) in &self.models {
            let computed_usd = a.price.as_ref().map(|_| a.computed_usd);
            let relative_difference = computed_usd
                .filter(|_| a.recorded_usd > 0.0)
                .map(|c| (c - a.recorded_usd) / a.recorded_usd);
            let apart = match (computed_usd, relative_difference) {
                (None, _) => true,
                (Some(_), Some(d)) => d.abs() > TOLERANCE,
                // Nothing recorded: apart if costgate prices them above zero.
                (Some(c), None) => c > 0.0,
            };
            if let Some(c) = computed_usd {
                recorded += a.recorded_usd;
                computed += c;
            }
            models.push(ModelReconciliation {
                model: name.clone(),
                priced_as: a.price.as_ref().map(|p| p.id.clone()),
                calls: a.calls,
                recorded_usd: a.recorded_usd,
                computed_usd,
                relative_difference,
                apart,
            });
        }
        Reconciliation {
            models,
            recorded_usd: recorded,
            computed_usd: computed,
            not_compared_calls: self.other_calls + self.unnamed_calls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(model: &str, input: u64, output: u64, spend: Option<f64>) -> Call {
        Call {
            time_s: None,
            user: None,
            tenant: None,
            interaction: None,
            model: Some(model.into()),
            input_tokens: input,
            output_tokens: output,
            cached_tokens: None,
            spend_usd: spend,
        }
    }

    #[test]
    fn recorded_spend_is_compared_with_the_catalog_model_by_model() {
        let catalog = crate::pricing::builtin();
        let m = catalog.find("claude-sonnet-4-5").expect("built-in model").clone();
        let exact = m.call_cost(1000.0, 200.0, 0.0);
        let mut r = Reconciler::new(&catalog);
        for _ in 0..10 {
            // Recorded at the catalog's price: agrees.
            r.add(&call("claude-sonnet-4-5", 1000, 200, Some(exact)));
            // Recorded at 10% less than the catalog: apart.
            r.add(&call(
                "claude-haiku-4-5",
                1000,
                200,
                Some(0.9 * catalog.find("claude-haiku-4-5").unwrap().call_cost(1000.0, 200.0, 0.0)),
            ));
            // Unknown to the catalog: apart, never priced at zero.
            r.add(&call("in-house-model-7", 1000, 200, Some(0.01)));
            // No recorded spend: not part of the reconciliation.
            r.add(&call("claude-sonnet-4-5", 1000, 200, None));
        }
        let out = r.finish();
        let by = |n: &str| out.models.iter().find(|m| m.model == n).unwrap();
        assert_eq!(by("claude-sonnet-4-5").calls, 10);
        assert!(!by("claude-sonnet-4-5").apart);
        assert!(by("claude-sonnet-4-5").relative_difference.unwrap().abs() < 1e-12);
        let h = by("claude-haiku-4-5");
        assert!(h.apart);
        assert!((h.relative_difference.unwrap() - (1.0 / 0.9 - 1.0)).abs() < 1e-9);
        let u = by("in-house-model-7");
        assert!(u.apart && u.computed_usd.is_none() && u.priced_as.is_none());
        // The unpriced model is not in the totals.
        assert!(
            (out.recorded_usd
                - 10.0 * exact
                - 10.0 * 0.9 * catalog.find("claude-haiku-4-5").unwrap().call_cost(1000.0, 200.0, 0.0))
            .abs()
                < 1e-9
        );
    }

    #[test]
    fn the_number_of_models_kept_is_bounded() {
        let catalog = crate::pricing::builtin();
        let mut r = Reconciler::new(&catalog);
        for i in 0..(MAX_MODELS + 50) {
            r.add(&call(&format!("m{i}"), 1, 1, Some(0.0)));
        }
        let mut c = call("x", 1, 1, Some(1.0));
        c.model = None;
        r.add(&c);
        let out = r.finish();
        assert_eq!(out.models.len(), MAX_MODELS);
        assert_eq!(out.not_compared_calls, 51);
    }
}
