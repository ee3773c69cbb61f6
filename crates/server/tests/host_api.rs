//! Host endpoints and alert history against a real server and store: scripted resource
//! samples and exec events go through the pipeline like the sampler's and the proc
//! connector's, and a real port scan raised from POSTed packets fills the alerts.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, packet, scrub_times};
use netsnoop_core::process::event::Ancestor;
use netsnoop_core::{
    Event, ProcEventKind, ProcSample, ProcessEvent, ResourceSample, SystemSample, Ts,
};
use serde_json::Value;

fn proc(pid: u32, ppid: u32, comm: &str, cpu: f64, rss_mb: u64) -> ProcSample {
    ProcSample {
        pid,
        start_ticks: u64::from(pid) * 10,
        ppid,
        comm: comm.into(),
        user: Some("root".into()),
        cmdline: format!("/usr/bin/{comm}"),
        cpu_pct: cpu,
        rss_bytes: rss_mb << 20,
    }
}

fn sample(t: i64, cpu: f64) -> Event {
    Event::Resources(ResourceSample {
        host: None,
        system: SystemSample {
            time: Ts::from_secs(t),
            cpu_pct: cpu,
            per_core_pct: vec![cpu, cpu],
            mem_total: 8 << 30,
            mem_used: 2 << 30,
            mem_available: 6 << 30,
            load1: 0.5,
            load5: 0.25,
            load15: 0.125,
            forks_total: 1000,
            procs_running: 2,
            ..SystemSample::default()
        },
        processes: vec![
            proc(1, 0, "systemd", 0.5, 12),
            proc(100, 1, "sshd", 0.0, 8),
            proc(200, 100, "bash", 1.0, 4),
            proc(300, 200, "python3", 97.0, 900),
            proc(400, 1, "postgres", 3.0, 1500),
        ],
    })
}

fn exec(t: i64) -> Event {
    Event::Process(ProcessEvent {
        time: Ts::from_secs(t),
        kind: ProcEventKind::Exec,
        pid: 300,
        ppid: 200,
        uid: Some(0),
        user: Some("root".into()),
        comm: "python3".into(),
        exe: Some("/usr/bin/python3".into()),
        argv: vec![
            "python3".into(),
            "mine.py".into(),
            "--threads=\u{1b}[31m8".into(),
        ],
        argv_complete: true,
        ancestry: vec![
            Ancestor {
                pid: 200,
                comm: "bash".into(),
            },
            Ancestor {
                pid: 100,
                comm: "sshd".into(),
            },
            Ancestor {
                pid: 1,
                comm: "systemd".into(),
            },
        ],
        ..ProcessEvent::default()
    })
}

async fn with_host_data() -> TestServer {
    let s = TestServer::start().await;
    let t0 = 1_763_726_400;
    s.send_events(vec![exec(t0), sample(t0, 40.0), sample(t0 + 1, 42.5)]);
    // A UDP port scan, so the alert endpoints have a real alert.
    let probes: Vec<Value> = (0..20)
        .map(|i| {
            let mut p = packet(
                t0 as f64 + 2.0 + f64::from(i) * 0.1,
                "10.66.0.1",
                "10.0.0.5",
                "UDP",
                42,
            );
            p["src_port"] = 40000.into();
            p["dst_port"] = (2000 + i).into();
            p
        })
        .collect();
    assert_eq!(s.post(&Value::Array(probes).to_string()).await.0, 200);
    s.settle(30).await;
    s
}

async fn snapshot(s: &TestServer, name: &str, path: &str) -> Value {
    let mut v = s.get_json(path).await;
    scrub_times(&mut v);
    insta::assert_json_snapshot!(name, v, {
        ".uptime_secs" => "[uptime]",
        ".version" => "[version]",
        ".writer.batches" => "[batches]",
        ".writer.tables.*.batches" => "[batches]",
        // A second's rollup may reach the store in parts (checkpoints).
        ".writer.tables.traffic_seconds.records" => "[records]",
        ".writer.rows_written" => "[rows]",
        ".writer.records_written" => "[records]",
    });
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_endpoints_show_the_live_snapshot() {
    let s = with_host_data().await;
    let system = snapshot(&s, "system", "/system").await;
    assert_eq!(system["history"].as_array().unwrap().len(), 2);
    assert_eq!(system["current"]["cpu_pct"], 42.5);
    let newest = s.get_json("/system?limit=1").await;
    let newest = newest["history"].as_array().unwrap();
    assert_eq!(newest.len(), 1, "limit keeps only the newest samples");
    assert_eq!(
        newest[0]["cpu_pct"], 42.5,
        "the newest sample is the current one"
    );

    let procs = snapshot(&s, "processes", "/processes").await;
    assert_eq!(procs["top_cpu"][0]["comm"], "python3");
    assert_eq!(procs["top_memory"][0]["comm"], "postgres");
    assert_eq!(
        procs["tree"][0]["children"][0]["children"][0]["children"][0]["pid"],
        300
    );

    let detail = snapshot(&s, "process_300", "/processes/300").await;
    let chain: Vec<u64> = detail["ancestry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(chain, [200, 100, 1], "parent first, up to pid 1");
    assert_eq!(
        detail["exec"]["argv"][2], "--threads=\u{1b}[31m8",
        "argv travels as data, untouched"
    );

    let missing = s
        .client
        .get(s.url("/processes/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let bad = s.client.get(s.url("/processes/abc")).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    let execs = snapshot(&s, "events_process", "/events/process?limit=5").await;
    assert_eq!(execs.as_array().unwrap().len(), 1);
    for key in ["pid", "ppid", "user", "exe", "argv"] {
        assert!(execs[0].get(key).is_some(), "exec event lacks {key}");
    }

    let health = snapshot(&s, "health", "/health").await;
    assert_eq!(health["store"], "sqlite");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_list_active_network_alerts_and_history_pages_through_everything() {
    let s = with_host_data().await;
    let active = snapshot(&s, "alerts_active", "/alerts?extended=true").await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["kind"], "net.portscan");

    let all = s.get_json("/alerts?all=true").await;
    assert!(all.as_array().unwrap().len() >= active.as_array().unwrap().len());

    let page = snapshot(
        &s,
        "alerts_history",
        "/alerts/history?kind=net.portscan&severity=low&limit=1",
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let none = s
        .get_json("/alerts/history?severity=critical&kind=net.portscan&state=resolved")
        .await;
    assert!(none["items"].as_array().unwrap().is_empty());
    assert_eq!(none["next_offset"], Value::Null);
    s.shutdown().await;
}
