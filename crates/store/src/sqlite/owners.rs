//! The owner columns of flows (migration 8) and the per-process traffic queries.

use super::read::collect;
use crate::model::{ProcessTraffic, TimeRange};
use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::FlowRecord;
use netsnoop_core::HostFilter;
use netsnoop_core::owner::FlowOwner;
use rusqlite::{Connection, params};

/// One flow end's owner as stored: pid and comm when known, else the reason.
pub(crate) struct Columns {
    pub pid: Option<u32>,
    pub comm: Option<String>,
    pub unknown: Option<&'static str>,
    pub json: Option<String>,
}

pub(crate) fn columns(owner: Option<&FlowOwner>) -> Result<Columns> {
    let json = owner
        .map(serde_json::to_string)
        .transpose()
        .map_err(|source| StoreError::BadJson {
            column: "flows.owner",
            source,
        })?;
    Ok(match owner {
        Some(FlowOwner::Known(o)) => Columns {
            pid: Some(o.pid),
            comm: Some(o.comm.clone()),
            unknown: None,
            json,
        },
        Some(FlowOwner::Unknown(r)) => Columns {
            pid: None,
            comm: None,
            unknown: Some(r.as_str()),
            json,
        },
        None => Columns {
            pid: None,
            comm: None,
            unknown: None,
            json: None,
        },
    })
}

/// Flows that ended in the range with `pid` owning either end, most recent first.
pub(super) fn process_flows(
    conn: &Connection,
    pid: u32,
    range: TimeRange,
    limit: u32,
) -> Result<Vec<FlowRecord>> {
    let (since, until) = range.micros();
    let sql = format!(
        "SELECT {cols} FROM flows WHERE orig_pid = ?1 AND last_seen >= ?2 AND last_seen < ?3
         UNION
         SELECT {cols} FROM flows WHERE resp_pid = ?1 AND last_seen >= ?2 AND last_seen < ?3
         ORDER BY last_seen DESC LIMIT ?4",
        cols = super::read::FLOW_COLUMNS
    );
    collect(
        conn,
        &sql,
        params![pid, since, until, clamp_limit(limit)],
        "listing a process's flows",
        super::read::flow,
    )
}

/// Traffic per owning process over flows that ended in the range, most bytes first.
/// Local ends without a known owner (`not_seen`, `no_process`) are summed in one row
/// with no pid: the unattributed bucket. Ends that are not local are not counted.
pub(super) fn top_processes(
    conn: &Connection,
    range: TimeRange,
    limit: u32,
    pid: Option<u32>,
    hosts: &HostFilter,
) -> Result<Vec<ProcessTraffic>> {
    let (since, until) = range.micros();
    // Every host: no condition at all, so the plan stays the time index's.
    let keys = if hosts.is_all() {
        None
    } else {
        Some(super::tiers::host_keys_json(&super::hosts::keys(
            conn, hosts,
        )?))
    };
    let side = |me: &str, peer: &str| {
        format!(
            "SELECT host, {me}_pid AS pid, {me}_comm AS comm, {peer}_bytes AS bytes_in,
                 {me}_bytes AS bytes_out, {peer}_packets AS packets_in,
                 {me}_packets AS packets_out, last_seen
             FROM flows WHERE last_seen >= ?1 AND last_seen < ?2
                 AND ({me}_pid IS NOT NULL OR {me}_unknown IN ('not_seen', 'no_process'))
                 AND (?4 IS NULL OR {me}_pid = ?4)
                 AND (?5 IS NULL OR host IN (SELECT value FROM json_each(?5)))"
        )
    };
    let sql = format!(
        "SELECT pid, comm, sum(bytes_in), sum(bytes_out), sum(packets_in), sum(packets_out),
             count(*), max(last_seen),
             (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)
         FROM ({} UNION ALL {})
         GROUP BY host, pid, comm
         ORDER BY sum(bytes_in) + sum(bytes_out) DESC, host, pid LIMIT ?3",
        side("orig", "resp"),
        side("resp", "orig")
    );
    collect(
        conn,
        &sql,
        params![since, until, clamp_limit(limit), pid, keys],
        "summing traffic per process",
        |r| {
            let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
            Ok(ProcessTraffic {
                pid: r.get(0)?,
                comm: r.get(1)?,
                bytes_in: n(2)?,
                bytes_out: n(3)?,
                packets_in: n(4)?,
                packets_out: n(5)?,
                flows: n(6)?,
                last_seen: netsnoop_core::Ts(r.get(7)?),
                host: super::read::host(r, 8)?,
            })
        },
    )
}
