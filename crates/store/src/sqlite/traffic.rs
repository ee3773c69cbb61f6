//! Writing traffic seconds into every rollup tier. A batch's seconds are first summed in
//! memory per tier, host and bucket, so a minute or an hour is upserted once per batch however
//! many of its seconds the batch holds (a replay or bulk load writes hundreds per
//! batch; live capture about one).

use super::tiers::{TIERS, Tier, bucket};
use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{Protocol, TrafficSecond};
use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// What a batch adds to the rollups, by (tier index, host key, bucket start).
#[derive(Default)]
pub(crate) struct TrafficSums {
    buckets: BTreeMap<(usize, i64, i64), Sums>,
}

/// One bucket's additions: counts add up; distinct counts keep the largest, since two
/// parts of a second (or two seconds) may share hosts, and summaries need the most
/// hosts any one second saw.
#[derive(Default)]
pub(crate) struct Sums {
    pub(crate) total: Counts,
    pub(crate) unique_src: u64,
    pub(crate) unique_dst: u64,
    pub(crate) src_other: Counts,
    pub(crate) dst_other: Counts,
    pub(crate) by_protocol: BTreeMap<Protocol, Counts>,
    pub(crate) by_src: FxHashMap<IpAddr, Counts>,
    pub(crate) by_dst: FxHashMap<IpAddr, Counts>,
}

impl TrafficSums {
    /// Adds a second of host `host` (its `hosts.key`) to its bucket in every tier.
    /// Returns the per-second rows it holds (1 + one per protocol, source and
    /// destination), the rows a caller counts.
    pub(crate) fn add(&mut self, host: i64, t: &TrafficSecond) -> u64 {
        for (i, tier) in TIERS.iter().enumerate() {
            let sums = self
                .buckets
                .entry((i, host, bucket(t.second, tier.width)))
                .or_default();
            sums.add(t);
        }
        1 + (t.by_protocol.len() + t.by_src.len() + t.by_dst.len()) as u64
    }

    /// Every bucket touched in (tier, host, start) order, as (tier, host key, start,
    /// sums): what a backend adds.
    pub(crate) fn buckets(&self) -> impl Iterator<Item = (&'static Tier, i64, i64, &Sums)> {
        self.buckets
            .iter()
            .map(|((i, host, second), sums)| (&TIERS[*i], *host, *second, sums))
    }

    /// Adds everything summed to what the tables hold, in the caller's transaction.
    pub(super) fn write(self, conn: &Connection) -> rusqlite::Result<()> {
        for ((i, host, second), sums) in &self.buckets {
            sums.write(conn, &TIERS[*i], *host, *second)?;
        }
        Ok(())
    }
}

impl Sums {
    fn add(&mut self, t: &TrafficSecond) {
        self.total.merge(t.total);
        self.unique_src = self.unique_src.max(t.unique_src);
        self.unique_dst = self.unique_dst.max(t.unique_dst);
        self.src_other.merge(t.src_other);
        self.dst_other.merge(t.dst_other);
        for (p, c) in &t.by_protocol {
            self.by_protocol.entry(*p).or_default().merge(*c);
        }
        for (ip, c) in &t.by_src {
            self.by_src.entry(*ip).or_default().merge(*c);
        }
        for (ip, c) in &t.by_dst {
            self.by_dst.entry(*ip).or_default().merge(*c);
        }
    }

    /// Adds to the bucket's rows rather than replacing them, so a second reported in
    /// two batches (two capture threads, a late flush) loses no counts.
    fn write(
        &self,
        conn: &Connection,
        tier: &Tier,
        host: i64,
        second: i64,
    ) -> rusqlite::Result<()> {
        // Table names are built from constants of this crate, never from input.
        let suffix = tier.suffix;
        let mut total = conn.prepare_cached(&format!(
            "INSERT INTO traffic_seconds{suffix} (host, second, packets, bytes, unique_src,
                 unique_dst, src_other_packets, src_other_bytes, dst_other_packets,
                 dst_other_bytes)
             VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (host, second) DO UPDATE SET
                 packets = packets + excluded.packets, bytes = bytes + excluded.bytes,
                 unique_src = max(unique_src, excluded.unique_src),
                 unique_dst = max(unique_dst, excluded.unique_dst),
                 src_other_packets = src_other_packets + excluded.src_other_packets,
                 src_other_bytes = src_other_bytes + excluded.src_other_bytes,
                 dst_other_packets = dst_other_packets + excluded.dst_other_packets,
                 dst_other_bytes = dst_other_bytes + excluded.dst_other_bytes"
        ))?;
        total.execute(params![
            second,
            self.total.packets,
            self.total.bytes,
            self.unique_src,
            self.unique_dst,
            self.src_other.packets,
            self.src_other.bytes,
            self.dst_other.packets,
            self.dst_other.bytes,
            host,
        ])?;
        let mut by_protocol = conn.prepare_cached(&format!(
            "INSERT INTO traffic_protocol{suffix} (host, second, protocol, packets, bytes)
             VALUES (?5, ?1, ?2, ?3, ?4)
             ON CONFLICT (host, second, protocol) DO UPDATE SET
                 packets = packets + excluded.packets, bytes = bytes + excluded.bytes"
        ))?;
        for (proto, c) in &self.by_protocol {
            by_protocol.execute(params![second, proto.as_str(), c.packets, c.bytes, host])?;
        }
        for (family, hosts) in [("traffic_src", &self.by_src), ("traffic_dst", &self.by_dst)] {
            let mut stmt = conn.prepare_cached(&format!(
                "INSERT INTO {family}{suffix} (host, second, ip, packets, bytes)
                 VALUES (?5, ?1, ?2, ?3, ?4)
                 ON CONFLICT (host, second, ip) DO UPDATE SET
                     packets = packets + excluded.packets, bytes = bytes + excluded.bytes"
            ))?;
            let mut ip = String::new();
            for (addr, c) in hosts {
                ip_into(&mut ip, *addr);
                stmt.execute(params![second, ip, c.packets, c.bytes, host])?;
            }
        }
        Ok(())
    }
}

/// Writes the address as text into `buf`. IPv4 is formatted by hand: `Display` goes
/// through `fmt` machinery that cost several percent of the packet insert path.
pub(crate) fn ip_into(buf: &mut String, addr: IpAddr) {
    buf.clear();
    match addr {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push('.');
                }
                if octet >= 100 {
                    buf.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    buf.push(char::from(b'0' + octet / 10 % 10));
                }
                buf.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(_) => {
            let _ = write!(buf, "{addr}");
        }
    }
}
