//! Prometheus metrics: the families NetSnoop exports and their text exposition.

use netsnoop_core::Protocol;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabel {
    pub protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabel {
    pub kind: String,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProcessKindLabel {
    pub kind: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type FloatCounter = Counter<f64, AtomicU64>;

/// Every metric NetSnoop exports. Updated by [`crate::LiveHub::publish`] as records pass,
/// and (for NetSnoop's own CPU and memory) when scraped.
pub struct Metrics {
    registry: Registry,
    pub packets: Family<ProtocolLabel, Counter>,
    pub bytes: Family<ProtocolLabel, Counter>,
    pub flows: Counter,
    pub process_events: Family<ProcessKindLabel, Counter>,
    pub lost_events: Family<SourceLabel, Counter>,
    pub capture_drops: Family<SourceLabel, Counter>,
    pub alerts: Family<AlertLabel, Counter>,
    pub alerts_active: Gauge,
    pub system_cpu: FloatGauge,
    pub memory_used: Gauge,
    pub memory_total: Gauge,
    pub load1: FloatGauge,
    pub ingested_packets: Counter,
    pub packets_time_refused: Family<ReasonLabel, Counter>,
    pub sse_clients: Gauge,
    pub sse_clients_dropped: Counter,
    pub connections_open: Gauge,
    pub connections_evicted: Counter,
    pub connections_refused: Counter,
    /// Secrets redacted from process arguments (netsnoop_core::redact).
    pub redactions: Counter,
    /// Alert outputs' delivered, failed, dropped and queued counts.
    pub outputs: crate::outputs::OutputMetrics,
    self_cpu: FloatCounter,
    self_rss: Gauge,
    self_cpu_seen: Mutex<f64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("netsnoop"),
            packets: Family::default(),
            bytes: Family::default(),
            flows: Counter::default(),
            process_events: Family::default(),
            lost_events: Family::default(),
            capture_drops: Family::default(),
            alerts: Family::default(),
            alerts_active: Gauge::default(),
            system_cpu: FloatGauge::default(),
            memory_used: Gauge::default(),
            memory_total: Gauge::default(),
            load1: FloatGauge::default(),
            ingested_packets: Counter::default(),
            packets_time_refused: Family::default(),
            sse_clients: Gauge::default(),
            sse_clients_dropped: Counter::default(),
            connections_open: Gauge::default(),
            connections_evicted: Counter::default(),
            connections_refused: Counter::default(),
            redactions: Counter::default(),
            outputs: Default::default(),
            self_cpu: FloatCounter::default(),
            self_rss: Gauge::default(),
            self_cpu_seen: Mutex::new(0.0),
        };
        let r = &mut m.registry;
        m.outputs.register(r);
        r.register("packets", "Packets seen, by protocol", m.packets.clone());
        r.register(
            "bytes",
            "Bytes on the wire seen, by protocol",
            m.bytes.clone(),
        );
        r.register("flows", "Flows finished", m.flows.clone());
        r.register(
            "process_events",
            "Process events (fork, exec, exit, …), by kind",
            m.process_events.clone(),
        );
        r.register(
            "lost_events",
            "Events a source could not deliver, by source",
            m.lost_events.clone(),
        );
        r.register(
            "capture_drops",
            "Packets the capture dropped (kernel or libpcap), by source",
            m.capture_drops.clone(),
        );
        r.register(
            "alerts",
            "Alert records (opened, updated, resolved), by kind and severity",
            m.alerts.clone(),
        );
        r.register(
            "alerts_active",
            "Alert episodes currently open",
            m.alerts_active.clone(),
        );
        r.register(
            "system_cpu_percent",
            "System CPU busy share, 0-100",
            m.system_cpu.clone(),
        );
        r.register(
            "system_memory_used_bytes",
            "System memory in use",
            m.memory_used.clone(),
        );
        r.register(
            "system_memory_total_bytes",
            "System memory installed",
            m.memory_total.clone(),
        );
        r.register("system_load1", "One-minute load average", m.load1.clone());
        r.register(
            "api_ingested_packets",
            "Packets accepted through POST /packets",
            m.ingested_packets.clone(),
        );
        r.register(
            "packets_time_refused",
            "POSTed packets refused for their time (ahead of the clock by more than general.max_clock_skew, before 2000, or unreadable), by reason",
            m.packets_time_refused.clone(),
        );
        r.register(
            "sse_clients",
            "Live stream clients connected",
            m.sse_clients.clone(),
        );
        r.register(
            "sse_clients_dropped",
            "Live stream clients dropped for falling behind",
            m.sse_clients_dropped.clone(),
        );
        r.register(
            "http_connections_open",
            "HTTP connections open",
            m.connections_open.clone(),
        );
        r.register(
            "http_connections_evicted",
            "Idle HTTP connections closed to make room at server.max_connections",
            m.connections_evicted.clone(),
        );
        r.register(
            "http_connections_refused",
            "HTTP connections refused because server.max_connections were all busy",
            m.connections_refused.clone(),
        );
        r.register(
            "redactions",
            "Secrets redacted from process arguments before anything kept them",
            m.redactions.clone(),
        );
        r.register(
            "process_cpu_seconds",
            "CPU time used by NetSnoop itself",
            m.self_cpu.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident memory of NetSnoop itself",
            m.self_rss.clone(),
        );
        m
    }

    pub fn add_packets(&self, protocol: Protocol, packets: u64, bytes: u64) {
        let label = ProtocolLabel {
            protocol: protocol.as_str(),
        };
        self.packets.get_or_create(&label).inc_by(packets);
        self.bytes.get_or_create(&label).inc_by(bytes);
    }

    /// Counts packets refused for their time (`reason`: ahead, too_early, unreadable).
    pub fn time_refused(&self, reason: &'static str, n: u64) {
        self.packets_time_refused
            .get_or_create(&ReasonLabel { reason })
            .inc_by(n);
    }

    /// Packets refused for their time so far, by reason (every reason, zeros included).
    pub fn time_refused_counts(&self) -> BTreeMap<&'static str, u64> {
        ["ahead", "too_early", "unreadable"]
            .into_iter()
            .map(|reason| {
                let n = self
                    .packets_time_refused
                    .get_or_create(&ReasonLabel { reason })
                    .get();
                (reason, n)
            })
            .collect()
    }

    /// Reads NetSnoop's own CPU time and RSS from /proc, then encodes every family.
    pub fn encode(&self) -> String {
        self.sample_self();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    fn sample_self(&self) {
        let Ok(me) = procfs::process::Process::myself() else {
            return;
        };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            let cpu = (stat.utime + stat.stime) as f64 / ticks;
            let mut seen = self.self_cpu_seen.lock().unwrap_or_else(|e| e.into_inner());
            if cpu > *seen {
                self.self_cpu.inc_by(cpu - *seen);
                *seen = cpu;
            }
            let rss = stat.rss * procfs::page_size();
            self.self_rss.set(i64::try_from(rss).unwrap_or(i64::MAX));
        }
    }
}

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
