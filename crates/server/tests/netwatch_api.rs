//! NetWatch's endpoints against a real server and store: packets POSTed one by one and in
//! a batch come back through every statistics endpoint with NetWatch's field names.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, packet, scrub_times};
use serde_json::{Value, json};

/// A fixed mix of traffic in the recent past (so the 30-minute default window holds it),
/// aligned to 30 s so buckets do not depend on when the test runs.
fn traffic(base: f64) -> Vec<Value> {
    let mut v = Vec::new();
    for i in 0..6 {
        v.push(packet(base + i as f64, "10.0.0.1", "10.0.0.9", "TCP", 100));
    }
    for i in 0..3 {
        v.push(packet(
            base + 31.0 + i as f64,
            "10.0.0.2",
            "10.0.0.9",
            "UDP",
            200,
        ));
    }
    v.push(packet(base + 40.0, "10.0.0.3", "10.0.0.8", "ICMP", 64));
    v.push(packet(base + 41.0, "10.0.0.3", "10.0.0.8", "icmp", 64));
    v.push(packet(base + 62.0, "fe80::1", "fe80::2", "ICMPv6", 90));
    v.push(packet(base + 63.0, "10.0.0.4", "10.0.0.9", "GRE", 1500));
    v
}

fn recent_base() -> f64 {
    let now = jiff::Timestamp::now().as_second();
    ((now / 30) * 30 - 600) as f64
}

async fn filled() -> TestServer {
    let server = TestServer::start().await;
    let packets = traffic(recent_base());
    // The first two go one by one, as NetWatch's agent sends them; the rest as a batch.
    for p in &packets[..2] {
        let (status, body) = server.post(&p.to_string()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "stored");
    }
    let (status, body) = server
        .post(&Value::Array(packets[2..].to_vec()).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "stored"}));
    server.settle(600).await;
    server
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_netwatch_endpoint_answers_with_netwatchs_field_names() {
    let s = filled().await;

    let summary = s.get_json("/stats/summary").await;
    assert_eq!(
        summary,
        json!({"total_packets": 13, "unique_sources": 5, "unique_destinations": 3, "total_bytes": 6 * 100 + 3 * 200 + 2 * 64 + 90 + 1500})
    );

    let talkers = s.get_json("/stats/top-talkers").await;
    assert_eq!(talkers[0]["src_ip"], "10.0.0.1");
    assert_eq!(talkers[0]["count"], 6);
    for key in ["src_ip", "count"] {
        assert!(keys(&talkers[0]).contains(&key), "top-talkers lacks {key}");
    }

    let protocols = s.get_json("/stats/protocol-distribution").await;
    let labels: Vec<&str> = protocols
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["TCP", "UDP", "ICMP", "ICMPv6", "OTHER"]);
    assert!(keys(&protocols[0]).contains(&"count"));

    let traffic = s.get_json("/stats/traffic-over-time").await;
    assert_eq!(traffic.as_array().unwrap().len(), 13);
    for key in ["timestamp", "packet_size"] {
        assert!(
            keys(&traffic[0]).contains(&key),
            "traffic-over-time lacks {key}"
        );
    }

    let recent = s.get_json("/packets/recent?limit=3").await;
    assert_eq!(recent.as_array().unwrap().len(), 3);
    for key in ["timestamp", "src_ip", "dst_ip", "protocol", "packet_size"] {
        assert!(
            keys(&recent[0]).contains(&key),
            "packets/recent lacks {key}"
        );
    }
    assert_eq!(recent[0]["src_ip"], "10.0.0.4", "newest first");
    assert_eq!(recent[0]["protocol"], "OTHER");

    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_json_shapes_match_the_snapshots() {
    let s = filled().await;
    for (name, path) in [
        ("summary", "/stats/summary"),
        ("top_talkers", "/stats/top-talkers"),
        (
            "top_talkers_by_bytes",
            "/stats/top-talkers?by=bytes&limit=2",
        ),
        ("protocol_distribution", "/stats/protocol-distribution"),
        ("traffic_over_time", "/stats/traffic-over-time"),
        (
            "traffic_over_time_buckets",
            "/stats/traffic-over-time?bucket=30s",
        ),
        ("packets_recent", "/packets/recent?limit=4"),
        ("alerts", "/alerts"),
        ("flows", "/flows?limit=3"),
    ] {
        let mut v = s.get_json(path).await;
        scrub_times(&mut v);
        insta::assert_json_snapshot!(name, v);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_and_until_narrow_every_statistic() {
    let s = filled().await;
    let base = recent_base() as i64;
    // Only the UDP and ICMP packets (base+31 … base+41) fall in [base+30, base+60).
    let q = format!("?since={}&until={}", base + 30, base + 60);
    let summary = s.get_json(&format!("/stats/summary{q}")).await;
    assert_eq!(summary["total_packets"], 5);
    let protocols = s
        .get_json(&format!("/stats/protocol-distribution{q}&extended=true"))
        .await;
    assert_eq!(
        protocols,
        json!([{"protocol": "UDP", "count": 3, "bytes": 600}, {"protocol": "ICMP", "count": 2, "bytes": 128}])
    );
    let talkers = s.get_json(&format!("/stats/top-talkers{q}")).await;
    assert_eq!(talkers[0]["src_ip"], "10.0.0.2");
    let rfc = jiff::Timestamp::from_second(base + 30).unwrap().to_string();
    let summary = s.get_json(&format!("/stats/summary?since={rfc}")).await;
    assert_eq!(
        summary["total_packets"], 7,
        "RFC 3339 works like unix seconds"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_packets_belong_to_the_host_they_name_or_to_netwatch() {
    let s = TestServer::start().await;
    let base = recent_base();
    let mut named = packet(base, "10.1.0.1", "10.1.0.9", "TCP", 100);
    named["host"] = json!("web-1");
    named["src_port"] = json!(40000);
    named["dst_port"] = json!(443);
    let mut unnamed = packet(base + 1.0, "10.2.0.1", "10.2.0.9", "UDP", 200);
    unnamed["src_port"] = json!(40001);
    unnamed["dst_port"] = json!(53);
    let (status, body) = s
        .post(&Value::Array(vec![named.clone(), named, unnamed]).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    s.settle(600).await;

    let hosts = s.get_json("/hosts").await;
    let ids: Vec<(&str, &str)> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["id"].as_str().unwrap(), h["hostname"].as_str().unwrap()))
        .collect();
    assert!(ids.contains(&("netwatch-web-1", "web-1")), "{hosts}");
    assert!(ids.contains(&("netwatch-netwatch", "netwatch")), "{hosts}");

    // By name or id, each host has only its own packets and flows.
    for (filter, src) in [
        ("web-1", "10.1.0.1"),
        ("netwatch-web-1", "10.1.0.1"),
        ("netwatch", "10.2.0.1"),
    ] {
        let recent = s.get_json(&format!("/packets/recent?host={filter}")).await;
        let srcs: Vec<&str> = recent
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["src_ip"].as_str().unwrap())
            .collect();
        assert!(
            !srcs.is_empty() && srcs.iter().all(|s| *s == src),
            "{filter}: {recent}"
        );
        let extended = s
            .get_json(&format!("/packets/recent?extended=true&host={filter}"))
            .await;
        assert!(
            extended
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["host"]["name"] == filter.trim_start_matches("netwatch-")),
            "{filter}: {extended}"
        );
        let flows = s.get_json(&format!("/flows?host={filter}")).await;
        let flows = flows["recent"].as_array().unwrap();
        assert_eq!(flows.len(), 1, "{filter}: {flows:?}");
        assert_eq!(flows[0]["orig_ip"], src, "{filter}");
        assert_eq!(
            flows[0]["host"]["name"],
            filter.trim_start_matches("netwatch-")
        );
    }

    // A host that is not a host name is refused, naming the field.
    let mut bad = packet(base, "10.1.0.1", "10.1.0.9", "TCP", 100);
    bad["host"] = json!("web 1; rm");
    let (status, body) = s.post(&bad.to_string()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("host:"),
        "{body}"
    );
    // One request may not register a host per packet.
    let many: Vec<Value> = (0..=netsnoop_server::routes::ingest::MAX_HOSTS_PER_REQUEST)
        .map(|i| {
            let mut p = packet(base, "10.1.0.1", "10.1.0.9", "TCP", 100);
            p["host"] = json!(format!("h{i}"));
            p
        })
        .collect();
    let (status, body) = s.post(&Value::Array(many).to_string()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("at most"),
        "{body}"
    );
    // They are hosts, not agents: no per-agent series (their number is the senders').
    let metrics = s.metrics().await;
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("netsnoop_agent_") && l.contains("netwatch")),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE netsnoop_agent_silent_seconds gauge"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_netwatch_host_that_keeps_sending_stays_up() {
    let s = TestServer::start_with(common::Options {
        fleet: netsnoop_server::fleet::FleetConfig {
            stale_after: std::time::Duration::from_secs(1),
            down_after: std::time::Duration::from_secs(30),
            ..Default::default()
        },
        ..common::Options::default()
    })
    .await;
    let status_of_netwatch = |hosts: Value| {
        hosts
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hostname"] == "netwatch")
            .map(|h| h["status"].clone())
    };
    for _ in 0..2 {
        let p = packet(recent_base(), "10.3.0.1", "10.3.0.9", "TCP", 60);
        let (status, body) = s.post(&p.to_string()).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    }
    let p = packet(recent_base(), "10.3.0.1", "10.3.0.9", "TCP", 60);
    assert_eq!(s.post(&p.to_string()).await.0, 200);
    let hosts = s.get_json("/hosts").await;
    assert_eq!(
        status_of_netwatch(hosts.clone()),
        Some(json!("up")),
        "{hosts}"
    );
    // Silent past fleet.stale_after, it is stale.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let hosts = s.get_json("/hosts").await;
    assert_eq!(
        status_of_netwatch(hosts.clone()),
        Some(json!("stale")),
        "{hosts}"
    );
    s.shutdown().await;
}
