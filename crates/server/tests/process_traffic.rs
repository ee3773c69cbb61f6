//! Per-process traffic through the real pipeline, store and server: socket events name
//! the processes, their flows are stored with owners, and /stats/top-processes and
//! /processes/{pid} read them back, the unattributed bucket included.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer};
use netsnoop_core::net::packet::tcp_flags::{ACK, FIN, PSH, SYN};
use netsnoop_core::owner::{ConnKind, ConnectionEvent, OwnerConfig, SocketOwner};
use netsnoop_core::{Event, PacketMeta, Protocol, Ts};

fn owner(pid: u32, comm: &str) -> Option<SocketOwner> {
    Some(SocketOwner {
        pid,
        comm: comm.into(),
        uid: 1000,
        user: Some("alice".into()),
        ..SocketOwner::default()
    })
}

fn conn(kind: ConnKind, local: u16, remote: u16, o: Option<SocketOwner>) -> Event {
    Event::Connection(ConnectionEvent {
        host: None,
        time: Ts::from_secs(1_000),
        kind,
        protocol: Protocol::Tcp,
        netns: 1,
        local_ip: Some("127.0.0.1".parse().unwrap()),
        local_port: local,
        remote_ip: Some("127.0.0.1".parse().unwrap()),
        remote_port: remote,
        owner: o,
        source: "ebpf".into(),
    })
}

fn pkt(ms: i64, sport: u16, dport: u16, flags: u8, len: u32) -> Event {
    Event::Packet(PacketMeta {
        time: Ts::from_millis(1_000_000 + ms),
        src_ip: Some("127.0.0.1".parse().unwrap()),
        dst_ip: Some("127.0.0.1".parse().unwrap()),
        src_port: sport,
        dst_port: dport,
        protocol: Protocol::Tcp,
        tcp_flags: flags,
        wire_len: len,
        ip_len: len - 14,
        ..PacketMeta::default()
    })
}

/// client:cport -> server:sport; the client sends `up` bytes of payload, the server `down`.
fn conversation(ms: i64, cport: u16, sport: u16, up: u32, down: u32) -> Vec<Event> {
    vec![
        pkt(ms, cport, sport, SYN, 74),
        pkt(ms + 1, sport, cport, SYN | ACK, 74),
        pkt(ms + 2, cport, sport, ACK | PSH, 66 + up),
        pkt(ms + 3, sport, cport, ACK | PSH, 66 + down),
        pkt(ms + 4, cport, sport, FIN | ACK, 66),
        pkt(ms + 5, sport, cport, FIN | ACK, 66),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_are_ranked_by_the_traffic_of_their_flows_with_an_unknown_bucket() {
    let s = TestServer::start_with(Options {
        attribution: Some(OwnerConfig::default()),
        ..Options::default()
    })
    .await;
    let mut events = vec![
        conn(ConnKind::Connect, 40000, 8080, owner(42, "curl")),
        conn(ConnKind::Accept, 8080, 40000, owner(7, "server")),
    ];
    events.extend(conversation(0, 40000, 8080, 100, 5000));
    // No socket event for this one: its local ends are unattributed.
    events.extend(conversation(10, 41000, 9090, 10, 20));
    s.send_events(events);
    s.settle(120).await;

    let top = s.get_json("/stats/top-processes").await;
    let rows = top.as_array().unwrap();
    let row = |pid: Option<u64>| {
        rows.iter()
            .find(|r| r["pid"].as_u64() == pid)
            .unwrap_or_else(|| panic!("no row for {pid:?}: {top:#}"))
    };
    let (curl, server, unknown) = (row(Some(42)), row(Some(7)), row(None));
    assert_eq!(curl["comm"], "curl");
    assert_eq!(curl["bytes_out"], 74 + 166 + 66);
    assert_eq!(curl["bytes_in"], 74 + 5066 + 66);
    assert_eq!(
        (curl["packets_out"].as_u64(), curl["packets_in"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(server["bytes_out"], curl["bytes_in"]);
    assert_eq!(unknown["comm"], "<unknown>");
    assert_eq!(unknown["flows"], 2, "both local ends of the unseen flow");
    // Most traffic first: curl and the server moved the same bytes, both above unknown.
    assert_eq!(rows.last().unwrap()["pid"], serde_json::Value::Null);

    let detail = s.get_json("/processes/42").await;
    let conns = detail["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{detail:#}");
    assert_eq!(conns[0]["orig_owner"]["known"]["pid"], 42);
    assert_eq!(conns[0]["orig_owner"]["known"]["user"], "alice");
    assert_eq!(conns[0]["resp_owner"]["known"]["comm"], "server");
    assert_eq!(detail["traffic"]["bytes_in"], curl["bytes_in"]);

    let flows = s.get_json("/flows").await;
    let unseen = flows["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resp_port"] == 9090)
        .unwrap();
    assert_eq!(unseen["orig_owner"]["unknown"], "not_seen");

    let spec = s.get_json("/openapi.json").await;
    assert!(spec["paths"]["/stats/top-processes"].is_object());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pid_with_no_process_exec_or_flow_is_not_found_and_a_bad_pid_is_refused() {
    let s = TestServer::start().await;
    let r = s
        .client
        .get(s.url("/processes/99999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s.client.get(s.url("/processes/abc")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .get(s.url("/stats/top-processes?since=tomorrow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    s.shutdown().await;
}
