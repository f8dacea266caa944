//! Deterministic economics: the priced model of a feature, the cost of a
//! call and of an interaction (typical and worst), and the worst-case month.
//!
//! Every formula here is written out for finance readers in the README's
//! model reference; the tests pin each one with hand-computed values.

use serde::Serialize;

use crate::dist::Dist;
use crate::fmt::{self, ordinal_pct};
use crate::pricing::{ModelPrice, PricedModels};
use crate::spec::{Audience, BreakerLevel, NotifyWho, OnBudget, OnLimit, OnTrip, ScenarioEffect, Spec, TopUpUnit};

/// The feature, priced and reduced to what the engines compute on.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Days in the month.
    pub days: u32,
    /// Model calls per interaction.
    pub calls: Dist,
    /// Input tokens per call.
    pub input_tokens: Dist,
    /// Output tokens per call.
    pub output_tokens: Dist,
    /// Share of input billed at the cached rate.
    pub cached_share: Dist,
    /// Hard limit on calls per interaction.
    pub max_calls: Option<f64>,
    /// Hard limit on input tokens per call (the spec's, else the model's context window).
    pub max_input_tokens: Option<f64>,
    /// Hard limit on output tokens per call (the spec's, else the model's).
    pub max_output_tokens: Option<f64>,
    /// Share of users active on a day.
    pub active_share: Dist,
    /// Interactions per active user-day.
    pub interactions: Dist,
    /// Share of power users (0 without `power_users`).
    pub power_share: f64,
    /// How many times an ordinary user's interactions a power user makes.
    pub power_multiplier: f64,
    /// Distinct priced models; tiers refer to them by index.
    pub prices: Vec<ModelPrice>,
    /// The tiers, in the spec's order.
    pub tiers: Vec<TierModel>,
    /// The breakers the spec sets.
    pub breakers: Vec<BreakerModel>,
    /// The stress scenarios.
    pub scenarios: Vec<ScenarioModel>,
    /// The quantile at which a count with no upper end is read for the worst case.
    pub worst_case_quantile: f64,
    /// Whether the reports give the breakers' levels, pages and alerts
    /// ([`crate::spec::Breakers::has_levels`]).
    pub breaker_levels: bool,
}

/// Who a tier's customers are.
#[derive(Clone, Debug, PartialEq)]
pub enum Customers {
    /// Individual users: how many.
    Users(Dist),
    /// Tenants, each of some users.
    Tenants {
        /// How many tenants.
        tenants: Dist,
        /// Users per tenant.
        users_per_tenant: Dist,
    },
}

/// A per-user token cap.
#[derive(Clone, Debug, PartialEq)]
pub struct CapModel {
    /// Tokens per user-day.
    pub daily_tokens: Option<f64>,
    /// Tokens per user-month.
    pub monthly_tokens: Option<f64>,
    /// Share of the cap at which users are warned.
    pub warn_at: Option<f64>,
    /// What happens past the cap.
    pub on_limit: OnLimit,
    /// Share of output kept past the cap with `shrink`.
    pub shrink_to: f64,
    /// Share of the demand past the cap served with `throttle`.
    pub throttle_to: f64,
    /// The top-up offered at the cap, if any.
    pub top_up: Option<TopUpModel>,
}

/// A paid top-up at a cap.
#[derive(Clone, Debug, PartialEq)]
pub struct TopUpModel {
    /// What one top-up costs the user, USD.
    pub price_usd: f64,
    /// Tokens one top-up buys (interactions x the typical interaction's tokens).
    pub tokens: f64,
    /// Share of users who buy when they reach the cap (drawn per trial).
    pub uptake: Dist,
    /// Most top-ups one user buys a month.
    pub max_per_month: f64,
}

impl CapModel {
    /// Tokens a `block` cap lets one user consume in a month of `days`
    /// (`None`: the cap does not block, so it bounds nothing), the most
    /// top-ups a user may buy included.
    pub fn block_bound(&self, days: f64) -> Option<f64> {
        if self.on_limit != OnLimit::Block {
            return None;
        }
        match (self.daily_tokens.map(|d| d * days), self.monthly_tokens) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|x| x + self.top_up_tokens())
    }

    /// The most tokens top-ups add to one user's month (0 without a top-up).
    pub fn top_up_tokens(&self) -> f64 {
        self.top_up.as_ref().map_or(0.0, |t| t.tokens * t.max_per_month)
    }
}

/// A tier, priced.
#[derive(Clone, Debug, PartialEq)]
pub struct TierModel {
    /// Its name.
    pub name: String,
    /// Its customers.
    pub customers: Customers,
    /// Price per user (or per tenant) per month; `None` when the spec gives none.
    pub price: Option<f64>,
    /// Index of its model in [`Model::prices`].
    pub model: usize,
    /// Index of the model that serves demand past the cap with `fallback`.
    pub fallback: Option<usize>,
    /// Its per-user cap.
    pub cap: Option<CapModel>,
    /// (tokens included per user-day, USD per 1k tokens beyond).
    pub overage: Option<(f64, f64)>,
    /// Its per-tenant budget.
    pub budget: Option<BudgetModel>,
    /// Its named accounts, each a tenant of its own (besides `customers`).
    pub accounts: Vec<AccountModel>,
}

/// A named account of a tier of tenants: its users, price and budget.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountModel {
    /// Its name.
    pub name: String,
    /// Its users.
    pub users: Dist,
    /// What it pays a month.
    pub price: f64,
    /// Its budget.
    pub budget: BudgetModel,
}

impl TierModel {
    /// The top-up offered at its cap, if any.
    pub fn top_up(&self) -> Option<&TopUpModel> {
        self.cap.as_ref().and_then(|c| c.top_up.as_ref())
    }
}

/// A per-tenant monthly budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetModel {
    /// The budget, USD per tenant-month.
    pub monthly_usd: f64,
    /// Shares of the budget at which alerts fire.
    pub alerts: Vec<f64>,
    /// Whether service stops for the tenant once it is spent (else it only alerts).
    pub block: bool,
    /// When the budget is drawn per tenant: its distribution (`monthly_usd`
    /// is then its central value).
    pub drawn: Option<Dist>,
}

/// A daily spend circuit breaker.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerModel {
    /// Its field name (`feature_daily_usd`).
    pub name: &'static str,
    /// What its limit counts: a user's day, a tenant's, or the day's total.
    pub level: BreakerLevel,
    /// The daily spend at which it trips, USD.
    pub limit_usd: f64,
    /// `None`: block; `Some(f)`: throttle, serving `f` of the demand past the limit.
    pub throttle: Option<f64>,
    /// What it does past its limit.
    pub action: TripAction,
    /// What the spec says it does, and whom it tells.
    pub on_trip: OnTrip,
    /// Who is told when it trips.
    pub notify: Vec<NotifyWho>,
    /// Whether a trip pages on-call, and alerts the account manager.
    pub pages: bool,
    /// Whether a trip alerts the account manager.
    pub alerts_account_manager: bool,
}

/// What a breaker does to the part of a day past its limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TripAction {
    /// Nothing more is served.
    Block,
    /// A share is still served.
    Throttle(f64),
    /// Served by this priced model (an index into [`Model::prices`]).
    Fallback(usize),
    /// Served with this share of the output kept.
    Shrink(f64),
    /// Nothing is cut.
    Notify,
}

/// What is left of the part of a day past a breaker's limit: the share of
/// its cost still spent and the share of its tokens still served.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PastTrip {
    /// Share of its cost still spent.
    pub cost: f64,
    /// Share of its tokens still served.
    pub served: f64,
}

/// A stress scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioModel {
    /// Its name.
    pub name: String,
    /// Its chance per month.
    pub chance: f64,
    /// What it does.
    pub effect: Effect,
}

/// What a stress scenario does to a month.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A usage spike.
    Viral {
        /// Multiplier of interactions per active day.
        multiplier: f64,
        /// How many days it lasts.
        days: u32,
    },
    /// The power-user share rises from a random day on.
    PowerShare {
        /// The new share.
        share: f64,
    },
    /// A runaway client loops on one tier.
    Loop {
        /// Calls an hour.
        calls_per_hour: f64,
        /// Hours until it is detected.
        hours: f64,
        /// Index of its tier.
        tier: usize,
    },
    /// Prices rise from a random day on.
    Prices {
        /// Multiplier of every price.
        multiplier: f64,
    },
}

impl Model {
    /// Build the model from a validated spec and its resolved prices.
    pub fn new(spec: &Spec, priced: &PricedModels, worst_case_quantile: f64) -> Model {
        let mut prices: Vec<ModelPrice> = Vec::new();
        let mut index_of = |key: &str| -> usize {
            let p = priced.get(key);
            match prices.iter().position(|x| x == p) {
                Some(i) => i,
                None => {
                    prices.push(p.clone());
                    prices.len() - 1
                }
            }
        };
        let tiers: Vec<TierModel> = spec
            .tiers
            .iter()
            .map(|t| {
                let model = index_of(&t.model);
                let fallback = t
                    .limit
                    .as_ref()
                    .and_then(|l| l.fallback_model.as_deref())
                    .map(&mut index_of);
                TierModel {
                    name: t.name.clone(),
                    customers: match &t.audience {
                        Audience::Users { users } => Customers::Users(users.dist.clone()),
                        Audience::Tenants {
                            tenants,
                            users_per_tenant,
                        } => Customers::Tenants {
                            tenants: tenants.dist.clone(),
                            users_per_tenant: users_per_tenant.dist.clone(),
                        },
                    },
                    price: t.price_usd_per_month.as_ref().map(|n| n.value),
                    model,
                    fallback: match t.limit.as_ref().map(|l| l.on_limit) {
                        Some(OnLimit::Fallback) => fallback,
                        _ => None,
                    },
                    cap: t.limit.as_ref().map(|l| CapModel {
                        daily_tokens: l.daily_tokens.as_ref().map(|n| n.value),
                        monthly_tokens: l.monthly_tokens.as_ref().map(|n| n.value),
                        warn_at: l.warn_at.as_ref().map(|n| n.value),
                        on_limit: l.on_limit,
                        shrink_to: l.shrink_to,
                        throttle_to: l.throttle_to,
                        top_up: l.top_up.as_ref().map(|u| TopUpModel {
                            price_usd: u.price_usd.value,
                            tokens: match u.unit {
                                TopUpUnit::Tokens => u.amount.value,
                                TopUpUnit::Interactions => u.amount.value * spec.interaction.typical_tokens().2,
                            },
                            uptake: u.uptake.dist.clone(),
                            max_per_month: u.max_per_month.value,
                        }),
                    }),
                    overage: t
                        .overage
                        .as_ref()
                        .map(|o| (o.after_daily_tokens.value, o.usd_per_1k_tokens.value)),
                    budget: t.tenant_budget.as_ref().map(|b| BudgetModel {
                        monthly_usd: b.monthly_usd.value,
                        alerts: b.alerts.clone(),
                        block: b.on_limit == OnBudget::Block,
                        drawn: b.monthly_drawn.as_ref().map(|q| q.dist.clone()),
                    }),
                    accounts: t
                        .accounts
                        .iter()
                        .map(|a| AccountModel {
                            name: a.name.clone(),
                            users: a.users.dist.clone(),
                            price: a
                                .price_usd_per_month
                                .as_ref()
                                .or(t.price_usd_per_month.as_ref())
                                .map_or(0.0, |n| n.value),
                            budget: BudgetModel {
                                monthly_usd: a.monthly_usd.value,
                                alerts: a.alerts.clone(),
                                block: a.on_budget_block(),
                                drawn: None,
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        let breakers = spec
            .breakers
            .levels()
            .map(|(name, level, b)| BreakerModel {
                name,
                level,
                limit_usd: b.limit.value,
                throttle: (b.on_trip == OnTrip::Throttle).then_some(b.factor),
                action: match b.on_trip {
                    OnTrip::Block => TripAction::Block,
                    OnTrip::Throttle => TripAction::Throttle(b.factor),
                    OnTrip::Shrink => TripAction::Shrink(b.factor),
                    OnTrip::Notify => TripAction::Notify,
                    OnTrip::Fallback => TripAction::Fallback(b.fallback_model.as_deref().map_or(0, &mut index_of)),
                },
                on_trip: b.on_trip,
                notify: b.notify.clone(),
                pages: b.notify.contains(&NotifyWho::OnCall),
                alerts_account_manager: b.notify.contains(&NotifyWho::AccountManager),
            })
            .collect();
        let default_loop_tier = least_capped_tier(&tiers);
        let scenarios = spec
            .scenarios
            .iter()
            .map(|s| ScenarioModel {
                name: s.name.clone(),
                chance: s.chance,
                effect: match &s.effect {
                    ScenarioEffect::Viral { usage_multiplier, days } => Effect::Viral {
                        multiplier: *usage_multiplier,
                        days: *days,
                    },
                    ScenarioEffect::PowerUserDiscovery { power_share } => Effect::PowerShare { share: *power_share },
                    ScenarioEffect::RunawayLoop {
                        calls_per_hour,
                        hours_until_detected,
                        tier,
                    } => Effect::Loop {
                        calls_per_hour: *calls_per_hour,
                        hours: *hours_until_detected,
                        tier: tier
                            .as_ref()
                            .and_then(|n| spec.tiers.iter().position(|t| &t.name == n))
                            .unwrap_or(default_loop_tier),
                    },
                    ScenarioEffect::PriceIncrease { price_multiplier } => Effect::Prices {
                        multiplier: *price_multiplier,
                    },
                },
            })
            .collect();
        let i = &spec.interaction;
        let (power_share, power_multiplier) = spec
            .usage
            .power_users
            .as_ref()
            .map_or((0.0, 1.0), |p| (p.share.value, p.multiplier.value));
        Model {
            days: spec.usage.days,
            calls: i.calls.dist.clone(),
            input_tokens: i.input_tokens.dist.clone(),
            output_tokens: i.output_tokens.dist.clone(),
            cached_share: i.cached_input_share.dist.clone(),
            max_calls: i.max_calls.as_ref().map(|n| n.value),
            max_input_tokens: i.max_input_tokens.as_ref().map(|n| n.value),
            max_output_tokens: i.max_output_tokens.as_ref().map(|n| n.value),
            active_share: spec.usage.active_share.dist.clone(),
            interactions: spec.usage.interactions_per_active_day.dist.clone(),
            power_share,
            power_multiplier,
            prices,
            tiers,
            breakers,
            scenarios,
            worst_case_quantile,
            breaker_levels: spec.breakers.has_levels() || spec.tiers.iter().any(|t| !t.accounts.is_empty()),
        }
    }

    /// What breaker `b` leaves of the part of tier `ti`'s day past its
    /// limit, at cached share `cached`. A fallback re-prices it at the ratio
    /// of a typical call's cost at the fallback model to the tier's model; a
    /// shrink keeps `s` of the output, the output's share of a typical call's
    /// cost and tokens.
    pub fn past_trip(&self, b: &BreakerModel, ti: usize, cached: f64) -> PastTrip {
        let (tin, tout) = (self.typical_input(), self.typical_output());
        let price = &self.prices[self.tiers[ti].model];
        match b.action {
            TripAction::Block => PastTrip { cost: 0.0, served: 0.0 },
            TripAction::Throttle(f) => PastTrip { cost: f, served: f },
            TripAction::Notify => PastTrip { cost: 1.0, served: 1.0 },
            TripAction::Fallback(fb) => {
                let own = price.call_cost(tin, tout, cached);
                PastTrip {
                    cost: if own > 0.0 {
                        self.prices[fb].call_cost(tin, tout, cached) / own
                    } else {
                        1.0
                    },
                    served: 1.0,
                }
            }
            TripAction::Shrink(s) => {
                let own = price.call_cost(tin, tout, cached);
                let out_cost = if own > 0.0 {
                    tout * price.rates(tin).output / own
                } else {
                    0.0
                };
                let out_tok = if tin + tout > 0.0 { tout / (tin + tout) } else { 0.0 };
                PastTrip {
                    cost: 1.0 - (1.0 - s) * out_cost,
                    served: 1.0 - (1.0 - s) * out_tok,
                }
            }
        }
    }

    /// The breaker at `level`, with its index in [`Model::breakers`].
    pub fn breaker_at(&self, level: BreakerLevel) -> Option<(usize, &BreakerModel)> {
        self.breakers.iter().enumerate().find(|(_, b)| b.level == level)
    }

    /// Typical input tokens of a call: the central value, within `max_input_tokens`.
    pub fn typical_input(&self) -> f64 {
        clip(self.input_tokens.central(), self.max_input_tokens)
    }

    pub(crate) fn typical_output(&self) -> f64 {
        clip(self.output_tokens.central(), self.max_output_tokens)
    }

    pub(crate) fn typical_calls(&self) -> f64 {
        clip(self.calls.central().max(1.0), self.max_calls)
    }

    /// The most input one call can carry with this model: `max_input_tokens`,
    /// else the model's context window.
    pub fn worst_input(&self, model: usize) -> Option<f64> {
        self.max_input_tokens.or(self.prices[model].context_window)
    }

    pub(crate) fn worst_output(&self, model: usize) -> Option<f64> {
        self.max_output_tokens.or(self.prices[model].max_output_tokens)
    }

    /// The dearest USD per token the tier's model can charge (at the most
    /// input one call can carry): what the worst case prices capped tokens at.
    pub fn dearest_rate(&self, t: &TierModel) -> f64 {
        let price = &self.prices[t.model];
        self.worst_input(t.model)
            .map_or_else(|| price.dearest_rate(f64::INFINITY), |i| price.dearest_rate(i))
    }

    /// The product of every price increase that can happen in the month.
    pub fn worst_price_multiplier(&self) -> f64 {
        self.scenarios
            .iter()
            .filter(|s| s.chance > 0.0)
            .filter_map(|s| match s.effect {
                Effect::Prices { multiplier } => Some(multiplier.max(1.0)),
                _ => None,
            })
            .product()
    }
}

fn clip(v: f64, max: Option<f64>) -> f64 {
    max.map_or(v, |m| v.min(m))
}

/// The tier a runaway client is assumed to belong to when the scenario does
/// not say: one whose users nothing bounds if there is one, else the one with
/// the largest per-user token allowance.
fn least_capped_tier(tiers: &[TierModel]) -> usize {
    let allowance = |t: &TierModel| -> f64 {
        match &t.cap {
            Some(c) if c.on_limit == OnLimit::Block => c
                .daily_tokens
                .unwrap_or(f64::INFINITY)
                .min(c.monthly_tokens.unwrap_or(f64::INFINITY)),
            _ => f64::INFINITY,
        }
    };
    let mut best = 0;
    for (i, t) in tiers.iter().enumerate() {
        if allowance(t) > allowance(&tiers[best]) {
            best = i;
        }
    }
    best
}

// ------------------------------------------------------ unit economics ----

/// Cost of a call and of an interaction on one tier's model.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UnitCosts {
    /// The tier.
    pub tier: String,
    /// The model id its calls are priced at.
    pub model: String,
    /// At the central tokens, with the cache discount.
    pub typical_call_usd: f64,
    /// At `max_input_tokens` and `max_output_tokens`, no cache discount.
    /// `None`: unbounded (no limit and no known model limit).
    pub worst_call_usd: Option<f64>,
    /// The typical call times the central calls per interaction.
    pub typical_interaction_usd: f64,
    /// Worst call x `max_calls`; `None` without `max_calls`.
    pub worst_interaction_usd: Option<f64>,
    /// Why the worst case is unbounded, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unbounded_because: Option<String>,
}

/// The cost of a call and of an interaction on each tier's model, typical and worst.
pub fn unit_costs(m: &Model) -> Vec<UnitCosts> {
    let (tin, tout) = (m.typical_input(), m.typical_output());
    let c = m.cached_share.central();
    m.tiers
        .iter()
        .map(|t| {
            let price = &m.prices[t.model];
            let typical_call = price.call_cost(tin, tout, c);
            let worst_call = match (m.worst_input(t.model), m.worst_output(t.model)) {
                (Some(i), Some(o)) => Some(price.call_cost(i, o, 0.0)),
                _ => None,
            };
            let worst_interaction = match (worst_call, m.max_calls) {
                (Some(w), Some(k)) => Some(w * k),
                _ => None,
            };
            let unbounded_because = if worst_call.is_none() {
                Some("the spec sets no max_input_tokens/max_output_tokens and the model has no published limits".into())
            } else if m.max_calls.is_none() {
                Some("the spec sets no `interaction.max_calls`, so an agent loop can make any number of calls".into())
            } else {
                None
            };
            UnitCosts {
                tier: t.name.clone(),
                model: price.id.clone(),
                typical_call_usd: typical_call,
                worst_call_usd: worst_call,
                typical_interaction_usd: typical_call * m.typical_calls(),
                worst_interaction_usd: worst_interaction,
                unbounded_because,
            }
        })
        .collect()
}

// ------------------------------------------------------ worst-case month ----

/// One tier's worst-case month.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TierWorst {
    /// The tier.
    pub tier: String,
    /// Customers at the upper end (users, or tenants x users per tenant).
    pub users: f64,
    /// `None`: unbounded.
    pub monthly_usd: Option<f64>,
    /// What bounds the tier, or why nothing does.
    pub reason: String,
}

/// The deterministic worst-case month (see [`worst_case`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorstCase {
    /// `None`: unbounded.
    pub monthly_usd: Option<f64>,
    /// Per tier.
    pub tiers: Vec<TierWorst>,
    /// The breaker that bounds the total, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounded_by_breaker: Option<String>,
    /// Counts with no upper end that were read at the worst-case quantile.
    pub notes: Vec<String>,
    /// The product of every price increase that can happen in the month (1
    /// without one), applied to the worst case.
    pub price_multiplier: f64,
}

/// The deterministic worst-case month: every customer at the upper end of
/// its count, active every day, consuming up to every limit that binds it;
/// every capped token at the dearest rate the model charges; every price
/// increase that can happen in force all month; tenant budgets and blocking
/// breakers bound what they bound.
pub fn worst_case(m: &Model) -> WorstCase {
    let q = m.worst_case_quantile;
    let mut notes = Vec::new();
    let mut read = |d: &Dist, what: String| -> f64 {
        match d.upper_bound() {
            Some(v) => v,
            None => {
                let v = d.quantile(q);
                notes.push(format!(
                    "{what} has no upper end; the worst case reads it at its {} percentile ({})",
                    ordinal_pct(q),
                    fmt::count(v)
                ));
                v
            }
        }
    };
    let pm = m.worst_price_multiplier();
    let days = m.days as f64;
    let mut tiers = Vec::new();
    for t in &m.tiers {
        let (users, tenants) = match &t.customers {
            Customers::Users(d) => (read(d, format!("`{}` users", t.name)), None),
            Customers::Tenants {
                tenants,
                users_per_tenant,
            } => {
                let n = read(tenants, format!("`{}` tenants", t.name)).round();
                let u = read(users_per_tenant, format!("`{}` users per tenant", t.name));
                (n * u, Some(n))
            }
        };
        // Named accounts: their users at their upper end; their budgets
        // bound them only when every budget of the tier blocks.
        let account_users: f64 = t
            .accounts
            .iter()
            .map(|a| read(&a.users, format!("`{}` account `{}` users", t.name, a.name)).round())
            .sum();
        let users = users + account_users;
        let accounts_block = t.accounts.iter().all(|a| a.budget.block);
        let account_budgets: f64 = t.accounts.iter().map(|a| a.budget.monthly_usd).sum();
        let budget_accounts = if t.accounts.is_empty() {
            String::new()
        } else {
            format!(" + the {} named accounts' blocking budgets", t.accounts.len())
        };
        let per_user_tokens = t.cap.as_ref().and_then(|c| c.block_bound(days));
        let rate = m.dearest_rate(t);
        let by_cap = per_user_tokens.map(|tok| users * tok * rate * pm);
        let by_budget = match (&t.budget, tenants) {
            _ if !accounts_block => None,
            (Some(b), Some(n)) if b.block => {
                let each = match &b.drawn {
                    Some(d) => read(d, format!("`{}` tenant budget", t.name)),
                    None => b.monthly_usd,
                };
                Some(n * each + account_budgets)
            }
            (_, Some(n)) if n == 0.0 && !t.accounts.is_empty() => Some(account_budgets),
            _ => None,
        };
        let (monthly, reason) = match (by_cap, by_budget) {
            (Some(a), Some(b)) if b < a => (
                Some(b),
                format!(
                    "{} tenants x the blocking tenant budget{budget_accounts}",
                    fmt::count(tenants.unwrap_or(0.0))
                ),
            ),
            (Some(a), _) => (
                Some(a),
                format!(
                    "{} users x {} tokens a month at the dearest rate ${:.2}/M",
                    fmt::count(users),
                    fmt::count(per_user_tokens.unwrap_or(0.0)),
                    rate * 1e6 * pm
                ),
            ),
            (None, Some(b)) => (
                Some(b),
                format!(
                    "{} tenants x the blocking tenant budget{budget_accounts}",
                    fmt::count(tenants.unwrap_or(0.0))
                ),
            ),
            (None, None) => (None, unbounded_reason(t)),
        };
        tiers.push(TierWorst {
            tier: t.name.clone(),
            users,
            monthly_usd: monthly,
            reason,
        });
    }
    let blocking = m
        .breakers
        .iter()
        .filter(|b| b.action == TripAction::Block && b.level.is_day_total())
        .min_by(|a, b| a.limit_usd.total_cmp(&b.limit_usd));
    let sum: Option<f64> = tiers.iter().map(|t| t.monthly_usd).sum();
    let (monthly, by_breaker) = match (sum, blocking) {
        (Some(s), Some(b)) if b.limit_usd * days < s => (Some(b.limit_usd * days), Some(b.name.to_string())),
        (None, Some(b)) => (Some(b.limit_usd * days), Some(b.name.to_string())),
        (s, _) => (s, None),
    };
    WorstCase {
        monthly_usd: monthly,
        tiers,
        bounded_by_breaker: by_breaker,
        notes,
        price_multiplier: pm,
    }
}

fn unbounded_reason(t: &TierModel) -> String {
    let budget = match &t.budget {
        Some(b) if !b.block => " and its tenant budget only notifies",
        _ => "",
    };
    match &t.cap {
        None => format!(
            "tier `{}` has no per-user limit{budget}, so one user's use has no ceiling",
            t.name
        ),
        Some(c) => format!(
            "tier `{}` serves demand past its cap (on_limit: {}){budget}, so one user's use has no ceiling",
            t.name,
            c.on_limit.as_str()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn model(yaml: &str) -> Model {
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:?}"));
        let priced = crate::pricing::resolve(&spec, &crate::pricing::builtin()).unwrap();
        Model::new(&spec, &priced, 0.999)
    }

    const BASE: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: {input_usd_per_mtok: 3, output_usd_per_mtok: 15}}
interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 2, max_input_tokens: 4000, max_output_tokens: 1000}
usage: {active_share: 1, interactions_per_active_day: 10}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

    #[test]
    fn unit_costs_pin_the_formulas() {
        let u = &unit_costs(&model(BASE))[0];
        assert!((u.typical_call_usd - 0.0105).abs() < 1e-12);
        // worst: 4,000 x $3/M + 1,000 x $15/M = $0.027 a call, x 2 calls
        assert!((u.worst_call_usd.unwrap() - 0.027).abs() < 1e-12);
        assert!((u.worst_interaction_usd.unwrap() - 0.054).abs() < 1e-12);
    }

    #[test]
    fn worst_case_is_unbounded_without_a_blocking_cap() {
        let w = worst_case(&model(BASE));
        assert_eq!(w.monthly_usd, None);
        assert!(w.tiers[0].reason.contains("no per-user limit"), "{}", w.tiers[0].reason);
    }

    #[test]
    fn a_block_cap_bounds_the_worst_case_at_the_dearest_rate() {
        let y = BASE.replace(
            "model: primary}",
            "model: primary, limit: {daily_tokens: 12000, on_limit: block, message: m}}",
        );
        let w = worst_case(&model(&y));
        // 1,000 users x 30 days x 12,000 tokens x $15/M
        assert!((w.monthly_usd.unwrap() - 5400.0).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn a_blocking_breaker_bounds_an_unbounded_feature() {
        let y = format!("{BASE}breakers:\n  global_daily_usd: {{limit: 100, on_trip: block, message: m}}\n");
        let w = worst_case(&model(&y));
        assert_eq!(w.monthly_usd, Some(3000.0));
        assert_eq!(w.bounded_by_breaker.as_deref(), Some("global_daily_usd"));
    }

    #[test]
    fn open_ended_counts_are_read_at_the_quantile_and_say_so() {
        let y = BASE
            .replace("users: 1000", "users: {p50: 1000, p95: 2000}")
            .replace("model: primary}", "model: primary, limit: {daily_tokens: 12000}}");
        let w = worst_case(&model(&y));
        let d = Dist::LogNormal {
            p50: 1000.0,
            p95: 2000.0,
            min: None,
            max: None,
        };
        let expect = d.quantile(0.999) * 30.0 * 12000.0 * 15e-6;
        assert!((w.monthly_usd.unwrap() - expect).abs() < 1e-6);
        assert!(w.notes[0].contains("99.9th percentile"), "{:?}", w.notes);
    }

    #[test]
    fn price_increases_raise_the_worst_case() {
        let y = format!(
            "{}scenarios:\n  - {{name: p, chance: 0.1, price_multiplier: 1.5}}\n",
            BASE.replace("model: primary}", "model: primary, limit: {daily_tokens: 12000}}")
        );
        assert!((worst_case(&model(&y)).monthly_usd.unwrap() - 8100.0).abs() < 1e-6);
    }
}
