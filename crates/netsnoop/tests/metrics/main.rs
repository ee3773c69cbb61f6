//! End to end on `netsnoop run -i lo`: /metrics says what /health says while real packets
//! and processes flow, its series count does not grow with sources or processes, and a
//! real Prometheus scrapes it (prometheus.rs).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod prometheus;
mod rules;
mod run;

use netsnoop_server::metrics::pairs::{shared_counts, sum_in};
use run::{Run, packets_from_distinct_sources, series, spawn_processes, sum};
use std::time::Duration;

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Real traffic on lo (UDP to a closed port), real processes and POSTed packets.
fn mixed_workload(run: &Run) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..200 {
        sock.send_to(b"metrics", "127.0.0.1:9").unwrap();
    }
    spawn_processes(40, 2);
    let (status, body) = netsnoop_test_support::http(
        run.addr,
        "POST",
        "/packets",
        &packets_from_distinct_sources(1, 50, now_secs()),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn health_and_metrics_agree_on_every_shared_count_while_netsnoop_run_captures_and_spawns() {
    let run = Run::start();
    mixed_workload(&run);
    run.wait_metric(
        "netsnoop_capture_packets_total",
        200.0,
        Duration::from_secs(20),
    );
    // Counters keep moving on a live host (other processes, other traffic on lo), so each
    // /metrics value must lie between the /health readings taken just before and after.
    let before = run.health();
    let text = run.metrics();
    let after = run.health();
    let later = shared_counts(&after);
    let mut wrong = Vec::new();
    let pairs = shared_counts(&before);
    assert!(pairs.len() >= 20, "too few pairs: {pairs:?}");
    for p in &pairs {
        let got = sum_in(&text, &p.metric, &p.labels);
        let hi = later
            .iter()
            .find(|q| q.health == p.health)
            .map_or(p.value, |q| q.value);
        let (lo, hi) = (p.value.min(hi), p.value.max(hi));
        if !got.is_some_and(|g| g >= lo && g <= hi) {
            wrong.push(format!(
                "{} in [{lo}, {hi}] but {} = {got:?}",
                p.health, p.metric
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n{text}", wrong.join("\n"));
    assert!(before["capture"]["lo"]["packets"].as_u64().unwrap() >= 200);
}

#[test]
fn the_series_count_does_not_grow_with_100000_sources_or_10000_processes() {
    let run = Run::start();
    // Let start-up settle: the first retention pass, the first samples and alerts.
    run.wait_metric(
        "netsnoop_store_retention_passes_total",
        1.0,
        Duration::from_secs(20),
    );
    mixed_workload(&run);
    let before = series(&run.metrics());
    let execs_before = sum(&run.metrics(), "netsnoop_exec_events_total").unwrap();
    let now = now_secs();
    for chunk in 0..50 {
        let body = packets_from_distinct_sources(1_000 + chunk * 2_000, 2_000, now);
        let (status, answer) = netsnoop_test_support::http(run.addr, "POST", "/packets", &body);
        assert_eq!(status, 200, "{answer}");
    }
    spawn_processes(10_000, 2);
    let ingested = run.wait_metric(
        "netsnoop_api_ingested_packets_total",
        100_050.0,
        Duration::from_secs(60),
    );
    // Every run leaves a fork, an exec and an exit.
    run.wait_metric(
        "netsnoop_exec_events_total",
        execs_before + 10_000.0,
        Duration::from_secs(60),
    );
    let text = run.metrics();
    let after = series(&text);
    let added: Vec<_> = after.difference(&before).collect();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(
        added.is_empty() && gone.is_empty(),
        "series added: {added:#?}\nseries gone: {gone:#?}"
    );
    assert!(ingested >= 100_050.0);
    assert!(!text.contains("10.0."), "an address became a label");
}
