//! Brute-force traffic statistics straight from per-second rollup records, the reference
//! the store's tiered queries must equal.

use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{TrafficSecond, Ts};
use netsnoop_store::{ProtocolCount, Summary, Talker, TimeRange};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Whether a rollup second belongs to the range (its start is inside, as the store
/// defines it).
pub fn second_in(range: TimeRange, second: i64) -> bool {
    let start = Ts::from_secs(second);
    range.since.is_none_or(|s| start >= s) && range.until.is_none_or(|u| start < u)
}

/// The seconds a query counts, summed as the per-second tables would.
pub struct Brute<'a> {
    pub seconds: Vec<&'a TrafficSecond>,
}

impl<'a> Brute<'a> {
    pub fn new(all: &'a [TrafficSecond], counts: impl Fn(i64) -> bool) -> Brute<'a> {
        Brute {
            seconds: all.iter().filter(|t| counts(t.second)).collect(),
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            total_packets: self.seconds.iter().map(|t| t.total.packets).sum(),
            unique_sources: self.hosts(|t| t.by_src.as_slice(), |t| t.unique_src),
            unique_destinations: self.hosts(|t| t.by_dst.as_slice(), |t| t.unique_dst),
            total_bytes: self.seconds.iter().map(|t| t.total.bytes).sum(),
        }
    }

    /// Distinct hosts with a row, or the busiest second's own count if larger (rows
    /// beyond the rollup stage's cap are not stored).
    fn hosts(
        &self,
        rows: fn(&TrafficSecond) -> &[(IpAddr, Counts)],
        busiest: fn(&TrafficSecond) -> u64,
    ) -> u64 {
        let set: BTreeSet<IpAddr> = self
            .seconds
            .iter()
            .flat_map(|t| rows(t).iter().map(|(ip, _)| *ip))
            .collect();
        let most = self.seconds.iter().map(|t| busiest(t)).max().unwrap_or(0);
        (set.len() as u64).max(most)
    }

    /// Every source, most packets first (ties: bytes, then address text).
    pub fn talkers(&self, by_bytes: bool) -> Vec<Talker> {
        let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (ip, c) in self.seconds.iter().flat_map(|t| t.by_src.iter()) {
            let e = per.entry(ip.to_string()).or_default();
            e.0 += c.packets;
            e.1 += c.bytes;
        }
        let mut v: Vec<Talker> = per
            .into_iter()
            .map(|(src_ip, (packets, bytes))| Talker {
                src_ip,
                packets,
                bytes,
            })
            .collect();
        v.sort_by(|a, b| {
            let key = |t: &Talker| {
                if by_bytes {
                    (t.bytes, t.packets)
                } else {
                    (t.packets, t.bytes)
                }
            };
            key(b).cmp(&key(a)).then(a.src_ip.cmp(&b.src_ip))
        });
        v
    }

    pub fn protocols(&self) -> Vec<ProtocolCount> {
        let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (p, c) in self.seconds.iter().flat_map(|t| t.by_protocol.iter()) {
            let e = per.entry(p.as_str()).or_default();
            e.0 += c.packets;
            e.1 += c.bytes;
        }
        let mut v: Vec<ProtocolCount> = per
            .into_iter()
            .map(|(p, (count, bytes))| ProtocolCount {
                protocol: p.to_string(),
                count,
                bytes,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.protocol.cmp(&b.protocol)));
        v
    }

    /// `(bucket start, packets, bytes)` for buckets of `width` seconds with traffic.
    pub fn buckets(&self, width: i64) -> Vec<(i64, u64, u64)> {
        let mut per: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for t in &self.seconds {
            let e = per
                .entry(t.second - t.second.rem_euclid(width))
                .or_default();
            e.0 += t.total.packets;
            e.1 += t.total.bytes;
        }
        per.into_iter().map(|(b, (p, by))| (b, p, by)).collect()
    }
}
