//! The agent's spool: batches not yet stored by the server, in a SQLite file of their own
//! in the data dir, so they survive a restart or `kill -9`. Bounded by size and age: past
//! either bound the oldest batches are dropped and counted, and the counts persist.

use anyhow::Context;
use netsnoop_core::Ts;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The file in the data dir.
pub const SPOOL_FILE: &str = "agent-spool.db";

/// One spooled batch: its records as a JSON array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spooled {
    pub seq: u64,
    pub records: u64,
    pub body: Vec<u8>,
}

/// The spool's figures, sent with every batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpoolStats {
    pub batches: u64,
    pub bytes: u64,
    pub dropped_batches: u64,
    pub dropped_records: u64,
}

/// How much the spool may hold.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_bytes: u64,
    pub max_age: Duration,
}

pub struct Spool {
    conn: Mutex<Connection>,
    bounds: Bounds,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    seq     INTEGER PRIMARY KEY,
    created INTEGER NOT NULL,
    records INTEGER NOT NULL,
    body    BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters VALUES ('next_seq', 1), ('dropped_batches', 0),
    ('dropped_records', 0);
";

impl Spool {
    pub fn open(path: &Path, bounds: Bounds) -> anyhow::Result<Spool> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the agent spool {}", path.display()))?;
        // FULL: a batch the agent took must be on disk before anything forgets it.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
        )
        .and_then(|()| conn.execute_batch(SCHEMA))
        .with_context(|| format!("cannot set up the agent spool {}", path.display()))?;
        Ok(Spool {
            conn: Mutex::new(conn),
            bounds,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a batch under the next sequence, then enforces the bounds; returns its seq.
    pub fn push(&self, body: &[u8], records: u64, now: Ts) -> anyhow::Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let seq: i64 = tx.query_row(
            "UPDATE counters SET value = value + 1 WHERE name = 'next_seq' RETURNING value - 1",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO batches (seq, created, records, body) VALUES (?1, ?2, ?3, ?4)",
            params![seq, now.micros(), records as i64, body],
        )?;
        enforce(&tx, self.bounds, now)?;
        tx.commit().context("cannot commit to the agent spool")?;
        Ok(seq as u64)
    }

    /// The oldest batch after `after`.
    pub fn next_after(&self, after: u64) -> anyhow::Result<Option<Spooled>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT seq, records, body FROM batches WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [after as i64],
                |r| {
                    Ok(Spooled {
                        seq: r.get::<_, i64>(0)? as u64,
                        records: r.get::<_, i64>(1)? as u64,
                        body: r.get(2)?,
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    /// Forgets every batch up to `seq`: the server has stored them.
    pub fn forget_through(&self, seq: u64) -> anyhow::Result<()> {
        self.conn().execute(
            "DELETE FROM batches WHERE seq <= ?1",
            [i64::try_from(seq).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    /// Drops one batch the server refused as malformed, counted like a bound drop.
    pub fn drop_refused(&self, seq: u64) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        drop_where(&tx, "seq = ?1", seq as i64)?;
        tx.commit()?;
        Ok(())
    }

    /// Sequences continue above what the server has stored (a spool lost with its disk
    /// must not reuse numbers the server would take for retries).
    pub fn continue_after(&self, committed: u64) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE counters SET value = max(value, ?1) WHERE name = 'next_seq'",
            [i64::try_from(committed).unwrap_or(i64::MAX - 1) + 1],
        )?;
        Ok(())
    }

    pub fn stats(&self) -> anyhow::Result<SpoolStats> {
        let conn = self.conn();
        let (batches, bytes): (i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM batches",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let counter = |name: &str| -> rusqlite::Result<u64> {
            conn.query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v.max(0) as u64)
        };
        Ok(SpoolStats {
            batches: batches as u64,
            bytes: bytes as u64,
            dropped_batches: counter("dropped_batches")?,
            dropped_records: counter("dropped_records")?,
        })
    }
}

/// Drops the oldest batches while the spool is older or larger than its bounds (the
/// newest batch always stays).
fn enforce(conn: &Connection, bounds: Bounds, now: Ts) -> rusqlite::Result<()> {
    let oldest_kept = now.micros() - i64::try_from(bounds.max_age.as_micros()).unwrap_or(i64::MAX);
    drop_where(
        conn,
        "created < ?1 AND seq < (SELECT max(seq) FROM batches)",
        oldest_kept,
    )?;
    let bytes: i64 = conn.query_row(
        "SELECT coalesce(sum(length(body)), 0) FROM batches",
        [],
        |r| r.get(0),
    )?;
    let mut over = bytes - i64::try_from(bounds.max_bytes).unwrap_or(i64::MAX);
    while over > 0 {
        let Some((seq, len)): Option<(i64, i64)> = conn
            .query_row(
                "SELECT seq, length(body) FROM batches
                 WHERE seq < (SELECT max(seq) FROM batches) ORDER BY seq LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        else {
            break;
        };
        drop_where(conn, "seq = ?1", seq)?;
        over -= len;
    }
    Ok(())
}

fn drop_where(conn: &Connection, condition: &str, value: i64) -> rusqlite::Result<()> {
    let (batches, records): (i64, i64) = conn.query_row(
        &format!("SELECT count(*), coalesce(sum(records), 0) FROM batches WHERE {condition}"),
        [value],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if batches == 0 {
        return Ok(());
    }
    conn.execute(&format!("DELETE FROM batches WHERE {condition}"), [value])?;
    conn.execute(
        "UPDATE counters SET value = value + ?1 WHERE name = 'dropped_batches'",
        [batches],
    )?;
    conn.execute(
        "UPDATE counters SET value = value + ?1 WHERE name = 'dropped_records'",
        [records],
    )?;
    tracing::warn!(
        batches,
        records,
        "agent spool over its bound: oldest batches dropped"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(max_bytes: u64) -> Bounds {
        Bounds {
            max_bytes,
            max_age: Duration::from_secs(3600),
        }
    }

    #[test]
    fn batches_survive_a_reopen_in_order_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SPOOL_FILE);
        let spool = Spool::open(&path, bounds(1 << 20)).unwrap();
        let t = Ts::from_secs(1_000);
        assert_eq!(spool.push(b"[1]", 1, t).unwrap(), 1);
        assert_eq!(spool.push(b"[2,3]", 2, t).unwrap(), 2);
        drop(spool);

        let spool = Spool::open(&path, bounds(1 << 20)).unwrap();
        let first = spool.next_after(0).unwrap().unwrap();
        assert_eq!(
            (first.seq, first.records, first.body.as_slice()),
            (1, 1, &b"[1]"[..])
        );
        assert_eq!(spool.next_after(1).unwrap().unwrap().seq, 2);
        spool.forget_through(1).unwrap();
        assert_eq!(spool.next_after(0).unwrap().unwrap().seq, 2);
        assert_eq!(
            spool.push(b"[4]", 1, t).unwrap(),
            3,
            "numbers are never reused"
        );
        let s = spool.stats().unwrap();
        assert_eq!((s.batches, s.dropped_batches), (2, 0));
    }

    #[test]
    fn past_the_size_bound_the_oldest_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join(SPOOL_FILE), bounds(25)).unwrap();
        let t = Ts::from_secs(1_000);
        for _ in 0..5 {
            spool.push(&[b'x'; 10], 3, t).unwrap();
        }
        let s = spool.stats().unwrap();
        assert_eq!((s.batches, s.bytes), (2, 20));
        assert_eq!((s.dropped_batches, s.dropped_records), (3, 9));
        assert_eq!(spool.next_after(0).unwrap().unwrap().seq, 4);
    }

    #[test]
    fn past_the_age_bound_the_oldest_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join(SPOOL_FILE), bounds(1 << 20)).unwrap();
        spool.push(b"[]", 4, Ts::from_secs(1_000)).unwrap();
        spool.push(b"[]", 5, Ts::from_secs(1_000 + 7_200)).unwrap();
        let s = spool.stats().unwrap();
        assert_eq!((s.batches, s.dropped_batches, s.dropped_records), (1, 1, 4));
    }

    #[test]
    fn sequences_continue_above_what_the_server_stored() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join(SPOOL_FILE), bounds(1 << 20)).unwrap();
        spool.continue_after(41).unwrap();
        assert_eq!(spool.push(b"[]", 0, Ts::from_secs(1)).unwrap(), 42);
        spool.continue_after(10).unwrap();
        assert_eq!(spool.push(b"[]", 0, Ts::from_secs(1)).unwrap(), 43);
    }
}
