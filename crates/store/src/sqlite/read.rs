//! Turning SQLite rows back into the core data model; column lists shared by queries.

use crate::{Result, StoreError};
use netsnoop_core::net::packet::{IcmpInfo, QuotedHeader};
use netsnoop_core::owner::FlowOwner;
use netsnoop_core::process::event::Ancestor;
use netsnoop_core::{
    Alert, AlertState, FlowRecord, Host, HostRef, Loss, PacketMeta, ProcEventKind, ProcSample,
    ProcessEvent, Protocol, Severity, Subject, SystemSample, Ts,
};
use rusqlite::Row;
use std::net::IpAddr;

/// A row decoder that may fail in SQLite (wrong type) or in our own parsing.
pub(super) type Decoded<T> = std::result::Result<T, Bad>;

/// Why a row could not be decoded.
pub(super) enum Bad {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Bad {
    fn from(e: rusqlite::Error) -> Self {
        Bad::Sql(e)
    }
}

impl Bad {
    pub(super) fn into_store(self, doing: &'static str) -> StoreError {
        match self {
            Bad::Sql(source) => StoreError::Sqlite { doing, source },
            Bad::Store(e) => e,
        }
    }
}

/// Runs a prepared query and decodes every row.
pub(super) fn collect<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    doing: &'static str,
    decode: impl Fn(&Row<'_>) -> Decoded<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(StoreError::sql(doing))?;
    let mut rows = stmt.query(params).map_err(StoreError::sql(doing))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sql(doing))? {
        out.push(decode(row).map_err(|b| b.into_store(doing))?);
    }
    Ok(out)
}

fn json<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Decoded<T> {
    serde_json::from_str(text).map_err(|source| Bad::Store(StoreError::BadJson { column, source }))
}

fn ip(column: &'static str, text: Option<String>) -> Decoded<Option<IpAddr>> {
    text.map(|t| {
        t.parse()
            .map_err(|_| Bad::Store(StoreError::BadValue { column, value: t }))
    })
    .transpose()
}

/// NULL in a REAL column means the value was NaN.
fn real(row: &Row<'_>, idx: usize) -> Decoded<f64> {
    Ok(row.get::<_, Option<f64>>(idx)?.unwrap_or(f64::NAN))
}

/// The host a row names, from the two columns the column lists end with (NULL for the
/// store's own host when it was opened without an identity).
pub(super) fn host(row: &Row<'_>, idx: usize) -> Decoded<Option<HostRef>> {
    let id: Option<String> = row.get(idx)?;
    let name: Option<String> = row.get(idx + 1)?;
    Ok(id.map(|id| {
        std::sync::Arc::new(Host {
            name: name.unwrap_or_else(|| id.clone()),
            id,
        })
    }))
}

fn u64_col(row: &Row<'_>, idx: usize) -> Decoded<u64> {
    Ok(row.get::<_, i64>(idx)?.max(0) as u64)
}

pub(super) const ALERT_COLUMNS: &str = "id, kind, severity, label, state, first_seen, last_seen, \
     pid, process_name, user, command, src_ip, dst_ip, message, details, \
     (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)";

pub(super) fn alert(row: &Row<'_>) -> Decoded<Alert> {
    let rank: i64 = row.get(2)?;
    let severity = usize::try_from(rank)
        .ok()
        .and_then(|i| Severity::ALL.get(i).copied())
        .ok_or_else(|| {
            Bad::Store(StoreError::BadValue {
                column: "alerts.severity",
                value: rank.to_string(),
            })
        })?;
    let state: String = row.get(4)?;
    let state = match state.as_str() {
        "active" => AlertState::Active,
        "resolved" => AlertState::Resolved,
        _ => {
            return Err(Bad::Store(StoreError::BadValue {
                column: "alerts.state",
                value: state,
            }));
        }
    };
    let details: String = row.get(14)?;
    Ok(Alert {
        host: host(row, 15)?,
        id: row.get(0)?,
        kind: row.get(1)?,
        severity,
        label: row.get(3)?,
        state,
        first_seen: Ts(row.get(5)?),
        last_seen: Ts(row.get(6)?),
        subject: Subject {
            pid: row.get(7)?,
            process_name: row.get(8)?,
            user: row.get(9)?,
            command: row.get(10)?,
            src_ip: ip("alerts.src_ip", row.get(11)?)?,
            dst_ip: ip("alerts.dst_ip", row.get(12)?)?,
        },
        message: row.get(13)?,
        details: json("alerts.details", &details)?,
    })
}

pub(super) const PACKET_COLUMNS: &str = "time, iface, src_ip, dst_ip, src_port, dst_port, \
     protocol, tcp_flags, icmp_type, icmp_code, icmp_quoted, wire_len, ip_len, no_ports, \
     (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)";

pub(super) fn packet(row: &Row<'_>) -> Decoded<PacketMeta> {
    let icmp_type: Option<u8> = row.get(8)?;
    let quoted: Option<String> = row.get(10)?;
    let quoted: Option<QuotedHeader> = quoted
        .map(|q| json("packets.icmp_quoted", &q))
        .transpose()?;
    let protocol: String = row.get(6)?;
    Ok(PacketMeta {
        host: host(row, 14)?,
        time: Ts(row.get(0)?),
        iface: row.get(1)?,
        src_ip: ip("packets.src_ip", row.get(2)?)?,
        dst_ip: ip("packets.dst_ip", row.get(3)?)?,
        src_port: row.get(4)?,
        dst_port: row.get(5)?,
        protocol: Protocol::from_label(&protocol),
        tcp_flags: row.get(7)?,
        icmp: match icmp_type {
            Some(icmp_type) => Some(IcmpInfo {
                icmp_type,
                code: row.get::<_, Option<u8>>(9)?.unwrap_or(0),
                quoted,
            }),
            None => None,
        },
        wire_len: row.get(11)?,
        ip_len: row.get(12)?,
        no_ports: row.get(13)?,
        arp: None,
    })
}

pub(super) const PROCESS_EVENT_COLUMNS: &str = "time, kind, pid, ppid, start_ticks, uid, user, \
     comm, exe, argv, argv_complete, cwd, cgroup, exit_code, ancestry, \
     (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)";

pub(super) fn process_event(row: &Row<'_>) -> Decoded<ProcessEvent> {
    let kind: String = row.get(1)?;
    let Some(kind) = ProcEventKind::from_name(&kind) else {
        return Err(Bad::Store(StoreError::BadValue {
            column: "process_events.kind",
            value: kind,
        }));
    };
    let argv: String = row.get(9)?;
    let ancestry: String = row.get(14)?;
    Ok(ProcessEvent {
        host: host(row, 15)?,
        time: Ts(row.get(0)?),
        kind,
        pid: row.get(2)?,
        ppid: row.get(3)?,
        start_ticks: u64_col(row, 4)?,
        uid: row.get(5)?,
        user: row.get(6)?,
        comm: row.get(7)?,
        exe: row.get(8)?,
        argv: json("process_events.argv", &argv)?,
        argv_complete: row.get(10)?,
        redacted: 0,
        cwd: row.get(11)?,
        cgroup: row.get(12)?,
        exit_code: row.get(13)?,
        ancestry: json::<Vec<Ancestor>>("process_events.ancestry", &ancestry)?,
    })
}

pub(super) const SYSTEM_SAMPLE_COLUMNS: &str = "time, cpu_pct, per_core_pct, mem_total, \
     mem_used, mem_available, swap_total, swap_used, load1, load5, load15, psi_cpu, \
     psi_memory, psi_io, forks_total, procs_running";

pub(super) fn system_sample(row: &Row<'_>) -> Decoded<SystemSample> {
    let per_core: String = row.get(2)?;
    Ok(SystemSample {
        time: Ts(row.get(0)?),
        cpu_pct: real(row, 1)?,
        per_core_pct: json::<Vec<Option<f64>>>("system_samples.per_core_pct", &per_core)?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        mem_total: u64_col(row, 3)?,
        mem_used: u64_col(row, 4)?,
        mem_available: u64_col(row, 5)?,
        swap_total: u64_col(row, 6)?,
        swap_used: u64_col(row, 7)?,
        load1: real(row, 8)?,
        load5: real(row, 9)?,
        load15: real(row, 10)?,
        psi_cpu: row.get(11)?,
        psi_memory: row.get(12)?,
        psi_io: row.get(13)?,
        forks_total: u64_col(row, 14)?,
        procs_running: row.get(15)?,
    })
}

pub(super) const PROCESS_SAMPLE_COLUMNS: &str =
    "time, pid, start_ticks, ppid, comm, user, cmdline, cpu_pct, rss_bytes";

pub(super) fn process_sample(row: &Row<'_>) -> Decoded<(Ts, ProcSample)> {
    Ok((
        Ts(row.get(0)?),
        ProcSample {
            pid: row.get(1)?,
            start_ticks: u64_col(row, 2)?,
            ppid: row.get(3)?,
            comm: row.get(4)?,
            user: row.get(5)?,
            cmdline: row.get(6)?,
            cpu_pct: real(row, 7)?,
            rss_bytes: u64_col(row, 8)?,
        },
    ))
}

pub(super) const FLOW_COLUMNS: &str = "first_seen, last_seen, protocol, orig_ip, orig_port, \
     resp_ip, resp_port, orig_packets, orig_bytes, resp_packets, resp_bytes, state, end_reason, \
     orig_owner, resp_owner, \
     (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)";

pub(super) fn flow(row: &Row<'_>) -> Decoded<FlowRecord> {
    let protocol: String = row.get(2)?;
    Ok(FlowRecord {
        host: host(row, 15)?,
        first_seen: Ts(row.get(0)?),
        last_seen: Ts(row.get(1)?),
        protocol: Protocol::from_label(&protocol),
        orig_ip: ip("flows.orig_ip", row.get(3)?)?,
        orig_port: row.get(4)?,
        resp_ip: ip("flows.resp_ip", row.get(5)?)?,
        resp_port: row.get(6)?,
        orig_packets: u64_col(row, 7)?,
        orig_bytes: u64_col(row, 8)?,
        resp_packets: u64_col(row, 9)?,
        resp_bytes: u64_col(row, 10)?,
        state: row.get::<_, String>(11)?.into(),
        end_reason: row.get::<_, String>(12)?.into(),
        orig_owner: owner("flows.orig_owner", row.get(13)?)?,
        resp_owner: owner("flows.resp_owner", row.get(14)?)?,
    })
}

fn owner(column: &'static str, text: Option<String>) -> Decoded<Option<FlowOwner>> {
    text.map(|t| json(column, &t)).transpose()
}

pub(super) const LOSS_COLUMNS: &str = "time, source, count, reason, \
     (SELECT id FROM hosts WHERE key = host), (SELECT name FROM hosts WHERE key = host)";

pub(super) fn loss(row: &Row<'_>) -> Decoded<Loss> {
    Ok(Loss {
        host: host(row, 4)?,
        time: Ts(row.get(0)?),
        source: row.get(1)?,
        count: u64_col(row, 2)?,
        reason: row.get(3)?,
    })
}
