//! Top-N trimming of resource samples and the JSON-lines sample throttle.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_core::resource::{SampleThrottle, top_by_cpu, trim_to_top_n};
use netsnoop_core::time::Span;
use netsnoop_core::{ProcSample, ResourceSample, SystemSample, Ts};

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
        host: None,
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
