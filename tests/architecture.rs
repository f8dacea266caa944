//! The module graph runs one way (docs/architecture.md): a module may use
//! modules of its own layer or below, never above. This reads every
//! `crate::...` path in src/ (comments and `#[cfg(test)]` modules aside) and
//! fails on an import that goes up, and on a module missing from the table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module is a top-level module of the library
/// (`spec`) or a submodule given by its path (`report::model`): a path
/// belongs to the longest entry it starts with. To add a module, put it in
/// the lowest layer whose modules cover everything it uses, and give it a
/// sentence in docs/architecture.md.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["untrusted", "source", "fsutil", "dist", "fmt"]),
    ("input", &["input", "http", "logs"]),
    ("spec", &["spec", "signers"]),
    ("pricing", &["pricing"]),
    ("economics", &["economics", "calibrate", "runtime"]),
    ("sim", &["sim"]),
    ("policy", &["policy", "schema"]),
    ("approval", &["approval"]),
    ("report model", &["outcome"]),
    ("portfolio", &["portfolio"]),
    ("report", &["report"]),
    ("diff", &["diff"]),
    ("check", &["check", "gitref", "github", "tune"]),
    ("cli", &["cli"]),
];

/// Upward imports that are known and owed, each with why. An entry that no
/// longer matches anything fails the test, so that it is removed.
/// Empty: the last one (spec decoding used `sim::limits`) went when the
/// limits and the engine's sizes moved to `spec::limits`.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// The table entry a `crate::` path (`a::b::c`) falls in: the longest
/// entry that is a prefix of it, by segments.
fn module_of(path: &str) -> Option<&'static str> {
    LAYERS
        .iter()
        .flat_map(|(_, ms)| ms.iter().copied())
        .filter(|m| path == *m || path.starts_with(&format!("{m}::")))
        .max_by_key(|m| m.len())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file (`src/report/html.rs` -> `report::html`);
/// the binary's files (`main.rs`, `cli/`) are `cli`.
fn file_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    match parts.first().map(String::as_str) {
        Some("main" | "cli") => "cli".into(),
        _ => parts
            .iter()
            .filter(|p| *p != "mod")
            .cloned()
            .collect::<Vec<_>>()
            .join("::"),
    }
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a file reaches through `crate::` (or `costgate::` in the
/// binary), with `use crate::{a, b::c}` groups expanded to their heads.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for root in ["crate::", "costgate::"] {
        let mut rest = code;
        while let Some(i) = rest.find(root) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // Top-level items of the group, separated by commas at depth 0.
                let mut depth = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.push(std::mem::take(&mut item));
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                out.push(item);
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                out.push(rest[..end].to_string());
            }
        }
    }
    out.into_iter()
        .map(|p| {
            p.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .trim_end_matches(':')
                .to_string()
        })
        .filter(|p| !p.is_empty() && p != "self")
        .collect()
}

#[test]
fn no_module_imports_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unknown = BTreeSet::new();
    let mut upward = Vec::new();
    let mut used_exceptions = BTreeSet::new();
    for file in &files {
        let me = file_module(&src, file);
        if me == "lib" {
            continue;
        }
        let Some(from) = module_of(&me) else {
            unknown.insert(me.split("::").next().unwrap().to_string());
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&code(&text)) {
            let Some(to) = module_of(&path) else {
                unknown.insert(path.split("::").next().unwrap().to_string());
                continue;
            };
            let (lf, lt) = (layer_of(from).unwrap(), layer_of(to).unwrap());
            if lt <= lf {
                continue;
            }
            if let Some(e) = EXCEPTIONS.iter().position(|(f, t, _)| *f == from && *t == to) {
                used_exceptions.insert(e);
                continue;
            }
            upward.push(format!(
                "{}: `{from}` ({}) uses `crate::{path}` (`{to}`, {}), a higher layer",
                file.strip_prefix(&src).unwrap().display(),
                LAYERS[lf].0,
                LAYERS[lt].0
            ));
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from the layer table: {unknown:?}; add each to LAYERS in tests/architecture.rs (and a sentence in docs/architecture.md)"
    );
    assert!(
        upward.is_empty(),
        "imports against the layering:\n{}",
        upward.join("\n")
    );
    let stale: Vec<_> = (0..EXCEPTIONS.len())
        .filter(|i| !used_exceptions.contains(i))
        .map(|i| EXCEPTIONS[i])
        .collect();
    assert!(
        stale.is_empty(),
        "exceptions no longer needed, remove them from EXCEPTIONS in tests/architecture.rs: {stale:?}"
    );
}

#[test]
fn every_module_of_the_table_is_described_in_the_architecture_doc() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md")).unwrap();
    let missing: Vec<&str> = LAYERS
        .iter()
        .flat_map(|(_, ms)| ms.iter().copied())
        .filter(|m| *m != "fmt" || Path::new(env!("CARGO_MANIFEST_DIR")).join("src/fmt.rs").exists())
        .filter(|m| !doc.contains(&format!("`{m}`")))
        .collect();
    assert!(missing.is_empty(), "docs/architecture.md does not describe {missing:?}");
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    let paths = crate_paths(&code(
        "use crate::{spec::{self, Spec}, pricing::Catalog};\n// crate::cli in a comment\nlet x = crate::sim::run();\nnotcrate::x();",
    ));
    assert_eq!(
        paths,
        ["spec::", "pricing::Catalog", "sim::run"].map(|p| p.trim_end_matches(':'))
    );
    assert_eq!(module_of("report::html::render"), Some("report"));
    assert_eq!(module_of("reporting"), None);
}

/// Two bare booleans in a row read as `f(true, false)` at the call site:
/// such a function takes an enum or a small options struct instead.
#[test]
fn no_function_takes_two_bare_booleans() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("fn ") {
            rest = &rest[i + 3..];
            let Some(open) = rest.find('(') else { break };
            let name = rest[..open].split('<').next().unwrap_or("").trim().to_string();
            let Some(close) = rest[open..].find(')') else { break };
            let params = &rest[open + 1..open + close];
            let bools = params.split(',').filter(|p| p.trim().ends_with(": bool")).count();
            if bools >= 2 {
                found.push(format!("{}: fn {name}", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(found.is_empty(), "functions with two bool parameters: {found:?}");
}
