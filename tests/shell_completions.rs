//! `costgate completions SHELL` and `costgate man`: generated from the clap
//! definitions, so they name every subcommand `costgate --help` lists; the
//! bash script parses (`bash -n`), the man pages are roff with a `.TH`
//! header, and where groff is installed they format without a warning.

#[path = "support/cmd.rs"]
mod cmd;

use std::process::Command as Process;

fn costgate(args: &[&str]) -> std::process::Output {
    cmd::costgate_on("2026-11-28").args(args).output().unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = costgate(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands `costgate --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let list = help.split("Commands:").nth(1).expect("a Commands: section");
    let names: Vec<String> = list
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // a name starts at column 2; wrapped descriptions are indented deeper
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect();
    for must in ["check", "report", "approve", "completions", "man"] {
        assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
    }
    names
}

#[test]
fn bash_completion_parses_and_names_every_subcommand() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("costgate.bash");
    std::fs::write(&file, &script).unwrap();
    let n = Process::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(n.status.success(), "bash -n: {}", String::from_utf8_lossy(&n.stderr));
    assert!(script.contains("complete -F _costgate"), "the script registers itself");
    for s in subcommands() {
        assert!(
            script.contains(&format!("costgate__subcmd__{}", s.replace('-', "__"))),
            "{s} is completed"
        );
    }
    // it completes flags and their values too
    assert!(script.contains("--format") && script.contains("gitlab"));
    // sourced in a real bash, it registers the completion
    let probe = Process::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p costgate", file.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&probe.stdout).contains("_costgate"),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
}

#[test]
fn every_shell_gets_a_script_with_every_subcommand() {
    let names = subcommands();
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for s in &names {
            assert!(script.contains(s.as_str()), "{shell}: {s}");
        }
    }
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef costgate"));
    assert!(stdout_of(&["completions", "fish"]).contains("complete -c costgate"));
    assert!(stdout_of(&["completions", "powershell"]).contains("Register-ArgumentCompleter"));
    // an unknown shell is a usage error
    assert_eq!(costgate(&["completions", "tcsh"]).status.code(), Some(64));
}

#[test]
fn the_man_page_names_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH costgate 1"));
    assert!(page.contains(".SH SUBCOMMANDS"));
    for s in subcommands() {
        assert!(
            page.contains(&format!("costgate\\-{}(1)", s.replace('-', "\\-"))),
            "{s} in the page"
        );
    }
    // one subcommand's page, with its flags
    let check = stdout_of(&["man", "check"]);
    assert!(
        check.contains(".TH costgate\\-check 1") || check.contains(".TH costgate-check 1"),
        "{}",
        &check[..300]
    );
    assert!(check.contains("costgate check"), "the synopsis reads `costgate check`");
    assert!(check.contains("gitlab"));
    assert!(check.contains("\\-\\-trials"));
    // an unknown page is a usage error that lists the pages
    let bad = costgate(&["man", "nope"]);
    assert_eq!(bad.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("check"));
}

#[test]
fn man_writes_a_file_or_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("costgate.1");
    assert!(costgate(&["man", "-o", one.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_to_string(&one).unwrap(), stdout_of(&["man"]));
    let all = dir.path().join("man1");
    assert!(costgate(&["man", "--dir", all.to_str().unwrap()]).status.success());
    let mut pages: Vec<String> = std::fs::read_dir(&all)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    let mut want: Vec<String> = subcommands().iter().map(|s| format!("costgate-{s}.1")).collect();
    want.push("costgate.1".into());
    want.sort();
    assert_eq!(pages, want);
    // the hidden benchmark has no page
    assert!(!all.join("costgate-bench.1").exists());
}

#[test]
fn groff_formats_the_pages_without_a_warning() {
    // groff is not a dependency of the suite: where it is missing, the
    // structural tests above are what holds.
    if Process::new("groff").arg("--version").output().is_err() {
        eprintln!("groff not installed: skipped");
        return;
    }
    for args in [&["man"][..], &["man", "check"][..]] {
        let page = stdout_of(args);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page.1");
        std::fs::write(&file, &page).unwrap();
        let out = Process::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-rLL=100n", "-P-cbu"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().is_empty(), "groff warns: {stderr}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
    }
}

/// A folder for the pages that cannot be made (a file is in the way) is a
/// clear error, exit 73, and nothing is written.
#[test]
fn man_dir_that_cannot_be_made_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "mine\n").unwrap();
    let at = file.join("man1");
    let out = costgate(&["man", "--dir", at.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(73), "{err}");
    assert!(err.contains("cannot create") && err.contains("man1"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
}
