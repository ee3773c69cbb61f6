//! The store writer's and the bounded queues' families, read at scrape time from the
//! writer's counters (`/health` `writer`) and the queues themselves.

use super::Metrics;
use super::scrape::{Scraped, Value, labels};
use crate::hub::snapshot::LiveState;
use netsnoop_store::{LATENCY_BOUNDS, TABLES, WriterStats};
use prometheus_client::metrics::MetricType;

impl Scraped {
    /// Store families; all at 0 when no store is open, so rules never see them absent.
    pub(super) fn store(&mut self, writer: Option<&WriterStats>) {
        let empty = WriterStats::default();
        let w = writer.unwrap_or(&empty);
        let records = self.add(
            "store_records_written",
            "Records committed to the store, by the table they go to (/health writer.tables)",
            MetricType::Counter,
        );
        for t in TABLES {
            let n = w.tables.get(t).map(|c| c.records).unwrap_or(0);
            records.rows.push((labels([("table", t)]), Value::Int(n)));
        }
        let batches = self.add(
            "store_batches",
            "Committed transactions that wrote to each table",
            MetricType::Counter,
        );
        for t in TABLES {
            let n = w.tables.get(t).map(|c| c.batches).unwrap_or(0);
            batches.rows.push((labels([("table", t)]), Value::Int(n)));
        }
        let counters: [(&'static str, &'static str, u64); 6] = [
            (
                "store_rows_written",
                "Rows inserted or updated for the committed records, rollups included (/health writer.rows_written)",
                w.rows_written,
            ),
            (
                "store_transactions",
                "Transactions committed (/health writer.batches)",
                w.batches,
            ),
            (
                "store_records_dropped",
                "Records never queued for the store because its queue was full (/health writer.records_dropped)",
                w.records_dropped,
            ),
            (
                "store_records_failed",
                "Records lost because their transaction failed (/health writer.records_failed)",
                w.records_failed,
            ),
            (
                "store_packets_capped",
                "Packet rows removed to keep the packet table under its row cap (/health writer.packets_capped)",
                w.packets_capped,
            ),
            (
                "store_retention_passes",
                "Retention passes run (/health writer.retention.passes)",
                w.retention.passes,
            ),
        ];
        for (name, help, n) in counters {
            self.one(name, help, MetricType::Counter, Value::Int(n));
        }
        let deleted = self.add(
            "store_retention_deleted_rows",
            "Rows retention deleted, by reason: age (older than kept) or size (over the size limit)",
            MetricType::Counter,
        );
        for (reason, n) in [
            ("age", w.retention.deleted_by_age),
            ("size", w.retention.deleted_by_size),
        ] {
            deleted
                .rows
                .push((labels([("reason", reason)]), Value::Int(n)));
        }
        self.one(
            "store_database_bytes",
            "Bytes the database used after the latest retention pass (0 before the first)",
            MetricType::Gauge,
            Value::Int(w.retention.database_bytes),
        );
        self.one(
            "store_failing",
            "1 while store writes fail (disk full, read-only, I/O errors), else 0",
            MetricType::Gauge,
            Value::Int(u64::from(w.failing.is_some())),
        );
        let mut buckets: Vec<(f64, u64)> = LATENCY_BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(
                w.latency
                    .buckets
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(0)),
            )
            .collect();
        buckets.truncate(LATENCY_BOUNDS.len() + 1);
        self.one(
            "store_write_duration_seconds",
            "Time to commit one store transaction",
            MetricType::Histogram,
            Value::Histogram {
                sum: w.latency.sum_micros as f64 / 1e6,
                count: buckets.iter().map(|(_, n)| n).sum(),
                buckets,
            },
        );
    }

    /// Depth and capacity of every registered queue, and what each dropped.
    pub(super) fn queues(
        &mut self,
        st: &LiveState,
        metrics: &Metrics,
        writer: Option<&WriterStats>,
    ) {
        let depths = metrics.queue_depths();
        let depth = self.add(
            "queue_depth",
            "Messages waiting in each bounded queue (pipeline: source batches; intake: POST batches; store: writer batches)",
            MetricType::Gauge,
        );
        for (name, n, _) in &depths {
            depth
                .rows
                .push((labels([("queue", name)]), Value::Int(*n as u64)));
        }
        let capacity = self.add(
            "queue_capacity",
            "Messages each bounded queue holds",
            MetricType::Gauge,
        );
        for (name, _, n) in &depths {
            capacity
                .rows
                .push((labels([("queue", name)]), Value::Int(*n as u64)));
        }
        let cause = |c: &str| -> u64 {
            st.loss_causes
                .iter()
                .filter(|((_, k), _)| *k == c)
                .map(|(_, n)| n)
                .sum()
        };
        let dropped = [
            ("pipeline", cause("queue")),
            ("exec_enricher", cause("enricher_queue_full")),
            ("intake", metrics.intake_refused.get()),
            ("store", writer.map(|w| w.records_dropped).unwrap_or(0)),
            ("stream", metrics.sse_clients_dropped.get()),
        ];
        let family = self.add(
            "queue_dropped",
            "What each bounded queue refused when full: pipeline and exec_enricher in events, intake in POST requests, store in records, stream in clients dropped",
            MetricType::Counter,
        );
        for (name, n) in dropped {
            family.rows.push((labels([("queue", name)]), Value::Int(n)));
        }
    }
}
