//! The families read at scrape time from the numbers `/health` reports: the hub's snapshot
//! (capture per interface, losses by cause) and the store writer's counters, plus queue
//! depths and build info. Reading, not copying, keeps the two endpoints equal.

use super::Metrics;
use super::losses::{self, LossArea};
use crate::hub::snapshot::{CaptureCounts, LiveState};
use netsnoop_store::WriterStats;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

pub(super) type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub(super) enum Value {
    Int(u64),
    Histogram {
        sum: f64,
        count: u64,
        buckets: Vec<(f64, u64)>,
    },
}

/// One family's rows, as read at this scrape.
#[derive(Debug)]
pub(super) struct Rows {
    kind: MetricType,
    pub(super) rows: Vec<(Labels, Value)>,
}

fn write(e: &mut MetricEncoder, kind: MetricType, v: &Value) -> Result<(), std::fmt::Error> {
    match (kind, v) {
        (MetricType::Counter, Value::Int(n)) => e.encode_counter::<NoLabelSet, _, u64>(n, None),
        (_, Value::Int(n)) => e.encode_gauge(&(*n as i64)),
        (
            _,
            Value::Histogram {
                sum,
                count,
                buckets,
            },
        ) => e.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None),
    }
}

impl EncodeMetric for Rows {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, value) in &self.rows {
            if labels.is_empty() {
                write(&mut encoder, self.kind, value)?;
            } else {
                write(&mut encoder.encode_family(labels)?, self.kind, value)?;
            }
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        self.kind
    }
}

/// What one scrape reads, taken under the snapshot lock and encoded after it.
#[derive(Default)]
pub struct Scraped {
    families: Vec<(&'static str, &'static str, Rows)>,
}

pub(super) fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

impl Scraped {
    pub(super) fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: MetricType,
    ) -> &mut Rows {
        self.families.push((
            name,
            help,
            Rows {
                kind,
                rows: Vec::new(),
            },
        ));
        &mut self.families.last_mut().expect("just pushed").2
    }

    pub(super) fn one(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: MetricType,
        v: Value,
    ) {
        self.add(name, help, kind).rows.push((Vec::new(), v));
    }

    /// Reads the snapshot, the writer's counters and the queues.
    pub fn read(st: &LiveState, metrics: &Metrics, writer: Option<&WriterStats>) -> Scraped {
        let mut s = Scraped::default();
        s.capture(&st.capture_counts());
        s.losses(st, metrics);
        s.one(
            "alerts_active_evicted",
            "Open alerts forgotten because more than 10,000 were open at once (/health alerts_active_evicted)",
            MetricType::Counter,
            Value::Int(st.active_alerts_evicted),
        );
        s.store(writer);
        s.queues(st, metrics, writer);
        let build = s.add(
            "build_info",
            "Always 1; the labels say which NetSnoop this is",
            MetricType::Gauge,
        );
        build.rows.push((
            labels([
                ("version", env!("CARGO_PKG_VERSION")),
                ("commit", crate::BUILD_COMMIT),
            ]),
            Value::Int(1),
        ));
        s
    }

    fn capture(&mut self, counts: &BTreeMap<String, CaptureCounts>) {
        let help = "Packets captured on each interface that reached the pipeline (/health capture)";
        let packets = self.add("capture_packets", help, MetricType::Counter);
        for (iface, c) in counts {
            packets
                .rows
                .push((labels([("interface", iface)]), Value::Int(c.packets)));
        }
        let bytes = self.add(
            "capture_bytes",
            "Bytes on the wire of the packets in netsnoop_capture_packets_total",
            MetricType::Counter,
        );
        for (iface, c) in counts {
            bytes
                .rows
                .push((labels([("interface", iface)]), Value::Int(c.bytes)));
        }
        let dropped = self.add(
            "capture_dropped_packets",
            "Packets lost by interface and place: kernel (interface or driver, pcap ps_ifdrop), ring (capture buffer full, pcap ps_drop), queue (our pipeline channel full)",
            MetricType::Counter,
        );
        for (iface, c) in counts {
            for (place, n) in &c.dropped {
                dropped.rows.push((
                    labels([("interface", iface), ("place", place)]),
                    Value::Int(*n),
                ));
            }
        }
    }

    fn losses(&mut self, st: &LiveState, metrics: &Metrics) {
        let mut exec: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
        let mut other: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        if let Some(source) = st.exec_source {
            for cause in losses::exec_causes(source) {
                exec.insert((source, cause), 0);
            }
        }
        for ((source, cause), n) in &st.loss_causes {
            match losses::area(source) {
                LossArea::Capture(_) => {}
                LossArea::Exec(kind) => *exec.entry((kind, cause)).or_default() += n,
                LossArea::Other(src) => *other.entry((src, cause)).or_default() += n,
            }
        }
        let events = self.add(
            "exec_events",
            "Process events (all kinds) delivered by the exec source",
            MetricType::Counter,
        );
        if let Some(source) = st.exec_source {
            let total: u64 = netsnoop_core::ProcEventKind::ALL
                .iter()
                .map(|k| {
                    metrics
                        .process_events
                        .get_or_create(&super::ProcessKindLabel { kind: k.as_str() })
                        .get()
                })
                .sum();
            events
                .rows
                .push((labels([("source", source)]), Value::Int(total)));
        }
        let lost = self.add(
            "exec_events_lost",
            "Exec events lost, by source and cause: ring_full (eBPF ring buffer), malformed, enobufs (netlink receive buffer), seq_gap (kernel did not deliver), enricher_queue_full, poll_gap (processes between /proc scans), queue (pipeline channel full)",
            MetricType::Counter,
        );
        for ((source, cause), n) in exec {
            lost.rows.push((
                labels([("source", source), ("cause", cause)]),
                Value::Int(n),
            ));
        }
        let lost = self.add(
            "lost_events",
            "Events other sources lost (resource sampler, clock: packets too far ahead), by source and cause",
            MetricType::Counter,
        );
        other.entry(("clock".into(), "clock_skew")).or_default();
        if st.sources.iter().any(|s| s.name == "resources") {
            // The sampler's own hand-off and the source's outlet.
            other
                .entry(("resource_sampler".into(), "queue"))
                .or_default();
            other.entry(("resources".into(), "queue")).or_default();
        }
        for ((source, cause), n) in other {
            lost.rows.push((
                labels([("source", source.as_str()), ("cause", cause)]),
                Value::Int(n),
            ));
        }
    }

    /// A prefixed registry holding this scrape's families.
    pub(super) fn into_registry(self) -> Registry {
        let mut r = Registry::with_prefix("netsnoop");
        for (name, help, rows) in self.families {
            r.register(name, help, rows);
        }
        r
    }
}
