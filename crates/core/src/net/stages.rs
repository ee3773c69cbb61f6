//! All network stages behind one [`Stage`]: flows, rollups, scan detection and the
//! traffic-spike rule, fed each packet in turn. Live capture and pcap analysis both use
//! it, so a replay gives the same records as the live run.

use super::config::NetworkConfig;
use super::flow_table::{FlowStats, FlowTable};
use super::packet::PacketMeta;
use super::rollups::Rollups;
use super::scan::{ScanDetector, ScanStats};
use super::spike::TrafficSpike;
use crate::time::Span;
use crate::{Event, Record, Stage, Ts};

pub struct NetworkStages {
    pub flows: FlowTable,
    pub rollups: Rollups,
    pub scan: ScanDetector,
    pub spike: TrafficSpike,
    next_tick: Option<Ts>,
}

/// Counters of every bounded table, for the binary to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    pub flows: FlowStats,
    pub scan: ScanStats,
    pub spike_sources_dropped: u64,
}

impl NetworkStages {
    pub fn new(cfg: &NetworkConfig) -> NetworkStages {
        NetworkStages {
            flows: FlowTable::new(cfg.flows.clone()),
            rollups: Rollups::new(cfg.rollups.clone()),
            scan: ScanDetector::new(cfg.scan.clone()),
            spike: TrafficSpike::new(cfg.traffic_spike.clone()),
            next_tick: None,
        }
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
        self.rollups.add(m, now, out);
        self.flows.add(m, now, out);
        self.scan.packet(m, now, out);
        self.spike.packet(m, now, out);
    }

    pub fn tick_into(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.next_tick = Some(now + Span::secs(1));
        self.rollups.flush_before(now, out);
        self.flows.sweep(now, out);
        self.scan.sweep(now, out);
        self.spike.sweep(now, out);
    }

    pub fn finish_into(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.tick_into(now, out);
        self.scan.flush(now, out);
        out.extend(self.rollups.finish(now));
        self.flows.flush(out);
    }

    pub fn stats(&self) -> NetworkStats {
        NetworkStats {
            flows: self.flows.stats(),
            scan: self.scan.stats(),
            spike_sources_dropped: self.spike.sources_dropped,
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
        }
        out
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.tick_into(now, &mut out);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.finish_into(now, &mut out);
        out
    }
}
