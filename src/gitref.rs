//! Reading the repository as it was at a git ref (`git show`), for
//! `diff --base-ref` and `check --baseline-ref`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run git in `dir`; its stdout, or a message with its stderr.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The top of the git repository holding `path`.
pub fn toplevel(path: &Path) -> Result<PathBuf, String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let out = git(&dir, &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}

/// A copy of the repository's specs, policy, pinned prices and approvals as
/// they are at `rev`, in a temporary folder with the same layout. `paths`
/// (relative to the repository top) say which specs; the policy and pin
/// files at the top come along.
pub struct Snapshot {
    /// The temporary folder (removed when dropped).
    pub dir: tempfile::TempDir,
    /// `paths`, inside the snapshot.
    pub paths: Vec<PathBuf>,
}

/// Copy the specs at `paths` (and the policy, pin and approvals) as they are at
/// `rev` of the repository at `top` into a temporary folder.
pub fn snapshot(top: &Path, rev: &str, paths: &[PathBuf]) -> Result<Snapshot, String> {
    git(top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("`{rev}` is not a commit in {}", top.display()))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let mut wanted: Vec<String> = paths.iter().map(|p| p.to_string_lossy().replace('\\', "/")).collect();
    wanted.extend(["costgate.toml".to_string(), "costgate-prices.lock.toml".to_string()]);
    let mut args = vec!["ls-tree", "-r", "--name-only", rev, "--"];
    let wanted_refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    args.extend(wanted_refs);
    let listing = git(top, &args)?;
    for name in String::from_utf8_lossy(&listing).lines() {
        let content = git(top, &["show", &format!("{rev}:{name}")])?;
        let target = dir.path().join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
        std::fs::write(&target, content).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    // The snapshot stands for the repository's top: approval records bind a
    // spec's path within the repository, found by the `.git` above it, and
    // policy and pin discovery stop there, never reaching the temporary
    // folder above.
    let marker = dir.path().join(".git");
    std::fs::create_dir(&marker).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    // The allowed_signers file the policy at `rev` names comes along.
    if let Some(rel) = allowed_signers_of(&dir.path().join("costgate.toml")) {
        let content = git(top, &["show", &format!("{rev}:{rel}")]);
        if let Ok(content) = content {
            let target = dir.path().join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
            }
            std::fs::write(&target, content).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
    }
    // A path that did not exist at `rev` has no features there: an empty folder.
    let inside: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            let t = dir.path().join(p);
            if !t.exists() {
                let _ = std::fs::create_dir_all(&t);
            }
            t
        })
        .collect();
    Ok(Snapshot { dir, paths: inside })
}

/// `[approvals] allowed_signers` of a policy file, when it names a file
/// inside the repository (a plain relative path, `/`-separated).
fn allowed_signers_of(policy: &Path) -> Option<String> {
    // Read and parsed as any policy is (a bad one fails by name later, when
    // the check loads it).
    let text = crate::input::read_text(policy).ok()?;
    let rel = crate::policy::load_str(&policy.display().to_string(), &text)
        .ok()?
        .approvals
        .allowed_signers?;
    let p = Path::new(&rel);
    p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
        .then(|| rel.replace('\\', "/"))
}

/// `path` relative to `top` (both made absolute).
pub fn relative(top: &Path, path: &Path) -> Result<PathBuf, String> {
    let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let top = std::fs::canonicalize(top).map_err(|e| format!("{}: {e}", top.display()))?;
    abs.strip_prefix(&top)
        .map(Path::to_path_buf)
        .map_err(|_| format!("{} is not inside the repository {}", path.display(), top.display()))
}
