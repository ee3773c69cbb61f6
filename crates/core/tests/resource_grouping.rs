//! Display grouping of resource alerts, top-N trimming and the JSON-lines sample throttle.

use netsnoop_core::resource::{
    AlertGrouper, SampleThrottle, group_alerts, top_by_cpu, trim_to_top_n,
};
use netsnoop_core::time::Span;
use netsnoop_core::{
    Alert, AlertState, ProcSample, ResourceSample, Severity, Subject, SystemSample, Ts,
};

fn alert(kind: &str, severity: Severity, t: i64, pid: u32) -> Alert {
    Alert {
        id: format!("{kind}/{pid}/{t}"),
        kind: kind.to_string(),
        severity,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::from_secs(t),
        last_seen: Ts::from_secs(t),
        subject: Subject::process(pid, "x"),
        message: format!("{kind} {pid}"),
        details: serde_json::Value::Null,
    }
}

fn ids(g: &netsnoop_core::resource::AlertGroup) -> Vec<&str> {
    g.alerts.iter().map(|a| a.id.as_str()).collect()
}

#[test]
fn alerts_of_one_family_within_three_seconds_are_one_group_most_severe_first() {
    let alerts = [
        alert("cpu.process.suspicious", Severity::High, 10, 1),
        alert("cpu.process.high", Severity::High, 11, 2),
        alert("cpu.process.critical", Severity::Critical, 12, 3),
        alert("cpu.process.high", Severity::High, 14, 4),
    ];
    let groups = group_alerts(&alerts, Span::secs(3));
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].family, "cpu.process");
    assert_eq!(
        ids(&groups[0]),
        [
            "cpu.process.critical/3/12",
            "cpu.process.suspicious/1/10",
            "cpu.process.high/2/11",
        ]
    );
    assert_eq!(ids(&groups[1]), ["cpu.process.high/4/14"]);
    assert!(groups[1].is_single());
}

#[test]
fn different_families_and_resolutions_are_grouped_apart() {
    let mut resolved = alert("cpu.process.high", Severity::High, 5, 9);
    resolved.state = AlertState::Resolved;
    resolved.last_seen = Ts::from_secs(10);
    let alerts = [
        alert("cpu.process.high", Severity::High, 10, 1),
        alert("memory.process.high", Severity::High, 10, 1),
        resolved,
    ];
    let groups = group_alerts(&alerts, Span::secs(3));
    let fams: Vec<(&str, usize)> = groups
        .iter()
        .map(|g| (g.family.as_str(), g.alerts.len()))
        .collect();
    assert_eq!(fams.len(), 3, "{fams:?}");
    assert!(fams.contains(&("memory.process", 1)));
}

#[test]
fn the_grouper_holds_a_group_until_its_window_has_passed() {
    let mut g = AlertGrouper::new(Span::secs(3));
    g.push(alert("cpu.process.high", Severity::High, 10, 1));
    g.push(alert("cpu.process.critical", Severity::Critical, 11, 2));
    assert!(g.take_ready(Ts::from_secs(12)).is_empty());
    assert_eq!(g.pending(), 2);
    g.push(alert("cpu.process.high", Severity::High, 15, 3));
    let ready = g.take_ready(Ts::from_secs(13));
    assert_eq!(ready.len(), 1);
    assert_eq!(
        ids(&ready[0]),
        ["cpu.process.critical/2/11", "cpu.process.high/1/10"]
    );
    assert_eq!(g.pending(), 1);
    assert_eq!(g.drain().len(), 1);
    assert_eq!(g.pending(), 0);
}

fn p(pid: u32, cpu: f64, rss: u64) -> ProcSample {
    ProcSample {
        pid,
        start_ticks: pid as u64,
        cpu_pct: cpu,
        rss_bytes: rss,
        ..ProcSample::default()
    }
}

#[test]
fn trimming_keeps_the_top_n_by_cpu_and_by_memory_once_each() {
    let sample = ResourceSample {
        system: SystemSample {
            cpu_pct: 42.0,
            ..SystemSample::default()
        },
        processes: vec![
            p(1, 0.0, 9000),
            p(2, 80.0, 10),
            p(3, 50.0, 8000),
            p(4, 1.0, 1),
            p(5, 0.5, 2),
        ],
    };
    let t = trim_to_top_n(&sample, 2);
    let pids: Vec<u32> = t.processes.iter().map(|p| p.pid).collect();
    assert_eq!(pids, [2, 3, 1]);
    assert_eq!(t.system.cpu_pct, 42.0);
    let top: Vec<u32> = top_by_cpu(&sample.processes, 10)
        .iter()
        .map(|p| p.pid)
        .collect();
    assert_eq!(top, [2, 3, 4, 5, 1]);
}

#[test]
fn the_throttle_lets_one_sample_through_per_period_and_none_when_zero() {
    let mut th = SampleThrottle::new(Span::secs(10));
    let admitted: Vec<i64> = (0..25).filter(|t| th.admit(Ts::from_secs(*t))).collect();
    assert_eq!(admitted, [0, 10, 20]);
    let mut off = SampleThrottle::new(Span::secs(0));
    assert!(!off.admit(Ts::from_secs(0)));
}
