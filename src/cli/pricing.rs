//! `costgate pricing list|show|update`. Which catalog prices a run is the
//! library's choice (`costgate::check::load_catalog`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use costgate::check::{PricingInfo, Unreachable, display_path, load_catalog, load_source, policy_source};
use costgate::fmt::{self, usd_per_mtok};
use costgate::pricing::source::Source;
use costgate::pricing::{Catalog, ModelPrice, pin, same_provider};
use costgate::source::{Loc, Problem, Span, closest, did_you_mean};
use costgate::untrusted::{clean, cleaned, redact_url};

use super::{
    Failure, ListFormat, PricingArgs, PricingCommand, PricingListArgs, PricingShowArgs, PricingUpdateArgs, today,
};

fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir().map_err(|e| Failure::Usage(format!("cannot read the current folder: {e}")))
}

pub fn run(a: &PricingArgs) -> Result<i32, Failure> {
    match &a.command {
        PricingCommand::List(a) => list(a),
        PricingCommand::Show(a) => show(a),
        PricingCommand::Update(a) => update(a),
    }
}

pub(super) fn catalog_for(
    pricing: Option<&str>,
    policy: Option<&Path>,
) -> Result<(Arc<Catalog>, PricingInfo), Failure> {
    let here = cwd()?;
    let policy = super::check::load_policy(policy, std::slice::from_ref(&here))?;
    Ok(load_catalog(pricing, &policy, &here, today()?)?)
}

fn list(a: &PricingListArgs) -> Result<i32, Failure> {
    let (cat, info) = catalog_for(a.source.pricing.as_deref(), a.source.policy.as_deref())?;
    let models: Vec<&ModelPrice> = cat
        .models()
        .iter()
        .filter(|m| a.provider.as_deref().is_none_or(|p| same_provider(p, &m.provider)))
        .collect();
    if models.is_empty()
        && let Some(p) = &a.provider
    {
        let mut providers: Vec<&str> = cat.models().iter().map(|m| m.provider.as_str()).collect();
        providers.sort();
        providers.dedup();
        let near = closest(p, providers.iter().copied(), 3);
        return Err(Failure::Usage(format!(
            "no model of provider `{p}` in {}; {}",
            info.description,
            did_you_mean(&near).unwrap_or_else(|| format!("its providers are: {}", providers.join(", ")))
        )));
    }
    match a.format {
        ListFormat::Json => {
            let v = serde_json::json!({
                "catalog": cat.info(),
                "models": models,
                "changes": cat.changes().iter().filter(|c| models.iter().any(|m| m.id == c.id && m.provider == c.provider)).collect::<Vec<_>>(),
                "notes": cat.notes(),
            });
            super::output::print(&format!(
                "{}\n",
                costgate::untrusted::json_inert(serde_json::to_string_pretty(&v).expect("serialises"))
            ))?;
        }
        ListFormat::Table => super::output::print(&list_table(&cat, &models))?,
    }
    Ok(0)
}

fn list_table(cat: &Catalog, models: &[&ModelPrice]) -> String {
    let head = [
        "model",
        "provider",
        "input",
        "output",
        "cached in",
        "cache write",
        "long context (input / output)",
        "context",
    ];
    let rows: Vec<[String; 8]> = models
        .iter()
        .map(|m| {
            let opt = |v: Option<f64>| v.map_or("-".into(), usd_per_mtok);
            [
                m.id.clone(),
                m.provider.clone(),
                usd_per_mtok(m.input_usd_per_mtok),
                usd_per_mtok(m.output_usd_per_mtok),
                opt(m.cached_input_usd_per_mtok),
                opt(m.cache_write_usd_per_mtok),
                m.above.as_ref().map_or("-".into(), |lc| {
                    format!(
                        "> {}: {} / {}",
                        fmt::count(lc.threshold_tokens),
                        usd_per_mtok(lc.input_usd_per_mtok),
                        usd_per_mtok(lc.output_usd_per_mtok)
                    )
                }),
                m.context_window.map_or("-".into(), fmt::count),
            ]
        })
        .collect();
    // names from the catalog (which may come from a URL) are made inert
    let rows: Vec<[String; 8]> = rows.into_iter().map(|r| r.map(cleaned)).collect();
    let mut width = head.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut o = String::new();
    let line = |o: &mut String, cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            // names left, prices right
            if i < 2 {
                let _ = write!(s, "{c:<w$}  ");
            } else {
                let _ = write!(s, "{c:>w$}  ");
            }
        }
        o.push_str(s.trim_end());
        o.push('\n');
    };
    line(&mut o, &head.map(String::from));
    for r in &rows {
        line(&mut o, r);
    }
    let info = cat.info();
    let _ = writeln!(
        o,
        "\n{} · USD per million tokens · {} (checked {})",
        plural(models.len(), "model"),
        clean(&info.name),
        clean(&info.checked)
    );
    if let Some(day) = cat.as_of() {
        for m in models {
            for c in cat.announced_changes(m, day, jiff::civil::date(9999, 12, 31)) {
                let _ = writeln!(o, "Announced: {}", clean(&c.describe()));
            }
        }
    }
    o
}

fn plural(n: usize, w: &str) -> String {
    if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") }
}

fn show(a: &PricingShowArgs) -> Result<i32, Failure> {
    let (cat, info) = catalog_for(a.source.pricing.as_deref(), a.source.policy.as_deref())?;
    let Some(m) = cat.find(&a.model) else {
        // the same hint as `check`: priced names first, and the relative not used in its place
        let (_, hint) = costgate::pricing::unknown_model(&a.model, &cat);
        return Err(Failure::Usage(format!(
            "unknown model `{}`: it is not in {}; {hint}",
            a.model, info.description,
        )));
    };
    let changes: Vec<_> = cat
        .changes()
        .iter()
        .filter(|c| c.id == m.id && c.provider == m.provider)
        .collect();
    let announced = cat
        .as_of()
        .map(|d| cat.announced_changes(m, d, jiff::civil::date(9999, 12, 31)))
        .unwrap_or_default();
    match a.format {
        ListFormat::Json => {
            let v = serde_json::json!({
                "requested": a.model,
                "model": m,
                "catalog": cat.info(),
                "changes": changes,
                "announced_changes": announced,
            });
            super::output::print(&format!(
                "{}\n",
                costgate::untrusted::json_inert(serde_json::to_string_pretty(&v).expect("serialises"))
            ))?;
        }
        ListFormat::Table => {
            let mut o = String::new();
            let provider = if m.provider.is_empty() {
                String::new()
            } else {
                format!(" ({})", clean(&m.provider))
            };
            let _ = writeln!(o, "{}{provider}", clean(&m.id));
            if !m.id.eq_ignore_ascii_case(a.model.trim()) {
                let _ = writeln!(o, "  `{}` resolves to this model", clean(a.model.trim()));
            }
            if !m.aliases.is_empty() {
                let _ = writeln!(o, "  also known as: {}", clean(&m.aliases.join(", ")));
            }
            let _ = writeln!(o, "  USD per million tokens:");
            let row = |o: &mut String, what: &str, v: Option<f64>| {
                if let Some(v) = v {
                    let _ = writeln!(o, "    {what:<14} {}", usd_per_mtok(v));
                }
            };
            row(&mut o, "input", Some(m.input_usd_per_mtok));
            row(&mut o, "output", Some(m.output_usd_per_mtok));
            row(&mut o, "cached input", m.cached_input_usd_per_mtok);
            row(&mut o, "cache write", m.cache_write_usd_per_mtok);
            if m.cached_input_usd_per_mtok.is_none() {
                let _ = writeln!(o, "    (no cache price: cached input is billed at the input price)");
            }
            if let Some(lc) = &m.above {
                let _ = writeln!(
                    o,
                    "  above {} input tokens, every token of the request:",
                    fmt::count(lc.threshold_tokens)
                );
                row(&mut o, "input", Some(lc.input_usd_per_mtok));
                row(&mut o, "output", Some(lc.output_usd_per_mtok));
                row(&mut o, "cached input", lc.cached_input_usd_per_mtok);
                row(&mut o, "cache write", lc.cache_write_usd_per_mtok);
            }
            let mut limits = Vec::new();
            if let Some(c) = m.context_window {
                limits.push(format!("context window {} tokens", fmt::count(c)));
            }
            if let Some(c) = m.max_output_tokens {
                limits.push(format!("max output {} tokens", fmt::count(c)));
            }
            if !limits.is_empty() {
                let _ = writeln!(o, "  {}", limits.join(", "));
            }
            for c in &announced {
                let prices: Vec<String> = c.prices.iter().map(|p| p.describe()).collect();
                let _ = writeln!(
                    o,
                    "  announced from {}: {}",
                    clean(&c.starts),
                    clean(&prices.join(", "))
                );
            }
            if !m.source.is_empty() {
                let _ = writeln!(o, "  source: {}", clean(&redact_url(&m.source)));
            }
            let _ = writeln!(
                o,
                "  catalog: {} (checked {})",
                clean(&info.description),
                clean(cat.checked())
            );
            super::output::print(&o)?;
        }
    }
    Ok(0)
}

fn update(a: &PricingUpdateArgs) -> Result<i32, Failure> {
    let here = cwd()?;
    let policy = super::check::load_policy(a.policy.as_deref(), std::slice::from_ref(&here))?;
    let src = match (&a.from, &policy.pricing_source) {
        (Some(s), _) => Source::parse(s, None).map_err(Failure::Usage)?,
        (None, Some(s)) => policy_source(&policy, s).map_err(Failure::Input)?,
        (None, None) => {
            return Err(Failure::Usage(
                "name the catalog to pin: `costgate pricing update --from SOURCE` (a file, an https:// URL or `builtin`), or set `[pricing] source` in costgate.toml".into(),
            ));
        }
    };
    let day = today()?;
    // everything is read and checked before the old snapshot is touched
    let mut new = load_source(&src, day, Unreachable::Plain)?;
    if !a.provider.is_empty() {
        new.retain_providers(&a.provider);
        if new.models().is_empty() {
            return Err(Failure::Usage(format!(
                "no model of provider {} in {}",
                a.provider.join(", "),
                src.label()
            )));
        }
    }
    let target = pin::target(&here);
    let shown = display_path(&target);
    let old = if target.is_file() {
        match pin::load(&target, &shown) {
            Ok(c) => Some(c),
            Err(p) => {
                eprintln!(
                    "warning: the previous snapshot cannot be read, so no changes are listed: {}",
                    p[0]
                );
                None
            }
        }
    } else {
        None
    };
    let rendered = pin::render(&new);
    // A pin `check` could not read would fail every later run: keep the old one.
    pin::readable(&rendered).map_err(|m| {
        Failure::Input(vec![Problem {
            code: costgate::source::ProblemCode::OutOfRange,
            span: Span::new(&Arc::from(src.label().as_str()), Loc::UNKNOWN, ""),
            message: format!("{m}; the previous snapshot is kept"),
            hint: Some("pin fewer models with `--provider NAME`".into()),
        }])
    })?;
    costgate::fsutil::write_atomic(&target, rendered.as_bytes())
        .map_err(|e| Failure::CantCreate(format!("cannot write {shown}: {e}")))?;

    let mut o = String::new();
    let _ = writeln!(
        o,
        "Pinned {} from {} to {shown} (checked {}).",
        plural(new.models().len(), "model"),
        clean(&if new.source().is_empty() {
            new.name().to_string()
        } else {
            format!("{} {}", new.name(), new.source())
        }),
        clean(new.checked())
    );
    match &old {
        None => {
            let _ = writeln!(o, "No earlier snapshot: every price is new.");
        }
        Some(old) => {
            let d = pin::diff(&old.in_force_on(day), &new);
            if d.is_empty() {
                let _ = writeln!(
                    o,
                    "No price changed since the last pin (checked {}).",
                    clean(old.checked())
                );
            } else {
                let _ = writeln!(o, "Changes since the last pin (checked {}):", clean(old.checked()));
                for (model, deltas) in &d.changed {
                    let prices: Vec<String> = deltas.iter().map(|p| p.describe()).collect();
                    let _ = writeln!(o, "  {}: {}", clean(model), clean(&prices.join(", ")));
                }
                if !d.added.is_empty() {
                    let _ = writeln!(
                        o,
                        "  added {}: {}",
                        plural(d.added.len(), "model"),
                        clean(&d.added.join(", "))
                    );
                }
                if !d.removed.is_empty() {
                    let _ = writeln!(
                        o,
                        "  removed {}: {}",
                        plural(d.removed.len(), "model"),
                        clean(&d.removed.join(", "))
                    );
                }
            }
        }
    }
    for m in new.models() {
        for c in new.announced_changes(m, day, jiff::civil::date(9999, 12, 31)) {
            let _ = writeln!(o, "Announced: {}", clean(&c.describe()));
        }
    }
    for n in new.notes() {
        let _ = writeln!(o, "Note: {}", clean(n));
    }
    super::output::print(&o)?;
    Ok(0)
}
