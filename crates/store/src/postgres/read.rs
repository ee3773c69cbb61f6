//! Turning PostgreSQL rows back into the core data model (the same columns and
//! meanings as SQLite's, so both backends answer alike).

use crate::{Result, StoreError};
use netsnoop_core::net::packet::{IcmpInfo, QuotedHeader};
use netsnoop_core::owner::FlowOwner;
use netsnoop_core::process::event::Ancestor;
use netsnoop_core::{
    Alert, AlertState, FlowRecord, Host, HostRef, Loss, PacketMeta, ProcEventKind, ProcSample,
    ProcessEvent, Protocol, Severity, Subject, SystemSample, Ts,
};
use postgres::Row;
use std::net::IpAddr;

fn bad(column: &'static str, value: impl ToString) -> StoreError {
    StoreError::BadValue {
        column,
        value: value.to_string(),
    }
}

pub(crate) fn get<'a, T: postgres::types::FromSql<'a>>(
    row: &'a Row,
    i: usize,
    column: &'static str,
) -> Result<T> {
    row.try_get(i).map_err(|e| bad(column, e))
}

/// A bigint column into a narrower integer type.
fn int<T: TryFrom<i64>>(row: &Row, i: usize, column: &'static str) -> Result<T> {
    let v: i64 = get(row, i, column)?;
    T::try_from(v).map_err(|_| bad(column, v))
}

fn opt_int<T: TryFrom<i64>>(row: &Row, i: usize, column: &'static str) -> Result<Option<T>> {
    let v: Option<i64> = get(row, i, column)?;
    v.map(|v| T::try_from(v).map_err(|_| bad(column, v)))
        .transpose()
}

fn count(row: &Row, i: usize, column: &'static str) -> Result<u64> {
    Ok(get::<i64>(row, i, column)?.max(0) as u64)
}

/// NULL in a float column means the value was NaN.
fn real(row: &Row, i: usize, column: &'static str) -> Result<f64> {
    Ok(get::<Option<f64>>(row, i, column)?.unwrap_or(f64::NAN))
}

fn json<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|source| StoreError::BadJson { column, source })
}

fn ip(row: &Row, i: usize, column: &'static str) -> Result<Option<IpAddr>> {
    let text: Option<String> = get(row, i, column)?;
    text.map(|t| t.parse().map_err(|_| bad(column, t)))
        .transpose()
}

/// The two columns a record's column list ends with: its host's id and name (NULL when
/// the hosts table has no row for the key: the local host of a store opened without an
/// identity). Named, so an `ORDER BY id` still means the record's own.
macro_rules! host_columns {
    () => {
        "(SELECT h.id FROM hosts h WHERE h.key = host) AS host_id, \
         (SELECT h.name FROM hosts h WHERE h.key = host) AS host_name"
    };
}
pub(crate) use host_columns;

/// The host a row names, from the two columns its column list ends with.
pub(crate) fn host(row: &Row, i: usize) -> Result<Option<HostRef>> {
    let id: Option<String> = get(row, i, "hosts.id")?;
    let name: Option<String> = get(row, i + 1, "hosts.name")?;
    Ok(id.map(|id| {
        std::sync::Arc::new(Host {
            name: name.unwrap_or_else(|| id.clone()),
            id,
        })
    }))
}

pub(crate) const ALERT_COLUMNS: &str = concat!(
    "id, kind, severity, label, state, first_seen, last_seen, \
     pid, process_name, \"user\", command, src_ip, dst_ip, message, details, ",
    host_columns!()
);

pub(crate) fn alert(row: &Row) -> Result<Alert> {
    let rank: i64 = get(row, 2, "alerts.severity")?;
    let severity = usize::try_from(rank)
        .ok()
        .and_then(|i| Severity::ALL.get(i).copied())
        .ok_or_else(|| bad("alerts.severity", rank))?;
    let state: String = get(row, 4, "alerts.state")?;
    let state = match state.as_str() {
        "active" => AlertState::Active,
        "resolved" => AlertState::Resolved,
        _ => return Err(bad("alerts.state", state)),
    };
    let details: String = get(row, 14, "alerts.details")?;
    Ok(Alert {
        host: host(row, 15)?,
        id: get(row, 0, "alerts.id")?,
        kind: get(row, 1, "alerts.kind")?,
        severity,
        label: get(row, 3, "alerts.label")?,
        state,
        first_seen: Ts(get(row, 5, "alerts.first_seen")?),
        last_seen: Ts(get(row, 6, "alerts.last_seen")?),
        subject: Subject {
            pid: opt_int(row, 7, "alerts.pid")?,
            process_name: get(row, 8, "alerts.process_name")?,
            user: get(row, 9, "alerts.user")?,
            command: get(row, 10, "alerts.command")?,
            src_ip: ip(row, 11, "alerts.src_ip")?,
            dst_ip: ip(row, 12, "alerts.dst_ip")?,
        },
        message: get(row, 13, "alerts.message")?,
        details: json("alerts.details", &details)?,
    })
}

pub(crate) const PACKET_COLUMNS: &str = concat!(
    "time, iface, src_ip, dst_ip, src_port, dst_port, protocol, tcp_flags, icmp_type, \
     icmp_code, icmp_quoted, wire_len, ip_len, no_ports, ",
    host_columns!()
);

pub(crate) fn packet(row: &Row) -> Result<PacketMeta> {
    let c = "packets";
    let icmp_type: Option<u8> = opt_int(row, 8, c)?;
    let quoted: Option<String> = get(row, 10, c)?;
    let quoted: Option<QuotedHeader> = quoted
        .map(|q| json("packets.icmp_quoted", &q))
        .transpose()?;
    let protocol: String = get(row, 6, c)?;
    Ok(PacketMeta {
        host: host(row, 14)?,
        time: Ts(get(row, 0, c)?),
        iface: int(row, 1, c)?,
        src_ip: ip(row, 2, "packets.src_ip")?,
        dst_ip: ip(row, 3, "packets.dst_ip")?,
        src_port: int(row, 4, c)?,
        dst_port: int(row, 5, c)?,
        protocol: Protocol::from_label(&protocol),
        tcp_flags: int(row, 7, c)?,
        icmp: match icmp_type {
            Some(icmp_type) => Some(IcmpInfo {
                icmp_type,
                code: opt_int::<u8>(row, 9, c)?.unwrap_or(0),
                quoted,
            }),
            None => None,
        },
        wire_len: int(row, 11, c)?,
        ip_len: int(row, 12, c)?,
        no_ports: get(row, 13, c)?,
        // ARP details feed detection only; the packets table keeps no ARP columns.
        arp: None,
    })
}

pub(crate) const PROCESS_EVENT_COLUMNS: &str = concat!(
    "time, kind, pid, ppid, start_ticks, uid, \"user\", comm, exe, argv, argv_complete, \
     cwd, cgroup, exit_code, ancestry, ",
    host_columns!()
);

pub(crate) fn process_event(row: &Row) -> Result<ProcessEvent> {
    let c = "process_events";
    let kind: String = get(row, 1, c)?;
    let Some(kind) = ProcEventKind::from_name(&kind) else {
        return Err(bad("process_events.kind", kind));
    };
    let argv: String = get(row, 9, c)?;
    let ancestry: String = get(row, 14, c)?;
    Ok(ProcessEvent {
        host: host(row, 15)?,
        time: Ts(get(row, 0, c)?),
        kind,
        pid: int(row, 2, c)?,
        ppid: int(row, 3, c)?,
        start_ticks: count(row, 4, c)?,
        uid: opt_int(row, 5, c)?,
        user: get(row, 6, c)?,
        comm: get(row, 7, c)?,
        exe: get(row, 8, c)?,
        argv: json("process_events.argv", &argv)?,
        argv_complete: get(row, 10, c)?,
        redacted: 0,
        cwd: get(row, 11, c)?,
        cgroup: get(row, 12, c)?,
        exit_code: opt_int(row, 13, c)?,
        ancestry: json::<Vec<Ancestor>>("process_events.ancestry", &ancestry)?,
    })
}

pub(crate) const SYSTEM_SAMPLE_COLUMNS: &str = "time, cpu_pct, per_core_pct, mem_total, \
     mem_used, mem_available, swap_total, swap_used, load1, load5, load15, psi_cpu, \
     psi_memory, psi_io, forks_total, procs_running";

pub(crate) fn system_sample(row: &Row) -> Result<SystemSample> {
    let c = "system_samples";
    let per_core: String = get(row, 2, c)?;
    Ok(SystemSample {
        time: Ts(get(row, 0, c)?),
        cpu_pct: real(row, 1, c)?,
        per_core_pct: json::<Vec<Option<f64>>>("system_samples.per_core_pct", &per_core)?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        mem_total: count(row, 3, c)?,
        mem_used: count(row, 4, c)?,
        mem_available: count(row, 5, c)?,
        swap_total: count(row, 6, c)?,
        swap_used: count(row, 7, c)?,
        load1: real(row, 8, c)?,
        load5: real(row, 9, c)?,
        load15: real(row, 10, c)?,
        psi_cpu: get(row, 11, c)?,
        psi_memory: get(row, 12, c)?,
        psi_io: get(row, 13, c)?,
        forks_total: count(row, 14, c)?,
        procs_running: int(row, 15, c)?,
    })
}

pub(crate) const PROCESS_SAMPLE_COLUMNS: &str =
    "time, pid, start_ticks, ppid, comm, \"user\", cmdline, cpu_pct, rss_bytes";

pub(crate) fn process_sample(row: &Row) -> Result<(Ts, ProcSample)> {
    let c = "process_samples";
    Ok((
        Ts(get(row, 0, c)?),
        ProcSample {
            pid: int(row, 1, c)?,
            start_ticks: count(row, 2, c)?,
            ppid: int(row, 3, c)?,
            comm: get(row, 4, c)?,
            user: get(row, 5, c)?,
            cmdline: get(row, 6, c)?,
            cpu_pct: real(row, 7, c)?,
            rss_bytes: count(row, 8, c)?,
        },
    ))
}

pub(crate) const FLOW_COLUMNS: &str = concat!(
    "first_seen, last_seen, protocol, orig_ip, orig_port, resp_ip, resp_port, orig_packets, \
     orig_bytes, resp_packets, resp_bytes, state, end_reason, orig_owner, resp_owner, ",
    host_columns!()
);

pub(crate) fn flow(row: &Row) -> Result<FlowRecord> {
    let c = "flows";
    let protocol: String = get(row, 2, c)?;
    Ok(FlowRecord {
        host: host(row, 15)?,
        first_seen: Ts(get(row, 0, c)?),
        last_seen: Ts(get(row, 1, c)?),
        protocol: Protocol::from_label(&protocol),
        orig_ip: ip(row, 3, "flows.orig_ip")?,
        orig_port: int(row, 4, c)?,
        resp_ip: ip(row, 5, "flows.resp_ip")?,
        resp_port: int(row, 6, c)?,
        orig_packets: count(row, 7, c)?,
        orig_bytes: count(row, 8, c)?,
        resp_packets: count(row, 9, c)?,
        resp_bytes: count(row, 10, c)?,
        state: get::<String>(row, 11, c)?.into(),
        end_reason: get::<String>(row, 12, c)?.into(),
        orig_owner: owner(row, 13, "flows.orig_owner")?,
        resp_owner: owner(row, 14, "flows.resp_owner")?,
    })
}

/// A flow end's owner, stored as JSON (None where no attribution ran).
fn owner(row: &Row, i: usize, column: &'static str) -> Result<Option<FlowOwner>> {
    get::<Option<String>>(row, i, column)?
        .map(|text| {
            serde_json::from_str(&text).map_err(|source| StoreError::BadJson { column, source })
        })
        .transpose()
}

pub(crate) const LOSS_COLUMNS: &str = concat!("time, source, count, reason, ", host_columns!());

pub(crate) fn loss(row: &Row) -> Result<Loss> {
    let c = "losses";
    Ok(Loss {
        host: host(row, 4)?,
        time: Ts(get(row, 0, c)?),
        source: get(row, 1, c)?,
        count: count(row, 2, c)?,
        reason: get(row, 3, c)?,
    })
}
