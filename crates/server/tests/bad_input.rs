//! Bad input gets a 4xx with a JSON error naming the problem, and nothing already stored
//! is lost: the store's totals are the same before and after every refused request.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer, packet};
use serde_json::Value;

async fn total_packets(s: &TestServer) -> u64 {
    s.settle(5).await;
    s.get_json("/stats/summary").await["total_packets"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_packets_are_refused_with_a_reason_and_stored_data_survives() {
    let s = TestServer::start().await;
    let now = jiff::Timestamp::now().as_second() as f64 - 60.0;
    let good = packet(now, "10.0.0.1", "10.0.0.2", "TCP", 60);
    assert_eq!(s.post(&good.to_string()).await.0, 200);
    let before = total_packets(&s).await;
    assert_eq!(before, 1);

    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        ("broken JSON", "{\"src_ip\": ".into(), 400, "bad_json", "not valid JSON"),
        ("not JSON at all", "hello".into(), 400, "bad_json", "not valid JSON"),
        ("empty body", "".into(), 400, "bad_json", "empty"),
        (
            "wrong type",
            r#"{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"TCP","packet_size":"big"}"#.into(),
            422,
            "invalid_field",
            "packet_size",
        ),
        (
            "missing field",
            r#"{"src_ip":"10.0.0.1","protocol":"TCP","packet_size":1}"#.into(),
            422,
            "invalid_field",
            "dst_ip",
        ),
        (
            "invalid IP",
            packet(now, "10.0.0.300", "10.0.0.2", "TCP", 60).to_string(),
            422,
            "invalid_field",
            "src_ip",
        ),
        (
            "negative size",
            packet(now, "10.0.0.1", "10.0.0.2", "TCP", -5).to_string(),
            422,
            "invalid_field",
            "packet_size",
        ),
        (
            "bad timestamp",
            serde_json::json!({"timestamp": "last tuesday", "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2", "protocol": "TCP", "packet_size": 1}).to_string(),
            422,
            "invalid_field",
            "timestamp",
        ),
        (
            "one bad packet in a batch",
            Value::Array(vec![good.clone(), packet(now, "10.0.0.1", "::g", "UDP", 1)]).to_string(),
            422,
            "invalid_field",
            "[1].dst_ip",
        ),
        ("empty batch", "[]".into(), 422, "invalid_field", "empty"),
    ];
    for (what, body, status, code, mentions) in cases {
        let (got, err) = s.post(&body).await;
        assert_eq!(got, status, "{what}: {err}");
        assert_eq!(err["error"], code, "{what}: {err}");
        let detail = err["detail"].as_str().unwrap();
        assert!(
            detail.contains(mentions),
            "{what}: {detail:?} should mention {mentions:?}"
        );
    }
    assert_eq!(
        total_packets(&s).await,
        before,
        "a refused batch stores nothing, and loses nothing"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_query_parameters_are_refused_with_the_accepted_range() {
    let s = TestServer::start().await;
    for (path, mentions) in [
        ("/packets/recent?limit=-1", "limit"),
        ("/packets/recent?limit=lots", "limit"),
        ("/packets/recent?limit=99999999999999999999", "limit"),
        ("/stats/top-talkers?by=vibes", "by="),
        ("/stats/summary?since=yesterday", "since"),
        ("/stats/summary?since=200&until=100", "since is after until"),
        ("/stats/traffic-over-time?bucket=0s", "bucket"),
        ("/stats/traffic-over-time?bucket=1s&since=0", "buckets"),
        ("/alerts/history?severity=loud", "severity"),
        ("/alerts?all=maybe", "all="),
    ] {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert!(status == 400 || status == 422, "{path}: {status}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(mentions), "{path}: {detail:?}");
    }
    // A big but sane limit is lowered to the cap, not refused.
    let recent = s.get_json("/packets/recent?limit=5000").await;
    assert!(recent.as_array().unwrap().is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_with_413_and_json() {
    let s = TestServer::start_with(Options {
        body_limit: 4096,
        ..Options::default()
    })
    .await;
    let now = jiff::Timestamp::now().as_second() as f64;
    let big = Value::Array(
        (0..100)
            .map(|i| packet(now + i as f64, "10.0.0.1", "10.0.0.2", "UDP", 10))
            .collect(),
    );
    let (status, err) = s.post(&big.to_string()).await;
    assert_eq!(status, 413, "{err}");
    assert_eq!(err["error"], "body_too_large");
    assert_eq!(total_packets(&s).await, 0);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_query_on_post_packets_gets_the_json_error_and_stores_nothing() {
    let s = TestServer::start().await;
    let now = jiff::Timestamp::now().as_second() as f64 - 60.0;
    let body = packet(now, "10.0.0.1", "10.0.0.2", "TCP", 60).to_string();
    let head = format!(
        "POST /packets?extended=true&extended=true HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json",
        s.addr
    );
    let (status, out) = s.raw(&head, &body).await;
    assert_eq!(status, 400, "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{out}"
    );
    let json: Value = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert!(
        json["detail"].as_str().unwrap().contains("extended"),
        "{json}"
    );
    assert_eq!(total_packets(&s).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_number_in_the_query_is_refused_not_taken_as_zero() {
    let s = TestServer::start().await;
    for path in [
        "/alerts/history?offset=",
        "/alerts/history?limit=",
        "/alerts?extended=",
    ] {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}", s.addr);
        let (status, out) = s.raw(&head, "").await;
        assert!(status == 400 || status == 422, "{path}: {out}");
    }
    let head = format!("GET /alerts/history?offset=0 HTTP/1.1\r\nHost: {}", s.addr);
    assert_eq!(s.raw(&head, "").await.0, 200);
}
