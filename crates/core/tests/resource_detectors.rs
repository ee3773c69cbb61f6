//! Resource detectors driven by scripted samples at fixed times: every level, sustained
//! versus immediate onsets, cooldowns, hysteresis, resolution and grouping.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_core::resource::{
    LoadDetector, MemoryDetector, ProcessCpuDetector, ResourceConfig, SystemCpuDetector,
};
use netsnoop_core::{
    Alert, AlertState, Event, ProcSample, Record, ResourceSample, Severity, Stage, SystemSample, Ts,
};

const MB: u64 = 1024 * 1024;

fn proc(pid: u32, comm: &str, cpu: f64, rss_mb: u64) -> ProcSample {
    ProcSample {
        pid,
        start_ticks: 1000 + pid as u64,
        ppid: 1,
        comm: comm.to_string(),
        user: Some("ana".to_string()),
        cmdline: format!("{comm} intensive_task.py"),
        cpu_pct: cpu,
        rss_bytes: rss_mb * MB,
    }
}

fn system(t: i64, cpu: f64) -> SystemSample {
    SystemSample {
        time: Ts::from_secs(t),
        cpu_pct: cpu,
        per_core_pct: vec![cpu, cpu],
        mem_total: 1000 * MB,
        mem_used: 400 * MB,
        mem_available: 600 * MB,
        load1: 0.5,
        load5: 0.4,
        load15: 0.3,
        ..SystemSample::default()
    }
}

fn event(system: SystemSample, processes: Vec<ProcSample>) -> Event {
    Event::Resources(ResourceSample {
        host: None,
        system,
        processes,
    })
}

/// Feeds one sample per second from t=0 and collects (time, alert) pairs.
fn drive(stage: &mut dyn Stage, samples: impl IntoIterator<Item = Event>) -> Vec<(i64, Alert)> {
    let mut out = Vec::new();
    for (t, ev) in samples.into_iter().enumerate() {
        let now = Ts::from_secs(t as i64);
        for r in stage.ingest(&ev, now) {
            if let Record::Alert(a) = r {
                out.push((t as i64, a));
            }
        }
    }
    out
}

/// A process's CPU over time: one sample per second, value per second.
fn cpu_script(values: &[f64]) -> Vec<Event> {
    values
        .iter()
        .enumerate()
        .map(|(t, v)| event(system(t as i64, 10.0), vec![proc(9101, "python3", *v, 10)]))
        .collect()
}

fn kinds(alerts: &[(i64, Alert)]) -> Vec<(i64, &str, AlertState)> {
    alerts
        .iter()
        .map(|(t, a)| (*t, a.kind.as_str(), a.state))
        .collect()
}

fn cfg() -> ResourceConfig {
    ResourceConfig::default()
}

use AlertState::{Active, Resolved};

#[test]
fn a_process_above_95_percent_is_critical_only_after_five_seconds() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let mut v = vec![10.0];
    v.extend([98.5; 7]);
    let got = drive(&mut d, cpu_script(&v));
    let critical: Vec<_> = got
        .iter()
        .filter(|(_, a)| a.kind == "cpu.process.critical")
        .collect();
    assert_eq!(critical.len(), 1, "{:?}", kinds(&got));
    let (t, a) = critical[0];
    // Above from the interval starting at t=0: five seconds are complete at t=5.
    assert_eq!(*t, 5);
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(
        a.message,
        "CRITICAL CPU: PID 9101 (python3) 98.5% for 5+s → python3 intensive_task.py (user ana)"
    );
    assert_eq!(a.subject.pid, Some(9101));
    assert_eq!(a.subject.user.as_deref(), Some("ana"));
}

#[test]
fn four_seconds_above_95_are_not_critical() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let got = drive(
        &mut d,
        cpu_script(&[10.0, 98.0, 98.0, 98.0, 98.0, 10.0, 98.0]),
    );
    assert!(
        !got.iter().any(|(_, a)| a.kind == "cpu.process.critical"),
        "{:?}",
        kinds(&got)
    );
}

#[test]
fn a_spike_above_90_is_suspicious_at_once_with_severity_high() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let got = drive(&mut d, cpu_script(&[10.0, 94.2]));
    assert_eq!(kinds(&got), [(1, "cpu.process.suspicious", Active)]);
    let a = &got[0].1;
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.display_label(), "SUSPICIOUS");
    assert_eq!(
        a.message,
        "SUSPICIOUS CPU SPIKE: PID 9101 (python3) 94.2% → python3 intensive_task.py (user ana)"
    );
}

#[test]
fn high_needs_three_consecutive_samples_above_80() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let got = drive(
        &mut d,
        cpu_script(&[10.0, 87.3, 87.3, 50.0, 87.3, 87.3, 87.3]),
    );
    assert_eq!(kinds(&got), [(6, "cpu.process.high", Active)]);
    assert_eq!(
        got[0].1.message,
        "HIGH CPU ALERT: PID 9101 (python3) 87.3% for 3s → python3 intensive_task.py (user ana)"
    );
    assert_eq!(got[0].1.severity, Severity::High);
}

#[test]
fn a_spike_does_not_reopen_within_its_five_second_cooldown() {
    let c = ResourceConfig {
        hold_secs: 0,
        ..cfg()
    };
    let mut d = ProcessCpuDetector::new(&c);
    // Spike at 1, clears at 2, spikes again at 3..: reopens only at 7 (2 + 5).
    let got = drive(
        &mut d,
        cpu_script(&[10.0, 92.0, 10.0, 92.0, 92.0, 10.0, 10.0, 92.0, 92.0]),
    );
    assert_eq!(
        kinds(&got),
        [
            (1, "cpu.process.suspicious", Active),
            (2, "cpu.process.suspicious", Resolved),
            (7, "cpu.process.suspicious", Active),
        ]
    );
}

#[test]
fn high_does_not_reopen_within_its_ten_second_cooldown() {
    let c = ResourceConfig {
        hold_secs: 0,
        ..cfg()
    };
    let mut d = ProcessCpuDetector::new(&c);
    let mut v = vec![10.0, 85.0, 85.0, 85.0, 10.0];
    v.extend([85.0; 12]);
    let got = drive(&mut d, cpu_script(&v));
    let high: Vec<_> = kinds(&got)
        .into_iter()
        .filter(|k| k.1 == "cpu.process.high")
        .collect();
    // Opens at 3, resolves at 4, may reopen from 14 once three samples are above.
    assert_eq!(
        high,
        [
            (3, "cpu.process.high", Active),
            (4, "cpu.process.high", Resolved),
            (14, "cpu.process.high", Active),
        ]
    );
}

#[test]
fn a_value_wobbling_around_a_threshold_is_one_episode() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let mut v = vec![10.0];
    v.extend([96.0; 5]);
    for i in 0..30 {
        v.push(if i % 2 == 0 { 94.0 } else { 96.0 });
    }
    let got = drive(&mut d, cpu_script(&v));
    let critical: Vec<_> = kinds(&got)
        .into_iter()
        .filter(|k| k.1 == "cpu.process.critical")
        .collect();
    assert_eq!(critical, [(5, "cpu.process.critical", Active)]);
    // The spike level, wobbling 89/91 around 90, opens once too (and high, being above
    // 80 throughout, opens once after three samples).
    let mut d = ProcessCpuDetector::new(&cfg());
    let wobble: Vec<f64> = (0..30)
        .map(|i| if i % 2 == 0 { 89.0 } else { 91.0 })
        .collect();
    let got = drive(&mut d, cpu_script(&wobble));
    assert_eq!(
        kinds(&got),
        [
            (1, "cpu.process.suspicious", Active),
            (2, "cpu.process.high", Active),
        ]
    );
}

#[test]
fn an_episode_resolves_after_the_hold_time_below_the_clear_threshold() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let got = drive(
        &mut d,
        cpu_script(&[10.0, 92.0, 86.0, 20.0, 20.0, 20.0, 20.0]),
    );
    // 86 is above the clear threshold (85): still open. Below from 3, hold 3 s: 6.
    assert_eq!(
        kinds(&got),
        [
            (1, "cpu.process.suspicious", Active),
            (6, "cpu.process.suspicious", Resolved),
        ]
    );
    let r = &got[1].1;
    assert_eq!(r.id, got[0].1.id);
    assert_eq!(r.first_seen, Ts::from_secs(1));
    assert_eq!(r.last_seen, Ts::from_secs(6));
    assert_eq!(
        r.message,
        "RESOLVED SUSPICIOUS CPU: PID 9101 (python3) now 20.0% (peak 92.0%, open 5s)"
    );
}

#[test]
fn a_process_that_exits_resolves_its_alerts_at_once() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let mut events = cpu_script(&[10.0, 99.0, 99.0, 99.0, 99.0, 99.0]);
    events.push(event(system(6, 5.0), vec![]));
    let got = drive(&mut d, events);
    let at_six: Vec<_> = kinds(&got).into_iter().filter(|k| k.0 == 6).collect();
    assert_eq!(at_six.len(), 3, "{:?}", kinds(&got));
    assert!(at_six.iter().all(|k| k.2 == Resolved));
    let critical = got
        .iter()
        .find(|(t, a)| *t == 6 && a.kind == "cpu.process.critical")
        .unwrap();
    assert!(
        critical.1.message.contains("exited"),
        "{}",
        critical.1.message
    );
    assert_eq!(d.active(), 0);
}

#[test]
fn a_reused_pid_is_a_new_process_with_its_own_episode() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let mut again = proc(9101, "python3", 95.0, 10);
    again.start_ticks += 500;
    let events = vec![
        event(system(0, 10.0), vec![proc(9101, "python3", 95.0, 10)]),
        event(system(1, 10.0), vec![again]),
    ];
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [
            (0, "cpu.process.suspicious", Active),
            (1, "cpu.process.suspicious", Active),
            (1, "cpu.process.suspicious", Resolved),
        ]
    );
    assert_ne!(got[0].1.id, got[1].1.id);
}

#[test]
fn system_cpu_warns_at_once_is_high_after_five_samples_and_critical_after_five_seconds() {
    let mut d = SystemCpuDetector::new(&cfg());
    let mut v = vec![10.0];
    v.extend([97.0; 6]);
    v.extend([10.0; 4]);
    let events: Vec<Event> = v
        .iter()
        .enumerate()
        .map(|(t, c)| event(system(t as i64, *c), vec![]))
        .collect();
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [
            (1, "cpu.system.warning", Active),
            (5, "cpu.system.critical", Active),
            (5, "cpu.system.high", Active),
            (10, "cpu.system.critical", Resolved),
            (10, "cpu.system.high", Resolved),
            (10, "cpu.system.warning", Resolved),
        ]
    );
    let critical = &got[1].1;
    assert_eq!(
        critical.message,
        "CRITICAL SYSTEM CPU: 97.0% for 5+s (load 0.50 0.40 0.30)"
    );
    assert_eq!(critical.details["load1"], 0.5);
    assert!(got[0].1.message.contains("(load 0.50 0.40 0.30)"));
    assert_eq!(got[0].1.severity, Severity::Medium);
    assert_eq!(got[0].1.display_label(), "WARNING");
    assert_eq!(got[2].1.severity, Severity::High);
}

#[test]
fn system_cpu_at_92_is_high_but_never_critical() {
    let mut d = SystemCpuDetector::new(&cfg());
    let events: Vec<Event> = (0..20).map(|t| event(system(t, 92.0), vec![])).collect();
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [
            (0, "cpu.system.warning", Active),
            (4, "cpu.system.high", Active),
        ]
    );
}

#[test]
fn system_memory_above_85_percent_warns_and_clears_below_80() {
    let mut d = MemoryDetector::new(&cfg());
    let used = [500, 860, 840, 860, 790, 790, 790, 790];
    let events: Vec<Event> = used
        .iter()
        .enumerate()
        .map(|(t, u)| {
            let mut s = system(t as i64, 5.0);
            s.mem_used = u * MB;
            event(s, vec![])
        })
        .collect();
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [
            (1, "memory.system.warning", Active),
            (7, "memory.system.warning", Resolved),
        ]
    );
    assert!(
        got[0].1.message.starts_with("WARNING MEMORY: 86.0% used"),
        "{}",
        got[0].1.message
    );
}

#[test]
fn process_memory_is_high_at_500_mb_critical_at_1_gb_and_extreme_at_2_gb() {
    let mut d = MemoryDetector::new(&cfg());
    let sizes = [100, 600, 1100, 2100];
    let events: Vec<Event> = sizes
        .iter()
        .enumerate()
        .map(|(t, mb)| event(system(t as i64, 5.0), vec![proc(4242, "java", 1.0, *mb)]))
        .collect();
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [
            (1, "memory.process.high", Active),
            (2, "memory.process.critical", Active),
            (3, "memory.process.extreme", Active),
        ]
    );
    let extreme = &got[2].1;
    assert_eq!(extreme.severity, Severity::Critical);
    assert_eq!(extreme.display_label(), "EXTREME");
    assert_eq!(
        extreme.message,
        "EXTREME MEMORY: PID 4242 (java) RSS 2100 MB → java intensive_task.py (user ana)"
    );
    assert_eq!(got[0].1.severity, Severity::High);
    assert_eq!(got[1].1.severity, Severity::Critical);
}

#[test]
fn load_above_twice_the_cores_alerts_and_clears_below_one_and_a_half() {
    let mut d = LoadDetector::new(&cfg());
    let loads = [1.0, 4.5, 3.5, 4.2, 2.5, 2.5, 2.5, 2.5];
    let events: Vec<Event> = loads
        .iter()
        .enumerate()
        .map(|(t, l)| {
            let mut s = system(t as i64, 5.0);
            s.load1 = *l;
            event(s, vec![])
        })
        .collect();
    let got = drive(&mut d, events);
    assert_eq!(
        kinds(&got),
        [(1, "load.high", Active), (7, "load.high", Resolved),]
    );
    assert_eq!(
        got[0].1.message,
        "WARNING LOAD: 1-min load 4.50 above 2 × 2 cores (5-min 0.40, 15-min 0.30)"
    );
}

#[test]
fn a_thousand_idle_processes_raise_nothing() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let procs: Vec<ProcSample> = (1..=1000).map(|p| proc(p, "sleep", 0.0, 1)).collect();
    let events: Vec<Event> = (0..10)
        .map(|t| event(system(t, 1.0), procs.clone()))
        .collect();
    assert!(drive(&mut d, events).is_empty());
    assert_eq!(d.active(), 0);
}

#[test]
fn finishing_resolves_what_is_still_open() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let got = drive(&mut d, cpu_script(&[10.0, 93.0]));
    assert_eq!(got.len(), 1);
    let end = d.finish(Ts::from_secs(9));
    assert!(matches!(&end[..], [Record::Alert(a)] if a.state == Resolved));
}

#[test]
fn a_critical_alert_keeps_its_json_shape() {
    let mut d = ProcessCpuDetector::new(&cfg());
    let mut v = vec![10.0];
    v.extend([98.5; 5]);
    let got = drive(&mut d, cpu_script(&v));
    let critical = got
        .iter()
        .find(|(_, a)| a.kind == "cpu.process.critical")
        .unwrap();
    insta::assert_json_snapshot!(critical.1);
}
