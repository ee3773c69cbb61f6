//! The hosts registry in SQLite (migration 9): host keys for the write path, the local
//! host's row, agent enrolment, revocation and the marks of committed agent batches.

use crate::hosts::{AgentKey, BatchMark, HostRow};
use crate::{Result, StoreError};
use netsnoop_core::{Host, HostFilter, Ts};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// Host id → `hosts.key`, for the write path, and the hosts the batch being written
/// holds records of. Key 0 (a record without a host) is the store's own host and needs
/// no lookup.
#[derive(Default)]
pub(crate) struct HostKeys {
    /// Host id → key, for every host this writer has looked up.
    keys: HashMap<String, i64>,
    /// The keys of the batch being written, for [`HostKeys::seen`].
    touched: Vec<i64>,
}

impl HostKeys {
    /// The key of `host`, registering it on first sight (a host named by a POSTed
    /// packet, or an agent's record).
    pub(crate) fn key(&mut self, conn: &Connection, host: Option<&Host>) -> rusqlite::Result<i64> {
        let Some(host) = host else { return Ok(0) };
        let key = self.lookup(conn, host)?;
        if !self.touched.contains(&key) {
            self.touched.push(key);
        }
        Ok(key)
    }

    fn lookup(&mut self, conn: &Connection, host: &Host) -> rusqlite::Result<i64> {
        if let Some(&key) = self.keys.get(&host.id) {
            return Ok(key);
        }
        let now = Ts::now().micros();
        let key = conn
            .prepare_cached(
                "INSERT INTO hosts (id, name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name
                 RETURNING key",
            )?
            .query_row(params![host.id, host.name, now], |r| r.get(0))?;
        self.keys.insert(host.id.clone(), key);
        Ok(key)
    }

    /// Marks every host the batch held records of as seen now, so a host that sends
    /// without an agent (NetWatch's POST /packets) shows when it last sent. Hosts with a
    /// batch mark are left to it: an agent was seen when its batch was received.
    pub(crate) fn seen(&mut self, conn: &Connection, marks: &[BatchMark]) -> rusqlite::Result<()> {
        let now = Ts::now().micros();
        let marked: Vec<i64> = (marks.iter())
            .filter_map(|m| self.keys.get(&m.host.id).copied())
            .collect();
        for key in self.touched.drain(..).filter(|k| !marked.contains(k)) {
            conn.prepare_cached("UPDATE hosts SET last_seen = max(last_seen, ?1) WHERE key = ?2")?
                .execute(params![now, key])?;
        }
        Ok(())
    }

    /// After a rolled-back transaction: rows it registered are gone.
    pub(crate) fn forget(&mut self) {
        self.keys.clear();
        self.touched.clear();
    }
}

/// The SQL condition for rows of the hosts `f` names (by id or hostname), its values
/// appended to `args`; empty for every host.
pub(crate) fn host_clause(f: &HostFilter, args: &mut Vec<Value>) -> String {
    if f.is_all() {
        return String::new();
    }
    let marks = vec!["?"; f.0.len()].join(", ");
    for _ in 0..2 {
        args.extend(f.0.iter().map(|h| Value::Text(h.clone())));
    }
    format!(" AND host IN (SELECT key FROM hosts WHERE id IN ({marks}) OR name IN ({marks}))")
}

/// The keys of the hosts `f` names (by id or hostname); for the empty filter every
/// registered host and key 0 (the local host, whose rows may predate its registry row).
/// Unknown names resolve to nothing, so a filter naming no known host matches no rows.
pub(crate) fn keys(conn: &Connection, f: &HostFilter) -> Result<Vec<i64>> {
    let doing = "looking up host keys";
    if f.is_all() {
        return super::read::collect(
            conn,
            "SELECT 0 UNION SELECT key FROM hosts",
            [],
            doing,
            |r| Ok(r.get(0)?),
        );
    }
    let mut args = Vec::new();
    let marks = vec!["?"; f.0.len()].join(", ");
    for _ in 0..2 {
        args.extend(f.0.iter().map(|h| Value::Text(h.clone())));
    }
    super::read::collect(
        conn,
        &format!("SELECT key FROM hosts WHERE id IN ({marks}) OR name IN ({marks}) ORDER BY key"),
        rusqlite::params_from_iter(args),
        doing,
        |r| Ok(r.get(0)?),
    )
}

/// Names the store's own host (key 0), unless a host already holds key 0 (the data dir
/// came from another machine: its rows keep their name) or the id (an agent on this
/// host enrolled first).
pub(crate) fn set_local(conn: &Connection, host: &Host) -> rusqlite::Result<()> {
    let now = Ts::now().micros();
    conn.execute(
        "INSERT OR IGNORE INTO hosts (key, id, name, first_seen, last_seen)
         VALUES (0, ?1, ?2, ?3, ?3)",
        params![host.id, host.name, now],
    )?;
    conn.execute(
        "UPDATE hosts SET name = ?2, last_seen = ?3 WHERE key = 0 AND id = ?1",
        params![host.id, host.name, now],
    )?;
    Ok(())
}

/// Records a committed batch (inside the transaction that stores its records).
pub(crate) fn mark(conn: &Connection, m: &BatchMark) -> rusqlite::Result<()> {
    let status = serde_json::to_string(&m.status)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT INTO hosts (id, name, agent_version, first_seen, last_seen, committed_seq,
             newest_record, status)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, agent_version = excluded.agent_version,
             last_seen = excluded.last_seen,
             committed_seq = max(committed_seq, excluded.committed_seq),
             newest_record = max(coalesce(newest_record, excluded.newest_record),
                                 coalesce(excluded.newest_record, newest_record)),
             status = excluded.status",
    )?
    .execute(params![
        m.host.id,
        m.host.name,
        m.agent_version,
        m.received.micros(),
        i64::try_from(m.seq).unwrap_or(i64::MAX),
        m.newest_record.map(Ts::micros),
        status,
    ])?;
    Ok(())
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<HostRow>> {
    super::read::collect(
        conn,
        "SELECT key, id, name, agent_version, first_seen, last_seen, newest_record,
             committed_seq, key_hash IS NOT NULL, revoked, status
         FROM hosts ORDER BY key <> 0, id",
        [],
        "listing hosts",
        |r| {
            let status: Option<String> = r.get(10)?;
            Ok(HostRow {
                local: r.get::<_, i64>(0)? == 0,
                host: Host {
                    id: r.get(1)?,
                    name: r.get(2)?,
                },
                agent_version: r.get(3)?,
                first_seen: Ts(r.get(4)?),
                last_seen: Ts(r.get(5)?),
                newest_record: r.get::<_, Option<i64>>(6)?.map(Ts),
                committed_seq: r.get::<_, i64>(7)?.max(0) as u64,
                enrolled: r.get(8)?,
                revoked: r.get(9)?,
                // A status this build cannot read is shown as unknown, not an error.
                status: status.and_then(|s| serde_json::from_str(&s).ok()),
            })
        },
    )
}

pub(crate) fn enroll(
    conn: &Connection,
    host: &Host,
    agent_version: &str,
    key_hash: &str,
    now: Ts,
) -> Result<u64> {
    let seq: i64 = conn
        .query_row(
            "INSERT INTO hosts (id, name, agent_version, first_seen, last_seen, key_hash)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET
                 name = excluded.name, agent_version = excluded.agent_version,
                 last_seen = excluded.last_seen, key_hash = excluded.key_hash, revoked = 0
             RETURNING committed_seq",
            params![host.id, host.name, agent_version, now.micros(), key_hash],
            |r| r.get(0),
        )
        .map_err(StoreError::sql("enrolling a host"))?;
    Ok(seq.max(0) as u64)
}

pub(crate) fn agent_key(conn: &Connection, id: &str) -> Result<Option<AgentKey>> {
    conn.prepare_cached(
        "SELECT key_hash, revoked, committed_seq FROM hosts
         WHERE id = ?1 AND key_hash IS NOT NULL",
    )
    .and_then(|mut stmt| {
        stmt.query_row([id], |r| {
            Ok(AgentKey {
                key_hash: r.get(0)?,
                revoked: r.get(1)?,
                committed_seq: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })
        .optional()
    })
    .map_err(StoreError::sql("reading an agent key"))
}

pub(crate) fn revoke(conn: &Connection, id_or_name: &str) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE hosts SET revoked = 1
             WHERE key_hash IS NOT NULL AND (id = ?1 OR name = ?1)",
            [id_or_name],
        )
        .map_err(StoreError::sql("revoking a host"))?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use crate::sqlite::SqliteStore;
    use crate::{BatchMark, OpenOptions, Store};
    use netsnoop_core::fleet::AgentStatus;
    use netsnoop_core::{Event, Host, ProcessEvent, Record, Ts};
    use std::sync::Arc;

    fn exec(pid: u32, host: Option<&Host>) -> Record {
        Record::Event(Event::Process(ProcessEvent {
            host: host.map(|h| Arc::new(h.clone())),
            time: Ts::from_secs(100 + i64::from(pid)),
            pid,
            comm: "true".into(),
            ..ProcessEvent::default()
        }))
    }

    fn with_local(host: &Host) -> OpenOptions {
        OpenOptions {
            local_host: Some(host.clone()),
            ..OpenOptions::default()
        }
    }

    #[test]
    fn rows_of_a_database_older_than_the_registry_belong_to_the_local_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        drop(SqliteStore::open_at_version(&path, OpenOptions::default(), 8).unwrap());
        // A row as version 8 wrote it.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO process_events (time, kind, pid, ppid, start_ticks, comm, argv,
                     argv_complete, ancestry)
                 VALUES (107000000, 'exec', 7, 1, 0, 'true', '[]', 1, '[]')",
            )
            .unwrap();
        let me = Host::new("machine-1", "web-1").unwrap();
        let store = SqliteStore::open(&path, with_local(&me)).unwrap();
        let events = store.process_events(10, None).unwrap();
        assert_eq!(events[0].host.as_deref(), Some(&me));
        let hosts = store.hosts().unwrap();
        assert_eq!(hosts.len(), 1);
        assert!(hosts[0].local && !hosts[0].enrolled);
        // New local rows (no host) and rows naming the local host land on the same key.
        store
            .write_batch(&[exec(8, None), exec(9, Some(&me))])
            .unwrap();
        let events = store.process_events(10, None).unwrap();
        assert!(events.iter().all(|e| e.host.as_deref() == Some(&me)));
        assert_eq!(store.hosts().unwrap().len(), 1);
    }

    #[test]
    fn a_batch_mark_commits_with_its_records_and_never_lowers_the_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("n.db"), OpenOptions::default()).unwrap();
        let a = Host::new("agent-a", "a.example").unwrap();
        assert_eq!(
            store
                .enroll_host(&a, "1.0", "hash-a", Ts::from_secs(1))
                .unwrap(),
            0
        );
        let mark = |seq| BatchMark {
            host: a.clone(),
            seq,
            agent_version: "1.1".into(),
            received: Ts::from_secs(50),
            newest_record: Some(Ts::from_secs(40 + seq as i64)),
            status: AgentStatus {
                spool_batches: seq,
                ..AgentStatus::default()
            },
        };
        store
            .write_marked(&[exec(1, Some(&a))], &[mark(3)])
            .unwrap();
        store.write_marked(&[], &[mark(2)]).unwrap();
        let key = store.agent_key("agent-a").unwrap().unwrap();
        assert_eq!(
            (key.key_hash.as_str(), key.committed_seq, key.revoked),
            ("hash-a", 3, false)
        );
        let row = store
            .hosts()
            .unwrap()
            .into_iter()
            .find(|h| h.host == a)
            .unwrap();
        assert_eq!(row.agent_version.as_deref(), Some("1.1"));
        assert_eq!(
            row.newest_record,
            Some(Ts::from_secs(43)),
            "the newest record stays"
        );
        assert_eq!(row.status.unwrap().spool_batches, 2, "the last status wins");
        assert_eq!(
            store.process_events(10, None).unwrap()[0].host.as_deref(),
            Some(&a)
        );

        // A record that cannot be stored rolls its batch's mark back with it.
        let huge = Record::Event(Event::Process(ProcessEvent {
            host: Some(Arc::new(a.clone())),
            start_ticks: u64::MAX,
            ..ProcessEvent::default()
        }));
        assert!(store.write_marked(&[huge], &[mark(9)]).is_err());
        assert_eq!(
            store.agent_key("agent-a").unwrap().unwrap().committed_seq,
            3
        );
    }

    #[test]
    fn a_revoked_key_stays_revoked_until_the_host_enrols_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("n.db"), OpenOptions::default()).unwrap();
        let a = Host::new("agent-a", "a.example").unwrap();
        assert!(!store.revoke_host("agent-a").unwrap(), "not enrolled yet");
        store
            .enroll_host(&a, "1.0", "h1", Ts::from_secs(1))
            .unwrap();
        assert!(store.revoke_host("a.example").unwrap(), "by hostname");
        assert!(store.agent_key("agent-a").unwrap().unwrap().revoked);
        store
            .enroll_host(&a, "1.0", "h2", Ts::from_secs(2))
            .unwrap();
        let key = store.agent_key("agent-a").unwrap().unwrap();
        assert_eq!((key.key_hash.as_str(), key.revoked), ("h2", false));
        assert!(store.agent_key("nobody").unwrap().is_none());
    }
}
