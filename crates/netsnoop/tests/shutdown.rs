//! End to end: `netsnoop run --no-capture` starts, and SIGINT or SIGTERM ends it cleanly —
//! exit code 0 within 2 s and the session end marker in netsnoop.log.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::KillOnDrop;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const READY: &str = "netsnoop: running; press Ctrl+C to stop";

fn start(dir: &std::path::Path, command: &str) -> (KillOnDrop, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args([command, "--no-capture", "--data-dir"])
        .arg(dir)
        // `run` serves the API: port 0, so parallel tests never collide on 8000.
        .args(if command == "run" {
            &["--listen", "127.0.0.1:0"][..]
        } else {
            &[]
        })
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let rx = netsnoop_test_support::lines(child.stderr.take().unwrap());
    (KillOnDrop(child), rx)
}

/// Collects stderr until the ready line; fails after 20 s (a cold, busy machine).
fn wait_ready(rx: &mpsc::Receiver<String>) -> Vec<String> {
    let mut lines = Vec::new();
    let ready = netsnoop_test_support::recv_until(rx, Duration::from_secs(20), |line| {
        (line == READY).then_some(()).or_else(|| {
            lines.push(line);
            None
        })
    });
    assert!(ready.is_some(), "no ready line; stderr so far: {lines:#?}");
    lines
}

fn stops_cleanly_on(signal: Signal, command: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, rx) = start(dir.path(), command);
    let banner = wait_ready(&rx).join("\n");
    assert!(
        banner.contains("c.toml (not found: using the defaults"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("data:     {}", dir.path().display())),
        "{banner}"
    );
    assert!(banner.contains("capture:  off"), "{banner}");
    let sinks = if command == "run" {
        "sinks:    log files, store (sqlite), terminal"
    } else {
        "sinks:    log files, terminal"
    };
    assert!(banner.contains(sinks), "{banner}");
    assert!(banner.contains("stages:   process"), "{banner}");

    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = netsnoop_test_support::wait_for(
        Duration::from_secs(2),
        format_args!("netsnoop to exit after {signal}"),
        || child.0.try_wait().unwrap(),
    );
    assert_eq!(status.code(), Some(0), "exit status after {signal}");

    let log = std::fs::read_to_string(dir.path().join("netsnoop.log")).unwrap();
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("===== session end ") && last.contains(&format!("— {signal};")),
        "end marker missing: {log}"
    );
    assert!(log.contains("===== session start "), "{log}");
    // The header is there; rows depend on what else the machine does meanwhile (a busy
    // CI box can raise system CPU or load alerts within the run).
    let csv = std::fs::read_to_string(dir.path().join("anomalies.csv")).unwrap();
    assert!(
        csv.starts_with("timestamp,process_name,pid,reason,severity,user,command\n"),
        "{csv}"
    );
}

#[test]
fn run_stops_cleanly_on_sigint() {
    stops_cleanly_on(Signal::SIGINT, "run");
}

#[test]
fn run_stops_cleanly_on_sigterm() {
    stops_cleanly_on(Signal::SIGTERM, "run");
}

#[test]
fn watch_stops_cleanly_on_sigint() {
    stops_cleanly_on(Signal::SIGINT, "watch");
}
