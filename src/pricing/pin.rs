//! The pinned price snapshot: `costgate-prices.lock.toml`, written by
//! `costgate pricing update` at the root of the git repository (or in the
//! current folder outside one), in costgate's own TOML catalog format so a
//! price update is a reviewable diff. `check` prices from it when it is
//! found walking up from the specs, so every CI run of a commit prices the
//! same way whatever the sources say that day.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Catalog, ModelPrice, PriceDelta};
use crate::source::{Loc, Problem, Span};

/// The pinned snapshot's file name, looked for above the specs.
pub const FILE: &str = "costgate-prices.lock.toml";

use crate::fsutil::repo_root;

/// Where `pricing update` writes the snapshot, from the current folder.
pub fn target(cwd: &Path) -> PathBuf {
    repo_root(cwd).unwrap_or_else(|| cwd.to_path_buf()).join(FILE)
}

/// The snapshot that prices runs for `start` (a spec file or folder): the
/// first found walking up, stopping at the repository root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    crate::fsutil::find_up(start, FILE)
}

/// Read a snapshot; `display` names it in messages and in the report.
pub fn load(path: &Path, display: &str) -> Result<Catalog, Vec<Problem>> {
    let fail = |loc: Loc, m: String| {
        vec![Problem {
            code: crate::source::ProblemCode::InvalidValue,
            span: Span::new(&Arc::from(display), loc, ""),
            message: m,
            hint: Some(format!(
                "run `costgate pricing update` to write it again, or delete {FILE} to price from the built-in catalog"
            )),
        }]
    };
    let text = crate::input::read_text(path).map_err(|e| fail(e.loc, e.message))?;
    Catalog::parse_costgate(display, &text)
        .map(|c| c.pinned_at(display))
        .map_err(|e| {
            fail(
                Loc::new(e.line, e.column),
                format!("invalid pinned price snapshot: {}", e.message),
            )
        })
}

/// Whether `check` can read back a snapshot rendered as `text`: within the
/// size `check` reads (the limit of every input file) and valid. `pricing
/// update` writes nothing it could not read.
pub fn readable(text: &str) -> Result<(), String> {
    let max = crate::input::node::MAX_INPUT_BYTES;
    if text.len() > max {
        return Err(format!(
            "the snapshot would be {} bytes, more than the {max} bytes `costgate check` reads",
            text.len()
        ));
    }
    Catalog::parse_costgate(FILE, text)
        .map(|_| ())
        .map_err(|e| format!("the snapshot would not read back: {}", e.message))
}

/// The comment lines at the top of a snapshot.
pub fn header(c: &Catalog) -> Vec<String> {
    let mut h = vec![
        "Pinned price snapshot: written by `costgate pricing update`; `costgate check` prices from it.".to_string(),
        format!(
            "{} models from {} as read on {}. Prices are USD per million tokens.",
            c.models().len(),
            if c.source().is_empty() { c.name() } else { c.source() },
            c.checked()
        ),
        "Review price changes in the diff; run `costgate pricing update` to refresh it.".to_string(),
    ];
    if !c.notes().is_empty() {
        h.push(String::new());
        h.push("How the source was read:".into());
        for n in c.notes() {
            h.push(format!("- {n}"));
        }
    }
    h
}

/// The snapshot's text.
pub fn render(c: &Catalog) -> String {
    c.to_toml(&header(c))
}

/// What changed from one snapshot to the next, model by model.
#[derive(Debug, Default, PartialEq)]
pub struct PinDiff {
    /// Models only the new snapshot has.
    pub added: Vec<String>,
    /// Models only the old snapshot has.
    pub removed: Vec<String>,
    /// `model (provider)` and each price that changed.
    pub changed: Vec<(String, Vec<PriceDelta>)>,
}

impl PinDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn label(m: &ModelPrice) -> String {
    if m.provider.is_empty() {
        m.id.clone()
    } else {
        format!("{} ({})", m.id, m.provider)
    }
}

/// Compare the prices two catalogs put in force (models keyed by provider
/// family and id, so `vertex_ai-language-models` and `google` compare).
pub fn diff(old: &Catalog, new: &Catalog) -> PinDiff {
    let key = |m: &ModelPrice| (super::provider_family(&m.provider), m.id.clone());
    let old_by: std::collections::HashMap<_, _> = old.models().iter().map(|m| (key(m), m)).collect();
    let new_keys: std::collections::HashSet<_> = new.models().iter().map(key).collect();
    let mut d = PinDiff::default();
    for m in new.models() {
        match old_by.get(&key(m)) {
            None => d.added.push(label(m)),
            Some(o) => {
                let deltas = PriceDelta::between(&o.prices(), &m.prices());
                if !deltas.is_empty() {
                    d.changed.push((label(m), deltas));
                }
            }
        }
    }
    d.removed = old
        .models()
        .iter()
        .filter(|m| !new_keys.contains(&key(m)))
        .map(label)
        .collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_walks_up_to_the_repository_root_only() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        let specs = repo.join("specs/team");
        std::fs::create_dir_all(&specs).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(discover(&specs), None);
        // a snapshot above the repository is not this repository's
        std::fs::write(d.path().join(FILE), "x").unwrap();
        assert_eq!(discover(&specs), None);
        std::fs::write(repo.join(FILE), "x").unwrap();
        let found = discover(&specs.join("missing.yaml"))
            .or_else(|| discover(&specs))
            .unwrap();
        assert_eq!(found, std::fs::canonicalize(repo.join(FILE)).unwrap());
        assert_eq!(target(&specs), std::fs::canonicalize(&repo).unwrap().join(FILE));
    }

    #[test]
    fn the_builtin_catalog_pins_and_reads_back_the_same() {
        let b = crate::pricing::builtin();
        let text = render(&b);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join(FILE);
        std::fs::write(&f, &text).unwrap();
        let again = load(&f, FILE).unwrap();
        assert_eq!(again.models(), b.models());
        assert!(diff(&b, &again).is_empty());
        assert!(
            again
                .info()
                .name
                .starts_with("pinned snapshot costgate-prices.lock.toml")
        );
    }
}
