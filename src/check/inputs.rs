//! What a check reads besides its specs, chosen as `costgate check` chooses
//! it: the policy (`--policy`, else `costgate.toml` found above the first
//! spec path, else the defaults) and the price catalog (`--pricing`, else the
//! pinned snapshot, else the policy's `[pricing] source`, else built-in).
//!
//! A program using the library gets the prices and policy the CLI would use
//! by calling [`Inputs::resolve`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::http::HttpOptions;
use crate::policy::{self, Policy};
use crate::pricing::source::{self as psource, LoadError, Source};
use crate::pricing::{Catalog, pin};
use crate::source::{Loc, Problem, Span};

/// Where the prices of a run came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PricingOrigin {
    /// `--pricing SOURCE`.
    Flag(Source),
    /// The pinned snapshot found above the specs.
    Pinned(PathBuf),
    /// `[pricing] source` of the policy (nothing pinned).
    Policy(Source),
    /// Nothing named or pinned.
    Builtin,
}

/// What priced a run, for output.
#[derive(Clone, Debug)]
pub struct PricingInfo {
    /// Where the catalog came from.
    pub origin: PricingOrigin,
    /// `pinned snapshot costgate-prices.lock.toml (LiteLLM from https://...)`.
    pub description: String,
}

impl PricingInfo {
    /// The URL the prices were downloaded from on this run, if they were.
    pub fn live_url(&self) -> Option<&str> {
        match &self.origin {
            PricingOrigin::Flag(Source::Url(u)) | PricingOrigin::Policy(Source::Url(u)) => Some(u),
            _ => None,
        }
    }
}

/// What the user named explicitly (`--policy`, `--pricing`); `None` lets
/// [`Inputs::resolve`] find it as the CLI does.
#[derive(Clone, Copy, Debug, Default)]
pub struct Choice<'a> {
    /// `--policy`: the policy file.
    pub policy: Option<&'a Path>,
    /// `--pricing`: a price source.
    pub pricing: Option<&'a str>,
}

/// The policy and the catalog a check of some spec paths uses.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The policy.
    pub policy: Policy,
    /// The price catalog.
    pub catalog: Arc<Catalog>,
    /// Where the prices came from, for output.
    pub pricing: PricingInfo,
}

impl Inputs {
    /// The policy and prices for checking `paths` on `today`, with the
    /// precedence of `costgate check` (see the module documentation).
    pub fn resolve(paths: &[PathBuf], choice: Choice, today: jiff::civil::Date) -> Result<Inputs, LoadError> {
        let policy = load_policy(choice.policy, paths).map_err(LoadError::Invalid)?;
        let root = paths.first().map_or(Path::new("."), PathBuf::as_path);
        let (catalog, pricing) = load_catalog(choice.pricing, &policy, root, today)?;
        Ok(Inputs {
            policy,
            catalog,
            pricing,
        })
    }
}

/// The policy to use: `explicit`, else `costgate.toml` above the first path,
/// else the defaults.
pub fn load_policy(explicit: Option<&Path>, paths: &[PathBuf]) -> Result<Policy, Vec<Problem>> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => paths.first().and_then(|p| policy::discover(p)),
    };
    match path {
        Some(p) => policy::load_file(&p),
        None => Ok(Policy::default()),
    }
}

/// The catalog for a run whose specs are at `root` (a spec file or folder):
/// `source` if given; else the pinned snapshot found walking up from `root`
/// to the repository root; else the policy's `[pricing] source`; else the
/// built-in catalog. Prices are those in force on `day`; later announced
/// changes stay on the catalog.
pub fn load_catalog(
    source: Option<&str>,
    policy: &Policy,
    root: &Path,
    day: jiff::civil::Date,
) -> Result<(Arc<Catalog>, PricingInfo), LoadError> {
    let done = |c: Catalog, origin: PricingOrigin| {
        let description = c.info().name;
        Ok((Arc::new(c), PricingInfo { origin, description }))
    };
    if let Some(s) = source {
        let src = Source::parse(s, None).map_err(LoadError::Usage)?;
        let c = load_source(&src, day, Unreachable::SuggestPin)?;
        return done(c, PricingOrigin::Flag(src));
    }
    if let Some(path) = pin::discover(root) {
        let c = pin::load(&path, &display_path(&path)).map_err(LoadError::Invalid)?;
        return done(c.in_force_on(day), PricingOrigin::Pinned(path));
    }
    if let Some(s) = &policy.pricing_source {
        let src = policy_source(policy, s).map_err(LoadError::Invalid)?;
        let c = load_source(&src, day, Unreachable::SuggestPin)?;
        return done(c, PricingOrigin::Policy(src));
    }
    done(crate::pricing::builtin().in_force_on(day), PricingOrigin::Builtin)
}

/// The policy's `[pricing] source`, a relative path taken from the policy's folder.
pub fn policy_source(policy: &Policy, s: &str) -> Result<Source, Vec<Problem>> {
    let base = policy.path.as_deref().map(Path::new).and_then(Path::parent);
    Source::parse(s, base).map_err(|m| {
        vec![Problem {
            code: crate::source::ProblemCode::InvalidValue,
            span: Span::new(&policy.file, Loc::UNKNOWN, "pricing.source"),
            message: m,
            hint: None,
        }]
    })
}

/// What an unreachable source's error says besides the failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// Suggest pinning the source once it is up (a check that downloads).
    SuggestPin,
    /// Only the failure (`pricing update`, which is the pinning).
    Plain,
}

/// Load `src` with the HTTP settings of the environment
/// ([`HttpOptions::from_env`]).
pub fn load_source(src: &Source, day: jiff::civil::Date, unreachable: Unreachable) -> Result<Catalog, LoadError> {
    let http = HttpOptions::from_env().map_err(LoadError::Usage)?;
    psource::load(src, day, &http).map_err(|e| match e {
        LoadError::Unavailable(m) if unreachable == Unreachable::SuggestPin => LoadError::Unavailable(format!(
            "{m}\n  hint: once it is up, `costgate pricing update --from {}` pins a snapshot so that checks do not depend on it",
            src.label()
        )),
        e => e,
    })
}

/// A path as the user would write it: relative to the current folder when below it.
pub fn display_path(p: &Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok());
    match cwd.as_deref().and_then(|c| p.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => p.display().to_string(),
    }
}
