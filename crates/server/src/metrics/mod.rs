//! Prometheus metrics: the families NetSnoop exports and their text exposition.
//!
//! Three parts make one scrape: live counters updated as records pass ([`Metrics`]),
//! families read at scrape time from the same snapshot and writer counters `/health`
//! reports ([`scrape`]), and the standard `process_*` metrics ([`process`]). Every series
//! whose labels are known in advance exists from the start at 0; no label takes an
//! address, port, pid, user, command or other free text.

mod fleet;
pub mod http;
pub mod losses;
pub mod pairs;
pub mod process;
pub mod scrape;
mod store;

use netsnoop_core::{ProcEventKind, Protocol, Severity};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

/// `PacketMeta::iface` of packets POSTed to the API (captured ones carry the index of
/// their interface in `network.capture.interfaces`).
pub const API_IFACE: u16 = u16::MAX;

/// Alert kinds the detectors raise, so their series exist before the first alert (a kind
/// not listed here is counted too, from its first alert on).
pub const ALERT_KINDS: [&str; 24] = [
    "process.burst",
    "process.spawn_rate",
    "process.events_lost",
    "cpu.process.critical",
    "cpu.process.suspicious",
    "cpu.process.high",
    "cpu.system.critical",
    "cpu.system.high",
    "cpu.system.warning",
    "memory.system.warning",
    "memory.process.extreme",
    "memory.process.critical",
    "memory.process.high",
    "load.high",
    "net.portscan",
    "net.sweep",
    "net.pingsweep",
    "net.traffic_spike",
    "net.discovery",
    "net.protoscan",
    "net.synflood",
    "net.bruteforce",
    "net.arpspoof",
    "delivery.dropped",
];

/// Reasons a POSTed packet is refused for its time.
pub const TIME_REFUSED_REASONS: [&str; 3] = ["ahead", "too_early", "unreadable"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabel {
    pub protocol: &'static str,
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

/// A bounded queue `/metrics` reports the depth of: (waiting, capacity) when scraped.
pub type QueueProbe = Box<dyn Fn() -> (usize, usize) + Send + Sync>;

/// The live families NetSnoop exports. Updated by [`crate::LiveHub::publish`] and the
/// request handlers as things happen.
pub struct Metrics {
    registry: Registry,
    pub packets: Family<ProtocolLabel, Counter>,
    pub bytes: Family<ProtocolLabel, Counter>,
    pub flows: Counter,
    pub process_events: Family<ProcessKindLabel, Counter>,
    pub alerts: Family<AlertLabel, Counter>,
    pub alerts_raised: Family<AlertLabel, Counter>,
    pub alerts_resolved: Family<AlertLabel, Counter>,
    pub alerts_active: Gauge,
    pub system_cpu: FloatGauge,
    pub memory_used: Gauge,
    pub memory_total: Gauge,
    pub load1: FloatGauge,
    pub ingested_packets: Counter,
    /// POST /packets requests refused because the pipeline's intake stayed full.
    pub intake_refused: Counter,
    pub packets_time_refused: Family<ReasonLabel, Counter>,
    pub sse_clients: Gauge,
    pub sse_clients_dropped: Counter,
    pub connections_open: Gauge,
    pub connections_evicted: Counter,
    pub connections_refused: Counter,
    /// HTTPS connections that ended in a failed or timed-out TLS handshake.
    pub tls_handshakes_failed: Counter,
    /// Secrets redacted from process arguments (netsnoop_core::redact).
    pub redactions: Counter,
    pub http: http::HttpMetrics,
    /// Alert outputs' delivered, failed, dropped and queued counts.
    pub outputs: crate::outputs::OutputMetrics,
    queues: Mutex<Vec<(&'static str, QueueProbe)>>,
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
            alerts: Family::default(),
            alerts_raised: Family::default(),
            alerts_resolved: Family::default(),
            alerts_active: Gauge::default(),
            system_cpu: FloatGauge::default(),
            memory_used: Gauge::default(),
            memory_total: Gauge::default(),
            load1: FloatGauge::default(),
            ingested_packets: Counter::default(),
            intake_refused: Counter::default(),
            packets_time_refused: Family::default(),
            sse_clients: Gauge::default(),
            sse_clients_dropped: Counter::default(),
            connections_open: Gauge::default(),
            connections_evicted: Counter::default(),
            connections_refused: Counter::default(),
            tls_handshakes_failed: Counter::default(),
            redactions: Counter::default(),
            http: http::HttpMetrics::default(),
            outputs: Default::default(),
            queues: Mutex::new(Vec::new()),
        };
        m.zero_known_series();
        m.register_all();
        m
    }

    /// Creates every series whose labels are known now, so `rate()` and `absent()` see
    /// them at 0 before the first event.
    fn zero_known_series(&self) {
        for protocol in Protocol::ALL {
            let label = ProtocolLabel {
                protocol: protocol.as_str(),
            };
            let _ = self.packets.get_or_create(&label);
            let _ = self.bytes.get_or_create(&label);
        }
        for kind in ProcEventKind::ALL {
            let _ = self.process_events.get_or_create(&ProcessKindLabel {
                kind: kind.as_str(),
            });
        }
        for kind in ALERT_KINDS {
            for severity in Severity::ALL {
                let label = AlertLabel {
                    kind: kind.to_string(),
                    severity: severity.as_str(),
                };
                let _ = self.alerts.get_or_create(&label);
                let _ = self.alerts_raised.get_or_create(&label);
                let _ = self.alerts_resolved.get_or_create(&label);
            }
        }
        for reason in TIME_REFUSED_REASONS {
            let _ = self
                .packets_time_refused
                .get_or_create(&ReasonLabel { reason });
        }
        self.http.zero_known_series();
    }

    fn register_all(&mut self) {
        let r = &mut self.registry;
        self.outputs.register(r);
        r.register("packets", "Packets seen, by protocol", self.packets.clone());
        r.register(
            "bytes",
            "Bytes on the wire seen, by protocol",
            self.bytes.clone(),
        );
        r.register("flows", "Flows finished", self.flows.clone());
        r.register(
            "process_events",
            "Process events (fork, exec, exit, comm, uid, existing), by kind",
            self.process_events.clone(),
        );
        r.register(
            "alerts",
            "Alert records (opened, updated, resolved), by kind and severity",
            self.alerts.clone(),
        );
        r.register(
            "alerts_raised",
            "Alert episodes opened, by kind and severity",
            self.alerts_raised.clone(),
        );
        r.register(
            "alerts_resolved",
            "Alert episodes resolved, by kind and severity (the severity at the end)",
            self.alerts_resolved.clone(),
        );
        r.register(
            "alerts_active",
            "Alert episodes currently open (/health alerts_active)",
            self.alerts_active.clone(),
        );
        r.register(
            "system_cpu_percent",
            "System CPU busy share, 0-100",
            self.system_cpu.clone(),
        );
        r.register(
            "system_memory_used_bytes",
            "System memory in use",
            self.memory_used.clone(),
        );
        r.register(
            "system_memory_total_bytes",
            "System memory installed",
            self.memory_total.clone(),
        );
        r.register(
            "system_load1",
            "One-minute load average",
            self.load1.clone(),
        );
        r.register(
            "api_ingested_packets",
            "Packets accepted through POST /packets",
            self.ingested_packets.clone(),
        );
        r.register(
            "api_intake_refused",
            "POST /packets requests refused (503) because the pipeline intake stayed full",
            self.intake_refused.clone(),
        );
        r.register(
            "packets_time_refused",
            "POSTed packets refused for their time (ahead of the clock by more than general.max_clock_skew, before 2000, or unreadable), by reason",
            self.packets_time_refused.clone(),
        );
        r.register(
            "sse_clients",
            "Live stream clients connected",
            self.sse_clients.clone(),
        );
        r.register(
            "sse_clients_dropped",
            "Live stream clients dropped for falling behind (/health stream_clients_dropped)",
            self.sse_clients_dropped.clone(),
        );
        r.register(
            "http_connections_open",
            "HTTP connections open",
            self.connections_open.clone(),
        );
        r.register(
            "http_connections_evicted",
            "Idle HTTP connections closed to make room at server.max_connections",
            self.connections_evicted.clone(),
        );
        r.register(
            "http_connections_refused",
            "HTTP connections refused because server.max_connections were all busy",
            self.connections_refused.clone(),
        );
        r.register(
            "http_tls_handshakes_failed",
            "HTTPS connections closed because the TLS handshake failed or took longer than server.header_timeout",
            self.tls_handshakes_failed.clone(),
        );
        r.register(
            "redactions",
            "Secrets redacted from process arguments before anything kept them (/health redactions)",
            self.redactions.clone(),
        );
        self.http.register(r);
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
        TIME_REFUSED_REASONS
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

    /// Reports the depth of a bounded queue (`queue` label `name`) at every scrape.
    pub fn add_queue(&self, name: &'static str, probe: QueueProbe) {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.retain(|(n, _)| *n != name);
        queues.push((name, probe));
    }

    /// Every registered queue's (name, waiting, capacity).
    pub(crate) fn queue_depths(&self) -> Vec<(&'static str, usize, usize)> {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues
            .iter()
            .map(|(name, probe)| {
                let (depth, capacity) = probe();
                (*name, depth, capacity)
            })
            .collect()
    }

    /// The whole exposition: the live families, then `scraped` (read from the snapshot
    /// and the writer by the caller), then the standard process metrics.
    pub fn encode(&self, scraped: scrape::Scraped) -> String {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::with_capacity(32 * 1024);
        let extra = scraped.into_registry();
        let process = process::registry();
        // Writing to a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry)
            .and_then(|_| encode_registry(&mut out, &extra))
            .and_then(|_| encode_registry(&mut out, &process))
            .and_then(|_| encode_eof(&mut out));
        out
    }
}

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
