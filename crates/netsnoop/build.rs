//! Records the git commit and the build date for `netsnoop --version`.
//!
//! A build outside a git checkout (a source tarball) sets NETSNOOP_GIT_COMMIT itself, or
//! gets "unknown". The date honours SOURCE_DATE_EPOCH, so a packaged build is reproducible.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=NETSNOOP_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = std::env::var("NETSNOOP_GIT_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    // A new commit or a branch switch moves HEAD or the ref it names: build again then.
    if let Some(head) = git(&["rev-parse", "--path-format=absolute", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(name) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name])
    {
        println!("cargo:rerun-if-changed={file}");
    }
    let date = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => run("date", &["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%d"]),
        Err(_) => run("date", &["-u", "+%Y-%m-%d"]),
    }
    .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=NETSNOOP_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=NETSNOOP_BUILD_DATE={date}");
}

fn git(args: &[&str]) -> Option<String> {
    run("git", args)
}

/// The command's trimmed stdout, when it ran and succeeded.
fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
