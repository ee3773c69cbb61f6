//! /metrics against /health on a real server, store and pipeline: every shared count is
//! equal after a mixed workload, and every series whose labels are known in advance
//! exists at 0 on a fresh start.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, packet};
use netsnoop_core::{
    Alert, AlertState, Event, Loss, PacketMeta, ProcEventKind, ProcessEvent, Protocol, Record,
    Severity, Subject, Ts,
};
use netsnoop_server::SourceStatus;
use netsnoop_server::metrics::pairs::{disagreements, shared_counts, sum_in};
use serde_json::Value;

fn sources(names: &[&str]) -> Vec<SourceStatus> {
    names
        .iter()
        .map(|n| SourceStatus {
            name: n.to_string(),
            running: true,
            note: None,
        })
        .collect()
}

fn loss(source: &str, count: u64, reason: &str) -> Event {
    Event::Loss(Loss {
        host: None,
        time: Ts::from_secs(1_000),
        source: source.into(),
        count,
        reason: reason.into(),
    })
}

fn captured(iface: u16, wire_len: u32, t: i64) -> Event {
    Event::Packet(PacketMeta {
        time: Ts::from_secs(t),
        protocol: Protocol::Udp,
        wire_len,
        iface,
        ..PacketMeta::default()
    })
}

fn alert(id: &str, kind: &str, state: AlertState) -> Alert {
    Alert {
        host: None,
        id: id.into(),
        kind: kind.into(),
        severity: Severity::High,
        label: None,
        state,
        first_seen: Ts(1),
        last_seen: Ts(2),
        subject: Subject::default(),
        message: "m".into(),
        details: Value::Null,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_equal_on_every_shared_count_after_a_mixed_workload() {
    let s = TestServer::start().await;
    s.hub
        .set_sources(sources(&["capture:lo", "capture:eth9", "exec (netlink)"]));
    let now = jiff::Timestamp::now().as_second();
    // Captured packets on both interfaces, POSTed ones beside them.
    let mut events: Vec<Event> = (0..30)
        .map(|i| captured(i % 2, 100 + i as u32, now - 20))
        .collect();
    events.extend([
        loss(
            "capture:lo",
            4,
            "kernel buffer full (pcap ps_drop); raise network.capture.buffer_mib",
        ),
        loss(
            "capture:lo",
            2,
            "dropped by the interface or driver (pcap ps_ifdrop)",
        ),
        loss("capture:eth9", 3, "pipeline channel full"),
        loss(
            "proc_connector",
            5,
            "kernel receive buffer overrun (ENOBUFS)",
        ),
        loss(
            "proc_connector",
            1,
            "gap in the per-CPU sequence numbers (events the kernel did not deliver)",
        ),
        loss("exec (netlink)", 2, "pipeline channel full"),
        loss(
            "resource_sampler",
            1,
            "pipeline channel full: resource samples dropped",
        ),
    ]);
    for (i, kind) in ProcEventKind::ALL.into_iter().enumerate() {
        events.push(Event::Process(ProcessEvent {
            time: Ts::from_secs(now - 20),
            kind,
            pid: 100 + i as u32,
            redacted: 1,
            ..ProcessEvent::default()
        }));
    }
    s.send_events(events);
    let posted = Value::Array(
        (0..10)
            .map(|i| {
                packet(
                    (now - 20) as f64,
                    &format!("10.1.0.{i}"),
                    "10.0.0.2",
                    "TCP",
                    60,
                )
            })
            .collect(),
    );
    assert_eq!(s.post(&posted.to_string()).await.0, 200);
    let future = Value::Array(vec![packet(
        (now + 3600) as f64,
        "10.1.0.1",
        "10.0.0.2",
        "TCP",
        60,
    )]);
    assert_eq!(s.post(&future.to_string()).await.0, 422);
    s.hub.publish(&[
        Record::Alert(alert("a", "net.portscan", AlertState::Active)),
        Record::Alert(alert("b", "process.burst", AlertState::Active)),
        Record::Alert(alert("a", "net.portscan", AlertState::Resolved)),
    ]);
    s.settle(30).await;

    let health = s.get_json("/health").await;
    let text = s.metrics().await;
    let after = s.get_json("/health").await;
    assert_eq!(
        health["packets_seen"], after["packets_seen"],
        "the workload had settled"
    );
    let wrong = disagreements(&health, &text);
    assert!(wrong.is_empty(), "{}\n\n{text}", wrong.join("\n"));

    // The workload reached every kind of pair, so the comparison compared something.
    let pairs = shared_counts(&health);
    for path in [
        "packets_seen",
        "capture.lo.dropped.ring",
        "capture.eth9.dropped.queue",
        "packet_times.refused.ahead",
        "writer.tables.packets.records",
        "losses.resource_sampler.count",
    ] {
        let p = pairs
            .iter()
            .find(|p| p.health == path)
            .unwrap_or_else(|| panic!("no pair {path}"));
        assert!(p.value > 0.0, "{path} is 0: the workload missed it");
    }
    let exec = pairs
        .iter()
        .find(|p| p.metric == "netsnoop_exec_events_lost_total")
        .expect("exec losses paired");
    assert_eq!(
        exec.value, 8.0,
        "enricher and outlet losses of one source add up"
    );
    assert_eq!(health["capture"]["lo"]["packets"], 15);
    assert_eq!(health["packets_seen"], 40, "captured and POSTed");
    let raised = |kind: &str| {
        sum_in(
            &text,
            "netsnoop_alerts_raised_total",
            &[("kind".into(), kind.into())],
        )
    };
    assert_eq!(raised("net.portscan"), Some(1.0));
    assert_eq!(
        sum_in(
            &text,
            "netsnoop_alerts_resolved_total",
            &[("kind".into(), "net.portscan".into())]
        ),
        Some(1.0)
    );
    assert_eq!(health["alerts_active"], 1);
    s.shutdown().await;
}

/// Every family a fresh `netsnoop run` exports, each with at least one series at start.
const FAMILIES: &[&str] = &[
    "netsnoop_packets_total",
    "netsnoop_bytes_total",
    "netsnoop_capture_packets_total",
    "netsnoop_capture_bytes_total",
    "netsnoop_capture_dropped_packets_total",
    "netsnoop_exec_events_total",
    "netsnoop_exec_events_lost_total",
    "netsnoop_lost_events_total",
    "netsnoop_alerts_raised_total",
    "netsnoop_alerts_resolved_total",
    "netsnoop_store_records_written_total",
    "netsnoop_store_batches_total",
    "netsnoop_store_records_failed_total",
    "netsnoop_store_records_dropped_total",
    "netsnoop_store_packets_capped_total",
    "netsnoop_store_retention_deleted_rows_total",
    "netsnoop_store_write_duration_seconds_count",
    "netsnoop_queue_dropped_total",
    "netsnoop_http_requests_total",
    "netsnoop_http_request_duration_seconds_count",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_known_in_advance_exists_at_zero_on_a_fresh_start() {
    let s = TestServer::start().await;
    s.hub.set_sources(sources(&["capture:lo", "exec (ebpf)"]));
    let text = s.metrics().await;
    let zero = |metric: &str, labels: &[(&str, &str)]| {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            sum_in(&text, metric, &labels),
            Some(0.0),
            "{metric}{labels:?}\n{text}"
        );
    };
    for family in FAMILIES {
        assert!(
            sum_in(&text, family, &[]).is_some(),
            "{family} missing\n{text}"
        );
    }
    for p in Protocol::ALL {
        zero("netsnoop_packets_total", &[("protocol", p.as_str())]);
    }
    for place in ["kernel", "ring", "queue"] {
        zero(
            "netsnoop_capture_dropped_packets_total",
            &[("interface", "lo"), ("place", place)],
        );
    }
    for cause in ["ring_full", "malformed", "queue"] {
        zero(
            "netsnoop_exec_events_lost_total",
            &[("source", "ebpf"), ("cause", cause)],
        );
    }
    for kind in netsnoop_server::metrics::ALERT_KINDS {
        for sev in Severity::ALL {
            let l = [("kind", kind), ("severity", sev.as_str())];
            zero("netsnoop_alerts_raised_total", &l);
            zero("netsnoop_alerts_resolved_total", &l);
        }
    }
    for table in netsnoop_store::TABLES {
        zero("netsnoop_store_records_written_total", &[("table", table)]);
    }
    for route in ["/health", "/processes/{pid}", "/packets", "dashboard"] {
        for status in ["2xx", "4xx", "5xx"] {
            zero(
                "netsnoop_http_requests_total",
                &[("route", route), ("status", status)],
            );
        }
    }
    assert!(text.contains("netsnoop_build_info{version=\""), "{text}");
    for standard in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(
            sum_in(&text, standard, &[]).is_some_and(|v| v > 0.0),
            "{standard}\n{text}"
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_template_never_by_raw_path() {
    let s = TestServer::start().await;
    for pid in [1, 2, 3] {
        let r = s
            .client
            .get(s.url(&format!("/processes/{pid}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error() || r.status().is_success());
    }
    let text = s.metrics().await;
    let by_template: f64 = ["2xx", "4xx"]
        .iter()
        .filter_map(|st| {
            sum_in(
                &text,
                "netsnoop_http_requests_total",
                &[
                    ("route".into(), "/processes/{pid}".into()),
                    ("status".into(), st.to_string()),
                ],
            )
        })
        .sum();
    assert_eq!(by_template, 3.0, "{text}");
    assert!(
        !text.contains("/processes/1\""),
        "a raw path became a label"
    );
    s.shutdown().await;
}
