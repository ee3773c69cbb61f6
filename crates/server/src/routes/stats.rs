//! NetWatch's statistics endpoints, served from the store's per-second rollups and
//! indexes: summary, top talkers, protocol distribution, traffic over time, recent packets.

use crate::error::{ApiError, ApiResult};
use crate::routes::params::Query;
use crate::routes::params::{Limit, Range, Window, parse_limit};
use crate::state::AppState;
use crate::timefmt::format_time;
use crate::views::PacketView;
use axum::Json;
use axum::extract::State;
use netsnoop_core::Ts;
use netsnoop_store::{Summary, TalkerOrder, TimeRange, TrafficSeries};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// NetWatch's default window for traffic over time.
const TRAFFIC_DEFAULT_WINDOW_SECS: i64 = 30 * 60;
/// Buckets one request may produce at most, so a tiny bucket over a long range cannot
/// build a huge answer.
const MAX_BUCKETS: i64 = 100_000;

pub fn time_range(w: Window) -> TimeRange {
    TimeRange {
        since: w.since,
        until: w.until,
    }
}

/// `{total_packets, unique_sources, unique_destinations, total_bytes}`
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub total_packets: u64,
    pub unique_sources: u64,
    pub unique_destinations: u64,
    pub total_bytes: u64,
}

impl From<Summary> for SummaryView {
    fn from(s: Summary) -> Self {
        SummaryView {
            total_packets: s.total_packets,
            unique_sources: s.unique_sources,
            unique_destinations: s.unique_destinations,
            total_bytes: s.total_bytes,
        }
    }
}

/// Total packets, unique sources and destinations, total bytes
#[utoipa::path(get, path = "/stats/summary", tag = "netwatch", params(Range),
    responses((status = 200, body = SummaryView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Query(r): Query<Range>,
) -> ApiResult<Json<SummaryView>> {
    let range = time_range(r.resolve(&state.config.timezone)?);
    let s = state.query(move |store| store.summary(range)).await?;
    Ok(Json(s.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TalkersQuery {
    /// How many sources (default 5, at most 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    pub limit: Option<String>,
    /// `packets` (default, NetWatch's order) or `bytes`.
    pub by: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// One top talker: NetWatch's `{src_ip, count}` plus bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalkerView {
    pub src_ip: String,
    /// Packets sent.
    pub count: u64,
    pub bytes: u64,
}

/// Top source addresses by packets (or bytes)
#[utoipa::path(get, path = "/stats/top-talkers", tag = "netwatch", params(TalkersQuery),
    responses((status = 200, body = Vec<TalkerView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn top_talkers(
    State(state): State<AppState>,
    Query(q): Query<TalkersQuery>,
) -> ApiResult<Json<Vec<TalkerView>>> {
    let limit = parse_limit(q.limit.as_deref(), 5, 1000)? as u32;
    let by = match q.by.as_deref().map(str::trim) {
        None | Some("") | Some("packets") | Some("count") => TalkerOrder::Packets,
        Some("bytes") => TalkerOrder::Bytes,
        Some(other) => {
            return Err(ApiError::InvalidField(format!(
                "by={other:?}: give `packets` or `bytes`"
            )));
        }
    };
    let range = time_range(
        Range {
            since: q.since,
            until: q.until,
        }
        .resolve(&state.config.timezone)?,
    );
    let talkers = state
        .query(move |store| store.top_talkers(range, limit, by))
        .await?;
    Ok(Json(
        talkers
            .into_iter()
            .map(|t| TalkerView {
                src_ip: t.src_ip,
                count: t.packets,
                bytes: t.bytes,
            })
            .collect(),
    ))
}

/// One protocol's share: NetWatch's `{protocol, count}` plus bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolView {
    /// `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP` or `OTHER`.
    pub protocol: String,
    pub count: u64,
    pub bytes: u64,
}

/// Packets per protocol, most first
#[utoipa::path(get, path = "/stats/protocol-distribution", tag = "netwatch", params(Range),
    responses((status = 200, body = Vec<ProtocolView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn protocol_distribution(
    State(state): State<AppState>,
    Query(r): Query<Range>,
) -> ApiResult<Json<Vec<ProtocolView>>> {
    let range = time_range(r.resolve(&state.config.timezone)?);
    let rows = state
        .query(move |store| store.protocol_distribution(range))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| ProtocolView {
                protocol: p.protocol,
                count: p.count,
                bytes: p.bytes,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrafficQuery {
    /// Bucket width (`30s`, `5m`, `1h` or seconds). Without it, raw packets are returned
    /// as NetWatch did.
    pub bucket: Option<String>,
    /// Default: 30 minutes ago.
    pub since: Option<String>,
    pub until: Option<String>,
}

/// A raw point `{timestamp, packet_size}` (no bucket), or a bucket
/// `{timestamp, packets, bytes}` (with `?bucket=`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TrafficPoint {
    Packet {
        timestamp: String,
        packet_size: u32,
    },
    Bucket {
        timestamp: String,
        packets: u64,
        bytes: u64,
    },
}

/// Traffic over time: the last 30 minutes by default
#[utoipa::path(get, path = "/stats/traffic-over-time", tag = "netwatch", params(TrafficQuery),
    responses((status = 200, body = Vec<TrafficPoint>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn traffic_over_time(
    State(state): State<AppState>,
    Query(q): Query<TrafficQuery>,
) -> ApiResult<Json<Vec<TrafficPoint>>> {
    let tz = state.config.timezone.clone();
    let mut w = Range {
        since: q.since,
        until: q.until,
    }
    .resolve(&tz)?;
    if w.since.is_none() {
        let end = w
            .until
            .unwrap_or_else(|| Ts(jiff::Timestamp::now().as_microsecond()));
        w.since = Some(Ts::from_secs(end.secs() - TRAFFIC_DEFAULT_WINDOW_SECS));
    }
    let bucket = q.bucket.as_deref().map(parse_bucket).transpose()?;
    if let (Some(b), Some(since)) = (bucket, w.since) {
        let until = w
            .until
            .unwrap_or_else(|| Ts(jiff::Timestamp::now().as_microsecond()));
        if (until.secs() - since.secs()) / i64::from(b) > MAX_BUCKETS {
            return Err(ApiError::InvalidField(format!(
                "bucket={b}s over this range makes more than {MAX_BUCKETS} buckets: use a wider bucket or a shorter range"
            )));
        }
    }
    let range = time_range(w);
    let series = state
        .query(move |store| store.traffic_over_time(range, bucket))
        .await?;
    Ok(Json(match series {
        TrafficSeries::Packets(ps) => ps
            .into_iter()
            .map(|p| TrafficPoint::Packet {
                timestamp: format_time(p.timestamp, &tz),
                packet_size: p.packet_size,
            })
            .collect(),
        TrafficSeries::Buckets(bs) => bs
            .into_iter()
            .map(|b| TrafficPoint::Bucket {
                timestamp: format_time(b.timestamp, &tz),
                packets: b.packets,
                bytes: b.bytes,
            })
            .collect(),
    }))
}

/// `30s`, `5m`, `1h`, `1d` or plain seconds; 1 s to 1 day.
pub fn parse_bucket(text: &str) -> ApiResult<u32> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match num.parse::<u64>().ok().map(|n| n * factor) {
        Some(secs) if (1..=86_400).contains(&secs) => Ok(secs as u32),
        _ => Err(ApiError::InvalidField(format!(
            "bucket={text:?}: give a width from 1s to 1d, e.g. 30s, 5m or 1h"
        ))),
    }
}

/// Most recent packets, newest first
#[utoipa::path(get, path = "/packets/recent", tag = "netwatch", params(Limit),
    responses((status = 200, body = Vec<PacketView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn recent_packets(
    State(state): State<AppState>,
    Query(q): Query<Limit>,
) -> ApiResult<Json<Vec<PacketView>>> {
    let limit = q.resolve(20, 1000)? as u32;
    let tz = state.config.timezone.clone();
    let packets = state
        .query(move |store| store.recent_packets(limit))
        .await?;
    Ok(Json(
        packets.iter().map(|p| PacketView::new(p, &tz)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_widths_read_like_durations() {
        assert_eq!(parse_bucket("30s").unwrap(), 30);
        assert_eq!(parse_bucket("5m").unwrap(), 300);
        assert_eq!(parse_bucket("1h").unwrap(), 3600);
        assert_eq!(parse_bucket("45").unwrap(), 45);
        for bad in ["0s", "2d", "fast", "-5", "10x"] {
            assert!(parse_bucket(bad).is_err(), "{bad}");
        }
    }
}
