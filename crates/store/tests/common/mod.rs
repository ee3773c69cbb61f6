//! Shared builders for the store's integration tests: real SQLite files in temp dirs, real
//! PostgreSQL databases (`backend`), and deterministic record generators.
#![allow(dead_code)]

pub mod backend;
pub mod brute;

#[allow(unused_imports)]
pub use backend::{Backend, TestStore};

use netsnoop_core::net::config::RollupConfig;
use netsnoop_core::net::packet::{IcmpInfo, QuotedHeader};
use netsnoop_core::net::rollups::Rollups;
use netsnoop_core::process::event::Ancestor;
use netsnoop_core::{
    Alert, AlertState, Event, FlowRecord, Loss, PacketMeta, ProcEventKind, ProcSample,
    ProcessEvent, Protocol, Record, ResourceSample, Severity, Stage, Subject, SystemSample,
    TrafficSecond, Ts,
};
use netsnoop_store::{OpenOptions, RetentionConfig, SqliteStore};
use std::net::IpAddr;
use tempfile::TempDir;

/// A store in a fresh temp dir; keep the dir alive as long as the store.
pub fn store_with(opts: OpenOptions) -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("netsnoop.db"), opts).expect("open store");
    (dir, store)
}

/// A store that keeps everything.
pub fn store() -> (TempDir, SqliteStore) {
    store_with(OpenOptions {
        retention: RetentionConfig::keep_everything(),
        ..OpenOptions::default()
    })
}

/// A tiny deterministic generator, so failures reproduce.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn packet(time: Ts, src: &str, dst: &str, protocol: Protocol, len: u32) -> PacketMeta {
    PacketMeta {
        host: None,
        time,
        iface: 0,
        src_ip: Some(ip(src)),
        dst_ip: Some(ip(dst)),
        src_port: 40000,
        dst_port: 443,
        protocol,
        tcp_flags: 0x12,
        icmp: None,
        wire_len: len,
        ip_len: len.saturating_sub(14),
        no_ports: false,
        arp: None,
    }
}

/// `n` packets spread over `secs` seconds from `start`, from a handful of sources
/// (IPv4 and IPv6) to a handful of destinations, with mixed protocols and sizes.
pub fn random_packets(seed: u64, start: i64, secs: i64, n: usize) -> Vec<PacketMeta> {
    let mut rng = Lcg(seed);
    let srcs = [
        "10.0.0.1",
        "10.0.0.2",
        "192.168.1.7",
        "fe80::1",
        "2001:db8::beef",
    ];
    let dsts = ["10.0.0.254", "8.8.8.8", "2001:db8::1"];
    let mut out: Vec<PacketMeta> = (0..n)
        .map(|_| {
            let t = Ts::from_secs(start)
                + netsnoop_core::time::Span(rng.below((secs * 1_000_000) as u64) as i64);
            let proto = Protocol::ALL[rng.below(Protocol::ALL.len() as u64) as usize];
            let src = srcs[rng.below(srcs.len() as u64) as usize];
            let dst = dsts[rng.below(dsts.len() as u64) as usize];
            packet(t, src, dst, proto, 60 + rng.below(1400) as u32)
        })
        .collect();
    out.sort_by_key(|p| p.time);
    out
}

/// What the pipeline's rollup stage (the real one from core) emits for these packets.
pub fn rollups(packets: &[PacketMeta]) -> Vec<TrafficSecond> {
    rollups_capped(packets, RollupConfig::default().max_hosts_per_second)
}

/// The same with at most `max_hosts` source and destination rows per second.
pub fn rollups_capped(packets: &[PacketMeta], max_hosts: usize) -> Vec<TrafficSecond> {
    let mut stage = Rollups::new(RollupConfig {
        max_hosts_per_second: max_hosts,
    });
    let mut out = Vec::new();
    for p in packets {
        out.extend(stage.ingest(&Event::Packet(p.clone()), p.time));
    }
    out.extend(stage.finish(packets.last().map_or(Ts(0), |p| p.time)));
    out.into_iter()
        .map(|r| match r {
            Record::Event(Event::Traffic(t)) => t,
            other => panic!("the rollup stage emitted {other:?}"),
        })
        .collect()
}

pub fn packet_records(packets: &[PacketMeta]) -> Vec<Record> {
    packets
        .iter()
        .cloned()
        .map(|p| Record::Event(Event::Packet(p)))
        .collect()
}

pub fn traffic_records(packets: &[PacketMeta]) -> Vec<Record> {
    rollups(packets)
        .into_iter()
        .map(|t| Record::Event(Event::Traffic(t)))
        .collect()
}

pub fn alert(id: &str, kind: &str, severity: Severity, first: i64, last: i64) -> Alert {
    Alert {
        host: None,
        id: id.to_string(),
        kind: kind.to_string(),
        severity,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::from_secs(first),
        last_seen: Ts::from_secs(last),
        subject: Subject::source_ip(ip("10.0.0.9")),
        message: format!("{kind} from 10.0.0.9"),
        details: serde_json::json!({"ports": [22, 80, 443], "count": 3}),
    }
}

pub fn process_event(time: i64, pid: u32, comm: &str, argv: &[&str]) -> ProcessEvent {
    ProcessEvent {
        host: None,
        time: Ts::from_secs(time),
        kind: ProcEventKind::Exec,
        pid,
        ppid: 1,
        start_ticks: 123_456,
        uid: Some(1000),
        user: Some("alice".into()),
        comm: comm.to_string(),
        exe: Some(format!("/usr/bin/{comm}")),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        argv_complete: true,
        redacted: 0,
        cwd: Some("/home/alice".into()),
        cgroup: None,
        exit_code: None,
        ancestry: vec![Ancestor {
            pid: 1,
            comm: "systemd".into(),
        }],
    }
}

pub fn resources(time: i64, procs: usize) -> ResourceSample {
    ResourceSample {
        host: None,
        system: SystemSample {
            time: Ts::from_secs(time),
            cpu_pct: 42.5,
            per_core_pct: vec![40.0, 45.0],
            mem_total: 24 << 30,
            mem_used: 3 << 30,
            mem_available: 21 << 30,
            swap_total: 0,
            swap_used: 0,
            load1: 0.5,
            load5: 0.25,
            load15: 0.125,
            psi_cpu: Some(1.5),
            psi_memory: None,
            psi_io: Some(0.0),
            forks_total: 987_654,
            procs_running: 3,
        },
        processes: (0..procs)
            .map(|i| ProcSample {
                pid: 100 + i as u32,
                start_ticks: 1000 + i as u64,
                ppid: 1,
                comm: format!("proc{i}"),
                user: Some("root".into()),
                cmdline: format!("/bin/proc{i} --flag"),
                cpu_pct: (i * 7 % 13) as f64,
                rss_bytes: (i as u64 + 1) << 20,
            })
            .collect(),
    }
}

pub fn flow(first: i64, last: i64, bytes: u64) -> FlowRecord {
    FlowRecord {
        first_seen: Ts::from_secs(first),
        last_seen: Ts::from_secs(last),
        protocol: Protocol::Tcp,
        orig_ip: Some(ip("10.0.0.1")),
        orig_port: 51000,
        resp_ip: Some(ip("2001:db8::1")),
        resp_port: 443,
        orig_packets: 10,
        orig_bytes: bytes / 2,
        resp_packets: 12,
        resp_bytes: bytes - bytes / 2,
        state: "SF".into(),
        end_reason: "fin".into(),
        ..FlowRecord::default()
    }
}

pub fn loss(time: i64, source: &str, count: u64) -> Loss {
    Loss {
        host: None,
        time: Ts::from_secs(time),
        source: source.into(),
        count,
        reason: "channel full".into(),
    }
}

pub fn icmp_error_packet(time: Ts) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Icmp,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        icmp: Some(IcmpInfo {
            icmp_type: 3,
            code: 3,
            quoted: Some(QuotedHeader {
                src_ip: ip("10.0.0.1"),
                dst_ip: ip("10.0.0.2"),
                protocol: Protocol::Udp,
                src_port: 5353,
                dst_port: 33434,
            }),
        }),
        ..packet(time, "10.0.0.2", "10.0.0.1", Protocol::Icmp, 98)
    }
}

/// `n` packets over `secs` seconds from `start` from up to `hosts` sources (some IPv6)
/// to a quarter as many destinations; a third of them in five short bursts, so some
/// seconds hold many hosts (and overflow a small rollup cap) while most hold none.
pub fn busy_packets(seed: u64, start: i64, secs: i64, n: usize, hosts: u64) -> Vec<PacketMeta> {
    let mut rng = Lcg(seed);
    let bursts: Vec<i64> = (0..5).map(|_| rng.below(secs as u64) as i64).collect();
    let host = |i: u64, side: u8| -> String {
        if i % 7 == 3 {
            format!("2001:db8:{side}::{i:x}")
        } else {
            format!("10.{side}.{}.{}", i / 200, i % 200)
        }
    };
    let mut out: Vec<PacketMeta> = (0..n)
        .map(|_| {
            let offset_us = if rng.below(3) == 0 {
                let b = bursts[rng.below(5) as usize];
                (b * 1_000_000 + rng.below(3_000_000) as i64).min(secs * 1_000_000 - 1)
            } else {
                rng.below((secs * 1_000_000) as u64) as i64
            };
            let t = Ts::from_secs(start) + netsnoop_core::time::Span(offset_us);
            let proto = Protocol::ALL[rng.below(Protocol::ALL.len() as u64) as usize];
            let src = host(rng.below(hosts), 1);
            let dst = host(rng.below((hosts / 4).max(1)), 2);
            packet(t, &src, &dst, proto, 60 + rng.below(1400) as u32)
        })
        .collect();
    out.sort_by_key(|p| p.time);
    out
}

/// The rollups of `packets` as two capture threads would report them (alternate
/// packets each), with at most `cap` host rows per second: seconds then arrive in two
/// parts that the store must add up.
pub fn two_thread_rollups(packets: &[PacketMeta], cap: usize) -> Vec<TrafficSecond> {
    let (a, b): (Vec<_>, Vec<_>) = packets
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let strip = |v: Vec<(usize, PacketMeta)>| -> Vec<PacketMeta> {
        v.into_iter().map(|(_, p)| p).collect()
    };
    let mut out = rollups_capped(&strip(a), cap);
    out.extend(rollups_capped(&strip(b), cap));
    out
}

pub fn seconds_records(seconds: &[TrafficSecond]) -> Vec<Record> {
    seconds
        .iter()
        .cloned()
        .map(|t| Record::Event(Event::Traffic(t)))
        .collect()
}
