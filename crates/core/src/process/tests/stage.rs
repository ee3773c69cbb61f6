//! Process monitor stage tests: bursts, spawn rate, loss episodes, on scripted events.

use super::*;
use crate::event::Loss;
use crate::process::config::ProcessConfig;
use crate::process::stage::ProcessMonitor;
use crate::{Alert, AlertState, Record, Severity, Stage};

fn monitor() -> ProcessMonitor {
    let mut m = ProcessMonitor::new(ProcessConfig::default());
    for e in host() {
        assert!(m.ingest(&process(e), at(0.0)).is_empty());
    }
    m
}

fn alerts(records: Vec<Record>) -> Vec<Alert> {
    records
        .into_iter()
        .map(|r| match r {
            Record::Alert(a) => a,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// `n` children forked by `ppid`, one every `gap` seconds from `start`, pids from `first`.
fn spawn(
    m: &mut ProcessMonitor,
    ppid: u32,
    first: u32,
    n: u32,
    start: f64,
    gap: f64,
) -> Vec<Alert> {
    let mut out = Vec::new();
    for i in 0..n {
        let now = at(start + gap * i as f64);
        out.extend(alerts(m.ingest(&process(fork(first + i, ppid)), now)));
        let e = exec(
            first + i,
            ppid,
            0,
            "/usr/bin/true",
            &["true", &i.to_string()],
        );
        out.extend(alerts(m.ingest(&process(e), now)));
    }
    out
}

fn script(m: &mut ProcessMonitor, pid: u32, argv: &[&str]) {
    m.ingest(&process(fork(pid, 900)), at(1.0));
    m.ingest(
        &process(exec(pid, 900, 300, "/usr/bin/bash", argv)),
        at(1.0),
    );
}

#[test]
fn more_than_eight_children_in_three_seconds_open_one_burst_naming_the_script() {
    let mut m = monitor();
    script(&mut m, 1000, &["bash", "burst.sh"]);
    let got = spawn(&mut m, 1000, 2000, 12, 2.0, 0.1);
    assert_eq!(
        got.len(),
        1,
        "opened once, updates throttled to 1/s: {got:#?}"
    );
    let a = &got[0];
    assert_eq!(
        (a.kind.as_str(), a.severity),
        ("process.burst", Severity::Medium)
    );
    assert_eq!(a.first_seen, at(2.8), "the ninth child opens it");
    assert_eq!(a.subject.pid, Some(1000));
    assert_eq!(
        a.message,
        "PID 1000 (bash) → 9 spawns in 3s — instigator: bash burst.sh (PID 1000) ← bash ← sshd"
    );
    insta::assert_json_snapshot!("burst_alert", a);
}

#[test]
fn eight_children_in_the_window_are_not_a_burst() {
    let mut m = monitor();
    script(&mut m, 1000, &["bash", "burst.sh"]);
    assert!(spawn(&mut m, 1000, 2000, 8, 2.0, 0.1).is_empty());
    assert!(
        spawn(&mut m, 1000, 3000, 8, 10.0, 0.38).is_empty(),
        "9 in 3.04 s"
    );
}

#[test]
fn an_episode_is_updated_while_it_lasts_and_turns_high_above_fifteen() {
    let mut m = monitor();
    script(
        &mut m,
        1000,
        &["bash", "-c", "for i in $(seq 40); do true; done"],
    );
    let got = spawn(&mut m, 1000, 2000, 40, 2.0, 0.1);
    assert!(got.len() >= 3, "{got:#?}");
    assert!(got.iter().all(|a| a.id == got[0].id && a.is_active()));
    assert_eq!(got[0].severity, Severity::Medium);
    assert_eq!(got.last().unwrap().severity, Severity::High);
    assert_eq!(got.last().unwrap().details["peak"], 30);
}

#[test]
fn within_the_cooldown_a_new_burst_of_the_same_parent_updates_the_same_episode() {
    let mut m = monitor();
    script(&mut m, 1000, &["bash", "burst.sh"]);
    let first = spawn(&mut m, 1000, 2000, 10, 2.0, 0.1);
    assert!(
        alerts(m.tick(at(31.0))).is_empty(),
        "29 s quiet: still open"
    );
    let second = spawn(&mut m, 1000, 3000, 10, 31.0, 0.1);
    assert_eq!(second[0].id, first[0].id);
    let done = alerts(m.tick(at(61.9)));
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].id.as_str(), done[0].state),
        (first[0].id.as_str(), AlertState::Resolved)
    );
    let third = spawn(&mut m, 1000, 4000, 10, 70.0, 0.1);
    assert_ne!(
        third[0].id, first[0].id,
        "after the cooldown a new episode opens"
    );
}

#[test]
fn children_of_safe_parents_never_make_a_burst_but_shells_do() {
    let mut m = monitor();
    m.ingest(
        &process(existing(
            600,
            1,
            90,
            "/usr/sbin/cron",
            &["/usr/sbin/cron", "-f"],
        )),
        at(0.0),
    );
    assert!(spawn(&mut m, 600, 2000, 20, 2.0, 0.05).is_empty());
    assert!(
        spawn(&mut m, 1, 3000, 20, 2.0, 0.05).is_empty(),
        "systemd is safe"
    );
    assert_eq!(m.counters().safe_parent_children, 40);
    let got = spawn(&mut m, 900, 4000, 9, 2.0, 0.05);
    assert_eq!(got.len(), 1, "the login shell is not safe");
}

#[test]
fn processes_already_running_at_start_never_count_towards_a_burst() {
    let mut m = monitor();
    for pid in 2000..2100 {
        let e = existing(pid, 900, 150, "/usr/bin/sleep", &["sleep", "100"]);
        assert!(m.ingest(&process(e), at(0.5)).is_empty());
    }
    assert_eq!(m.counters().new_processes, 0);
    assert_eq!(m.counters().seeded, 103);
    assert!(alerts(m.tick(at(1.0))).is_empty());
}

#[test]
fn children_of_a_reused_parent_pid_are_counted_for_the_new_process_only() {
    let mut m = monitor();
    script(&mut m, 1000, &["bash", "a.sh"]);
    assert!(spawn(&mut m, 1000, 2000, 6, 2.0, 0.1).is_empty());
    m.ingest(&process(exit(1000)), at(2.7));
    m.ingest(&process(fork(1000, 900)), at(2.8));
    m.ingest(
        &process(exec(1000, 900, 400, "/usr/bin/bash", &["bash", "b.sh"])),
        at(2.8),
    );
    assert!(
        spawn(&mut m, 1000, 3000, 6, 2.9, 0.05).is_empty(),
        "6 + 6 under two processes"
    );
}

#[test]
fn loss_episodes_that_end_together_resolve_in_source_order() {
    let mut m = monitor();
    let sources: Vec<String> = (0..12).map(|i| format!("proc_src{i:02}")).collect();
    for s in sources.iter().rev() {
        let loss = Event::Loss(Loss {
            host: None,
            time: at(10.0),
            source: s.clone(),
            count: 1,
            reason: "test".into(),
        });
        assert_eq!(alerts(m.ingest(&loss, at(10.0))).len(), 1);
    }
    let resolved: Vec<String> = alerts(m.tick(at(60.0)))
        .into_iter()
        .map(|a| a.details["source"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(resolved, sources);
}

#[test]
fn lost_events_raise_one_alert_with_the_count_and_resolve_when_quiet() {
    let mut m = monitor();
    let loss = |count, secs| {
        Event::Loss(Loss {
            host: None,
            time: at(secs),
            source: "proc_connector".into(),
            count,
            reason: "kernel receive buffer overrun (ENOBUFS)".into(),
        })
    };
    let got = alerts(m.ingest(&loss(37, 10.0), at(10.0)));
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].kind.as_str(), got[0].severity),
        ("process.events_lost", Severity::High)
    );
    assert_eq!(got[0].details["count"], 37);
    assert!(
        alerts(m.ingest(&loss(3, 12.0), at(12.0))).is_empty(),
        "throttled, still counted"
    );
    assert!(alerts(m.tick(at(30.0))).is_empty());
    let done = alerts(m.tick(at(42.0)));
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].id.as_str(), done[0].state),
        (got[0].id.as_str(), AlertState::Resolved)
    );
    assert_eq!(done[0].details["count"], 40);
    assert_eq!(m.counters().events_lost, 40);
}

#[test]
fn a_system_wide_fork_rate_above_the_threshold_raises_the_spawn_rate_alert() {
    let mut m = monitor();
    assert!(
        spawn(&mut m, 1, 2000, 400, 10.0, 0.01).is_empty(),
        "80 forks/s over 5 s"
    );
    let got: Vec<Alert> = spawn(&mut m, 1, 3000, 200, 14.0, 0.005)
        .into_iter()
        .filter(|a| a.kind == "process.spawn_rate")
        .collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].message.starts_with("process Δ: 1"),
        "{}",
        got[0].message
    );
    assert!(
        alerts(m.tick(at(30.0))).is_empty(),
        "still within the cooldown"
    );
    let done = alerts(m.tick(at(45.0)));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].state, AlertState::Resolved);
}

#[test]
fn forks_a_poller_missed_still_count_towards_the_spawn_rate() {
    let mut m = monitor();
    let loss = Event::Loss(Loss {
        host: None,
        time: at(5.0),
        source: "proc_poll".into(),
        count: 900,
        reason: "processes started and exited between scans".into(),
    });
    let got = alerts(m.ingest(&loss, at(5.0)));
    let kinds: Vec<_> = got.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["process.spawn_rate", "process.events_lost"]);
    assert_eq!(got[1].severity, Severity::Medium);
}

#[test]
fn children_of_a_parent_never_seen_still_make_a_burst() {
    let mut m = ProcessMonitor::new(ProcessConfig::default());
    let got = spawn(&mut m, 777, 2000, 9, 1.0, 0.1);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].subject.pid, Some(777));
}
