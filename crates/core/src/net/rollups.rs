//! The per-second traffic rollup stage: packets in, one [`TrafficSecond`] per closed
//! second out, so every NetWatch statistic (totals, protocols, top talkers, unique
//! addresses, traffic over time) is a cheap sum over seconds.
//!
//! A packet stamped earlier than the open second (capture reordering) is counted in the
//! open second rather than reopening a closed one; seconds without packets emit nothing.

use super::addr::{self, AddrKey};
use super::config::RollupConfig;
use super::packet::{PacketMeta, Protocol};
use super::traffic::{Counts, TrafficSecond};
use crate::{Event, Record, Stage, Ts};
use rustc_hash::FxHashMap;

pub struct Rollups {
    cap: usize,
    second: Option<i64>,
    total: Counts,
    by_protocol: [Counts; Protocol::ALL.len()],
    by_src: FxHashMap<AddrKey, Counts>,
    by_dst: FxHashMap<AddrKey, Counts>,
    src_other: Counts,
    dst_other: Counts,
}

fn proto_index(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Icmp => 2,
        Protocol::Icmpv6 => 3,
        Protocol::Arp => 4,
        Protocol::Other => 5,
    }
}

impl Rollups {
    pub fn new(cfg: RollupConfig) -> Rollups {
        Rollups {
            cap: cfg.max_hosts_per_second.max(1),
            second: None,
            total: Counts::default(),
            by_protocol: [Counts::default(); Protocol::ALL.len()],
            by_src: FxHashMap::default(),
            by_dst: FxHashMap::default(),
            src_other: Counts::default(),
            dst_other: Counts::default(),
        }
    }

    pub fn add(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        let sec = now.secs();
        match self.second {
            Some(open) if sec > open => {
                out.push(self.close());
                self.second = Some(sec);
            }
            None => self.second = Some(sec),
            _ => {}
        }
        let bytes = u64::from(m.wire_len);
        self.total.add(bytes);
        self.by_protocol[proto_index(m.protocol)].add(bytes);
        count(
            &mut self.by_src,
            &mut self.src_other,
            m.src_ip,
            bytes,
            self.cap,
        );
        count(
            &mut self.by_dst,
            &mut self.dst_other,
            m.dst_ip,
            bytes,
            self.cap,
        );
    }

    fn close(&mut self) -> Record {
        let by_protocol = Protocol::ALL
            .into_iter()
            .zip(self.by_protocol)
            .filter(|(_, c)| c.packets > 0)
            .collect();
        let row = TrafficSecond {
            second: self.second.unwrap_or_default(),
            total: self.total,
            by_protocol,
            unique_src: self.by_src.len() as u64,
            unique_dst: self.by_dst.len() as u64,
            by_src: drain_sorted(&mut self.by_src),
            by_dst: drain_sorted(&mut self.by_dst),
            src_other: self.src_other,
            dst_other: self.dst_other,
        };
        self.total = Counts::default();
        self.by_protocol = [Counts::default(); Protocol::ALL.len()];
        self.src_other = Counts::default();
        self.dst_other = Counts::default();
        Record::Event(Event::Traffic(row))
    }

    /// Closes the open second if `now` is past it.
    pub fn flush_before(&mut self, now: Ts, out: &mut Vec<Record>) {
        if let Some(open) = self.second
            && now.secs() > open
        {
            out.push(self.close());
            self.second = None;
        }
    }
}

fn count(
    map: &mut FxHashMap<AddrKey, Counts>,
    other: &mut Counts,
    ip: Option<std::net::IpAddr>,
    bytes: u64,
    cap: usize,
) {
    let Some(ip) = ip else {
        other.add(bytes);
        return;
    };
    let key = addr::key(ip);
    if let Some(c) = map.get_mut(&key) {
        c.add(bytes);
    } else if map.len() < cap {
        map.insert(key, Counts { packets: 1, bytes });
    } else {
        other.add(bytes);
    }
}

fn drain_sorted(map: &mut FxHashMap<AddrKey, Counts>) -> Vec<(std::net::IpAddr, Counts)> {
    let mut rows: Vec<(AddrKey, Counts)> = map.drain().collect();
    rows.sort_unstable_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
    rows.into_iter().map(|(k, c)| (addr::ip(k), c)).collect()
}

impl Stage for Rollups {
    fn name(&self) -> &'static str {
        "rollups"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Event::Packet(m) = event {
            self.add(m, now, &mut out);
        }
        out
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.flush_before(now, &mut out);
        out
    }

    fn finish(&mut self, _now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if self.second.is_some() {
            out.push(self.close());
            self.second = None;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::testkit::{ip, tcp, udp};

    fn seconds(records: Vec<Record>) -> Vec<TrafficSecond> {
        records
            .into_iter()
            .filter_map(|r| match r {
                Record::Event(Event::Traffic(t)) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_second_is_closed_with_exact_counts_by_protocol_source_and_destination() {
        let mut r = Rollups::new(RollupConfig::default());
        let mut out = Vec::new();
        let t0 = Ts::from_secs(100);
        for p in [
            tcp(t0, "10.0.0.1", 1, "10.0.0.2", 80, 2),
            tcp(t0, "10.0.0.1", 1, "10.0.0.3", 80, 2),
            udp(t0, "10.0.0.4", 1, "10.0.0.2", 53),
        ] {
            r.add(&p, p.time, &mut out);
        }
        assert!(out.is_empty());
        let late = udp(Ts::from_secs(101), "10.0.0.1", 1, "10.0.0.2", 53);
        r.add(&late, late.time, &mut out);
        let rows = seconds(out);
        assert_eq!(rows.len(), 1);
        let s = &rows[0];
        assert_eq!(s.second, 100);
        assert_eq!(
            s.total,
            Counts {
                packets: 3,
                bytes: 180
            }
        );
        assert_eq!(
            s.by_protocol[0],
            (
                Protocol::Tcp,
                Counts {
                    packets: 2,
                    bytes: 120
                }
            )
        );
        assert_eq!(s.by_protocol[1].0, Protocol::Udp);
        assert_eq!(
            s.by_src[0],
            (
                ip("10.0.0.1"),
                Counts {
                    packets: 2,
                    bytes: 120
                }
            )
        );
        assert_eq!((s.unique_src, s.unique_dst), (2, 2));
        assert_eq!(s.by_dst[0].0, ip("10.0.0.2"));
        let rest = seconds(r.finish(Ts::from_secs(102)));
        assert_eq!(rest[0].second, 101);
        assert_eq!(rest[0].total.packets, 1);
    }

    #[test]
    fn hosts_beyond_the_cap_are_summed_into_other_and_totals_stay_exact() {
        let mut r = Rollups::new(RollupConfig {
            max_hosts_per_second: 2,
        });
        let mut out = Vec::new();
        for h in 1..=5 {
            let p = udp(Ts::from_secs(7), &format!("10.0.0.{h}"), 1, "10.0.0.99", 2);
            r.add(&p, p.time, &mut out);
        }
        let s = &seconds(r.tick(Ts::from_secs(8)))[0];
        assert_eq!(s.by_src.len(), 2);
        assert_eq!(s.src_other.packets, 3);
        assert_eq!(s.total.packets, 5);
        assert_eq!(s.by_dst[0].1.packets, 5);
    }

    #[test]
    fn a_tick_in_the_same_second_closes_nothing() {
        let mut r = Rollups::new(RollupConfig::default());
        let p = udp(Ts::from_secs(7), "10.0.0.1", 1, "10.0.0.2", 2);
        r.add(&p, p.time, &mut Vec::new());
        assert!(r.tick(Ts::from_millis(7_900)).is_empty());
        assert_eq!(seconds(r.tick(Ts::from_secs(8))).len(), 1);
        assert!(r.finish(Ts::from_secs(9)).is_empty());
    }
}
