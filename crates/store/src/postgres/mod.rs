//! The PostgreSQL store: the central database many hosts and several `serve` processes
//! can share. Synchronous (`postgres` crate) behind the synchronous [`Store`] trait,
//! with a small r2d2 pool: the writer takes one connection per batch, each query
//! another, so queries never wait for a write.

mod connect;
mod copy;
mod encode;
mod hosts;
mod owners;
mod partitions;
mod query;
mod read;
mod retention;
mod schema;
mod stats;
mod tiers_sql;
mod tls;
mod write;

pub(crate) use connect::one_line;

use crate::model::{
    AlertFilter, FlowOrder, LossTotal, ProcessSampleRow, ProtocolCount, RetentionReport,
    StoreStats, Summary, Talker, TalkerOrder, TimeRange, TrafficSeries, WriteReport,
};
use crate::{AgentKey, BatchMark, HostRow, OpenOptions, Result, Store, StoreError};
use connect::{Conn, Pool};
use netsnoop_core::{
    Alert, FlowRecord, HostFilter, Loss, PacketMeta, ProcessEvent, Record, SystemSample, Ts,
};
use std::sync::{Mutex, PoisonError};
use write::WriteState;

/// PostgreSQL behind the [`Store`] trait.
pub struct PgStore {
    pool: Pool,
    /// Serialises this process's writes and retention (several processes may write
    /// at once; the database keeps them consistent).
    writer: Mutex<WriteState>,
    opts: OpenOptions,
    shown: String,
}

impl PgStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`), creates or migrates the
    /// schema under an advisory lock, and creates the partitions of the next days.
    pub fn open(url: &str, opts: OpenOptions) -> Result<PgStore> {
        PgStore::open_at_version(url, opts, schema::current_version())
    }

    /// Opens the database, migrating only up to `version`: tests use it to make
    /// databases as an older build left them. Not for use outside tests.
    #[doc(hidden)]
    pub fn open_at_version(url: &str, opts: OpenOptions, version: i64) -> Result<PgStore> {
        let target = connect::target(url)?;
        // One for the writer, one per reader, one for retention.
        let size = u32::try_from(opts.read_connections.max(1) + 2).unwrap_or(4);
        let pool = connect::pool(&target, size)?;
        let mut conn = get(&pool, "migrating the schema")?;
        schema::migrate(&mut conn, &target, version)?;
        if version >= schema::HOSTS_VERSION
            && let Some(local) = &opts.local_host
        {
            hosts::set_local(&mut conn, local)?;
        }
        let mut partitions = partitions::Known::default();
        // In a transaction: creation takes a transaction-level lock against racing
        // processes.
        let doing = "creating the partitions of the next days";
        let mut tx = conn.transaction().map_err(StoreError::pg(doing))?;
        partitions
            .ahead(&mut tx, Ts::now().micros())
            .map_err(StoreError::pg(doing))?;
        tx.commit().map_err(StoreError::pg(doing))?;
        Ok(PgStore {
            pool,
            writer: Mutex::new(WriteState {
                partitions,
                packet_rows: None,
                batches: write::BatchMarks::new(),
                hosts: hosts::HostKeys::default(),
            }),
            opts,
            shown: target.shown,
        })
    }

    /// `user@host:port/db`, for logs and the banner (never the password).
    pub fn target(&self) -> &str {
        &self.shown
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&mut *self.conn("reading the schema version")?)
    }

    fn conn(&self, doing: &'static str) -> Result<Conn> {
        get(&self.pool, doing)
    }
}

fn get(pool: &Pool, doing: &'static str) -> Result<Conn> {
    pool.get().map_err(|e| StoreError::PgUnavailable {
        doing,
        message: e.to_string(),
    })
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn write_marked(&self, records: &[Record], marks: &[BatchMark]) -> Result<WriteReport> {
        let mut state = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut conn = self.conn("writing a batch")?;
        write::write_batch(&mut conn, &mut state, records, marks, &self.opts)
    }

    fn hosts(&self) -> Result<Vec<HostRow>> {
        hosts::list(&mut *self.conn("listing hosts")?)
    }

    fn enroll_host(
        &self,
        host: &netsnoop_core::Host,
        agent_version: &str,
        key_hash: &str,
        now: Ts,
    ) -> Result<u64> {
        let mut conn = self.conn("enrolling a host")?;
        hosts::enroll(&mut conn, host, agent_version, key_hash, now)
    }

    fn agent_key(&self, id: &str) -> Result<Option<AgentKey>> {
        hosts::agent_key(&mut *self.conn("reading an agent key")?, id)
    }

    fn revoke_host(&self, id_or_name: &str) -> Result<bool> {
        hosts::revoke(&mut *self.conn("revoking a host")?, id_or_name)
    }

    fn check_writable(&self) -> Result<()> {
        let mut conn = self.conn("checking that the database is writable")?;
        let doing = "checking that the database is writable";
        let mut tx = conn.transaction().map_err(StoreError::pg(doing))?;
        // Rewriting the version takes a row lock and a WAL record: it needs a
        // writable database, and changes nothing.
        tx.execute("UPDATE netsnoop_schema SET version = version", &[])
            .map_err(StoreError::pg(doing))?;
        tx.commit().map_err(StoreError::pg(doing))
    }

    fn apply_retention(&self, now: Ts) -> Result<RetentionReport> {
        let mut state = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut conn = self.conn("applying retention")?;
        let report = retention::apply(&mut conn, now, &self.opts.retention);
        // Partitions may have been dropped and rows deleted: look again next write.
        state.partitions.clear();
        state.packet_rows = None;
        report
    }

    fn summary(&self, range: TimeRange, hosts: &HostFilter) -> Result<Summary> {
        stats::summary(
            &mut *self.conn("computing the traffic summary")?,
            range,
            hosts,
        )
    }

    fn top_talkers(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        limit: u32,
        by: TalkerOrder,
    ) -> Result<Vec<Talker>> {
        stats::top_talkers(
            &mut *self.conn("listing top talkers")?,
            range,
            hosts,
            limit,
            by,
        )
    }

    fn protocol_distribution(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
    ) -> Result<Vec<ProtocolCount>> {
        stats::protocol_distribution(
            &mut *self.conn("computing the protocol distribution")?,
            range,
            hosts,
        )
    }

    fn traffic_over_time(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        bucket_secs: Option<u32>,
    ) -> Result<TrafficSeries> {
        stats::traffic_over_time(
            &mut *self.conn("listing traffic over time")?,
            range,
            hosts,
            bucket_secs,
        )
    }

    fn recent_packets(&self, limit: u32, hosts: &HostFilter) -> Result<Vec<PacketMeta>> {
        query::recent_packets(&mut *self.conn("listing recent packets")?, limit, hosts)
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        query::alerts(&mut *self.conn("listing alerts")?, filter)
    }

    fn active_alerts(&self, limit: u32) -> Result<Vec<Alert>> {
        query::active_alerts(&mut *self.conn("listing active alerts")?, limit)
    }

    fn process_events(&self, limit: u32, since: Option<Ts>) -> Result<Vec<ProcessEvent>> {
        query::process_events(&mut *self.conn("listing process events")?, limit, since)
    }

    fn process_flows(&self, pid: u32, range: TimeRange, limit: u32) -> Result<Vec<FlowRecord>> {
        owners::process_flows(
            &mut *self.conn("listing a process's flows")?,
            pid,
            range,
            limit,
        )
    }

    fn process_traffic(
        &self,
        range: TimeRange,
        limit: u32,
        pid: Option<u32>,
        hosts: &HostFilter,
    ) -> Result<Vec<crate::model::ProcessTraffic>> {
        owners::top_processes(
            &mut *self.conn("summing traffic per process")?,
            range,
            limit,
            pid,
            hosts,
        )
    }

    fn add_silence(&self, silence: &netsnoop_core::silence::Silence) -> Result<i64> {
        owners::add_silence(&mut *self.conn("storing a silence")?, silence)
    }

    fn silences(
        &self,
        active_at: Option<Ts>,
        limit: u32,
    ) -> Result<Vec<netsnoop_core::silence::Silence>> {
        owners::silences(&mut *self.conn("reading silences")?, active_at, limit)
    }

    fn ack_alert(&self, ack: &netsnoop_core::silence::Ack) -> Result<bool> {
        owners::ack_alert(&mut *self.conn("storing an acknowledgement")?, ack)
    }

    fn acks(&self, limit: u32) -> Result<Vec<netsnoop_core::silence::Ack>> {
        owners::acks(&mut *self.conn("reading acknowledgements")?, limit)
    }

    fn flows(&self, limit: u32, order: FlowOrder, hosts: &HostFilter) -> Result<Vec<FlowRecord>> {
        query::flows(&mut *self.conn("listing flows")?, limit, order, hosts)
    }

    fn system_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<SystemSample>> {
        query::system_samples(&mut *self.conn("listing system samples")?, range, limit)
    }

    fn process_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<ProcessSampleRow>> {
        query::process_samples(&mut *self.conn("listing process samples")?, range, limit)
    }

    fn losses(&self, range: TimeRange, limit: u32) -> Result<Vec<Loss>> {
        query::losses(&mut *self.conn("listing losses")?, range, limit)
    }

    fn loss_totals(&self, range: TimeRange) -> Result<Vec<LossTotal>> {
        query::loss_totals(&mut *self.conn("summing losses")?, range)
    }

    fn stats(&self) -> Result<StoreStats> {
        query::stats(&mut *self.conn("counting rows")?)
    }
}
