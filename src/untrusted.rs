//! Strings costgate did not write (from a spec, a policy, a price catalog,
//! an approval record, a URL, a server's answer) on their way to a terminal
//! or a CI log, and secrets that must never get there.
//!
//! - [`clean`] makes a string one line of inert text: line breaks, control
//!   characters (an ANSI escape starts with ESC), bidirectional overrides
//!   and line separators become visible escapes (`\n`, `\u{1b}`), and what
//!   the GitHub Actions runner reads as a workflow command (`::` at the
//!   start of a line, `##[` anywhere) is broken. Every human renderer (the
//!   terminal table, the Markdown and HTML reports, the diff, the pricing
//!   listings, the progress bar) and the error printer pass input strings
//!   through it; `--format github` escapes workflow-command data itself, and
//!   JSON, SARIF and JUnit escape in their own syntax.
//! - [`redact_url`] hides the credentials a URL can carry (`user:password@`,
//!   secret-looking query parameters) as `***`; every URL costgate shows or
//!   stores goes through it. [`redact_secret`] removes a known secret (the
//!   GitHub token) from text that came back from a server.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that change how the rest of a line reads, or tell two names
/// apart, without being visible: bidirectional embeddings, overrides and
/// isolates, the Unicode line and paragraph separators, and the
/// zero-width ones (`cheap` and `cheap` + U+200B would look alike). The
/// joiners U+200C and U+200D are kept: scripts and emoji need them.
fn is_invisible_control(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
    )
}

pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_control(c)
}

/// `s` as one line of inert text for a terminal or a CI log (see the module
/// documentation). Text without anything to neutralise is returned as is.
pub fn clean(s: &str) -> Cow<'_, str> {
    let command_start = s.trim_start().starts_with("::");
    if !command_start && !s.contains("##[") && !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    let mut at_start = true;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            // `::` opening the text would open a workflow command when the
            // text starts a line; `##[` is the runner's older command form
            ':' if at_start && chars.peek() == Some(&':') => o.push_str("\\u{3a}"),
            '[' if o.ends_with("##") => o.push_str("\\u{5b}"),
            c => o.push(c),
        }
        if !c.is_whitespace() {
            at_start = false;
        }
    }
    Cow::Owned(o)
}

/// JSON text (from serde_json) made inert for a terminal or a CI log:
/// serde_json escapes only C0 controls, so DEL, the C1 controls (U+0080 to
/// U+009F, among them the one-byte CSI) and the invisible characters that
/// reorder text are written as `\uXXXX` escapes. Outside strings JSON is
/// ASCII, so the escaped text parses to the same value.
pub fn json_inert(s: String) -> String {
    // C0 controls in a string are already escaped; outside strings they are
    // the layout's newlines.
    let needs_escape = |c: char| c >= ' ' && needs_escape(c);
    if !s.chars().any(needs_escape) {
        return s;
    }
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(o, "\\u{u:04x}");
            }
        } else {
            o.push(c);
        }
    }
    o
}

/// [`clean`] for an owned string.
pub fn cleaned(s: String) -> String {
    match clean(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

/// Clean `s` in place.
pub fn clean_in_place(s: &mut String) {
    if let Cow::Owned(o) = clean(s) {
        *s = o;
    }
}

/// The separator costgate puts between a message and its hint.
pub const HINT: &str = "\n  hint: ";

/// A message costgate composed around input strings, possibly with hints
/// after [`HINT`]: each part cleaned, the hint breaks kept.
pub fn clean_message(m: &str) -> String {
    m.split(HINT).map(clean).collect::<Vec<_>>().join(HINT)
}

/// Query parameters whose values are secrets, compared without case and
/// ignoring `-`, `_` and `.`; a name ending in one of the last group counts
/// too (`x-amz-signature`, `client_secret`).
const SECRET_PARAMS: &[&str] = &[
    "accesstoken",
    "token",
    "key",
    "apikey",
    "signature",
    "sig",
    "password",
    "passwd",
    "pwd",
    "secret",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "session",
    "code",
];
const SECRET_SUFFIXES: &[&str] = &[
    "token",
    "key",
    "secret",
    "signature",
    "password",
    "credential",
    "credentials",
];

fn is_secret_param(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_PARAMS.contains(&n.as_str()) || SECRET_SUFFIXES.iter().any(|s| n.ends_with(s))
}

/// `url` with its secrets replaced by `***`: the password (and the user
/// name, which is often a token itself) of `user:password@`, and the values
/// of secret-looking query parameters (`access_token`, `token`, `key`,
/// `api_key`, `signature`, `sig`, `password`, `secret`, ... and any name
/// ending in `token`, `key`, `secret`, `signature` or `password`), in the
/// query and in the fragment. Works on text that does not parse as a URL.
pub fn redact_url(url: &str) -> String {
    // scheme://userinfo@host...
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut o = String::with_capacity(url.len());
    o.push_str(scheme);
    match authority.rfind('@') {
        Some(at) if !scheme.is_empty() => {
            o.push_str("***@");
            o.push_str(&authority[at + 1..]);
        }
        _ => o.push_str(authority),
    }
    let (tail, fragment) = match tail.split_once('#') {
        Some((t, f)) => (t, Some(f)),
        None => (tail, None),
    };
    match tail.split_once('?') {
        None => o.push_str(tail),
        Some((path, query)) => {
            o.push_str(path);
            o.push('?');
            o.push_str(&redact_params(query));
        }
    }
    // a fragment can carry parameters too (`#access_token=...`)
    if let Some(f) = fragment {
        o.push('#');
        o.push_str(&redact_params(f));
    }
    o
}

fn redact_params(query: &str) -> String {
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if is_secret_param(&percent_decode(k)) => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    parts.join("&")
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every occurrence of `secret` replaced by `***` (a secret
/// shorter than 4 characters is left alone: it would hide ordinary words).
pub fn redact_secret(text: &str, secret: &str) -> String {
    let secret = secret.trim();
    if secret.chars().count() < 4 {
        return text.to_string();
    }
    text.replace(secret, "***")
}

/// Every `http://` or `https://` URL inside `text` passed through
/// [`redact_url`] (for messages from libraries that quote the URL).
pub fn redact_urls_in(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_url(rest) {
        o.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(tail.len());
        o.push_str(&redact_url(&tail[..end]));
        rest = &tail[end..];
    }
    o.push_str(rest);
    o
}

fn find_url(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_keeps_its_value_and_loses_its_controls() {
        let v = serde_json::json!({"name": "a\u{9b}2J b\u{202e}c \u{7f} \u{1b}[31m ok é 💸"});
        let s = json_inert(serde_json::to_string_pretty(&v).unwrap());
        assert!(!s.chars().any(|c| c != '\n' && needs_escape(c)), "{s:?}");
        assert!(
            s.contains("\\u009b") && s.contains("\\u202e") && s.contains("\\u007f"),
            "{s}"
        );
        assert!(s.contains("é 💸"), "ordinary text is kept: {s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    use super::*;
    use proptest::prelude::*;

    /// What the outputs must never carry from input.
    pub fn assert_inert(s: &str) {
        assert!(!s.chars().any(needs_escape), "control character in {s:?}");
        assert!(!s.trim_start().starts_with("::"), "workflow command in {s:?}");
        assert!(!s.contains("##["), "workflow command in {s:?}");
    }

    #[test]
    fn line_breaks_escapes_and_commands_are_neutralised() {
        assert_eq!(clean("plain name"), "plain name");
        assert!(matches!(clean("plain name"), Cow::Borrowed(_)));
        assert_eq!(clean("a\n::error::x"), "a\\n::error::x");
        assert_eq!(clean("::add-mask::x"), "\\u{3a}:add-mask::x");
        assert_eq!(clean("  ::set-output name=a::b"), "  \\u{3a}:set-output name=a::b");
        assert_eq!(clean("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(clean("a\r\tb\u{7f}\u{9b}"), "a\\r\\tb\\u{7f}\\u{9b}");
        assert_eq!(clean("x ##[error]y"), "x ##\\u{5b}error]y");
        assert_eq!(clean("abc\u{202e}def\u{2028}"), "abc\\u{202e}def\\u{2028}");
        // Zero-width characters would make two names look alike; joiners stay.
        assert_eq!(clean("cheap\u{200b}"), "cheap\\u{200b}");
        assert_eq!(clean("\u{feff}cheap"), "\\u{feff}cheap");
        assert_eq!(clean("a\u{200d}b"), "a\u{200d}b");
        // a colon that opens nothing stays
        assert_eq!(clean("std::vec and :smile:"), "std::vec and :smile:");
        assert_eq!(
            clean_message("bad `a\nb`\n  hint: do `c\rd`"),
            "bad `a\\nb`\n  hint: do `c\\rd`"
        );
    }

    proptest! {
        #[test]
        fn cleaned_text_is_inert_and_one_line(s in any::<String>()) {
            let c = clean(&s);
            assert_inert(&c);
            // at the start of a line, or after any prefix
            assert_inert(&format!("  {c}"));
        }

        #[test]
        fn text_with_nothing_to_neutralise_is_unchanged(s in "[a-zA-Z0-9 _./@-]{0,40}") {
            prop_assert_eq!(clean(&s), s.as_str());
        }

        #[test]
        fn redacted_urls_keep_no_secret(
            user in "[a-z]{1,8}", pass in "[A-Za-z0-9]{6,20}", tok in "[A-Za-z0-9]{6,20}",
            name in prop::sample::select(vec!["access_token", "token", "key", "api_key", "API-KEY", "signature", "sig", "password", "X-Amz-Signature", "client_secret"]),
        ) {
            let url = format!("https://{user}:{pass}@prices.example/a/b.json?v=1&{name}={tok}&x=2#{name}={tok}");
            let r = redact_url(&url);
            prop_assert!(!r.contains(&pass) && !r.contains(&tok), "{}", r);
            prop_assert_eq!(r, format!("https://***@prices.example/a/b.json?v=1&{name}=***&x=2#{name}=***"));
        }
    }

    #[test]
    fn urls_without_secrets_are_kept() {
        let u = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices.json?ref=main";
        assert_eq!(redact_url(u), u);
        let page = "https://www.anthropic.com/pricing#api";
        assert_eq!(redact_url(page), page);
        assert_eq!(
            redact_url("http://127.0.0.1:8080/p.json"),
            "http://127.0.0.1:8080/p.json"
        );
        assert_eq!(redact_url("https://a@b/x"), "https://***@b/x");
        assert_eq!(
            redact_url("https://h/x?%61ccess_token=s3cret"),
            "https://h/x?%61ccess_token=***"
        );
        assert_eq!(
            redact_urls_in("error sending request for url (https://u:p4ss@h/x?token=abcd)"),
            "error sending request for url (https://***@h/x?token=***)"
        );
        assert_eq!(
            redact_secret("bad credentials ghs_abc123", "ghs_abc123"),
            "bad credentials ***"
        );
    }
}
