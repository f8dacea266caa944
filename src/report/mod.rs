//! The result of a check, and its renderers. Renderers take the same
//! [`CheckReport`] and never recompute: every figure comes from one place.

pub mod doc;
pub mod github;
pub mod html;
pub mod inert;
pub mod junit;
pub mod limits;
pub mod markdown;
pub mod sarif;
pub mod table;

use serde::Serialize;

use crate::economics::{UnitCosts, WorstCase};
use crate::policy::{Finding, Thresholds, Verdict};
use crate::pricing::CatalogInfo;
use crate::sim::{SimResult, Typical};
use crate::spec::{Origin, ValueKind};

/// Version of the JSON output; bumped on any breaking change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub costgate_version: String,
    /// Which policy was used (a path, or the built-in defaults).
    pub policy: String,
    pub seed: u64,
    pub trials: usize,
    /// The date exceptions and approvals were judged on.
    pub today: String,
    pub verdict: Verdict,
    pub exit_code: i32,
    pub features: Vec<FeatureReport>,
    /// Every feature of the run added up (several features, or a `[portfolio]` policy).
    pub portfolio: Option<crate::portfolio::PortfolioReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FeatureReport {
    pub file: String,
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub verdict: Verdict,
    pub pricing: CatalogInfo,
    pub models: Vec<ModelInfo>,
    pub unit_costs: Vec<UnitCosts>,
    pub typical: Typical,
    pub worst_case: WorstCase,
    pub simulation: Option<SimResult>,
    pub value: Option<ValueReport>,
    pub baseline: Option<BaselineReport>,
    pub budget_share: BudgetShare,
    /// Per threshold, the share of simulated months that break it.
    pub breach_probabilities: Vec<Breach>,
    pub thresholds: Thresholds,
    pub assumptions: Vec<Assumption>,
    pub findings: Vec<Finding>,
    /// Every per-user cap, tenant budget and breaker, and what it tells users.
    pub limits: Vec<limits::LimitInfo>,
    /// What an approval of this run binds to, and the approval on file.
    pub approval: crate::approval::ApprovalReport,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub key: String,
    pub requested: String,
    pub id: String,
    pub provider: String,
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    pub cached_input_usd_per_mtok: Option<f64>,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ValueReport {
    pub kind: ValueKind,
    pub unit: Option<String>,
    pub interactions_per_month: f64,
    pub units_per_month: Option<f64>,
    pub cost_per_unit_usd: Option<f64>,
    pub value_usd_per_month: Option<f64>,
    pub value_cost_ratio: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BaselineReport {
    pub name: String,
    pub monthly_usd: f64,
    pub feature_mean_monthly_usd: f64,
    pub difference_usd: f64,
}

/// How likely the simulated month breaks a threshold of the policy.
#[derive(Clone, Debug, Serialize)]
pub struct Breach {
    /// The policy threshold's name.
    pub threshold: String,
    pub value: f64,
    /// Share of simulated months beyond it.
    pub probability: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BudgetShare {
    pub infra_monthly_budget_usd: f64,
    pub share_at_confidence: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Assumption {
    pub path: String,
    pub value: String,
    pub origin: Origin,
}

/// The JSON rendering (pretty, stable field order).
pub fn json(report: &CheckReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("reports serialise");
    s.push('\n');
    s
}
