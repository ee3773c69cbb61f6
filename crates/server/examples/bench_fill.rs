//! Benchmark fixture: fills a SQLite store with N synthetic packets through the real
//! rollup stage and the store API (per-second rollups for every packet; individual rows
//! for one packet in `--keep-every`, as the packet sampler and row cap would keep).
//!
//! Usage: bench_fill DIR [PACKETS=10000000] [SPAN_SECS=7200] [SOURCES=1000] [KEEP_EVERY=10]
//! The packets end at the current time, so NetWatch's default 30-minute window holds data.

use netsnoop_core::net::config::RollupConfig;
use netsnoop_core::net::rollups::Rollups;
use netsnoop_core::{Event, PacketMeta, Protocol, Record, Ts};
use netsnoop_store::{OpenOptions, RetentionConfig};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// A small fast generator (xorshift64*), so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .expect("usage: bench_fill DIR [PACKETS] [SPAN_SECS] [SOURCES] [KEEP_EVERY]");
    let num = |i: usize, d: u64| args.get(i).map_or(d, |s| s.parse().expect("a number"));
    let (packets, span, sources, keep_every) =
        (num(2, 10_000_000), num(3, 7200), num(4, 1000), num(5, 10));

    let opts = OpenOptions {
        retention: RetentionConfig {
            max_packet_rows: None,
            ..RetentionConfig::default()
        },
        ..OpenOptions::default()
    };
    let store =
        netsnoop_store::open(&format!("sqlite:{dir}/netsnoop.db"), opts).expect("open store");
    let end = jiff::Timestamp::now().as_second();
    let start = end - span as i64;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rollups = Rollups::new(RollupConfig::default());
    let mut out: Vec<Record> = Vec::with_capacity(100_000);
    let (mut written, mut kept) = (0u64, 0u64);
    let began = Instant::now();
    for i in 0..packets {
        let time =
            Ts(start * 1_000_000 + (i as i128 * span as i128 * 1_000_000 / packets as i128) as i64);
        // Skewed sources: half the traffic from the first 1% of hosts.
        let src_n = if rng.below(2) == 0 {
            rng.below((sources / 100).max(1))
        } else {
            rng.below(sources)
        };
        let src = IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + src_n as u32));
        let dst = IpAddr::V4(Ipv4Addr::from(0xc0a8_0000u32 + rng.below(200) as u32));
        let protocol = match rng.below(100) {
            0..70 => Protocol::Tcp,
            70..95 => Protocol::Udp,
            95..99 => Protocol::Icmp,
            _ => Protocol::Other,
        };
        let m = PacketMeta {
            time,
            src_ip: Some(src),
            dst_ip: Some(dst),
            src_port: 1024 + rng.below(60000) as u16,
            dst_port: [80, 443, 53, 22][rng.below(4) as usize],
            protocol,
            wire_len: 60 + rng.below(1400) as u32,
            ..PacketMeta::default()
        };
        rollups.add(&m, time, &mut out);
        if i % keep_every == 0 {
            out.push(Record::Event(Event::Packet(m)));
            kept += 1;
        }
        if out.len() >= 50_000 {
            store.write_batch(&out).expect("write");
            written += out.len() as u64;
            out.clear();
        }
    }
    rollups.flush_before(Ts::from_secs(end + 2), &mut out);
    store.write_batch(&out).expect("write");
    written += out.len() as u64;
    eprintln!(
        "bench_fill: {packets} packets over {span} s from {sources} sources: {kept} packet rows, {written} records written in {:.1} s",
        began.elapsed().as_secs_f64()
    );
}
