//! SSH signatures of approval records, and who may sign them.
//!
//! A signed approval record has a detached signature beside it,
//! `<spec>.approval.toml.sig`, in the SSHSIG format that `ssh-keygen -Y sign`
//! writes (the format git uses for SSH-signed commits), over the record
//! file's exact bytes, in the namespace [`NAMESPACE`]. The policy names who
//! may approve in an OpenSSH `allowed_signers` file (see ssh-keygen(1),
//! "ALLOWED SIGNERS"): a signature counts when its key is listed there for
//! the record's approver (`by`). So a record costgate signed verifies with
//!
//! ```text
//! ssh-keygen -Y verify -f allowed_signers -I cfo@example.com -n costgate-approval \
//!     -s chat.approval.toml.sig < chat.approval.toml
//! ```
//!
//! and one `ssh-keygen -Y sign -n costgate-approval -f KEY chat.approval.toml`
//! signed verifies in costgate. The cryptography is RustCrypto's `ssh-key`.

use std::path::Path;
use std::sync::Arc;

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig, public::KeyData};

use crate::source::{Loc, Problem, Span};
use crate::untrusted::clean;

/// The SSHSIG namespace of approval signatures (`ssh-keygen -n`).
pub const NAMESPACE: &str = "costgate-approval";

/// What is appended to a record's file name to name its signature.
pub const SIG_SUFFIX: &str = ".sig";

/// Largest private key or signature file read (an RSA 16384-bit key is ~12 KB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// `SHA256:...`, as `ssh-keygen -l` shows a key.
pub fn key_fingerprint(k: &KeyData) -> String {
    k.fingerprint(HashAlg::Sha256).to_string()
}

/// One line of an allowed_signers file.
#[derive(Clone, Debug)]
struct Entry {
    /// Comma-separated patterns (`*`, `?`, `!negated`).
    principals: String,
    key: KeyData,
    /// `namespaces="..."`: patterns the signature's namespace must match.
    namespaces: Option<String>,
    /// `valid-after`: the first day the key is valid (rounded up to a day).
    valid_after: Option<jiff::civil::Date>,
    /// `valid-before`: the first day it is no longer valid (rounded down).
    valid_before: Option<jiff::civil::Date>,
}

/// The approvers the policy allows: a parsed allowed_signers file.
#[derive(Clone, Debug)]
pub struct AllowedSigners {
    /// The file, as named for people.
    pub file: String,
    entries: Vec<Entry>,
}

/// A signature that verified: who and with which key.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// `SHA256:...` of the key.
    pub key: String,
    /// Whether an allowed_signers file vouched for the key as the approver's.
    pub allowed: bool,
}

impl AllowedSigners {
    /// Read an allowed_signers file (`display` names it in problems).
    pub fn load(path: &Path, display: &str) -> Result<AllowedSigners, Vec<Problem>> {
        let text = crate::input::read_text(path).map_err(|e| {
            vec![Problem {
                code: crate::source::ProblemCode::Unreadable,
                span: Span::new(&Arc::from(display), e.loc, ""),
                message: format!("the allowed_signers file named by the policy: {}", e.message),
                hint: None,
            }]
        })?;
        AllowedSigners::parse(display, &text)
    }

    /// Parse the text of an allowed_signers file: every problem, with its line.
    pub fn parse(display: &str, text: &str) -> Result<AllowedSigners, Vec<Problem>> {
        let file: Arc<str> = Arc::from(display);
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let column = raw.len() - line.len() + 1;
            match parse_line(line) {
                Ok(e) => entries.push(e),
                Err((message, hint)) => problems.push(Problem {
                    code: crate::source::ProblemCode::InvalidValue,
                    span: Span::new(
                        &file,
                        Loc::new(
                            u32::try_from(i + 1).unwrap_or(u32::MAX),
                            u32::try_from(column).unwrap_or(u32::MAX),
                        ),
                        "",
                    ),
                    message,
                    hint,
                }),
            }
        }
        if problems.is_empty() {
            Ok(AllowedSigners {
                file: display.to_string(),
                entries,
            })
        } else {
            Err(problems)
        }
    }

    /// Whether `key` may sign for `principal` in [`NAMESPACE`] on `today`;
    /// `Err` says why not.
    fn allows(&self, principal: &str, key: &KeyData, today: jiff::civil::Date) -> Result<(), String> {
        let mut why = None;
        for e in self.entries.iter().filter(|e| e.key == *key) {
            if match_list(principal, &e.principals) != Some(true) {
                continue;
            }
            if let Some(ns) = &e.namespaces
                && match_list(NAMESPACE, ns) != Some(true)
            {
                why = Some(format!(
                    "its line in {} limits it to other namespaces than `{NAMESPACE}`",
                    self.file
                ));
                continue;
            }
            if let Some(d) = e.valid_after
                && today < d
            {
                why = Some(format!("{} makes it valid only from {d}", self.file));
                continue;
            }
            if let Some(d) = e.valid_before
                && today >= d
            {
                why = Some(format!("{} makes it valid only before {d}", self.file));
                continue;
            }
            return Ok(());
        }
        Err(why.unwrap_or_else(|| format!("the key is not listed for `{}` in {}", clean(principal), self.file)))
    }
}

type LineError = (String, Option<String>);

/// `principals [options] keytype base64 [comment]`.
fn parse_line(line: &str) -> Result<Entry, LineError> {
    let (principals, rest) = token(line).ok_or_else(|| ("a line without principals".to_string(), None))?;
    let principals = principals.replace('"', "");
    if principals.is_empty() {
        return Err(("empty principals".into(), None));
    }
    let rest = rest.trim_start();
    let (options, rest) = if looks_like_key_type(rest) {
        (None, rest)
    } else {
        let (o, r) = token(rest).ok_or_else(|| ("no key on the line".to_string(), None))?;
        (Some(o), r.trim_start())
    };
    let mut e = Entry {
        principals,
        key: parse_key(rest)?,
        namespaces: None,
        valid_after: None,
        valid_before: None,
    };
    if let Some(o) = options {
        for opt in split_options(&o) {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v))),
                None => (opt.to_ascii_lowercase(), None),
            };
            match (name.as_str(), value) {
                ("cert-authority", None) => {
                    return Err((
                        "`cert-authority` is not supported: costgate checks approvers' own keys, not certificates"
                            .into(),
                        Some("list each approver's public key on its own line".into()),
                    ));
                }
                ("namespaces", Some(v)) => e.namespaces = Some(v),
                ("valid-after", Some(v)) => e.valid_after = Some(parse_time(&v, true)?),
                ("valid-before", Some(v)) => e.valid_before = Some(parse_time(&v, false)?),
                _ => {
                    return Err((
                        format!("unknown option `{}`", clean(&opt)),
                        Some("costgate reads namespaces=, valid-after= and valid-before=".into()),
                    ));
                }
            }
        }
    }
    Ok(e)
}

/// A token up to white space; `"..."` quotes keep spaces (and are kept).
fn token(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            c if c.is_whitespace() && !quoted => return Some((out, &s[i..])),
            c => out.push(c),
        }
    }
    Some((out, ""))
}

fn looks_like_key_type(s: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-", "rsa-"].iter().any(|p| s.starts_with(p))
}

fn parse_key(s: &str) -> Result<KeyData, LineError> {
    let mut it = s.split_whitespace();
    let (Some(kind), Some(b64)) = (it.next(), it.next()) else {
        return Err((
            "no key on the line".into(),
            Some("write: principals [options] keytype base64-key".into()),
        ));
    };
    if kind.ends_with("-cert-v01@openssh.com") {
        return Err((
            "certificates are not supported: list the approver's key itself".into(),
            None,
        ));
    }
    PublicKey::from_openssh(&format!("{kind} {b64}"))
        .map(|k| k.key_data().clone())
        .map_err(|e| {
            (
                format!("not a public key costgate reads ({}): {e}", clean(kind)),
                Some("costgate reads ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 and ecdsa-sha2-nistp384 keys".into()),
            )
        })
}

fn split_options(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn unquote(v: &str) -> String {
    v.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v)
        .to_string()
}

/// `YYYYMMDD[HHMM[SS]][Z]` to a day: a time within the day rounds
/// `valid-after` up to the next day and `valid-before` down to its own day,
/// so a key is never taken as valid outside its window.
fn parse_time(v: &str, after: bool) -> Result<jiff::civil::Date, LineError> {
    let bad = || {
        (
            format!("`{}` is not a time", clean(v)),
            Some("write YYYYMMDD or YYYYMMDDHHMM[SS], optionally with Z".into()),
        )
    };
    let digits = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    if !digits.chars().all(|c| c.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let n = |a: usize, b: usize| digits[a..b].parse::<i16>().map_err(|_| bad());
    let d = jiff::civil::Date::new(n(0, 4)?, n(4, 6)? as i8, n(6, 8)? as i8).map_err(|_| bad())?;
    let within_day = digits.len() > 8 && digits[8..].chars().any(|c| c != '0');
    if after && within_day {
        d.tomorrow().map_err(|_| bad())
    } else {
        Ok(d)
    }
}

/// OpenSSH's `match_pattern_list`: `Some(true)` when a pattern matches and no
/// negated one does, `Some(false)` when a negated one matches, `None` when
/// none matches.
fn match_list(s: &str, list: &str) -> Option<bool> {
    let mut got = None;
    for p in list.split(',') {
        let (neg, p) = match p.strip_prefix('!') {
            Some(q) => (true, q),
            None => (false, p),
        };
        if glob(s.as_bytes(), p.as_bytes()) {
            if neg {
                return Some(false);
            }
            got = Some(true);
        }
    }
    got
}

/// `*` and `?` wildcards; iterative, linear in practice.
fn glob(s: &[u8], p: &[u8]) -> bool {
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Read a small file (a key or a signature) as text: a regular file only,
/// bounded, through the reader every input goes through.
fn read_small(path: &Path, what: &str) -> Result<String, String> {
    let bytes = crate::fsutil::read_bounded(path, MAX_KEY_BYTES)
        .map_err(|e| format!("the {what} {}: {e}", clean(&path.display().to_string())))?;
    String::from_utf8(bytes).map_err(|_| format!("the {what} {} is not text", clean(&path.display().to_string())))
}

/// About one ECDSA key in 256 that `ssh-keygen` writes has a private scalar
/// whose top byte is zero; OpenSSH stores it as a shorter mpint, which
/// ssh-key 0.6 refuses (fixed in 0.7, RustCrypto/SSH#356). Re-encode such an
/// unencrypted key with the scalar at its full width and read it again. Any
/// other key, or any key this cannot mend, gives `None`.
fn widen_short_ecdsa_scalar(text: &str) -> Option<PrivateKey> {
    struct Cur<'a>(&'a [u8]);
    impl<'a> Cur<'a> {
        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            if n > self.0.len() {
                return None;
            }
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            Some(a)
        }
        fn u32(&mut self) -> Option<u32> {
            Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
        }
        fn string(&mut self) -> Option<&'a [u8]> {
            let n = self.u32()? as usize;
            self.take(n)
        }
    }
    fn put(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    // OpenSSH wraps its PEM at 70 columns, not RFC 7468's 64.
    let mut pem = pem_rfc7468::Decoder::new_wrapped(text.as_bytes(), 70).ok()?;
    if pem.type_label() != "OPENSSH PRIVATE KEY" {
        return None;
    }
    let mut blob = Vec::new();
    pem.decode_to_end(&mut blob).ok()?;
    let mut c = Cur(blob.strip_prefix(MAGIC)?);
    let (cipher, kdf, kdf_opts) = (c.string()?, c.string()?, c.string()?);
    if cipher != b"none" || c.u32()? != 1 {
        return None;
    }
    let public = c.string()?;
    let mut p = Cur(c.string()?);
    let (check1, check2) = (p.u32()?, p.u32()?);
    let (kind, curve, point) = (p.string()?, p.string()?, p.string()?);
    let width = match kind {
        b"ecdsa-sha2-nistp256" => 32,
        b"ecdsa-sha2-nistp384" => 48,
        b"ecdsa-sha2-nistp521" => 66,
        _ => return None,
    };
    let scalar = p.string()?;
    let digits = &scalar[scalar.iter().take_while(|&&b| b == 0).count()..];
    if digits.len() >= width {
        return None;
    }
    let comment = p.string()?;
    let mut section = Vec::new();
    section.extend_from_slice(&check1.to_be_bytes());
    section.extend_from_slice(&check2.to_be_bytes());
    for s in [kind, curve, point] {
        put(&mut section, s);
    }
    let mut wide = vec![0u8; width - digits.len()];
    wide.extend_from_slice(digits);
    put(&mut section, &wide);
    put(&mut section, comment);
    let mut pad = 1u8;
    while section.len() % 8 != 0 {
        section.push(pad);
        pad += 1;
    }
    let mut out = MAGIC.to_vec();
    for s in [cipher, kdf, kdf_opts] {
        put(&mut out, s);
    }
    out.extend_from_slice(&1u32.to_be_bytes());
    put(&mut out, public);
    put(&mut out, &section);
    PrivateKey::from_bytes(&out).ok()
}

/// Sign `msg` with the OpenSSH private key at `key_path`: the signature file's
/// text (`-----BEGIN SSH SIGNATURE-----`). Errors never show the key.
pub fn sign(key_path: &Path, msg: &[u8]) -> Result<(String, String), String> {
    let text = read_small(key_path, "key")?;
    let key = PrivateKey::from_openssh(text.trim())
        .or_else(|e| widen_short_ecdsa_scalar(text.trim()).ok_or(e))
        .map_err(|_| {
        format!(
            "{} is not an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`); give the private key, not the .pub",
            key_path.display()
        )
    })?;
    if key.is_encrypted() {
        return Err(format!(
            "{} is protected by a passphrase, which costgate does not ask for; record the approval without --sign-with and sign it with ssh-keygen, which asks for the passphrase or uses ssh-agent: ssh-keygen -Y sign -n {NAMESPACE} -f {} RECORD",
            key_path.display(),
            key_path.display()
        ));
    }
    if key.algorithm().is_rsa() {
        // ssh-key 0.6 fails to sign with RSA keys ("cryptographic error"); it
        // verifies RSA signatures, so ssh-keygen signs for such a key.
        return Err(format!(
            "costgate signs with ed25519 and ECDSA keys, not RSA ({}); sign the record with ssh-keygen instead (costgate verifies RSA signatures): ssh-keygen -Y sign -n {NAMESPACE} -f {} RECORD",
            key_path.display(),
            key_path.display()
        ));
    }
    let sig = key
        .sign(NAMESPACE, HashAlg::Sha512, msg)
        .map_err(|e| format!("cannot sign with {}: {e}", key_path.display()))?;
    let pem = sig
        .to_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the signature: {e}"))?;
    Ok((pem, key_fingerprint(key.public_key().key_data())))
}

/// Check a record's signature: it is an SSHSIG over exactly `msg` in
/// [`NAMESPACE`], and, given allowed signers, its key is listed for
/// `principal`. `Err` says why it does not count.
pub fn verify(
    msg: &[u8],
    pem: &str,
    principal: &str,
    signers: Option<&AllowedSigners>,
    today: jiff::civil::Date,
) -> Result<Verified, String> {
    let sig = SshSig::from_pem(pem.trim()).map_err(|_| "the signature file is not an SSH signature".to_string())?;
    let key = key_fingerprint(sig.public_key());
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "the signature (key {key}) is for namespace `{}`, not `{NAMESPACE}`",
            clean(sig.namespace())
        ));
    }
    PublicKey::from(sig.public_key().clone())
        .verify(NAMESPACE, msg, &sig)
        .map_err(|_| {
            format!("the signature (key {key}) does not match the record: the record was edited after signing, or the signature is another record's")
        })?;
    match signers {
        None => Ok(Verified { key, allowed: false }),
        Some(s) => {
            s.allows(principal, sig.public_key(), today).map_err(|why| {
                format!(
                    "the signature's key {key} is not an allowed signer for `{}`: {why}",
                    clean(principal)
                )
            })?;
            Ok(Verified { key, allowed: true })
        }
    }
}

/// Read the signature beside a record, if there is one.
pub fn read_signature(path: &Path) -> Result<Option<String>, String> {
    // Only a signature that is not there is "unsigned": a dangling link, a
    // loop or a FIFO is an error, as for the record.
    if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    read_small(path, "signature").map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_openssh_does() {
        assert_eq!(match_list("cfo@example.com", "cfo@example.com"), Some(true));
        assert_eq!(match_list("cfo@example.com", "*@example.com"), Some(true));
        assert_eq!(match_list("cfo@example.com", "*@example.com,!cfo@*"), Some(false));
        assert_eq!(match_list("cfo@example.com", "ceo@example.com"), None);
        assert_eq!(match_list("cfo@example.com", "c?o@example.com"), Some(true));
        assert_eq!(match_list("cfo@example.com.evil", "*@example.com"), None);
        assert!(!glob(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", b"*a*a*a*a*a*a*a*a*c"));
    }

    #[test]
    fn times_round_so_a_key_is_never_valid_outside_its_window() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert_eq!(parse_time("20261128", true).unwrap(), d("2026-11-28"));
        assert_eq!(parse_time("202611281200Z", true).unwrap(), d("2026-11-29"));
        assert_eq!(parse_time("20261128000000", true).unwrap(), d("2026-11-28"));
        assert_eq!(parse_time("202611281200", false).unwrap(), d("2026-11-28"));
        assert!(parse_time("2026-11-28", true).is_err());
        assert!(parse_time("20261340", true).is_err());
    }

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOV1pVf8VYb7BlOHALiBiuTSMmUqHKQh2mFOdTGqAF9Q";

    #[test]
    fn allowed_signers_lines_parse_or_say_why_not() {
        let ok = format!(
            "# approvers\n\ncfo@example.com {KEY} cfo laptop\n\"a@x,b@x\" namespaces=\"git,costgate-approval\",valid-after=20260101 {KEY}\n"
        );
        let s = AllowedSigners::parse("allowed_signers", &ok).unwrap();
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.entries[1].principals, "a@x,b@x");
        assert_eq!(s.entries[1].namespaces.as_deref(), Some("git,costgate-approval"));
        for (bad, want, line) in [
            (
                format!("\n\ncfo@x cert-authority {KEY}\n"),
                "`cert-authority` is not supported",
                3,
            ),
            (format!("cfo@x restrict {KEY}\n"), "unknown option `restrict`", 1),
            ("cfo@x ssh-ed25519 AAAAnotbase64\n".to_string(), "not a public key", 1),
            ("cfo@x\n".to_string(), "no key on the line", 1),
            (format!("cfo@x valid-before=tomorrow {KEY}\n"), "is not a time", 1),
        ] {
            let e = AllowedSigners::parse("allowed_signers", &bad).unwrap_err();
            assert!(e[0].message.contains(want), "{bad}: {:?}", e[0].message);
            assert_eq!(e[0].span.line, line, "{bad}");
        }
    }
}

#[cfg(test)]
mod short_scalar {
    const KEY: &str = include_str!("../fixtures/keys/ecdsa-p256-short-scalar");
    const PUBLIC: &str = include_str!("../fixtures/keys/ecdsa-p256-short-scalar.pub");

    #[test]
    fn ssh_key_alone_refuses_a_key_whose_scalar_starts_with_a_zero_byte() {
        assert!(ssh_key::PrivateKey::from_openssh(KEY.trim()).is_err());
    }

    #[test]
    fn the_mended_key_is_the_same_key() {
        let key = super::widen_short_ecdsa_scalar(KEY.trim()).expect("mended");
        let public = ssh_key::PublicKey::from_openssh(PUBLIC.trim()).unwrap();
        assert_eq!(key.public_key().key_data(), public.key_data());
        // The scalar really is the shorter one, padded at the top.
        let ssh_key::private::KeypairData::Ecdsa(ssh_key::private::EcdsaKeypair::NistP256 { private, .. }) =
            key.key_data()
        else {
            panic!("not a P-256 key");
        };
        assert_eq!(private.as_slice()[0], 0);
    }

    #[test]
    fn keys_ssh_key_reads_are_not_touched() {
        let full = KEY.replace("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY");
        assert!(super::widen_short_ecdsa_scalar(&full).is_none());
    }
}
