//! Documentation that cannot drift: every fenced block of README.md and
//! docs/*.md that looks like a spec, a policy or a costgate command is run.
//!
//! - A YAML or TOML block with a spec's top-level keys is a spec: it must
//!   pass `costgate validate` (parse, validate, price).
//! - A TOML block with a policy's sections is a policy: it must parse.
//! - The block after `<!-- costgate:policy-defaults -->` must be the output
//!   of `costgate policy --defaults`, byte for byte.
//! - A command line (`costgate ...` in a `sh` or `console` block, `$ costgate
//!   ...` in any block) must name a subcommand and flags the command line
//!   accepts: it is run with `--help` appended, which clap only reaches when
//!   every argument before it parses.
//! - A block that starts `$ costgate ...` shows the command's output: the
//!   command is run (80 columns, no colour) and must print the shown lines
//!   in order, `...` marking what the block leaves out.
//!
//! A block that is deliberately partial or invalid says so on the line
//! before it: `<!-- costgate:skip REASON -->`; such markers are counted, so
//! they stay rare. Only files of the repository are read.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/check_jsonschema.rs"]
mod check_jsonschema;

/// At most this many blocks may be skipped, across README.md and docs/.
const MAX_SKIPS: usize = 4;

const SPEC_KEYS: [&str; 8] = [
    "costgate",
    "feature",
    "models",
    "interaction",
    "usage",
    "tiers",
    "breakers",
    "scenarios",
];
const POLICY_SECTIONS: [&str; 6] = ["thresholds", "rules", "approvals", "pricing", "portfolio", "exceptions"];

struct Block {
    file: String,
    /// The line of the opening fence (1-based).
    line: usize,
    lang: String,
    text: String,
    /// The marker on the line before the fence (`costgate:skip ...`,
    /// `costgate:policy-defaults`), if any.
    marker: Option<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn documents() -> Vec<PathBuf> {
    let mut v = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

fn blocks_of(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.strip_prefix(root()).unwrap().display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(lang) = l.strip_prefix("```") {
            let marker = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| l.trim().strip_prefix("<!--"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(|m| m.trim().to_string())
                .filter(|m| m.starts_with("costgate:"));
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            out.push(Block {
                file: file.clone(),
                line: start + 1,
                lang: lang.trim().to_string(),
                text: body,
                marker,
            });
        }
        i += 1;
    }
    out
}

fn all_blocks() -> Vec<Block> {
    documents().iter().flat_map(|p| blocks_of(p)).collect()
}

/// The spec keys a block has at its top level (YAML keys at column 0; TOML
/// keys before the first table, and tables).
fn spec_keys(b: &Block) -> Vec<&'static str> {
    let yaml = matches!(b.lang.as_str(), "yaml" | "yml");
    let toml = b.lang == "toml";
    let mut in_table = false;
    let mut found = Vec::new();
    for l in b.text.lines() {
        in_table |= toml && l.starts_with('[');
        for k in SPEC_KEYS {
            let hit = (yaml && l.starts_with(&format!("{k}:")))
                || (toml && !in_table && (l.starts_with(&format!("{k} =")) || l.starts_with(&format!("{k}="))))
                || (toml && (l.starts_with(&format!("[{k}")) || l.starts_with(&format!("[[{k}"))));
            if hit && !found.contains(&k) {
                found.push(k);
            }
        }
    }
    found
}

/// A spec, whole or partial: its format version (`costgate: 1`), or two of
/// its other top-level sections (an approval record has a `feature` key, and
/// is not one; a GitLab CI file has a job named `costgate`, and is not one).
fn is_spec(b: &Block) -> bool {
    let version = b.text.lines().any(|l| {
        let l = l.split('#').next().unwrap_or("").trim_end();
        matches!(l, "costgate: 1" | "costgate = 1" | "costgate=1")
    });
    version || spec_keys(b).iter().filter(|k| **k != "costgate").count() >= 2
}

fn is_policy(b: &Block) -> bool {
    b.lang == "toml"
        && !is_spec(b)
        && b.text.lines().any(|l| {
            POLICY_SECTIONS
                .iter()
                .any(|s| l.starts_with(&format!("[{s}")) || l.starts_with(&format!("[[{s}")))
        })
}

fn skipped(b: &Block) -> bool {
    b.marker.as_deref().is_some_and(|m| m.starts_with("costgate:skip"))
}

fn costgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_costgate"));
    c.env("COSTGATE_TODAY", "2026-11-30")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .current_dir(root());
    c
}

#[test]
fn every_spec_block_validates() {
    let d = tempfile::tempdir().unwrap();
    // The built-in policy, whatever lies above the temporary folder.
    std::fs::write(d.path().join("costgate.toml"), "").unwrap();
    let mut n = 0;
    for b in all_blocks().iter().filter(|b| is_spec(b) && !skipped(b)) {
        let ext = if b.lang == "toml" { "toml" } else { "yaml" };
        let p = d.path().join(format!("block-{n}.{ext}"));
        std::fs::write(&p, &b.text).unwrap();
        let out = costgate()
            .args(["validate", "--policy"])
            .arg(d.path().join("costgate.toml"))
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "the spec block at {}:{} does not validate:\n{}",
            b.file,
            b.line,
            String::from_utf8_lossy(&out.stderr)
        );
        n += 1;
    }
    // The README's annotated spec is among them.
    assert!(n >= 1, "no spec block found");
}

#[test]
fn every_spec_and_policy_block_is_valid_for_the_json_schemas() {
    // The same blocks, against schemas/ with an independent validator.
    let Some(bin) = check_jsonschema::find() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let (mut specs, mut policies) = (Vec::new(), Vec::new());
    for (n, b) in all_blocks().iter().enumerate().filter(|(_, b)| !skipped(b)) {
        let ext = if b.lang == "toml" { "toml" } else { "yaml" };
        let p = d
            .path()
            .join(format!("{n}-{}-line-{}.{ext}", b.file.replace(['/', '.'], "_"), b.line));
        if is_spec(b) {
            std::fs::write(&p, &b.text).unwrap();
            specs.push(p);
        } else if is_policy(b) {
            std::fs::write(&p, &b.text).unwrap();
            policies.push(p);
        }
    }
    assert!(!specs.is_empty() && policies.len() >= 3);
    for (schema, files) in [
        (costgate::schema::SPEC_FILE, &specs),
        (costgate::schema::POLICY_FILE, &policies),
    ] {
        let (ok, said) = check_jsonschema::validate(&bin, &root().join("schemas").join(schema), files);
        assert!(
            ok,
            "README/docs blocks (file names give the block's line) against {schema}:\n{said}"
        );
    }
}

#[test]
fn every_policy_block_parses() {
    let mut n = 0;
    for b in all_blocks().iter().filter(|b| is_policy(b) && !skipped(b)) {
        if let Err(problems) = costgate::policy::load_str(&format!("{}:{}", b.file, b.line), &b.text) {
            panic!(
                "the policy block at {}:{} does not parse:\n{}",
                b.file,
                b.line,
                problems.iter().map(|p| format!("{p}\n")).collect::<String>()
            );
        }
        n += 1;
    }
    assert!(n >= 3, "only {n} policy blocks found");
}

#[test]
fn the_defaults_block_is_the_output_of_policy_defaults() {
    let shown = costgate().args(["policy", "--defaults"]).output().unwrap();
    assert_eq!(shown.status.code(), Some(0));
    let shown = String::from_utf8(shown.stdout).unwrap();
    let blocks: Vec<Block> = all_blocks()
        .into_iter()
        .filter(|b| b.marker.as_deref() == Some("costgate:policy-defaults"))
        .collect();
    assert_eq!(blocks.len(), 1, "one block shows the defaults");
    let b = &blocks[0];
    assert_eq!(b.file, "README.md");
    assert!(
        b.text == shown,
        "README.md:{} differs from `costgate policy --defaults`: paste its output there",
        b.line
    );
    // And the defaults block is a policy that reads back as the built-in one.
    let read = costgate::policy::load_str("README.md", &b.text).unwrap();
    assert_eq!(read.thresholds, costgate::policy::Policy::default().thresholds);
}

/// Split a command line as a POSIX shell would split plain words, single
/// and double quotes (enough for documentation).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                any = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                any = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        c => cur.push(c),
                    }
                }
            }
            '#' if !any && cur.is_empty() => break,
            c if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                any = true;
                cur.push(c);
            }
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A word that starts the shell's part of a command line: a redirection,
/// a pipe, or a list operator.
fn shell_operator(w: &str) -> bool {
    matches!(w, "|" | "||" | "&&" | ";" | "&" | "<") || w.starts_with('>') || w.starts_with("2>") || w.starts_with("1>")
}

/// The costgate command lines of a block, continuation lines joined.
fn command_lines(b: &Block) -> Vec<(usize, Vec<String>)> {
    let shell = matches!(b.lang.as_str(), "sh" | "console" | "bash" | "shell");
    let mut out = Vec::new();
    let lines: Vec<&str> = b.text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let at = i;
        let mut line = lines[i].to_string();
        while line.trim_end().ends_with('\\') && i + 1 < lines.len() {
            line = line.trim_end().trim_end_matches('\\').to_string();
            i += 1;
            line.push(' ');
            line.push_str(lines[i].trim());
        }
        i += 1;
        let trimmed = line.trim();
        let cmd = match trimmed.strip_prefix("$ ") {
            Some(rest) => rest,
            None if shell => trimmed,
            None => continue,
        };
        let mut w = words(cmd);
        // The shell's part of the line (a redirection, a pipe, another
        // command) is not costgate's.
        if let Some(k) = w.iter().position(|x| shell_operator(x)) {
            w.truncate(k);
        }
        if w.first().is_some_and(|c| c == "costgate" || c.ends_with("/costgate")) {
            out.push((b.line + 1 + at, w[1..].to_vec()));
        }
    }
    out
}

#[test]
fn every_command_line_parses() {
    let mut n = 0;
    for b in all_blocks().iter().filter(|b| !skipped(b)) {
        for (line, args) in command_lines(b) {
            // Everything before `--help` must parse for clap to print the help.
            let out = costgate().args(&args).arg("--help").output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}:{}: `costgate {}` does not parse:\n{}",
                b.file,
                line,
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            n += 1;
        }
    }
    assert!(n >= 15, "only {n} command lines found");
}

#[test]
fn a_bad_command_line_would_be_caught() {
    // The check itself: a flag that does not exist fails before `--help`.
    let b = Block {
        file: "test".into(),
        line: 1,
        lang: "sh".into(),
        text: "costgate check specs/ --no-such-flag   # comment\n$ costgate tune x \\\n  --objective nope\n".into(),
        marker: None,
    };
    let lines = command_lines(&b);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].1, ["check", "specs/", "--no-such-flag"]);
    for (_, args) in lines {
        let out = costgate().args(&args).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }
    assert_eq!(
        words("costgate check --set 'usage.x={p50: 5, p95: 14}' \"a b\" # c"),
        ["costgate", "check", "--set", "usage.x={p50: 5, p95: 14}", "a b"]
    );
}

#[test]
fn skip_markers_are_rare_and_give_a_reason() {
    let skips: Vec<Block> = all_blocks().into_iter().filter(skipped).collect();
    for b in &skips {
        let reason = b.marker.as_deref().unwrap().trim_start_matches("costgate:skip").trim();
        assert!(reason.len() >= 10, "{}:{}: a skip marker says why", b.file, b.line);
    }
    assert!(
        skips.len() <= MAX_SKIPS,
        "{} blocks are skipped (at most {MAX_SKIPS}): {}",
        skips.len(),
        skips
            .iter()
            .map(|b| format!("{}:{}", b.file, b.line))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

#[test]
fn the_readme_annotated_spec_is_checked() {
    // The annotated spec of "The spec" is a spec block, not skipped.
    let b = all_blocks()
        .into_iter()
        .find(|b| b.file == "README.md" && b.text.starts_with("costgate: 1"))
        .expect("the annotated spec");
    assert!(is_spec(&b) && !skipped(&b));
    for want in ["model: fallback", "tier: pro", "overage:"] {
        assert!(b.text.contains(want), "{want}");
    }
}

/// The output a block shows under `$ costgate ...`: the command (with its
/// `\` continuations, without a trailing `# comment`) and the lines shown
/// after it, `...` and `…` marking what is left out.
fn shown_runs(b: &Block) -> Option<(Vec<String>, Vec<String>)> {
    let mut lines = b.text.lines();
    let first = lines.next()?.strip_prefix("$ costgate ")?;
    let mut cmd = first.to_string();
    while cmd.trim_end().ends_with('\\') {
        cmd = cmd.trim_end().trim_end_matches('\\').to_string();
        cmd.push(' ');
        cmd.push_str(lines.next()?.trim());
    }
    let cmd = match cmd.find("  #") {
        Some(i) => cmd[..i].to_string(),
        None => cmd,
    };
    let shown = lines.map(|l| l.trim_end().to_string()).collect();
    Some((words(&format!("costgate {cmd}")), shown))
}

/// Every `$ costgate ...` block shows what the command prints: its lines,
/// in order, on an 80-column terminal without colour, run in a scratch
/// folder that sees the repository's specs and fixtures (a file the command
/// writes lands there). A command that names an https URL needs the network,
/// which tests do not have: it is only parsed (above).
#[test]
fn every_shown_output_is_what_the_command_prints() {
    let mut ran = 0;
    for b in all_blocks().iter().filter(|b| !skipped(b)) {
        let Some((argv, shown)) = shown_runs(b) else { continue };
        if argv
            .iter()
            .any(|a| a.starts_with("https://") || a.starts_with("http://"))
        {
            continue;
        }
        let d = tempfile::tempdir().unwrap();
        for dir in ["specs", "fixtures", "schemas"] {
            #[cfg(unix)]
            std::os::unix::fs::symlink(root().join(dir), d.path().join(dir)).unwrap();
        }
        let mut c = costgate();
        c.current_dir(d.path())
            .env("COLUMNS", "80")
            .env("NO_COLOR", "1")
            .env("COSTGATE_TODAY", "2026-11-28")
            .args(&argv[1..]);
        let out = c.output().unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
        // Each shown line, in order; `...` skips ahead.
        let mut at = 0;
        for l in shown.iter().filter(|l| !l.is_empty()) {
            if matches!(l.trim(), "..." | "…") {
                continue;
            }
            match printed[at..].iter().position(|p| p == l) {
                Some(i) => at += i + 1,
                None => panic!(
                    "{}:{}: `{}` does not print, in this order, the line\n{l:?}\nIt printed:\n{}",
                    b.file,
                    b.line,
                    argv.join(" "),
                    printed.join("\n")
                ),
            }
        }
        ran += 1;
    }
    assert!(ran >= 2, "the README's check and calibrate examples are run ({ran})");
}
