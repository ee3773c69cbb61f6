//! One truth: which `/metrics` series says the same as each count in `/health`. Tests
//! read both endpoints and hold every pair equal; the README's metric list points here.

use super::losses::{self, LossArea};
use serde_json::Value;
use std::collections::BTreeMap;

/// One count of `/health` and the series (summed over every series whose labels include
/// `labels`) that must equal it.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedCount {
    /// Where the count sits in `/health`, e.g. `capture.lo.dropped.ring`.
    pub health: String,
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

fn pair(
    out: &mut Vec<SharedCount>,
    health: String,
    metric: &str,
    labels: &[(&str, &str)],
    v: &Value,
) {
    if let Some(value) = v.as_f64() {
        out.push(SharedCount {
            health,
            metric: metric.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        });
    }
}

/// Every count of a `/health` body with the series that must equal it.
pub fn shared_counts(health: &Value) -> Vec<SharedCount> {
    let mut out = Vec::new();
    let top = [
        ("packets_seen", "netsnoop_packets_total"),
        ("alerts_active", "netsnoop_alerts_active"),
        (
            "alerts_active_evicted",
            "netsnoop_alerts_active_evicted_total",
        ),
        (
            "stream_clients_dropped",
            "netsnoop_sse_clients_dropped_total",
        ),
        ("redactions", "netsnoop_redactions_total"),
    ];
    for (field, metric) in top {
        pair(&mut out, field.into(), metric, &[], &health[field]);
    }
    if let Some(refused) = health["packet_times"]["refused"].as_object() {
        for (reason, n) in refused {
            let path = format!("packet_times.refused.{reason}");
            pair(
                &mut out,
                path,
                "netsnoop_packets_time_refused_total",
                &[("reason", reason)],
                n,
            );
        }
    }
    if let Some(capture) = health["capture"].as_object() {
        for (iface, c) in capture {
            let i = [("interface", iface.as_str())];
            pair(
                &mut out,
                format!("capture.{iface}.packets"),
                "netsnoop_capture_packets_total",
                &i,
                &c["packets"],
            );
            pair(
                &mut out,
                format!("capture.{iface}.bytes"),
                "netsnoop_capture_bytes_total",
                &i,
                &c["bytes"],
            );
            for (place, n) in c["dropped"].as_object().into_iter().flatten() {
                let labels = [("interface", iface.as_str()), ("place", place.as_str())];
                let path = format!("capture.{iface}.dropped.{place}");
                pair(
                    &mut out,
                    path,
                    "netsnoop_capture_dropped_packets_total",
                    &labels,
                    n,
                );
            }
        }
    }
    losses_by_family(health, &mut out);
    writer(health, &mut out);
    out
}

/// `losses` by source: several sources may feed one exec series (the enricher and the
/// outlet of the same exec source), so their counts are summed per series.
fn losses_by_family(health: &Value, out: &mut Vec<SharedCount>) {
    let mut sums: BTreeMap<(&'static str, String, String), (Vec<String>, f64)> = BTreeMap::new();
    for (source, l) in health["losses"].as_object().into_iter().flatten() {
        let n = l["count"].as_f64().unwrap_or(0.0);
        let key = match losses::area(source) {
            LossArea::Capture(iface) => (
                "netsnoop_capture_dropped_packets_total",
                "interface".to_string(),
                iface,
            ),
            LossArea::Exec(kind) => (
                "netsnoop_exec_events_lost_total",
                "source".into(),
                kind.to_string(),
            ),
            LossArea::Other(src) => ("netsnoop_lost_events_total", "source".into(), src),
        };
        let e = sums.entry(key).or_default();
        e.0.push(format!("losses.{source}.count"));
        e.1 += n;
    }
    for ((metric, label, value), (paths, n)) in sums {
        out.push(SharedCount {
            health: paths.join(" + "),
            metric: metric.to_string(),
            labels: vec![(label, value)],
            value: n,
        });
    }
}

fn writer(health: &Value, out: &mut Vec<SharedCount>) {
    let w = &health["writer"];
    if w.is_null() {
        return;
    }
    let fields = [
        ("rows_written", "netsnoop_store_rows_written_total"),
        ("batches", "netsnoop_store_transactions_total"),
        ("records_dropped", "netsnoop_store_records_dropped_total"),
        ("records_failed", "netsnoop_store_records_failed_total"),
        ("packets_capped", "netsnoop_store_packets_capped_total"),
        ("records_written", "netsnoop_store_records_written_total"),
    ];
    for (field, metric) in fields {
        pair(out, format!("writer.{field}"), metric, &[], &w[field]);
    }
    for (table, c) in w["tables"].as_object().into_iter().flatten() {
        let t = [("table", table.as_str())];
        pair(
            out,
            format!("writer.tables.{table}.records"),
            "netsnoop_store_records_written_total",
            &t,
            &c["records"],
        );
        pair(
            out,
            format!("writer.tables.{table}.batches"),
            "netsnoop_store_batches_total",
            &t,
            &c["batches"],
        );
    }
    let r = &w["retention"];
    pair(
        out,
        "writer.retention.passes".into(),
        "netsnoop_store_retention_passes_total",
        &[],
        &r["passes"],
    );
    pair(
        out,
        "writer.retention.deleted_by_age".into(),
        "netsnoop_store_retention_deleted_rows_total",
        &[("reason", "age")],
        &r["deleted_by_age"],
    );
    pair(
        out,
        "writer.retention.deleted_by_size".into(),
        "netsnoop_store_retention_deleted_rows_total",
        &[("reason", "size")],
        &r["deleted_by_size"],
    );
    pair(
        out,
        "writer.retention.database_bytes".into(),
        "netsnoop_store_database_bytes",
        &[],
        &r["database_bytes"],
    );
}

/// The sum of `metric`'s samples whose labels include `labels`, in exposition `text`
/// (None when no sample matches).
pub fn sum_in(text: &str, metric: &str, labels: &[(String, String)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (name, label_text) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if name != metric {
            continue;
        }
        let has = |k: &str, v: &str| label_text.contains(&format!("{k}=\"{v}\""));
        if labels.iter().all(|(k, v)| has(k, v)) {
            let v: f64 = value.parse().unwrap_or(f64::NAN);
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}

/// Every pair whose two sides differ, as readable lines (empty when all agree).
pub fn disagreements(health: &Value, metrics_text: &str) -> Vec<String> {
    shared_counts(health)
        .into_iter()
        .filter_map(|c| {
            let got = sum_in(metrics_text, &c.metric, &c.labels);
            (got != Some(c.value)).then(|| {
                format!(
                    "/health {} = {} but {}{:?} = {:?}",
                    c.health, c.value, c.metric, c.labels, got
                )
            })
        })
        .collect()
}
