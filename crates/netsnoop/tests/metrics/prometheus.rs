//! A real Prometheus (Debian's `prometheus`) scrapes `netsnoop run -i lo` every second,
//! with the shipped rules loaded, while nmap scans 127.0.0.1 and a shell spawns a burst;
//! PromQL over its HTTP API then shows the scan's packets on lo, the alerts by kind, no
//! drops, `up` = 1 throughout, and every shipped rule evaluating without error.

use crate::run::Run;
use netsnoop_test_support::{KillOnDrop, wait_for};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contrib/prometheus")
}

/// A Prometheus server on a free loopback port with a throwaway TSDB.
struct Prometheus {
    addr: SocketAddr,
    _process: KillOnDrop,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let rules = rules_dir()
            .join("netsnoop.rules.yml")
            .canonicalize()
            .unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: netsnoop\n    static_configs:\n      - targets: ['{target}']\n",
            rules.display()
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs (scripts/setup.sh test installs Debian's prometheus)");
        let p = Prometheus {
            addr,
            _process: KillOnDrop(child),
            _dir: dir,
        };
        wait_for(Duration::from_secs(30), "prometheus ready", || {
            std::thread::sleep(Duration::from_millis(100));
            (get(addr, "/-/ready").0 == 200).then_some(())
        });
        p
    }

    /// The instant vector of `promql`, as (labels, value) pairs.
    fn query(&self, promql: &str) -> Vec<(Value, f64)> {
        let (status, body) = get(
            self.addr,
            &format!("/api/v1/query?query={}", encode(promql)),
        );
        assert_eq!(status, 200, "{promql}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let value = r["value"][1].as_str().unwrap().parse().unwrap();
                (r["metric"].clone(), value)
            })
            .collect()
    }

    /// The single value of `promql` (None for an empty result).
    fn scalar(&self, promql: &str) -> Option<f64> {
        self.query(promql).first().map(|(_, v)| *v)
    }

    fn wait_until(&self, promql: &str, ok: impl Fn(f64) -> bool) -> f64 {
        wait_for(Duration::from_secs(90), promql, || {
            std::thread::sleep(Duration::from_millis(500));
            self.scalar(promql).filter(|v| ok(*v))
        })
    }
}

/// GET over HTTP/1.0 (no chunked answer to undo).
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut out = String::new();
    if write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").is_err()
        || s.read_to_string(&mut out).is_err()
    {
        return (0, String::new());
    }
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_real_prometheus_sees_the_scan_on_lo_the_alerts_by_kind_no_drops_and_up_throughout() {
    let run = Run::start();
    let prom = Prometheus::start(run.addr);
    let started = Instant::now();
    prom.wait_until(r#"up{job="netsnoop"}"#, |v| v == 1.0);
    let before = prom
        .scalar(r#"netsnoop_capture_packets_total{interface="lo"}"#)
        .expect("capture on lo exported from the first scrape");

    let nmap = Command::new("nmap")
        .args(["-sS", "-n", "-Pn", "-T4", "-p", "1-2000", "127.0.0.1"])
        .stdout(Stdio::null())
        .status()
        .expect("nmap runs");
    assert!(nmap.success());
    let burst = Command::new("sh")
        .args(["-c", "for i in $(seq 20); do sleep 0.3 & done; wait"])
        .status()
        .unwrap();
    assert!(burst.success());

    // A SYN scan of 2,000 ports is at least 4,000 packets on lo (probe and answer).
    let packets = prom.wait_until(r#"netsnoop_capture_packets_total{interface="lo"}"#, |v| {
        v >= before + 4_000.0
    });
    let raised = |kind: &str| {
        prom.wait_until(
            &format!(r#"sum(netsnoop_alerts_raised_total{{kind="{kind}"}})"#),
            |v| v >= 1.0,
        )
    };
    assert!(raised("net.portscan") >= 1.0);
    assert!(raised("process.burst") >= 1.0);
    let by_kind = prom.query("sum by (kind) (netsnoop_alerts_raised_total) > 0");
    assert!(by_kind.len() >= 2, "{by_kind:?}");

    // The TSDB holds this run only: an hour's window is the whole of it. Some more
    // scrapes first, so "throughout" covers the scan, the burst and after.
    let scrapes = prom.wait_until(r#"count_over_time(up{job="netsnoop"}[1h])"#, |v| v >= 5.0);
    assert_eq!(
        prom.scalar("sum(max_over_time(netsnoop_capture_dropped_packets_total[1h]))"),
        Some(0.0),
        "the capture dropped packets"
    );
    assert_eq!(
        prom.scalar(r#"min_over_time(up{job="netsnoop"}[1h])"#),
        Some(1.0),
        "a scrape failed"
    );
    assert!(
        scrapes as u64 + 2 >= started.elapsed().as_secs().saturating_sub(2) / 2,
        "{scrapes} scrapes in {:?}",
        started.elapsed()
    );

    // The shipped rules evaluate against real series without error, and NetsnoopDown
    // stays quiet while the target is up.
    let (status, body) = get(prom.addr, "/api/v1/rules");
    assert_eq!(status, 200);
    let rules: Value = serde_json::from_str(&body).unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    let all: Vec<&Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert!(all.len() >= 11, "{body}");
    for r in &all {
        assert_eq!(
            r["health"], "ok",
            "rule {} failed: {}",
            r["name"], r["lastError"]
        );
    }
    assert!(prom.query(r#"ALERTS{alertname="NetsnoopDown"}"#).is_empty());
    assert!(packets >= before + 4_000.0);
}
