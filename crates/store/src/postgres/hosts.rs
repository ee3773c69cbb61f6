//! The hosts registry on PostgreSQL (schema version 4), answering as SQLite's: host keys
//! for the write path, the local host's row (key 0), agent enrolment, revocation and the
//! marks of committed agent batches.

use super::query::collect;
use super::read;
use crate::hosts::{AgentKey, BatchMark, HostRow};
use crate::{Result, StoreError};
use netsnoop_core::{Host, HostFilter, Ts};
use postgres::{Client, GenericClient};
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
    /// packet, or an agent's record), inside the batch's transaction.
    pub(crate) fn key(
        &mut self,
        tx: &mut impl GenericClient,
        host: Option<&Host>,
    ) -> Result<i64, postgres::Error> {
        let Some(host) = host else { return Ok(0) };
        let key = self.lookup(tx, host)?;
        if !self.touched.contains(&key) {
            self.touched.push(key);
        }
        Ok(key)
    }

    fn lookup(&mut self, tx: &mut impl GenericClient, host: &Host) -> Result<i64, postgres::Error> {
        if let Some(&key) = self.keys.get(&host.id) {
            return Ok(key);
        }
        let key: i64 = tx
            .query_one(
                "INSERT INTO hosts AS h (id, name, first_seen, last_seen) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name
                 RETURNING h.key",
                &[&host.id, &host.name, &Ts::now().micros()],
            )?
            .get(0);
        self.keys.insert(host.id.clone(), key);
        Ok(key)
    }

    /// Marks every host the batch held records of as seen now, so a host that sends
    /// without an agent (NetWatch's POST /packets) shows when it last sent. Hosts with a
    /// batch mark are left to it: an agent was seen when its batch was received.
    pub(crate) fn seen(
        &mut self,
        tx: &mut impl GenericClient,
        marks: &[BatchMark],
    ) -> Result<(), postgres::Error> {
        let now = Ts::now().micros();
        let marked: Vec<i64> = (marks.iter())
            .filter_map(|m| self.keys.get(&m.host.id).copied())
            .collect();
        for key in self.touched.drain(..).filter(|k| !marked.contains(k)) {
            tx.execute(
                "UPDATE hosts SET last_seen = GREATEST(last_seen, $1) WHERE key = $2",
                &[&now, &key],
            )?;
        }
        Ok(())
    }

    /// After a rolled-back transaction: hosts it registered are gone.
    pub(crate) fn forget(&mut self) {
        self.keys.clear();
        self.touched.clear();
    }
}

/// The keys of the hosts `f` names (by id or hostname), ascending; for the empty filter
/// every registered host and key 0 (the local host, whose rows may predate its registry
/// row). Unknown names resolve to nothing, so such a filter matches no rows.
pub(crate) fn keys(client: &mut Client, f: &HostFilter) -> Result<Vec<i64>> {
    let doing = "looking up host keys";
    if f.is_all() {
        return collect(
            client,
            "SELECT 0::bigint UNION SELECT key FROM hosts ORDER BY 1",
            &[],
            doing,
            |r| Ok(r.get(0)),
        );
    }
    collect(
        client,
        "SELECT key FROM hosts WHERE id = ANY($1) OR name = ANY($1) ORDER BY key",
        &[&f.0],
        doing,
        |r| Ok(r.get(0)),
    )
}

/// Names the store's own host (key 0), unless a host already holds key 0 (the database
/// came from another machine: its rows keep their name) or the id (an agent on this host
/// enrolled first).
pub(crate) fn set_local(client: &mut Client, host: &Host) -> Result<()> {
    let doing = "naming the local host";
    let now = Ts::now().micros();
    let mut tx = client.transaction().map_err(StoreError::pg(doing))?;
    tx.execute(
        "INSERT INTO hosts (key, id, name, first_seen, last_seen) VALUES (0, $1, $2, $3, $3)
         ON CONFLICT DO NOTHING",
        &[&host.id, &host.name, &now],
    )
    .map_err(StoreError::pg(doing))?;
    tx.execute(
        "UPDATE hosts SET name = $2, last_seen = $3 WHERE key = 0 AND id = $1",
        &[&host.id, &host.name, &now],
    )
    .map_err(StoreError::pg(doing))?;
    tx.commit().map_err(StoreError::pg(doing))
}

/// Records a committed batch, inside the transaction that stores its records: the
/// sequence and the newest record time only rise (`greatest` skips NULL).
pub(crate) fn mark(tx: &mut impl GenericClient, m: &BatchMark) -> Result<(), postgres::Error> {
    // AgentStatus is plain data: encoding it cannot fail; "null" reads back as unknown.
    let status = serde_json::to_string(&m.status).unwrap_or_else(|_| "null".into());
    tx.execute(
        "INSERT INTO hosts AS h (id, name, agent_version, first_seen, last_seen, committed_seq,
             newest_record, status)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, agent_version = excluded.agent_version,
             last_seen = excluded.last_seen,
             committed_seq = greatest(h.committed_seq, excluded.committed_seq),
             newest_record = greatest(h.newest_record, excluded.newest_record),
             status = excluded.status",
        &[
            &m.host.id,
            &m.host.name,
            &m.agent_version,
            &m.received.micros(),
            &i64::try_from(m.seq).unwrap_or(i64::MAX),
            &m.newest_record.map(Ts::micros),
            &status,
        ],
    )?;
    Ok(())
}

pub(crate) fn list(client: &mut Client) -> Result<Vec<HostRow>> {
    let c = "hosts";
    collect(
        client,
        "SELECT key, id, name, agent_version, first_seen, last_seen, newest_record,
             committed_seq, key_hash IS NOT NULL, revoked, status
         FROM hosts ORDER BY key <> 0, id",
        &[],
        "listing hosts",
        |r| {
            let status: Option<String> = read::get(r, 10, "hosts.status")?;
            Ok(HostRow {
                local: read::get::<i64>(r, 0, c)? == 0,
                host: Host {
                    id: read::get(r, 1, c)?,
                    name: read::get(r, 2, c)?,
                },
                agent_version: read::get(r, 3, c)?,
                first_seen: Ts(read::get(r, 4, c)?),
                last_seen: Ts(read::get(r, 5, c)?),
                newest_record: read::get::<Option<i64>>(r, 6, c)?.map(Ts),
                committed_seq: read::get::<i64>(r, 7, c)?.max(0) as u64,
                enrolled: read::get(r, 8, c)?,
                revoked: read::get(r, 9, c)?,
                // A status this build cannot read is shown as unknown, not an error.
                status: status.and_then(|s| serde_json::from_str(&s).ok()),
            })
        },
    )
}

pub(crate) fn enroll(
    client: &mut Client,
    host: &Host,
    agent_version: &str,
    key_hash: &str,
    now: Ts,
) -> Result<u64> {
    let seq: i64 = client
        .query_one(
            "INSERT INTO hosts AS h (id, name, agent_version, first_seen, last_seen, key_hash)
             VALUES ($1, $2, $3, $4, $4, $5)
             ON CONFLICT (id) DO UPDATE SET
                 name = excluded.name, agent_version = excluded.agent_version,
                 last_seen = excluded.last_seen, key_hash = excluded.key_hash,
                 revoked = false
             RETURNING h.committed_seq",
            &[
                &host.id,
                &host.name,
                &agent_version,
                &now.micros(),
                &key_hash,
            ],
        )
        .map_err(StoreError::pg("enrolling a host"))?
        .get(0);
    Ok(seq.max(0) as u64)
}

pub(crate) fn agent_key(client: &mut Client, id: &str) -> Result<Option<AgentKey>> {
    let c = "hosts";
    let row = client
        .query_opt(
            "SELECT key_hash, revoked, committed_seq FROM hosts
             WHERE id = $1 AND key_hash IS NOT NULL",
            &[&id],
        )
        .map_err(StoreError::pg("reading an agent key"))?;
    row.map(|r| {
        Ok(AgentKey {
            key_hash: read::get(&r, 0, c)?,
            revoked: read::get(&r, 1, c)?,
            committed_seq: read::get::<i64>(&r, 2, c)?.max(0) as u64,
        })
    })
    .transpose()
}

pub(crate) fn revoke(client: &mut Client, id_or_name: &str) -> Result<bool> {
    let n = client
        .execute(
            "UPDATE hosts SET revoked = true
             WHERE key_hash IS NOT NULL AND (id = $1 OR name = $1)",
            &[&id_or_name],
        )
        .map_err(StoreError::pg("revoking a host"))?;
    Ok(n > 0)
}
