//! Plain, serde-serialisable types that queries take and return (backend-neutral).

use netsnoop_core::{AlertState, ProcSample, Severity, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A half-open time window `[since, until)`; `None` means unbounded on that side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive lower bound.
    pub since: Option<Ts>,
    /// Exclusive upper bound.
    pub until: Option<Ts>,
}

impl TimeRange {
    /// Everything ever stored.
    pub const ALL: TimeRange = TimeRange {
        since: None,
        until: None,
    };

    /// From `since` on, with no upper bound.
    pub fn since(since: Ts) -> TimeRange {
        TimeRange {
            since: Some(since),
            until: None,
        }
    }

    /// `[since, until)`.
    pub fn between(since: Ts, until: Ts) -> TimeRange {
        TimeRange {
            since: Some(since),
            until: Some(until),
        }
    }

    /// Bounds as microseconds, unbounded sides widened to the extremes.
    pub(crate) fn micros(self) -> (i64, i64) {
        (
            self.since.map_or(i64::MIN, Ts::micros),
            self.until.map_or(i64::MAX, Ts::micros),
        )
    }

    /// Bounds as whole seconds for per-second rollups: a second is in the range when its
    /// start is (`since <= second*1e6 < until`).
    pub(crate) fn seconds(self) -> (i64, i64) {
        let since = self.since.map_or(i64::MIN, |t| {
            t.micros().div_euclid(1_000_000) + i64::from(t.micros().rem_euclid(1_000_000) != 0)
        });
        let until = self.until.map_or(i64::MAX, |t| {
            t.micros().div_euclid(1_000_000) + i64::from(t.micros().rem_euclid(1_000_000) != 0)
        });
        (since, until)
    }
}

/// NetWatch's `/stats/summary`, served from the traffic rollups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Packets counted in the range.
    pub total_packets: u64,
    /// Distinct source addresses seen in the range. Exact unless the rollup stage
    /// capped its per-second host rows; then a lower bound (the larger of the distinct
    /// stored hosts and the busiest second's own distinct count).
    pub unique_sources: u64,
    /// Distinct destination addresses seen in the range (same caveat).
    pub unique_destinations: u64,
    /// Bytes on the wire in the range.
    pub total_bytes: u64,
}

/// How to rank talkers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TalkerOrder {
    /// Most packets first (NetWatch's order).
    #[default]
    Packets,
    /// Most bytes first.
    Bytes,
}

/// One row of top talkers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Talker {
    /// Source address as text.
    pub src_ip: String,
    /// Packets it sent in the range.
    pub packets: u64,
    /// Bytes it sent in the range.
    pub bytes: u64,
}

/// One row of the protocol distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolCount {
    /// NetWatch label: `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP`, `OTHER`.
    pub protocol: String,
    /// Packets of this protocol.
    pub count: u64,
    /// Bytes of this protocol.
    pub bytes: u64,
}

/// One raw point of traffic over time: a single recent packet (NetWatch's shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketPoint {
    /// When the packet was seen.
    pub timestamp: Ts,
    /// Its length on the wire.
    pub packet_size: u32,
}

/// One bucket of traffic over time, summed from the rollups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficBucket {
    /// Start of the bucket (aligned to a multiple of the bucket width since the epoch).
    pub timestamp: Ts,
    /// Packets in the bucket.
    pub packets: u64,
    /// Bytes in the bucket.
    pub bytes: u64,
}

/// What `traffic_over_time` returns: raw packets, or buckets when a width was asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TrafficSeries {
    /// Recent packets, oldest first.
    Packets(Vec<PacketPoint>),
    /// Buckets with traffic, oldest first (empty buckets are left out).
    Buckets(Vec<TrafficBucket>),
}

/// Which alerts to list. Every field narrows the result; the default lists the newest 100.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertFilter {
    /// Exact kind, e.g. `net.portscan`.
    pub kind: Option<String>,
    /// Only this severity or worse.
    pub min_severity: Option<Severity>,
    /// Only active or only resolved episodes.
    pub state: Option<AlertState>,
    /// Episodes still going at or after this time (`last_seen >= since`).
    pub since: Option<Ts>,
    /// Episodes that started before this time (`first_seen < until`).
    pub until: Option<Ts>,
    /// At most this many rows (capped at 10,000).
    pub limit: u32,
    /// Skip this many rows first, for paging.
    pub offset: u32,
    /// Only these hosts (by id or hostname); empty: every host.
    #[serde(default)]
    pub hosts: netsnoop_core::HostFilter,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            kind: None,
            min_severity: None,
            state: None,
            since: None,
            until: None,
            limit: 100,
            hosts: netsnoop_core::HostFilter::all(),
            offset: 0,
        }
    }
}

/// Traffic of one process, summed over the flows it owned an end of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTraffic {
    /// The host the process ran on (None: the store's own host, opened without an
    /// identity): pids of different hosts are different processes.
    pub host: Option<netsnoop_core::HostRef>,
    /// None for the unattributed bucket: local flow ends whose process is unknown.
    pub pid: Option<u32>,
    /// The leader's comm when the socket was used; None for the unattributed bucket.
    pub comm: Option<String>,
    /// Received by the process (sent by the other end).
    pub bytes_in: u64,
    /// Sent by the process.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Flow ends counted.
    pub flows: u64,
    /// When the most recent of them was last active.
    pub last_seen: Ts,
}

/// How to order flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowOrder {
    /// Most recently active first.
    #[default]
    LastSeen,
    /// Most bytes (both directions) first.
    Bytes,
}

/// A stored per-process sample with the time of its sampling round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessSampleRow {
    /// When the round was taken.
    pub time: Ts,
    /// The process as sampled.
    #[serde(flatten)]
    pub sample: ProcSample,
}

/// How many rows one `write_batch` stored, per table kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteReport {
    /// Records handed in.
    pub records: u64,
    /// Rows inserted or updated across all tables (a resource sample is 1 + N rows,
    /// a traffic second 1 + one per protocol, source and destination).
    pub rows: u64,
    /// Packet rows removed to keep the packet table under its row cap.
    pub packets_capped: u64,
}

/// What one retention pass deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// Rows deleted because they were older than the table's maximum age, per table.
    pub by_age: BTreeMap<String, u64>,
    /// Rows deleted to bring the database under its size limit, per table.
    pub by_size: BTreeMap<String, u64>,
    /// Bytes in use (pages holding data) before the pass.
    pub bytes_before: u64,
    /// Bytes in use after the pass.
    pub bytes_after: u64,
    /// True when the size limit could not be reached even after deleting everything
    /// deletable (alerts are kept last).
    pub size_limit_unreached: bool,
}

impl RetentionReport {
    /// Total rows deleted by this pass.
    pub fn total_deleted(&self) -> u64 {
        self.by_age.values().chain(self.by_size.values()).sum()
    }
}

/// Counts of rows per table and the database size, for `/health` and `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Bytes in use by data pages.
    pub used_bytes: u64,
    /// Size of the database file (free pages included).
    pub file_bytes: u64,
}

/// Loss counts summed per source, so `/health` can show what each source dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossTotal {
    /// The source that lost events, e.g. `capture:lo`.
    pub source: String,
    /// Events lost in the range.
    pub count: u64,
    /// Time of the latest loss report.
    pub last: Ts,
}
