//! End-to-end: the /proc fallback of socket attribution finds this process's listener and
//! connection in the /proc/net tables, names the pid holding them through the fd scan, and
//! reports the connection closed once it is gone.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::bounded;
use netsnoop_core::Event;
use netsnoop_core::owner::{ConnKind, ConnectionEvent, OwnerSourceChoice, OwnerSourceKind};
use netsnoop_linux::sock::{SockSourceConfig, start_sock_source};
use netsnoop_test_support::recv_until;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

#[test]
fn the_proc_fallback_names_the_holder_of_a_listener_and_a_connection_then_sees_the_close() {
    netsnoop_test_support::require_root("reading every process's fds in /proc");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cport = client.local_addr().unwrap().port();
    let (tx, rx) = bounded(64);
    let src = start_sock_source(
        &SockSourceConfig {
            choice: OwnerSourceChoice::ProcNet,
            scan_interval: Duration::from_millis(200),
            ..SockSourceConfig::default()
        },
        &tx,
    )
    .unwrap();
    assert_eq!(src.kind, OwnerSourceKind::ProcNet);
    let me = std::process::id();
    let mut seen: Vec<ConnectionEvent> = Vec::new();
    let wanted = |seen: &[ConnectionEvent], kind: ConnKind, local: u16| {
        seen.iter()
            .find(|c| c.kind == kind && c.local_port == local)
            .cloned()
    };
    let both = recv_until(&rx, Duration::from_secs(10), |batch: Vec<Event>| {
        for e in batch {
            if let Event::Connection(c) = e {
                seen.push(c);
            }
        }
        wanted(&seen, ConnKind::Listen, port).zip(wanted(&seen, ConnKind::Existing, cport))
    });
    let (listen, conn) =
        both.unwrap_or_else(|| panic!("listener and connection not both seen: {seen:#?}"));
    assert_eq!(listen.owner.unwrap().pid, me);
    assert_eq!(conn.owner.as_ref().unwrap().pid, me);
    assert_eq!(conn.remote_port, port);
    assert_eq!(conn.source, "proc_net");
    drop(client);
    let closed = recv_until(&rx, Duration::from_secs(10), |batch: Vec<Event>| {
        batch.into_iter().find_map(|e| match e {
            Event::Connection(c) if c.kind == ConnKind::Close && c.local_port == cport => Some(c),
            _ => None,
        })
    });
    assert!(closed.is_some(), "the closed connection was not reported");
    assert!(src.stats.snapshot().scans >= 2);
}
