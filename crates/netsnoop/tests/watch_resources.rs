//! End to end, as root: `netsnoop watch --format jsonl` samples resources, writes
//! rate-limited sample lines, raises CRITICAL CPU for a child that burns a core and
//! resolves it once the child is gone.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::recv_until;
use serde_json::Value;
use std::time::Duration;

mod common;

use common::start_watch;

#[test]
fn watch_jsonl_raises_critical_cpu_for_a_burning_child_and_resolves_it_when_it_exits() {
    netsnoop_test_support::require_root("exec events and the burner's raised priority");
    let watch = start_watch("[resources]\njsonl_samples_every_secs = 2\ntop_n = 5\n");
    let (out, banner) = (&watch.out, &watch.banner);
    assert!(
        banner
            .iter()
            .any(|l| l.contains("resources: every 1000 ms")),
        "{banner:#?}"
    );

    let mut burn = netsnoop_test_support::cpu_burner();
    let pid = u64::from(burn.id());
    let mut samples: Vec<Value> = Vec::new();
    let mut burner_cpu: Vec<f64> = Vec::new();
    let critical = recv_until(out, Duration::from_secs(30), |line| {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["type"] == "resources" {
            if let Some(p) = v["processes"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["pid"] == pid))
            {
                burner_cpu.push(p["cpu_pct"].as_f64().unwrap_or(0.0));
            }
            samples.push(v);
        } else if v["type"] == "alert" && v["kind"] == "cpu.process.critical" && v["pid"] == pid {
            return Some(v);
        }
        None
    })
    .unwrap_or_else(|| {
        panic!(
            "no CRITICAL CPU alert for the burner (pid {pid}) in 30 s; its CPU in the sample \
             lines: {burner_cpu:?} (below 95% means the machine was too busy to give it a core)"
        )
    });
    assert_eq!(critical["severity"], "critical", "{critical}");
    assert_eq!(critical["user"], "root", "{critical}");
    let msg = critical["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("CRITICAL CPU: PID {pid} (sh) ")) && msg.contains("for 5+s"),
        "{msg}"
    );

    // Sample lines: rate-limited (2 s apart at least) and trimmed to the top processes.
    assert!(!samples.is_empty(), "no resources line");
    let mut times = Vec::new();
    for s in &samples {
        assert!(s["system"]["mem_total"].as_u64().unwrap() > 0, "{s}");
        assert!(s["processes"].as_array().unwrap().len() <= 10, "{s}");
        let t: jiff::Timestamp = s["system"]["time"].as_str().unwrap().parse().unwrap();
        times.push(t);
    }
    for w in times.windows(2) {
        let gap = w[1].duration_since(w[0]).as_secs_f64();
        assert!(gap >= 1.9, "sample lines {gap:.2}s apart: {times:?}");
    }

    burn.stop();
    let id = critical["id"].clone();
    let resolved = recv_until(out, Duration::from_secs(15), |line| {
        let v: Value = serde_json::from_str(&line).unwrap();
        (v["type"] == "alert" && v["id"] == id && v["state"] == "resolved").then_some(v)
    })
    .expect("the critical alert did not resolve");
    assert!(
        resolved["message"].as_str().unwrap().contains("exited"),
        "{resolved}"
    );
    assert!(watch.stop().success());
}
