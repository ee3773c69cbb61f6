//! End to end on `netsnoop serve`: one packet with a bad time can no longer hold back the
//! traffic statistics of every later packet. Times beyond the clock rule are refused and
//! counted; within it, an early packet delays only its own second; after kill -9 the
//! counts match the rows stored.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::KillOnDrop;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

struct Serve {
    /// Killed with the test, pass or fail.
    _child: KillOnDrop,
    addr: SocketAddr,
}

impl Serve {
    fn start(dir: &std::path::Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
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
        let child = KillOnDrop(child);
        let addr = netsnoop_test_support::await_announced_addr(&rx, Duration::from_secs(20));
        Serve {
            _child: child,
            addr,
        }
    }

    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        netsnoop_test_support::http(self.addr, method, path, body)
    }

    fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.http("GET", path, "");
        assert_eq!(status, 200, "{path}: {body}");
        let start = body.find(['{', '[']).unwrap_or(0);
        let end = body.rfind(['}', ']']).map_or(body.len(), |e| e + 1);
        serde_json::from_str(&body[start..end]).unwrap_or(serde_json::Value::Null)
    }

    /// Polls `path` until `ok` holds, for at most `secs`.
    fn wait_for(&self, path: &str, secs: u64, ok: impl Fn(&serde_json::Value) -> bool) {
        netsnoop_test_support::wait_for(
            Duration::from_secs(secs),
            format_args!("{path} to match"),
            || ok(&self.json(path)).then_some(()),
        );
    }

    fn post(&self, body: &str) -> (u16, String) {
        self.http("POST", "/packets", body)
    }
}

fn packet(t: &str) -> String {
    format!(
        r#"{{"timestamp":{t},"src_ip":"192.168.7.1","dst_ip":"10.0.0.1","protocol":"UDP","packet_size":100}}"#
    )
}

fn batch(n: usize, t: i64) -> String {
    let items: Vec<String> = (0..n).map(|_| packet(&t.to_string())).collect();
    format!("[{}]", items.join(","))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[test]
fn a_packet_a_minute_ahead_does_not_hold_back_the_statistics_of_later_packets() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let (status, body) = serve.post(&packet(&(now() + 60).to_string()));
    assert_eq!(
        status, 200,
        "a minute is within the default 5 minute skew: {body}"
    );
    assert_eq!(serve.post(&batch(41, now())).0, 200);
    // All 42 are counted as soon as they are acknowledged (each second's checkpoint), not
    // when the early packet's second comes round a minute later.
    serve.wait_for("/stats/summary", 8, |v| v["total_packets"] == 42);
}

#[test]
fn times_beyond_the_clock_rule_are_refused_counted_and_never_stall_the_counts_even_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let hour_ahead = now() + 3_600;
    for (t, says) in [
        (hour_ahead.to_string(), "ahead of this server's clock"),
        ("\"1e10\"".to_string(), "ahead of this server's clock"),
        ("1e10".to_string(), "ahead of this server's clock"),
        ("1.5".to_string(), "before 2000-01-01"),
        ("-1".to_string(), "before 2000-01-01"),
        ("\"0000-01-01T00:00:00Z\"".to_string(), "before 2000-01-01"),
        (
            "\"2026-01-01T00:00:00+25:00\"".to_string(),
            "-23:59 to +23:59",
        ),
    ] {
        let (status, body) = serve.post(&packet(&t));
        assert_eq!(status, 422, "{t}: {body}");
        assert!(body.contains(says), "{t}: {body}");
    }
    let health = serve.json("/health");
    let refused = &health["packet_times"]["refused"];
    assert_eq!(
        (
            &refused["ahead"],
            &refused["too_early"],
            &refused["unreadable"]
        ),
        (&3.into(), &3.into(), &1.into()),
        "{health}"
    );
    let (_, metrics) = serve.http("GET", "/metrics", "");
    assert!(
        metrics.contains(r#"netsnoop_packets_time_refused_total{reason="ahead"} 3"#),
        "{metrics}"
    );

    assert_eq!(serve.post(&batch(41, now())).0, 200);
    serve.wait_for("/stats/summary", 8, |v| v["total_packets"] == 41);
    serve.wait_for("/packets/recent?limit=1000", 8, |v| {
        v.as_array().is_some_and(|a| a.len() == 41)
    });
    drop(serve); // SIGKILL

    let again = Serve::start(dir.path());
    let rows = again.json("/packets/recent?limit=1000");
    let summary = again.json("/stats/summary");
    assert_eq!(rows.as_array().map(Vec::len), Some(41));
    assert_eq!(summary["total_packets"], 41, "{summary}");
}
