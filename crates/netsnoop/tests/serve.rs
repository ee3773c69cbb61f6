//! End to end: `netsnoop serve` takes NetWatch packets over HTTP into a real SQLite store
//! and answers NetWatch's queries; `run` serves the same API; a public address without a
//! token is refused before anything starts.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::KillOnDrop;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn spawn(dir: &std::path::Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .env_remove("NETSNOOP_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let rx = netsnoop_test_support::lines(child.stderr.take().unwrap());
    (child, rx)
}

/// Waits for the stderr line announcing the bound address (`http://ADDR/ (dashboard)`).
fn bound_addr(rx: &mpsc::Receiver<String>) -> SocketAddr {
    netsnoop_test_support::await_announced_addr(rx, Duration::from_secs(20))
}

/// One HTTP/1.1 request on a fresh connection; returns (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    netsnoop_test_support::http(addr, method, path, body)
}

fn wait_for_json(
    addr: SocketAddr,
    path: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    netsnoop_test_support::wait_for(
        Duration::from_secs(10),
        format_args!("{path} to match"),
        || {
            let (status, body) = http(addr, "GET", path, "");
            // Tolerate chunked framing: take the JSON between the first { or [ and the last } or ].
            let start = body.find(['{', '[']).unwrap_or(0);
            let end = body.rfind(['}', ']']).map_or(body.len(), |e| e + 1);
            serde_json::from_str::<serde_json::Value>(&body[start..end])
                .ok()
                .filter(|v| status == 200 && ok(v))
        },
    )
}

fn stop(child: Child) -> std::process::ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let mut child = KillOnDrop(child);
    netsnoop_test_support::wait_for(Duration::from_secs(5), "exit after SIGTERM", || {
        child.0.try_wait().unwrap()
    })
}

#[test]
fn serve_stores_posted_netwatch_packets_and_answers_netwatch_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (child, rx) = spawn(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    let addr = bound_addr(&rx);

    let now = jiff::Timestamp::now().as_second() - 10;
    let one = format!(
        r#"{{"timestamp":{now},"src_ip":"192.168.1.10","dst_ip":"10.0.0.1","protocol":"TCP","packet_size":60}}"#
    );
    let (status, body) = http(addr, "POST", "/packets", &one);
    assert_eq!(
        (status, body.contains(r#""status":"stored""#)),
        (200, true),
        "{body}"
    );
    let batch = format!(
        "[{}]",
        (0..9)
            .map(|i| format!(r#"{{"timestamp":{},"src_ip":"192.168.1.11","dst_ip":"10.0.0.1","protocol":"UDP","packet_size":100}}"#, now + i % 3))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(http(addr, "POST", "/packets", &batch).0, 200);
    let (status, body) = http(addr, "POST", "/packets", r#"{"src_ip":"nope"}"#);
    assert_eq!(status, 422, "{body}");

    // The rollups close each second on the pipeline's 1 s wall-clock tick.
    let summary = wait_for_json(addr, "/stats/summary", |v| v["total_packets"] == 10);
    assert_eq!(summary["unique_sources"], 2);
    assert_eq!(summary["total_bytes"], 960);
    let talkers = wait_for_json(addr, "/stats/top-talkers", |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    });
    assert_eq!(talkers[0]["src_ip"], "192.168.1.11");
    assert_eq!(talkers[0]["count"], 9);
    let recent = wait_for_json(addr, "/packets/recent?limit=1", |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    });
    assert_eq!(recent[0]["protocol"], "UDP");
    let health = wait_for_json(addr, "/health", |v| v["store"] == "sqlite");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    assert_eq!(stop(child).code(), Some(0));
    // Nothing accepted was lost: a second server over the same data dir sees it all.
    let (child, rx) = spawn(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    let addr = bound_addr(&rx);
    wait_for_json(addr, "/stats/summary", |v| v["total_packets"] == 10);
    assert_eq!(stop(child).code(), Some(0));
}

#[test]
fn run_serves_the_api_and_dashboard_on_its_port() {
    let dir = tempfile::tempdir().unwrap();
    let (child, rx) = spawn(
        dir.path(),
        &["run", "--no-capture", "--listen", "127.0.0.1:0"],
    );
    let addr = bound_addr(&rx);
    let health = wait_for_json(addr, "/health", |v| v["status"].is_string());
    assert!(
        health["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "api (POST /packets)")
    );
    let (status, page) = http(addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "{page}");
    assert_eq!(stop(child).code(), Some(0));
}

#[test]
fn a_public_address_without_a_token_is_refused_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("c.toml"))
        .env_remove("NETSNOOP_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NETSNOOP_TOKEN") && err.contains("refusing to listen on 0.0.0.0"),
        "{err}"
    );
}

/// `n` port-less packets from `src` within one second, as NetWatch's agent sends them.
fn portless_batch(src: &str, n: usize, at: i64) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"timestamp":{},"src_ip":"{src}","dst_ip":"10.0.0.1","protocol":"OTHER","packet_size":60}}"#,
                at as f64 + i as f64 / 1000.0
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

#[test]
fn serve_and_run_raise_netwatchs_rule_on_51_portless_packets_from_one_source_and_not_on_50() {
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["run", "--no-capture", "--listen", "127.0.0.1:0"][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (child, rx) = spawn(dir.path(), args);
        let addr = bound_addr(&rx);
        let at = jiff::Timestamp::now().as_second() - 5;
        // Fifty first, in their own request: had they tripped the rule, their alert would
        // be stored before the fifty-one's.
        assert_eq!(
            http(
                addr,
                "POST",
                "/packets",
                &portless_batch("10.5.0.50", 50, at)
            )
            .0,
            200
        );
        assert_eq!(
            http(
                addr,
                "POST",
                "/packets",
                &portless_batch("10.5.0.51", 51, at)
            )
            .0,
            200
        );
        let alerts = wait_for_json(addr, "/alerts", |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|x| x["src_ip"] == "10.5.0.51"))
        });
        let alerts = alerts.as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{args:?}: only the 51: {alerts:?}");
        assert!(alerts[0]["packet_count"].as_u64().unwrap() > 50);
        let text = alerts[0]["alert"].as_str().unwrap();
        assert!(text.contains("more than 50 packets within 10 s"), "{text}");
        assert_eq!(stop(child).code(), Some(0));
    }
}

#[test]
fn serve_raises_a_port_scan_on_posted_syns_to_100_closed_ports() {
    let dir = tempfile::tempdir().unwrap();
    let (child, rx) = spawn(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    let addr = bound_addr(&rx);
    let at = jiff::Timestamp::now().as_second() - 5;
    let mut rows = Vec::new();
    for port in 1000..1100 {
        let t = at as f64 + f64::from(port - 1000) / 100.0;
        rows.push(format!(
            r#"{{"timestamp":{t},"src_ip":"10.66.0.1","dst_ip":"10.0.0.5","protocol":"TCP","packet_size":60,"src_port":40000,"dst_port":{port},"tcp_flags":"S"}}"#
        ));
        // The closed port answers with RST+ACK.
        rows.push(format!(
            r#"{{"timestamp":{},"src_ip":"10.0.0.5","dst_ip":"10.66.0.1","protocol":"TCP","packet_size":54,"src_port":{port},"dst_port":40000,"tcp_flags":"RA"}}"#,
            t + 0.001
        ));
    }
    let (status, body) = http(addr, "POST", "/packets", &format!("[{}]", rows.join(",")));
    assert_eq!(status, 200, "{body}");
    let alerts = wait_for_json(addr, "/alerts?extended=true", |v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|x| x["kind"] == "net.portscan"))
    });
    let scan = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "net.portscan")
        .unwrap();
    assert_eq!(scan["src_ip"], "10.66.0.1");
    assert_eq!(scan["dst_ip"], "10.0.0.5");
    assert_eq!(stop(child).code(), Some(0));
}
