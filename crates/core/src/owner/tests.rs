//! The owner table and attribution, driven by scripted socket, exec and packet events.

use super::*;
use crate::event::ProcessEvent;
use crate::net::NetworkStages;
use crate::net::config::NetworkConfig;
use crate::net::packet::Protocol;
use crate::net::packet::tcp_flags::{ACK, FIN, RST, SYN};
use crate::net::testkit::{ip, tcp, udp};
use crate::{Event, FlowRecord, ProcEventKind, Record, Stage, Ts};

fn owner(pid: u32, comm: &str) -> SocketOwner {
    SocketOwner {
        pid,
        comm: comm.into(),
        uid: 1000,
        cgroup_id: 77,
        ..SocketOwner::default()
    }
}

fn conn(
    t: i64,
    kind: ConnKind,
    local: (&str, u16),
    remote: (&str, u16),
    o: Option<SocketOwner>,
) -> ConnectionEvent {
    ConnectionEvent {
        host: None,
        time: Ts::from_secs(t),
        kind,
        protocol: if kind == ConnKind::UdpSend {
            Protocol::Udp
        } else {
            Protocol::Tcp
        },
        netns: 4026531840,
        local_ip: Some(ip(local.0)),
        local_port: local.1,
        remote_ip: Some(ip(remote.0)),
        remote_port: remote.1,
        owner: o,
        source: "ebpf".into(),
    }
}

fn stages() -> NetworkStages {
    NetworkStages::new(&NetworkConfig::default())
        .with_attribution(Attribution::new(OwnerConfig::default()))
}

fn flows(records: &[Record]) -> Vec<FlowRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Event(Event::Flow(f)) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// A full TCP conversation client:cport -> server:sport at second t.
fn conversation(
    s: &mut NetworkStages,
    t: i64,
    client: (&str, u16),
    server: (&str, u16),
) -> Vec<Record> {
    let mut out = Vec::new();
    let at = Ts::from_secs(t);
    for p in [
        tcp(at, client.0, client.1, server.0, server.1, SYN),
        tcp(at, server.0, server.1, client.0, client.1, SYN | ACK),
        tcp(at, client.0, client.1, server.0, server.1, ACK),
        tcp(at, client.0, client.1, server.0, server.1, FIN | ACK),
        tcp(at, server.0, server.1, client.0, client.1, FIN | ACK),
    ] {
        out.extend(s.ingest(&Event::Packet(p), at));
    }
    out
}

#[test]
fn both_ends_of_a_loopback_flow_carry_the_processes_that_connected_and_accepted() {
    let mut s = stages();
    let c = ("127.0.0.1", 40000);
    let srv = ("127.0.0.1", 8000);
    s.ingest(
        &Event::Connection(conn(10, ConnKind::Connect, c, srv, Some(owner(42, "curl")))),
        Ts::from_secs(10),
    );
    s.ingest(
        &Event::Connection(conn(10, ConnKind::Accept, srv, c, Some(owner(7, "server")))),
        Ts::from_secs(10),
    );
    let mut out = conversation(&mut s, 10, c, srv);
    out.extend(s.finish(Ts::from_secs(20)));
    let f = flows(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].orig_owner.as_ref().and_then(FlowOwner::pid), Some(42));
    assert_eq!(f[0].resp_owner.as_ref().and_then(FlowOwner::pid), Some(7));
}

#[test]
fn a_flow_end_is_unknown_with_its_reason_when_not_local_or_not_seen() {
    let mut s = stages();
    // 10.9.9.9 was never a socket's local address; 127.0.0.1:5555 had no socket event.
    let mut out = conversation(&mut s, 10, ("127.0.0.1", 5555), ("10.9.9.9", 80));
    out.extend(s.finish(Ts::from_secs(20)));
    let f = flows(&out);
    assert_eq!(
        f[0].orig_owner,
        Some(FlowOwner::Unknown(UnknownReason::NotSeen))
    );
    assert_eq!(
        f[0].resp_owner,
        Some(FlowOwner::Unknown(UnknownReason::NotLocal))
    );
}

#[test]
fn an_unconnected_udp_socket_owns_what_it_sends_from_its_wildcard_address() {
    let mut s = stages();
    let mut e = conn(
        10,
        ConnKind::UdpSend,
        ("0.0.0.0", 5353),
        ("127.0.0.53", 53),
        Some(owner(99, "resolver")),
    );
    e.local_ip = None;
    s.ingest(&Event::Connection(e), Ts::from_secs(10));
    let at = Ts::from_secs(10);
    let mut out = s.ingest(
        &Event::Packet(udp(at, "127.0.0.1", 5353, "127.0.0.53", 53)),
        at,
    );
    out.extend(s.finish(Ts::from_secs(20)));
    let f = flows(&out);
    assert_eq!(f[0].orig_owner.as_ref().and_then(FlowOwner::pid), Some(99));
}

#[test]
fn a_connection_the_listener_never_accepted_is_owned_by_the_listener() {
    let mut s = stages();
    let l = conn(
        5,
        ConnKind::Listen,
        ("0.0.0.0", 8080),
        ("0.0.0.0", 0),
        Some(owner(3, "nginx")),
    );
    s.ingest(&Event::Connection(l), Ts::from_secs(5));
    let mut out = conversation(&mut s, 10, ("127.0.0.1", 41000), ("127.0.0.1", 8080));
    out.extend(s.finish(Ts::from_secs(20)));
    let f = flows(&out);
    assert_eq!(f[0].resp_owner.as_ref().and_then(FlowOwner::pid), Some(3));
    // The client side is not owned by the listener: its port is not the listener's.
    assert_eq!(
        f[0].orig_owner,
        Some(FlowOwner::Unknown(UnknownReason::NotSeen))
    );
}

#[test]
fn exec_events_fill_in_exe_user_and_container_of_the_owner() {
    let mut t = OwnerTable::new(OwnerConfig::default());
    t.note_process(&ProcessEvent {
        kind: ProcEventKind::Exec,
        pid: 42,
        comm: "curl".into(),
        exe: Some("/usr/bin/curl".into()),
        user: Some("alice".into()),
        cgroup: Some("3f4e5d6c7b8a".into()),
        ..ProcessEvent::default()
    });
    t.add(&conn(
        1,
        ConnKind::Connect,
        ("127.0.0.1", 1),
        ("127.0.0.1", 2),
        Some(owner(42, "curl")),
    ));
    let got = t.owner_of(
        Protocol::Tcp,
        (ip("127.0.0.1"), 1),
        (ip("127.0.0.1"), 2),
        false,
    );
    let o = got.known().expect("known");
    assert_eq!(o.exe.as_deref(), Some("/usr/bin/curl"));
    assert_eq!(o.user.as_deref(), Some("alice"));
    assert_eq!(o.container.as_deref(), Some("3f4e5d6c7b8a"));
}

#[test]
fn a_full_table_forgets_its_oldest_socket_and_counts_it() {
    let mut t = OwnerTable::new(OwnerConfig {
        max_sockets: 2,
        ..OwnerConfig::default()
    });
    for port in 1..=3 {
        t.add(&conn(
            1,
            ConnKind::Connect,
            ("127.0.0.1", port),
            ("127.0.0.1", 80),
            Some(owner(u32::from(port), "c")),
        ));
    }
    assert_eq!(t.stats().sockets, 2);
    assert_eq!(t.stats().evicted, 1);
    let first = t.owner_of(
        Protocol::Tcp,
        (ip("127.0.0.1"), 1),
        (ip("127.0.0.1"), 80),
        false,
    );
    assert_eq!(first, FlowOwner::Unknown(UnknownReason::NotSeen));
    let last = t.owner_of(
        Protocol::Tcp,
        (ip("127.0.0.1"), 3),
        (ip("127.0.0.1"), 80),
        false,
    );
    assert_eq!(last.pid(), Some(3));
}

#[test]
fn a_closed_socket_is_kept_for_its_linger_then_expires() {
    let mut t = OwnerTable::new(OwnerConfig {
        keep_closed_secs: 60,
        ..OwnerConfig::default()
    });
    let (l, r) = (("127.0.0.1", 1), ("127.0.0.1", 80));
    t.add(&conn(1, ConnKind::Connect, l, r, Some(owner(5, "c"))));
    t.add(&conn(2, ConnKind::Close, l, r, None));
    t.expire(Ts::from_secs(61));
    assert_eq!(
        t.owner_of(Protocol::Tcp, (ip(l.0), l.1), (ip(r.0), r.1), false)
            .pid(),
        Some(5)
    );
    t.expire(Ts::from_secs(62));
    assert_eq!(t.stats().sockets, 0);
    assert_eq!(t.stats().expired, 1);
}

#[test]
fn a_port_scan_from_a_local_address_names_the_process_and_its_chain() {
    let mut s = stages();
    s.ingest(
        &Event::Process(ProcessEvent {
            kind: ProcEventKind::Exec,
            pid: 666,
            comm: "nmap".into(),
            argv: vec!["nmap".into(), "-sT".into(), "127.0.0.2".into()],
            user: Some("mallory".into()),
            ancestry: vec![crate::event::Ancestor {
                pid: 600,
                comm: "bash".into(),
            }],
            ..ProcessEvent::default()
        }),
        Ts::from_secs(1),
    );
    let listen = conn(
        1,
        ConnKind::Listen,
        ("0.0.0.0", 22),
        ("0.0.0.0", 0),
        Some(owner(12, "sshd")),
    );
    s.ingest(&Event::Connection(listen), Ts::from_secs(1));
    let mut out = Vec::new();
    for port in 1..=40u16 {
        let at = Ts::from_millis(2000 + i64::from(port) * 10);
        let local = ("127.0.0.1", 50000 + port);
        s.ingest(
            &Event::Connection(conn(
                2,
                ConnKind::Connect,
                local,
                ("127.0.0.2", port),
                Some(owner(666, "nmap")),
            )),
            at,
        );
        out.extend(s.ingest(
            &Event::Packet(tcp(at, local.0, local.1, "127.0.0.2", port, SYN)),
            at,
        ));
        let reply = if port == 22 { SYN | ACK } else { RST | ACK };
        out.extend(s.ingest(
            &Event::Packet(tcp(at, "127.0.0.2", port, local.0, local.1, reply)),
            at,
        ));
    }
    out.extend(s.finish(Ts::from_secs(10)));
    let scan = out
        .iter()
        .find_map(|r| match r {
            Record::Alert(a) if a.kind == "net.portscan" => Some(a.clone()),
            _ => None,
        })
        .expect("a port scan alert");
    assert_eq!(scan.subject.pid, Some(666));
    assert!(
        scan.message
            .contains("nmap -sT 127.0.0.2 (pid 666, user mallory) run by bash 600"),
        "{}",
        scan.message
    );
    assert_eq!(scan.details["process"]["chain"][0]["comm"], "bash");
    let listeners = scan.details["listeners"]
        .as_array()
        .expect("listeners named");
    assert!(
        listeners
            .iter()
            .any(|l| l["port"] == 22 && l["comm"] == "sshd"),
        "{listeners:?}"
    );
}

#[test]
fn sockets_forgotten_for_room_come_out_as_a_loss_at_the_next_tick() {
    let mut a = Attribution::new(OwnerConfig {
        max_sockets: 1,
        ..OwnerConfig::default()
    });
    for port in 1..=3 {
        let e = conn(
            1,
            ConnKind::Connect,
            ("127.0.0.1", port),
            ("127.0.0.1", 80),
            Some(owner(9, "c")),
        );
        a.ingest(&Event::Connection(e));
    }
    let loss = a.tick(Ts::from_secs(2)).expect("a loss");
    assert_eq!((loss.source.as_str(), loss.count), ("owner_table", 2));
    assert!(a.tick(Ts::from_secs(4)).is_none(), "reported once");
}
