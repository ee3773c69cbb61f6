//! NetWatch's traffic statistics on PostgreSQL: the same tier split as SQLite (shared
//! `sqlite::tiers::split`), read as one `UNION ALL`, and raw points from the packets.
//! The hosts of a [`HostFilter`] are resolved to keys first and summed over as SQLite
//! does (see `sqlite::stats`), so both backends give the same answers.

use super::hosts::keys;
use super::query::{collect, host_clause};
use super::tiers_sql::union_all;
use crate::model::{
    PacketPoint, ProtocolCount, Summary, Talker, TalkerOrder, TimeRange, TrafficBucket,
    TrafficSeries,
};
use crate::sqlite::tiers::{self, Spans};
use crate::store::{MAX_RAW_POINTS, clamp_limit};
use crate::{Result, StoreError};
use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{HostFilter, Ts};
use postgres::Client;
use postgres::types::ToSql;
use rustc_hash::FxHashMap;

fn u64_of(v: i64) -> u64 {
    v.max(0) as u64
}

fn spans(range: TimeRange) -> Spans {
    let (since, until) = range.seconds();
    tiers::split(since, until, tiers::TIERS.len() - 1)
}

/// The parameters of [`union_all`]: the spans, the host keys, then `extra`.
struct Args {
    spans: Vec<i64>,
    hosts: Vec<i64>,
    extra: Vec<i64>,
}

fn args(spans: &Spans, hosts: &[i64], extra: &[i64]) -> Args {
    Args {
        spans: tiers::params(spans).to_vec(),
        hosts: hosts.to_vec(),
        extra: extra.to_vec(),
    }
}

fn refs(a: &Args) -> Vec<&(dyn ToSql + Sync)> {
    let mut v: Vec<&(dyn ToSql + Sync)> =
        a.spans.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
    v.push(&a.hosts);
    v.extend(a.extra.iter().map(|x| x as &(dyn ToSql + Sync)));
    v
}

pub(crate) fn summary(client: &mut Client, range: TimeRange, f: &HostFilter) -> Result<Summary> {
    let hosts = keys(client, f)?;
    if range == TimeRange::ALL {
        return summary_all(client, &hosts);
    }
    let doing = "computing the traffic summary";
    let spans = spans(range);
    let sql = format!(
        "SELECT coalesce(sum(packets), 0)::bigint, coalesce(sum(bytes), 0)::bigint,
                coalesce(max(unique_src), 0), coalesce(max(unique_dst), 0)
         FROM ({}) u",
        union_all("traffic_seconds", "packets, bytes, unique_src, unique_dst")
    );
    let a = args(&spans, &hosts, &[]);
    let row = client
        .query_one(&sql, &refs(&a))
        .map_err(StoreError::pg(doing))?;
    let (packets, bytes, max_src, max_dst): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let sources = per_host(client, "traffic_src", &spans, &hosts, doing)?.len() as i64;
    let destinations = per_host(client, "traffic_dst", &spans, &hosts, doing)?.len() as i64;
    Ok(Summary {
        total_packets: u64_of(packets),
        unique_sources: u64_of(sources.max(max_src)),
        unique_destinations: u64_of(destinations.max(max_dst)),
        total_bytes: u64_of(bytes),
    })
}

/// All time: the hour tier's sums and the per-host totals (kept by the write path and
/// retention), so the cost does not grow with history. An address several hosts saw
/// counts once.
fn summary_all(client: &mut Client, hosts: &[i64]) -> Result<Summary> {
    // One host's addresses are its rows; `count(DISTINCT)` only when it takes several.
    let distinct = if hosts.len() == 1 { "*" } else { "DISTINCT ip" };
    let row = client
        .query_one(
            &format!(
                "SELECT coalesce(sum(packets), 0)::bigint, coalesce(sum(bytes), 0)::bigint,
                        greatest(coalesce(max(unique_src), 0),
                                 (SELECT count({distinct}) FROM traffic_src_total
                                  WHERE host = ANY($1))),
                        greatest(coalesce(max(unique_dst), 0),
                                 (SELECT count({distinct}) FROM traffic_dst_total
                                  WHERE host = ANY($1)))
                 FROM traffic_seconds_1h WHERE host = ANY($1)"
            ),
            &[&hosts],
        )
        .map_err(StoreError::pg("computing the all-time traffic summary"))?;
    Ok(Summary {
        total_packets: u64_of(row.get(0)),
        total_bytes: u64_of(row.get(1)),
        unique_sources: u64_of(row.get(2)),
        unique_destinations: u64_of(row.get(3)),
    })
}

pub(crate) fn top_talkers(
    client: &mut Client,
    range: TimeRange,
    f: &HostFilter,
    limit: u32,
    by: TalkerOrder,
) -> Result<Vec<Talker>> {
    let keys = keys(client, f)?;
    if range == TimeRange::ALL {
        let order = match by {
            TalkerOrder::Packets => "packets DESC, bytes DESC, ip",
            TalkerOrder::Bytes => "bytes DESC, packets DESC, ip",
        };
        // One host walks its totals (by packets, the index: `host = ` a scalar, since an
        // array loses the index's order); several sum an address's totals over the hosts.
        let sql = if keys.len() == 1 {
            format!(
                "SELECT ip, packets, bytes FROM traffic_src_total WHERE host = $1
                 ORDER BY {order} LIMIT $2"
            )
        } else {
            format!(
                "SELECT ip, sum(packets)::bigint AS packets, sum(bytes)::bigint AS bytes
                 FROM traffic_src_total WHERE host = ANY($1)
                 GROUP BY ip ORDER BY {order} LIMIT $2"
            )
        };
        let limit = clamp_limit(limit);
        let one: &(dyn ToSql + Sync) = keys.first().unwrap_or(&0);
        let hosts: &(dyn ToSql + Sync) = if keys.len() == 1 { one } else { &keys };
        return collect(
            client,
            &sql,
            &[hosts, &limit],
            "listing all-time top talkers",
            |r| {
                Ok(Talker {
                    src_ip: r.get(0),
                    packets: u64_of(r.get(1)),
                    bytes: u64_of(r.get(2)),
                })
            },
        );
    }
    let hosts = per_host(
        client,
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

/// Packets and bytes per address over the spans and hosts, summed here (as in SQLite)
/// rather than by the server, so both backends share one definition.
fn per_host(
    client: &mut Client,
    family: &str,
    spans: &Spans,
    hosts: &[i64],
    doing: &'static str,
) -> Result<FxHashMap<String, Counts>> {
    let sql = union_all(family, "ip, packets, bytes");
    let a = args(spans, hosts, &[]);
    let rows = client
        .query(&sql, &refs(&a))
        .map_err(StoreError::pg(doing))?;
    let mut hosts: FxHashMap<String, Counts> = FxHashMap::default();
    for row in &rows {
        let add = Counts {
            packets: u64_of(row.get(1)),
            bytes: u64_of(row.get(2)),
        };
        let ip: &str = row.get(0);
        match hosts.get_mut(ip) {
            Some(c) => c.merge(add),
            None => {
                hosts.insert(ip.to_string(), add);
            }
        }
    }
    Ok(hosts)
}

pub(crate) fn protocol_distribution(
    client: &mut Client,
    range: TimeRange,
    f: &HostFilter,
) -> Result<Vec<ProtocolCount>> {
    let hosts = keys(client, f)?;
    let spans = spans(range);
    let sql = format!(
        "SELECT protocol, sum(packets)::bigint AS c, sum(bytes)::bigint AS b FROM ({}) u
         GROUP BY protocol ORDER BY c DESC, protocol",
        union_all("traffic_protocol", "protocol, packets, bytes")
    );
    let a = args(&spans, &hosts, &[]);
    collect(
        client,
        &sql,
        &refs(&a),
        "computing the protocol distribution",
        |r| {
            Ok(ProtocolCount {
                protocol: r.get(0),
                count: u64_of(r.get(1)),
                bytes: u64_of(r.get(2)),
            })
        },
    )
}

pub(crate) fn traffic_over_time(
    client: &mut Client,
    range: TimeRange,
    f: &HostFilter,
    bucket_secs: Option<u32>,
) -> Result<TrafficSeries> {
    let Some(width) = bucket_secs else {
        return raw_points(client, range, f).map(TrafficSeries::Packets);
    };
    let hosts = keys(client, f)?;
    let width = i64::from(width.max(1));
    let (since, until) = range.seconds();
    let spans = tiers::split(since, until, tiers::coarsest_dividing(width));
    let w = tiers::PARAMS + 1;
    let sql = format!(
        "SELECT second - (((second % ${w}) + ${w}) % ${w}) AS bucket,
                sum(packets)::bigint, sum(bytes)::bigint
         FROM ({}) u GROUP BY bucket ORDER BY bucket",
        union_all("traffic_seconds", "second, packets, bytes"),
    );
    let a = args(&spans, &hosts, &[width]);
    let buckets = collect(
        client,
        &sql,
        &refs(&a),
        "bucketing traffic over time",
        |r| {
            Ok(TrafficBucket {
                timestamp: Ts::from_secs(r.get(0)),
                packets: u64_of(r.get(1)),
                bytes: u64_of(r.get(2)),
            })
        },
    )?;
    Ok(TrafficSeries::Buckets(buckets))
}

/// Every stored packet in the range, oldest first, up to [`MAX_RAW_POINTS`] (then the
/// newest ones), as SQLite answers; only the hosts `f` names.
fn raw_points(client: &mut Client, range: TimeRange, f: &HostFilter) -> Result<Vec<PacketPoint>> {
    let (since, until) = range.micros();
    let mut args: Vec<Box<dyn ToSql + Sync>> = vec![
        Box::new(since),
        Box::new(until),
        Box::new(i64::from(MAX_RAW_POINTS)),
    ];
    let hosts = host_clause(f, &mut args);
    collect(
        client,
        &format!(
            "SELECT time, wire_len FROM (
                 SELECT time, seq, wire_len FROM packets WHERE time >= $1 AND time < $2{hosts}
                 ORDER BY time DESC, seq DESC LIMIT $3) p
             ORDER BY time, seq"
        ),
        &super::query::refs(&args),
        "listing traffic over time",
        |r| {
            Ok(PacketPoint {
                timestamp: Ts(r.get(0)),
                packet_size: u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX),
            })
        },
    )
}
