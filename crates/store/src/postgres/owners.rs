//! Per-process flows and traffic (the flows' owner columns), silences and alert
//! acknowledgements on PostgreSQL: the same queries and answers as SQLite's `owners` and
//! `silences` modules (schema version 2).

use super::query::collect;
use super::read;
use crate::model::{ProcessTraffic, TimeRange};
use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::HostFilter;
use netsnoop_core::silence::{Ack, Matcher, Silence};
use netsnoop_core::{FlowRecord, Ts};
use postgres::Client;

/// Flows that ended in the range with `pid` owning either end, most recent first.
pub(crate) fn process_flows(
    client: &mut Client,
    pid: u32,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<FlowRecord>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {cols} FROM flows WHERE orig_pid = $1 AND last_seen >= $2 AND last_seen < $3
         UNION
         SELECT {cols} FROM flows WHERE resp_pid = $1 AND last_seen >= $2 AND last_seen < $3
         ORDER BY last_seen DESC LIMIT $4",
        cols = read::FLOW_COLUMNS
    );
    collect(
        client,
        &sql,
        &[&i64::from(pid), &since, &until, &clamp_limit(limit)],
        "listing a process's flows",
        read::flow,
    )
}

/// Traffic per owning process, most bytes first; local ends of unknown owner are one row
/// with no pid (the unattributed bucket); ends that are not local are not counted.
pub(crate) fn top_processes(
    client: &mut Client,
    range: TimeRange,
    limit: u32,
    pid: Option<u32>,
    hosts: &HostFilter,
) -> Result<Vec<ProcessTraffic>> {
    let (since, until) = range.micros();
    // Every host: no condition at all, so the plan stays the time index's.
    let keys: Option<Vec<i64>> = if hosts.is_all() {
        None
    } else {
        Some(super::hosts::keys(client, hosts)?)
    };
    let side = |me: &str, peer: &str| {
        format!(
            "SELECT host, {me}_pid AS pid, {me}_comm AS comm, {peer}_bytes AS bytes_in,
                 {me}_bytes AS bytes_out, {peer}_packets AS packets_in,
                 {me}_packets AS packets_out, last_seen
             FROM flows WHERE last_seen >= $1 AND last_seen < $2
                 AND ({me}_pid IS NOT NULL OR {me}_unknown IN ('not_seen', 'no_process'))
                 AND ($4::bigint IS NULL OR {me}_pid = $4)
                 AND ($5::bigint[] IS NULL OR host = ANY($5))"
        )
    };
    let sql = format!(
        "SELECT pid, comm, sum(bytes_in)::bigint, sum(bytes_out)::bigint,
             sum(packets_in)::bigint, sum(packets_out)::bigint, count(*), max(last_seen),
             {}
         FROM ({} UNION ALL {}) AS ends
         GROUP BY host, pid, comm
         ORDER BY sum(bytes_in) + sum(bytes_out) DESC, host, pid NULLS FIRST LIMIT $3",
        read::host_columns!(),
        side("orig", "resp"),
        side("resp", "orig")
    );
    let pid = pid.map(i64::from);
    let c = "flows";
    collect(
        client,
        &sql,
        &[&since, &until, &clamp_limit(limit), &pid, &keys],
        "summing traffic per process",
        |r| {
            let n = |i: usize| -> Result<u64> { Ok(read::get::<i64>(r, i, c)?.max(0) as u64) };
            Ok(ProcessTraffic {
                pid: read::get::<Option<i64>>(r, 0, c)?.and_then(|p| u32::try_from(p).ok()),
                comm: read::get(r, 1, c)?,
                bytes_in: n(2)?,
                bytes_out: n(3)?,
                packets_in: n(4)?,
                packets_out: n(5)?,
                flows: n(6)?,
                last_seen: Ts(read::get(r, 7, c)?),
                host: read::host(r, 8)?,
            })
        },
    )
}

pub(crate) fn add_silence(client: &mut Client, s: &Silence) -> Result<i64> {
    let matcher = serde_json::to_string(&s.matcher).map_err(|source| StoreError::BadJson {
        column: "silences.matcher",
        source,
    })?;
    let row = client
        .query_one(
            "INSERT INTO silences (matcher, starts_at, ends_at, author, comment)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &matcher,
                &s.starts_at.micros(),
                &s.ends_at.micros(),
                &s.author,
                &s.comment,
            ],
        )
        .map_err(StoreError::pg("storing a silence"))?;
    read::get(&row, 0, "silences.id")
}

pub(crate) fn silences(
    client: &mut Client,
    active_at: Option<Ts>,
    limit: u32,
) -> Result<Vec<Silence>> {
    let at = active_at.map(Ts::micros);
    let c = "silences";
    collect(
        client,
        "SELECT id, matcher, starts_at, ends_at, author, comment FROM silences
         WHERE $1::bigint IS NULL OR (ends_at > $1 AND starts_at <= $1)
         ORDER BY id DESC LIMIT $2",
        &[&at, &clamp_limit(limit)],
        "reading silences",
        |r| {
            let matcher: String = read::get(r, 1, c)?;
            let matcher: Matcher =
                serde_json::from_str(&matcher).map_err(|source| StoreError::BadJson {
                    column: "silences.matcher",
                    source,
                })?;
            Ok(Silence {
                id: read::get(r, 0, c)?,
                matcher,
                starts_at: Ts(read::get(r, 2, c)?),
                ends_at: Ts(read::get(r, 3, c)?),
                author: read::get(r, 4, c)?,
                comment: read::get(r, 5, c)?,
            })
        },
    )
}

pub(crate) fn ack_alert(client: &mut Client, a: &Ack) -> Result<bool> {
    // Only a stored alert can be acknowledged; a later ack replaces an earlier one.
    let n = client
        .execute(
            "INSERT INTO alert_acks (alert_id, author, comment, at)
             SELECT id, $2, $3, $4 FROM alerts WHERE id = $1
             ON CONFLICT (alert_id) DO UPDATE
                 SET author = EXCLUDED.author, comment = EXCLUDED.comment, at = EXCLUDED.at",
            &[&a.alert_id, &a.author, &a.comment, &a.at.micros()],
        )
        .map_err(StoreError::pg("storing an acknowledgement"))?;
    Ok(n > 0)
}

pub(crate) fn acks(client: &mut Client, limit: u32) -> Result<Vec<Ack>> {
    let c = "alert_acks";
    collect(
        client,
        "SELECT alert_id, author, comment, at FROM alert_acks ORDER BY at DESC LIMIT $1",
        &[&clamp_limit(limit)],
        "reading acknowledgements",
        |r| {
            Ok(Ack {
                alert_id: read::get(r, 0, c)?,
                author: read::get(r, 1, c)?,
                comment: read::get(r, 2, c)?,
                at: Ts(read::get(r, 3, c)?),
            })
        },
    )
}
