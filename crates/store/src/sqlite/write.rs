//! The SQLite write path: one transaction per batch, cached statements, multi-row packet
//! inserts, alert upserts and additive rollups (written by `traffic`).

use super::WriteConn;
use super::traffic::{TrafficSums, ip_into};
use crate::BatchMark;
use crate::model::WriteReport;
use crate::{OpenOptions, Result, StoreError};
use netsnoop_core::event::ProcSample;
use netsnoop_core::{
    Alert, Event, FlowRecord, Loss, PacketMeta, ProcessEvent, Record, ResourceSample, Severity,
};
use rusqlite::{Connection, OptionalExtension, Statement, ToSql, params};
use std::net::IpAddr;
use std::sync::OnceLock;

const PACKET_COLUMNS: &str = "time, seq, iface, src_ip, dst_ip, src_port, dst_port, protocol, \
     tcp_flags, icmp_type, icmp_code, icmp_quoted, wire_len, ip_len, no_ports, host";
const PACKET_PARAMS: usize = 16;

/// Rows per multi-row packet INSERT: one statement step per 64 rows instead of per row;
/// 64 × 16 parameters stay far under SQLite's limit.
pub(crate) const PACKET_ROWS_PER_INSERT: usize = 64;

/// The severity as a sortable integer (0 info … 4 critical), so "min severity" is `>=`.
pub(crate) fn severity_rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

pub(super) fn write_batch(
    w: &mut WriteConn,
    records: &[Record],
    marks: &[BatchMark],
    opts: &OpenOptions,
) -> Result<WriteReport> {
    let written = write_in_transaction(w, records, marks, opts);
    if written.is_err() {
        w.hosts.forget();
    }
    written
}

fn write_in_transaction(
    w: &mut WriteConn,
    records: &[Record],
    marks: &[BatchMark],
    opts: &OpenOptions,
) -> Result<WriteReport> {
    let err = |e| match e {
        // A value SQLite cannot hold (an integer above i64::MAX): the record is bad, not
        // the database.
        rusqlite::Error::ToSqlConversionFailure(cause) => StoreError::Unstorable {
            reason: cause.to_string(),
        },
        e => StoreError::sql("writing a batch")(e),
    };
    let tx = w
        .conn
        .transaction()
        .map_err(StoreError::sql("starting a write"))?;
    let mut report = WriteReport {
        records: records.len() as u64,
        ..WriteReport::default()
    };
    let mut packets: Vec<(i64, &PacketMeta)> = Vec::new();
    let mut traffic = TrafficSums::default();
    let keys = &mut w.hosts;
    for record in records {
        let host = keys
            .key(&tx, record.host().map(|h| h.as_ref()))
            .map_err(err)?;
        let rows = match record {
            Record::Alert(alert) => upsert_alert(&tx, alert, host),
            Record::Event(Event::Packet(p)) => {
                packets.push((host, p));
                Ok(0)
            }
            Record::Event(Event::Process(e)) => insert_process_event(&tx, e, host),
            Record::Event(Event::Resources(s)) => insert_resources(&tx, s, opts, host),
            Record::Event(Event::Flow(f)) => insert_flow(&tx, f, host),
            Record::Event(Event::Traffic(t)) => Ok(traffic.add(host, t)),
            Record::Event(Event::Loss(l)) => insert_loss(&tx, l, host),
            // Socket events live in the pipeline's owner table; flows carry their owners.
            Record::Event(Event::Connection(_)) => Ok(0),
        };
        report.rows += rows.map_err(|e| match e {
            Failure::Sql(e) => err(e),
            Failure::Store(e) => e,
        })?;
    }
    traffic.write(&tx).map_err(err)?;
    keys.seen(&tx, marks).map_err(err)?;
    for m in marks {
        super::hosts::mark(&tx, m).map_err(err)?;
    }
    let first_seq = w.next_packet_seq;
    let inserted =
        insert_packets(&tx, &packets, first_seq, opts.packet_rows_per_insert).map_err(err)?;
    report.rows += inserted;
    let mut rows_after = w.packet_rows + inserted;
    if let Some(cap) = opts
        .retention
        .max_packet_rows
        .filter(|&cap| rows_after > cap)
    {
        report.packets_capped = delete_oldest_packets(&tx, rows_after - cap).map_err(err)?;
        rows_after -= report.packets_capped;
    }
    tx.commit().map_err(StoreError::sql("committing a batch"))?;
    // Only now: a failed transaction must not move the counters.
    w.next_packet_seq = first_seq + inserted as i64;
    w.packet_rows = rows_after;
    Ok(report)
}

/// Lets row writers fail either in SQLite or while encoding JSON.
enum Failure {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

fn json<T: serde::Serialize>(column: &'static str, value: &T) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|source| Failure::Store(StoreError::BadJson { column, source }))
}

fn ip_text(ip: Option<IpAddr>) -> Option<String> {
    ip.map(|ip| ip.to_string())
}

fn upsert_alert(conn: &Connection, a: &Alert, host: i64) -> Result<u64, Failure> {
    // The WHERE keeps an older update (arriving late, e.g. from an agent) from
    // overwriting a newer one; first_seen keeps the episode's start.
    let mut stmt = conn.prepare_cached(
        "INSERT INTO alerts (id, kind, severity, label, state, first_seen, last_seen, pid,
             process_name, user, command, src_ip, dst_ip, message, details, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, severity = excluded.severity, label = excluded.label,
             state = excluded.state, first_seen = min(first_seen, excluded.first_seen),
             last_seen = excluded.last_seen, pid = excluded.pid,
             process_name = excluded.process_name, user = excluded.user,
             command = excluded.command, src_ip = excluded.src_ip, dst_ip = excluded.dst_ip,
             message = excluded.message, details = excluded.details
         WHERE excluded.last_seen >= alerts.last_seen",
    )?;
    let state = match a.state {
        netsnoop_core::AlertState::Active => "active",
        netsnoop_core::AlertState::Resolved => "resolved",
    };
    let s = &a.subject;
    let n = stmt.execute(params![
        a.id,
        a.kind,
        severity_rank(a.severity),
        a.label,
        state,
        a.first_seen.micros(),
        a.last_seen.micros(),
        s.pid,
        s.process_name,
        s.user,
        s.command,
        ip_text(s.src_ip),
        ip_text(s.dst_ip),
        a.message,
        json("alerts.details", &a.details)?,
        host,
    ])?;
    Ok(n as u64)
}

fn insert_process_event(conn: &Connection, e: &ProcessEvent, host: i64) -> Result<u64, Failure> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO process_events (time, kind, pid, ppid, start_ticks, uid, user, comm, exe,
             argv, argv_complete, cwd, cgroup, exit_code, ancestry, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?;
    stmt.execute(params![
        e.time.micros(),
        proc_kind(e.kind),
        e.pid,
        e.ppid,
        e.start_ticks,
        e.uid,
        e.user,
        e.comm,
        e.exe,
        json("process_events.argv", &e.argv)?,
        e.argv_complete,
        e.cwd,
        e.cgroup,
        e.exit_code,
        json("process_events.ancestry", &e.ancestry)?,
        host,
    ])?;
    Ok(1)
}

pub(crate) fn proc_kind(kind: netsnoop_core::ProcEventKind) -> &'static str {
    kind.as_str()
}

fn insert_resources(
    conn: &Connection,
    s: &ResourceSample,
    opts: &OpenOptions,
    host: i64,
) -> Result<u64, Failure> {
    let sys = &s.system;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO system_samples (time, cpu_pct, per_core_pct, mem_total, mem_used,
             mem_available, swap_total, swap_used, load1, load5, load15, psi_cpu, psi_memory,
             psi_io, forks_total, procs_running, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    stmt.execute(params![
        sys.time.micros(),
        real(sys.cpu_pct),
        json(
            "system_samples.per_core_pct",
            &sys.per_core_pct
                .iter()
                .map(|&v| real(v))
                .collect::<Vec<_>>()
        )?,
        sys.mem_total,
        sys.mem_used,
        sys.mem_available,
        sys.swap_total,
        sys.swap_used,
        real(sys.load1),
        real(sys.load5),
        real(sys.load15),
        sys.psi_cpu,
        sys.psi_memory,
        sys.psi_io,
        sys.forks_total,
        sys.procs_running,
        host,
    ])?;
    let mut top: Vec<&ProcSample> = s.processes.iter().collect();
    top.sort_by(|a, b| {
        b.cpu_pct
            .total_cmp(&a.cpu_pct)
            .then(b.rss_bytes.cmp(&a.rss_bytes))
    });
    top.truncate(opts.process_samples_top_n);
    let mut stmt = conn.prepare_cached(
        "INSERT INTO process_samples (time, pid, start_ticks, ppid, comm, user, cmdline,
             cpu_pct, rss_bytes, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for p in &top {
        stmt.execute(params![
            sys.time.micros(),
            p.pid,
            p.start_ticks,
            p.ppid,
            p.comm,
            p.user,
            p.cmdline,
            real(p.cpu_pct),
            p.rss_bytes,
            host,
        ])?;
    }
    Ok(1 + top.len() as u64)
}

/// NaN as NULL, explicitly: SQLite would turn it into NULL anyway, and readers map NULL
/// back to NaN.
fn real(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn insert_flow(conn: &Connection, f: &FlowRecord, host: i64) -> Result<u64, Failure> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO flows (first_seen, last_seen, protocol, orig_ip, orig_port, resp_ip,
             resp_port, orig_packets, orig_bytes, resp_packets, resp_bytes, state, end_reason,
             orig_pid, orig_comm, orig_unknown, orig_owner,
             resp_pid, resp_comm, resp_unknown, resp_owner, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
             ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    )?;
    let (o, r) = (
        super::owners::columns(f.orig_owner.as_ref()).map_err(Failure::Store)?,
        super::owners::columns(f.resp_owner.as_ref()).map_err(Failure::Store)?,
    );
    stmt.execute(params![
        f.first_seen.micros(),
        f.last_seen.micros(),
        f.protocol.as_str(),
        ip_text(f.orig_ip),
        f.orig_port,
        ip_text(f.resp_ip),
        f.resp_port,
        f.orig_packets,
        f.orig_bytes,
        f.resp_packets,
        f.resp_bytes,
        f.state,
        f.end_reason,
        o.pid,
        o.comm,
        o.unknown,
        o.json,
        r.pid,
        r.comm,
        r.unknown,
        r.json,
        host,
    ])?;
    Ok(1)
}

fn insert_loss(conn: &Connection, l: &Loss, host: i64) -> Result<u64, Failure> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO losses (time, source, count, reason, host) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![l.time.micros(), l.source, l.count, l.reason, host])?;
    Ok(1)
}

fn packet_insert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; PACKET_PARAMS].join(","));
    format!(
        "INSERT INTO packets ({PACKET_COLUMNS}) VALUES {}",
        vec![one; rows].join(",")
    )
}

fn insert_packets(
    conn: &Connection,
    packets: &[(i64, &PacketMeta)],
    first_seq: i64,
    per_insert: usize,
) -> rusqlite::Result<u64> {
    if packets.is_empty() {
        return Ok(0);
    }
    static DEFAULT_SQL: OnceLock<String> = OnceLock::new();
    static SINGLE_SQL: OnceLock<String> = OnceLock::new();
    let per_insert = per_insert.clamp(1, 500);
    let multi_sql = if per_insert == PACKET_ROWS_PER_INSERT {
        DEFAULT_SQL
            .get_or_init(|| packet_insert_sql(PACKET_ROWS_PER_INSERT))
            .clone()
    } else {
        packet_insert_sql(per_insert)
    };
    let single_sql = SINGLE_SQL.get_or_init(|| packet_insert_sql(1));
    let mut scratch = PacketScratch::default();
    let mut seq = first_seq;
    let mut chunks = packets.chunks_exact(per_insert);
    if per_insert > 1 {
        let mut stmt = conn.prepare_cached(&multi_sql)?;
        for chunk in &mut chunks {
            for (i, &(host, p)) in chunk.iter().enumerate() {
                bind_packet(&mut stmt, i * PACKET_PARAMS, p, (seq, host), &mut scratch)?;
                seq += 1;
            }
            stmt.raw_execute()?;
        }
    }
    let rest = if per_insert > 1 {
        chunks.remainder()
    } else {
        packets
    };
    let mut stmt = conn.prepare_cached(single_sql)?;
    for &(host, p) in rest {
        bind_packet(&mut stmt, 0, p, (seq, host), &mut scratch)?;
        seq += 1;
        stmt.raw_execute()?;
    }
    Ok(packets.len() as u64)
}

/// Reused text buffers: SQLite copies bound text, so one buffer per column suffices.
#[derive(Default)]
struct PacketScratch {
    src: String,
    dst: String,
}

fn bind_packet(
    stmt: &mut Statement<'_>,
    base: usize,
    p: &PacketMeta,
    (seq, host): (i64, i64),
    scratch: &mut PacketScratch,
) -> rusqlite::Result<()> {
    fn ip(buf: &mut String, addr: Option<IpAddr>) -> Option<&str> {
        ip_into(buf, addr?);
        Some(buf.as_str())
    }
    let quoted = match p.icmp.as_ref().and_then(|i| i.quoted.as_ref()) {
        Some(q) => Some(
            serde_json::to_string(q)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        ),
        None => None,
    };
    let values: [&dyn ToSql; PACKET_PARAMS] = [
        &p.time.micros(),
        &seq,
        &p.iface,
        &ip(&mut scratch.src, p.src_ip),
        &ip(&mut scratch.dst, p.dst_ip),
        &p.src_port,
        &p.dst_port,
        &p.protocol.as_str(),
        &p.tcp_flags,
        &p.icmp.as_ref().map(|i| i.icmp_type),
        &p.icmp.as_ref().map(|i| i.code),
        &quoted,
        &p.wire_len,
        &p.ip_len,
        &p.no_ports,
        &host,
    ];
    for (i, v) in values.iter().enumerate() {
        stmt.raw_bind_parameter(base + i + 1, v)?;
    }
    Ok(())
}

/// Deletes the `n` oldest packets (by time, then insertion). The primary key is
/// (time, seq), so finding the n-th oldest walks `n` keys from the start of the table
/// and both deletes are key ranges.
fn delete_oldest_packets(conn: &Connection, n: u64) -> rusqlite::Result<u64> {
    let offset = i64::try_from(n).unwrap_or(i64::MAX) - 1;
    let mut nth =
        conn.prepare_cached("SELECT time, seq FROM packets ORDER BY time, seq LIMIT 1 OFFSET ?1")?;
    let Some((time, seq)) = nth
        .query_row([offset], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .optional()?
    else {
        return Ok(0);
    };
    let mut before = conn.prepare_cached("DELETE FROM packets WHERE time < ?1")?;
    let mut at = conn.prepare_cached("DELETE FROM packets WHERE time = ?1 AND seq <= ?2")?;
    Ok((before.execute([time])? + at.execute([time, seq])?) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_formatted_addresses_match_display() {
        let mut buf = String::new();
        for text in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.99.100",
            "255.255.255.255",
            "192.168.1.10",
            "::1",
            "2001:db8::ff00:42:8329",
            "::ffff:1.2.3.4",
        ] {
            let addr: IpAddr = text.parse().unwrap();
            ip_into(&mut buf, addr);
            assert_eq!(buf, addr.to_string());
        }
    }
}
