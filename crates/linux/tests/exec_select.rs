//! End-to-end: choosing the exec source. Forcing `netlink` or `poll` runs that real source
//! (the fallback path where eBPF is unavailable); `auto` takes eBPF when this build has it.
//! Needs root (proc connector, eBPF); fails, never skips, without it.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::{Receiver, bounded};
use netsnoop_core::process::config::{SourceConfig, TableConfig};
use netsnoop_core::{Event, ProcEventKind};
use netsnoop_linux::exec::ebpf::unavailable_at_build;
use netsnoop_linux::exec::{
    ExecSourceChoice, ExecSourceKind, RunningExecSource, Selected, start_exec_source,
};
use netsnoop_test_support::recv_until;
use std::process::{Child, Command};
use std::time::Duration;

fn start(
    choice: ExecSourceChoice,
    source: SourceConfig,
) -> (Selected<RunningExecSource>, Receiver<Vec<Event>>) {
    netsnoop_test_support::require_root("proc connector, eBPF");
    let (tx, rx) = bounded(4096);
    let source = SourceConfig {
        exec_source: choice,
        ..source
    };
    let selected =
        start_exec_source(&source, &TableConfig::default(), &tx).unwrap_or_else(|e| panic!("{e}"));
    (selected, rx)
}

/// A process that lives long enough for every source, /proc polling included, to see it;
/// the `; true` keeps the shell from replacing itself with sleep.
fn lingering(tag: &str) -> Child {
    Command::new("/bin/sh")
        .args(["-c", "sleep 2; true", tag])
        .spawn()
        .expect("run sh")
}

/// Waits for the exec of `pid` (or, with `polling`, its first sighting) and returns its argv.
fn argv_of(rx: &Receiver<Vec<Event>>, pid: u32, polling: bool) -> Vec<String> {
    // A poller that starts after the child sees it in its start-up scan.
    let seen = |k| k == ProcEventKind::Exec || (polling && k == ProcEventKind::Existing);
    recv_until(rx, Duration::from_secs(10), |batch: Vec<Event>| {
        batch.into_iter().find_map(|ev| match ev {
            Event::Process(p) if p.pid == pid && seen(p.kind) && !p.argv.is_empty() => Some(p.argv),
            _ => None,
        })
    })
    .unwrap_or_else(|| panic!("no exec event for pid {pid} within 10 s"))
}

#[test]
fn forcing_netlink_runs_the_proc_connector_and_says_ebpf_was_not_tried() {
    let (selected, rx) = start(ExecSourceChoice::Netlink, SourceConfig::default());
    assert_eq!(selected.kind, ExecSourceKind::Netlink);
    assert!(matches!(selected.source, RunningExecSource::Proc(_)));
    assert_eq!(selected.passed_over.len(), 1);
    assert_eq!(selected.passed_over[0].source, ExecSourceKind::Ebpf);
    let tag = format!("netsnoop-select-netlink-{}", std::process::id());
    let mut child = lingering(&tag);
    assert_eq!(
        argv_of(&rx, child.id(), false),
        ["/bin/sh", "-c", "sleep 2; true", tag.as_str()]
    );
    child.kill().ok();
    child.wait().ok();
    assert!(selected.source.counters().execs > 0);
}

#[test]
fn forcing_poll_runs_the_proc_poller_and_finds_a_running_process() {
    let source = SourceConfig {
        poll_interval_ms: 100,
        ..SourceConfig::default()
    };
    let (selected, rx) = start(ExecSourceChoice::Poll, source);
    assert_eq!(selected.kind, ExecSourceKind::Poll);
    let not_tried: Vec<_> = selected.passed_over.iter().map(|p| p.source).collect();
    assert_eq!(not_tried, [ExecSourceKind::Ebpf, ExecSourceKind::Netlink]);
    assert!(
        selected
            .summary()
            .starts_with("exec source: poll (not used: ebpf: not tried")
    );
    let tag = format!("netsnoop-select-poll-{}", std::process::id());
    let mut child = lingering(&tag);
    assert_eq!(
        argv_of(&rx, child.id(), true),
        ["/bin/sh", "-c", "sleep 2; true", tag.as_str()]
    );
    child.kill().ok();
    child.wait().ok();
}

#[test]
fn auto_takes_ebpf_when_built_with_it_and_otherwise_says_why_not() {
    let (selected, rx) = start(ExecSourceChoice::Auto, SourceConfig::default());
    match unavailable_at_build() {
        None => {
            assert_eq!(
                selected.kind,
                ExecSourceKind::Ebpf,
                "{}",
                selected.summary()
            );
            assert!(selected.passed_over.is_empty());
        }
        Some(reason) => {
            assert_eq!(selected.kind, ExecSourceKind::Netlink);
            let why = &selected.passed_over[0];
            assert_eq!(why.source, ExecSourceKind::Ebpf);
            assert!(reason.to_string().ends_with(&why.reason), "{}", why.reason);
        }
    }
    let tag = format!("netsnoop-select-auto-{}", std::process::id());
    let mut child = lingering(&tag);
    assert_eq!(
        argv_of(&rx, child.id(), false),
        ["/bin/sh", "-c", "sleep 2; true", tag.as_str()]
    );
    child.kill().ok();
    child.wait().ok();
}
