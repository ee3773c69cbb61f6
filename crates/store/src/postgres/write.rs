//! The PostgreSQL write path: one transaction per batch; packets, process events,
//! samples, flows and losses by binary COPY (`copy`), alerts upserted by episode id,
//! rollups summed in memory then added (`tiers_sql`), the packet row cap kept. Every row
//! names its host by key (`hosts`); agent batches' marks commit with their records.

use super::copy::CopyBuf;
use super::hosts::HostKeys;
use super::partitions::{self, Known};
use super::tiers_sql;
use crate::model::WriteReport;
use crate::sqlite::severity_rank;
use crate::sqlite::traffic::{TrafficSums, ip_into};
use crate::{BatchMark, OpenOptions, Result, StoreError};
use netsnoop_core::event::ProcSample;
use netsnoop_core::{Alert, Event, FlowRecord, Loss, PacketMeta, ProcessEvent, Record};
use postgres::{Client, Transaction};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What the writer connection tracks between batches.
pub(crate) struct WriteState {
    pub(crate) partitions: Known,
    /// Rows in the packet table, so the row cap needs no count per batch (`None`: count
    /// before the next capped write).
    pub(crate) packet_rows: Option<u64>,
    /// Marks every committed batch in `netsnoop_batches`, so a retry after a commit whose
    /// answer was lost never stores the batch twice.
    pub(crate) batches: BatchMarks,
    /// Keys of the hosts this writer has seen.
    pub(crate) hosts: HostKeys,
}

/// This writer's batch numbers. A commit can succeed on the server while the connection
/// dies before the answer arrives; the writer thread then retries the same records. The
/// batch left in doubt is looked up first, and not written again if it committed.
pub(crate) struct BatchMarks {
    /// Tells this process's batches from those of other servers sharing the database.
    writer: i64,
    next: i64,
    /// The batch whose last attempt failed: its number and what identifies its records.
    in_doubt: Option<(i64, BatchKey)>,
}

/// The same slices of records and marks handed again: the writer thread's retry of one
/// batch. The marks count too: batches of marks alone have no records to tell apart.
#[derive(Clone, Copy, PartialEq, Eq)]
struct BatchKey {
    at: usize,
    len: usize,
    first: i64,
    last: i64,
    marks_at: usize,
    marks: usize,
    last_mark: u64,
}

impl BatchKey {
    fn of(records: &[Record], marks: &[BatchMark]) -> BatchKey {
        let time = |r: Option<&Record>| match r {
            Some(Record::Event(e)) => e.time().micros(),
            Some(Record::Alert(a)) => a.last_seen.micros(),
            None => 0,
        };
        BatchKey {
            at: records.as_ptr() as usize,
            len: records.len(),
            first: time(records.first()),
            last: time(records.last()),
            marks_at: marks.as_ptr() as usize,
            marks: marks.len(),
            last_mark: marks.last().map_or(0, |m| m.seq),
        }
    }
}

impl BatchMarks {
    pub(crate) fn new() -> BatchMarks {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_i64(netsnoop_core::Ts::now().micros());
        BatchMarks {
            writer: h.finish() as i64,
            next: 1,
            in_doubt: None,
        }
    }
}

/// Rows headed for each COPY, encoded as the batch is walked.
struct Copies {
    packets: CopyBuf,
    process_events: CopyBuf,
    system_samples: CopyBuf,
    process_samples: CopyBuf,
    flows: CopyBuf,
    losses: CopyBuf,
    /// Days each partitioned table receives rows for.
    days: [BTreeSet<i64>; 4],
}

const PACKETS: &str = "packets (time, iface, src_ip, dst_ip, src_port, dst_port, protocol, \
     tcp_flags, icmp_type, icmp_code, icmp_quoted, wire_len, ip_len, no_ports, host)";
const PROCESS_EVENTS: &str = "process_events (time, kind, pid, ppid, start_ticks, uid, \"user\", \
     comm, exe, argv, argv_complete, cwd, cgroup, exit_code, ancestry, host)";
const SYSTEM_SAMPLES: &str = "system_samples (time, cpu_pct, per_core_pct, mem_total, mem_used, \
     mem_available, swap_total, swap_used, load1, load5, load15, psi_cpu, psi_memory, psi_io, \
     forks_total, procs_running, host)";
const PROCESS_SAMPLES: &str = "process_samples (time, pid, start_ticks, ppid, comm, \"user\", \
     cmdline, cpu_pct, rss_bytes, host)";
const FLOWS: &str = "flows (first_seen, last_seen, protocol, orig_ip, orig_port, resp_ip, \
     resp_port, orig_packets, orig_bytes, resp_packets, resp_bytes, state, end_reason, \
     orig_pid, orig_comm, orig_unknown, orig_owner, resp_pid, resp_comm, resp_unknown, resp_owner, host)";
const LOSSES: &str = "losses (time, source, count, reason, host)";

/// Why a batch's transaction failed: in PostgreSQL (perhaps after its commit was sent),
/// or on a record that cannot be stored (before anything was committed).
enum Failure {
    Pg(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Pg(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

pub(crate) fn write_batch(
    client: &mut Client,
    state: &mut WriteState,
    records: &[Record],
    marks: &[BatchMark],
    opts: &OpenOptions,
) -> Result<WriteReport> {
    let doing = "writing a batch";
    let key = BatchKey::of(records, marks);
    let retry = state.batches.in_doubt.filter(|(_, k)| *k == key);
    let seq = match retry {
        Some((seq, _)) => {
            let marked = client
                .query_opt(
                    "SELECT 1 FROM netsnoop_batches WHERE writer = $1 AND seq = $2",
                    &[&state.batches.writer, &seq],
                )
                .map_err(StoreError::pg(doing))?;
            if marked.is_some() {
                // It committed; only the answer was lost. Its rows are counted already.
                state.batches.in_doubt = None;
                state.packet_rows = None;
                return Ok(WriteReport {
                    records: records.len() as u64,
                    ..WriteReport::default()
                });
            }
            seq
        }
        None => {
            let seq = state.batches.next;
            state.batches.next += 1;
            seq
        }
    };
    let mut report = WriteReport {
        records: records.len() as u64,
        ..WriteReport::default()
    };
    match write_tx(client, state, records, marks, opts, seq, &mut report) {
        Ok(rows_after) => {
            state.packet_rows = Some(rows_after);
            state.batches.in_doubt = None;
            Ok(report)
        }
        Err(e) => {
            // The transaction rolled back, or committed with its answer lost: partitions
            // and hosts it created may be gone again.
            state.partitions.clear();
            state.hosts.forget();
            match e {
                Failure::Pg(e) => {
                    // A retry looks the batch up first.
                    state.batches.in_doubt = Some((seq, key));
                    Err(StoreError::pg(doing)(e))
                }
                // Refused before the commit: nothing of it is stored.
                Failure::Store(e) => {
                    state.batches.in_doubt = None;
                    Err(e)
                }
            }
        }
    }
}

/// The batch's transaction; returns the packet rows after it.
fn write_tx(
    client: &mut Client,
    state: &mut WriteState,
    records: &[Record],
    marks: &[BatchMark],
    opts: &OpenOptions,
    seq: i64,
    report: &mut WriteReport,
) -> Result<u64, Failure> {
    let writer = state.batches.writer;
    let mut tx = client.transaction()?;
    tx.execute(
        "INSERT INTO netsnoop_batches (writer, seq) VALUES ($1, $2)",
        &[&writer, &seq],
    )?;
    if seq % 1000 == 0 {
        tx.execute(
            "DELETE FROM netsnoop_batches WHERE writer = $1 AND seq < $2",
            &[&writer, &(seq - 100)],
        )?;
    }
    let mut c = Copies {
        packets: CopyBuf::new(15),
        process_events: CopyBuf::new(16),
        system_samples: CopyBuf::new(17),
        process_samples: CopyBuf::new(10),
        flows: CopyBuf::new(22),
        losses: CopyBuf::new(5),
        days: Default::default(),
    };
    let mut traffic = TrafficSums::default();
    let mut alerts: Vec<(&Alert, i64)> = Vec::new();
    for record in records {
        let host = state
            .hosts
            .key(&mut tx, record.host().map(|h| h.as_ref()))?;
        match record {
            Record::Alert(a) => alerts.push((a, host)),
            Record::Event(Event::Packet(p)) => packet(&mut c, p, host)?,
            Record::Event(Event::Process(e)) => process_event(&mut c, e, host)?,
            Record::Event(Event::Resources(s)) => resources(&mut c, s, opts, host)?,
            Record::Event(Event::Flow(f)) => flow(&mut c, f, host)?,
            Record::Event(Event::Traffic(t)) => report.rows += traffic.add(t),
            Record::Event(Event::Loss(l)) => loss(&mut c, l, host)?,
            // Attribution records live in the flows they are joined into.
            Record::Event(Event::Connection(_)) => {}
        }
    }
    for (table, days) in super::schema::PARTITIONED.iter().zip(&c.days) {
        state
            .partitions
            .ensure(&mut tx, table, days.iter().copied())?;
    }
    let packets = c.packets.send(&mut tx, PACKETS)?;
    report.rows += packets;
    report.rows += c.process_events.send(&mut tx, PROCESS_EVENTS)?;
    report.rows += c.system_samples.send(&mut tx, SYSTEM_SAMPLES)?;
    report.rows += c.process_samples.send(&mut tx, PROCESS_SAMPLES)?;
    report.rows += c.flows.send(&mut tx, FLOWS)?;
    report.rows += c.losses.send(&mut tx, LOSSES)?;
    for (a, host) in &alerts {
        report.rows += upsert_alert(&mut tx, a, *host)?;
    }
    tiers_sql::write(&mut tx, &traffic)?;
    for m in marks {
        super::hosts::mark(&mut tx, m)?;
    }
    let rows_after = cap_packets(&mut tx, state.packet_rows, packets, opts, report)?;
    tx.commit()?;
    Ok(rows_after)
}

/// Deletes the oldest packets past the row cap. Returns the rows left.
fn cap_packets(
    tx: &mut Transaction<'_>,
    packet_rows: Option<u64>,
    inserted: u64,
    opts: &OpenOptions,
    report: &mut WriteReport,
) -> Result<u64, postgres::Error> {
    let before = match packet_rows {
        Some(n) => n,
        None => {
            let n: i64 = tx.query_one("SELECT count(*) FROM packets", &[])?.get(0);
            n.max(0) as u64 - inserted.min(n.max(0) as u64)
        }
    };
    let after = before + inserted;
    let Some(cap) = opts.retention.max_packet_rows.filter(|&cap| after > cap) else {
        return Ok(after);
    };
    let excess = i64::try_from(after - cap).unwrap_or(i64::MAX);
    let deleted = tx.execute(
        "DELETE FROM packets WHERE (time, seq) <= (
             SELECT time, seq FROM packets ORDER BY time, seq OFFSET $1 LIMIT 1)",
        &[&(excess - 1)],
    )?;
    report.packets_capped = deleted;
    Ok(after - deleted)
}

fn json<T: serde::Serialize>(column: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| StoreError::BadJson { column, source })
}

/// Text may not hold NUL in PostgreSQL: such a record is refused on its own.
fn checked<'a>(column: &'static str, s: &'a str) -> Result<&'a str> {
    if s.contains('\0') {
        return Err(StoreError::Unstorable {
            reason: format!("{column} holds a NUL character, which PostgreSQL text cannot"),
        });
    }
    Ok(s)
}

fn opt_checked<'a>(column: &'static str, s: Option<&'a str>) -> Result<Option<&'a str>> {
    s.map(|s| checked(column, s)).transpose()
}

fn ip(c: &mut CopyBuf, addr: Option<IpAddr>) {
    match addr {
        Some(a) => {
            c.text_with(|buf| {
                let mut s = String::new();
                ip_into(&mut s, a);
                buf.extend_from_slice(s.as_bytes());
            });
        }
        None => {
            c.null();
        }
    }
}

fn packet(c: &mut Copies, p: &PacketMeta, host: i64) -> Result<()> {
    let quoted = match p.icmp.as_ref().and_then(|i| i.quoted.as_ref()) {
        Some(q) => Some(json("packets.icmp_quoted", q)?),
        None => None,
    };
    c.days[0].insert(partitions::day_of(p.time.micros()));
    let b = &mut c.packets;
    b.row().int(p.time.micros()).int(i64::from(p.iface));
    ip(b, p.src_ip);
    ip(b, p.dst_ip);
    b.int(i64::from(p.src_port))
        .int(i64::from(p.dst_port))
        .text(p.protocol.as_str())
        .int(i64::from(p.tcp_flags))
        .opt_int(p.icmp.as_ref().map(|i| i64::from(i.icmp_type)))
        .opt_int(p.icmp.as_ref().map(|i| i64::from(i.code)))
        .opt_text(quoted.as_deref())
        .int(i64::from(p.wire_len))
        .int(i64::from(p.ip_len))
        .boolean(p.no_ports)
        .int(host);
    Ok(())
}

fn process_event(c: &mut Copies, e: &ProcessEvent, host: i64) -> Result<()> {
    let argv = json("process_events.argv", &e.argv)?;
    let ancestry = json("process_events.ancestry", &e.ancestry)?;
    let comm = checked("process_events.comm", &e.comm)?;
    let user = opt_checked("process_events.user", e.user.as_deref())?;
    let exe = opt_checked("process_events.exe", e.exe.as_deref())?;
    let cwd = opt_checked("process_events.cwd", e.cwd.as_deref())?;
    let cgroup = opt_checked("process_events.cgroup", e.cgroup.as_deref())?;
    c.days[1].insert(partitions::day_of(e.time.micros()));
    c.process_events
        .row()
        .int(e.time.micros())
        .text(e.kind.as_str())
        .int(i64::from(e.pid))
        .int(i64::from(e.ppid))
        .uint(e.start_ticks)?
        .opt_int(e.uid.map(i64::from))
        .opt_text(user)
        .text(comm)
        .opt_text(exe)
        .text(&argv)
        .boolean(e.argv_complete)
        .opt_text(cwd)
        .opt_text(cgroup)
        .opt_int(e.exit_code.map(i64::from))
        .text(&ancestry)
        .int(host);
    Ok(())
}

/// NaN as NULL, as SQLite stores it, so both read back the same.
fn real(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn resources(
    c: &mut Copies,
    s: &netsnoop_core::ResourceSample,
    opts: &OpenOptions,
    host: i64,
) -> Result<()> {
    let sys = &s.system;
    let per_core: Vec<Option<f64>> = sys.per_core_pct.iter().map(|&v| real(v)).collect();
    let per_core = json("system_samples.per_core_pct", &per_core)?;
    let mut top: Vec<&ProcSample> = s.processes.iter().collect();
    top.sort_by(|a, b| {
        b.cpu_pct
            .total_cmp(&a.cpu_pct)
            .then(b.rss_bytes.cmp(&a.rss_bytes))
    });
    top.truncate(opts.process_samples_top_n);
    for p in &top {
        checked("process_samples.comm", &p.comm)?;
        checked("process_samples.cmdline", &p.cmdline)?;
        opt_checked("process_samples.user", p.user.as_deref())?;
    }
    let time = sys.time.micros();
    c.days[2].insert(partitions::day_of(time));
    c.system_samples
        .row()
        .int(time)
        .opt_float(real(sys.cpu_pct))
        .text(&per_core)
        .uint(sys.mem_total)?
        .uint(sys.mem_used)?
        .uint(sys.mem_available)?
        .uint(sys.swap_total)?
        .uint(sys.swap_used)?
        .opt_float(real(sys.load1))
        .opt_float(real(sys.load5))
        .opt_float(real(sys.load15))
        .opt_float(sys.psi_cpu)
        .opt_float(sys.psi_memory)
        .opt_float(sys.psi_io)
        .uint(sys.forks_total)?
        .int(i64::from(sys.procs_running))
        .int(host);
    if !top.is_empty() {
        c.days[3].insert(partitions::day_of(time));
    }
    for p in top {
        c.process_samples
            .row()
            .int(time)
            .int(i64::from(p.pid))
            .uint(p.start_ticks)?
            .int(i64::from(p.ppid))
            .text(&p.comm)
            .opt_text(p.user.as_deref())
            .text(&p.cmdline)
            .opt_float(real(p.cpu_pct))
            .uint(p.rss_bytes)?
            .int(host);
    }
    Ok(())
}

fn flow(c: &mut Copies, f: &FlowRecord, host: i64) -> Result<()> {
    let b = &mut c.flows;
    b.row()
        .int(f.first_seen.micros())
        .int(f.last_seen.micros())
        .text(f.protocol.as_str());
    ip(b, f.orig_ip);
    b.int(i64::from(f.orig_port));
    ip(b, f.resp_ip);
    b.int(i64::from(f.resp_port))
        .uint(f.orig_packets)?
        .uint(f.orig_bytes)?
        .uint(f.resp_packets)?
        .uint(f.resp_bytes)?
        .text(checked("flows.state", &f.state)?)
        .text(checked("flows.end_reason", &f.end_reason)?);
    for owner in [f.orig_owner.as_ref(), f.resp_owner.as_ref()] {
        let o = crate::sqlite::owners::columns(owner)?;
        b.opt_int(o.pid.map(i64::from))
            .opt_text(o.comm.as_deref())
            .opt_text(o.unknown)
            .opt_text(o.json.as_deref());
    }
    b.int(host);
    Ok(())
}

fn loss(c: &mut Copies, l: &Loss, host: i64) -> Result<()> {
    let source = checked("losses.source", &l.source)?;
    let reason = checked("losses.reason", &l.reason)?;
    c.losses
        .row()
        .int(l.time.micros())
        .text(source)
        .uint(l.count)?
        .text(reason)
        .int(host);
    Ok(())
}

fn upsert_alert(tx: &mut Transaction<'_>, a: &Alert, host: i64) -> Result<u64, postgres::Error> {
    // As in SQLite: an older update arriving late never overwrites a newer one, and
    // first_seen keeps the episode's start.
    let sql =
        "INSERT INTO alerts AS a (id, kind, severity, label, state, first_seen, last_seen, pid,
             process_name, \"user\", command, src_ip, dst_ip, message, details, host)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, severity = excluded.severity, label = excluded.label,
             state = excluded.state, first_seen = least(a.first_seen, excluded.first_seen),
             last_seen = excluded.last_seen, pid = excluded.pid,
             process_name = excluded.process_name, \"user\" = excluded.\"user\",
             command = excluded.command, src_ip = excluded.src_ip, dst_ip = excluded.dst_ip,
             message = excluded.message, details = excluded.details
         WHERE excluded.last_seen >= a.last_seen";
    let state = match a.state {
        netsnoop_core::AlertState::Active => "active",
        netsnoop_core::AlertState::Resolved => "resolved",
    };
    let s = &a.subject;
    let details = serde_json::to_string(&a.details).unwrap_or_else(|_| "null".into());
    let n = tx.execute(
        sql,
        &[
            &a.id,
            &a.kind,
            &severity_rank(a.severity),
            &a.label,
            &state,
            &a.first_seen.micros(),
            &a.last_seen.micros(),
            &s.pid.map(i64::from),
            &s.process_name,
            &s.user,
            &s.command,
            &s.src_ip.map(|i| i.to_string()),
            &s.dst_ip.map(|i| i.to_string()),
            &a.message,
            &details,
            &host,
        ],
    )?;
    Ok(n)
}
