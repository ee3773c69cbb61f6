//! Records the commit being built (NETSNOOP_COMMIT) and the build date (NETSNOOP_BUILD_DATE)
//! for `netsnoop_build_info` and `netsnoop --version`, the one place both are read.
//!
//! A build outside git (a source tarball) sets NETSNOOP_COMMIT itself, or gets "unknown".
//! The date honours SOURCE_DATE_EPOCH, so a packaged build is reproducible.

use std::process::Command;

/// The command's trimmed stdout, when it ran and succeeded.
fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=NETSNOOP_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A commit (or checkout) moves HEAD's reflog: rebuild then.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(p) = run("git", &["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    let commit = std::env::var("NETSNOOP_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let date = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => run("date", &["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%d"]),
        Err(_) => run("date", &["-u", "+%Y-%m-%d"]),
    }
    .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=NETSNOOP_COMMIT={commit}");
    println!("cargo:rustc-env=NETSNOOP_BUILD_DATE={date}");
}
