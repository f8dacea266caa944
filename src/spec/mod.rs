//! The unit-economics spec: loading (YAML or TOML) and validation.
//!
//! Loading parses into a located tree ([`crate::input::node`]), then [`decode`] reads that
//! tree into [`Spec`] in one pass that collects every problem, each with the
//! file, line, column and field path. Model names are resolved against the
//! price catalog later, by [`crate::pricing::resolve`].

mod decode;

use std::sync::Arc;

use serde::Serialize;

use crate::dist::Dist;
use crate::input::{node, read_text};
use crate::source::{Loc, Problem, Span};

pub use decode::decode;

/// The spec format version this costgate reads.
pub const FORMAT_VERSION: i64 = 1;

/// Where a number the engine uses came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Written in the spec, at this place.
    Spec { line: u32, column: u32 },
    /// Calibrated from logs: the spec marks it `measured: "..."`.
    Measured { line: u32, column: u32, note: String },
    /// Not in the spec: costgate's documented default.
    Default,
    /// A price catalog's entry for the model (named as the catalog names it).
    Catalog { entry: String, source: String },
}

impl Origin {
    pub fn at(loc: Loc) -> Self {
        Origin::Spec {
            line: loc.line,
            column: loc.column,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Origin::Spec { .. } => "spec",
            Origin::Measured { .. } => "measured",
            Origin::Default => "default",
            Origin::Catalog { .. } => "catalog",
        }
    }
}

/// An uncertain quantity with its place in the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quantity {
    pub dist: Dist,
    pub path: String,
    #[serde(skip)]
    pub loc: Loc,
    pub origin: Origin,
}

impl Quantity {
    pub fn default_fixed(value: f64, path: &str) -> Self {
        Quantity {
            dist: Dist::fixed(value),
            path: path.to_string(),
            loc: Loc::UNKNOWN,
            origin: Origin::Default,
        }
    }

    pub fn central(&self) -> f64 {
        self.dist.central()
    }
}

/// A plain number with its place in the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Num {
    pub value: f64,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Spec {
    pub file: Arc<str>,
    pub feature: Feature,
    pub models: Vec<ModelDef>,
    pub interaction: Interaction,
    pub usage: Usage,
    pub tiers: Vec<Tier>,
    pub breakers: Breakers,
    pub scenarios: Vec<Scenario>,
}

impl Spec {
    pub fn span(&self, loc: Loc, path: &str) -> Span {
        Span::new(&self.file, loc, path)
    }

    pub fn model(&self, key: &str) -> Option<&ModelDef> {
        self.models.iter().find(|m| m.key == key)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Feature {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub value: Option<ValueDef>,
    pub baseline: Option<Baseline>,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Revenue,
    Retention,
    Engagement,
}

impl ValueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Revenue => "revenue",
            ValueKind::Retention => "retention",
            ValueKind::Engagement => "engagement",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ValueDef {
    pub kind: ValueKind,
    pub unit: Option<String>,
    pub units_per_interaction: Option<Num>,
    pub usd_per_unit: Option<Num>,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub name: String,
    pub monthly_usd: Num,
}

/// Prices given in the spec itself (USD per million tokens).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CustomPrices {
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    pub cached_input_usd_per_mtok: Option<f64>,
    pub cache_write_usd_per_mtok: Option<f64>,
    pub context_window: Option<f64>,
    pub max_output_tokens: Option<f64>,
}

/// One entry of `models:`: a key the tiers use, and either a catalog name or
/// prices.
#[derive(Clone, Debug, Serialize)]
pub struct ModelDef {
    pub key: String,
    /// The catalog name (or the key, for custom prices).
    pub name: String,
    pub custom: Option<CustomPrices>,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Interaction {
    pub calls: Quantity,
    pub input_tokens: Quantity,
    pub output_tokens: Quantity,
    pub cached_input_share: Quantity,
    pub max_calls: Option<Num>,
    pub max_input_tokens: Option<Num>,
    pub max_output_tokens: Option<Num>,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub days: u32,
    /// Where `days` is written (`Loc::UNKNOWN`: the default 30).
    #[serde(skip)]
    pub days_loc: Loc,
    pub active_share: Quantity,
    pub interactions_per_active_day: Quantity,
    pub power_users: Option<PowerUsers>,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize)]
pub struct PowerUsers {
    pub share: Num,
    pub multiplier: Num,
}

/// Who a tier's customers are.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Individual users, each paying `price_usd_per_month`.
    Users { users: Quantity },
    /// Tenants (organisations), each paying `price_usd_per_month` and
    /// having `users_per_tenant` users.
    Tenants {
        tenants: Quantity,
        users_per_tenant: Quantity,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Tier {
    pub name: String,
    pub audience: Audience,
    pub price_usd_per_month: Option<Num>,
    /// Key into `models:`.
    pub model: String,
    #[serde(skip)]
    pub model_loc: Loc,
    pub limit: Option<Limit>,
    pub overage: Option<Overage>,
    pub tenant_budget: Option<TenantBudget>,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLimit {
    /// Demand beyond the cap is not served.
    Block,
    /// Demand beyond the cap is served by `fallback_model`.
    Fallback,
    /// Demand beyond the cap is served with output cut to `shrink_to`.
    Shrink,
    /// A share `throttle_to` of the demand beyond the cap is served.
    Throttle,
}

impl OnLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            OnLimit::Block => "block",
            OnLimit::Fallback => "fallback",
            OnLimit::Shrink => "shrink",
            OnLimit::Throttle => "throttle",
        }
    }
}

/// Share of output kept by `on_limit: shrink` when the spec does not say.
pub const DEFAULT_SHRINK_TO: f64 = 0.5;
/// Share of demand served by `on_limit: throttle` when the spec does not say.
pub const DEFAULT_THROTTLE_TO: f64 = 0.5;

#[derive(Clone, Debug, Serialize)]
pub struct Limit {
    pub daily_tokens: Option<Num>,
    pub monthly_tokens: Option<Num>,
    pub warn_at: Option<Num>,
    pub on_limit: OnLimit,
    #[serde(skip)]
    pub on_limit_loc: Loc,
    pub fallback_model: Option<String>,
    /// Output share kept past the cap with `shrink`.
    pub shrink_to: f64,
    /// Share of the excess served with `throttle`.
    pub throttle_to: f64,
    /// Where `shrink_to` / `throttle_to` are written (`Loc::UNKNOWN`: defaulted).
    #[serde(skip)]
    pub shrink_to_loc: Loc,
    #[serde(skip)]
    pub throttle_to_loc: Loc,
    pub message: Option<Text>,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

/// A string with its place.
#[derive(Clone, Debug, Serialize)]
pub struct Text {
    pub text: String,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Overage {
    pub after_daily_tokens: Num,
    pub usd_per_1k_tokens: Num,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBudget {
    /// Alerts fire, service continues.
    Notify,
    /// Service stops for the tenant for the rest of the month.
    Block,
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantBudget {
    pub monthly_usd: Num,
    pub alerts: Vec<f64>,
    pub on_limit: OnBudget,
    pub message: Option<Text>,
    #[serde(skip)]
    pub loc: Loc,
}

/// What a breaker does once it trips.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTrip {
    /// Nothing more is served past the limit.
    Block,
    /// A share `factor` of the demand past the limit is still served.
    Throttle,
    /// What comes past the limit is served by `fallback_model`.
    Fallback,
    /// What comes past the limit is served with its output cut to `factor`
    /// (default 0.5).
    Shrink,
    /// Nothing is cut: the people in `notify` are told.
    Notify,
}

impl OnTrip {
    /// The spec's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OnTrip::Block => "block",
            OnTrip::Throttle => "throttle",
            OnTrip::Fallback => "fallback",
            OnTrip::Shrink => "shrink",
            OnTrip::Notify => "notify",
        }
    }
}

/// Who a breaker's trip is told to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyWho {
    /// The user whose spend tripped it.
    User,
    /// The tenant's account manager (an alert).
    AccountManager,
    /// Whoever is on call (a page).
    OnCall,
}

impl NotifyWho {
    /// The spec's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyWho::User => "user",
            NotifyWho::AccountManager => "account-manager",
            NotifyWho::OnCall => "on-call",
        }
    }
}

/// What a breaker's limit is counted over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerLevel {
    /// One user's day (`user_daily_usd`).
    User,
    /// One tenant's day (`tenant_daily_usd`).
    Tenant,
    /// The feature's day (`feature_daily_usd`).
    Feature,
    /// The whole day (`global_daily_usd`).
    Global,
}

impl BreakerLevel {
    /// The level's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerLevel::User => "user",
            BreakerLevel::Tenant => "tenant",
            BreakerLevel::Feature => "feature",
            BreakerLevel::Global => "global",
        }
    }

    /// Whether the breaker counts the day's total (feature, global) rather
    /// than one user's or one tenant's day.
    pub fn is_day_total(self) -> bool {
        matches!(self, BreakerLevel::Feature | BreakerLevel::Global)
    }
}

/// Output share kept by a breaker's `on_trip: shrink` when `factor` is not given.
pub const DEFAULT_BREAKER_SHRINK: f64 = 0.5;

#[derive(Clone, Debug, Serialize)]
pub struct Breaker {
    /// Daily spend in USD at which it trips.
    pub limit: Num,
    pub on_trip: OnTrip,
    /// With `throttle`: share of the demand past the limit still served;
    /// with `shrink`: share of the output kept.
    pub factor: f64,
    /// With `fallback`: the key (under `models:`) that serves past the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_model: Option<String>,
    /// Who is told when it trips.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<NotifyWho>,
    pub message: Option<Text>,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub path: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Breakers {
    /// Per user, on each user's day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_daily_usd: Option<Breaker>,
    /// Per tenant, on each tenant's day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_daily_usd: Option<Breaker>,
    pub feature_daily_usd: Option<Breaker>,
    pub global_daily_usd: Option<Breaker>,
}

impl Breakers {
    /// The breakers the spec sets, user level first.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Breaker)> {
        self.levels().map(|(n, _, b)| (n, b))
    }

    /// The breakers the spec sets, with their level, user level first.
    pub fn levels(&self) -> impl Iterator<Item = (&'static str, BreakerLevel, &Breaker)> {
        [
            ("user_daily_usd", BreakerLevel::User, self.user_daily_usd.as_ref()),
            ("tenant_daily_usd", BreakerLevel::Tenant, self.tenant_daily_usd.as_ref()),
            (
                "feature_daily_usd",
                BreakerLevel::Feature,
                self.feature_daily_usd.as_ref(),
            ),
            ("global_daily_usd", BreakerLevel::Global, self.global_daily_usd.as_ref()),
        ]
        .into_iter()
        .filter_map(|(n, l, b)| b.map(|b| (n, l, b)))
    }

    /// Whether the spec uses what came with breaker levels (a user or tenant
    /// breaker, `notify`, or an `on_trip` other than block and throttle):
    /// then the reports say, per level, how often each trips and whom it
    /// pages or alerts. Specs that do not keep their reports as they were.
    pub fn has_levels(&self) -> bool {
        self.user_daily_usd.is_some()
            || self.tenant_daily_usd.is_some()
            || self
                .iter()
                .any(|(_, b)| !b.notify.is_empty() || !matches!(b.on_trip, OnTrip::Block | OnTrip::Throttle))
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScenarioEffect {
    /// Interactions per active day x `usage_multiplier` for `days` days.
    Viral { usage_multiplier: f64, days: u32 },
    /// The power-user share rises to `power_share` from a random day on.
    PowerUserDiscovery { power_share: f64 },
    /// One client makes `calls_per_hour` calls for `hours_until_detected`.
    RunawayLoop {
        calls_per_hour: f64,
        hours_until_detected: f64,
        /// The tier the client belongs to (None: the least capped tier).
        tier: Option<String>,
    },
    /// Prices x `price_multiplier` from a random day on.
    PriceIncrease { price_multiplier: f64 },
}

#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    /// Chance per month.
    pub chance: f64,
    pub effect: ScenarioEffect,
    #[serde(skip)]
    pub loc: Loc,
}

/// Read and validate a spec from text. `file` names it in problems.
pub fn load_str(file: &str, text: &str) -> Result<Spec, Vec<Problem>> {
    let file: Arc<str> = Arc::from(file);
    let root = node::parse_by_extension(&file, text).map_err(|e| {
        vec![Problem {
            code: crate::source::ProblemCode::Syntax,
            span: Span::new(&file, e.loc, ""),
            message: e.message,
            hint: None,
        }]
    })?;
    decode(&file, &root)
}

/// Read and validate a spec file.
pub fn load_file(path: &std::path::Path) -> Result<Spec, Vec<Problem>> {
    let display = path.display().to_string();
    let text = read_text(path).map_err(|message| {
        vec![Problem {
            code: crate::source::ProblemCode::Unreadable,
            span: Span::new(&Arc::from(display.as_str()), Loc::UNKNOWN, ""),
            message,
            hint: None,
        }]
    })?;
    load_str(&display, &text)
}
