//! The `Store` trait: everything the pipeline and the HTTP API need from persistence.

use crate::Result;
use crate::hosts::{AgentKey, BatchMark, HostRow};
use crate::model::{
    AlertFilter, FlowOrder, LossTotal, ProcessSampleRow, ProcessTraffic, ProtocolCount,
    RetentionReport, StoreStats, Summary, Talker, TalkerOrder, TimeRange, TrafficSeries,
    WriteReport,
};
use netsnoop_core::silence::{Ack, Silence};
use netsnoop_core::{
    Alert, FlowRecord, HostFilter, Loss, PacketMeta, ProcessEvent, Record, SystemSample, Ts,
};

/// A place where records are written and statistics are read back.
///
/// Shared as `Arc<dyn Store>`: one writer thread calls [`Store::write_batch`] while API
/// handlers query concurrently. Implementations must never make a query wait for a
/// write (SQLite: WAL mode and separate reader connections).
///
/// Every query is served from rollups or indexes, never a scan of all packets, and all
/// limits are clamped to 10,000 rows.
pub trait Store: Send + Sync {
    /// Short backend name for logs and `/health`: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Writes records in one transaction. Alerts are upserted by id (one row per
    /// episode); a traffic second adds to any counts already stored for that second.
    fn write_batch(&self, records: &[Record]) -> Result<WriteReport> {
        self.write_marked(records, &[])
    }

    /// Writes records and the marks of the agent batches they came in, in one
    /// transaction, so a batch is stored exactly when its sequence is recorded.
    fn write_marked(&self, records: &[Record], marks: &[BatchMark]) -> Result<WriteReport>;

    /// Every host the store knows, its own first, then by id.
    fn hosts(&self) -> Result<Vec<HostRow>>;

    /// Registers a host (or re-enrols it) with the hash of its new agent key, lifting any
    /// revocation; returns the highest sequence already committed for it.
    fn enroll_host(
        &self,
        host: &netsnoop_core::Host,
        agent_version: &str,
        key_hash: &str,
        now: Ts,
    ) -> Result<u64>;

    /// The key hash, revocation and committed sequence of host `id`, if it enrolled.
    fn agent_key(&self, id: &str) -> Result<Option<AgentKey>>;

    /// Revokes host `id`'s agent key (named by id or hostname); false when no enrolled
    /// host has that id or name.
    fn revoke_host(&self, id_or_name: &str) -> Result<bool>;

    /// Commits a transaction that changes nothing but must still reach the disk, so a
    /// full or read-only disk shows at start rather than at the first lost batch. A
    /// pass does not promise that every later write fits.
    fn check_writable(&self) -> Result<()> {
        Ok(())
    }

    /// Deletes what is older than the configured ages (relative to `now`, which is the
    /// pipeline's time, so replays behave like live runs), then, if the database is
    /// still over its size limit, the oldest rows until it is under.
    fn apply_retention(&self, now: Ts) -> Result<RetentionReport>;

    /// Totals over the range, from the traffic rollups.
    ///
    /// Traffic statistics (this, [`Store::top_talkers`], [`Store::protocol_distribution`]
    /// and bucketed [`Store::traffic_over_time`]) count every second whose start lies in
    /// the range, exactly as a sum over per-second rollups would, but reading hourly
    /// rollups for the bulk of a long range. Once a period's per-second rollups have aged
    /// out, a range edge inside it counts the whole minutes (or hours) the coarser
    /// rollups still hold: a second counts when some rollup that is still kept covers it
    /// and lies inside the range.
    ///
    /// Each of them reads the rollups of the hosts `hosts` names (empty: every host).
    /// Packets and bytes are summed over those hosts. A distinct count (unique sources,
    /// destinations) is the number of distinct addresses in their rows, or, if larger,
    /// the most that any one host counted in any one second (addresses beyond a second's
    /// row cap have no row): across hosts, as across seconds, a lower bound, since two
    /// hosts may see the same addresses.
    fn summary(&self, range: TimeRange, hosts: &HostFilter) -> Result<Summary>;

    /// The sources that sent most, from the per-source rollups, summed over the hosts.
    fn top_talkers(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        limit: u32,
        by: TalkerOrder,
    ) -> Result<Vec<Talker>>;

    /// Packets and bytes per protocol, most packets first.
    fn protocol_distribution(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
    ) -> Result<Vec<ProtocolCount>>;

    /// With `bucket_secs: None`, raw stored packets in the range, oldest first: all of
    /// them when there are at most [`MAX_RAW_POINTS`], else the newest
    /// [`MAX_RAW_POINTS`] (never a sample). Otherwise buckets of that many seconds from
    /// the rollups.
    fn traffic_over_time(
        &self,
        range: TimeRange,
        hosts: &HostFilter,
        bucket_secs: Option<u32>,
    ) -> Result<TrafficSeries>;

    /// The newest stored packets of the hosts named (all: every host), newest first.
    fn recent_packets(&self, limit: u32, hosts: &HostFilter) -> Result<Vec<PacketMeta>>;

    /// Alerts matching the filter, most recently seen first.
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>>;

    /// Alerts whose episode is still open, worst first, then most recent.
    fn active_alerts(&self, limit: u32) -> Result<Vec<Alert>>;

    /// Process events, newest first, optionally only those at or after `since`.
    fn process_events(&self, limit: u32, since: Option<Ts>) -> Result<Vec<ProcessEvent>>;

    /// Finished flows of the hosts named (all: every host) in the given order.
    fn flows(&self, limit: u32, order: FlowOrder, hosts: &HostFilter) -> Result<Vec<FlowRecord>>;

    /// Flows that ended in the range with process `pid` owning an end, newest first.
    fn process_flows(&self, pid: u32, range: TimeRange, limit: u32) -> Result<Vec<FlowRecord>>;

    /// Traffic per owning process over flows that ended in the range, most bytes first,
    /// with the unattributed bucket (pid None) among them; only `pid` when given.
    fn process_traffic(
        &self,
        range: TimeRange,
        limit: u32,
        pid: Option<u32>,
        hosts: &HostFilter,
    ) -> Result<Vec<ProcessTraffic>>;

    /// System samples in the range, oldest first (at most `limit`, the newest ones).
    fn system_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<SystemSample>>;

    /// Per-process samples in the range, newest round first, highest CPU first within a
    /// round.
    fn process_samples(&self, range: TimeRange, limit: u32) -> Result<Vec<ProcessSampleRow>>;

    /// Loss reports in the range, newest first.
    fn losses(&self, range: TimeRange, limit: u32) -> Result<Vec<Loss>>;

    /// Loss counts summed per source over the range.
    fn loss_totals(&self, range: TimeRange) -> Result<Vec<LossTotal>>;

    /// Row counts and sizes. Counting costs a pass over each table: call it rarely.
    fn stats(&self) -> Result<StoreStats>;

    /// Stores a silence; returns its id.
    fn add_silence(&self, silence: &Silence) -> Result<i64>;

    /// Silences, newest first: only those in force at `active_at` when given.
    fn silences(&self, active_at: Option<Ts>, limit: u32) -> Result<Vec<Silence>>;

    /// Acknowledges a stored alert (a later ack replaces an earlier one); false when
    /// no alert has that id.
    fn ack_alert(&self, ack: &Ack) -> Result<bool>;

    /// Acknowledgements, newest first.
    fn acks(&self, limit: u32) -> Result<Vec<Ack>>;
}

/// Most rows any query returns, whatever limit the caller asks for.
pub const MAX_LIMIT: u32 = 10_000;

/// Most raw points `traffic_over_time` returns: NetWatch's dashboard counts the rows per
/// 30 s, so each stored packet in the window is one row, up to this bound (about 14 MB
/// of JSON). Past it the newest are returned and the API says so in a header.
pub const MAX_RAW_POINTS: u32 = 200_000;

pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.min(MAX_LIMIT))
}
