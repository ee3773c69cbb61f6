//! The contract with NetWatch's clients: each of NetWatch's seven paths answers with
//! exactly NetWatch's keys in NetWatch's order (read from its backend/main.py and
//! detector.py), and `?extended=true` adds ours after them; port-less packets read null
//! ports; the raw traffic series lists every packet in the window.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, packet};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use std::fmt;

/// The keys of a JSON object, in the order the server wrote them.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = m.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The keys of the object, or of the first object of an array, in wire order.
fn wire_keys(text: &str) -> Vec<String> {
    if text.trim_start().starts_with('[') {
        let rows: Vec<Keys> = serde_json::from_str(text).expect("a JSON array of objects");
        rows.into_iter().next().expect("at least one row").0
    } else {
        serde_json::from_str::<Keys>(text).expect("a JSON object").0
    }
}

async fn get_text(s: &TestServer, path: &str) -> (reqwest::header::HeaderMap, String) {
    let resp = s.client.get(s.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    let headers = resp.headers().clone();
    (headers, resp.text().await.unwrap())
}

async fn post_text(s: &TestServer, path: &str, body: &str) -> String {
    let resp = s
        .client
        .post(s.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "POST {path}");
    resp.text().await.unwrap()
}

fn now() -> f64 {
    jiff::Timestamp::now().as_second() as f64
}

/// 60 port-less packets from one source within a second (NetWatch's rule fires), and
/// TCP packets with ports.
async fn filled() -> TestServer {
    let s = TestServer::start().await;
    // Recent enough that the spike alert (idle-resolved after 20 s of packet time) is still
    // open when the live clock ticks past the later packet these tests post at `now`.
    let t = now() - 5.0;
    let mut batch: Vec<Value> = (0..60)
        .map(|i| {
            packet(
                t + f64::from(i) / 100.0,
                "10.9.9.9",
                "10.0.0.1",
                "OTHER",
                60,
            )
        })
        .collect();
    for i in 0..3 {
        batch.push(
            json!({"timestamp": t + 2.0, "src_ip": "10.0.0.2", "dst_ip": "10.0.0.1",
            "protocol": "TCP", "packet_size": 100, "src_port": 40000 + i, "dst_port": 443}),
        );
    }
    let (status, body) = s.post(&Value::Array(batch).to_string()).await;
    assert_eq!(status, 200, "{body}");
    s.settle(5).await;
    s
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const NETWATCH_PACKET: [&str; 5] = ["timestamp", "src_ip", "dst_ip", "protocol", "packet_size"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_netwatch_path_answers_with_exactly_netwatchs_keys_in_its_order() {
    let s = filled().await;
    let one = packet(now(), "10.0.0.7", "10.0.0.1", "UDP", 80).to_string();
    assert_eq!(
        post_text(&s, "/packets", &one).await,
        r#"{"status":"stored"}"#
    );
    let cases: [(&str, &[&str]); 6] = [
        ("/alerts", &["src_ip", "packet_count", "alert"]),
        (
            "/stats/summary",
            &[
                "total_packets",
                "unique_sources",
                "unique_destinations",
                "total_bytes",
            ],
        ),
        ("/stats/top-talkers", &["src_ip", "count"]),
        ("/stats/protocol-distribution", &["protocol", "count"]),
        ("/stats/traffic-over-time", &["timestamp", "packet_size"]),
        ("/packets/recent?limit=30", &NETWATCH_PACKET),
    ];
    for (path, want) in cases {
        let (_, text) = get_text(&s, path).await;
        assert_eq!(wire_keys(&text), strs(want), "{path}: {text}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_adds_our_fields_after_netwatchs_keys_on_every_path() {
    let s = filled().await;
    let one = packet(now(), "10.0.0.7", "10.0.0.1", "UDP", 80).to_string();
    assert_eq!(
        post_text(&s, "/packets?extended=true", &one).await,
        r#"{"status":"stored","count":1}"#
    );
    let alert: &[&str] = &[
        "src_ip",
        "packet_count",
        "alert",
        "id",
        "kind",
        "severity",
        "label",
        "state",
        "first_seen",
        "last_seen",
        "ports",
        "dst_ip",
        "pid",
        "process_name",
        "user",
        "message",
        "details",
    ];
    let mut packet = NETWATCH_PACKET.to_vec();
    packet.extend(["src_port", "dst_port", "host"]);
    let cases: [(&str, &[&str]); 6] = [
        ("/alerts?extended=true", alert),
        (
            "/stats/summary?extended=true",
            &[
                "total_packets",
                "unique_sources",
                "unique_destinations",
                "total_bytes",
            ],
        ),
        (
            "/stats/top-talkers?extended=true",
            &["src_ip", "count", "bytes"],
        ),
        (
            "/stats/protocol-distribution?extended=true",
            &["protocol", "count", "bytes"],
        ),
        (
            "/stats/traffic-over-time?extended=true",
            &["timestamp", "packet_size"],
        ),
        ("/packets/recent?limit=30&extended=true", &packet),
    ];
    for (path, want) in cases {
        let (_, text) = get_text(&s, path).await;
        assert_eq!(wire_keys(&text), strs(want), "{path}: {text}");
    }
    let (status, body) = s.post("").await;
    assert_eq!(status, 400, "{body}");
    let resp = s
        .client
        .get(s.url("/stats/top-talkers?extended=maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("extended"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netwatchs_rule_alert_reads_in_netwatchs_shape_and_says_only_what_was_seen() {
    let s = filled().await;
    let alerts = s.get_json("/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["src_ip"], "10.9.9.9");
    assert!(alerts[0]["packet_count"].as_u64().unwrap() > 50, "{alerts}");
    let text = alerts[0]["alert"].as_str().unwrap();
    assert!(text.contains("more than 50 packets within 10 s"), "{text}");
    assert!(
        !text.to_lowercase().contains("scan"),
        "a packet count is not a scan: {text}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_less_packets_have_null_ports_and_ports_given_are_kept() {
    let s = filled().await;
    let recent = s.get_json("/packets/recent?limit=100&extended=true").await;
    let rows = recent.as_array().unwrap();
    let portless: Vec<&Value> = rows.iter().filter(|r| r["src_ip"] == "10.9.9.9").collect();
    assert_eq!(portless.len(), 60);
    assert!(
        portless
            .iter()
            .all(|r| r["src_port"].is_null() && r["dst_port"].is_null()),
        "{recent}"
    );
    let tcp: Vec<&Value> = rows.iter().filter(|r| r["src_ip"] == "10.0.0.2").collect();
    assert_eq!(tcp.len(), 3);
    assert!(tcp.iter().all(|r| r["dst_port"] == 443), "{recent}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_strings_are_taken_as_netwatchs_model_takes_them_and_nonsense_is_refused() {
    let s = TestServer::start().await;
    let body = json!({"timestamp": now(), "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2",
        "protocol": "TCP", "packet_size": "60", "src_port": "1234", "dst_port": 80,
        "tcp_flags": "S"});
    let (status, got) = s.post(&body.to_string()).await;
    assert_eq!((status, got), (200, json!({"status": "stored"})));
    s.settle(2).await;
    let recent = s.get_json("/packets/recent?limit=1&extended=true").await;
    assert_eq!(recent[0]["packet_size"], 60);
    assert_eq!(recent[0]["src_port"], 1234);
    for (field, bad) in [
        ("packet_size", json!("sixty")),
        ("packet_size", json!(60.5)),
        ("src_port", json!(70000)),
        ("tcp_flags", json!("SX")),
    ] {
        let mut b = body.clone();
        b[field] = bad;
        let (status, err) = s.post(&b.to_string()).await;
        assert_eq!(status, 422, "{field}: {err}");
        assert!(err["detail"].as_str().unwrap().contains(field), "{err}");
    }
    let mut one_port = body.clone();
    one_port.as_object_mut().unwrap().remove("src_port");
    let (status, err) = s.post(&one_port.to_string()).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["detail"].as_str().unwrap().contains("both ports"),
        "{err}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_packets_in_the_window_come_back_as_a_hundred_thousand_raw_rows() {
    let s = TestServer::start().await;
    // 100,000 packets over the last 100 s: 1,000 a second.
    let t0 = now() - 120.0;
    for chunk in 0..10 {
        let batch: Vec<Value> = (0..10_000)
            .map(|i| {
                let n = chunk * 10_000 + i;
                packet(
                    t0 + f64::from(n) / 1000.0,
                    "10.1.0.1",
                    "10.0.0.1",
                    "UDP",
                    100,
                )
            })
            .collect();
        let (status, body) = s.post(&Value::Array(batch).to_string()).await;
        assert_eq!(status, 200, "{body}");
    }
    s.settle(2).await;
    let (headers, text) = get_text(&s, "/stats/traffic-over-time").await;
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), 100_000);
    assert_eq!(headers["x-netsnoop-packets-counted"], "100000");
    assert!(
        headers.get("x-netsnoop-incomplete").is_none(),
        "{headers:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_both_forms_and_the_switch() {
    let s = TestServer::start().await;
    let doc = s.get_json("/openapi.json").await;
    let recent = &doc["paths"]["/packets/recent"]["get"];
    let row = recent["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("a row schema: {recent}"));
    let name = row.rsplit('/').next().unwrap();
    // anyOf: an extended answer holds NetWatch's keys too, so it matches both forms.
    let forms = doc["components"]["schemas"][name]["anyOf"]
        .as_array()
        .unwrap_or_else(|| {
            panic!(
                "anyOf of both forms: {}",
                doc["components"]["schemas"][name]
            )
        });
    assert_eq!(forms.len(), 2, "{name}");
    for path in [
        "/packets",
        "/alerts",
        "/stats/summary",
        "/stats/top-talkers",
        "/stats/protocol-distribution",
        "/stats/traffic-over-time",
        "/packets/recent",
    ] {
        let op = doc["paths"][path]
            .as_object()
            .and_then(|o| o.values().next())
            .unwrap();
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert!(names.contains(&"extended"), "{path}: {names:?}");
    }
    let traffic = &doc["paths"]["/stats/traffic-over-time"]["get"]["responses"]["200"];
    assert!(
        traffic["headers"]["x-netsnoop-incomplete"].is_object(),
        "{traffic}"
    );
    s.shutdown().await;
}
