//! The live surfaces: the SSE stream delivers a real alert raised from POSTed packets, a
//! client that stops reading is dropped without stalling the pipeline, /metrics parses as
//! exposition text, the docs and dashboard are served offline, and answers are gzipped
//! for clients that ask while the stream never is.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, packet};
use netsnoop_core::{Event, Loss, ProcessEvent, Record, Ts};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Reads SSE frames until one of `event` arrives; returns its data.
async fn next_event(resp: &mut reqwest::Response, event: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    let mut buf = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{event}` event within {within:?}; got:\n{buf}"))
            .unwrap()
            .expect("stream ended");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let name = frame
                .lines()
                .find_map(|l| l.strip_prefix("event:"))
                .map(str::trim);
            let data: String = frame
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .collect();
            if name == Some(event) {
                return serde_json::from_str(&data).unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_delivers_a_port_scan_alert_raised_from_posted_packets() {
    let s = TestServer::start().await;
    let mut stream = s.client.get(s.url("/stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The first tick proves the subscription is live before the scan starts.
    next_event(&mut stream, "tick", Duration::from_secs(10)).await;

    // 30 UDP probes to closed ports of one host, none answered.
    let t0 = jiff::Timestamp::now().as_second() as f64 - 120.0;
    let probes: Vec<Value> = (0..30)
        .map(|i| {
            let mut p = packet(t0 + f64::from(i) * 0.1, "10.66.0.1", "10.0.0.5", "UDP", 42);
            p["src_port"] = 40000.into();
            p["dst_port"] = (1000 + i).into();
            p
        })
        .collect();
    let (status, body) = s.post(&Value::Array(probes).to_string()).await;
    assert_eq!(status, 200, "{body}");
    s.settle(30).await;

    let alert = next_event(&mut stream, "alert", Duration::from_secs(10)).await;
    assert_eq!(alert["kind"], "net.portscan");
    assert_eq!(alert["src_ip"], "10.66.0.1");
    assert!(alert["alert"].as_str().is_some_and(|a| !a.is_empty()));

    let active = s.get_json("/alerts?extended=true").await;
    assert_eq!(active[0]["src_ip"], "10.66.0.1");
    for key in [
        "src_ip",
        "packet_count",
        "alert",
        "kind",
        "severity",
        "ports",
        "first_seen",
    ] {
        assert!(
            active[0].get(key).is_some(),
            "/alerts item lacks {key}: {}",
            active[0]
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_without_stalling_the_pipeline() {
    let s = TestServer::start().await;
    let stalled = s.client.get(s.url("/stream")).send().await.unwrap();
    let hub = s.hub.clone();
    // Enough large exec events to overflow the socket buffers and the per-client queue.
    let exec = Record::Event(Event::Process(ProcessEvent {
        time: Ts::from_secs(1),
        pid: 4242,
        comm: "x".into(),
        argv: vec!["y".repeat(4000)],
        ..ProcessEvent::default()
    }));
    let batch = vec![exec; 100];
    let started = Instant::now();
    let dropped = tokio::task::spawn_blocking(move || {
        for _ in 0..400 {
            hub.publish(&batch);
            if hub.metrics().sse_clients_dropped.get() > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    })
    .await
    .unwrap();
    assert!(dropped, "the stalled client was never dropped");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "publishing stalled"
    );
    drop(stalled);
    // Others can still connect and receive.
    let mut fresh = s.client.get(s.url("/stream")).send().await.unwrap();
    next_event(&mut fresh, "tick", Duration::from_secs(10)).await;
    let health = s.get_json("/health").await;
    assert!(health["stream_clients_dropped"].as_u64().unwrap() >= 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_exposition_text_with_packets_by_protocol() {
    let s = TestServer::start().await;
    let t = jiff::Timestamp::now().as_second() as f64 - 30.0;
    let batch = Value::Array(vec![
        packet(t, "10.0.0.1", "10.0.0.2", "TCP", 100),
        packet(t, "10.0.0.1", "10.0.0.2", "TCP", 50),
        packet(t, "10.0.0.1", "10.0.0.2", "UDP", 10),
    ]);
    assert_eq!(s.post(&batch.to_string()).await.0, 200);
    let loss = |source: &str, count| {
        Event::Loss(Loss {
            host: None,
            time: Ts::from_secs(t as i64),
            source: source.into(),
            count,
            reason: "buffer overrun".into(),
        })
    };
    s.send_events(vec![loss("proc_connector", 3), loss("capture:lo", 7)]);
    s.settle(5).await;
    let text = s.metrics().await;
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition text");
    let value = |name: &str, label: Option<(&str, &str)>| -> Option<f64> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        value("netsnoop_packets_total", Some(("protocol", "TCP"))),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value("netsnoop_bytes_total", Some(("protocol", "TCP"))),
        Some(150.0)
    );
    assert_eq!(
        value("netsnoop_packets_total", Some(("protocol", "UDP"))),
        Some(1.0)
    );
    assert_eq!(
        value("netsnoop_api_ingested_packets_total", None),
        Some(3.0)
    );
    assert!(
        value("process_resident_memory_bytes", None).unwrap() > 1e6,
        "own RSS under the standard name"
    );
    assert!(
        value("process_cpu_seconds_total", None).is_some(),
        "own CPU under the standard name"
    );
    // A reason no source gives is counted under cause/place "other", never dropped.
    assert_eq!(
        value(
            "netsnoop_exec_events_lost_total",
            Some(("source", "netlink"))
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            "netsnoop_capture_dropped_packets_total",
            Some(("interface", "lo"))
        ),
        Some(7.0)
    );
    for family in [
        "netsnoop_alerts_active",
        "netsnoop_system_cpu_percent",
        "netsnoop_system_memory_used_bytes",
        "netsnoop_flows",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family}")),
            "missing {family}"
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_work_offline_and_describe_every_endpoint() {
    let s = TestServer::start().await;
    let spec = s.get_json("/openapi.json").await;
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/packets",
        "/stats/summary",
        "/stats/top-talkers",
        "/stats/protocol-distribution",
        "/stats/traffic-over-time",
        "/packets/recent",
        "/alerts",
        "/alerts/history",
        "/system",
        "/processes",
        "/processes/{pid}",
        "/events/process",
        "/flows",
        "/health",
        "/stream",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    let page = s
        .client
        .get(s.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/docs/swagger-ui-bundle.js") && !page.contains("https://"),
        "{page}"
    );
    let bundle = s
        .client
        .get(s.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(
        bundle.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(bundle.bytes().await.unwrap().len() > 500_000);
    let index = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let missing = s.client.get(s.url("/no/such/thing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_is_gzipped_for_a_client_that_asks_and_reads_back_the_same() {
    use std::io::Read;
    let s = TestServer::start().await;
    let plain: Value = s.get_json("/openapi.json").await;
    let resp = s
        .client
        .get(s.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let packed = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(packed.len() * 3 < text.len(), "JSON should shrink well");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), plain);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_never_compressed_so_events_arrive_as_they_happen() {
    let s = TestServer::start().await;
    let mut stream = s
        .client
        .get(s.url("/stream"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers().get("content-encoding").is_none());
    next_event(&mut stream, "tick", Duration::from_secs(10)).await;
    s.shutdown().await;
}
