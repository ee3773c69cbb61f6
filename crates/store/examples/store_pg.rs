//! PostgreSQL against SQLite in one run: packet rows/s through the writer and rows per
//! CPU-second (ours plus the PostgreSQL server's), the driver's `BinaryCopyInWriter`
//! against our own COPY encoding, and with `--big N`: statistics latency (p50/p99) over N
//! stored packets and the retention pass that removes a day of them (`--hosts K`: the
//! batches round-robin from K agents, and the statistics also asked for one of them).
//! Run through bench/store-pg/run.sh, which starts a throwaway cluster for it.

use netsnoop_core::net::config::RollupConfig;
use netsnoop_core::net::rollups::Rollups;
use netsnoop_core::{Event, Host, HostFilter, PacketMeta, Protocol, Record, Stage, Ts};
use netsnoop_store::{
    OpenOptions, PgStore, RetentionConfig, SqliteStore, Store, TalkerOrder, TimeRange,
    WriterOptions, spawn_writer,
};
use netsnoop_test_support::pg::PgCluster;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_700_006_400; // a midnight UTC

struct Args {
    packets: usize,
    runs: usize,
    batch: usize,
    big: usize,
    /// Agents the `--big` batches come from, in turn (1: the store's own host).
    hosts: usize,
    dir: std::path::PathBuf,
    /// Extra PostgreSQL settings, `name=value` (repeatable `--pg-setting`).
    settings: Vec<String>,
}

fn args() -> Args {
    let mut a = Args {
        packets: 1_000_000,
        runs: 3,
        batch: 5000,
        big: 0,
        hosts: 1,
        dir: std::env::temp_dir(),
        settings: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--packets" => a.packets = val().parse().expect("--packets N"),
            "--runs" => a.runs = val().parse().expect("--runs N"),
            "--batch" => a.batch = val().parse().expect("--batch N"),
            "--big" => a.big = val().parse().expect("--big N"),
            "--hosts" => a.hosts = val().parse().expect("--hosts N"),
            "--dir" => a.dir = val().into(),
            "--pg-setting" => a.settings.push(val()),
            other => panic!(
                "unknown flag {other}; flags: --packets --runs --batch --big --hosts --dir --pg-setting"
            ),
        }
    }
    a
}

/// Packet `i` of a busy LAN, `spacing_us` apart from `T0`.
fn packet(i: usize, spacing_us: i64) -> PacketMeta {
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995;
    x ^= x >> 29;
    let r = (x.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32) as u32;
    let proto = [Protocol::Tcp, Protocol::Tcp, Protocol::Udp, Protocol::Icmp][(r % 4) as usize];
    PacketMeta {
        host: None,
        time: Ts(T0 * 1_000_000 + i as i64 * spacing_us),
        iface: 0,
        src_ip: Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | ((r >> 8) & 0x3ff)))),
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
    }
}

fn packets(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record::Event(Event::Packet(packet(i, 20))))
        .collect()
}

/// CPU seconds of process `pid` and, with `children`, of its direct children.
fn cpu_secs(pid: u32, children: bool) -> f64 {
    let read = |pid: &str| -> Option<(u32, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ppid = f[1].parse().ok()?;
        let ticks = f[11].parse::<f64>().ok()? + f[12].parse::<f64>().ok()?;
        Some((ppid, ticks / 100.0))
    };
    let own = read(&pid.to_string()).map_or(0.0, |(_, t)| t);
    if !children {
        return own;
    }
    let kids: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| read(e.file_name().to_str()?))
        .filter(|(ppid, _)| *ppid == pid)
        .map(|(_, t)| t)
        .sum();
    own + kids
}

struct Rate {
    wall: f64,
    cpu: f64,
}

/// Rows per wall second and per CPU second, CPU being ours plus the server's.
fn measure(rows: usize, server: Option<u32>, work: impl FnOnce()) -> Rate {
    let me = std::process::id();
    let cpu = || cpu_secs(me, false) + server.map_or(0.0, |p| cpu_secs(p, true));
    let (start, cpu0) = (Instant::now(), cpu());
    work();
    let (wall, used) = (start.elapsed().as_secs_f64(), cpu() - cpu0);
    Rate {
        wall: rows as f64 / wall,
        cpu: rows as f64 / used.max(0.01),
    }
}

fn via_writer(
    store: Arc<dyn Store>,
    records: &[Record],
    batch: usize,
    server: Option<u32>,
) -> Rate {
    let chunks: Vec<Vec<Record>> = records.chunks(batch).map(<[Record]>::to_vec).collect();
    let writer = spawn_writer(
        store,
        WriterOptions {
            channel_capacity: chunks.len() + 1,
            max_batch_records: batch,
            ..WriterOptions::default()
        },
    );
    let rate = measure(records.len(), server, || {
        for c in chunks {
            assert!(writer.send(c), "channel sized to never drop");
        }
        writer.flush().expect("flush");
    });
    assert_eq!(writer.shutdown().records_dropped, 0);
    rate
}

/// The same packets with the driver's `BinaryCopyInWriter` (a type-checked write per
/// field), one COPY per batch in its own transaction, into a store-made table.
fn driver_copy(url: &str, records: &[Record], batch: usize, server: Option<u32>) -> Rate {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let types = [
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::BOOL,
    ];
    measure(records.len(), server, || {
        for chunk in records.chunks(batch) {
            let mut tx = client.transaction().expect("begin");
            let sink = tx
                .copy_in(
                    "COPY packets (time, iface, src_ip, dst_ip, src_port, dst_port, protocol, \
                     tcp_flags, icmp_type, icmp_code, icmp_quoted, wire_len, ip_len, no_ports) \
                     FROM STDIN (FORMAT binary)",
                )
                .expect("copy");
            let mut w = BinaryCopyInWriter::new(sink, &types);
            for r in chunk {
                let Record::Event(Event::Packet(p)) = r else {
                    continue;
                };
                let (src, dst) = (
                    p.src_ip.map(|a| a.to_string()),
                    p.dst_ip.map(|a| a.to_string()),
                );
                let none: Option<i64> = None;
                let quoted: Option<String> = None;
                w.write(&[
                    &p.time.micros(),
                    &i64::from(p.iface),
                    &src,
                    &dst,
                    &i64::from(p.src_port),
                    &i64::from(p.dst_port),
                    &p.protocol.as_str(),
                    &i64::from(p.tcp_flags),
                    &none,
                    &none,
                    &quoted,
                    &i64::from(p.wire_len),
                    &i64::from(p.ip_len),
                    &p.no_ports,
                ])
                .expect("row");
            }
            w.finish().expect("finish");
            tx.commit().expect("commit");
        }
    })
}

/// One statistics query, timed against each store.
type Query = Box<dyn Fn(&dyn Store)>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn keep_all() -> OpenOptions {
    OpenOptions {
        retention: RetentionConfig::keep_everything(),
        ..OpenOptions::default()
    }
}

fn sqlite(dir: &std::path::Path, name: &str, opts: OpenOptions) -> Arc<dyn Store> {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Arc::new(SqliteStore::open(&path, opts).expect("open SQLite"))
}

fn main() {
    let a = args();
    std::fs::create_dir_all(&a.dir).expect("bench dir");
    // Durable settings (fsync and synchronous_commit on, as shipped); room for WAL.
    let mut settings = vec!["shared_buffers=256MB", "max_wal_size=4GB"];
    settings.extend(a.settings.iter().map(String::as_str));
    let cluster = PgCluster::start(&settings);
    let server = cluster.postmaster_pid();
    let records = packets(a.packets);
    println!(
        "{} packets per run, {} runs, {} records per transaction",
        a.packets, a.runs, a.batch
    );
    let mut rows: Vec<(&str, Vec<Rate>)> = vec![
        ("SQLite, writer thread", Vec::new()),
        (
            "PostgreSQL, writer thread (own binary COPY encoding)",
            Vec::new(),
        ),
        (
            "PostgreSQL, BinaryCopyInWriter, bare COPY per batch",
            Vec::new(),
        ),
    ];
    for run in 0..a.runs {
        let s = sqlite(&a.dir, "ingest.db", keep_all());
        rows[0].1.push(via_writer(s, &records, a.batch, None));
        let url = cluster.fresh_database();
        let p: Arc<dyn Store> = Arc::new(PgStore::open(&url, keep_all()).expect("open PG"));
        rows[1].1.push(via_writer(p, &records, a.batch, server));
        let url = cluster.fresh_database();
        // The store makes the schema and the day's partition (with one packet).
        let made = PgStore::open(&url, keep_all()).expect("schema");
        made.write_batch(&records[..1]).expect("partition");
        drop(made);
        rows[2].1.push(driver_copy(&url, &records, a.batch, server));
        eprintln!("run {} of {} done", run + 1, a.runs);
    }
    println!("| case | median rows/s (wall) | min | max | median rows per CPU-second |");
    println!("|---|---:|---:|---:|---:|");
    for (name, rates) in &rows {
        let walls: Vec<f64> = rates.iter().map(|r| r.wall).collect();
        let lo = walls.iter().copied().fold(f64::MAX, f64::min);
        let hi = walls.iter().copied().fold(0.0, f64::max);
        let cpu = median(rates.iter().map(|r| r.cpu).collect());
        println!(
            "| {name} | {:.0} | {lo:.0} | {hi:.0} | {cpu:.0} |",
            median(walls)
        );
    }
    if a.big > 0 {
        big(&a, &cluster);
    }
}

/// Labels the records of a batch as sent by `host` (an agent's batch).
fn label(records: &mut [Record], host: &netsnoop_core::HostRef) {
    for r in records {
        match r {
            Record::Event(Event::Packet(p)) => p.host = Some(host.clone()),
            Record::Event(Event::Traffic(t)) => t.host = Some(host.clone()),
            _ => {}
        }
    }
}

/// Stores `n` packets over two days (with their rollups) in both backends, then times
/// every statistics query and the retention pass that drops the first day.
fn big(a: &Args, cluster: &PgCluster) {
    let n = a.big;
    let spacing = 2 * 86_400_000_000 / n as i64;
    let url = cluster.fresh_database();
    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("SQLite", sqlite(&a.dir, "big.db", keep_all())),
        (
            "PostgreSQL",
            Arc::new(PgStore::open(&url, keep_all()).expect("open PG")),
        ),
    ];
    let agents: Vec<netsnoop_core::HostRef> = (0..a.hosts)
        .map(|k| {
            Host::new(format!("agent-{k}"), format!("agent-{k}.example"))
                .expect("host")
                .shared()
        })
        .collect();
    let started = Instant::now();
    let mut stage = Rollups::new(RollupConfig::default());
    let mut chunk = Vec::with_capacity(a.batch * 2);
    let mut i = 0;
    while i < n {
        chunk.clear();
        for j in i..(i + a.batch).min(n) {
            let p = packet(j, spacing);
            chunk.extend(stage.ingest(&Event::Packet(p.clone()), p.time));
            chunk.push(Record::Event(Event::Packet(p)));
        }
        if i + a.batch >= n {
            chunk.extend(stage.finish(Ts((T0 + 2 * 86_400) * 1_000_000)));
        }
        if a.hosts > 1 {
            label(&mut chunk, &agents[(i / a.batch) % a.hosts]);
        }
        for (_, s) in &stores {
            s.write_batch(&chunk).expect("write");
        }
        i += a.batch;
    }
    println!(
        "\nloaded {n} packets over 2 days into both stores in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let day = |d: i64| Ts::from_secs(T0 + d * 86_400);
    let queries: Vec<(&str, Query)> = vec![
        (
            "summary, all time",
            Box::new(|s| drop(s.summary(TimeRange::ALL, &HostFilter::all()))),
        ),
        (
            "summary, last hour",
            Box::new(move |s| {
                drop(s.summary(
                    TimeRange::between(day(2) - netsnoop_core::time::Span(3_600_000_000), day(2)),
                    &HostFilter::all(),
                ))
            }),
        ),
        (
            "top talkers, a ragged day",
            Box::new(move |s| {
                drop(s.top_talkers(
                    TimeRange::between(
                        day(0) + netsnoop_core::time::Span(1_234_567_890),
                        day(1) + netsnoop_core::time::Span(987_654_321),
                    ),
                    &HostFilter::all(),
                    10,
                    TalkerOrder::Packets,
                ))
            }),
        ),
        (
            "top talkers, all time",
            Box::new(|s| {
                drop(s.top_talkers(TimeRange::ALL, &HostFilter::all(), 10, TalkerOrder::Packets))
            }),
        ),
        (
            "protocols, all time",
            Box::new(|s| drop(s.protocol_distribution(TimeRange::ALL, &HostFilter::all()))),
        ),
        (
            "traffic over time, 60 s buckets, a day",
            Box::new(move |s| {
                drop(s.traffic_over_time(
                    TimeRange::between(day(1), day(2)),
                    &HostFilter::all(),
                    Some(60),
                ))
            }),
        ),
        (
            "recent packets, 100",
            Box::new(|s| drop(s.recent_packets(100, &Default::default()))),
        ),
    ];
    let mut queries = queries;
    if a.hosts > 1 {
        let one = || HostFilter(vec!["agent-0".into()]);
        queries.extend([
            (
                "summary, all time, one host",
                Box::new(move |s: &dyn Store| drop(s.summary(TimeRange::ALL, &one()))) as Query,
            ),
            (
                "top talkers, all time, one host",
                Box::new(move |s: &dyn Store| {
                    drop(s.top_talkers(TimeRange::ALL, &one(), 10, TalkerOrder::Packets))
                }),
            ),
            (
                "top talkers, a ragged day, one host",
                Box::new(move |s: &dyn Store| {
                    drop(s.top_talkers(
                        TimeRange::between(
                            day(0) + netsnoop_core::time::Span(1_234_567_890),
                            day(1) + netsnoop_core::time::Span(987_654_321),
                        ),
                        &one(),
                        10,
                        TalkerOrder::Packets,
                    ))
                }),
            ),
        ]);
    }
    println!("\n| query | SQLite p50 ms | SQLite p99 ms | PostgreSQL p50 ms | PostgreSQL p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, q) in &queries {
        let mut cells = Vec::new();
        for (_, s) in &stores {
            let mut t: Vec<f64> = (0..200)
                .map(|_| {
                    let start = Instant::now();
                    q(&**s);
                    start.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            t.sort_by(f64::total_cmp);
            cells.push(format!(
                "{:.2} | {:.2}",
                t[t.len() / 2],
                t[t.len() * 99 / 100]
            ));
        }
        println!("| {name} | {} |", cells.join(" | "));
    }
    // Retention: keep one day of packets, now = the end of the second day.
    let keep_day = OpenOptions {
        retention: RetentionConfig {
            packets: Some(Duration::from_secs(86_400)),
            ..RetentionConfig::keep_everything()
        },
        ..OpenOptions::default()
    };
    println!("\n| retention of the first day's packets | rows deleted | seconds |");
    println!("|---|---:|---:|");
    let sq: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&a.dir.join("big.db"), keep_day.clone()).expect("reopen"));
    let pgs: Arc<dyn Store> = Arc::new(PgStore::open(&url, keep_day).expect("reopen PG"));
    for (name, s) in [
        ("SQLite (DELETE)", sq),
        ("PostgreSQL (DROP of a day partition)", pgs),
    ] {
        let start = Instant::now();
        let report = s.apply_retention(day(2)).expect("retention");
        println!(
            "| {name} | {} | {:.3} |",
            report.by_age.get("packets").copied().unwrap_or(0),
            start.elapsed().as_secs_f64()
        );
    }
}
