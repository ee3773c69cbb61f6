//! Silences and alert acknowledgements in SQLite (migration 7).

use crate::store::clamp_limit;
use crate::{Result, StoreError};
use netsnoop_core::Ts;
use netsnoop_core::silence::{Ack, Matcher, Silence};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn add_silence(conn: &Connection, s: &Silence) -> Result<i64> {
    let matcher = serde_json::to_string(&s.matcher).map_err(|source| StoreError::BadJson {
        column: "silences.matcher",
        source,
    })?;
    conn.execute(
        "INSERT INTO silences (matcher, starts_at, ends_at, author, comment) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![matcher, s.starts_at.micros(), s.ends_at.micros(), s.author, s.comment],
    )
    .map_err(StoreError::sql("storing a silence"))?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn silences(
    conn: &Connection,
    active_at: Option<Ts>,
    limit: u32,
) -> Result<Vec<Silence>> {
    let (sql, at) = match active_at {
        Some(t) => (
            "SELECT id, matcher, starts_at, ends_at, author, comment FROM silences \
             WHERE ends_at > ?1 AND starts_at <= ?1 ORDER BY id DESC LIMIT ?2",
            t.micros(),
        ),
        None => (
            "SELECT id, matcher, starts_at, ends_at, author, comment FROM silences \
             WHERE ?1 = ?1 ORDER BY id DESC LIMIT ?2",
            0,
        ),
    };
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(StoreError::sql("reading silences"))?;
    let rows = stmt
        .query_map(params![at, clamp_limit(limit)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(StoreError::sql("reading silences"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, matcher, starts, ends, author, comment) =
            row.map_err(StoreError::sql("reading silences"))?;
        let matcher: Matcher =
            serde_json::from_str(&matcher).map_err(|source| StoreError::BadJson {
                column: "silences.matcher",
                source,
            })?;
        out.push(Silence {
            id,
            matcher,
            starts_at: Ts(starts),
            ends_at: Ts(ends),
            author,
            comment,
        });
    }
    Ok(out)
}

pub(crate) fn ack_alert(conn: &Connection, a: &Ack) -> Result<bool> {
    let exists: Option<i64> = conn
        .query_row("SELECT 1 FROM alerts WHERE id = ?1", [&a.alert_id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(StoreError::sql("looking up the alert to acknowledge"))?;
    if exists.is_none() {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO alert_acks (alert_id, author, comment, at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(alert_id) DO UPDATE SET author = ?2, comment = ?3, at = ?4",
        params![a.alert_id, a.author, a.comment, a.at.micros()],
    )
    .map_err(StoreError::sql("storing an acknowledgement"))?;
    Ok(true)
}

pub(crate) fn acks(conn: &Connection, limit: u32) -> Result<Vec<Ack>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT alert_id, author, comment, at FROM alert_acks ORDER BY at DESC LIMIT ?1",
        )
        .map_err(StoreError::sql("reading acknowledgements"))?;
    let rows = stmt
        .query_map([clamp_limit(limit)], |r| {
            Ok(Ack {
                alert_id: r.get(0)?,
                author: r.get(1)?,
                comment: r.get(2)?,
                at: Ts(r.get(3)?),
            })
        })
        .map_err(StoreError::sql("reading acknowledgements"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(StoreError::sql("reading acknowledgements"))
}
