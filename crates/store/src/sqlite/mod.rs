//! The embedded SQLite store: one writer connection, a few reader connections, WAL mode.

mod checkpoint;
mod hosts;
#[cfg(test)]
mod migration10_tests;
pub(crate) mod owners;
mod query;
mod read;
mod retention;
pub(crate) mod schema;
mod silences;
mod stats;
pub(crate) mod tiers;
pub(crate) mod traffic;
mod write;

pub(crate) use write::{PACKET_ROWS_PER_INSERT, severity_rank};

use crate::model::{
    AlertFilter, FlowOrder, LossTotal, ProcessSampleRow, ProcessTraffic, ProtocolCount,
    RetentionReport, StoreStats, Summary, Talker, TalkerOrder, TimeRange, TrafficSeries,
    WriteReport,
};
use crate::{AgentKey, BatchMark, HostRow, OpenOptions, Result, Store, StoreError};
use netsnoop_core::{
    Alert, FlowRecord, HostFilter, Loss, PacketMeta, ProcessEvent, Record, SystemSample, Ts,
};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// SQLite behind the [`Store`] trait.
///
/// Writes (and retention) go through one connection behind a mutex, so they are
/// serialised; queries use their own connections and, thanks to WAL, read the last
/// committed state without waiting for a write in progress.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<WriteConn>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    opts: OpenOptions,
    _checkpointer: checkpoint::Checkpointer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it to the
    /// current schema.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<SqliteStore> {
        SqliteStore::open_at_version(path, opts, schema::CURRENT_VERSION)
    }

    /// Opens the database, migrating only up to `version`; tests use it to make
    /// databases as an older build left them.
    pub(crate) fn open_at_version(
        path: &Path,
        opts: OpenOptions,
        version: i64,
    ) -> Result<SqliteStore> {
        if path.as_os_str() == ":memory:" || path.as_os_str().is_empty() {
            return Err(StoreError::InMemoryUnsupported);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = Connection::open(path).map_err(open_err)?;
        configure_writer(&writer).map_err(open_err)?;
        schema::migrate(&mut writer, path, version)?;
        if version >= 9
            && let Some(local) = &opts.local_host
        {
            hosts::set_local(&writer, local).map_err(StoreError::sql("naming the local host"))?;
        }
        let writer = WriteConn::new(writer).map_err(StoreError::sql("counting stored packets"))?;

        let readers = (0..opts.read_connections.max(1))
            .map(|_| open_reader(path).map(Mutex::new).map_err(open_err))
            .collect::<Result<Vec<_>>>()?;
        let checkpointer = checkpoint::Checkpointer::spawn(path).map_err(open_err)?;
        Ok(SqliteStore {
            _checkpointer: checkpointer,
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            opts,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&self.reader())
    }

    fn writer(&self) -> MutexGuard<'_, WriteConn> {
        // A panic mid-write leaves no half state behind: the transaction rolled back
        // when it was dropped, so the connection is still usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A free reader if there is one, else waits for the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].try_lock() {
                return guard;
            }
        }
        self.readers[start % n]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer connection and what the write path tracks between batches.
pub(crate) struct WriteConn {
    pub(crate) conn: Connection,
    /// Next packet `seq`: with `time` it keys the packet table, so packets sort by time
    /// without a second index.
    pub(crate) next_packet_seq: i64,
    /// Rows in the packet table, so the row cap needs no count per batch.
    pub(crate) packet_rows: u64,
    /// Host keys seen so far.
    pub(crate) hosts: hosts::HostKeys,
}

impl WriteConn {
    fn new(conn: Connection) -> rusqlite::Result<WriteConn> {
        let next_packet_seq =
            conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM packets", [], |r| {
                r.get(0)
            })?;
        let mut w = WriteConn {
            conn,
            next_packet_seq,
            packet_rows: 0,
            hosts: hosts::HostKeys::default(),
        };
        w.recount_packets()?;
        Ok(w)
    }

    fn recount_packets(&mut self) -> rusqlite::Result<()> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM packets", [], |r| r.get(0))?;
        self.packet_rows = n.max(0) as u64;
        Ok(())
    }
}

fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    // Must come before anything writes the first page (switching to WAL does). 8 KiB
    // pages measured faster for packet inserts than 4 KiB (bench/store_ingest);
    // incremental auto-vacuum lets retention hand freed pages back to the file system
    // without a full VACUUM. On an existing database both change nothing.
    conn.execute_batch("PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL")?;
    // journal_mode answers with a row, so it cannot go through execute_batch.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode; queries may wait for writes");
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;
         PRAGMA journal_size_limit = 67108864;
         PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(
        "PRAGMA query_only = 1;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn write_marked(&self, records: &[Record], marks: &[BatchMark]) -> Result<WriteReport> {
        write::write_batch(&mut self.writer(), records, marks, &self.opts)
    }

    fn hosts(&self) -> Result<Vec<HostRow>> {
        hosts::list(&self.reader())
    }

    fn enroll_host(
        &self,
        host: &netsnoop_core::Host,
        agent_version: &str,
        key_hash: &str,
        now: Ts,
    ) -> Result<u64> {
        hosts::enroll(&self.writer().conn, host, agent_version, key_hash, now)
    }

    fn agent_key(&self, id: &str) -> Result<Option<AgentKey>> {
        // From the writer: a key enrolled a moment ago must be seen at once.
        hosts::agent_key(&self.writer().conn, id)
    }

    fn revoke_host(&self, id_or_name: &str) -> Result<bool> {
        hosts::revoke(&self.writer().conn, id_or_name)
    }

    fn check_writable(&self) -> Result<()> {
        let w = self.writer();
        let probe = |conn: &Connection| -> rusqlite::Result<()> {
            let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            // Rewriting the version dirties the header page, so the commit appends a
            // frame to the WAL: it needs the disk, and changes nothing.
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; PRAGMA user_version = {version}; COMMIT"
            ))
        };
        probe(&w.conn).map_err(|e| {
            if !w.conn.is_autocommit() {
                let _ = w.conn.execute_batch("ROLLBACK");
            }
            StoreError::sql("checking that the database is writable")(e)
        })
    }

    fn apply_retention(&self, now: Ts) -> Result<RetentionReport> {
        let mut w = self.writer();
        let report = retention::apply(&mut w.conn, now, &self.opts.retention)?;
        w.recount_packets()
            .map_err(StoreError::sql("counting stored packets"))?;
        Ok(report)
    }

    fn summary(&self, range: TimeRange, hosts: &HostFilter) -> Result<Summary> {
        stats::summary(&self.reader(), range, hosts)
    }

    fn top_talkers(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        limit: u32,
        by: TalkerOrder,
    ) -> Result<Vec<Talker>> {
        stats::top_talkers(&self.reader(), range, hosts, limit, by)
    }

    fn protocol_distribution(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
    ) -> Result<Vec<ProtocolCount>> {
        stats::protocol_distribution(&self.reader(), range, hosts)
    }

    fn traffic_over_time(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        bucket_secs: Option<u32>,
    ) -> Result<TrafficSeries> {
        stats::traffic_over_time(&self.reader(), range, hosts, bucket_secs)
    }

    fn recent_packets(&self, limit: u32, hosts: &HostFilter) -> Result<Vec<PacketMeta>> {
        query::recent_packets(&self.reader(), limit, hosts)
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        query::alerts(&self.reader(), filter)
    }

    fn active_alerts(&self, limit: u32) -> Result<Vec<Alert>> {
        query::active_alerts(&self.reader(), limit)
    }

    fn process_events(&self, limit: u32, since: Option<Ts>) -> Result<Vec<ProcessEvent>> {
        query::process_events(&self.reader(), limit, since)
    }

    fn flows(&self, limit: u32, order: FlowOrder, hosts: &HostFilter) -> Result<Vec<FlowRecord>> {
        query::flows(&self.reader(), limit, order, hosts)
    }

    fn process_flows(&self, pid: u32, range: TimeRange, limit: u32) -> Result<Vec<FlowRecord>> {
        owners::process_flows(&self.reader(), pid, range, limit)
    }

    fn process_traffic(
        &self,
        range: TimeRange,
        limit: u32,
        pid: Option<u32>,
        hosts: &HostFilter,
    ) -> Result<Vec<ProcessTraffic>> {
        owners::top_processes(&self.reader(), range, limit, pid, hosts)
    }

    fn system_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<SystemSample>> {
        query::system_samples(&self.reader(), range, limit)
    }

    fn process_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<ProcessSampleRow>> {
        query::process_samples(&self.reader(), range, limit)
    }

    fn losses(&self, range: TimeRange, limit: u32) -> Result<Vec<Loss>> {
        query::losses(&self.reader(), range, limit)
    }

    fn loss_totals(&self, range: TimeRange) -> Result<Vec<LossTotal>> {
        query::loss_totals(&self.reader(), range)
    }

    fn stats(&self) -> Result<StoreStats> {
        query::stats(&self.reader())
    }

    fn add_silence(&self, silence: &netsnoop_core::silence::Silence) -> Result<i64> {
        silences::add_silence(&self.writer().conn, silence)
    }

    fn silences(
        &self,
        active_at: Option<Ts>,
        limit: u32,
    ) -> Result<Vec<netsnoop_core::silence::Silence>> {
        silences::silences(&self.reader(), active_at, limit)
    }

    fn ack_alert(&self, ack: &netsnoop_core::silence::Ack) -> Result<bool> {
        silences::ack_alert(&self.writer().conn, ack)
    }

    fn acks(&self, limit: u32) -> Result<Vec<netsnoop_core::silence::Ack>> {
        silences::acks(&self.reader(), limit)
    }
}
