//! NetWatch's traffic statistics, read from the rollup tiers (see `tiers`) so a range
//! costs rows per hour, not per second, and raw traffic points from the packets.

use super::query::u64_of;
use super::read::collect;
use super::tiers::{self, Spans};
use crate::model::{
    PacketPoint, ProtocolCount, Summary, Talker, TalkerOrder, TimeRange, TrafficBucket,
    TrafficSeries,
};
use crate::store::{MAX_RAW_POINTS, clamp_limit};
use crate::{Result, StoreError};
use netsnoop_core::Ts;
use netsnoop_core::net::traffic::Counts;
use rusqlite::{Connection, params, params_from_iter};
use rustc_hash::FxHashMap;

/// The range's seconds split over every tier.
fn spans(range: TimeRange) -> Spans {
    let (since, until) = range.seconds();
    tiers::split(since, until, tiers::TIERS.len() - 1)
}

/// The span parameters followed by `extra`.
fn args(spans: &Spans, extra: &[i64]) -> Vec<i64> {
    let mut v = tiers::params(spans).to_vec();
    v.extend_from_slice(extra);
    v
}

pub(super) fn summary(conn: &Connection, range: TimeRange) -> Result<Summary> {
    if range == TimeRange::ALL {
        return summary_all(conn);
    }
    let doing = "computing the traffic summary";
    let spans = spans(range);
    let sql = format!(
        "SELECT coalesce(sum(packets), 0), coalesce(sum(bytes), 0),
                coalesce(max(unique_src), 0), coalesce(max(unique_dst), 0)
         FROM ({})",
        tiers::union_all("traffic_seconds", "packets, bytes, unique_src, unique_dst")
    );
    let (packets, bytes, max_src, max_dst): (i64, i64, i64, i64) = conn
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(params_from_iter(args(&spans, &[])), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
        })
        .map_err(StoreError::sql(doing))?;
    // A host in several buckets' rows is one host.
    let sources = per_host(conn, "traffic_src", &spans, doing)?.len() as i64;
    let destinations = per_host(conn, "traffic_dst", &spans, doing)?.len() as i64;
    Ok(Summary {
        total_packets: u64_of(packets),
        unique_sources: u64_of(sources.max(max_src)),
        unique_destinations: u64_of(destinations.max(max_dst)),
        total_bytes: u64_of(bytes),
    })
}

/// All time, from the running totals (migration 6): a sum over the hour rows, and host
/// counts and top lists read off the per-host totals and their indexes. The same
/// figures the hour tier gives a range without bounds, at a cost that does not grow
/// with the number of hosts.
fn summary_all(conn: &Connection) -> Result<Summary> {
    let doing = "computing the all-time traffic summary";
    conn.prepare_cached(
        "SELECT coalesce(sum(packets), 0), coalesce(sum(bytes), 0),
                max(coalesce(max(unique_src), 0),
                    (SELECT hosts FROM traffic_host_counts WHERE family = 'src')),
                max(coalesce(max(unique_dst), 0),
                    (SELECT hosts FROM traffic_host_counts WHERE family = 'dst'))
         FROM traffic_seconds_1h",
    )
    .and_then(|mut s| {
        s.query_row([], |r| {
            Ok(Summary {
                total_packets: u64_of(r.get(0)?),
                total_bytes: u64_of(r.get(1)?),
                unique_sources: u64_of(r.get(2)?),
                unique_destinations: u64_of(r.get(3)?),
            })
        })
    })
    .map_err(StoreError::sql(doing))
}

fn top_talkers_all(conn: &Connection, limit: u32, by: TalkerOrder) -> Result<Vec<Talker>> {
    // By packets (NetWatch's order) walks the totals' index; by bytes scans the totals
    // (one row per host) with a bounded sort. Ties by address, as the ranged query sorts.
    let sql = match by {
        TalkerOrder::Packets => {
            "SELECT ip, packets, bytes FROM traffic_src_total
             ORDER BY packets DESC, bytes DESC, ip LIMIT ?1"
        }
        TalkerOrder::Bytes => {
            "SELECT ip, packets, bytes FROM traffic_src_total
             ORDER BY bytes DESC, packets DESC, ip LIMIT ?1"
        }
    };
    collect(
        conn,
        sql,
        [clamp_limit(limit)],
        "listing all-time top talkers",
        |r| {
            Ok(Talker {
                src_ip: r.get(0)?,
                packets: u64_of(r.get(1)?),
                bytes: u64_of(r.get(2)?),
            })
        },
    )
}

pub(super) fn top_talkers(
    conn: &Connection,
    range: TimeRange,
    limit: u32,
    by: TalkerOrder,
) -> Result<Vec<Talker>> {
    if range == TimeRange::ALL {
        return top_talkers_all(conn, limit, by);
    }
    let hosts = per_host(conn, "traffic_src", &spans(range), "listing top talkers")?;
    let mut talkers: Vec<Talker> = hosts
        .into_iter()
        .map(|(src_ip, c)| Talker {
            src_ip,
            packets: c.packets,
            bytes: c.bytes,
        })
        .collect();
    let key = |t: &Talker| match by {
        TalkerOrder::Packets => (t.packets, t.bytes),
        TalkerOrder::Bytes => (t.bytes, t.packets),
    };
    talkers.sort_unstable_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.src_ip.cmp(&b.src_ip)));
    talkers.truncate(clamp_limit(limit) as usize);
    Ok(talkers)
}

/// Packets and bytes per host (`family` is `traffic_src` or `traffic_dst`) over the
/// spans. Summed in a hash map rather than by `GROUP BY`, which sorts every row: over
/// the ~10k host rows of a range that sort was three quarters of the query.
fn per_host(
    conn: &Connection,
    family: &str,
    spans: &Spans,
    doing: &'static str,
) -> Result<FxHashMap<String, Counts>> {
    let sql = tiers::union_all(family, "ip, packets, bytes");
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sql(doing))?;
    let mut rows = stmt
        .query(params_from_iter(args(spans, &[])))
        .map_err(StoreError::sql(doing))?;
    let mut hosts: FxHashMap<String, Counts> = FxHashMap::default();
    while let Some(row) = rows.next().map_err(StoreError::sql(doing))? {
        let get = |i| row.get::<_, i64>(i).map(u64_of);
        let add = Counts {
            packets: get(1).map_err(StoreError::sql(doing))?,
            bytes: get(2).map_err(StoreError::sql(doing))?,
        };
        let ip = row
            .get_ref(0)
            .and_then(|v| Ok(v.as_str()?))
            .map_err(StoreError::sql(doing))?;
        match hosts.get_mut(ip) {
            Some(c) => c.merge(add),
            None => {
                hosts.insert(ip.to_string(), add);
            }
        }
    }
    Ok(hosts)
}

pub(super) fn protocol_distribution(
    conn: &Connection,
    range: TimeRange,
) -> Result<Vec<ProtocolCount>> {
    let spans = spans(range);
    let sql = format!(
        "SELECT protocol, sum(packets) AS c, sum(bytes) AS b FROM ({})
         GROUP BY protocol ORDER BY c DESC, protocol",
        tiers::union_all("traffic_protocol", "protocol, packets, bytes")
    );
    collect(
        conn,
        &sql,
        params_from_iter(args(&spans, &[])),
        "computing the protocol distribution",
        |r| {
            Ok(ProtocolCount {
                protocol: r.get(0)?,
                count: u64_of(r.get(1)?),
                bytes: u64_of(r.get(2)?),
            })
        },
    )
}

pub(super) fn traffic_over_time(
    conn: &Connection,
    range: TimeRange,
    bucket_secs: Option<u32>,
) -> Result<TrafficSeries> {
    let Some(width) = bucket_secs else {
        return raw_points(conn, range).map(TrafficSeries::Packets);
    };
    let width = i64::from(width.max(1));
    let (since, until) = range.seconds();
    // Only tiers whose buckets nest in the asked width can be summed into it.
    let spans = tiers::split(since, until, tiers::coarsest_dividing(width));
    // Floor division that stays right for seconds before the epoch.
    let sql = format!(
        "SELECT second - (((second % ?{w}) + ?{w}) % ?{w}) AS bucket, sum(packets), sum(bytes)
         FROM ({}) GROUP BY bucket ORDER BY bucket",
        tiers::union_all("traffic_seconds", "second, packets, bytes"),
        w = tiers::PARAMS + 1
    );
    let buckets = collect(
        conn,
        &sql,
        params_from_iter(args(&spans, &[width])),
        "bucketing traffic over time",
        |r| {
            Ok(TrafficBucket {
                timestamp: Ts::from_secs(r.get(0)?),
                packets: u64_of(r.get(1)?),
                bytes: u64_of(r.get(2)?),
            })
        },
    )?;
    Ok(TrafficSeries::Buckets(buckets))
}

/// Every stored packet in the range, oldest first, when there are at most
/// [`MAX_RAW_POINTS`]; past that the newest [`MAX_RAW_POINTS`] of them (the live end of
/// a chart stays exact). Never a sample: a client that counts rows counts packets.
fn raw_points(conn: &Connection, range: TimeRange) -> Result<Vec<PacketPoint>> {
    let (since, until) = range.micros();
    collect(
        conn,
        "SELECT time, wire_len FROM (
             SELECT time, seq, wire_len FROM packets WHERE time >= ?1 AND time < ?2
             ORDER BY time DESC, seq DESC LIMIT ?3)
         ORDER BY time, seq",
        params![since, until, i64::from(MAX_RAW_POINTS)],
        "listing traffic over time",
        |r| Ok(point(r)?),
    )
}

fn point(r: &rusqlite::Row<'_>) -> rusqlite::Result<PacketPoint> {
    Ok(PacketPoint {
        timestamp: Ts(r.get(0)?),
        packet_size: r.get(1)?,
    })
}
