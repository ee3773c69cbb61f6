//! The PostgreSQL write path: one transaction per batch; packets, process events,
//! samples, flows and losses by binary COPY (`encode`), alerts upserted by episode id,
//! rollups summed in memory then added (`tiers_sql`), the packet row cap kept. Every row
//! names its host by key (`hosts`); agent batches' marks commit with their records.

use super::encode::{Copies, flow, loss, packet, process_event, resources};
use super::hosts::HostKeys;
use super::partitions::Known;
use super::tiers_sql;
use crate::model::WriteReport;
use crate::sqlite::severity_rank;
use crate::sqlite::traffic::TrafficSums;
use crate::{BatchMark, OpenOptions, Result, StoreError};
use netsnoop_core::{Alert, Event, Record};
use postgres::{Client, Transaction};

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
    let mut c = Copies::new();
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
            Record::Event(Event::Traffic(t)) => report.rows += traffic.add(host, t),
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
    let (packets, rows) = c.send(&mut tx)?;
    report.rows += rows;
    for (a, host) in &alerts {
        report.rows += upsert_alert(&mut tx, a, *host)?;
    }
    tiers_sql::write(&mut tx, &traffic)?;
    state.hosts.seen(&mut tx, marks)?;
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
