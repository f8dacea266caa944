//! The one place costgate reads input files and writes output files.
//!
//! Reading ([`read_bounded`]): only regular files are opened (a FIFO, a
//! device, a socket or a folder is refused by name, before and after
//! opening, so nothing blocks), and the size limit is enforced on the bytes
//! actually read, not on the size the filesystem reports.
//!
//! Writing ([`write_atomic`]): a regular file is replaced atomically (a
//! temporary file in the same folder, flushed, then renamed over the
//! target), so a failed write never leaves a half-written report; a symlink
//! is written through (the file it points to is replaced); a device, a FIFO
//! or `/dev/stdout` is written to in place; a read-only file is refused.
//! Every error names the target, never the temporary file.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// An OS error in plain words ("Permission denied (os error 13)"), without
/// any path a library attached to it (the temporary file's, for example).
pub fn plain(e: &io::Error) -> String {
    if let Some(code) = e.raw_os_error() {
        return io::Error::from_raw_os_error(code).to_string();
    }
    let inner = e
        .get_ref()
        .and_then(|i| i.source())
        .and_then(|s| s.downcast_ref::<io::Error>());
    match inner {
        Some(i) => plain(i),
        None => e.kind().to_string(),
    }
}

/// What a non-regular file is, for messages: "a folder", "a FIFO (named pipe)".
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Whether an open failed on a symlink loop.
pub(crate) fn is_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    false
}

/// Why a path cannot be opened, in words: a symlink loop says so.
pub(crate) fn open_error(e: &io::Error) -> String {
    if is_loop(e) {
        format!("a symlink loop ({})", plain(e))
    } else {
        plain(e)
    }
}

/// The regular file at `path`, opened for reading without blocking: a FIFO,
/// a device, a folder or a symlink loop is refused, checked before opening
/// and again on what was opened. Errors are messages without the path
/// (callers name the file).
pub fn open_regular(path: &Path) -> Result<std::fs::File, String> {
    let not_regular = |m: &std::fs::Metadata| {
        format!(
            "is {}, not a regular file; costgate reads only regular files",
            kind_of(m)
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {}", open_error(&e)))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // Should the path have become a FIFO since the check above, opening
        // it must not wait for a writer.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let f = opts
        .open(path)
        .map_err(|e| format!("cannot read the file: {}", open_error(&e)))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read the file: {}", plain(&e)))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(f)
}

/// The bytes of the regular file at `path`, at most `max` of them.
/// Errors are messages without the path (callers name the file).
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let f = open_regular(path)?;
    let mut bytes = Vec::new();
    (&f).take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {}", plain(&e)))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "the file is larger than {max} bytes; costgate reads at most {max} bytes"
        ));
    }
    Ok(bytes)
}

/// A file that could not be written: the target as named, and why.
#[derive(Debug)]
pub struct WriteError {
    /// The file as named.
    pub target: PathBuf,
    /// Why it could not be written.
    pub reason: String,
}

impl fmt::Display for WriteError {
    /// The reason only: callers say "cannot write TARGET: {e}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for WriteError {}

/// Where the bytes for a target go.
enum Target {
    /// A regular file (existing or not), replaced atomically.
    File(PathBuf),
    /// A device, a FIFO, a socket or a `/proc` link (`/dev/stdout`): written in place.
    InPlace(PathBuf),
}

/// Follow `path`'s symlinks (at most 40) to what is written.
fn resolve(path: &Path) -> Result<Target, String> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        // `/proc/self/fd/1` and friends are links to open files (`pipe:[..]`)
        // that only the kernel can follow.
        if cur.starts_with("/proc") {
            return Ok(Target::InPlace(cur));
        }
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&cur).map_err(|e| plain(&e))?;
                cur = if link.is_absolute() {
                    link
                } else {
                    cur.parent().unwrap_or(Path::new("")).join(link)
                };
            }
            Ok(m) if m.is_dir() => {
                return Err("is a folder; name a file to write".into());
            }
            Ok(m) if m.is_file() => {
                if m.permissions().readonly() {
                    return Err("the file is read-only; costgate does not replace it".into());
                }
                // Permissions as they apply to this user (root aside).
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&cur)
                    .map_err(|e| plain(&e))?;
                return Ok(Target::File(cur));
            }
            Ok(_) => return Ok(Target::InPlace(cur)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let dir = match cur.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                return match std::fs::metadata(dir) {
                    Ok(m) if m.is_dir() => Ok(Target::File(cur)),
                    Ok(_) => Err(format!("{} is not a folder", dir.display())),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        Err(format!("the folder {} does not exist", dir.display()))
                    }
                    Err(e) => Err(format!("the folder {}: {}", dir.display(), plain(&e))),
                };
            }
            Err(e) => return Err(open_error(&e)),
        }
    }
    Err("a symlink loop (too many levels of symbolic links)".into())
}

/// Write `bytes` to `path`: see the module documentation.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let fail = |reason: String| WriteError {
        target: path.to_path_buf(),
        reason,
    };
    if path.as_os_str().is_empty() {
        return Err(fail("no file named".into()));
    }
    match resolve(path).map_err(fail)? {
        Target::InPlace(p) => write_in_place(&p, bytes).map_err(|e| fail(plain(&e))),
        Target::File(p) => replace(&p, bytes).map_err(|e| fail(plain(&e))),
    }
}

/// Write into what is there (a device, a FIFO, an open file behind `/proc`).
fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // Appending: a file behind `/dev/stdout` keeps what the shell put there.
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Replace the regular file `path` (or create it) atomically.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().to_string());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    // A temporary file is private (0600); the result is an ordinary file:
    // the replaced file's permissions, or readable by all (0644).
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => default_permissions(tmp.as_file())?,
    };
    tmp.as_file().set_permissions(perms)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions(_: &std::fs::File) -> io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions(f: &std::fs::File) -> io::Result<std::fs::Permissions> {
    Ok(f.metadata()?.permissions())
}

/// Whether `a` and `b` name the same file: the same device and inode when
/// both exist (through links), else the same absolute path once the
/// folder that holds each is resolved. Two outputs of one run, or an
/// output and the input, must not be one file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        // A device (`/dev/null`) may take several outputs.
        return x.is_file() && x.dev() == y.dev() && x.ino() == y.ino();
    }
    let resolved = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = std::fs::canonicalize(p) {
            return Some(c);
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    match (resolved(a), resolved(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The repository `dir` is in: the nearest folder at or above it (made
/// absolute) holding `.git`.
pub fn repo_root(dir: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(dir).ok()?;
    abs.ancestors()
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// The file `name` in `start` (a file's folder, or a folder) or the nearest
/// folder above it, stopping at the repository's root: the folder holding
/// `.git` (a snapshot of another commit has one at its top, see
/// [`crate::gitref::snapshot`]), or the filesystem root outside a repository. A `name` that is there but not a readable file is
/// still found (and its reading then fails by name), never passed over.
pub fn find_up(start: &Path, name: &str) -> Option<PathBuf> {
    let start = if start.is_file() { start.parent()? } else { start };
    // `spec.yaml`'s parent is the empty path: the current folder.
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let abs = std::fs::canonicalize(start).ok()?;
    for d in abs.ancestors() {
        let f = d.join(name);
        if std::fs::symlink_metadata(&f).is_ok() {
            return Some(f);
        }
        if std::fs::symlink_metadata(d.join(".git")).is_ok() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        }
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        // a target in a folder that does not exist fails cleanly, naming it
        let e = write_atomic(&d.path().join("no/such/r.json"), b"x").unwrap_err();
        assert!(e.reason.contains("does not exist"), "{e}");
        assert!(e.target.ends_with("no/such/r.json"));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_folder_is_not_a_target() {
        let d = tempfile::tempdir().unwrap();
        let e = write_atomic(d.path(), b"x").unwrap_err();
        assert!(e.reason.contains("is a folder"), "{e}");
        assert!(d.path().is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("real")).unwrap();
        let real = d.path().join("real/r.json");
        std::fs::write(&real, "old").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink("real/r.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // a dangling link creates the file it names
        let dangling = d.path().join("dangling.json");
        std::os::unix::fs::symlink("real/new.json", &dangling).unwrap();
        write_atomic(&dangling, b"made").unwrap();
        assert_eq!(std::fs::read(d.path().join("real/new.json")).unwrap(), b"made");
        // a loop is an error
        let a = d.path().join("a.json");
        std::os::unix::fs::symlink("b.json", &a).unwrap();
        std::os::unix::fs::symlink("a.json", d.path().join("b.json")).unwrap();
        let e = write_atomic(&a, b"x").unwrap_err();
        assert!(e.reason.contains("symlink loop"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_is_refused_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        std::fs::write(&p, "keep").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_atomic(&p, b"new").unwrap_err();
        assert!(e.reason.contains("read-only"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"keep");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_are_written_in_place_and_their_errors_are_errors() {
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        let e = write_atomic(Path::new("/dev/full"), b"x").unwrap_err();
        assert!(e.reason.contains("No space left"), "{e}");
        assert_eq!(e.target, Path::new("/dev/full"));
    }

    #[test]
    fn reads_are_bounded_by_the_bytes_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        std::fs::write(&p, "0123456789").unwrap();
        assert_eq!(read_bounded(&p, 10).unwrap(), b"0123456789");
        assert!(read_bounded(&p, 9).unwrap_err().contains("larger than 9 bytes"));
        // A /proc file says it is empty (size 0) and is not.
        #[cfg(target_os = "linux")]
        {
            let status = Path::new("/proc/self/status");
            assert_eq!(std::fs::metadata(status).unwrap().len(), 0);
            let e = read_bounded(status, 64).unwrap_err();
            assert!(e.contains("larger than 64 bytes"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let d = tempfile::tempdir().unwrap();
        assert!(read_bounded(d.path(), 10).unwrap_err().contains("a folder"));
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.contains("a character device"), "{e}");
        let fifo = d.path().join("f");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(read_bounded(&fifo, 10).unwrap_err().contains("FIFO"));
        let l = d.path().join("loop");
        std::os::unix::fs::symlink("loop", &l).unwrap();
        assert!(read_bounded(&l, 10).unwrap_err().contains("symlink loop"));
    }
}
