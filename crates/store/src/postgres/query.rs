//! Read queries for the HTTP API on PostgreSQL, each served from an index or a
//! partition's key (traffic statistics are in `stats`).

use super::read;
use crate::model::{AlertFilter, FlowOrder, LossTotal, ProcessSampleRow, StoreStats, TimeRange};
use crate::sqlite::severity_rank;
use crate::sqlite::tiers::TIERS;
use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::{
    Alert, AlertState, FlowRecord, HostFilter, Loss, PacketMeta, ProcessEvent, SystemSample, Ts,
};
use postgres::Client;
use postgres::types::ToSql;

/// Runs a query and decodes every row.
pub(crate) fn collect<T>(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    doing: &'static str,
    decode: impl Fn(&postgres::Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = client.query(sql, params).map_err(StoreError::pg(doing))?;
    rows.iter().map(decode).collect()
}

/// The condition for rows of the hosts `f` names (by id or hostname), as parameter
/// `$n` (n = its place in `args`); empty for every host.
pub(crate) fn host_clause(f: &HostFilter, args: &mut Vec<Box<dyn ToSql + Sync>>) -> String {
    if f.is_all() {
        return String::new();
    }
    args.push(Box::new(f.0.clone()));
    let n = args.len();
    format!(" AND host IN (SELECT key FROM hosts WHERE id = ANY(${n}) OR name = ANY(${n}))")
}

pub(crate) fn refs(args: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|b| b.as_ref()).collect()
}

pub(crate) fn recent_packets(
    client: &mut Client,
    limit: u32,
    hosts: &HostFilter,
) -> Result<Vec<PacketMeta>> {
    let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(clamp_limit(limit))];
    let sql = format!(
        "SELECT {} FROM packets WHERE true{} ORDER BY time DESC, seq DESC LIMIT $1",
        read::PACKET_COLUMNS,
        host_clause(hosts, &mut args),
    );
    collect(
        client,
        &sql,
        &refs(&args),
        "listing recent packets",
        read::packet,
    )
}

pub(crate) fn alerts(client: &mut Client, f: &AlertFilter) -> Result<Vec<Alert>> {
    // Only fixed fragments are appended; every value travels as a parameter.
    let mut sql = format!("SELECT {} FROM alerts WHERE true", read::ALERT_COLUMNS);
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut cond = |sql: &mut String, frag: &str, v: Box<dyn ToSql + Sync>| {
        args.push(v);
        sql.push_str(&format!(" AND {frag} ${}", args.len()));
    };
    if let Some(kind) = &f.kind {
        cond(&mut sql, "kind =", Box::new(kind.clone()));
    }
    if let Some(sev) = f.min_severity {
        cond(&mut sql, "severity >=", Box::new(severity_rank(sev)));
    }
    if let Some(state) = f.state {
        let state = match state {
            AlertState::Active => "active",
            AlertState::Resolved => "resolved",
        };
        cond(&mut sql, "state =", Box::new(state));
    }
    if let Some(since) = f.since {
        cond(&mut sql, "last_seen >=", Box::new(since.micros()));
    }
    if let Some(until) = f.until {
        cond(&mut sql, "first_seen <", Box::new(until.micros()));
    }
    sql.push_str(&host_clause(&f.hosts, &mut args));
    args.push(Box::new(clamp_limit(f.limit)));
    args.push(Box::new(i64::from(f.offset)));
    sql.push_str(&format!(
        " ORDER BY last_seen DESC, id LIMIT ${} OFFSET ${}",
        args.len() - 1,
        args.len()
    ));
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|b| b.as_ref()).collect();
    collect(client, &sql, &params, "listing alerts", read::alert)
}

pub(crate) fn active_alerts(client: &mut Client, limit: u32) -> Result<Vec<Alert>> {
    let sql = format!(
        "SELECT {} FROM alerts WHERE state = 'active'
         ORDER BY severity DESC, last_seen DESC, id LIMIT $1",
        read::ALERT_COLUMNS
    );
    collect(
        client,
        &sql,
        &[&clamp_limit(limit)],
        "listing active alerts",
        read::alert,
    )
}

pub(crate) fn process_events(
    client: &mut Client,
    limit: u32,
    since: Option<Ts>,
) -> Result<Vec<ProcessEvent>> {
    let sql = format!(
        "SELECT {} FROM process_events WHERE time >= $1 ORDER BY time DESC, id DESC LIMIT $2",
        read::PROCESS_EVENT_COLUMNS
    );
    let since = since.map_or(i64::MIN, Ts::micros);
    collect(
        client,
        &sql,
        &[&since, &clamp_limit(limit)],
        "listing process events",
        read::process_event,
    )
}

pub(crate) fn flows(
    client: &mut Client,
    limit: u32,
    order: FlowOrder,
    hosts: &HostFilter,
) -> Result<Vec<FlowRecord>> {
    let order = match order {
        FlowOrder::LastSeen => "last_seen DESC, id DESC",
        FlowOrder::Bytes => "(orig_bytes + resp_bytes) DESC, id DESC",
    };
    let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(clamp_limit(limit))];
    let sql = format!(
        "SELECT {} FROM flows WHERE true{} ORDER BY {order} LIMIT $1",
        read::FLOW_COLUMNS,
        host_clause(hosts, &mut args),
    );
    collect(client, &sql, &refs(&args), "listing flows", read::flow)
}

pub(crate) fn system_samples(
    client: &mut Client,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<SystemSample>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {} FROM system_samples WHERE time >= $1 AND time < $2
         ORDER BY time DESC, id DESC LIMIT $3",
        read::SYSTEM_SAMPLE_COLUMNS
    );
    let mut rows = collect(
        client,
        &sql,
        &[&since, &until, &clamp_limit(limit)],
        "listing system samples",
        read::system_sample,
    )?;
    rows.reverse();
    Ok(rows)
}

pub(crate) fn process_samples(
    client: &mut Client,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<ProcessSampleRow>> {
    let (since, until) = range.micros();
    // NULL (NaN) CPU sorts last, as SQLite sorts NULL below every number.
    let sql = format!(
        "SELECT {} FROM process_samples WHERE time >= $1 AND time < $2
         ORDER BY time DESC, cpu_pct DESC NULLS LAST, id LIMIT $3",
        read::PROCESS_SAMPLE_COLUMNS
    );
    collect(
        client,
        &sql,
        &[&since, &until, &clamp_limit(limit)],
        "listing process samples",
        |r| {
            let (time, sample) = read::process_sample(r)?;
            Ok(ProcessSampleRow { time, sample })
        },
    )
}

pub(crate) fn losses(client: &mut Client, range: TimeRange, limit: u32) -> Result<Vec<Loss>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {} FROM losses WHERE time >= $1 AND time < $2 ORDER BY time DESC, id DESC LIMIT $3",
        read::LOSS_COLUMNS
    );
    collect(
        client,
        &sql,
        &[&since, &until, &clamp_limit(limit)],
        "listing losses",
        read::loss,
    )
}

pub(crate) fn loss_totals(client: &mut Client, range: TimeRange) -> Result<Vec<LossTotal>> {
    let (since, until) = range.micros();
    collect(
        client,
        "SELECT source, sum(count)::bigint, max(time) FROM losses
         WHERE time >= $1 AND time < $2 GROUP BY source ORDER BY source",
        &[&since, &until],
        "summing losses",
        |r| {
            Ok(LossTotal {
                source: r.get(0),
                count: r.get::<_, i64>(1).max(0) as u64,
                last: Ts(r.get(2)),
            })
        },
    )
}

/// Tables counted by `stats`, the same names SQLite reports.
pub(crate) fn tables() -> Vec<String> {
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

/// Bytes the database takes on disk.
pub(crate) fn database_bytes(client: &mut Client) -> Result<u64> {
    let n: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .map_err(StoreError::pg("measuring the database"))?
        .get(0);
    Ok(n.max(0) as u64)
}

pub(crate) fn stats(client: &mut Client) -> Result<StoreStats> {
    let doing = "counting rows";
    let mut out = StoreStats::default();
    for table in tables() {
        // Table names are constants of this crate, never input.
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .map_err(StoreError::pg(doing))?
            .get(0);
        out.rows.insert(table, n.max(0) as u64);
    }
    out.used_bytes = database_bytes(client)?;
    out.file_bytes = out.used_bytes;
    Ok(out)
}
