//! What a hostile web page can do to a loopback server, forged at the HTTP level: a
//! cross-origin "simple" POST (text/plain, form types) or one from a foreign `Origin`
//! stores nothing, and a DNS-rebinding page (any `Host:` name not configured) reads nothing.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer, packet};

fn body() -> String {
    packet(
        jiff::Timestamp::now().as_second() as f64,
        "10.0.0.1",
        "10.0.0.2",
        "TCP",
        60,
    )
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_of_another_origin_cannot_post_packets_without_a_token() {
    let s = TestServer::start().await;
    let host = format!("Host: {}", s.addr);
    for (headers, want) in [
        // What a page's fetch(..., {mode: "no-cors"}) or a form can send without a preflight.
        (
            format!("{host}\r\nContent-Type: text/plain\r\nOrigin: http://evil.example"),
            415,
        ),
        (
            format!("{host}\r\nContent-Type: text/plain;charset=UTF-8"),
            415,
        ),
        (
            format!("{host}\r\nContent-Type: application/x-www-form-urlencoded"),
            415,
        ),
        // JSON from a foreign (or opaque) origin.
        (
            format!("{host}\r\nContent-Type: application/json\r\nOrigin: http://evil.example"),
            403,
        ),
        (
            format!("{host}\r\nContent-Type: application/json\r\nOrigin: null"),
            403,
        ),
    ] {
        let (status, out) = s
            .raw(&format!("POST /packets HTTP/1.1\r\n{headers}"), &body())
            .await;
        assert_eq!(status, want, "{headers}: {out}");
        assert!(
            out.contains("application/json") || out.contains("cors_origins"),
            "{out}"
        );
    }
    // The server's own page, and a tool that sends no Origin at all.
    let own = format!(
        "{host}\r\nContent-Type: application/json\r\nOrigin: http://{}",
        s.addr
    );
    assert_eq!(
        s.raw(&format!("POST /packets HTTP/1.1\r\n{own}"), &body())
            .await
            .0,
        200
    );
    let tool = format!("{host}\r\nContent-Type: application/json");
    assert_eq!(
        s.raw(&format!("POST /packets HTTP/1.1\r\n{tool}"), &body())
            .await
            .0,
        200
    );
    s.settle(2).await;
    let summary = s.get_json("/stats/summary").await;
    assert_eq!(
        summary["total_packets"], 2,
        "only the two allowed posts were stored"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_rebinding_page_cannot_read_processes_or_exec_events() {
    let s = TestServer::start_with(Options {
        allowed_hosts: vec!["monitor.internal".into()],
        ..Options::default()
    })
    .await;
    let port = s.addr.port();
    for path in ["/processes", "/events/process", "/health", "/"] {
        let (status, out) = s
            .raw(
                &format!("GET {path} HTTP/1.1\r\nHost: rebind.evil.example:{port}"),
                "",
            )
            .await;
        assert_eq!(status, 403, "{path}: {out}");
        assert!(out.contains("server.allowed_hosts"), "{out}");
        for ok in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("monitor.internal:{port}"),
        ] {
            let (status, out) = s
                .raw(&format!("GET {path} HTTP/1.1\r\nHost: {ok}"), "")
                .await;
            assert_eq!(status, 200, "{path} via {ok}: {out}");
        }
    }
    s.shutdown().await;
}
