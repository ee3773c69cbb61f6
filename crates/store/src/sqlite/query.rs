//! Read queries for the HTTP API, each served from a rollup table or an index.

use super::read::{self, collect};
use super::write::severity_rank;
use crate::model::{
    AlertFilter, FlowOrder, LossTotal, PacketPoint, ProcessSampleRow, ProtocolCount, StoreStats,
    Summary, Talker, TalkerOrder, TimeRange, TrafficBucket, TrafficSeries,
};
use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::{
    Alert, AlertState, FlowRecord, Loss, PacketMeta, ProcessEvent, SystemSample, Ts,
};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

fn u64_of(v: i64) -> u64 {
    v.max(0) as u64
}

pub(super) fn summary(conn: &Connection, range: TimeRange) -> Result<Summary> {
    let doing = "computing the traffic summary";
    let (since, until) = range.seconds();
    let (packets, bytes, max_src, max_dst): (i64, i64, i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(packets), 0), coalesce(sum(bytes), 0),
                    coalesce(max(unique_src), 0), coalesce(max(unique_dst), 0)
             FROM traffic_seconds WHERE second >= ?1 AND second < ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![since, until], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
        })
        .map_err(StoreError::sql(doing))?;
    let distinct = |table: &str| -> Result<i64> {
        conn.prepare_cached(&format!(
            "SELECT count(DISTINCT ip) FROM {table} WHERE second >= ?1 AND second < ?2"
        ))
        .and_then(|mut s| s.query_row(params![since, until], |r| r.get(0)))
        .map_err(StoreError::sql(doing))
    };
    Ok(Summary {
        total_packets: u64_of(packets),
        unique_sources: u64_of(distinct("traffic_src")?.max(max_src)),
        unique_destinations: u64_of(distinct("traffic_dst")?.max(max_dst)),
        total_bytes: u64_of(bytes),
    })
}

pub(super) fn top_talkers(
    conn: &Connection,
    range: TimeRange,
    limit: u32,
    by: TalkerOrder,
) -> Result<Vec<Talker>> {
    let (since, until) = range.seconds();
    let order = match by {
        TalkerOrder::Packets => "p DESC, b DESC, ip",
        TalkerOrder::Bytes => "b DESC, p DESC, ip",
    };
    let sql = format!(
        "SELECT ip, sum(packets) AS p, sum(bytes) AS b FROM traffic_src
         WHERE second >= ?1 AND second < ?2 GROUP BY ip ORDER BY {order} LIMIT ?3"
    );
    collect(
        conn,
        &sql,
        params![since, until, clamp_limit(limit)],
        "listing top talkers",
        |r| {
            Ok(Talker {
                src_ip: r.get(0)?,
                packets: u64_of(r.get(1)?),
                bytes: u64_of(r.get(2)?),
            })
        },
    )
}

pub(super) fn protocol_distribution(
    conn: &Connection,
    range: TimeRange,
) -> Result<Vec<ProtocolCount>> {
    let (since, until) = range.seconds();
    collect(
        conn,
        "SELECT protocol, sum(packets) AS c, sum(bytes) AS b FROM traffic_protocol
         WHERE second >= ?1 AND second < ?2 GROUP BY protocol ORDER BY c DESC, protocol",
        params![since, until],
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
        let (since, until) = range.micros();
        let mut points = collect(
            conn,
            "SELECT time, wire_len FROM packets WHERE time >= ?1 AND time < ?2
             ORDER BY time DESC, seq DESC LIMIT ?3",
            params![since, until, clamp_limit(u32::MAX)],
            "listing traffic over time",
            |r| {
                Ok(PacketPoint {
                    timestamp: Ts(r.get(0)?),
                    packet_size: r.get(1)?,
                })
            },
        )?;
        points.reverse();
        return Ok(TrafficSeries::Packets(points));
    };
    let width = i64::from(width.max(1));
    let (since, until) = range.seconds();
    // Floor division that stays right for seconds before the epoch.
    let buckets = collect(
        conn,
        "SELECT second - (((second % ?3) + ?3) % ?3) AS bucket, sum(packets), sum(bytes)
         FROM traffic_seconds WHERE second >= ?1 AND second < ?2
         GROUP BY bucket ORDER BY bucket",
        params![since, until, width],
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

pub(super) fn recent_packets(conn: &Connection, limit: u32) -> Result<Vec<PacketMeta>> {
    let sql = format!(
        "SELECT {} FROM packets ORDER BY time DESC, seq DESC LIMIT ?1",
        read::PACKET_COLUMNS
    );
    collect(
        conn,
        &sql,
        [clamp_limit(limit)],
        "listing recent packets",
        read::packet,
    )
}

pub(super) fn alerts(conn: &Connection, f: &AlertFilter) -> Result<Vec<Alert>> {
    // Only fixed fragments are appended; every value travels as a parameter.
    let mut sql = format!("SELECT {} FROM alerts WHERE 1 = 1", read::ALERT_COLUMNS);
    let mut args: Vec<Value> = Vec::new();
    if let Some(kind) = &f.kind {
        sql.push_str(" AND kind = ?");
        args.push(Value::Text(kind.clone()));
    }
    if let Some(sev) = f.min_severity {
        sql.push_str(" AND severity >= ?");
        args.push(Value::Integer(severity_rank(sev)));
    }
    if let Some(state) = f.state {
        sql.push_str(" AND state = ?");
        let state = match state {
            AlertState::Active => "active",
            AlertState::Resolved => "resolved",
        };
        args.push(Value::Text(state.to_string()));
    }
    if let Some(since) = f.since {
        sql.push_str(" AND last_seen >= ?");
        args.push(Value::Integer(since.micros()));
    }
    if let Some(until) = f.until {
        sql.push_str(" AND first_seen < ?");
        args.push(Value::Integer(until.micros()));
    }
    sql.push_str(" ORDER BY last_seen DESC, id LIMIT ? OFFSET ?");
    args.push(Value::Integer(clamp_limit(f.limit)));
    args.push(Value::Integer(i64::from(f.offset)));
    collect(
        conn,
        &sql,
        params_from_iter(args),
        "listing alerts",
        read::alert,
    )
}

pub(super) fn active_alerts(conn: &Connection, limit: u32) -> Result<Vec<Alert>> {
    let sql = format!(
        "SELECT {} FROM alerts WHERE state = 'active'
         ORDER BY severity DESC, last_seen DESC, id LIMIT ?1",
        read::ALERT_COLUMNS
    );
    collect(
        conn,
        &sql,
        [clamp_limit(limit)],
        "listing active alerts",
        read::alert,
    )
}

pub(super) fn process_events(
    conn: &Connection,
    limit: u32,
    since: Option<Ts>,
) -> Result<Vec<ProcessEvent>> {
    let sql = format!(
        "SELECT {} FROM process_events WHERE time >= ?1 ORDER BY time DESC, id DESC LIMIT ?2",
        read::PROCESS_EVENT_COLUMNS
    );
    let since = since.map_or(i64::MIN, Ts::micros);
    collect(
        conn,
        &sql,
        params![since, clamp_limit(limit)],
        "listing process events",
        read::process_event,
    )
}

pub(super) fn flows(conn: &Connection, limit: u32, order: FlowOrder) -> Result<Vec<FlowRecord>> {
    let order = match order {
        FlowOrder::LastSeen => "last_seen DESC, id DESC",
        FlowOrder::Bytes => "orig_bytes + resp_bytes DESC, id DESC",
    };
    let sql = format!(
        "SELECT {} FROM flows ORDER BY {order} LIMIT ?1",
        read::FLOW_COLUMNS
    );
    collect(
        conn,
        &sql,
        [clamp_limit(limit)],
        "listing flows",
        read::flow,
    )
}

pub(super) fn system_samples(
    conn: &Connection,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<SystemSample>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {} FROM system_samples WHERE time >= ?1 AND time < ?2
         ORDER BY time DESC, id DESC LIMIT ?3",
        read::SYSTEM_SAMPLE_COLUMNS
    );
    let mut rows = collect(
        conn,
        &sql,
        params![since, until, clamp_limit(limit)],
        "listing system samples",
        read::system_sample,
    )?;
    rows.reverse();
    Ok(rows)
}

pub(super) fn process_samples(
    conn: &Connection,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<ProcessSampleRow>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {} FROM process_samples WHERE time >= ?1 AND time < ?2
         ORDER BY time DESC, cpu_pct DESC, id LIMIT ?3",
        read::PROCESS_SAMPLE_COLUMNS
    );
    collect(
        conn,
        &sql,
        params![since, until, clamp_limit(limit)],
        "listing process samples",
        |r| {
            let (time, sample) = read::process_sample(r)?;
            Ok(ProcessSampleRow { time, sample })
        },
    )
}

pub(super) fn losses(conn: &Connection, range: TimeRange, limit: u32) -> Result<Vec<Loss>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {} FROM losses WHERE time >= ?1 AND time < ?2 ORDER BY time DESC, id DESC LIMIT ?3",
        read::LOSS_COLUMNS
    );
    collect(
        conn,
        &sql,
        params![since, until, clamp_limit(limit)],
        "listing losses",
        read::loss,
    )
}

pub(super) fn loss_totals(conn: &Connection, range: TimeRange) -> Result<Vec<LossTotal>> {
    let (since, until) = range.micros();
    collect(
        conn,
        "SELECT source, sum(count), max(time) FROM losses WHERE time >= ?1 AND time < ?2
         GROUP BY source ORDER BY source",
        params![since, until],
        "summing losses",
        |r| {
            Ok(LossTotal {
                source: r.get(0)?,
                count: u64_of(r.get(1)?),
                last: Ts(r.get(2)?),
            })
        },
    )
}

/// Tables counted by `stats`, in schema order.
pub(super) const TABLES: &[&str] = &[
    "alerts",
    "process_events",
    "system_samples",
    "process_samples",
    "packets",
    "flows",
    "traffic_seconds",
    "traffic_protocol",
    "traffic_src",
    "traffic_dst",
    "losses",
];

/// Bytes held by pages in use, and the whole file's size.
pub(super) fn sizes(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let pragma = |name: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
    };
    let page = pragma("page_size")?;
    let pages = pragma("page_count")?;
    let free = pragma("freelist_count")?;
    Ok((u64_of((pages - free) * page), u64_of(pages * page)))
}

pub(super) fn stats(conn: &Connection) -> Result<StoreStats> {
    let doing = "counting rows";
    let mut out = StoreStats::default();
    for table in TABLES {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(StoreError::sql(doing))?;
        out.rows.insert((*table).to_string(), u64_of(n));
    }
    (out.used_bytes, out.file_bytes) = sizes(conn).map_err(StoreError::sql(doing))?;
    Ok(out)
}
