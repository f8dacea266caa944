//! The unit-economics spec: loading (YAML or TOML) and validation.
//!
//! Loading parses into a located tree ([`crate::input::node`]), then [`decode`] reads that
//! tree into [`Spec`] in one pass that collects every problem, each with the
//! file, line, column and field path. Model names are resolved against the
//! price catalog later, by [`crate::pricing::resolve`].

mod decode;
pub mod limits;
pub mod overrides;
pub mod rewrite;

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
    Spec {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
    },
    /// Calibrated from logs: the spec marks it `measured: "..."`.
    Measured {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The spec's `measured:` note (where the figure was calibrated).
        note: String,
    },
    /// Not in the spec: costgate's documented default.
    Default,
    /// A price catalog's entry for the model (named as the catalog names it).
    Catalog {
        /// The catalog entry's name.
        entry: String,
        /// The catalog it came from (built-in, a pinned snapshot, a source).
        source: String,
    },
    /// Set for this run by a `--set` flag (a what-if), not by the file.
    Override {
        /// The flag, `--set PATH=VALUE`.
        flag: String,
    },
}

impl Origin {
    /// A number written in the spec at `loc`.
    pub fn at(loc: Loc) -> Self {
        Origin::Spec {
            line: loc.line,
            column: loc.column,
        }
    }

    /// The origin's kind, as the reports' assumption tables name it:
    /// `spec`, `measured`, `default`, `catalog` or `override`.
    pub fn label(&self) -> &'static str {
        match self {
            Origin::Spec { .. } => "spec",
            Origin::Measured { .. } => "measured",
            Origin::Default => "default",
            Origin::Catalog { .. } => "catalog",
            Origin::Override { .. } => "override",
        }
    }
}

/// An uncertain quantity with its place in the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quantity {
    /// Its distribution.
    pub dist: Dist,
    /// Its field path in the spec (`interaction.input_tokens`).
    pub path: String,
    /// Where it is written (`Loc::UNKNOWN`: defaulted).
    #[serde(skip)]
    pub loc: Loc,
    /// Where the number came from.
    pub origin: Origin,
}

impl Quantity {
    pub(crate) fn default_fixed(value: f64, path: &str) -> Self {
        Quantity {
            dist: Dist::fixed(value),
            path: path.to_string(),
            loc: Loc::UNKNOWN,
            origin: Origin::Default,
        }
    }

    /// The central value the month at central inputs reads (median, or mode).
    pub fn central(&self) -> f64 {
        self.dist.central()
    }
}

/// A plain number with its place in the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Num {
    /// The number.
    pub value: f64,
    /// Where it is written.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path in the spec.
    #[serde(skip)]
    pub path: String,
}

/// A validated unit-economics spec: one AI feature, its models, usage and tiers.
#[derive(Clone, Debug, Serialize)]
pub struct Spec {
    /// The file it was read from, as given (names it in problems and reports).
    pub file: Arc<str>,
    /// `feature:`: what the feature is and what it earns.
    pub feature: Feature,
    /// `models:`, in the spec's order.
    pub models: Vec<ModelDef>,
    /// `interaction:`: calls and tokens per interaction, and their limits.
    pub interaction: Interaction,
    /// `usage:`: how active users are.
    pub usage: Usage,
    /// `tiers:`: who pays what, on which model, under which limits.
    pub tiers: Vec<Tier>,
    /// `breakers:`: daily spend circuit breakers.
    pub breakers: Breakers,
    /// `scenarios:`: the stress scenarios the simulation draws.
    pub scenarios: Vec<Scenario>,
    /// The `--set` overrides applied to the file for this run (none: the
    /// spec as written). Not part of the spec's data: the values they set are.
    #[serde(skip)]
    pub overrides: Vec<overrides::Applied>,
}

impl Spec {
    /// A [`Span`] in this spec's file.
    pub fn span(&self, loc: Loc, path: &str) -> Span {
        Span::new(&self.file, loc, path)
    }

    /// The entry of `models:` with this key.
    pub fn model(&self, key: &str) -> Option<&ModelDef> {
        self.models.iter().find(|m| m.key == key)
    }
}

/// `feature:`.
#[derive(Clone, Debug, Serialize)]
pub struct Feature {
    /// Stable id (matches findings, exceptions, approvals and diffs across runs).
    pub id: String,
    /// Display name (the id when not given).
    pub name: String,
    /// The owning team, if given.
    pub owner: Option<String>,
    /// What the feature earns (`value:`); `None` is the `missing-unit-economics` finding.
    pub value: Option<ValueDef>,
    /// What it replaces, and that cost (`baseline:`).
    pub baseline: Option<Baseline>,
    /// Where `feature:` is.
    #[serde(skip)]
    pub loc: Loc,
}

/// The kind of value a feature brings; a policy can set thresholds per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// It earns money (subscriptions, sales).
    Revenue,
    /// It keeps customers.
    Retention,
    /// It is used more (engagement).
    Engagement,
}

impl ValueKind {
    /// The spec's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Revenue => "revenue",
            ValueKind::Retention => "retention",
            ValueKind::Engagement => "engagement",
        }
    }
}

/// `feature.value`.
#[derive(Clone, Debug, Serialize)]
pub struct ValueDef {
    /// The kind of value.
    pub kind: ValueKind,
    /// The unit of value (`sale`, `ticket`), if given.
    pub unit: Option<String>,
    /// Units of value per interaction.
    pub units_per_interaction: Option<Num>,
    /// Dollars per unit of value.
    pub usd_per_unit: Option<Num>,
    /// Where `value:` is.
    #[serde(skip)]
    pub loc: Loc,
}

/// `feature.baseline`: what the feature replaces.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// What it is (`contractors`).
    pub name: String,
    /// Its monthly cost in USD.
    pub monthly_usd: Num,
}

/// Prices given in the spec itself (USD per million tokens).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CustomPrices {
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Cached input tokens, USD per million (`None`: no cache discount).
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Writing the prompt cache, USD per million (`None`: no surcharge).
    pub cache_write_usd_per_mtok: Option<f64>,
    /// Context window in tokens, if given.
    pub context_window: Option<f64>,
    /// Most output tokens per call, if given.
    pub max_output_tokens: Option<f64>,
}

/// One entry of `models:`: a key the tiers use, and either a catalog name or
/// prices.
#[derive(Clone, Debug, Serialize)]
pub struct ModelDef {
    /// The key tiers name it by (`primary`).
    pub key: String,
    /// The catalog name (or the key, for custom prices).
    pub name: String,
    /// Prices given in the spec instead of a catalog name.
    pub custom: Option<CustomPrices>,
    /// Where the entry is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`models.primary`).
    #[serde(skip)]
    pub path: String,
}

/// `interaction:`: one interaction of a user with the feature.
#[derive(Clone, Debug, Serialize)]
pub struct Interaction {
    /// Model calls per interaction.
    pub calls: Quantity,
    /// Input tokens per call.
    pub input_tokens: Quantity,
    /// Output tokens per call.
    pub output_tokens: Quantity,
    /// Share of input billed at the cached rate (default 0).
    pub cached_input_share: Quantity,
    /// Hard limit on calls per interaction, if set.
    pub max_calls: Option<Num>,
    /// Hard limit on input tokens per call, if set.
    pub max_input_tokens: Option<Num>,
    /// Hard limit on output tokens per call, if set.
    pub max_output_tokens: Option<Num>,
    /// Where `interaction:` is.
    #[serde(skip)]
    pub loc: Loc,
}

impl Interaction {
    /// The tokens of one typical call (input, output) and of one typical
    /// interaction: the central figures, each within the spec's own
    /// `max_input_tokens`, `max_output_tokens` and `max_calls`.
    pub fn typical_tokens(&self) -> (f64, f64, f64) {
        let clip = |v: f64, max: &Option<Num>| max.as_ref().map_or(v, |m| v.min(m.value));
        let tin = clip(self.input_tokens.central(), &self.max_input_tokens);
        let tout = clip(self.output_tokens.central(), &self.max_output_tokens);
        let calls = clip(self.calls.central().max(1.0), &self.max_calls);
        (tin, tout, calls * (tin + tout))
    }
}

/// `usage:`: how often users use the feature.
#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    /// Days in the simulated month (default 30).
    pub days: u32,
    /// Where `days` is written (`Loc::UNKNOWN`: the default 30).
    #[serde(skip)]
    pub days_loc: Loc,
    /// Share of users active on a given day.
    pub active_share: Quantity,
    /// Interactions per active user-day.
    pub interactions_per_active_day: Quantity,
    /// A minority of heavier users, if given.
    pub power_users: Option<PowerUsers>,
    /// Where `usage:` is.
    #[serde(skip)]
    pub loc: Loc,
}

/// `usage.power_users`: a share of users who use the feature more.
#[derive(Clone, Debug, Serialize)]
pub struct PowerUsers {
    /// Their share of users.
    pub share: Num,
    /// How many times the interactions of an ordinary user they make.
    pub multiplier: Num,
}

/// Who a tier's customers are.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Individual users, each paying `price_usd_per_month`.
    Users {
        /// How many users.
        users: Quantity,
    },
    /// Tenants (organisations), each paying `price_usd_per_month` and
    /// having `users_per_tenant` users.
    Tenants {
        /// How many tenants.
        tenants: Quantity,
        /// Users per tenant.
        users_per_tenant: Quantity,
    },
}

/// One entry of `tiers:`.
#[derive(Clone, Debug, Serialize)]
pub struct Tier {
    /// The tier's name.
    pub name: String,
    /// Its customers: users, or tenants of users.
    pub audience: Audience,
    /// Monthly price per user (or per tenant) in USD; `None` is a finding.
    pub price_usd_per_month: Option<Num>,
    /// Key into `models:`.
    pub model: String,
    /// Where `model` is written.
    #[serde(skip)]
    pub model_loc: Loc,
    /// Its per-user token cap, if any.
    pub limit: Option<Limit>,
    /// Overage billing past a daily token count, if any.
    pub overage: Option<Overage>,
    /// Per-tenant monthly budget, if any.
    pub tenant_budget: Option<TenantBudget>,
    /// Named accounts (tenants with their own users, price and budget), in
    /// the spec's order; besides the tier's other `tenants`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    /// Where the tier is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`tiers[1]`).
    #[serde(skip)]
    pub path: String,
}

impl Tier {
    /// Where a finding about the tier's limits points: its `limit`, or the
    /// tier itself when it has none.
    pub fn limit_site(&self) -> (Loc, &str) {
        match &self.limit {
            Some(l) => (l.loc, &l.path),
            None => (self.loc, &self.path),
        }
    }
}

/// What a per-user limit does with demand past its cap.
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
    /// The spec's word for it.
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

/// `tiers[].limit`: a per-user token cap.
#[derive(Clone, Debug, Serialize)]
pub struct Limit {
    /// Tokens per user-day.
    pub daily_tokens: Option<Num>,
    /// Tokens per user-month.
    pub monthly_tokens: Option<Num>,
    /// Share of the cap at which users are warned, if given.
    pub warn_at: Option<Num>,
    /// What happens past the cap.
    pub on_limit: OnLimit,
    /// Where `on_limit` is written.
    #[serde(skip)]
    pub on_limit_loc: Loc,
    /// The model key that serves demand past the cap with `fallback`.
    pub fallback_model: Option<String>,
    /// Output share kept past the cap with `shrink`.
    pub shrink_to: f64,
    /// Share of the excess served with `throttle`.
    pub throttle_to: f64,
    /// Where `shrink_to` / `throttle_to` are written (`Loc::UNKNOWN`: defaulted).
    #[serde(skip)]
    pub shrink_to_loc: Loc,
    /// Where `throttle_to` is written (`Loc::UNKNOWN`: defaulted).
    #[serde(skip)]
    pub throttle_to_loc: Loc,
    /// What users are told when they reach the cap.
    pub message: Option<Text>,
    /// A paid top-up offered at the cap (`on_limit: top_up`, or a `top_up:`
    /// block beside another `on_limit`), if any. Users who do not buy get
    /// `on_limit` (`block` when the spec wrote `on_limit: top_up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_up: Option<TopUp>,
    /// Where the limit is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`tiers[0].limit`).
    #[serde(skip)]
    pub path: String,
}

/// What one top-up buys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopUpUnit {
    /// Tokens.
    Tokens,
    /// Interactions, each counted as the typical interaction's tokens.
    Interactions,
}

impl TopUpUnit {
    /// The spec's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TopUpUnit::Tokens => "tokens",
            TopUpUnit::Interactions => "interactions",
        }
    }
}

/// Most top-ups a user may buy a month (`top_up.max_per_month`).
pub const MAX_TOPUPS_PER_MONTH: f64 = 1000.0;

/// `tiers[].limit.top_up`: a paid top-up a user can buy at the cap.
#[derive(Clone, Debug, Serialize)]
pub struct TopUp {
    /// What one top-up costs the user, USD.
    pub price_usd: Num,
    /// What it buys: tokens or interactions.
    pub unit: TopUpUnit,
    /// How many of `unit` one top-up buys.
    pub amount: Num,
    /// Share of the users who reach the cap that buy (drawn per trial).
    pub uptake: Quantity,
    /// Most top-ups one user buys a month.
    pub max_per_month: Num,
    /// Whether the spec wrote `on_limit: top_up` (users who do not buy are
    /// blocked).
    pub on_limit_top_up: bool,
    /// Where the block is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`tiers[0].limit.top_up`).
    #[serde(skip)]
    pub path: String,
}

/// A string with its place.
#[derive(Clone, Debug, Serialize)]
pub struct Text {
    /// The string.
    pub text: String,
    /// Where it is written.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path.
    #[serde(skip)]
    pub path: String,
}

/// `tiers[].overage`: tokens past a daily count billed to the user.
#[derive(Clone, Debug, Serialize)]
pub struct Overage {
    /// Tokens per user-day before overage billing starts.
    pub after_daily_tokens: Num,
    /// What the user pays per 1,000 tokens past it, USD.
    pub usd_per_1k_tokens: Num,
}

/// What a tenant budget does when it is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBudget {
    /// Alerts fire, service continues.
    Notify,
    /// Service stops for the tenant for the rest of the month.
    Block,
}

/// `tiers[].tenant_budget`: a monthly budget per tenant.
#[derive(Clone, Debug, Serialize)]
pub struct TenantBudget {
    /// The budget in USD per tenant-month (its central value when it is
    /// drawn per tenant).
    pub monthly_usd: Num,
    /// When `monthly_usd` is an uncertain quantity: its distribution, each
    /// tenant's budget drawn from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_drawn: Option<Quantity>,
    /// Shares of the budget at which an alert fires (`[0.8, 1.0]`).
    pub alerts: Vec<f64>,
    /// What happens when the budget is spent.
    pub on_limit: OnBudget,
    /// What the tenant is told, if given.
    pub message: Option<Text>,
    /// Where the budget is.
    #[serde(skip)]
    pub loc: Loc,
}

/// The most named accounts a tier can list.
pub const MAX_ACCOUNTS: usize = 200;

/// `tiers[].accounts[]`: a named tenant with its own users, price and
/// negotiated monthly budget.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    /// Its name (unique in the tier).
    pub name: String,
    /// Its users.
    pub users: Quantity,
    /// What it pays a month, USD (`None`: the tier's `price_usd_per_month`).
    pub price_usd_per_month: Option<Num>,
    /// Its budget, USD a month.
    pub monthly_usd: Num,
    /// Shares of its budget at which an alert fires.
    pub alerts: Vec<f64>,
    /// What happens when its budget is spent.
    pub on_limit: OnBudget,
    /// Where it is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`tiers[2].accounts[0]`).
    #[serde(skip)]
    pub path: String,
}

impl Account {
    /// Whether service stops for the account once its budget is spent.
    pub fn on_budget_block(&self) -> bool {
        self.on_limit == OnBudget::Block
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// A daily spend circuit breaker.
#[derive(Clone, Debug, Serialize)]
pub struct Breaker {
    /// Daily spend in USD at which it trips.
    pub limit: Num,
    /// What it does when it trips.
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
    /// What users are told when it trips.
    pub message: Option<Text>,
    /// Where it is.
    #[serde(skip)]
    pub loc: Loc,
    /// Its field path (`breakers.feature_daily_usd`).
    #[serde(skip)]
    pub path: String,
}

/// `breakers:`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Breakers {
    /// Per user, on each user's day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_daily_usd: Option<Breaker>,
    /// Per tenant, on each tenant's day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_daily_usd: Option<Breaker>,
    /// Trips on the feature's own daily spend.
    pub feature_daily_usd: Option<Breaker>,
    /// Trips on the daily spend of everything behind the same gateway, as this feature sees it.
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

/// What a stress scenario does to the month.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScenarioEffect {
    /// Interactions per active day x `usage_multiplier` for `days` days.
    Viral {
        /// Multiplier of interactions per active day.
        usage_multiplier: f64,
        /// How many days the spike lasts.
        days: u32,
    },
    /// The power-user share rises to `power_share` from a random day on.
    PowerUserDiscovery {
        /// The power users' share from then on.
        power_share: f64,
    },
    /// One client makes `calls_per_hour` calls for `hours_until_detected`.
    RunawayLoop {
        /// Calls an hour.
        calls_per_hour: f64,
        /// Hours until the loop is detected and stopped.
        hours_until_detected: f64,
        /// The tier the client belongs to (None: the least capped tier).
        tier: Option<String>,
    },
    /// Prices x `price_multiplier` from a random day on.
    PriceIncrease {
        /// Multiplier of every price.
        price_multiplier: f64,
    },
}

/// One entry of `scenarios:`.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Chance per month.
    pub chance: f64,
    /// What it does.
    pub effect: ScenarioEffect,
    /// Where it is.
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
    let text = read_file_text(path, &display)?;
    load_str(&display, &text)
}

fn read_file_text(path: &std::path::Path, display: &str) -> Result<String, Vec<Problem>> {
    read_text(path).map_err(|e| {
        vec![Problem {
            code: crate::source::ProblemCode::Unreadable,
            span: Span::new(&Arc::from(display), e.loc, ""),
            message: e.message,
            hint: None,
        }]
    })
}

/// [`load_str`] with `--set` overrides applied to the parsed tree before it
/// is validated ([`overrides`]): the spec records what was applied
/// ([`Spec::overrides`]), and a problem at or under an overridden field is
/// placed at its flag rather than at a line of the file.
pub fn load_str_with(file: &str, text: &str, set: &[overrides::Override]) -> Result<Spec, overrides::Error> {
    if set.is_empty() {
        return Ok(load_str(file, text)?);
    }
    let file: Arc<str> = Arc::from(file);
    let mut root = node::parse_by_extension(&file, text).map_err(|e| {
        vec![Problem {
            code: crate::source::ProblemCode::Syntax,
            span: Span::new(&file, e.loc, ""),
            message: e.message,
            hint: None,
        }]
    })?;
    let applied = overrides::apply(&mut root, &file, set).map_err(overrides::Error::Usage)?;
    match decode(&file, &root) {
        Ok(mut spec) => {
            spec.overrides = applied;
            Ok(spec)
        }
        Err(mut problems) => {
            overrides::attribute(&mut problems, &applied);
            Err(problems.into())
        }
    }
}

/// [`load_file`] with `--set` overrides ([`load_str_with`]).
pub fn load_file_with(path: &std::path::Path, set: &[overrides::Override]) -> Result<Spec, overrides::Error> {
    let display = path.display().to_string();
    let text = read_file_text(path, &display)?;
    load_str_with(&display, &text, set)
}
