//! End to end: what packagers ship from the binary itself — `--version` with commit, date
//! and build features, shell completions that a real shell runs, man pages groff accepts.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use clap::CommandFactory;
use std::process::Stdio;

const COMMANDS: [&str; 9] = [
    "init",
    "run",
    "watch",
    "analyze",
    "serve",
    "alerts",
    "agent",
    "completions",
    "man",
];

fn netsnoop(args: &[&str]) -> String {
    let out = Command::cargo_bin("netsnoop")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_names_the_commit_the_build_date_and_what_was_compiled_in() {
    let v = netsnoop(&["--version"]);
    let mut lines = v.lines();
    assert_eq!(
        lines.next(),
        Some(format!("netsnoop {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let commit = lines.next().unwrap();
    let hash = commit
        .strip_prefix("commit:")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{v}"
    );
    assert!(commit.contains("(built 20"), "{v}");
    assert!(
        v.contains("exec sources: ebpf, netlink proc connector, /proc polling"),
        "this build has clang, so the eBPF source is compiled in: {v}"
    );
    assert!(v.contains("stores:"), "{v}");
}

#[test]
fn bash_completion_completes_every_command_and_a_commands_flags() {
    let script = netsnoop(&["completions", "bash"]);
    let complete = |line: &str, word: usize| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "{script}\nCOMP_WORDS=({}); COMP_CWORD={word}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _netsnoop netsnoop; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &program])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = complete("netsnoop ", 1);
    for c in COMMANDS {
        assert!(commands.lines().any(|l| l == c), "{c} missing: {commands}");
    }
    let flags = complete("netsnoop run --", 2);
    for f in ["--interface", "--no-capture", "--listen", "--config"] {
        assert!(flags.lines().any(|l| l == f), "{f} missing: {flags}");
    }
}

#[test]
fn zsh_and_fish_completions_name_every_command() {
    for shell in ["zsh", "fish"] {
        let script = netsnoop(&["completions", shell]);
        for c in COMMANDS {
            assert!(script.contains(c), "{shell}: {c} missing");
        }
    }
}

#[test]
fn man_pages_exist_for_every_command_and_groff_renders_them_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    netsnoop(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    // One page for the program and one for every command and subcommand it has.
    fn pages_of(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands() {
            let name = format!("{prefix}-{}", sub.get_name());
            out.push(format!("{name}.1"));
            pages_of(sub, &name, out);
        }
    }
    let mut want = vec!["netsnoop.1".to_string()];
    pages_of(&netsnoop::cli::Cli::command(), "netsnoop", &mut want);
    want.sort();
    for c in COMMANDS {
        assert!(want.contains(&format!("netsnoop-{c}.1")), "{c}");
    }
    assert_eq!(pages, want);
    for page in &pages {
        let out = std::process::Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(dir.path().join(page))
            .output()
            .expect("groff renders man pages (Debian's groff-base, which man-db needs)");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let printed = netsnoop(&["man"]);
    assert!(printed.contains(".TH netsnoop 1"), "{printed}");
    assert!(printed.contains("netsnoop\\-run(1)"), "{printed}");
}
