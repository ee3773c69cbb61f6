//! Agents against a real server: enrolment with the secret, batches stored once with their
//! host however often they are sent, and every bad key, batch or encoding refused without
//! changing what is stored.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer};
use flate2::Compression;
use flate2::write::GzEncoder;
use netsnoop_core::fleet::{AgentStatus, IngestBatch};
use netsnoop_core::{
    Alert, AlertState, Event, Host, ProcEventKind, ProcessEvent, Record, Severity, Subject, Ts,
};
use netsnoop_server::fleet::FleetConfig;
use serde_json::{Value, json};
use std::io::Write;

const SECRET: &str = "enrol-me-0123456789";

async fn server() -> TestServer {
    TestServer::start_with(Options {
        fleet: FleetConfig {
            enrollment_secret: Some(SECRET.into()),
            ..FleetConfig::default()
        },
        ..Options::default()
    })
    .await
}

fn host(id: &str) -> Host {
    Host::new(id, format!("{id}.example")).unwrap()
}

async fn enroll(s: &TestServer, id: &str, secret: &str) -> (u16, Value) {
    let resp = s
        .client
        .post(s.url("/api/v1/enroll"))
        .json(&json!({"secret": secret, "host": host(id), "agent_version": "9.9.9"}))
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn key_for(s: &TestServer, id: &str) -> String {
    let (status, body) = enroll(s, id, SECRET).await;
    assert_eq!(status, 200, "{body}");
    body["key"].as_str().unwrap().to_string()
}

fn exec(pid: u32, at: i64) -> Record {
    Record::Event(Event::Process(ProcessEvent {
        time: Ts::from_secs(at),
        kind: ProcEventKind::Exec,
        pid,
        ppid: 1,
        comm: "curl".into(),
        argv: vec!["curl".into(), format!("marker-{pid}")],
        argv_complete: true,
        ..ProcessEvent::default()
    }))
}

fn sample(at: i64) -> Record {
    Record::Event(Event::Resources(netsnoop_core::ResourceSample {
        system: netsnoop_core::SystemSample {
            time: Ts::from_secs(at),
            cpu_pct: 42.0,
            ..Default::default()
        },
        ..Default::default()
    }))
}

fn alert(at: i64) -> Record {
    Record::Alert(Alert {
        host: None,
        id: format!("process.burst/1/{at}"),
        kind: "process.burst".into(),
        severity: Severity::High,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::from_secs(at),
        last_seen: Ts::from_secs(at),
        subject: Subject::process(1, "bash"),
        message: "9 new processes under bash".into(),
        details: json!({"count": 9}),
    })
}

fn batch(id: &str, seq: u64, records: Vec<Record>) -> Vec<u8> {
    serde_json::to_vec(&IngestBatch {
        version: 1,
        host: host(id),
        agent_version: "9.9.9".into(),
        seq,
        sent_at: Ts::now(),
        records,
        status: AgentStatus {
            spool_batches: 3,
            ..AgentStatus::default()
        },
    })
    .unwrap()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(body).unwrap();
    gz.finish().unwrap()
}

async fn ship(
    s: &TestServer,
    key: Option<&str>,
    body: Vec<u8>,
    encoding: Option<&str>,
) -> (u16, Value) {
    let mut req = s
        .client
        .post(s.url("/api/v1/ingest"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(k) = key {
        req = req.header("x-netsnoop-agent-key", k);
    }
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

fn stored_execs(s: &TestServer) -> Vec<ProcessEvent> {
    s.store.process_events(1_000, None).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_stored_once_with_its_host_however_often_it_is_sent() {
    let s = server().await;
    let (status, body) = enroll(&s, "web-1", "not-the-secret-at-all").await;
    assert_eq!(status, 401, "{body}");
    let key = key_for(&s, "web-1").await;
    assert_eq!(key.len(), 64);

    let now = Ts::now().secs();
    let first = batch(
        "web-1",
        1,
        vec![exec(10, now - 5), exec(11, now - 4), alert(now - 4)],
    );
    let (status, body) = ship(&s, Some(&key), first.clone(), None).await;
    assert_eq!((status, &body), (200, &json!({"committed": 1})));
    // The answer was lost and the agent sends the same batch again: nothing is added.
    let (status, body) = ship(&s, Some(&key), gzip(&first), Some("gzip")).await;
    assert_eq!((status, &body), (200, &json!({"committed": 1})));
    let (status, _) = ship(
        &s,
        Some(&key),
        gzip(&batch("web-1", 2, vec![exec(12, now - 3), sample(now - 3)])),
        Some("gzip"),
    )
    .await;
    assert_eq!(status, 200);

    let execs = stored_execs(&s);
    let mut pids: Vec<u32> = execs.iter().map(|e| e.pid).collect();
    pids.sort_unstable();
    assert_eq!(pids, vec![10, 11, 12], "each exec stored exactly once");
    assert!(
        execs
            .iter()
            .all(|e| e.host.as_deref() == Some(&host("web-1")))
    );
    let alerts = s.store.alerts(&Default::default()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].id, format!("web-1:process.burst/1/{}", now - 4));
    assert_eq!(alerts[0].host.as_deref(), Some(&host("web-1")));

    let hosts: Value = s
        .client
        .get(s.url("/hosts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let web = hosts
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "web-1")
        .unwrap();
    assert_eq!(web["hostname"], "web-1.example");
    assert_eq!(web["committed_seq"], 2);
    assert_eq!(web["status"], "up");
    assert_eq!(web["agent_version"], "9.9.9");
    assert_eq!(web["agent"]["spool_batches"], 3);
    assert!(web["lag_secs"].as_f64().unwrap() >= 3.0, "{web}");

    // The agent's sample is stored under its host, not shown as this server's own.
    assert_eq!(
        s.store
            .system_samples(netsnoop_store::TimeRange::ALL, 10)
            .unwrap()
            .len(),
        1
    );
    let (_, system) = get(&s, "/system").await;
    assert!(system["current"].is_null(), "{system}");

    let metrics = s.metrics().await;
    for line in [
        r#"netsnoop_agent_batches_total{host="web-1.example",host_id="web-1"} 2"#,
        r#"netsnoop_agent_spool_batches{host="web-1.example",host_id="web-1"} 3"#,
        r#"netsnoop_fleet_hosts{status="up"} 1"#,
        r#"netsnoop_fleet_hosts{status="down"} 0"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_batches_and_encodings_are_refused_and_change_nothing() {
    let s = server().await;
    let key_a = key_for(&s, "host-a").await;
    let _key_b = key_for(&s, "host-b").await;
    let now = Ts::now().secs();
    let good = || batch("host-a", 1, vec![exec(20, now)]);

    // (what, key, body, Content-Encoding, expected status)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, Option<&'a str>, u16);
    let cases: Vec<Case> = vec![
        ("no key", None, good(), None, 401),
        ("a wrong key", Some("00ff"), good(), None, 401),
        (
            "another agent's id",
            Some(&key_a),
            batch("host-b", 1, vec![exec(21, now)]),
            None,
            401,
        ),
        (
            "an unknown host",
            Some(&key_a),
            batch("host-z", 1, vec![exec(22, now)]),
            None,
            401,
        ),
        ("not JSON", Some(&key_a), b"{not json".to_vec(), None, 400),
        (
            "a damaged gzip body",
            Some(&key_a),
            b"\x1f\x8bjunk".to_vec(),
            Some("gzip"),
            400,
        ),
        ("an unknown encoding", Some(&key_a), good(), Some("br"), 415),
        (
            "a missing field",
            Some(&key_a),
            br#"{"version":1}"#.to_vec(),
            None,
            422,
        ),
        (
            "another wire version",
            Some(&key_a),
            String::from_utf8(good())
                .unwrap()
                .replacen("\"version\":1", "\"version\":99", 1)
                .into_bytes(),
            None,
            400,
        ),
    ];
    for (what, key, body, encoding, want) in cases {
        let (status, answer) = ship(&s, key, body, encoding).await;
        assert_eq!(status, want, "{what}: {answer}");
        // Only a host the server has never heard of may enrol again by itself.
        if status == 401 {
            let code = if what == "an unknown host" {
                "unknown_host"
            } else {
                "unauthorized"
            };
            assert_eq!(answer["error"], code, "{what}: {answer}");
        }
        assert!(
            answer["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {answer}"
        );
    }
    assert!(stored_execs(&s).is_empty(), "nothing refused was stored");

    // A batch that inflates past the limit is refused before it is parsed.
    let small = TestServer::start_with(Options {
        fleet: FleetConfig {
            enrollment_secret: Some(SECRET.into()),
            max_batch_bytes: 1_000,
            ..FleetConfig::default()
        },
        ..Options::default()
    })
    .await;
    let key = key_for(&small, "host-a").await;
    let big = batch("host-a", 1, (0..50).map(|i| exec(100 + i, now)).collect());
    let (status, answer) = ship(&small, Some(&key), gzip(&big), Some("gzip")).await;
    assert_eq!(status, 413, "{answer}");
    assert!(stored_execs(&small).is_empty());
    small.shutdown().await;

    // Revoked: 401, and it says so; enrolling again lifts it.
    assert!(s.store.revoke_host("host-a").unwrap());
    let (status, answer) = ship(&s, Some(&key_a), good(), None).await;
    assert_eq!(status, 401);
    assert!(
        answer["detail"].as_str().unwrap().contains("revoked"),
        "{answer}"
    );
    assert!(stored_execs(&s).is_empty());
    let again = key_for(&s, "host-a").await;
    assert_eq!(ship(&s, Some(&again), good(), None).await.0, 200);
    assert_eq!(stored_execs(&s).len(), 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_no_agent_can_enrol() {
    let s = TestServer::start().await;
    let (status, body) = enroll(&s, "web-1", SECRET).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("NETSNOOP_ENROLL_SECRET")
    );
    s.shutdown().await;
}

fn flow(port: u16, at: i64) -> Record {
    Record::Event(Event::Flow(netsnoop_core::FlowRecord {
        first_seen: Ts::from_secs(at - 1),
        last_seen: Ts::from_secs(at),
        protocol: netsnoop_core::Protocol::Tcp,
        orig_ip: Some("10.0.0.1".parse().unwrap()),
        orig_port: port,
        resp_ip: Some("10.0.0.2".parse().unwrap()),
        resp_port: 443,
        ..netsnoop_core::FlowRecord::default()
    }))
}

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    let resp = s.client.get(s.url(path)).send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_filters_pick_one_hosts_records_by_id_or_name() {
    let s = server().await;
    let now = Ts::now().secs();
    for (i, id) in ["web-1", "web-2"].into_iter().enumerate() {
        let key = key_for(&s, id).await;
        let n = i as u32;
        let records = vec![
            exec(30 + n, now - 2),
            alert(now - 10 + i as i64),
            flow(5000 + n as u16, now - 1),
        ];
        assert_eq!(
            ship(&s, Some(&key), batch(id, 1, records), None).await.0,
            200
        );
    }
    let hosts_of = |v: &Value, list: &str| -> Vec<String> {
        let rows = if list.is_empty() {
            v.as_array().unwrap()
        } else {
            v[list].as_array().unwrap()
        };
        let mut ids: Vec<String> = rows
            .iter()
            .map(|r| r["host"]["id"].as_str().unwrap_or("none").to_string())
            .collect();
        ids.sort();
        ids
    };
    let (_, all) = get(&s, "/alerts/history").await;
    assert_eq!(hosts_of(&all, "items"), ["web-1", "web-2"], "{all}");
    let (_, one) = get(&s, "/alerts/history?host=web-1").await;
    assert_eq!(hosts_of(&one, "items"), ["web-1"], "{one}");
    let (_, by_name) = get(&s, "/alerts/history?host=web-2.example").await;
    assert_eq!(hosts_of(&by_name, "items"), ["web-2"], "{by_name}");
    let (_, both) = get(&s, "/alerts/history?host=web-1&host=web-2").await;
    assert_eq!(hosts_of(&both, "items"), ["web-1", "web-2"]);
    let (_, none) = get(&s, "/alerts/history?host=nobody").await;
    assert!(none["items"].as_array().unwrap().is_empty(), "{none}");

    let (_, flows) = get(&s, "/flows?host=web-2").await;
    let ports: Vec<u64> = flows["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["orig_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [5001], "{flows}");
    let (_, events) = get(&s, "/events/process?host=web-1,web-2").await;
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    let (_, events) = get(&s, "/events/process?host=web-1").await;
    assert_eq!(hosts_of(&events, ""), ["web-1"], "{events}");

    s.shutdown().await;
}

/// One second of traffic: `packets` packets of 100 bytes from `src` to 10.9.9.9.
fn traffic(at: i64, src: &str, protocol: netsnoop_core::Protocol, packets: u64) -> Record {
    let c = netsnoop_core::net::traffic::Counts {
        packets,
        bytes: packets * 100,
    };
    Record::Event(Event::Traffic(netsnoop_core::TrafficSecond {
        second: at,
        total: c,
        by_protocol: vec![(protocol, c)],
        by_src: vec![(src.parse().unwrap(), c)],
        by_dst: vec![("10.9.9.9".parse().unwrap(), c)],
        unique_src: 1,
        unique_dst: 1,
        ..netsnoop_core::TrafficSecond::default()
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_statistics_of_one_host_count_only_its_traffic() {
    use netsnoop_core::Protocol::{Tcp, Udp};
    let s = server().await;
    let now = Ts::now().secs();
    let sent = [
        ("web-1", "10.0.0.1", Tcp, 10),
        ("web-2", "10.0.0.2", Udp, 4),
    ];
    for (id, src, proto, n) in sent {
        let key = key_for(&s, id).await;
        let records = vec![traffic(now - 3, src, proto, n)];
        assert_eq!(
            ship(&s, Some(&key), batch(id, 1, records), None).await.0,
            200
        );
    }
    let since = now - 60;
    for range in ["", &format!("&since={since}")] {
        let total = |v: &Value| v["total_packets"].as_u64().unwrap();
        let (_, one) = get(&s, &format!("/stats/summary?host=web-1{range}")).await;
        assert_eq!(
            (total(&one), one["unique_sources"].as_u64()),
            (10, Some(1)),
            "{one}"
        );
        let (_, by_name) = get(&s, &format!("/stats/summary?host=web-2.example{range}")).await;
        assert_eq!(total(&by_name), 4, "{by_name}");
        let (_, all) = get(&s, &format!("/stats/summary?x=1{range}")).await;
        assert_eq!(
            (total(&all), all["unique_sources"].as_u64()),
            (14, Some(2)),
            "{all}"
        );
        let (_, both) = get(&s, &format!("/stats/summary?host=web-1,web-2{range}")).await;
        assert_eq!(total(&both), 14, "{both}");
        // Both hosts saw the same destination: it counts once.
        assert_eq!(all["unique_destinations"], 1, "{all}");
        let (_, none) = get(&s, &format!("/stats/summary?host=nobody{range}")).await;
        assert_eq!(total(&none), 0, "{none}");

        let (_, talkers) = get(&s, &format!("/stats/top-talkers?host=web-2{range}")).await;
        assert_eq!(talkers, json!([{"src_ip": "10.0.0.2", "count": 4}]));
        let (_, talkers) = get(&s, &format!("/stats/top-talkers?x=1{range}")).await;
        assert_eq!(talkers.as_array().unwrap().len(), 2, "{talkers}");
        let (_, protos) = get(
            &s,
            &format!("/stats/protocol-distribution?host=web-1{range}"),
        )
        .await;
        assert_eq!(protos, json!([{"protocol": "TCP", "count": 10}]));
    }
    let path = format!("/stats/traffic-over-time?bucket=60s&since={since}&host=web-2");
    let (_, buckets) = get(&s, &path).await;
    let packets: u64 = buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets, 4, "{buckets}");
    s.shutdown().await;
}
