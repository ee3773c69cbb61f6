//! NetWatch's statistics endpoints, served from the store's per-second rollups and
//! indexes: summary, top talkers, protocol distribution, traffic over time, recent packets.
//! Each takes `?host=` (default: every host, summed).

use crate::error::{ApiError, ApiResult};
use crate::routes::params::Query;
use crate::routes::params::{Hosts, HostsDoc, Limit, Range, Window, parse_limit};
use crate::routes::shape::Shape;
use crate::state::AppState;
use crate::timefmt::format_time;
use crate::views::PacketRow;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use netsnoop_core::Ts;
use netsnoop_store::{MAX_RAW_POINTS, Summary, TalkerOrder, TimeRange, TrafficSeries};
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
///
/// NetWatch's four keys in both forms (`extended` adds nothing here). Without a range
/// the answer comes from running totals kept as packets are stored, so it costs the
/// same at a million packets as at ten. With `?host=`, only those hosts' traffic;
/// without, every host's summed. Unique sources and destinations count an address seen
/// by several hosts once (at least the most any one host saw in one second).
#[utoipa::path(get, path = "/stats/summary", tag = "netwatch", params(Range, Shape, HostsDoc),
    responses((status = 200, body = SummaryView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Query(r): Query<Range>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<SummaryView>> {
    shape.extended()?;
    let range = time_range(r.resolve(&state.config.timezone)?);
    let s = state
        .query(move |store| store.summary(range, &hosts))
        .await?;
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

/// One top talker: NetWatch's `{src_ip, count}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalkerView {
    pub src_ip: String,
    /// Packets sent.
    pub count: u64,
}

/// NetWatch's talker keys, then bytes sent (`?extended=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TalkerViewExtended {
    #[serde(flatten)]
    pub netwatch: TalkerView,
    pub bytes: u64,
}

/// A talker in NetWatch's shape or with bytes added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TalkerRow {
    NetWatch(TalkerView),
    Extended(TalkerViewExtended),
}

/// Top source addresses by packets (or bytes)
///
/// Without a range, read from per-source running totals kept as packets are stored.
/// With `?host=`, only those hosts' traffic; without, every host's, a source's packets
/// and bytes summed over the hosts that saw it.
#[utoipa::path(get, path = "/stats/top-talkers", tag = "netwatch", params(TalkersQuery, Shape, HostsDoc),
    responses((status = 200, body = Vec<TalkerRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn top_talkers(
    State(state): State<AppState>,
    Query(q): Query<TalkersQuery>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<TalkerRow>>> {
    let extended = shape.extended()?;
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
        .query(move |store| store.top_talkers(range, &hosts, limit, by))
        .await?;
    Ok(Json(
        talkers
            .into_iter()
            .map(|t| {
                let netwatch = TalkerView {
                    src_ip: t.src_ip,
                    count: t.packets,
                };
                if extended {
                    TalkerRow::Extended(TalkerViewExtended {
                        netwatch,
                        bytes: t.bytes,
                    })
                } else {
                    TalkerRow::NetWatch(netwatch)
                }
            })
            .collect(),
    ))
}

/// One protocol's share: NetWatch's `{protocol, count}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolView {
    /// `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP` or `OTHER`.
    pub protocol: String,
    pub count: u64,
}

/// NetWatch's protocol keys, then bytes (`?extended=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolViewExtended {
    #[serde(flatten)]
    pub netwatch: ProtocolView,
    pub bytes: u64,
}

/// A protocol's share in NetWatch's shape or with bytes added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ProtocolRow {
    NetWatch(ProtocolView),
    Extended(ProtocolViewExtended),
}

/// Packets per protocol, most first
///
/// With `?host=`, only those hosts' traffic; without, every host's summed.
#[utoipa::path(get, path = "/stats/protocol-distribution", tag = "netwatch", params(Range, Shape, HostsDoc),
    responses((status = 200, body = Vec<ProtocolRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn protocol_distribution(
    State(state): State<AppState>,
    Query(r): Query<Range>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<ProtocolRow>>> {
    let extended = shape.extended()?;
    let range = time_range(r.resolve(&state.config.timezone)?);
    let rows = state
        .query(move |store| store.protocol_distribution(range, &hosts))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| {
                let netwatch = ProtocolView {
                    protocol: p.protocol,
                    count: p.count,
                };
                if extended {
                    ProtocolRow::Extended(ProtocolViewExtended {
                        netwatch,
                        bytes: p.bytes,
                    })
                } else {
                    ProtocolRow::NetWatch(netwatch)
                }
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

/// Header set on a raw answer that does not list every packet the rollups counted in
/// the range, saying why and what to ask instead.
pub const INCOMPLETE_HEADER: &str = "x-netsnoop-incomplete";
/// Header on every raw answer: packets the rollups counted in the range.
pub const COUNTED_HEADER: &str = "x-netsnoop-packets-counted";

/// Traffic over time: the last 30 minutes by default
///
/// Without `bucket`, one `{timestamp, packet_size}` row per stored packet in the
/// range, oldest first, as NetWatch returned them (a client counting rows counts
/// packets), up to 200,000 rows. Past that bound the newest 200,000 are listed, and
/// whenever rows are fewer than the packets the rollups counted (past the bound, or
/// because `network.packets.max_per_second` stored only a sample of a busy second) the
/// `X-NetSnoop-Incomplete` header says so; `X-NetSnoop-Packets-Counted` always gives the
/// count. With `bucket`, `{timestamp, packets, bytes}` per bucket from the rollups,
/// counting every packet. With `?host=`, only those hosts' packets (raw) or traffic
/// (buckets); without, every host's.
#[utoipa::path(get, path = "/stats/traffic-over-time", tag = "netwatch", params(TrafficQuery, Shape, HostsDoc),
    responses((status = 200, body = Vec<TrafficPoint>, headers(
        ("x-netsnoop-packets-counted" = u64, description = "raw form: packets the rollups counted in the range"),
        ("x-netsnoop-incomplete" = String, description = "raw form, only when rows are fewer than the packets counted: why, and what to ask instead"),
    )), (status = 422, body = crate::error::ErrorBody)))]
pub async fn traffic_over_time(
    State(state): State<AppState>,
    Query(q): Query<TrafficQuery>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<impl IntoResponse> {
    shape.extended()?;
    let tz = state.config.timezone.clone();
    let mut w = Range {
        since: q.since,
        until: q.until,
    }
    .resolve(&tz)?;
    if w.since.is_none() {
        let end = w.until.unwrap_or_else(Ts::now);
        w.since = Some(Ts::from_secs(end.secs() - TRAFFIC_DEFAULT_WINDOW_SECS));
    }
    let bucket = q.bucket.as_deref().map(parse_bucket).transpose()?;
    if let (Some(b), Some(since)) = (bucket, w.since) {
        let until = w.until.unwrap_or_else(Ts::now);
        if (until.secs() - since.secs()) / i64::from(b) > MAX_BUCKETS {
            return Err(ApiError::InvalidField(format!(
                "bucket={b}s over this range makes more than {MAX_BUCKETS} buckets: use a wider bucket or a shorter range"
            )));
        }
    }
    let range = time_range(w);
    let (series, counted) = state
        .query(move |store| {
            let series = store.traffic_over_time(range, &hosts, bucket)?;
            // The rollups count every packet, stored or not; minutes are cheap to sum.
            let counted = match &series {
                TrafficSeries::Packets(_) => {
                    match store.traffic_over_time(range, &hosts, Some(60))? {
                        TrafficSeries::Buckets(bs) => {
                            Some(bs.iter().map(|b| b.packets).sum::<u64>())
                        }
                        TrafficSeries::Packets(_) => None,
                    }
                }
                TrafficSeries::Buckets(_) => None,
            };
            Ok((series, counted))
        })
        .await?;
    let mut headers = HeaderMap::new();
    if let (Some(counted), TrafficSeries::Packets(ps)) = (counted, &series) {
        headers.insert(COUNTED_HEADER, HeaderValue::from(counted));
        let rows = ps.len() as u64;
        let why = if rows >= u64::from(MAX_RAW_POINTS) && counted > rows {
            Some(format!(
                "the newest {MAX_RAW_POINTS} of {counted} packets are listed (the raw form's bound); ask with ?bucket=30s for counts of every packet"
            ))
        } else if counted > rows {
            Some(format!(
                "{rows} of {counted} packets are listed: busy seconds are stored as a sample (network.packets.max_per_second); ask with ?bucket=30s for counts of every packet"
            ))
        } else {
            None
        };
        if let Some(why) = why.and_then(|w| HeaderValue::from_str(&w).ok()) {
            headers.insert(INCOMPLETE_HEADER, why);
        }
    }
    Ok((
        headers,
        Json(match series {
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
                .collect::<Vec<_>>(),
        }),
    ))
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
///
/// NetWatch's five keys; `extended=true` adds `src_port` and `dst_port`, null when the
/// packet has none (ICMP, ARP, or POSTed without ports).
#[utoipa::path(get, path = "/packets/recent", tag = "netwatch", params(Limit, Shape, HostsDoc),
    responses((status = 200, body = Vec<PacketRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn recent_packets(
    State(state): State<AppState>,
    Query(q): Query<Limit>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<PacketRow>>> {
    let extended = shape.extended()?;
    let limit = q.resolve(20, 1000)? as u32;
    let tz = state.config.timezone.clone();
    let packets = state
        .query(move |store| store.recent_packets(limit, &hosts))
        .await?;
    Ok(Json(
        packets
            .iter()
            .map(|p| PacketRow::new(p, &tz, extended))
            .collect(),
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
