//! Read queries for the HTTP API, each served from an index (traffic statistics, from
//! the rollup tiers, are in `stats`).

use super::hosts::host_clause;
use super::read::{self, collect};
use super::tiers::TIERS;
use super::write::severity_rank;
use crate::model::{AlertFilter, FlowOrder, LossTotal, ProcessSampleRow, StoreStats, TimeRange};
use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::{
    Alert, AlertState, FlowRecord, HostFilter, Loss, PacketMeta, ProcessEvent, SystemSample, Ts,
};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

/// SQLite's integers as counts: never negative.
pub(super) fn u64_of(v: i64) -> u64 {
    v.max(0) as u64
}

pub(super) fn recent_packets(
    conn: &Connection,
    limit: u32,
    hosts: &HostFilter,
) -> Result<Vec<PacketMeta>> {
    let mut args = Vec::new();
    let sql = format!(
        "SELECT {} FROM packets WHERE 1 = 1{} ORDER BY time DESC, seq DESC LIMIT ?",
        read::PACKET_COLUMNS,
        host_clause(hosts, &mut args),
    );
    args.push(Value::Integer(clamp_limit(limit)));
    collect(
        conn,
        &sql,
        params_from_iter(args),
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
    sql.push_str(&host_clause(&f.hosts, &mut args));
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

pub(super) fn flows(
    conn: &Connection,
    limit: u32,
    order: FlowOrder,
    hosts: &HostFilter,
) -> Result<Vec<FlowRecord>> {
    let order = match order {
        FlowOrder::LastSeen => "last_seen DESC, id DESC",
        FlowOrder::Bytes => "orig_bytes + resp_bytes DESC, id DESC",
    };
    let mut args = Vec::new();
    let sql = format!(
        "SELECT {} FROM flows WHERE 1 = 1{} ORDER BY {order} LIMIT ?",
        read::FLOW_COLUMNS,
        host_clause(hosts, &mut args),
    );
    args.push(Value::Integer(clamp_limit(limit)));
    collect(
        conn,
        &sql,
        params_from_iter(args),
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
fn tables() -> Vec<String> {
    let fixed = [
        "alerts",
        "process_events",
        "system_samples",
        "process_samples",
        "packets",
        "flows",
    ];
    let mut all: Vec<String> = fixed.iter().map(|t| t.to_string()).collect();
    all.extend(TIERS.iter().flat_map(|t| t.tables()));
    all.push("losses".to_string());
    all
}

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
    for table in tables() {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(StoreError::sql(doing))?;
        out.rows.insert(table, u64_of(n));
    }
    (out.used_bytes, out.file_bytes) = sizes(conn).map_err(StoreError::sql(doing))?;
    Ok(out)
}
