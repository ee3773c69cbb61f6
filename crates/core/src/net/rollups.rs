//! The per-second traffic rollup stage: packets in, [`TrafficSecond`]s out, so every
//! NetWatch statistic (totals, protocols, top talkers, unique addresses, traffic over
//! time) is a cheap sum over seconds.
//!
//! Each packet is counted in its own second. A few seconds are open at once, each closed
//! when the clock passes it, so a packet stamped late (capture reordering, an agent's
//! buffered batch) or early (a skewed clock) only ever touches its own second and never
//! holds back the others. Rows are additive: a second emitted twice (a late packet after
//! its second closed, or more distinct seconds than [`MAX_OPEN_SECONDS`]) adds up in
//! the store and in summaries. Seconds without packets emit nothing.
//!
//! [`Stage::checkpoint`] hands out every open second so far, so acknowledged packets can
//! be stored (and queried) before their second closes. A second may then come in parts:
//! each part holds the counts added since the previous one (they add up), and the hosts
//! seen so far in the second (`unique_src`/`unique_dst`, of which a reader keeps the
//! largest).

use super::addr::{self, AddrKey};
use super::config::RollupConfig;
use super::packet::{PacketMeta, Protocol};
use super::traffic::{Counts, TrafficSecond};
use crate::{Event, HostRef, Record, Stage, Ts};
use rustc_hash::FxHashMap;

/// Distinct (second, host) pairs counted at once. Live traffic needs two (the current
/// second and one still closing) per host posting packets; more arrive only with
/// out-of-order times, and then the oldest open second is emitted early rather than
/// letting memory grow.
pub const MAX_OPEN_SECONDS: usize = 16;

pub struct Rollups {
    cap: usize,
    /// Open seconds, oldest first; at most [`MAX_OPEN_SECONDS`].
    open: Vec<OpenSecond>,
    /// Cleared seconds kept for reuse, so their maps keep their capacity.
    spare: Vec<OpenSecond>,
}

#[derive(Default)]
struct OpenSecond {
    second: i64,
    /// Whose packets: none for this host's own, else the host a POSTed packet named.
    host: Option<HostRef>,
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
            open: Vec::with_capacity(MAX_OPEN_SECONDS),
            spare: Vec::new(),
        }
    }

    /// Counts `m` in the second of `now` (its time).
    pub fn add(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        let i = self.slot(now.secs(), m.host.as_ref(), out);
        let cap = self.cap;
        let s = &mut self.open[i];
        let bytes = u64::from(m.wire_len);
        s.dirty = true;
        s.total.add(bytes);
        s.by_protocol[proto_index(m.protocol)].add(bytes);
        count(&mut s.by_src, &mut s.src_other, m.src_ip, bytes, cap);
        count(&mut s.by_dst, &mut s.dst_other, m.dst_ip, bytes, cap);
    }

    /// The index of `host`'s open second `sec`, opened (in order) when new.
    fn slot(&mut self, sec: i64, host: Option<&HostRef>, out: &mut Vec<Record>) -> usize {
        // Newest first: nearly every packet belongs to the newest open second.
        let same_host = |s: &OpenSecond| s.host.as_ref().map(|h| &h.id) == host.map(|h| &h.id);
        if let Some(i) = self
            .open
            .iter()
            .rposition(|s| s.second == sec && same_host(s))
        {
            return i;
        }
        if self.open.len() == MAX_OPEN_SECONDS {
            let oldest = self.open.remove(0);
            out.extend(self.close(oldest));
        }
        let mut fresh = self.spare.pop().unwrap_or_default();
        fresh.second = sec;
        fresh.host = host.cloned();
        let at = self.open.partition_point(|s| s.second <= sec);
        self.open.insert(at, fresh);
        at
    }

    /// Ends a second: its last part (nothing if every packet went out in checkpoints).
    fn close(&mut self, mut s: OpenSecond) -> Option<Record> {
        let row = part(&mut s, false);
        s.by_src.clear();
        s.by_dst.clear();
        self.spare.push(s);
        row
    }

    /// Closes every open second that `now` is past, oldest first.
    pub fn flush_before(&mut self, now: Ts, out: &mut Vec<Record>) {
        let done = self.open.partition_point(|s| s.second < now.secs());
        let closed: Vec<OpenSecond> = self.open.drain(..done).collect();
        for s in closed {
            out.extend(self.close(s));
        }
    }

    /// Closes every open second, whatever the time.
    pub fn flush_all(&mut self, out: &mut Vec<Record>) {
        let closed: Vec<OpenSecond> = self.open.drain(..).collect();
        for s in closed {
            out.extend(self.close(s));
        }
    }

    /// Hands out every open second's counts so far (see the module doc); the seconds
    /// stay open.
    pub fn checkpoint(&mut self, out: &mut Vec<Record>) {
        for s in &mut self.open {
            out.extend(part(s, true));
        }
    }

    /// How many seconds are open (for tests and diagnostics).
    pub fn open_seconds(&self) -> usize {
        self.open.len()
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
/// The second's counts since its last part, or nothing if there are none; `keep_hosts`
/// keeps the second's hosts (for the cap and the distinct counts).
fn part(s: &mut OpenSecond, keep_hosts: bool) -> Option<Record> {
    if !std::mem::take(&mut s.dirty) {
        return None;
    }
    let by_protocol = Protocol::ALL
        .into_iter()
        .zip(s.by_protocol)
        .filter(|(_, c)| c.packets > 0)
        .collect();
    let row = TrafficSecond {
        host: s.host.clone(),
        second: s.second,
        total: s.total,
        by_protocol,
        unique_src: s.by_src.len() as u64,
        unique_dst: s.by_dst.len() as u64,
        by_src: take_sorted(&mut s.by_src, keep_hosts),
        by_dst: take_sorted(&mut s.by_dst, keep_hosts),
        src_other: s.src_other,
        dst_other: s.dst_other,
    };
    s.total = Counts::default();
    s.by_protocol = [Counts::default(); Protocol::ALL.len()];
    s.src_other = Counts::default();
    s.dst_other = Counts::default();
    Some(Record::Event(Event::Traffic(row)))
}

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
        self.flush_all(&mut out);
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
        let next = udp(Ts::from_secs(101), "10.0.0.1", 1, "10.0.0.2", 53);
        r.add(&next, next.time, &mut out);
        assert!(
            out.is_empty(),
            "a packet does not close seconds: the clock does"
        );
        let rows = seconds(r.tick(Ts::from_secs(101)));
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
    fn each_sending_host_gets_seconds_of_its_own() {
        let mut r = Rollups::new(RollupConfig::default());
        let mut out = Vec::new();
        let t0 = Ts::from_secs(100);
        let web = crate::Host::netwatch("web").unwrap().shared();
        for (host, n) in [(None, 1), (Some(web.clone()), 2)] {
            for _ in 0..n {
                let mut p = udp(t0, "10.0.0.4", 1, "10.0.0.2", 53);
                p.host = host.clone();
                r.add(&p, p.time, &mut out);
            }
        }
        let mut rows = seconds(r.tick(Ts::from_secs(101)));
        rows.sort_by_key(|s| s.host.is_some());
        assert_eq!(rows.len(), 2, "one second per host");
        assert_eq!((rows[0].host.clone(), rows[0].total.packets), (None, 1));
        assert_eq!(
            (rows[1].host.clone(), rows[1].total.packets),
            (Some(web), 2)
        );
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

    #[test]
    fn a_packet_stamped_an_hour_ahead_holds_back_only_its_own_second() {
        let mut r = Rollups::new(RollupConfig::default());
        let mut out = Vec::new();
        let early = udp(Ts::from_secs(3_700), "10.9.9.9", 1, "10.0.0.2", 2);
        r.add(&early, early.time, &mut out);
        for t in [100, 100, 101, 102] {
            let p = udp(Ts::from_secs(t), "10.0.0.1", 1, "10.0.0.2", 2);
            r.add(&p, p.time, &mut out);
        }
        assert!(out.is_empty());
        let rows = seconds(r.tick(Ts::from_millis(103_500)));
        let got: Vec<(i64, u64)> = rows.iter().map(|s| (s.second, s.total.packets)).collect();
        assert_eq!(got, [(100, 2), (101, 1), (102, 1)]);
        assert_eq!(
            r.open_seconds(),
            1,
            "only the early second waits for its time"
        );
        let rest = seconds(r.finish(Ts::from_secs(104)));
        assert_eq!((rest[0].second, rest[0].total.packets), (3_700, 1));
    }

    #[test]
    fn a_late_packet_is_counted_in_its_own_second_even_after_it_closed() {
        let mut r = Rollups::new(RollupConfig::default());
        let mut out = Vec::new();
        let p = udp(Ts::from_secs(50), "10.0.0.1", 1, "10.0.0.2", 2);
        r.add(&p, p.time, &mut out);
        assert_eq!(seconds(r.tick(Ts::from_secs(51))).len(), 1);
        let late = udp(Ts::from_millis(50_400), "10.0.0.3", 1, "10.0.0.2", 2);
        r.add(&late, late.time, &mut out);
        let now = udp(Ts::from_secs(51), "10.0.0.1", 1, "10.0.0.2", 2);
        r.add(&now, now.time, &mut out);
        let rows = seconds(r.tick(Ts::from_secs(52)));
        let got: Vec<(i64, u64)> = rows.iter().map(|s| (s.second, s.total.packets)).collect();
        assert_eq!(got, [(50, 1), (51, 1)], "the late one adds to second 50");
    }

    #[test]
    fn more_distinct_seconds_than_the_cap_emit_the_oldest_early_and_lose_nothing() {
        let mut r = Rollups::new(RollupConfig::default());
        let mut out = Vec::new();
        let n = MAX_OPEN_SECONDS as i64 + 5;
        for t in (0..n).rev() {
            let p = udp(Ts::from_secs(1_000 + t * 7), "10.0.0.1", 1, "10.0.0.2", 2);
            r.add(&p, p.time, &mut out);
        }
        assert_eq!(r.open_seconds(), MAX_OPEN_SECONDS);
        out.extend(r.finish(Ts::from_secs(0)));
        let rows = seconds(out);
        assert_eq!(rows.len() as i64, n);
        assert_eq!(rows.iter().map(|s| s.total.packets).sum::<u64>(), n as u64);
    }
}
