//! Retention for SQLite: delete by age per table kind, then oldest-first until the
//! database is under its size limit, and hand the freed pages back to the file system.

use super::query::sizes;
use super::tiers::TIERS;
use crate::model::RetentionReport;
use crate::{Result, RetentionConfig, StoreError};
use netsnoop_core::Ts;
use rusqlite::{Connection, OptionalExtension, Transaction};
use std::time::Duration;

/// One kind of data and the tables that hold it, in the order they are sacrificed when
/// the database is too big: bulky, re-derivable data first, alerts last.
struct Kind {
    name: String,
    tables: Vec<String>,
    column: &'static str,
    unit: Unit,
    age: fn(&RetentionConfig) -> Option<Duration>,
}

/// What the time column holds.
enum Unit {
    Micros,
    /// The first Unix second of a rollup bucket this many seconds wide. Cutoffs fall on
    /// bucket edges, so a bucket goes whole or not at all.
    Buckets(i64),
}

fn micros(name: &str, column: &'static str, age: fn(&RetentionConfig) -> Option<Duration>) -> Kind {
    Kind {
        name: name.to_string(),
        tables: vec![name.to_string()],
        column,
        unit: Unit::Micros,
        age,
    }
}

/// Every kind in sacrifice order. Finer rollup tiers go before coarser ones, which keeps
/// every second still held covered by its minute and hour.
fn kinds() -> Vec<Kind> {
    let mut kinds = vec![
        micros("packets", "time", |c| c.packets),
        micros("process_samples", "time", |c| c.process_samples),
        micros("system_samples", "time", |c| c.system_samples),
        micros("process_events", "time", |c| c.process_events),
        micros("flows", "last_seen", |c| c.flows),
    ];
    kinds.extend(TIERS.iter().map(|t| Kind {
        name: t.name(),
        tables: t.tables().collect(),
        column: "second",
        unit: Unit::Buckets(t.width),
        age: t.keep,
    }));
    kinds.push(micros("losses", "time", |c| c.losses));
    kinds.push(micros("alerts", "last_seen", |c| c.alerts));
    kinds
}

impl Kind {
    /// `now - age` in this kind's unit.
    fn cutoff(&self, now: Ts, age: Duration) -> i64 {
        let age_us = i64::try_from(age.as_micros()).unwrap_or(i64::MAX);
        let cut = now.micros().saturating_sub(age_us);
        match self.unit {
            Unit::Micros => cut,
            Unit::Buckets(width) => {
                let second = cut.div_euclid(1_000_000);
                second - second.rem_euclid(width)
            }
        }
    }

    /// Deletes every row with a time before `cutoff` (or at or before, if `inclusive`).
    fn delete_before(
        &self,
        tx: &Transaction<'_>,
        cutoff: i64,
        inclusive: bool,
    ) -> rusqlite::Result<u64> {
        let op = if inclusive { "<=" } else { "<" };
        // Rollup rows are keyed by (host, second): one key range per host.
        let hosts = match self.unit {
            Unit::Micros => "",
            Unit::Buckets(_) => "host IN (SELECT 0 UNION SELECT key FROM hosts) AND ",
        };
        let mut n = 0;
        for table in &self.tables {
            // Table and column names are constants of this crate, never input.
            let mut stmt = tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE {hosts}{} {op} ?1",
                self.column
            ))?;
            n += stmt.execute([cutoff])? as u64;
        }
        Ok(n)
    }

    /// Deletes roughly `share` of this kind's oldest rows (at least 100). Returns rows
    /// deleted; 0 means the kind is empty. (A rollup tier's first table,
    /// `traffic_seconds…`, has an index on `second` for this; migration 10.)
    fn delete_oldest(&self, tx: &Transaction<'_>, share: f64) -> rusqlite::Result<u64> {
        let first = &self.tables[0];
        let rows: i64 = tx.query_row(&format!("SELECT count(*) FROM {first}"), [], |r| r.get(0))?;
        if rows == 0 {
            return Ok(0);
        }
        let chunk = ((rows as f64 * share).ceil() as i64).max(100);
        let nth: Option<i64> = tx
            .query_row(
                &format!(
                    "SELECT {c} FROM {first} ORDER BY {c} LIMIT 1 OFFSET ?1",
                    c = self.column
                ),
                [chunk - 1],
                |r| r.get(0),
            )
            .optional()?;
        self.delete_before(tx, nth.unwrap_or(i64::MAX), true)
    }
}

pub(super) fn apply(
    conn: &mut Connection,
    now: Ts,
    cfg: &RetentionConfig,
) -> Result<RetentionReport> {
    let doing = "applying retention";
    let mut report = RetentionReport::default();
    let tx = conn.transaction().map_err(StoreError::sql(doing))?;
    (report.bytes_before, _) = sizes(&tx).map_err(StoreError::sql(doing))?;
    for kind in &kinds() {
        if let Some(age) = (kind.age)(cfg) {
            let n = kind
                .delete_before(&tx, kind.cutoff(now, age), false)
                .map_err(StoreError::sql(doing))?;
            if n > 0 {
                report.by_age.insert(kind.name.clone(), n);
            }
        }
    }
    if let Some(max) = cfg.max_db_bytes {
        report.size_limit_unreached =
            !shrink_to(&tx, max, &mut report).map_err(StoreError::sql(doing))?;
    }
    tx.commit().map_err(StoreError::sql(doing))?;
    if report.total_deleted() > 0 {
        release_free_pages(conn)
            .map_err(StoreError::sql("returning free space to the file system"))?;
    }
    (report.bytes_after, _) = sizes(conn).map_err(StoreError::sql(doing))?;
    Ok(report)
}

/// Deletes oldest rows, kind by kind, until the pages in use fit in `max` bytes.
/// Returns whether it got there.
fn shrink_to(
    tx: &Transaction<'_>,
    max: u64,
    report: &mut RetentionReport,
) -> rusqlite::Result<bool> {
    for kind in &kinds() {
        loop {
            let (used, _) = sizes(tx)?;
            if used <= max {
                return Ok(true);
            }
            // Delete the share of rows we are over by (a little more, so index and
            // half-empty pages do not make us creep up on the limit one chunk at a time).
            let share = ((used - max) as f64 / used as f64 * 1.2).clamp(0.05, 1.0);
            let n = kind.delete_oldest(tx, share)?;
            if n == 0 {
                break;
            }
            *report.by_size.entry(kind.name.clone()).or_default() += n;
        }
    }
    Ok(sizes(tx)?.0 <= max)
}

/// Truncates the file by the free pages (auto_vacuum = INCREMENTAL) and the WAL with it.
fn release_free_pages(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    // Blocks only for readers in the middle of a query; they are short.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}
