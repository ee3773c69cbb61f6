//! netsnoop-store: persistence behind one `Store` trait, SQLite by default.
//!
//! - [`open`] turns a `--database` value into an `Arc<dyn Store>`.
//! - [`spawn_writer`] starts the one thread that batches records into transactions.
//! - Queries ([`Store`] methods) are served from rollups and indexes, on connections of
//!   their own, so they never wait for the writer.
//!
//! ```no_run
//! use netsnoop_core::HostFilter;
//! use netsnoop_store::{OpenOptions, TalkerOrder, TimeRange, WriterOptions, open, spawn_writer};
//! # fn main() -> Result<(), netsnoop_store::StoreError> {
//! # let records: Vec<netsnoop_core::Record> = Vec::new();
//! # let now = netsnoop_core::Ts(0);
//! let store = open("sqlite:/var/lib/netsnoop/netsnoop.db", OpenOptions::default())?;
//! let writer = spawn_writer(store.clone(), WriterOptions::default());
//! writer.send(records); // never blocks; counts a drop if the queue is full
//! writer.flush()?; // everything sent so far is now readable
//! let top = store.top_talkers(TimeRange::ALL, &HostFilter::all(), 5, TalkerOrder::Packets)?;
//! let deleted = store.apply_retention(now)?; // e.g. once a minute, with pipeline time
//! let stats = writer.shutdown(); // drains, commits, joins
//! # let _ = (top, deleted, stats);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ack;
mod error;
mod hosts;
pub mod intake;
mod model;
mod postgres;
mod retention;
mod sqlite;
mod store;
mod writer;

pub use ack::{Ack, AckedBatch, NotStored};
pub use error::{Result, StoreError};
pub use hosts::{AgentKey, BatchMark, HostRow};
pub use model::{
    AlertFilter, FlowOrder, LossTotal, PacketPoint, ProcessSampleRow, ProcessTraffic,
    ProtocolCount, RetentionReport, StoreStats, Summary, Talker, TalkerOrder, TimeRange,
    TrafficBucket, TrafficSeries, WriteReport,
};
pub use postgres::PgStore;
pub use retention::RetentionConfig;
pub use sqlite::SqliteStore;
pub use store::{MAX_LIMIT, MAX_RAW_POINTS, Store};
pub use writer::{
    LATENCY_BOUNDS, Latency, RetentionCounts, TABLES, TableCounts, WriteFailing, Writer,
    WriterHandle, WriterOptions, WriterStats, spawn_writer,
};

use std::path::Path;
use std::sync::Arc;

/// How to open a store.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// What to keep and for how long.
    pub retention: RetentionConfig,
    /// Processes kept per resource-sampling round, highest CPU first (ties by RSS).
    /// Default 20: enough for a "top" view without a row per process per second.
    pub process_samples_top_n: usize,
    /// Reader connections for queries. Default 2, one per expected concurrent handler
    /// on a small host; more only help with more cores.
    pub read_connections: usize,
    /// Packet rows per multi-row INSERT statement (1 = one statement per row). Default
    /// 64; a tuning knob measured by `bench/store_ingest`.
    pub packet_rows_per_insert: usize,
    /// The host this store runs on: rows without a host (everything `run` records, and
    /// the rows of a database older than the hosts registry) belong to it.
    pub local_host: Option<netsnoop_core::Host>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            retention: RetentionConfig::default(),
            process_samples_top_n: 20,
            read_connections: 2,
            packet_rows_per_insert: sqlite::PACKET_ROWS_PER_INSERT,
            local_host: None,
        }
    }
}

/// Opens the store a `--database` value names.
///
/// - `PATH` or `sqlite:PATH` (also `sqlite://PATH`): the embedded SQLite store, created
///   (with its directory) if missing and migrated to the current schema.
/// - `postgres://…` / `postgresql://…`: a PostgreSQL database (see [`PgStore::open`]),
///   its schema created or migrated; the password from the URL, `PGPASSWORD` or
///   `~/.pgpass`; `?sslmode=require` or `verify-full` for TLS.
pub fn open(spec: &str, opts: OpenOptions) -> Result<Arc<dyn Store>> {
    let spec = spec.trim();
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::open(spec, opts)?));
    }
    let path = spec
        .strip_prefix("sqlite://")
        .or_else(|| spec.strip_prefix("sqlite:"))
        .unwrap_or(spec);
    if path.is_empty() || (path.contains("://") && !spec.starts_with("sqlite")) {
        return Err(StoreError::BadSpec {
            spec: spec.to_string(),
        });
    }
    Ok(Arc::new(SqliteStore::open(Path::new(path), opts)?))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, so errors never leak it.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown_in_a_url() {
        assert_eq!(
            redact_password("postgres://ns:hunter2@db.example/netsnoop"),
            "postgres://ns:***@db.example/netsnoop"
        );
        assert_eq!(
            redact_password("postgres://ns@db.example/netsnoop"),
            "postgres://ns@db.example/netsnoop"
        );
    }

    #[test]
    fn an_unknown_url_scheme_is_refused_with_the_accepted_forms() {
        let err = open("mysql://x/y", OpenOptions::default()).err().unwrap();
        assert!(matches!(err, StoreError::BadSpec { .. }), "{err}");
        assert!(err.to_string().contains("sqlite:PATH"));
    }

    #[test]
    fn an_in_memory_database_is_refused_with_a_fix() {
        let err = open("sqlite::memory:", OpenOptions::default())
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::InMemoryUnsupported), "{err}");
    }

    #[test]
    fn a_plain_path_and_a_sqlite_prefix_open_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/n.db");
        let a = open(path.to_str().unwrap(), OpenOptions::default()).unwrap();
        assert_eq!(a.backend(), "sqlite");
        drop(a);
        let b = open(
            &format!("sqlite:{}", path.display()),
            OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(b.backend(), "sqlite");
        assert!(path.exists());
    }
}
