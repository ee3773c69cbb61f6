//! Connection bounds on a real server over loopback: a client that never finishes its
//! headers is cut off, an idle keep-alive connection is closed, and a flood of
//! half-open connections is held to the cap by closing the oldest idle ones, so health
//! checks keep answering throughout.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer};
use netsnoop_server::connections::Limits;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(header: u64, idle: u64, max: usize) -> Options {
    Options {
        limits: Limits {
            header_read_timeout: Duration::from_secs(header),
            idle_timeout: Duration::from_secs(idle),
            max_connections: max,
        },
        ..Options::default()
    }
}

/// Reads until the server closes the connection (or `within` passes); returns what was
/// read, or None if it stayed open.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

async fn health(s: &TestServer) -> u16 {
    let (status, _) = tokio::time::timeout(
        Duration::from_secs(3),
        s.raw(&format!("GET /health HTTP/1.1\r\nHost: {}", s.addr), ""),
    )
    .await
    .expect("a health check answers within 3 s");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_cut_off_after_the_header_timeout() {
    let s = TestServer::start_with(limits(1, 30, 64)).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let start = Instant::now();
    let got = closed_within(&mut c, Duration::from_secs(8)).await;
    assert!(got.is_some(), "still open 8 s after a 1 s header timeout");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let s = TestServer::start_with(limits(30, 1, 64)).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).as_bytes())
        .await
        .unwrap();
    let start = Instant::now();
    let got = closed_within(&mut c, Duration::from_secs(8))
        .await
        .expect("closed once idle");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "the request itself was answered: {text}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_half_open_connections_is_held_to_the_cap_and_health_checks_keep_answering() {
    const CAP: usize = 40;
    const FLOOD: usize = 240;
    // Timeouts far beyond the test, so only the cap can close anything.
    let s = TestServer::start_with(limits(300, 300, CAP)).await;
    let mut flood = Vec::new();
    for i in 0..FLOOD {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        if i % 2 == 0 {
            c.write_all(b"GET /processes HTTP/1.1\r\nHo").await.unwrap();
        }
        flood.push(c);
        if i % 20 == 19 {
            assert_eq!(
                health(&s).await,
                200,
                "after {} half-open connections",
                i + 1
            );
        }
    }
    let mut closed = 0;
    for c in &mut flood {
        if closed_within(c, Duration::from_millis(50)).await.is_some() {
            closed += 1;
        }
    }
    assert!(
        closed >= FLOOD - CAP,
        "only {closed} of {FLOOD} half-open connections were closed with a cap of {CAP}"
    );
    let (_, metrics) = s
        .raw(&format!("GET /metrics HTTP/1.1\r\nHost: {}", s.addr), "")
        .await;
    let open: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("netsnoop_http_connections_open "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the open-connections gauge is exported");
    assert!(open <= CAP as f64, "{open} open");
    assert!(
        metrics.contains("netsnoop_http_connections_evicted_total"),
        "{metrics}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_outlasts_the_header_and_idle_timeouts() {
    let s = TestServer::start_with(limits(1, 1, 64)).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(format!("GET /stream HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).as_bytes())
        .await
        .unwrap();
    // Ticks arrive every second; the stream must still be open after three of them.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) | Ok(Err(_)) => {
                panic!("the stream was closed: {}", String::from_utf8_lossy(&seen))
            }
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.matches("event: tick").count() >= 2, "{text}");
    s.shutdown().await;
}
