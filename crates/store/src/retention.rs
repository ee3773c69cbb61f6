//! How long each kind of data is kept, and how big the database may grow (backend-neutral).

use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Retention limits. `None` in any field means "no limit of this kind".
///
/// Age limits are applied by `Store::apply_retention(now)`; the packet row cap is applied
/// on every write, so the packet table never grows past it between retention passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Packet metadata rows. Default 1 day: packets are the bulk of the data, and every
    /// statistic is served from the rollups, which are kept much longer.
    pub packets: Option<Duration>,
    /// Most packet rows kept; the oldest go first. Default 1,000,000 (roughly 100 MB).
    pub max_packet_rows: Option<u64>,
    /// Per-second traffic rollups (totals, per protocol, source and destination), and
    /// the same per 10 seconds. Default 30 days.
    pub traffic: Option<Duration>,
    /// The same rollups per minute and per 10 minutes. Default 90 days: a sixtieth of
    /// the rows, and statistics over older ranges are still exact to the minute. Never
    /// kept shorter than the per-second rollups (a shorter setting counts as theirs).
    pub traffic_minutes: Option<Duration>,
    /// The same rollups per hour. Default 400 days, so a year ago compares with today.
    /// Never kept shorter than the per-minute rollups.
    pub traffic_hours: Option<Duration>,
    /// Finished flows. Default 7 days.
    pub flows: Option<Duration>,
    /// Process fork/exec/exit events. Default 7 days.
    pub process_events: Option<Duration>,
    /// System-wide resource samples (one row per second). Default 7 days.
    pub system_samples: Option<Duration>,
    /// Per-process samples (top N per round). Default 2 days: N rows per second add up.
    pub process_samples: Option<Duration>,
    /// Alerts, by the time they were last seen. Default 90 days: they are few and they
    /// are what users come back for.
    pub alerts: Option<Duration>,
    /// Loss reports. Default 90 days, like alerts: they explain gaps.
    pub losses: Option<Duration>,
    /// Bytes the database may use. When over, the oldest rows are deleted (packets
    /// first, then process samples, system samples, process events, flows, rollups
    /// (finest tier first), losses, and alerts last) and the freed pages returned to the
    /// file system.
    /// Default 2 GiB.
    pub max_db_bytes: Option<u64>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            packets: Some(Duration::from_secs(DAY)),
            max_packet_rows: Some(1_000_000),
            traffic: Some(Duration::from_secs(30 * DAY)),
            traffic_minutes: Some(Duration::from_secs(90 * DAY)),
            traffic_hours: Some(Duration::from_secs(400 * DAY)),
            flows: Some(Duration::from_secs(7 * DAY)),
            process_events: Some(Duration::from_secs(7 * DAY)),
            system_samples: Some(Duration::from_secs(7 * DAY)),
            process_samples: Some(Duration::from_secs(2 * DAY)),
            alerts: Some(Duration::from_secs(90 * DAY)),
            losses: Some(Duration::from_secs(90 * DAY)),
            max_db_bytes: Some(2 << 30),
        }
    }
}

impl RetentionConfig {
    /// No limits at all: keep everything (useful for `analyze` runs and tests).
    pub fn keep_everything() -> RetentionConfig {
        RetentionConfig {
            packets: None,
            max_packet_rows: None,
            traffic: None,
            traffic_minutes: None,
            traffic_hours: None,
            flows: None,
            process_events: None,
            system_samples: None,
            process_samples: None,
            alerts: None,
            losses: None,
            max_db_bytes: None,
        }
    }

    /// How long the per-minute rollups are really kept: at least as long as the
    /// per-second ones, so every second still held has its minute and hour too (the
    /// queries rely on it).
    pub fn traffic_minutes_kept(&self) -> Option<Duration> {
        at_least(self.traffic_minutes, self.traffic)
    }

    /// How long the per-hour rollups are really kept: at least as long as the
    /// per-minute ones.
    pub fn traffic_hours_kept(&self) -> Option<Duration> {
        at_least(self.traffic_hours, self.traffic_minutes_kept())
    }
}

/// The longer of two ages, `None` (forever) being longest.
fn at_least(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    Some(a?.max(b?))
}
