//! Shared by the end-to-end `watch` tests: start `netsnoop watch --format jsonl
//! --no-capture` on a config, wait for its ready line, read its JSON lines, stop it.
// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use netsnoop_test_support::{lines, recv_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const READY: &str = "netsnoop: running; press Ctrl+C to stop";

/// A running `netsnoop watch`, its start banner and its stdout lines.
pub struct Watch {
    pub dir: tempfile::TempDir,
    pub out: mpsc::Receiver<String>,
    pub banner: Vec<String>,
    child: Child,
}

/// Starts `netsnoop watch --format jsonl --no-capture` with `config` as its config file
/// and returns once it printed its ready line (30 s at most).
pub fn start_watch(config: &str) -> Watch {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("c.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["watch", "--format", "jsonl", "--no-capture", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(&config_path)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let err = lines(child.stderr.take().unwrap());
    let out = lines(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    let ready = recv_until(&err, Duration::from_secs(30), |l| {
        let ready = l == READY;
        if !ready {
            banner.push(l);
        }
        ready.then_some(())
    });
    assert!(ready.is_some(), "no ready line: {banner:#?}");
    Watch {
        dir,
        out,
        banner,
        child,
    }
}

impl Watch {
    /// Sends SIGINT and waits for the exit.
    pub fn stop(mut self) -> ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).unwrap();
        self.child.wait().unwrap()
    }
}
