//! End-to-end: the real proc connector (and the polling fallback) watching real processes,
//! fed into the core process monitor. Needs root.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::Receiver;
use netsnoop_core::process::ProcessMonitor;
use netsnoop_core::process::config::{ProcessConfig, SourceConfig, TableConfig};
use netsnoop_core::{Event, ProcEventKind, ProcessEvent, Record, Stage};
use netsnoop_linux::exec::{ExecMode, ExecSource};
use netsnoop_test_support::{recv_until, require_root};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

fn start(source: SourceConfig) -> (ExecSource, Receiver<Vec<Event>>) {
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let src = ExecSource::start(&source, &TableConfig::default(), tx).expect("source starts");
    (src, rx)
}

/// Receives until `done` says so (it sees every event), or panics after `limit`.
fn collect_until(
    rx: &Receiver<Vec<Event>>,
    limit: Duration,
    mut done: impl FnMut(&[Event]) -> bool,
) -> Vec<Event> {
    let mut all = Vec::new();
    let met = recv_until(rx, limit, |batch: Vec<Event>| {
        all.extend(batch);
        done(&all).then_some(())
    });
    if met.is_some() {
        return all;
    }
    let mut kinds = std::collections::BTreeMap::new();
    for e in &all {
        let k = match e {
            Event::Process(p) => format!("{:?}", p.kind),
            Event::Loss(l) => format!("loss {}", l.reason),
            _ => "other".to_string(),
        };
        *kinds.entry(k).or_insert(0) += 1;
    }
    let lost: Vec<_> = all.iter().filter(|e| matches!(e, Event::Loss(_))).collect();
    eprintln!("losses: {lost:?}");
    panic!(
        "condition not met within {limit:?}; saw {} events: {kinds:?}",
        all.len()
    );
}

fn procs(events: &[Event]) -> impl Iterator<Item = &ProcessEvent> {
    events.iter().filter_map(|e| match e {
        Event::Process(p) => Some(p),
        _ => None,
    })
}

fn execs_with_arg<'a>(events: &'a [Event], arg: &'a str) -> Vec<&'a ProcessEvent> {
    procs(events)
        .filter(|p| p.kind == ProcEventKind::Exec && p.argv.iter().any(|a| a.contains(arg)))
        .collect()
}

fn marker(name: &str) -> String {
    format!("netsnoop-e2e-{name}-{}", std::process::id())
}

#[test]
fn a_burst_from_a_script_is_reported_with_parents_argv_and_the_script_as_instigator() {
    require_root("the proc connector requires CAP_NET_ADMIN");
    let (src, rx) = start(SourceConfig::default());
    assert!(
        matches!(src.mode(), ExecMode::Connector { .. }),
        "{:?}",
        src.mode()
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("burst.sh");
    std::fs::write(&script, "for i in $(seq 12); do sleep 0.5$i & done\nwait\n").unwrap();
    let mut sh = Command::new("/bin/sh").arg(&script).spawn().unwrap();
    let sh_pid = sh.id();
    let events = collect_until(&rx, Duration::from_secs(20), |ev| {
        procs(ev)
            .filter(|p| p.kind == ProcEventKind::Exec && p.ppid == sh_pid && p.comm == "sleep")
            .count()
            >= 12
    });
    assert!(sh.wait().unwrap().success());

    let sleeps_ev: Vec<_> = procs(&events)
        .filter(|p| p.kind == ProcEventKind::Exec && p.ppid == sh_pid && p.comm == "sleep")
        .collect();
    assert_eq!(sleeps_ev.len(), 12, "every child's exec is reported once");
    for e in &sleeps_ev {
        assert!(e.argv_complete, "{e:?}");
        assert_eq!(e.exe.as_deref(), Some("/usr/bin/sleep"));
        assert_eq!(e.ancestry.first().map(|a| a.pid), Some(sh_pid));
        assert_eq!(e.ancestry.get(1).map(|a| a.pid), Some(std::process::id()));
        assert_eq!(e.user.as_deref(), Some("root"));
    }
    let mut sleeps: Vec<String> = procs(&events)
        .filter(|p| p.kind == ProcEventKind::Exec && p.ppid == sh_pid && p.comm == "sleep")
        .map(|p| p.argv.join(" "))
        .collect();
    sleeps.sort();
    let mut want: Vec<String> = (1..=12).map(|i| format!("sleep 0.5{i}")).collect();
    want.sort();
    assert_eq!(sleeps, want, "argv of each child");

    let mut monitor =
        ProcessMonitor::new(ProcessConfig::default()).with_self_pid(std::process::id());
    let mut alerts = Vec::new();
    for e in &events {
        let now = match e {
            Event::Process(p) => p.time,
            Event::Loss(l) => l.time,
            _ => continue,
        };
        for r in monitor.ingest(e, now) {
            if let Record::Alert(a) = r {
                alerts.push(a);
            }
        }
    }
    let burst = alerts
        .iter()
        .find(|a| a.kind == "process.burst" && a.subject.pid == Some(sh_pid))
        .unwrap_or_else(|| panic!("no burst alert for sh {sh_pid}: {alerts:#?}"));
    let inst = &burst.details["instigator"];
    assert_eq!(inst["pid"], sh_pid);
    assert_eq!(inst["why"]["kind"], "script");
    assert_eq!(inst["why"]["detail"], script.to_str().unwrap());
    assert!(burst.message.contains("burst.sh (PID"), "{}", burst.message);
    src.stop();
}

#[test]
fn every_short_lived_exec_is_caught_and_running_processes_are_seeded_not_new() {
    require_root("the proc connector requires CAP_NET_ADMIN");
    let mut sleeper = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let (src, rx) = start(SourceConfig::default());
    let tag = marker("short");
    let n = 200;
    // One shell spawns them all, so its pid tells them apart from other tests' children.
    let script = format!("i=0; while [ $i -lt {n} ]; do /bin/true {tag}-$i; i=$((i+1)); done");
    let mut sh = Command::new("/bin/sh")
        .args(["-c", &script])
        .spawn()
        .unwrap();
    let sh_pid = sh.id();
    assert!(sh.wait().unwrap().success());
    let ours = |ev: &[Event]| {
        procs(ev)
            .filter(|p| p.kind == ProcEventKind::Exec && p.ppid == sh_pid)
            .count()
    };
    let events = collect_until(&rx, Duration::from_secs(20), |ev| ours(ev) >= n);
    assert_eq!(ours(&events), n, "each exec exactly once");
    let seeded: Vec<_> = procs(&events).filter(|p| p.pid == sleeper.id()).collect();
    assert!(!seeded.is_empty(), "the sleeper was seen");
    assert_eq!(seeded[0].kind, ProcEventKind::Existing, "{seeded:?}");
    assert!(
        seeded.iter().all(|p| p.kind == ProcEventKind::Existing),
        "running before start is never reported as new: {seeded:?}"
    );
    let complete: Vec<_> = execs_with_arg(&events, &tag)
        .into_iter()
        .filter(|p| p.ppid == sh_pid)
        .collect();
    assert!(!complete.is_empty(), "at least some argv were read in time");
    assert!(complete.iter().all(|p| p.comm == "true" && p.argv_complete));
    // Other tests' processes in their own network namespaces show up as sequence gaps;
    // whatever was lost must have been reported, never silent.
    let reported: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::Loss(l) => Some(l.count),
            _ => None,
        })
        .sum();
    let c = src.counters();
    assert_eq!((c.overruns, c.lost_queue), (0, 0), "{c:?}");
    assert!(reported <= c.lost(), "{reported} reported, {c:?}");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    src.stop();
}

#[test]
fn a_process_that_drops_to_another_user_and_its_children_carry_that_users_uid() {
    use std::os::unix::process::CommandExt;
    require_root("the proc connector requires CAP_NET_ADMIN");
    let (src, rx) = start(SourceConfig::default());
    let tag = marker("uid");
    // The child drops to nobody (a uid event) before its exec; its own child inherits the
    // uid at fork. Neither uid is read from /proc when the events are all there.
    let status = Command::new("/bin/sh")
        .args(["-c", &format!("/bin/sh -c 'sleep 0.3; :' {tag}; :")])
        .current_dir("/")
        .uid(65534)
        .gid(65534)
        .status()
        .unwrap();
    assert!(status.success());
    let both = |ev: &[Event]| execs_with_arg(ev, &tag).len() >= 2;
    let events = collect_until(&rx, Duration::from_secs(20), both);
    let execs = execs_with_arg(&events, &tag);
    assert_eq!(execs.len(), 2, "{execs:?}");
    assert_eq!(execs[1].ppid, execs[0].pid, "{execs:?}");
    for p in execs {
        assert_eq!(p.uid, Some(65534), "{p:?}");
        assert_eq!(p.user.as_deref(), Some("nobody"), "{p:?}");
    }
    src.stop();
}

#[test]
fn when_the_pipeline_stalls_losses_are_counted_reported_and_followed_by_a_resync() {
    require_root("the proc connector requires CAP_NET_ADMIN");
    let source = SourceConfig {
        receive_buffer_bytes: 4096,
        queue_capacity: 16,
        ..SourceConfig::default()
    };
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(1);
    let paused = Arc::new(AtomicBool::new(false));
    let (fwd_tx, fwd_rx) = crossbeam_channel::unbounded();
    let p = paused.clone();
    let pump = std::thread::spawn(move || {
        while let Ok(batch) = rx.recv() {
            while p.load(SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if fwd_tx.send(batch).is_err() {
                break;
            }
        }
    });
    let src = ExecSource::start(&source, &TableConfig::default(), tx).unwrap();
    // The pipeline stops reading while 300 processes run: the enricher blocks, the queue
    // and the 4 KiB socket buffer overflow.
    paused.store(true, SeqCst);
    for _ in 0..300 {
        Command::new("/bin/true").status().unwrap();
    }
    paused.store(false, SeqCst);
    let events = collect_until(&fwd_rx, Duration::from_secs(20), |ev| {
        ev.iter()
            .any(|e| matches!(e, Event::Loss(l) if l.count > 0 && l.source == "proc_connector"))
            && src.counters().resyncs > 0
    });
    let lost: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::Loss(l) => Some(l.count),
            _ => None,
        })
        .sum();
    let c = src.counters();
    assert!(lost > 0 && c.lost() > 0, "{c:?}");
    let mut monitor = ProcessMonitor::new(ProcessConfig::default());
    let alerts: Vec<_> = events
        .iter()
        .flat_map(|e| monitor.ingest(e, netsnoop_core::Ts::from_secs(1)))
        .collect();
    assert!(
        alerts
            .iter()
            .any(|r| matches!(r, Record::Alert(a) if a.kind == "process.events_lost")),
        "{alerts:#?}"
    );
    src.stop();
    pump.join().unwrap();
}

#[test]
fn without_the_connector_polling_reports_new_processes_and_counts_what_it_missed() {
    require_root("the proc connector requires CAP_NET_ADMIN");
    let source = SourceConfig {
        force_polling: true,
        poll_interval_ms: 100,
        ..SourceConfig::default()
    };
    let (src, rx) = start(source);
    assert!(matches!(src.mode(), ExecMode::Polling { .. }));
    let tag = marker("poll");
    let mut long = Command::new("/bin/sh")
        .args(["-c", "sleep 2; true", &tag])
        .spawn()
        .unwrap();
    for _ in 0..100 {
        Command::new("/bin/true").status().unwrap();
    }
    let events = collect_until(&rx, Duration::from_secs(20), |ev| {
        !execs_with_arg(ev, &tag).is_empty()
            && ev
                .iter()
                .any(|e| matches!(e, Event::Loss(l) if l.source == "proc_poll"))
    });
    let e = execs_with_arg(&events, &tag)[0];
    assert_eq!(e.ppid, std::process::id());
    assert!(
        src.counters().missed_by_polling >= 50,
        "{:?}",
        src.counters()
    );
    long.kill().unwrap();
    long.wait().unwrap();
    src.stop();
}
