//! Node tree -> [`Spec`], collecting every problem in one pass.

use std::collections::HashSet;
use std::sync::Arc;

use crate::dist::Dist;
use crate::input::node::{Node, Value};
use crate::input::read::{self, MapReader, child, index};
use crate::source::{Loc, Problem, ProblemCode, Problems, closest, did_you_mean};
use crate::spec::*;

/// The valid range of a quantity: what a draw is truncated to.
#[derive(Clone, Copy)]
struct Range {
    lo: f64,
    hi: f64,
    what: &'static str,
}

/// Tenants of one tier the engine draws one by one.
const MAX_TENANTS: f64 = 100_000.0;
/// Tenants of one tier whose budgets the engine follows day by day.
const MAX_BUDGETED_TENANTS: f64 = 2_000.0;

const COUNT: Range = Range {
    lo: 0.0,
    hi: f64::INFINITY,
    what: "a count",
};
const SHARE: Range = Range {
    lo: 0.0,
    hi: 1.0,
    what: "a share",
};
const USD: Range = Range {
    lo: 0.0,
    hi: f64::INFINITY,
    what: "an amount in USD",
};
const AT_LEAST_ONE: Range = Range {
    lo: 1.0,
    hi: f64::INFINITY,
    what: "a count of at least 1",
};

/// Decode a parsed spec (`file` names it in problems): every problem of the
/// tree at once, and a spec too large to simulate refused
/// ([`super::limits`]).
pub fn decode(file: &Arc<str>, root: &Node) -> Result<Spec, Vec<Problem>> {
    let mut p = Problems::new(file);
    let spec = decode_root(&mut p, file, root);
    // Bounded work: a spec the engine cannot simulate within its limits is
    // refused here, before anything runs.
    if let Some(s) = &spec
        && p.is_empty()
        && let Err(e) = super::limits::check(s, super::limits::DEFAULT_TRIALS)
    {
        p.push_as(ProblemCode::OutOfRange, e.loc, &e.path, e.message, Some(e.hint));
    }
    match spec {
        Some(s) if p.is_empty() => Ok(s),
        _ => {
            let mut v = p.into_vec();
            if v.is_empty() {
                // Defensive: a None without a problem would be a bug in this module.
                v.push(Problem {
                    code: crate::source::ProblemCode::InvalidValue,
                    span: crate::source::Span::new(file, root.loc, ""),
                    message: "the spec could not be read".into(),
                    hint: None,
                });
            }
            Err(v)
        }
    }
}

fn decode_root(p: &mut Problems, file: &Arc<str>, root: &Node) -> Option<Spec> {
    let mut m = MapReader::new(p, root, "")?;
    match m.get("costgate") {
        None => p.push_hint(
            root.loc,
            "costgate",
            "missing the format version `costgate: 1`",
            "put `costgate: 1` on the first line of the spec",
        ),
        Some(v) => match v.value {
            Value::Int(FORMAT_VERSION) => {}
            _ => p.push_hint(
                v.loc,
                "costgate",
                format!("unsupported spec format version {}", show(v)),
                format!("this costgate reads format version {FORMAT_VERSION}"),
            ),
        },
    }
    let feature = m
        .require(p, "feature", "describe the feature: id, name, owner, value")
        .and_then(|n| feature(p, n, "feature"));
    let models = m
        .require(
            p,
            "models",
            "name the models the tiers use, e.g. `primary: claude-sonnet-4-5`",
        )
        .and_then(|n| models(p, n, "models"));
    let interaction = m
        .require(
            p,
            "interaction",
            "describe one interaction: calls, input_tokens, output_tokens",
        )
        .and_then(|n| interaction(p, n, "interaction"));
    let usage = m
        .require(p, "usage", "describe usage: active_share, interactions_per_active_day")
        .and_then(|n| usage(p, n, "usage"));
    let tiers = m
        .require(p, "tiers", "list the customer tiers with users, price and model")
        .and_then(|n| tiers(p, n, "tiers", models.as_deref().unwrap_or(&[])));
    let breakers = match m.get("breakers") {
        Some(n) => breakers(p, n, "breakers", models.as_deref().unwrap_or(&[])),
        None => Some(Breakers::default()),
    };
    let scenarios = match m.get("scenarios") {
        Some(n) => scenarios(
            p,
            n,
            "scenarios",
            tiers.as_deref().unwrap_or(&[]),
            usage.as_ref().map(|u| u.days),
        ),
        None => Some(Vec::new()),
    };
    m.finish(p);
    Some(Spec {
        file: Arc::clone(file),
        feature: feature?,
        models: models?,
        interaction: interaction?,
        usage: usage?,
        tiers: tiers?,
        breakers: breakers?,
        scenarios: scenarios?,
        overrides: Vec::new(),
    })
}

fn show(n: &Node) -> String {
    match &n.value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => format!("`{s}`"),
        other => other.kind().to_string(),
    }
}

fn num(p: &mut Problems, n: &Node, path: &str, check: fn(&mut Problems, &Node, &str) -> Option<f64>) -> Option<Num> {
    check(p, n, path).map(|value| Num {
        value,
        loc: n.loc,
        path: path.to_string(),
    })
}

fn opt_num(
    p: &mut Problems,
    m: &mut MapReader,
    key: &'static str,
    check: fn(&mut Problems, &Node, &str) -> Option<f64>,
) -> Result<Option<Num>, ()> {
    match m.get(key) {
        None => Ok(None),
        Some(n) => num(p, n, &m.child_path(key), check).map(Some).ok_or(()),
    }
}

fn text(p: &mut Problems, n: &Node, path: &str) -> Option<Text> {
    read::string(p, n, path).map(|t| Text {
        text: t,
        loc: n.loc,
        path: path.to_string(),
    })
}

// ------------------------------------------------------------ feature ----

fn feature(p: &mut Problems, n: &Node, path: &str) -> Option<Feature> {
    let mut m = MapReader::new(p, n, path)?;
    let id = m
        .require(p, "id", "a short kebab-case id, e.g. `support-assistant`")
        .and_then(|v| {
            let id = read::name(p, v, &child(path, "id"))?;
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                p.push_hint(
                    v.loc,
                    &child(path, "id"),
                    format!("`{id}` is not a valid id"),
                    "use letters, digits, `-`, `_` or `.`",
                );
                return None;
            }
            Some(id)
        });
    let name = match m.get("name") {
        Some(v) => read::name(p, v, &child(path, "name")),
        None => id.clone(),
    };
    let owner = m.get("owner").and_then(|v| read::name(p, v, &child(path, "owner")));
    let value = m.get("value").map(|v| value_def(p, v, &child(path, "value")));
    let baseline = m.get("baseline").map(|v| baseline(p, v, &child(path, "baseline")));
    m.finish(p);
    Some(Feature {
        id: id?,
        name: name?,
        owner,
        value: match value {
            Some(Some(v)) => Some(v),
            Some(None) => return None,
            None => None,
        },
        baseline: match baseline {
            Some(Some(b)) => Some(b),
            Some(None) => return None,
            None => None,
        },
        loc: n.loc,
    })
}

fn value_def(p: &mut Problems, n: &Node, path: &str) -> Option<ValueDef> {
    let mut m = MapReader::new(p, n, path)?;
    let kind = m.require(p, "kind", "revenue | retention | engagement").and_then(|v| {
        read::word(
            p,
            v,
            &child(path, "kind"),
            &[
                ("revenue", ValueKind::Revenue),
                ("retention", ValueKind::Retention),
                ("engagement", ValueKind::Engagement),
            ],
        )
    });
    let unit = m.get("unit").and_then(|v| read::name(p, v, &child(path, "unit")));
    let upi = opt_num(p, &mut m, "units_per_interaction", read::non_negative);
    let usd = opt_num(p, &mut m, "usd_per_unit", read::non_negative);
    m.finish(p);
    Some(ValueDef {
        kind: kind?,
        unit,
        units_per_interaction: upi.ok()?,
        usd_per_unit: usd.ok()?,
        loc: n.loc,
    })
}

fn baseline(p: &mut Problems, n: &Node, path: &str) -> Option<Baseline> {
    let mut m = MapReader::new(p, n, path)?;
    let name = match m.get("name") {
        Some(v) => read::name(p, v, &child(path, "name")),
        None => Some("the current way".to_string()),
    };
    let monthly = m
        .require(p, "monthly_usd", "what the non-AI way costs per month, in USD")
        .and_then(|v| num(p, v, &child(path, "monthly_usd"), read::non_negative));
    m.finish(p);
    Some(Baseline {
        name: name?,
        monthly_usd: monthly?,
    })
}

// ------------------------------------------------------------- models ----

fn models(p: &mut Problems, n: &Node, path: &str) -> Option<Vec<ModelDef>> {
    let Value::Map(entries) = &n.value else {
        p.push(
            n.loc,
            path,
            format!("expected a mapping of model keys to names, found {}", n.value.kind()),
        );
        return None;
    };
    if entries.is_empty() {
        p.push(n.loc, path, "no models are defined");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (key, v) in entries {
        let kpath = child(path, &key.name);
        match &v.value {
            Value::Str(name) if !name.trim().is_empty() => out.push(ModelDef {
                key: key.name.clone(),
                name: name.trim().to_string(),
                custom: None,
                loc: v.loc,
                path: kpath,
            }),
            Value::Map(_) => match custom_prices(p, v, &kpath) {
                Some(c) => out.push(ModelDef {
                    key: key.name.clone(),
                    name: key.name.clone(),
                    custom: Some(c),
                    loc: v.loc,
                    path: kpath,
                }),
                None => ok = false,
            },
            other => {
                p.push_hint(
                    v.loc,
                    &kpath,
                    format!("expected a model name or prices, found {}", other.kind()),
                    "write a catalog name (`claude-sonnet-4-5`) or `{input_usd_per_mtok: .., output_usd_per_mtok: ..}`",
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn custom_prices(p: &mut Problems, n: &Node, path: &str) -> Option<CustomPrices> {
    let mut m = MapReader::new(p, n, path)?;
    let input = m
        .require(p, "input_usd_per_mtok", "USD per million input tokens")
        .and_then(|v| read::non_negative(p, v, &child(path, "input_usd_per_mtok")));
    let output = m
        .require(p, "output_usd_per_mtok", "USD per million output tokens")
        .and_then(|v| read::non_negative(p, v, &child(path, "output_usd_per_mtok")));
    let cached = opt_num(p, &mut m, "cached_input_usd_per_mtok", read::non_negative);
    let write = opt_num(p, &mut m, "cache_write_usd_per_mtok", read::non_negative);
    let ctx = opt_num(p, &mut m, "context_window", read::positive);
    let max_out = opt_num(p, &mut m, "max_output_tokens", read::positive);
    m.finish(p);
    Some(CustomPrices {
        input_usd_per_mtok: input?,
        output_usd_per_mtok: output?,
        cached_input_usd_per_mtok: cached.ok()?.map(|n| n.value),
        cache_write_usd_per_mtok: write.ok()?.map(|n| n.value),
        context_window: ctx.ok()?.map(|n| n.value),
        max_output_tokens: max_out.ok()?.map(|n| n.value),
    })
}

// ---------------------------------------------------------- quantities ----

/// An uncertain quantity in any of the spec's forms.
fn quantity(p: &mut Problems, n: &Node, path: &str, range: Range) -> Option<Quantity> {
    let (dist, origin) = match &n.value {
        Value::Int(_) | Value::Float(_) => {
            let v = read::number(p, n, path)?;
            in_range(p, n.loc, path, v, range)?;
            (Dist::fixed(v), Origin::at(n.loc))
        }
        Value::Map(_) => {
            let mut m = MapReader::new(p, n, path)?;
            let origin = match m.get("measured") {
                Some(v) => Origin::Measured {
                    line: n.loc.line,
                    column: n.loc.column,
                    note: read::string(p, v, &m.child_path("measured")).unwrap_or_default(),
                },
                None => Origin::at(n.loc),
            };
            let dist = dist_form(p, &mut m, path, range);
            m.finish(p);
            (dist?, origin)
        }
        other => {
            p.push_hint(
                n.loc,
                path,
                format!("expected a number or a distribution, found {}", other.kind()),
                "write a number, {p50, p95}, {low, mode, high}, {mean, sd} or {samples: [...]}",
            );
            return None;
        }
    };
    Some(Quantity {
        dist,
        path: path.to_string(),
        loc: n.loc,
        origin,
    })
}

fn in_range(p: &mut Problems, loc: Loc, path: &str, v: f64, r: Range) -> Option<()> {
    if v < r.lo || v > r.hi {
        let hint = if r.hi.is_finite() {
            format!("{} must be between {} and {}", r.what, r.lo, r.hi)
        } else {
            format!("{} must be at least {}", r.what, r.lo)
        };
        p.push_hint(loc, path, format!("`{v}` is out of range"), hint);
        return None;
    }
    Some(())
}

fn dist_form(p: &mut Problems, m: &mut MapReader, path: &str, r: Range) -> Option<Dist> {
    let forms = [
        m.has("p50") || m.has("p95"),
        m.has("low") || m.has("mode") || m.has("high"),
        m.has("mean") || m.has("sd"),
        m.has("samples"),
    ];
    let count = forms.iter().filter(|f| **f).count();
    if count != 1 {
        p.push_hint(
            m.loc,
            path,
            if count == 0 {
                "no distribution given".to_string()
            } else {
                "mixes several distribution forms".to_string()
            },
            "use exactly one of {p50, p95}, {low, mode, high}, {mean, sd} or {samples: [...]}",
        );
        // Mark the known keys as used so they are not also reported as unknown.
        for k in [
            "p50", "p95", "low", "mode", "high", "shape", "mean", "sd", "min", "max", "samples",
        ] {
            m.get(k);
        }
        return None;
    }
    let field = |p: &mut Problems, m: &mut MapReader, key: &'static str| -> Option<(f64, Loc)> {
        let n = m.require(p, key, "see the uncertain-quantity forms in the README")?;
        let v = read::number(p, n, &m.child_path(key))?;
        Some((v, n.loc))
    };
    if forms[0] {
        let p50 = field(p, m, "p50");
        let p95 = field(p, m, "p95");
        // The bounds with their own positions: a contradiction points at them.
        let (min, min_loc) = match m.get("min") {
            Some(n) => (read::number(p, n, &m.child_path("min")), n.loc),
            None => (None, m.loc),
        };
        let (max, max_loc) = match m.get("max") {
            Some(n) => (read::number(p, n, &m.child_path("max")), n.loc),
            None => (None, m.loc),
        };
        let ((p50, l50), (p95, l95)) = (p50?, p95?);
        in_range(p, l50, &m.child_path("p50"), p50, r)?;
        if p50 <= 0.0 {
            p.push_hint(
                l50,
                &m.child_path("p50"),
                "a lognormal needs p50 above zero",
                "use a number for a quantity that is always zero",
            );
            return None;
        }
        if p95 < p50 {
            p.push_hint(
                l95,
                &m.child_path("p95"),
                format!("p95 ({p95}) is below p50 ({p50})"),
                "p95 is the value 95% of draws stay under: it is at least p50",
            );
            return None;
        }
        if let Some(hi) = max
            && hi < p50
        {
            p.push_hint(
                max_loc,
                &m.child_path("max"),
                format!("max ({hi}) is below p50 ({p50})"),
                "max is the largest value a draw can take: at least p50",
            );
            return None;
        }
        if let Some(lo) = min
            && lo > p95
        {
            p.push_hint(
                min_loc,
                &m.child_path("min"),
                format!("min ({lo}) is above p95 ({p95})"),
                "min is the smallest value a draw can take: at most p95",
            );
            return None;
        }
        let max = max.map(|x| x.min(r.hi)).or(r.hi.is_finite().then_some(r.hi));
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            p.push(m.loc, path, format!("min ({lo}) is above max ({hi})"));
            return None;
        }
        return Some(Dist::LogNormal { p50, p95, min, max });
    }
    if forms[1] {
        let low = field(p, m, "low");
        let mode = field(p, m, "mode");
        let high = field(p, m, "high");
        let shape = m
            .get("shape")
            .map(|n| read::word(p, n, &m.child_path("shape"), &[("triangular", false), ("pert", true)]));
        let ((low, ll), (mode, lm), (high, lh)) = (low?, mode?, high?);
        in_range(p, ll, &m.child_path("low"), low, r)?;
        in_range(p, lh, &m.child_path("high"), high, r)?;
        if low > mode {
            p.push_hint(
                lm,
                &m.child_path("mode"),
                format!("low ({low}) is above mode ({mode})"),
                "order them low <= mode <= high",
            );
            return None;
        }
        if mode > high {
            p.push_hint(
                lm,
                &m.child_path("mode"),
                format!("mode ({mode}) is above high ({high})"),
                "order them low <= mode <= high",
            );
            return None;
        }
        return match shape {
            Some(None) => None,
            Some(Some(true)) => Some(Dist::Pert { low, mode, high }),
            _ => Some(Dist::Triangular { low, mode, high }),
        };
    }
    if forms[2] {
        let mean = field(p, m, "mean");
        let sd = field(p, m, "sd");
        let min = m.get("min").and_then(|n| read::number(p, n, &m.child_path("min")));
        let max = m.get("max").and_then(|n| read::number(p, n, &m.child_path("max")));
        let ((mean, lmean), (sd, lsd)) = (mean?, sd?);
        in_range(p, lmean, &m.child_path("mean"), mean, r)?;
        if sd < 0.0 {
            p.push(lsd, &m.child_path("sd"), format!("sd ({sd}) is negative"));
            return None;
        }
        let lo = min.unwrap_or(r.lo).max(r.lo);
        let hi = max.unwrap_or(r.hi).min(r.hi);
        if lo > hi {
            p.push(m.loc, path, format!("min ({lo}) is above max ({hi})"));
            return None;
        }
        return Some(Dist::Normal {
            mean,
            sd,
            min: lo,
            max: hi,
        });
    }
    let n = m.get("samples")?;
    let spath = m.child_path("samples");
    let items = read::seq(p, n, &spath)?;
    if items.is_empty() {
        p.push(n.loc, &spath, "no samples given");
        return None;
    }
    let mut samples = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let ip = index(&spath, i);
        match read::number(p, it, &ip) {
            Some(v) if in_range(p, it.loc, &ip, v, r).is_some() => samples.push(v),
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    Some(Dist::Empirical { samples })
}

fn opt_quantity(p: &mut Problems, m: &mut MapReader, key: &'static str, range: Range) -> Result<Option<Quantity>, ()> {
    match m.get(key) {
        None => Ok(None),
        Some(n) => quantity(p, n, &m.child_path(key), range).map(Some).ok_or(()),
    }
}

// -------------------------------------------------------- interaction ----

fn interaction(p: &mut Problems, n: &Node, path: &str) -> Option<Interaction> {
    let mut m = MapReader::new(p, n, path)?;
    let calls = opt_quantity(p, &mut m, "calls", AT_LEAST_ONE);
    let input = m
        .require(
            p,
            "input_tokens",
            "input tokens per LLM call, e.g. {p50: 1800, p95: 6000}",
        )
        .and_then(|v| quantity(p, v, &child(path, "input_tokens"), COUNT));
    let output = m
        .require(
            p,
            "output_tokens",
            "output tokens per LLM call, e.g. {p50: 350, p95: 1100}",
        )
        .and_then(|v| quantity(p, v, &child(path, "output_tokens"), COUNT));
    let cached = opt_quantity(p, &mut m, "cached_input_share", SHARE);
    let max_calls = opt_num(p, &mut m, "max_calls", read::positive);
    let max_in = opt_num(p, &mut m, "max_input_tokens", read::positive);
    let max_out = opt_num(p, &mut m, "max_output_tokens", read::positive);
    m.finish(p);
    let calls = calls
        .ok()?
        .unwrap_or_else(|| Quantity::default_fixed(1.0, &child(path, "calls")));
    let cached = cached
        .ok()?
        .unwrap_or_else(|| Quantity::default_fixed(0.0, &child(path, "cached_input_share")));
    let (max_calls, max_in, max_out) = (max_calls.ok()?, max_in.ok()?, max_out.ok()?);
    // A limit below the typical value is a contradiction worth stopping on.
    let mut ok = true;
    for (q, lim, name) in [
        (&calls, &max_calls, "max_calls"),
        (input.as_ref()?, &max_in, "max_input_tokens"),
        (output.as_ref()?, &max_out, "max_output_tokens"),
    ] {
        if let Some(l) = lim
            && q.central() > l.value
        {
            p.push_hint(
                l.loc,
                &l.path,
                format!(
                    "{name} ({}) is below the typical value of `{}` ({})",
                    l.value,
                    q.path,
                    q.central()
                ),
                "an enforced limit below the typical use would cut every interaction",
            );
            ok = false;
        }
    }
    if let Some(l) = &max_calls
        && l.value.fract() != 0.0
    {
        p.push(
            l.loc,
            &l.path,
            format!("max_calls must be a whole number, found {}", l.value),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(Interaction {
        calls,
        input_tokens: input?,
        output_tokens: output?,
        cached_input_share: cached,
        max_calls,
        max_input_tokens: max_in,
        max_output_tokens: max_out,
        loc: n.loc,
    })
}

// -------------------------------------------------------------- usage ----

fn usage(p: &mut Problems, n: &Node, path: &str) -> Option<Usage> {
    let mut m = MapReader::new(p, n, path)?;
    let days_loc = m.get("days").map_or(Loc::UNKNOWN, |v| v.loc);
    let days = match m.get("days") {
        Some(v) => read::whole(p, v, &child(path, "days"), 1).and_then(|d| {
            if d > 366 {
                p.push(
                    v.loc,
                    &child(path, "days"),
                    format!("{d} days is more than a year; a month is simulated"),
                );
                None
            } else {
                Some(d as u32)
            }
        }),
        None => Some(30),
    };
    let active = m
        .require(
            p,
            "active_share",
            "the share of users active on a day, e.g. {low: 0.3, mode: 0.45, high: 0.7}",
        )
        .and_then(|v| quantity(p, v, &child(path, "active_share"), SHARE));
    let ipd = m
        .require(
            p,
            "interactions_per_active_day",
            "interactions per active user per day, e.g. {p50: 3, p95: 14}",
        )
        .and_then(|v| quantity(p, v, &child(path, "interactions_per_active_day"), COUNT));
    let power = match m.get("power_users") {
        None => Some(None),
        Some(v) => power_users(p, v, &child(path, "power_users")).map(Some),
    };
    m.finish(p);
    Some(Usage {
        days: days?,
        days_loc,
        active_share: active?,
        interactions_per_active_day: ipd?,
        power_users: power?,
        loc: n.loc,
    })
}

fn power_users(p: &mut Problems, n: &Node, path: &str) -> Option<PowerUsers> {
    let mut m = MapReader::new(p, n, path)?;
    let share = m
        .require(p, "share", "the share of users who are power users, e.g. 0.02")
        .and_then(|v| num(p, v, &child(path, "share"), read::share));
    let mult = m
        .require(
            p,
            "multiplier",
            "how many times a typical user's interactions a power user makes",
        )
        .and_then(|v| num(p, v, &child(path, "multiplier"), read::positive));
    m.finish(p);
    Some(PowerUsers {
        share: share?,
        multiplier: mult?,
    })
}

// -------------------------------------------------------------- tiers ----

fn tiers(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<Vec<Tier>> {
    let items = read::seq(p, n, path)?;
    if items.is_empty() {
        p.push_hint(
            n.loc,
            path,
            "no tiers are defined",
            "list at least one tier of customers",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let tp = index(path, i);
        match tier(p, it, &tp, models) {
            Some(t) => {
                if !seen.insert(t.name.clone()) {
                    p.push_hint(
                        t.loc,
                        &child(&tp, "name"),
                        format!("duplicate tier name `{}`", t.name),
                        "give every tier its own name",
                    );
                    ok = false;
                }
                out.push(t);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn model_key(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<String> {
    let key = read::name(p, n, path)?;
    if models.is_empty() || models.iter().any(|m| m.key == key) {
        return Some(key);
    }
    let keys: Vec<&str> = models.iter().map(|m| m.key.as_str()).collect();
    let near = closest(&key, keys.iter().copied(), 1);
    let mut hint = format!("the models defined under `models:` are: {}", keys.join(", "));
    if let Some(d) = did_you_mean(&near) {
        hint = format!("{d} ({hint})");
    }
    p.push_hint(n.loc, path, format!("`{key}` is not defined under `models:`"), hint);
    None
}

fn tier(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<Tier> {
    let mut m = MapReader::new(p, n, path)?;
    let name = m
        .require(p, "name", "a tier name such as `free` or `pro`")
        .and_then(|v| read::name(p, v, &child(path, "name")));
    let users = opt_quantity(p, &mut m, "users", COUNT);
    let tenants = opt_quantity(p, &mut m, "tenants", COUNT);
    let upt = opt_quantity(p, &mut m, "users_per_tenant", COUNT);
    let price = opt_num(p, &mut m, "price_usd_per_month", read::non_negative);
    let model_node = m.get("model");
    let model = match model_node {
        Some(v) => model_key(p, v, &child(path, "model"), models),
        None if models.len() == 1 => Some(models[0].key.clone()),
        None => {
            p.push_hint(
                m.loc,
                path,
                "missing required field `model`",
                "name the key under `models:` this tier uses",
            );
            None
        }
    };
    let limit = match m.get("limit") {
        None => Some(None),
        Some(v) => limit(p, v, &child(path, "limit"), models).map(Some),
    };
    let overage = match m.get("overage") {
        None => Some(None),
        Some(v) => overage(p, v, &child(path, "overage")).map(Some),
    };
    let budget = match m.get("tenant_budget") {
        None => Some(None),
        Some(v) => tenant_budget(p, v, &child(path, "tenant_budget")).map(Some),
    };
    let accounts_node = m.get("accounts");
    m.finish(p);
    let accounts = match (accounts_node, &budget) {
        (None, _) => Some(Vec::new()),
        (Some(v), Some(b)) => accounts(p, v, &child(path, "accounts"), b.as_ref()),
        (Some(_), None) => None,
    };
    let (users, mut tenants, mut upt) = (users.ok()?, tenants.ok()?, upt.ok()?);
    if let Some(v) = accounts_node
        && users.is_none()
        && tenants.is_none()
    {
        // Named accounts alone: no other tenants.
        tenants = Some(Quantity {
            dist: Dist::fixed(0.0),
            path: child(path, "tenants"),
            loc: v.loc,
            origin: Origin::Default,
        });
        upt = upt.or_else(|| {
            Some(Quantity {
                dist: Dist::fixed(0.0),
                path: child(path, "users_per_tenant"),
                loc: v.loc,
                origin: Origin::Default,
            })
        });
    }
    let audience = match (users, tenants, upt) {
        (Some(users), None, None) => Audience::Users { users },
        (None, Some(tenants), Some(users_per_tenant)) => {
            // Tenants with budgets are simulated one by one, every day of
            // every trial (each budget is its own); others are drawn one by one.
            let (max, why) = if matches!(budget, Some(Some(_))) {
                (MAX_BUDGETED_TENANTS, "tenants with a `tenant_budget`")
            } else {
                (MAX_TENANTS, "tenants")
            };
            let most = tenants.dist.worst(0.999);
            if most > max {
                p.push_hint(
                    tenants.loc,
                    &tenants.path,
                    format!("up to {most:.0} tenants: costgate simulates at most {max:.0} {why} a tier"),
                    "model a population this large as `users`, with a per-user `limit`",
                );
                return None;
            }
            Audience::Tenants {
                tenants,
                users_per_tenant,
            }
        }
        (None, Some(_), None) => {
            p.push_hint(
                n.loc,
                path,
                "`tenants` needs `users_per_tenant`",
                "e.g. users_per_tenant: {p50: 400, p95: 1500}",
            );
            return None;
        }
        (None, None, _) => {
            p.push_hint(
                n.loc,
                path,
                "the tier has no customers",
                "give `users` or `tenants` with `users_per_tenant`",
            );
            return None;
        }
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            p.push_hint(
                n.loc,
                path,
                "the tier gives both `users` and `tenants`",
                "a tier is either individual users or tenants",
            );
            return None;
        }
    };
    let (limit, overage) = (limit?, overage?);
    if let (Some(t), Some(_)) = (limit.as_ref().and_then(|l| l.top_up.as_ref()), &overage) {
        p.push_hint(
            t.loc,
            &t.path,
            "a tier cannot sell both top-ups and overage",
            "keep one way of selling past the cap: `limit.top_up` or `overage`",
        );
        return None;
    }
    let budget = budget?;
    let accounts = accounts?;
    if let Some(v) = accounts_node
        && !matches!(audience, Audience::Tenants { .. })
    {
        p.push_hint(
            v.loc,
            &child(path, "accounts"),
            "`accounts` needs a tier of tenants",
            "named accounts are tenants: drop `users` (give `tenants` and `users_per_tenant` for the other tenants, if any)",
        );
        return None;
    }
    if budget.is_some() && !matches!(audience, Audience::Tenants { .. }) {
        p.push_hint(
            n.loc,
            &child(path, "tenant_budget"),
            "`tenant_budget` needs a tier of tenants",
            "give `tenants` and `users_per_tenant`, or use `limit` for individual users",
        );
        return None;
    }
    Some(Tier {
        name: name?,
        audience,
        price_usd_per_month: price.ok()?,
        model: model?,
        model_loc: model_node.map_or(n.loc, |v| v.loc),
        limit,
        overage,
        tenant_budget: budget,
        accounts,
        loc: n.loc,
        path: path.to_string(),
    })
}

/// `tiers[].accounts`: named tenants, each with its own users, price and
/// budget; `alerts` and `on_limit` default to the tier's `tenant_budget`.
fn accounts(p: &mut Problems, n: &Node, path: &str, tier_budget: Option<&TenantBudget>) -> Option<Vec<Account>> {
    let items = read::seq(p, n, path)?;
    if items.len() > MAX_ACCOUNTS {
        p.push_as(
            ProblemCode::OutOfRange,
            n.loc,
            path,
            format!(
                "{} accounts: costgate simulates at most {MAX_ACCOUNTS} named accounts a tier",
                items.len()
            ),
            Some("name the accounts that matter and give the others as `tenants` with a `tenant_budget`".into()),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let ap = index(path, i);
        match account(p, it, &ap, tier_budget) {
            Some(a) => {
                if !seen.insert(a.name.clone()) {
                    p.push_hint(
                        a.loc,
                        &child(&ap, "name"),
                        format!("duplicate account name `{}`", a.name),
                        "give every account of a tier its own name",
                    );
                    ok = false;
                }
                out.push(a);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn account(p: &mut Problems, n: &Node, path: &str, tier_budget: Option<&TenantBudget>) -> Option<Account> {
    let mut m = MapReader::new(p, n, path)?;
    let name = m
        .require(p, "name", "the account's name, as the reports show it")
        .and_then(|v| read::name(p, v, &child(path, "name")));
    let users = m
        .require(p, "users", "the account's users (a number or a distribution)")
        .and_then(|v| quantity(p, v, &child(path, "users"), COUNT));
    let price = opt_num(p, &mut m, "price_usd_per_month", read::non_negative);
    let monthly = m
        .require(p, "monthly_usd", "the account's negotiated monthly AI budget, in USD")
        .and_then(|v| num(p, v, &child(path, "monthly_usd"), read::positive));
    let alerts = match m.get("alerts") {
        None => Some(tier_budget.map_or_else(|| vec![0.8, 1.0, 1.2], |b| b.alerts.clone())),
        Some(v) => alert_shares(p, v, &child(path, "alerts")),
    };
    let on = match m.get("on_limit") {
        Some(v) => read::word(
            p,
            v,
            &child(path, "on_limit"),
            &[("notify", OnBudget::Notify), ("block", OnBudget::Block)],
        ),
        None => Some(tier_budget.map_or(OnBudget::Notify, |b| b.on_limit)),
    };
    m.finish(p);
    Some(Account {
        name: name?,
        users: users?,
        price_usd_per_month: price.ok()?,
        monthly_usd: monthly?,
        alerts: alerts?,
        on_limit: on?,
        loc: n.loc,
        path: path.to_string(),
    })
}

/// A list of alert shares (each positive), sorted.
fn alert_shares(p: &mut Problems, v: &Node, ap: &str) -> Option<Vec<f64>> {
    read::seq(p, v, ap).and_then(|items| {
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            out.push(read::positive(p, it, &index(ap, i))?);
        }
        out.sort_by(f64::total_cmp);
        Some(out)
    })
}

fn limit(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<Limit> {
    let mut m = MapReader::new(p, n, path)?;
    let daily = opt_num(p, &mut m, "daily_tokens", read::positive);
    let monthly = opt_num(p, &mut m, "monthly_tokens", read::positive);
    let warn = opt_num(p, &mut m, "warn_at", read::share);
    let on_node = m.get("on_limit");
    // `on_limit: top_up` is a top-up whose non-buyers are blocked.
    let on = match on_node {
        Some(v) => read::word(
            p,
            v,
            &child(path, "on_limit"),
            &[
                ("block", Some(OnLimit::Block)),
                ("fallback", Some(OnLimit::Fallback)),
                ("shrink", Some(OnLimit::Shrink)),
                ("throttle", Some(OnLimit::Throttle)),
                ("top_up", None),
            ],
        ),
        None => Some(Some(OnLimit::Block)),
    };
    let fb = match m.get("fallback_model") {
        None => Some(None),
        Some(v) => model_key(p, v, &child(path, "fallback_model"), models).map(Some),
    };
    let shrink = opt_num(p, &mut m, "shrink_to", read::share);
    let throttle = opt_num(p, &mut m, "throttle_to", read::share);
    let message = m.get("message").map(|v| text(p, v, &child(path, "message")));
    let top_node = m.get("top_up");
    let top = top_node.map(|v| top_up(p, v, &child(path, "top_up")));
    m.finish(p);
    let (daily, monthly, warn) = (daily.ok()?, monthly.ok()?, warn.ok()?);
    let (on, fb) = (on?, fb?);
    let top_up_word = on.is_none();
    let on = on.unwrap_or(OnLimit::Block);
    let top = match top {
        Some(t) => Some(t?),
        None if top_up_word => {
            p.push_hint(
                on_node.map_or(n.loc, |v| v.loc),
                &child(path, "top_up"),
                "`on_limit: top_up` needs a `top_up` block",
                "e.g. top_up: {price_usd: 5, interactions: 500, uptake: {low: 0.02, mode: 0.05, high: 0.1}, max_per_month: 4}",
            );
            return None;
        }
        None => None,
    }
    .map(|t| TopUp {
        on_limit_top_up: top_up_word,
        ..t
    });
    if daily.is_none() && monthly.is_none() {
        p.push_hint(
            n.loc,
            path,
            "the limit sets no cap",
            "give `daily_tokens`, `monthly_tokens` or both",
        );
        return None;
    }
    if on == OnLimit::Fallback && fb.is_none() {
        p.push_hint(
            on_node.map_or(n.loc, |v| v.loc),
            &child(path, "fallback_model"),
            "`on_limit: fallback` needs `fallback_model`",
            "name the cheaper model (a key under `models:`) that serves past the cap",
        );
        return None;
    }
    Some(Limit {
        daily_tokens: daily,
        monthly_tokens: monthly,
        warn_at: warn,
        on_limit: on,
        on_limit_loc: on_node.map_or(n.loc, |v| v.loc),
        fallback_model: fb,
        shrink_to: shrink.clone().ok()?.map_or(DEFAULT_SHRINK_TO, |n| n.value),
        throttle_to: throttle.clone().ok()?.map_or(DEFAULT_THROTTLE_TO, |n| n.value),
        shrink_to_loc: shrink.ok()?.map_or(Loc::UNKNOWN, |n| n.loc),
        throttle_to_loc: throttle.ok()?.map_or(Loc::UNKNOWN, |n| n.loc),
        message: match message {
            Some(Some(t)) => Some(t),
            Some(None) => return None,
            None => None,
        },
        top_up: top,
        loc: n.loc,
        path: path.to_string(),
    })
}

/// `limit.top_up`: price, what one top-up buys (exactly one of `tokens` and
/// `interactions`), uptake (an uncertain share) and the most a user buys a
/// month. `on_limit_top_up` is set by the caller.
fn top_up(p: &mut Problems, n: &Node, path: &str) -> Option<TopUp> {
    let mut m = MapReader::new(p, n, path)?;
    let price = m
        .require(p, "price_usd", "what one top-up costs the user, e.g. 5")
        .and_then(|v| num(p, v, &child(path, "price_usd"), read::positive));
    let tokens = opt_num(p, &mut m, "tokens", read::positive);
    let interactions = opt_num(p, &mut m, "interactions", read::positive);
    let uptake = m
        .require(
            p,
            "uptake",
            "the share of users who buy when they reach the cap, e.g. {low: 0.02, mode: 0.05, high: 0.1}",
        )
        .and_then(|v| quantity(p, v, &child(path, "uptake"), SHARE));
    let max = m
        .require(p, "max_per_month", "the most top-ups one user buys a month, e.g. 4")
        .and_then(|v| {
            let mp = child(path, "max_per_month");
            let k = read::whole(p, v, &mp, 1)? as f64;
            if k > MAX_TOPUPS_PER_MONTH {
                p.push_hint(
                    v.loc,
                    &mp,
                    format!("`{k}` top-ups a month is more than costgate simulates"),
                    format!("use at most {MAX_TOPUPS_PER_MONTH} (a top-up that large is a plan, not a top-up)"),
                );
                return None;
            }
            Some(Num {
                value: k,
                loc: v.loc,
                path: mp,
            })
        });
    m.finish(p);
    let (tokens, interactions) = (tokens.ok()?, interactions.ok()?);
    let (unit, amount) = match (tokens, interactions) {
        (Some(t), None) => (TopUpUnit::Tokens, t),
        (None, Some(i)) => (TopUpUnit::Interactions, i),
        (a, b) => {
            p.push_hint(
                n.loc,
                path,
                if a.is_some() && b.is_some() {
                    "the top-up buys both `tokens` and `interactions`"
                } else {
                    "the top-up buys nothing"
                },
                "give exactly one of `tokens` (tokens one top-up buys) and `interactions` (interactions it buys)",
            );
            return None;
        }
    };
    Some(TopUp {
        price_usd: price?,
        unit,
        amount,
        uptake: uptake?,
        max_per_month: max?,
        on_limit_top_up: false,
        loc: n.loc,
        path: path.to_string(),
    })
}

fn overage(p: &mut Problems, n: &Node, path: &str) -> Option<Overage> {
    let mut m = MapReader::new(p, n, path)?;
    let after = m
        .require(
            p,
            "after_daily_tokens",
            "tokens per user-day included before overage is billed",
        )
        .and_then(|v| num(p, v, &child(path, "after_daily_tokens"), read::non_negative));
    let rate = m
        .require(
            p,
            "usd_per_1k_tokens",
            "what the customer pays per 1,000 tokens past the allowance",
        )
        .and_then(|v| num(p, v, &child(path, "usd_per_1k_tokens"), read::non_negative));
    m.finish(p);
    Some(Overage {
        after_daily_tokens: after?,
        usd_per_1k_tokens: rate?,
    })
}

fn tenant_budget(p: &mut Problems, n: &Node, path: &str) -> Option<TenantBudget> {
    let mut m = MapReader::new(p, n, path)?;
    // A number, or an uncertain quantity drawn per tenant (its central
    // value stands for it where one number is read).
    let mp = child(path, "monthly_usd");
    let monthly = m
        .require(p, "monthly_usd", "the negotiated monthly AI budget per tenant, in USD")
        .and_then(|v| match &v.value {
            Value::Map(_) => quantity(p, v, &mp, USD).map(|q| {
                let n = Num {
                    value: q.central(),
                    loc: v.loc,
                    path: mp.clone(),
                };
                (n, Some(q))
            }),
            _ => num(p, v, &mp, read::positive).map(|n| (n, None)),
        });
    let alerts = match m.get("alerts") {
        None => Some(vec![0.8, 1.0, 1.2]),
        Some(v) => alert_shares(p, v, &child(path, "alerts")),
    };
    let on = match m.get("on_limit") {
        Some(v) => read::word(
            p,
            v,
            &child(path, "on_limit"),
            &[("notify", OnBudget::Notify), ("block", OnBudget::Block)],
        ),
        None => Some(OnBudget::Notify),
    };
    let message = m.get("message").map(|v| text(p, v, &child(path, "message")));
    m.finish(p);
    let (monthly_usd, monthly_drawn) = monthly?;
    if monthly_usd.value <= 0.0 {
        p.push_hint(
            monthly_usd.loc,
            &mp,
            "the budget's central value is not positive",
            "a tenant budget is a positive amount of USD a month",
        );
        return None;
    }
    Some(TenantBudget {
        monthly_usd,
        monthly_drawn,
        alerts: alerts?,
        on_limit: on?,
        message: match message {
            Some(Some(t)) => Some(t),
            Some(None) => return None,
            None => None,
        },
        loc: n.loc,
    })
}

// ----------------------------------------------------------- breakers ----

fn breakers(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<Breakers> {
    let mut m = MapReader::new(p, n, path)?;
    let user = m
        .get("user_daily_usd")
        .map(|v| breaker(p, v, &child(path, "user_daily_usd"), models));
    let tenant = m
        .get("tenant_daily_usd")
        .map(|v| breaker(p, v, &child(path, "tenant_daily_usd"), models));
    let feature = m
        .get("feature_daily_usd")
        .map(|v| breaker(p, v, &child(path, "feature_daily_usd"), models));
    let global = m
        .get("global_daily_usd")
        .map(|v| breaker(p, v, &child(path, "global_daily_usd"), models));
    m.finish(p);
    let lift = |b: Option<Option<Breaker>>| -> Result<Option<Breaker>, ()> {
        match b {
            None => Ok(None),
            Some(Some(b)) => Ok(Some(b)),
            Some(None) => Err(()),
        }
    };
    let (user, tenant, feature, global) = (lift(user), lift(tenant), lift(feature), lift(global));
    Some(Breakers {
        user_daily_usd: user.ok()?,
        tenant_daily_usd: tenant.ok()?,
        feature_daily_usd: feature.ok()?,
        global_daily_usd: global.ok()?,
    })
}

fn breaker(p: &mut Problems, n: &Node, path: &str, models: &[ModelDef]) -> Option<Breaker> {
    let mut m = MapReader::new(p, n, path)?;
    let limit = m
        .require(p, "limit", "the daily spend in USD at which the breaker trips")
        .and_then(|v| num(p, v, &child(path, "limit"), read::positive));
    let on_node = m.get("on_trip");
    let on = match on_node {
        Some(v) => read::word(
            p,
            v,
            &child(path, "on_trip"),
            &[
                ("block", OnTrip::Block),
                ("throttle", OnTrip::Throttle),
                ("fallback", OnTrip::Fallback),
                ("shrink", OnTrip::Shrink),
                ("notify", OnTrip::Notify),
            ],
        ),
        None => Some(OnTrip::Block),
    };
    let factor = opt_num(p, &mut m, "factor", read::share);
    let fb = match m.get("fallback_model") {
        None => Some(None),
        Some(v) => model_key(p, v, &child(path, "fallback_model"), models).map(Some),
    };
    let notify = match m.get("notify") {
        None => Some(Vec::new()),
        Some(v) => notify_list(p, v, &child(path, "notify")),
    };
    let message = m.get("message").map(|v| text(p, v, &child(path, "message")));
    m.finish(p);
    let on = on?;
    let factor = factor.ok()?;
    let (fb, notify) = (fb?, notify?);
    let on_loc = on_node.map_or(n.loc, |v| v.loc);
    if on == OnTrip::Throttle && factor.is_none() {
        p.push_hint(
            n.loc,
            &child(path, "factor"),
            "`on_trip: throttle` needs `factor`",
            "the share of demand still served in slow mode, e.g. 0.5",
        );
        return None;
    }
    if on == OnTrip::Fallback && fb.is_none() {
        p.push_hint(
            on_loc,
            &child(path, "fallback_model"),
            "`on_trip: fallback` needs `fallback_model`",
            "name the cheaper model (a key under `models:`) that serves once the breaker trips",
        );
        return None;
    }
    if on != OnTrip::Fallback && fb.is_some() {
        p.push_hint(
            on_loc,
            &child(path, "fallback_model"),
            format!(
                "`fallback_model` is only read with `on_trip: fallback`, not `{}`",
                on.as_str()
            ),
            "set `on_trip: fallback`, or remove `fallback_model`",
        );
        return None;
    }
    if on == OnTrip::Notify && notify.is_empty() {
        p.push_hint(
            on_loc,
            &child(path, "notify"),
            "`on_trip: notify` cuts nothing, so it needs `notify`",
            "name who is told: `notify: [on-call]`, `[account-manager]` or `[user]`",
        );
        return None;
    }
    Some(Breaker {
        limit: limit?,
        on_trip: on,
        factor: match on {
            OnTrip::Shrink => factor.map_or(DEFAULT_BREAKER_SHRINK, |f| f.value),
            _ => factor.map_or(0.0, |f| f.value),
        },
        fallback_model: fb,
        notify,
        message: match message {
            Some(Some(t)) => Some(t),
            Some(None) => return None,
            None => None,
        },
        loc: n.loc,
        path: path.to_string(),
    })
}

/// `notify:` one name or a list of them, each once.
fn notify_list(p: &mut Problems, n: &Node, path: &str) -> Option<Vec<NotifyWho>> {
    const WHO: [(&str, NotifyWho); 3] = [
        ("user", NotifyWho::User),
        ("account-manager", NotifyWho::AccountManager),
        ("on-call", NotifyWho::OnCall),
    ];
    if let Value::Str(_) = n.value {
        return read::word(p, n, path, &WHO).map(|w| vec![w]);
    }
    let items = read::seq(p, n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        match read::word(p, it, &index(path, i), &WHO) {
            Some(w) if out.contains(&w) => {
                p.push_hint(
                    it.loc,
                    &index(path, i),
                    format!("`{}` is named twice", w.as_str()),
                    "name each one once",
                );
                ok = false;
            }
            Some(w) => out.push(w),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

// ---------------------------------------------------------- scenarios ----

fn scenarios(p: &mut Problems, n: &Node, path: &str, tiers: &[Tier], month: Option<u32>) -> Option<Vec<Scenario>> {
    let items = read::seq(p, n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        match scenario(p, it, &index(path, i), tiers, month) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn scenario(p: &mut Problems, n: &Node, path: &str, tiers: &[Tier], month: Option<u32>) -> Option<Scenario> {
    let mut m = MapReader::new(p, n, path)?;
    let name = m
        .require(p, "name", "a name such as `viral`")
        .and_then(|v| read::name(p, v, &child(path, "name")));
    let chance = m
        .require(p, "chance", "the chance it happens in a month, e.g. 0.1")
        .and_then(|v| read::share(p, v, &child(path, "chance")));
    let kinds = [
        ("usage_multiplier", m.has("usage_multiplier")),
        ("power_share", m.has("power_share")),
        ("calls_per_hour", m.has("calls_per_hour")),
        ("price_multiplier", m.has("price_multiplier")),
    ];
    let present: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
    let effect = match present.as_slice() {
        ["usage_multiplier"] => {
            let mult = m
                .get("usage_multiplier")
                .and_then(|v| read::positive(p, v, &child(path, "usage_multiplier")));
            let days = match m.get("days") {
                Some(v) => read::whole(p, v, &child(path, "days"), 1).and_then(|d| match month {
                    Some(month) if d > month as i64 => {
                        p.push_hint(
                            v.loc,
                            &child(path, "days"),
                            format!("the spike lasts {d} days, longer than the simulated month ({month} days)"),
                            "a spike lasts at most `usage.days`",
                        );
                        None
                    }
                    _ => Some(d),
                }),
                None => Some(1),
            };
            Some(ScenarioEffect::Viral {
                usage_multiplier: mult?,
                days: days? as u32,
            })
        }
        ["power_share"] => m
            .get("power_share")
            .and_then(|v| read::share(p, v, &child(path, "power_share")))
            .map(|s| ScenarioEffect::PowerUserDiscovery { power_share: s }),
        ["calls_per_hour"] => {
            let cph = m
                .get("calls_per_hour")
                .and_then(|v| read::positive(p, v, &child(path, "calls_per_hour")));
            let hours = m
                .require(
                    p,
                    "hours_until_detected",
                    "how long the loop runs before someone stops it",
                )
                .and_then(|v| read::positive(p, v, &child(path, "hours_until_detected")));
            let tier = match m.get("tier") {
                None => Some(None),
                Some(v) => read::name(p, v, &child(path, "tier")).and_then(|t| {
                    if tiers.is_empty() || tiers.iter().any(|x| x.name == t) {
                        Some(Some(t))
                    } else {
                        let names: Vec<&str> = tiers.iter().map(|x| x.name.as_str()).collect();
                        p.push_hint(
                            v.loc,
                            &child(path, "tier"),
                            format!("no tier is named `{t}`"),
                            format!("tiers: {}", names.join(", ")),
                        );
                        None
                    }
                }),
            };
            Some(ScenarioEffect::RunawayLoop {
                calls_per_hour: cph?,
                hours_until_detected: hours?,
                tier: tier?,
            })
        }
        ["price_multiplier"] => m
            .get("price_multiplier")
            .and_then(|v| read::positive(p, v, &child(path, "price_multiplier")))
            .map(|x| ScenarioEffect::PriceIncrease { price_multiplier: x }),
        [] => {
            p.push_hint(
                n.loc,
                path,
                "the scenario has no effect",
                "give one of usage_multiplier (+days), power_share, calls_per_hour (+hours_until_detected), price_multiplier",
            );
            None
        }
        _ => {
            p.push_hint(
                n.loc,
                path,
                format!("the scenario mixes effects: {}", present.join(", ")),
                "write one scenario per effect",
            );
            // The effects' own fields are known here: not also "unknown".
            for k in [
                "usage_multiplier",
                "days",
                "power_share",
                "calls_per_hour",
                "hours_until_detected",
                "tier",
                "price_multiplier",
            ] {
                m.get(k);
            }
            None
        }
    };
    m.finish(p);
    Some(Scenario {
        name: name?,
        chance: chance?,
        effect: effect?,
        loc: n.loc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<Problem> {
        crate::spec::load_str("t.yaml", yaml).unwrap_err()
    }

    const MIN: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models: {primary: gpt-4o}
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {active_share: 1, interactions_per_active_day: 10}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

    #[test]
    fn minimal_spec_loads() {
        let s = crate::spec::load_str("t.yaml", MIN).unwrap();
        assert_eq!(s.usage.days, 30);
        assert_eq!(s.interaction.calls.origin, Origin::Default);
        assert_eq!(s.tiers[0].model, "primary");
    }

    #[test]
    fn every_problem_is_collected_in_one_pass() {
        let y = MIN
            .replace("input_tokens: 1000", "input_tokens: {p50: 1000, p95: 900}")
            .replace("active_share: 1", "active_share: 1.5")
            .replace("model: primary", "model: primry");
        let ps = problems(&y);
        let paths: Vec<&str> = ps.iter().map(|p| p.span.path.as_str()).collect();
        assert!(paths.contains(&"interaction.input_tokens.p95"), "{paths:?}");
        assert!(paths.contains(&"usage.active_share"), "{paths:?}");
        assert!(paths.contains(&"tiers[0].model"), "{paths:?}");
        let model = ps.iter().find(|p| p.span.path == "tiers[0].model").unwrap();
        assert_eq!(model.hint.as_deref().map(|h| h.contains("`primary`")), Some(true));
        assert_eq!((model.span.line, model.span.column), (7, 62));
    }

    #[test]
    fn unknown_fields_are_errors_with_a_suggestion() {
        let ps = problems(&MIN.replace("price_usd_per_month", "price_usd_per_mnth"));
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(ps[0].span.path, "tiers[0].price_usd_per_mnth");
        assert!(ps[0].hint.as_deref().unwrap().contains("price_usd_per_month"));
    }

    #[test]
    fn tenant_counts_are_bounded() {
        let y = MIN.replace(
            "{name: pro, users: 1000,",
            "{name: pro, tenants: 5000000, users_per_tenant: 3,",
        );
        let ps = problems(&y);
        assert_eq!(ps[0].span.path, "tiers[0].tenants");
        assert!(ps[0].message.contains("at most 100000 tenants"), "{}", ps[0].message);
    }

    #[test]
    fn wrong_version_is_a_clear_error() {
        let ps = problems(&MIN.replace("costgate: 1", "costgate: 2"));
        assert!(ps[0].message.contains("unsupported spec format version 2"));
    }
}
