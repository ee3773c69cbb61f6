//! NetWatch's old rule, kept under its real name: more than N packets from one source
//! within a window is a `net.traffic_spike`, not a port scan. Off by default for
//! packets with ports; on by default for packets POSTed without them.

use super::addr::{self, AddrKey};
use super::config::SpikeConfig;
use super::packet::PacketMeta;
use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::time::Span;
use crate::{Event, Record, Stage, Ts};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

pub struct TrafficSpike {
    cfg: SpikeConfig,
    window: Span,
    /// The last `packets + 1` packet times per source: enough to tell "more than N".
    recent: FxHashMap<AddrKey, VecDeque<Ts>>,
    last_emit: FxHashMap<AddrKey, Ts>,
    episodes: Episodes,
    pub sources_dropped: u64,
}

impl TrafficSpike {
    pub fn new(cfg: SpikeConfig) -> TrafficSpike {
        TrafficSpike {
            window: Span::secs(cfg.window_secs as i64),
            recent: FxHashMap::default(),
            last_emit: FxHashMap::default(),
            episodes: Episodes::new(),
            sources_dropped: 0,
            cfg,
        }
    }

    pub fn packet(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        if !(self.cfg.enabled || (self.cfg.portless_packets && m.no_ports)) {
            return;
        }
        let Some(src) = m.src_ip else {
            return;
        };
        let key = addr::key(src);
        let limit = self.cfg.packets as usize;
        if !self.recent.contains_key(&key) && self.recent.len() >= self.cfg.max_sources {
            self.sources_dropped += 1;
            return;
        }
        let times = self.recent.entry(key).or_default();
        times.push_back(now);
        while times.len() > limit + 1 {
            times.pop_front();
        }
        while times.front().is_some_and(|t| now - *t > self.window) {
            times.pop_front();
        }
        if times.len() <= limit {
            return;
        }
        let due = self
            .last_emit
            .get(&key)
            .is_none_or(|t| now - *t >= self.window);
        if due {
            self.last_emit.insert(key, now);
            let raise = Raise {
                kind: "net.traffic_spike",
                severity: self.cfg.severity,
                label: None,
                subject: Subject::source_ip(src),
                message: format!(
                    "Traffic spike from {src}: more than {} packets within {} s",
                    self.cfg.packets, self.cfg.window_secs
                ),
                details: serde_json::json!({
                    "threshold_packets": self.cfg.packets,
                    "window_secs": self.cfg.window_secs,
                }),
            };
            let alert = self.episodes.raise(&src.to_string(), now, raise);
            out.push(Record::Alert(alert));
        }
    }

    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        let idle = Span(self.window.0 * 2);
        for a in self.episodes.resolve_idle(now, idle) {
            if let Some(ip) = a.subject.src_ip {
                self.last_emit.remove(&addr::key(ip));
            }
            out.push(Record::Alert(a));
        }
        let window = self.window;
        self.recent
            .retain(|_, t| t.back().is_some_and(|last| now - *last <= window));
    }
}

impl Stage for TrafficSpike {
    fn name(&self) -> &'static str {
        "traffic_spike"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Event::Packet(m) = event {
            self.packet(m, now, &mut out);
        }
        out
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.sweep(now, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::testkit::{ip, udp};
    use crate::{Alert, AlertState};

    fn run(cfg: SpikeConfig, n: u32, every_ms: i64) -> Vec<Alert> {
        let mut s = TrafficSpike::new(cfg);
        let mut out = Vec::new();
        for i in 0..n {
            let t = Ts::from_millis(1_000_000 + i64::from(i) * every_ms);
            s.packet(&udp(t, "10.0.0.5", 1, "10.0.0.6", 2), t, &mut out);
        }
        out.extend(s.tick(Ts::from_millis(
            1_000_000 + i64::from(n) * every_ms + 30_000,
        )));
        out.into_iter()
            .filter_map(|r| match r {
                Record::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    fn on() -> SpikeConfig {
        SpikeConfig {
            enabled: true,
            ..SpikeConfig::default()
        }
    }

    #[test]
    fn more_than_fifty_packets_in_ten_seconds_is_a_traffic_spike_at_low_severity() {
        let alerts = run(on(), 51, 100);
        assert_eq!(alerts.len(), 2, "opened, then resolved");
        assert_eq!(alerts[0].kind, "net.traffic_spike");
        assert_eq!(alerts[0].severity, crate::Severity::Low);
        assert_eq!(alerts[0].subject.src_ip, Some(ip("10.0.0.5")));
        assert_eq!(alerts[1].state, AlertState::Resolved);
    }

    #[test]
    fn fifty_packets_or_a_slower_rate_is_no_spike() {
        assert!(run(on(), 50, 100).is_empty());
        assert!(run(on(), 200, 250).is_empty(), "40 per 10 s");
    }

    #[test]
    fn the_rule_is_off_by_default() {
        assert!(run(SpikeConfig::default(), 500, 1).is_empty());
    }

    fn portless(n: u32, cfg: SpikeConfig) -> Vec<Alert> {
        let mut s = TrafficSpike::new(cfg);
        let mut out = Vec::new();
        for i in 0..n {
            let t = Ts::from_millis(1_000_000 + i64::from(i) * 10);
            let mut p = udp(t, "10.0.0.5", 0, "10.0.0.6", 0);
            p.no_ports = true;
            s.packet(&p, t, &mut out);
        }
        out.into_iter()
            .filter_map(|r| match r {
                Record::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn packets_posted_without_ports_are_judged_by_default_and_can_be_excluded() {
        let alerts = portless(51, SpikeConfig::default());
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0]
                .message
                .contains("more than 50 packets within 10 s")
        );
        assert!(portless(50, SpikeConfig::default()).is_empty());
        let off = SpikeConfig {
            portless_packets: false,
            ..SpikeConfig::default()
        };
        assert!(portless(500, off).is_empty());
    }
}
