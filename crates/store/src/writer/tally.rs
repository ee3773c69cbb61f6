//! The writer's finer counters for `/health` and `/metrics`: records and transactions by
//! the table a record goes to, commit latency as fixed histogram buckets, and what each
//! retention pass deleted and left.

use crate::RetentionReport;
use netsnoop_core::{Event, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The tables records go to, as `/metrics` labels them (a resource sample also fills
/// `process_samples`, and a traffic second the protocol, source and destination tables).
pub const TABLES: [&str; 7] = [
    "alerts",
    "packets",
    "process_events",
    "system_samples",
    "flows",
    "traffic_seconds",
    "losses",
];

/// Upper bounds (seconds) of the commit latency buckets; the last bucket is +Inf.
pub const LATENCY_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The table a record is written to; None for what no table keeps (attribution records,
/// which live on in the flows they are joined into).
pub fn table_of(record: &Record) -> Option<usize> {
    Some(match record {
        Record::Alert(_) => 0,
        Record::Event(Event::Packet(_)) => 1,
        Record::Event(Event::Process(_)) => 2,
        Record::Event(Event::Resources(_)) => 3,
        Record::Event(Event::Flow(_)) => 4,
        Record::Event(Event::Traffic(_)) => 5,
        Record::Event(Event::Loss(_)) => 6,
        Record::Event(Event::Connection(_)) => return None,
    })
}

/// Records and committed transactions of one table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// Records committed to the table.
    pub records: u64,
    /// Committed transactions that wrote to it.
    pub batches: u64,
}

/// Commit latency: counts per bucket of [`LATENCY_BOUNDS`] (not cumulative; one more for
/// +Inf) and the sum in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Commits per bucket, +Inf last.
    pub buckets: Vec<u64>,
    /// Time spent in commits, in microseconds.
    pub sum_micros: u64,
}

/// What retention has done since start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionCounts {
    /// Retention passes run.
    pub passes: u64,
    /// Rows deleted for their age.
    pub deleted_by_age: u64,
    /// Rows deleted to bring the database under its size limit.
    pub deleted_by_size: u64,
    /// Bytes the database used after the latest pass (0 before the first).
    pub database_bytes: u64,
}

#[derive(Default)]
pub(super) struct Tally {
    records: [AtomicU64; TABLES.len()],
    batches: [AtomicU64; TABLES.len()],
    latency: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    latency_sum_micros: AtomicU64,
    passes: AtomicU64,
    by_age: AtomicU64,
    by_size: AtomicU64,
    database_bytes: AtomicU64,
}

impl Tally {
    /// Counts one committed transaction of `records` that took `took`.
    pub(super) fn committed(&self, records: &[Record], took: Duration) {
        let mut per = [0u64; TABLES.len()];
        for i in records.iter().filter_map(table_of) {
            per[i] += 1;
        }
        for (i, n) in per.into_iter().enumerate() {
            if n > 0 {
                self.records[i].fetch_add(n, Relaxed);
                self.batches[i].fetch_add(1, Relaxed);
            }
        }
        let secs = took.as_secs_f64();
        let bucket = LATENCY_BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BOUNDS.len());
        self.latency[bucket].fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    pub(super) fn retention(&self, report: &RetentionReport) {
        self.passes.fetch_add(1, Relaxed);
        self.by_age
            .fetch_add(report.by_age.values().sum::<u64>(), Relaxed);
        self.by_size
            .fetch_add(report.by_size.values().sum::<u64>(), Relaxed);
        self.database_bytes.store(report.bytes_after, Relaxed);
    }

    pub(super) fn tables(&self) -> BTreeMap<String, TableCounts> {
        TABLES
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let counts = TableCounts {
                    records: self.records[i].load(Relaxed),
                    batches: self.batches[i].load(Relaxed),
                };
                (t.to_string(), counts)
            })
            .collect()
    }

    pub(super) fn latency(&self) -> Latency {
        Latency {
            buckets: self.latency.iter().map(|b| b.load(Relaxed)).collect(),
            sum_micros: self.latency_sum_micros.load(Relaxed),
        }
    }

    pub(super) fn retention_counts(&self) -> RetentionCounts {
        RetentionCounts {
            passes: self.passes.load(Relaxed),
            deleted_by_age: self.by_age.load(Relaxed),
            deleted_by_size: self.by_size.load(Relaxed),
            database_bytes: self.database_bytes.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{Loss, PacketMeta, Ts};

    #[test]
    fn a_transaction_counts_once_per_table_it_wrote_and_lands_in_its_latency_bucket() {
        let t = Tally::default();
        let packet = Record::Event(Event::Packet(PacketMeta::default()));
        let loss = Record::Event(Event::Loss(Loss {
            host: None,
            time: Ts(1),
            source: "clock".into(),
            count: 1,
            reason: "ahead".into(),
        }));
        t.committed(&[packet.clone(), packet, loss], Duration::from_millis(3));
        let tables = t.tables();
        assert_eq!(
            tables["packets"],
            TableCounts {
                records: 2,
                batches: 1
            }
        );
        assert_eq!(
            tables["losses"],
            TableCounts {
                records: 1,
                batches: 1
            }
        );
        assert_eq!(tables["flows"], TableCounts::default());
        let l = t.latency();
        // 3 ms is above 2.5 ms and at most 5 ms: the fourth bucket.
        assert_eq!(l.buckets[3], 1);
        assert_eq!(l.buckets.iter().sum::<u64>(), 1);
        assert_eq!(l.sum_micros, 3000);
    }
}
