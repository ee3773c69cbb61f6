//! All network stages behind one [`Stage`]: flows, rollups, scan detection and the
//! traffic-spike rule, fed each packet in turn. Live capture and pcap analysis both use
//! it, so a replay gives the same records as the live run.

use super::arpspoof::ArpSpoof;
use super::bruteforce::BruteForce;
use super::config::NetworkConfig;
use super::flow_table::{FlowStats, FlowTable};
use super::packet::PacketMeta;
use super::rollups::Rollups;
use super::scan::{ScanDetector, ScanStats};
use super::spike::TrafficSpike;
use crate::owner::Attribution;
use crate::time::Span;
use crate::{Event, Record, Stage, Ts};

/// Every stage is optional only so that [`NetworkStages::split`] can hand them to two
/// threads; [`NetworkStages::new`] runs all of them.
pub struct NetworkStages {
    flows: Option<FlowTable>,
    rollups: Option<Rollups>,
    scan: Option<ScanDetector>,
    spike: Option<TrafficSpike>,
    brute: Option<BruteForce>,
    arp: Option<ArpSpoof>,
    next_tick: Option<Ts>,
    /// Socket owners for flows and alerts (crate::owner), when a source provides them.
    owners: Option<Attribution>,
}

/// Counters of every bounded table, for the binary to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    pub flows: FlowStats,
    pub scan: ScanStats,
    pub spike_sources_dropped: u64,
    /// Login connections and (source, service) pairs the brute-force rule dropped.
    pub brute_connections_dropped: u64,
    pub brute_sources_dropped: u64,
    /// Addresses and MACs the ARP-spoofing rule forgot to stay under its cap.
    pub arp_hosts_evicted: u64,
}

impl NetworkStages {
    pub fn new(cfg: &NetworkConfig) -> NetworkStages {
        NetworkStages {
            flows: Some(FlowTable::new(cfg.flows.clone())),
            rollups: Some(Rollups::new(cfg.rollups.clone())),
            scan: Some(ScanDetector::configured(
                cfg.scan.clone(),
                cfg.discovery.clone(),
                cfg.syn_flood.clone(),
            )),
            spike: Some(TrafficSpike::new(cfg.traffic_spike.clone())),
            brute: Some(BruteForce::new(
                cfg.brute_force.clone(),
                Span::secs(cfg.scan.update_interval_secs as i64),
            )),
            arp: Some(ArpSpoof::new(
                cfg.arp_spoof.clone(),
                Span::secs(cfg.scan.update_interval_secs as i64),
                Span::secs(cfg.scan.resolve_after_secs as i64),
            )),
            next_tick: None,
            owners: None,
        }
    }

    /// Ties flows and network alerts to the processes that socket events name.
    pub fn with_attribution(mut self, owners: Attribution) -> NetworkStages {
        self.owners = Some(owners);
        self
    }

    pub fn attribution(&self) -> Option<&Attribution> {
        self.owners.as_ref()
    }

    /// The same stages in two halves that share no state: traffic accounting (flow table
    /// and rollups) and detection (scans, traffic spikes). Each half ticks on packet time
    /// by itself, so two threads fed the same packets emit together exactly the records
    /// one `NetworkStages` would, only interleaved differently between the halves.
    pub fn split(cfg: &NetworkConfig) -> (NetworkStages, NetworkStages) {
        let mut detection = NetworkStages::new(cfg);
        let traffic = NetworkStages {
            flows: detection.flows.take(),
            rollups: detection.rollups.take(),
            scan: None,
            spike: None,
            brute: None,
            arp: None,
            next_tick: None,
            owners: None,
        };
        (traffic, detection)
    }

    /// Feeds one packet at its own time. Ticks the stages once per second of packet time
    /// on the way, so a file replay expires windows exactly as the live run does.
    pub fn packet(&mut self, m: &PacketMeta, out: &mut Vec<Record>) {
        let now = m.time;
        match self.next_tick {
            Some(t) if now >= t => self.tick_into(now, out),
            None => self.next_tick = Some(now + Span::secs(1)),
            _ => {}
        }
        if let Some(r) = &mut self.rollups {
            r.add(m, now, out);
        }
        if let Some(f) = &mut self.flows {
            f.add(m, now, out);
        }
        if let Some(s) = &mut self.scan {
            s.packet(m, now, out);
        }
        if let Some(s) = &mut self.spike {
            s.packet(m, now, out);
        }
        if let Some(b) = &mut self.brute {
            b.packet(m, now, out);
        }
        if let Some(a) = &mut self.arp {
            a.packet(m, now, out);
        }
    }

    pub fn tick_into(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.next_tick = Some(now + Span::secs(1));
        if let Some(r) = &mut self.rollups {
            r.flush_before(now, out);
        }
        if let Some(f) = &mut self.flows {
            f.sweep(now, out);
        }
        if let Some(s) = &mut self.scan {
            s.sweep(now, out);
        }
        if let Some(s) = &mut self.spike {
            s.sweep(now, out);
        }
        if let Some(b) = &mut self.brute {
            b.sweep(now, out);
        }
        if let Some(a) = &mut self.arp {
            a.sweep(now, out);
        }
    }

    pub fn finish_into(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.tick_into(now, out);
        if let Some(s) = &mut self.scan {
            s.end_of_data(now, out);
        }
        if let Some(r) = &mut self.rollups {
            out.extend(r.finish(now));
        }
        if let Some(f) = &mut self.flows {
            f.flush(out);
        }
    }

    pub fn stats(&self) -> NetworkStats {
        self.joint_stats(self)
    }

    /// The counters of two halves from [`NetworkStages::split`] (or of one whole, given
    /// twice): each counter comes from the half that runs its stage.
    pub fn joint_stats(&self, other: &NetworkStages) -> NetworkStats {
        NetworkStats {
            flows: (self.flows.as_ref().or(other.flows.as_ref()))
                .map(FlowTable::stats)
                .unwrap_or_default(),
            scan: (self.scan.as_ref().or(other.scan.as_ref()))
                .map(ScanDetector::stats)
                .unwrap_or_default(),
            spike_sources_dropped: (self.spike.as_ref().or(other.spike.as_ref()))
                .map_or(0, |s| s.sources_dropped),
            brute_connections_dropped: (self.brute.as_ref().or(other.brute.as_ref()))
                .map_or(0, |b| b.connections_dropped),
            brute_sources_dropped: (self.brute.as_ref().or(other.brute.as_ref()))
                .map_or(0, |b| b.sources_dropped),
            arp_hosts_evicted: (self.arp.as_ref().or(other.arp.as_ref()))
                .map_or(0, ArpSpoof::evicted),
        }
    }
}

impl NetworkStages {
    fn attribute(&self, out: &mut [Record]) {
        if let Some(o) = &self.owners
            && !out.is_empty()
        {
            o.annotate(out);
        }
    }
}

impl Stage for NetworkStages {
    fn name(&self) -> &'static str {
        "network"
    }

    fn ingest(&mut self, event: &Event, _now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Event::Packet(m) = event {
            self.packet(m, &mut out);
        } else if let Some(o) = &mut self.owners {
            o.ingest(event);
        }
        self.attribute(&mut out);
        out
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.tick_into(now, &mut out);
        if let Some(loss) = self.owners.as_mut().and_then(|o| o.tick(now)) {
            out.push(Record::Event(Event::Loss(loss)));
        }
        self.attribute(&mut out);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.finish_into(now, &mut out);
        self.attribute(&mut out);
        out
    }

    /// The open second's rollup so far; flows and detectors emit as they always do.
    fn checkpoint(&mut self, _now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Some(r) = &mut self.rollups {
            r.checkpoint(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::packet::tcp_flags::{ACK, FIN, RST, SYN};
    use crate::net::testkit::{icmp, port_unreachable, tcp, udp};

    /// Conversations, DNS, pings, a SYN scan and a UDP scan over a few seconds.
    fn traffic() -> Vec<PacketMeta> {
        let mut v = Vec::new();
        for i in 0..3000u32 {
            let t = Ts::from_millis(1_000_000 + i64::from(i) * 3);
            let (c, s) = (format!("10.1.{}.{}", i % 7, i % 200 + 1), "172.16.0.1");
            let port = 40000 + (i % 500) as u16;
            match i % 6 {
                0 => v.push(tcp(t, &c, port, s, 443, SYN)),
                1 => v.push(tcp(t, s, 443, &c, port - 1, SYN | ACK)),
                2 => v.push(tcp(t, &c, port - 2, s, 443, FIN | ACK)),
                3 => v.push(udp(t, &c, port, "10.0.0.53", 53)),
                4 => v.push(tcp(t, "10.66.0.1", 5555, s, (i % 900) as u16, SYN)),
                _ => v.push(tcp(
                    t,
                    s,
                    (i % 900) as u16 - 1,
                    "10.66.0.1",
                    5555,
                    RST | ACK,
                )),
            }
            if i % 50 == 0 {
                v.push(icmp(t, &c, "10.0.0.9", 8, 0));
                v.push(udp(t, "10.77.0.1", 999, "10.0.0.8", i as u16));
                v.push(port_unreachable(t, "10.0.0.8", "10.77.0.1", 999, i as u16));
            }
        }
        v
    }

    fn sorted(records: Vec<Record>) -> Vec<String> {
        let mut v: Vec<String> = records.iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    }

    #[test]
    fn the_two_halves_of_a_split_emit_exactly_what_the_whole_emits() {
        let mut cfg = NetworkConfig::default();
        cfg.traffic_spike.enabled = true;
        let pkts = traffic();
        let end = pkts.last().expect("packets").time;
        let mut whole = NetworkStages::new(&cfg);
        let mut one = Vec::new();
        let (mut a, mut b) = NetworkStages::split(&cfg);
        let (mut two, mut three) = (Vec::new(), Vec::new());
        for p in &pkts {
            whole.packet(p, &mut one);
            a.packet(p, &mut two);
            b.packet(p, &mut three);
        }
        whole.finish_into(end, &mut one);
        a.finish_into(end, &mut two);
        b.finish_into(end, &mut three);
        assert!(
            one.iter().any(|r| matches!(r, Record::Alert(_))),
            "scans seen"
        );
        assert!(two.iter().all(|r| matches!(r, Record::Event(_))));
        assert!(three.iter().all(|r| matches!(r, Record::Alert(_))));
        two.extend(three);
        assert_eq!(sorted(two), sorted(one));
        assert_eq!(a.joint_stats(&b), whole.stats());
    }
}
