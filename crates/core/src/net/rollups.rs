//! The per-second traffic rollup stage: packets in, one [`TrafficSecond`] per closed
//! second out, so every NetWatch statistic (totals, protocols, top talkers, unique
//! addresses, traffic over time) is a cheap sum over seconds.
//!
//! A packet stamped earlier than the open second (capture reordering) is counted in the
//! open second rather than reopening a closed one; seconds without packets emit nothing.
//!
//! [`Stage::checkpoint`] hands out the open second so far, so acknowledged packets can be
//! stored (and queried) before their second closes. A second may then come in parts:
//! each part holds the counts added since the previous one (they add up), and the hosts
//! seen so far in the second (`unique_src`/`unique_dst`, of which a reader keeps the
//! largest).

use super::addr::{self, AddrKey};
use super::config::RollupConfig;
use super::packet::{PacketMeta, Protocol};
use super::traffic::{Counts, TrafficSecond};
use crate::{Event, Record, Stage, Ts};
use rustc_hash::FxHashMap;

pub struct Rollups {
    cap: usize,
    second: Option<i64>,
    /// Packets counted since the last part was handed out.
    dirty: bool,
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
            dirty: false,
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
                out.extend(self.close());
                self.second = Some(sec);
            }
            None => self.second = Some(sec),
            _ => {}
        }
        let bytes = u64::from(m.wire_len);
        self.dirty = true;
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

    /// The open second's counts since the last part, or nothing if there are none;
    /// `keep_hosts` keeps the second's hosts (for the cap and the distinct counts).
    fn part(&mut self, keep_hosts: bool) -> Option<Record> {
        if !std::mem::take(&mut self.dirty) {
            if !keep_hosts {
                self.by_src.clear();
                self.by_dst.clear();
            }
            return None;
        }
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
            by_src: take_sorted(&mut self.by_src, keep_hosts),
            by_dst: take_sorted(&mut self.by_dst, keep_hosts),
            src_other: self.src_other,
            dst_other: self.dst_other,
        };
        self.total = Counts::default();
        self.by_protocol = [Counts::default(); Protocol::ALL.len()];
        self.src_other = Counts::default();
        self.dst_other = Counts::default();
        Some(Record::Event(Event::Traffic(row)))
    }

    fn close(&mut self) -> Option<Record> {
        self.part(false)
    }

    /// Closes the open second if `now` is past it.
    pub fn flush_before(&mut self, now: Ts, out: &mut Vec<Record>) {
        if let Some(open) = self.second
            && now.secs() > open
        {
            out.extend(self.close());
            self.second = None;
        }
    }

    /// Hands out the open second's counts so far (see the module doc); the second
    /// stays open.
    pub fn checkpoint(&mut self, out: &mut Vec<Record>) {
        out.extend(self.part(true));
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

/// The hosts with counts, busiest first; `keep` leaves every host in the map at zero
/// (a checkpoint), else the map is emptied (the second closes).
fn take_sorted(
    map: &mut FxHashMap<AddrKey, Counts>,
    keep: bool,
) -> Vec<(std::net::IpAddr, Counts)> {
    let mut rows: Vec<(AddrKey, Counts)> = if keep {
        map.iter_mut()
            .filter(|(_, c)| c.packets > 0)
            .map(|(k, c)| (*k, std::mem::take(c)))
            .collect()
    } else {
        map.drain().filter(|(_, c)| c.packets > 0).collect()
    };
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
            out.extend(self.close());
            self.second = None;
        }
        out
    }

    fn checkpoint(&mut self, _now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        Rollups::checkpoint(self, &mut out);
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

    #[test]
    fn checkpoints_hand_out_parts_of_the_open_second_that_add_up_to_the_closed_second() {
        let packets: Vec<PacketMeta> = (0..9)
            .map(|i| {
                let src = format!("10.0.0.{}", i % 4);
                udp(Ts::from_millis(7_000 + i * 100), &src, 1, "10.0.0.99", 53)
            })
            .collect();
        let mut whole = Rollups::new(RollupConfig::default());
        let mut parted = Rollups::new(RollupConfig::default());
        let mut parts = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            whole.add(p, p.time, &mut Vec::new());
            parted.add(p, p.time, &mut parts);
            if i % 4 == 1 {
                parted.checkpoint(&mut parts);
            }
        }
        // Nothing new since the last checkpoint: no empty part.
        let before = parts.len();
        parted.checkpoint(&mut parts);
        parted.checkpoint(&mut parts);
        assert_eq!(parts.len(), before + 1);
        let last = udp(Ts::from_millis(7_950), "10.0.0.5", 1, "10.0.0.99", 53);
        whole.add(&last, last.time, &mut Vec::new());
        parted.add(&last, last.time, &mut parts);
        parts.extend(parted.tick(Ts::from_secs(8)));
        let parts = seconds(parts);
        let whole = &seconds(whole.tick(Ts::from_secs(8)))[0];
        assert_eq!(
            parts.len(),
            4,
            "three checkpoints with news, then the close"
        );
        assert_eq!(parts[3].total.packets, 1, "the close holds what came after");
        let sum = |f: fn(&TrafficSecond) -> u64| parts.iter().map(f).sum::<u64>();
        assert_eq!(sum(|t| t.total.packets), whole.total.packets);
        assert_eq!(sum(|t| t.total.bytes), whole.total.bytes);
        for host in ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5"] {
            let of = |t: &TrafficSecond| {
                t.by_src
                    .iter()
                    .filter(|(a, _)| *a == ip(host))
                    .map(|(_, c)| c.packets)
                    .sum::<u64>()
            };
            assert_eq!(parts.iter().map(of).sum::<u64>(), of(whole), "{host}");
        }
        let most_hosts = parts.iter().map(|t| t.unique_src).max().unwrap();
        assert_eq!(most_hosts, whole.unique_src);
        assert!(parts.iter().all(|t| t.second == 7));
    }
}
