//! What /metrics costs while 100k packets/s pass through the live hub: one thread
//! publishes paced packet batches (as the pipeline does) while the real server answers
//! `GET /metrics` (gzip, as Prometheus asks). Reported per scrape and as the share of one
//! core a 1 s scrape interval takes, from per-thread CPU time (/proc/self/task).
//!
//! `cargo run --release -p netsnoop-server --example metrics_cost -- [seconds] [packets/s]`

use netsnoop_core::{Event, PacketMeta, Protocol, Record, Ts};
use netsnoop_server::{AppState, LiveHub, ServerConfig, SourceStatus};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// CPU seconds used so far by this process's threads whose name starts with `prefix`.
fn threads_cpu(prefix: &str) -> f64 {
    let me = procfs::process::Process::myself().expect("/proc/self");
    let ticks = procfs::ticks_per_second() as f64;
    me.tasks()
        .expect("tasks")
        .flatten()
        .filter_map(|t| t.stat().ok())
        .filter(|s| s.comm.starts_with(prefix))
        .map(|s| (s.utime + s.stime) as f64 / ticks)
        .sum()
}

fn scrape(addr: SocketAddr) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("response");
    assert!(out.starts_with(b"HTTP/1.1 200"), "scrape failed");
    out.len()
}

fn batch(n: usize, seq: &mut u32) -> Vec<Record> {
    (0..n)
        .map(|_| {
            *seq = seq.wrapping_add(1);
            Record::Event(Event::Packet(PacketMeta {
                time: Ts::now(),
                src_ip: Some(Ipv4Addr::from(0x0a00_0000 | (*seq & 0xffff)).into()),
                dst_ip: Some(Ipv4Addr::LOCALHOST.into()),
                protocol: Protocol::ALL[*seq as usize % 3],
                wire_len: 60 + *seq % 1400,
                ..PacketMeta::default()
            }))
        })
        .collect()
}

/// Publishes `rate` packets/s in 100 batches a second until `stop`.
fn publisher(hub: LiveHub, rate: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::Builder::new()
        .name("publisher".into())
        .spawn(move || {
            let per = rate / 100;
            let mut seq = 0u32;
            let mut sent = 0u64;
            let start = Instant::now();
            let mut tick = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let records = batch(per, &mut seq);
                hub.publish(&records);
                sent += per as u64;
                tick += 1;
                let due = start + Duration::from_millis(10) * tick;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            sent
        })
        .expect("spawn publisher")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let rate: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let hub = LiveHub::default();
    hub.set_sources(
        ["capture:eth0", "capture:lo", "exec (ebpf)", "resources"]
            .iter()
            .map(|n| SourceStatus {
                name: n.to_string(),
                running: true,
                note: None,
            })
            .collect(),
    );
    hub.metrics().add_queue("pipeline", Box::new(|| (3, 1024)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(ServerConfig::default(), hub.clone());
    runtime.spawn(async move {
        let _ = netsnoop_server::serve(listener, state, std::future::pending()).await;
    });
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(hub.clone(), rate, stop.clone());
    std::thread::sleep(Duration::from_secs(1));

    // 1. No scrapes: what publishing alone costs.
    let p0 = threads_cpu("publisher");
    std::thread::sleep(Duration::from_secs(secs));
    let publish_alone = (threads_cpu("publisher") - p0) / secs as f64;

    // 2. One gzip scrape a second, as Prometheus does.
    let (p1, s1) = (threads_cpu("publisher"), threads_cpu("server"));
    let start = Instant::now();
    let mut bytes = 0;
    for i in 1..=secs {
        bytes = scrape(addr);
        if let Some(wait) = (start + Duration::from_secs(i)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
    }
    let publish_scraped = (threads_cpu("publisher") - p1) / secs as f64;
    let server_paced = (threads_cpu("server") - s1) / secs as f64;

    // 3. Back to back, for a precise cost per scrape (tick resolution is 10 ms).
    let n = 300;
    let s2 = threads_cpu("server");
    let t2 = Instant::now();
    for _ in 0..n {
        scrape(addr);
    }
    let per_scrape_cpu = (threads_cpu("server") - s2) / n as f64;
    let per_scrape_wall = t2.elapsed().as_secs_f64() / n as f64;

    stop.store(true, Ordering::Relaxed);
    let sent = publishing.join().expect("publisher");
    let text = hub.metrics_text(None, &[]);
    let series = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    println!("metrics_cost: {rate} packets/s published ({sent} in all), {secs} s per phase");
    println!("  series per scrape                  {series} ({bytes} bytes gzip on the wire)");
    println!(
        "  server CPU per scrape (back to back) {:.2} ms  (wall {:.2} ms)",
        per_scrape_cpu * 1e3,
        per_scrape_wall * 1e3
    );
    println!(
        "  share of a core at 1 scrape/s       {:.3}% (back to back) / {:.3}% (paced, server threads)",
        per_scrape_cpu * 100.0,
        server_paced * 100.0
    );
    println!(
        "  publisher CPU, no scrapes / 1 s scrapes {:.1}% / {:.1}% of a core (ratio {:.3})",
        publish_alone * 100.0,
        publish_scraped * 100.0,
        publish_scraped / publish_alone.max(1e-9)
    );
}
