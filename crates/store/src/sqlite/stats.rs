//! NetWatch's traffic statistics, read from the rollup tiers (see `tiers`) so a range
//! costs rows per hour, not per second, and raw traffic points from the packets.
//!
//! Every query takes a [`HostFilter`], resolved first to host keys: each span is then
//! read as one primary-key range per host. Counts are summed over the hosts; a distinct
//! count is the number of distinct addresses among the rows read, or the largest
//! per-second count of any one host if that is larger (the same lower bound a single
//! host gives: two hosts' seconds may share addresses, so theirs cannot be added).

use super::hosts::{host_clause, keys};
use super::query::u64_of;
use super::read::collect;
use super::tiers::{self, Spans};
use crate::model::{
    PacketPoint, ProtocolCount, Summary, Talker, TalkerOrder, TimeRange, TrafficBucket,
    TrafficSeries,
};
use crate::store::{MAX_RAW_POINTS, clamp_limit};
use crate::{Result, StoreError};
use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{HostFilter, Ts};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use rustc_hash::FxHashMap;

/// The range's seconds split over every tier.
fn spans(range: TimeRange) -> Spans {
    let (since, until) = range.seconds();
    tiers::split(since, until, tiers::TIERS.len() - 1)
}

/// The span parameters, the host keys, then `extra`.
fn args(spans: &Spans, hosts: &[i64], extra: &[i64]) -> Vec<Value> {
    let mut v: Vec<Value> = tiers::params(spans).map(Value::Integer).to_vec();
    v.push(Value::Text(tiers::host_keys_json(hosts)));
    v.extend(extra.iter().copied().map(Value::Integer));
    v
}

pub(super) fn summary(conn: &Connection, range: TimeRange, f: &HostFilter) -> Result<Summary> {
    let hosts = keys(conn, f)?;
    if range == TimeRange::ALL {
        return summary_all(conn, &hosts);
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
            s.query_row(params_from_iter(args(&spans, &hosts, &[])), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
        })
        .map_err(StoreError::sql(doing))?;
    // An address in several buckets' (or hosts') rows is one address.
    let sources = per_host(conn, "traffic_src", &spans, &hosts, doing)?.len() as i64;
    let destinations = per_host(conn, "traffic_dst", &spans, &hosts, doing)?.len() as i64;
    Ok(Summary {
        total_packets: u64_of(packets),
        unique_sources: u64_of(sources.max(max_src)),
        unique_destinations: u64_of(destinations.max(max_dst)),
        total_bytes: u64_of(bytes),
    })
}

/// All time, from the running totals (migrations 6 and 10): a sum over the hosts' hour
/// rows, and address counts and top lists read off the per-host totals and their
/// indexes. The same figures the hour tier gives a range without bounds; for one host
/// with traffic (a store without agents), at a cost that does not grow with the number
/// of addresses.
fn summary_all(conn: &Connection, hosts: &[i64]) -> Result<Summary> {
    let doing = "computing the all-time traffic summary";
    let json = tiers::host_keys_json(hosts);
    let (packets, bytes, max_src, max_dst): (i64, i64, i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(packets), 0), coalesce(sum(bytes), 0),
                    coalesce(max(unique_src), 0), coalesce(max(unique_dst), 0)
             FROM traffic_seconds_1h WHERE host IN (SELECT value FROM json_each(?1))",
        )
        .and_then(|mut s| {
            s.query_row([&json], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
        })
        .map_err(StoreError::sql(doing))?;
    let sources = addresses(conn, "src", hosts, doing)?;
    let destinations = addresses(conn, "dst", hosts, doing)?;
    Ok(Summary {
        total_packets: u64_of(packets),
        total_bytes: u64_of(bytes),
        unique_sources: u64_of(sources.max(max_src)),
        unique_destinations: u64_of(destinations.max(max_dst)),
    })
}

/// The hosts among `hosts` holding all-time totals of `family` (`src` or `dst`), with
/// their address counts.
fn with_totals(
    conn: &Connection,
    family: &str,
    hosts: &[i64],
    doing: &'static str,
) -> Result<Vec<(i64, i64)>> {
    collect(
        conn,
        "SELECT host, hosts FROM traffic_host_counts
         WHERE family = ?1 AND hosts > 0 AND host IN (SELECT value FROM json_each(?2))",
        rusqlite::params![family, tiers::host_keys_json(hosts)],
        doing,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Distinct addresses in the all-time totals of `family` over `hosts`: one host's count
/// is kept by triggers; across hosts the addresses they share count once.
fn addresses(conn: &Connection, family: &str, hosts: &[i64], doing: &'static str) -> Result<i64> {
    let counted = with_totals(conn, family, hosts, doing)?;
    if counted.len() <= 1 {
        return Ok(counted.first().map_or(0, |(_, n)| *n));
    }
    let keys: Vec<i64> = counted.iter().map(|(k, _)| *k).collect();
    // Family is `src` or `dst`, a constant of this crate.
    conn.prepare_cached(&format!(
        "SELECT count(DISTINCT ip) FROM traffic_{family}_total
         WHERE host IN (SELECT value FROM json_each(?1))"
    ))
    .and_then(|mut s| s.query_row([tiers::host_keys_json(&keys)], |r| r.get(0)))
    .map_err(StoreError::sql(doing))
}

fn top_talkers_all(
    conn: &Connection,
    hosts: &[i64],
    limit: u32,
    by: TalkerOrder,
) -> Result<Vec<Talker>> {
    let doing = "listing all-time top talkers";
    let counted = with_totals(conn, "src", hosts, doing)?;
    let order = match by {
        TalkerOrder::Packets => "packets DESC, bytes DESC, ip",
        TalkerOrder::Bytes => "bytes DESC, packets DESC, ip",
    };
    let talker = |r: &rusqlite::Row<'_>| {
        Ok(Talker {
            src_ip: r.get(0)?,
            packets: u64_of(r.get(1)?),
            bytes: u64_of(r.get(2)?),
        })
    };
    let limit = clamp_limit(limit);
    match counted.as_slice() {
        [] => Ok(Vec::new()),
        // One host: by packets (NetWatch's order) walks the totals' index; by bytes
        // scans the host's totals with a bounded sort. Ties by address, as the ranged
        // query sorts.
        [(host, _)] => collect(
            conn,
            &format!(
                "SELECT ip, packets, bytes FROM traffic_src_total WHERE host = ?1
                 ORDER BY {order} LIMIT ?2"
            ),
            [*host, limit],
            doing,
            talker,
        ),
        // Several: an address's totals summed over the hosts.
        several => {
            let keys: Vec<i64> = several.iter().map(|(k, _)| *k).collect();
            collect(
                conn,
                &format!(
                    "SELECT ip, sum(packets) AS packets, sum(bytes) AS bytes
                     FROM traffic_src_total WHERE host IN (SELECT value FROM json_each(?1))
                     GROUP BY ip ORDER BY {order} LIMIT ?2"
                ),
                rusqlite::params![tiers::host_keys_json(&keys), limit],
                doing,
                talker,
            )
        }
    }
}

pub(super) fn top_talkers(
    conn: &Connection,
    range: TimeRange,
    f: &HostFilter,
    limit: u32,
    by: TalkerOrder,
) -> Result<Vec<Talker>> {
    let keys = keys(conn, f)?;
    if range == TimeRange::ALL {
        return top_talkers_all(conn, &keys, limit, by);
    }
    let hosts = per_host(
        conn,
        "traffic_src",
        &spans(range),
        &keys,
        "listing top talkers",
    )?;
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

/// Packets and bytes per address (`family` is `traffic_src` or `traffic_dst`) over the
/// spans, summed over the hosts. Summed in a hash map rather than by `GROUP BY`, which
/// sorts every row: over the ~10k address rows of a range that sort was three quarters
/// of the query.
fn per_host(
    conn: &Connection,
    family: &str,
    spans: &Spans,
    hosts: &[i64],
    doing: &'static str,
) -> Result<FxHashMap<String, Counts>> {
    let sql = tiers::union_all(family, "ip, packets, bytes");
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sql(doing))?;
    let mut rows = stmt
        .query(params_from_iter(args(spans, hosts, &[])))
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
    f: &HostFilter,
) -> Result<Vec<ProtocolCount>> {
    let hosts = keys(conn, f)?;
    let spans = spans(range);
    let sql = format!(
        "SELECT protocol, sum(packets) AS c, sum(bytes) AS b FROM ({})
         GROUP BY protocol ORDER BY c DESC, protocol",
        tiers::union_all("traffic_protocol", "protocol, packets, bytes")
    );
    collect(
        conn,
        &sql,
        params_from_iter(args(&spans, &hosts, &[])),
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
    f: &HostFilter,
    bucket_secs: Option<u32>,
) -> Result<TrafficSeries> {
    let Some(width) = bucket_secs else {
        return raw_points(conn, range, f).map(TrafficSeries::Packets);
    };
    let hosts = keys(conn, f)?;
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
        params_from_iter(args(&spans, &hosts, &[width])),
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
/// Only the hosts `f` names (all: no condition, the plan of a single-host store).
fn raw_points(conn: &Connection, range: TimeRange, f: &HostFilter) -> Result<Vec<PacketPoint>> {
    let (since, until) = range.micros();
    let mut args = vec![Value::Integer(since), Value::Integer(until)];
    let hosts = host_clause(f, &mut args);
    args.push(Value::Integer(i64::from(MAX_RAW_POINTS)));
    collect(
        conn,
        &format!(
            "SELECT time, wire_len FROM (
                 SELECT time, seq, wire_len FROM packets WHERE time >= ? AND time < ?{hosts}
                 ORDER BY time DESC, seq DESC LIMIT ?)
             ORDER BY time, seq"
        ),
        params_from_iter(args),
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
