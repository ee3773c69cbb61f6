//! Ingest benchmark for the SQLite store: packet-metadata, traffic-rollup and alert rows
//! per second into a file database with batched transactions. Run through
//! bench/store_ingest/run.sh.

use netsnoop_core::net::config::RollupConfig;
use netsnoop_core::net::rollups::Rollups;
use netsnoop_core::{
    Alert, AlertState, Event, PacketMeta, Protocol, Record, Severity, Subject, Ts,
};
use netsnoop_store::{
    OpenOptions, RetentionConfig, SqliteStore, Store, WriterOptions, spawn_writer,
};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

struct Args {
    packets: usize,
    alerts: usize,
    runs: usize,
    batch: usize,
    dir: std::path::PathBuf,
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        packets: 1_000_000,
        alerts: 100_000,
        runs: 5,
        batch: 5000,
        dir: std::env::temp_dir(),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--packets" => a.packets = val().parse().expect("--packets N"),
            "--alerts" => a.alerts = val().parse().expect("--alerts N"),
            "--runs" => a.runs = val().parse().expect("--runs N"),
            "--batch" => a.batch = val().parse().expect("--batch N"),
            "--dir" => a.dir = val().into(),
            "--only" => a.only = Some(val()),
            other => panic!(
                "unknown flag {other}; flags: --packets --alerts --runs --batch --dir --only TEXT"
            ),
        }
    }
    a
}

/// Packets shaped like a busy LAN: many sources, mostly TCP/UDP, realistic sizes.
fn packets(n: usize) -> Vec<Record> {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) as u32;
            let proto =
                [Protocol::Tcp, Protocol::Tcp, Protocol::Udp, Protocol::Icmp][(r % 4) as usize];
            Record::Event(Event::Packet(PacketMeta {
                host: None,
                time: Ts(1_700_000_000_000_000 + i as i64 * 20),
                iface: 0,
                src_ip: Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (r >> 8) & 0xffff))),
                dst_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 1, (r % 250) as u8))),
                src_port: (r % 60000) as u16 + 1024,
                dst_port: [443, 80, 53, 22][(r >> 4) as usize % 4],
                protocol: proto,
                tcp_flags: if proto == Protocol::Tcp { 0x10 } else { 0 },
                icmp: None,
                wire_len: 60 + r % 1400,
                ip_len: 46 + r % 1400,
                no_ports: false,
                arp: None,
            }))
        })
        .collect()
}

/// `secs` closed seconds of rollups as core's `Rollups` stage emits them for 1,400
/// packets/s from 1,000 sources (half the packets from the busiest 10) to 200
/// destinations, like `bench_fill`; with the per-second rows they hold (1 + one per
/// protocol, source and destination).
fn traffic(secs: usize) -> (Vec<Record>, usize) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let mut stage = Rollups::new(RollupConfig::default());
    let mut out = Vec::new();
    for i in 0..secs as i64 * 1400 {
        let src = if next(2) == 0 { next(10) } else { next(1000) };
        let m = PacketMeta {
            time: Ts(1_700_000_000_000_000 + i * 1_000_000 / 1400),
            src_ip: Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | src as u32))),
            dst_ip: Some(IpAddr::V4(Ipv4Addr::from(0xc0a8_0000 | next(200) as u32))),
            protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][next(3) as usize],
            wire_len: 60 + next(1400) as u32,
            ..PacketMeta::default()
        };
        stage.add(&m, m.time, &mut out);
    }
    let rows = out
        .iter()
        .map(|r| match r {
            Record::Event(Event::Traffic(t)) => {
                1 + t.by_protocol.len() + t.by_src.len() + t.by_dst.len()
            }
            _ => 0,
        })
        .sum();
    (out, rows)
}

fn alerts(n: usize, resolved: bool) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::Alert(Alert {
                host: None,
                id: format!("net.portscan/10.0.{}.{}/{}", i / 250 % 250, i % 250, i),
                kind: "net.portscan".into(),
                severity: Severity::High,
                label: None,
                state: if resolved {
                    AlertState::Resolved
                } else {
                    AlertState::Active
                },
                first_seen: Ts(1_700_000_000_000_000 + i as i64),
                last_seen: Ts(1_700_000_000_000_000
                    + i as i64
                    + if resolved { 5_000_000 } else { 0 }),
                subject: Subject::source_ip(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i as u32))),
                message: format!("port scan from 10.0.0.{}: 25 ports in 3 s", i % 250),
                details: serde_json::json!({"ports": [22, 23, 80, 443, 8080], "count": 25}),
            })
        })
        .collect()
}

fn fresh(dir: &Path, name: &str, opts: OpenOptions) -> SqliteStore {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    SqliteStore::open(&path, opts).expect("open bench database")
}

/// CPU seconds this process has used (all threads), from /proc/self/stat.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the `(comm)`; utime and stime are the 12th and 13th of those.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

/// Rows per wall-clock second and per CPU second.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

fn measure(rows: usize, work: impl FnOnce()) -> Rate {
    let (start, cpu0) = (Instant::now(), cpu_secs());
    work();
    let (wall, cpu) = (start.elapsed().as_secs_f64(), cpu_secs() - cpu0);
    Rate {
        wall: rows as f64 / wall,
        cpu: rows as f64 / cpu.max(0.01),
    }
}

/// Writes `records` in transactions of `batch` records.
fn direct(store: &dyn Store, records: &[Record], batch: usize) -> Rate {
    direct_rows(store, records, batch, records.len())
}

/// The same, counting `rows` rows.
fn direct_rows(store: &dyn Store, records: &[Record], batch: usize, rows: usize) -> Rate {
    measure(rows, || {
        for chunk in records.chunks(batch) {
            store.write_batch(chunk).expect("write");
        }
    })
}

/// Through the writer thread (send batches, then flush).
fn via_writer(store: SqliteStore, records: &[Record], batch: usize) -> Rate {
    let chunks: Vec<Vec<Record>> = records.chunks(batch).map(<[Record]>::to_vec).collect();
    let writer = spawn_writer(
        Arc::new(store),
        WriterOptions {
            channel_capacity: chunks.len() + 1,
            ..WriterOptions::default()
        },
    );
    let rate = measure(records.len(), || {
        for c in chunks {
            assert!(writer.send(c), "channel sized to never drop");
        }
        writer.flush().expect("flush");
    });
    let stats = writer.shutdown();
    assert_eq!(stats.records_dropped, 0);
    rate
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let a = args();
    let keep = || OpenOptions {
        retention: RetentionConfig::keep_everything(),
        ..OpenOptions::default()
    };
    let pk = packets(a.packets);
    let al_new = alerts(a.alerts, false);
    let al_upd = alerts(a.alerts, true);
    let (tr, tr_rows) = traffic(600);

    type Case<'a> = (&'a str, Box<dyn Fn() -> Rate + 'a>);
    let cases: Vec<Case> = vec![
        (
            "packets, write_batch, 64-row INSERTs (default)",
            Box::new(|| direct(&fresh(&a.dir, "b1.db", keep()), &pk, a.batch)),
        ),
        (
            "packets, write_batch, 1-row INSERTs",
            Box::new(|| {
                direct(
                    &fresh(
                        &a.dir,
                        "b2.db",
                        OpenOptions {
                            packet_rows_per_insert: 1,
                            ..keep()
                        },
                    ),
                    &pk,
                    a.batch,
                )
            }),
        ),
        (
            "packets, writer thread (send + flush)",
            Box::new(|| via_writer(fresh(&a.dir, "b3.db", keep()), &pk, a.batch)),
        ),
        (
            "packets, write_batch, at the row cap (cap = packets/4)",
            Box::new(|| {
                let opts = OpenOptions {
                    retention: RetentionConfig {
                        max_packet_rows: Some(a.packets as u64 / 4),
                        ..RetentionConfig::keep_everything()
                    },
                    ..OpenOptions::default()
                };
                direct(&fresh(&a.dir, "b4.db", opts), &pk, a.batch)
            }),
        ),
        (
            "traffic rollups, 1 s per write_batch (rows = per-second rows)",
            Box::new(|| direct_rows(&fresh(&a.dir, "b7.db", keep()), &tr, 1, tr_rows)),
        ),
        (
            "alerts, new episodes (insert)",
            Box::new(|| direct(&fresh(&a.dir, "b5.db", keep()), &al_new, a.batch)),
        ),
        (
            "alerts, updates of existing episodes (upsert)",
            Box::new(|| {
                let s = fresh(&a.dir, "b6.db", keep());
                s.write_batch(&al_new).expect("prefill");
                direct(&s, &al_upd, a.batch)
            }),
        ),
    ];

    println!(
        "store_ingest: {} packets, {} alerts, batch {}, {} runs, dir {}",
        a.packets,
        a.alerts,
        a.batch,
        a.runs,
        a.dir.display()
    );
    println!();
    println!(
        "| case | median rows/s (wall) | min | max | vs default | median rows per CPU-second |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut baseline = None;
    for (name, run) in &cases {
        if a.only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let rates: Vec<Rate> = (0..a.runs).map(|_| run()).collect();
        let wall: Vec<f64> = rates.iter().map(|r| r.wall).collect();
        let (lo, hi) = wall
            .iter()
            .fold((f64::MAX, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
        let med = median(wall);
        let cpu = median(rates.iter().map(|r| r.cpu).collect());
        let base = *baseline.get_or_insert(med);
        println!(
            "| {name} | {med:.0} | {lo:.0} | {hi:.0} | {:.2}× | {cpu:.0} |",
            med / base
        );
    }
    for f in [
        "b1.db", "b2.db", "b3.db", "b4.db", "b5.db", "b6.db", "b7.db",
    ] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", a.dir.join(f).display()));
        }
    }
}
