//! The SQLite schema as an ordered list of migrations, tracked in `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: append a new one. Version N means the first
//! N steps have been applied.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;

/// Migration steps, oldest first. All times are integer microseconds UTC, except the
/// rollups' `second` (Unix seconds).
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: alerts (one row per episode), events, samples, packets and flows.
    "
    CREATE TABLE alerts (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        severity     INTEGER NOT NULL,  -- 0 info, 1 low, 2 medium, 3 high, 4 critical
        label        TEXT,
        state        TEXT NOT NULL,     -- active | resolved
        first_seen   INTEGER NOT NULL,
        last_seen    INTEGER NOT NULL,
        pid          INTEGER,
        process_name TEXT,
        user         TEXT,
        command      TEXT,
        src_ip       TEXT,
        dst_ip       TEXT,
        message      TEXT NOT NULL,
        details      TEXT NOT NULL      -- JSON
    );
    CREATE INDEX alerts_last_seen ON alerts(last_seen);
    CREATE INDEX alerts_kind ON alerts(kind, last_seen);
    CREATE INDEX alerts_severity ON alerts(severity, last_seen);
    CREATE INDEX alerts_state ON alerts(state, last_seen);

    CREATE TABLE process_events (
        id            INTEGER PRIMARY KEY,
        time          INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        pid           INTEGER NOT NULL,
        ppid          INTEGER NOT NULL,
        start_ticks   INTEGER NOT NULL,
        uid           INTEGER,
        user          TEXT,
        comm          TEXT NOT NULL,
        exe           TEXT,
        argv          TEXT NOT NULL,    -- JSON array
        argv_complete INTEGER NOT NULL,
        cwd           TEXT,
        cgroup        TEXT,
        exit_code     INTEGER,
        ancestry      TEXT NOT NULL     -- JSON array of {pid, comm}
    );
    CREATE INDEX process_events_time ON process_events(time);

    CREATE TABLE system_samples (
        id            INTEGER PRIMARY KEY,
        time          INTEGER NOT NULL,
        cpu_pct       REAL NOT NULL,
        per_core_pct  TEXT NOT NULL,    -- JSON array
        mem_total     INTEGER NOT NULL,
        mem_used      INTEGER NOT NULL,
        mem_available INTEGER NOT NULL,
        swap_total    INTEGER NOT NULL,
        swap_used     INTEGER NOT NULL,
        load1         REAL NOT NULL,
        load5         REAL NOT NULL,
        load15        REAL NOT NULL,
        psi_cpu       REAL,
        psi_memory    REAL,
        psi_io        REAL,
        forks_total   INTEGER NOT NULL,
        procs_running INTEGER NOT NULL
    );
    CREATE INDEX system_samples_time ON system_samples(time);

    CREATE TABLE process_samples (
        id          INTEGER PRIMARY KEY,
        time        INTEGER NOT NULL,
        pid         INTEGER NOT NULL,
        start_ticks INTEGER NOT NULL,
        ppid        INTEGER NOT NULL,
        comm        TEXT NOT NULL,
        user        TEXT,
        cmdline     TEXT NOT NULL,
        cpu_pct     REAL NOT NULL,
        rss_bytes   INTEGER NOT NULL
    );
    CREATE INDEX process_samples_time ON process_samples(time);

    -- Keyed by (time, seq) so time ranges, newest-first listing, age retention and the
    -- row cap all walk the primary key; a separate time index cost ~28% of insert speed.
    CREATE TABLE packets (
        time        INTEGER NOT NULL,
        seq         INTEGER NOT NULL,   -- insertion counter, unique
        iface       INTEGER NOT NULL,
        src_ip      TEXT,
        dst_ip      TEXT,
        src_port    INTEGER NOT NULL,
        dst_port    INTEGER NOT NULL,
        protocol    TEXT NOT NULL,
        tcp_flags   INTEGER NOT NULL,
        icmp_type   INTEGER,
        icmp_code   INTEGER,
        icmp_quoted TEXT,               -- JSON, only for ICMP errors
        wire_len    INTEGER NOT NULL,
        ip_len      INTEGER NOT NULL,
        PRIMARY KEY (time, seq)
    ) WITHOUT ROWID;

    CREATE TABLE flows (
        id           INTEGER PRIMARY KEY,
        first_seen   INTEGER NOT NULL,
        last_seen    INTEGER NOT NULL,
        protocol     TEXT NOT NULL,
        orig_ip      TEXT,
        orig_port    INTEGER NOT NULL,
        resp_ip      TEXT,
        resp_port    INTEGER NOT NULL,
        orig_packets INTEGER NOT NULL,
        orig_bytes   INTEGER NOT NULL,
        resp_packets INTEGER NOT NULL,
        resp_bytes   INTEGER NOT NULL,
        state        TEXT NOT NULL,
        end_reason   TEXT NOT NULL
    );
    CREATE INDEX flows_last_seen ON flows(last_seen);
    CREATE INDEX flows_bytes ON flows(orig_bytes + resp_bytes);
    ",
    // 2: per-second traffic rollups, so statistics never scan packets; loss reports.
    "
    CREATE TABLE traffic_seconds (
        second  INTEGER PRIMARY KEY,
        packets INTEGER NOT NULL,
        bytes   INTEGER NOT NULL
    );
    CREATE TABLE traffic_protocol (
        second   INTEGER NOT NULL,
        protocol TEXT NOT NULL,
        packets  INTEGER NOT NULL,
        bytes    INTEGER NOT NULL,
        PRIMARY KEY (second, protocol)
    ) WITHOUT ROWID;
    CREATE TABLE traffic_src (
        second  INTEGER NOT NULL,
        ip      TEXT NOT NULL,
        packets INTEGER NOT NULL,
        bytes   INTEGER NOT NULL,
        PRIMARY KEY (second, ip)
    ) WITHOUT ROWID;
    CREATE TABLE traffic_dst (
        second  INTEGER NOT NULL,
        ip      TEXT NOT NULL,
        packets INTEGER NOT NULL,
        bytes   INTEGER NOT NULL,
        PRIMARY KEY (second, ip)
    ) WITHOUT ROWID;

    CREATE TABLE losses (
        id     INTEGER PRIMARY KEY,
        time   INTEGER NOT NULL,
        source TEXT NOT NULL,
        count  INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX losses_time ON losses(time);
    ",
    // 3: what the rollup stage knows beyond its per-second row cap: exact distinct
    // counts per second, and the traffic of hosts that did not get a row of their own.
    "
    ALTER TABLE traffic_seconds ADD COLUMN unique_src INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traffic_seconds ADD COLUMN unique_dst INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traffic_seconds ADD COLUMN src_other_packets INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traffic_seconds ADD COLUMN src_other_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traffic_seconds ADD COLUMN dst_other_packets INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traffic_seconds ADD COLUMN dst_other_bytes INTEGER NOT NULL DEFAULT 0;
    ",
    // 4: sampled percentages and loads may be NaN (a counter that did not move between
    // two reads); SQLite stores NaN as NULL, which NOT NULL refused, losing the sample.
    // SQLite cannot drop a constraint in place, so both sample tables are rebuilt.
    "
    CREATE TABLE system_samples_v4 (
        id            INTEGER PRIMARY KEY,
        time          INTEGER NOT NULL,
        cpu_pct       REAL,             -- NULL: NaN
        per_core_pct  TEXT NOT NULL,    -- JSON array, null for NaN
        mem_total     INTEGER NOT NULL,
        mem_used      INTEGER NOT NULL,
        mem_available INTEGER NOT NULL,
        swap_total    INTEGER NOT NULL,
        swap_used     INTEGER NOT NULL,
        load1         REAL,
        load5         REAL,
        load15        REAL,
        psi_cpu       REAL,
        psi_memory    REAL,
        psi_io        REAL,
        forks_total   INTEGER NOT NULL,
        procs_running INTEGER NOT NULL
    );
    INSERT INTO system_samples_v4 SELECT * FROM system_samples;
    DROP TABLE system_samples;
    ALTER TABLE system_samples_v4 RENAME TO system_samples;
    CREATE INDEX system_samples_time ON system_samples(time);

    CREATE TABLE process_samples_v4 (
        id          INTEGER PRIMARY KEY,
        time        INTEGER NOT NULL,
        pid         INTEGER NOT NULL,
        start_ticks INTEGER NOT NULL,
        ppid        INTEGER NOT NULL,
        comm        TEXT NOT NULL,
        user        TEXT,
        cmdline     TEXT NOT NULL,
        cpu_pct     REAL,               -- NULL: NaN
        rss_bytes   INTEGER NOT NULL
    );
    INSERT INTO process_samples_v4 SELECT * FROM process_samples;
    DROP TABLE process_samples;
    ALTER TABLE process_samples_v4 RENAME TO process_samples;
    CREATE INDEX process_samples_time ON process_samples(time);
    ",
    // 5: the traffic rollups per 10 s, minute, 10 minutes and hour, backfilled.
    include_str!("migrations/5_traffic_tiers.sql"),
    // 6: all-time totals per host kept by triggers on the hour tier; packets' no_ports.
    include_str!("migrations/6_host_totals.sql"),
    // 7: silences and alert acknowledgements.
    include_str!("migrations/7_silences_acks.sql"),
    // 8: the owning process of each flow end (pid, comm, unknown reason, owner JSON).
    include_str!("migrations/8_flow_owners.sql"),
    // 9: the hosts of a fleet, and the host of every record row.
    include_str!("migrations/9_hosts.sql"),
    // 10: the traffic rollups and totals per host (tables rebuilt, old rows to host 0).
    include_str!("migrations/10_host_rollups.sql"),
];

/// The schema version this build writes.
pub(crate) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Reads `PRAGMA user_version`.
pub(crate) fn version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::sql("reading the schema version"))
}

/// Brings the database up to `target` (normally [`CURRENT_VERSION`]), one transaction per
/// step so a failure leaves a consistent, older version behind. Refuses files from a
/// newer build instead of guessing at their layout.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, target: i64) -> Result<()> {
    let found = version(conn)?;
    if found > CURRENT_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    for step in found..target {
        let sql = MIGRATIONS[step as usize];
        let tx = conn
            .transaction()
            .map_err(StoreError::sql("starting a migration"))?;
        tx.execute_batch(sql)
            .map_err(StoreError::sql("migrating the schema"))?;
        tx.pragma_update(None, "user_version", step + 1)
            .map_err(StoreError::sql("recording the schema version"))?;
        tx.commit()
            .map_err(StoreError::sql("committing a migration"))?;
        tracing::info!(version = step + 1, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertFilter, OpenOptions, SqliteStore, Store, TimeRange};
    use netsnoop_core::{
        Alert, AlertState, Event, HostFilter, Record, Severity, Subject, TrafficSecond, Ts,
    };

    fn old_alert() -> Alert {
        Alert {
            host: None,
            id: "process.burst/1/5".into(),
            kind: "process.burst".into(),
            severity: Severity::High,
            label: None,
            state: AlertState::Active,
            first_seen: Ts::from_secs(5),
            last_seen: Ts::from_secs(6),
            subject: Subject::process(1, "bash"),
            message: "9 new processes under bash".into(),
            details: serde_json::json!({ "count": 9 }),
        }
    }

    #[test]
    fn a_database_from_an_older_version_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old = SqliteStore::open_at_version(&path, OpenOptions::default(), 1).unwrap();
        assert_eq!(old.schema_version().unwrap(), 1);
        drop(old);
        // Rows as version 1 wrote them (today's write path knows only today's columns).
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO alerts (id, kind, severity, state, first_seen, last_seen, pid,
                 process_name, message, details)
             VALUES ('process.burst/1/5', 'process.burst', 3, 'active', 5000000, 6000000, 1,
                 'bash', '9 new processes under bash', '{\"count\":9}');
             INSERT INTO system_samples (time, cpu_pct, per_core_pct, mem_total, mem_used,
                 mem_available, swap_total, swap_used, load1, load5, load15, forks_total,
                 procs_running)
             VALUES (6000000, 12.5, '[10.0,15.0]', 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0);",
        )
        .unwrap();
        drop(conn);

        let store = SqliteStore::open(&path, OpenOptions::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), CURRENT_VERSION);
        assert_eq!(
            store.alerts(&AlertFilter::default()).unwrap(),
            vec![old_alert()]
        );
        // The tables added by later steps work.
        let second = TrafficSecond {
            second: 7,
            ..TrafficSecond::default()
        };
        store
            .write_batch(&[Record::Event(Event::Traffic(second))])
            .unwrap();
        assert_eq!(
            store
                .summary(TimeRange::ALL, &HostFilter::all())
                .unwrap()
                .total_packets,
            0
        );
        assert_eq!(store.stats().unwrap().rows["traffic_seconds"], 1);
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(SqliteStore::open(&path, OpenOptions::default()).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        drop(conn);

        let err = SqliteStore::open(&path, OpenOptions::default())
            .err()
            .expect("a newer schema must be refused");
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, .. } if found == CURRENT_VERSION + 1)
        );
        assert!(err.to_string().contains("upgrade netsnoop"), "{err}");
    }

    #[test]
    fn opening_twice_applies_no_step_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        drop(SqliteStore::open(&path, OpenOptions::default()).unwrap());
        let again = SqliteStore::open(&path, OpenOptions::default()).unwrap();
        assert_eq!(again.schema_version().unwrap(), CURRENT_VERSION);
    }
}
