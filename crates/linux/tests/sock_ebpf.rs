//! End-to-end: the eBPF socket source names the real process behind a TCP connect, an
//! accepted socket's first use, a UDP send and a listen on loopback, and reports the close. Needs root
//! (CAP_BPF); fails, never skips, without it. A build without clang checks the refusal.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::{Receiver, bounded};
use netsnoop_core::Event;
use netsnoop_core::owner::{ConnKind, ConnectionEvent, OwnerSourceChoice, OwnerSourceKind};
use netsnoop_linux::sock::{
    RunningSockSource, SockSourceConfig, own_netns, start_sock_source, unavailable_at_build,
};
use netsnoop_test_support::recv_until;
use std::net::{TcpListener, UdpSocket};
use std::process::Command;
use std::time::Duration;

fn start() -> Option<(RunningSockSource, Receiver<Vec<Event>>)> {
    let (tx, rx) = bounded(1024);
    let cfg = SockSourceConfig {
        choice: OwnerSourceChoice::Ebpf,
        ..SockSourceConfig::default()
    };
    if let Some(reason) = unavailable_at_build() {
        let refused = start_sock_source(&cfg, &tx).err().expect("must refuse");
        assert!(
            refused.to_string().contains(&reason.to_string()),
            "{refused}"
        );
        return None;
    }
    netsnoop_test_support::require_root("CAP_BPF and CAP_PERFMON");
    let src = start_sock_source(&cfg, &tx)
        .unwrap_or_else(|e| panic!("the eBPF socket source must load here: {e}"));
    assert_eq!(src.kind, OwnerSourceKind::Ebpf);
    eprintln!("{}", src.summary());
    Some((src, rx))
}

/// Waits for a connection event matching `want`.
fn wait(
    rx: &Receiver<Vec<Event>>,
    what: &str,
    want: impl Fn(&ConnectionEvent) -> bool,
) -> ConnectionEvent {
    recv_until(rx, Duration::from_secs(10), |batch: Vec<Event>| {
        batch.into_iter().find_map(|e| match e {
            Event::Connection(c) if want(&c) => Some(c),
            _ => None,
        })
    })
    .unwrap_or_else(|| panic!("no {what} event within 10 s"))
}

fn python(code: &str) -> std::process::Child {
    Command::new("python3")
        .args(["-c", code])
        .spawn()
        .expect("python3 runs")
}

#[test]
fn a_short_lived_client_its_accept_and_the_close_are_named_with_their_processes() {
    let Some((_src, rx)) = start() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let me = std::process::id();
    let listen = wait(&rx, "listen", |c| {
        c.kind == ConnKind::Listen && c.local_port == port
    });
    assert_eq!(listen.owner.as_ref().unwrap().pid, me);
    let mut child = python(&format!(
        "import socket; s = socket.create_connection(('127.0.0.1', {port})); s.close()"
    ));
    let (accepted, peer) = listener.accept().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let connect = wait(&rx, "connect", |c| {
        c.kind == ConnKind::Connect && c.remote_port == port && c.local_port == peer.port()
    });
    let owner = connect.owner.as_ref().unwrap();
    assert_eq!(
        owner.pid,
        child.id(),
        "the connect names the client process"
    );
    assert_eq!(owner.comm, "python3");
    assert_eq!(owner.uid, 0);
    assert!(owner.cgroup_id != 0, "the cgroup id is taken");
    assert_eq!(connect.netns, own_netns());
    assert_eq!(connect.local_ip, Some("127.0.0.1".parse().unwrap()));
    // The accepted socket is attributed at its first use by the server.
    let mut buf = [0u8; 1];
    let _ = std::io::Read::read(&mut &accepted, &mut buf);
    let accept = wait(&rx, "accept", |c| {
        c.kind == ConnKind::Accept && c.remote_port == peer.port()
    });
    assert_eq!(
        accept.owner.as_ref().unwrap().pid,
        me,
        "the accept names the server"
    );
    assert_eq!(accept.local_port, port);
    drop(accepted);
    let close = wait(&rx, "close", |c| {
        c.kind == ConnKind::Close && c.local_port == port && c.remote_port == peer.port()
    });
    assert!(close.owner.is_none());
}

#[test]
fn an_unconnected_udp_send_names_the_sending_process_and_its_port_once() {
    let Some((_src, rx)) = start() else { return };
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sink.local_addr().unwrap().port();
    let mut child = python(&format!(
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         for _ in range(50): s.sendto(b'x', ('127.0.0.1', {port}))"
    ));
    assert!(child.wait().unwrap().success());
    let pid = child.id();
    let from_child = |c: &ConnectionEvent| {
        c.kind == ConnKind::UdpSend && c.owner.as_ref().is_some_and(|o| o.pid == pid)
    };
    let send = wait(&rx, "udp send", from_child);
    assert_ne!(send.local_port, 0, "the source port was bound by then");
    // Unconnected, the socket has no remote of its own: it is known by its port.
    assert_eq!((send.remote_ip, send.remote_port), (None, 0));
    let _ = port;
    // 50 datagrams from one socket are one record (repeats are folded for 5 s).
    let more = recv_until(&rx, Duration::from_millis(300), |batch: Vec<Event>| {
        batch
            .into_iter()
            .find(|e| matches!(e, Event::Connection(c) if from_child(c)))
    });
    assert!(
        more.is_none(),
        "repeated sends were reported again: {more:?}"
    );
}
