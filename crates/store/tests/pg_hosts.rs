//! The hosts registry on PostgreSQL (schema version 4), against a throwaway cluster: the
//! rows of an older database belong to the local host, every record kind reads back its
//! host, a batch mark commits with its records (and rolls back with them), and a revoked
//! key stays revoked until the host enrols again. The same cases as SQLite's
//! `sqlite::hosts` tests, and one case run on both backends through the writer thread,
//! the way `serve` stores an agent's batch.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::fleet::AgentStatus;
use netsnoop_core::{Event, Host, ProcessEvent, Record, Ts};
use netsnoop_store::{
    Ack, BatchMark, OpenOptions, PgStore, RetentionConfig, Store, TimeRange, WriterOptions,
    spawn_writer,
};
use netsnoop_test_support::pg;
use std::sync::Arc;

/// Record times near now, so the day partitions the store creates at open hold them.
fn at(offset_secs: i64) -> Ts {
    Ts::from_secs(Ts::now().micros() / 1_000_000 + offset_secs)
}

fn exec(pid: u32, host: Option<&Host>) -> Record {
    Record::Event(Event::Process(ProcessEvent {
        host: host.map(|h| Arc::new(h.clone())),
        time: at(i64::from(pid)),
        pid,
        comm: "true".into(),
        ..ProcessEvent::default()
    }))
}

fn opts(local: Option<&Host>) -> OpenOptions {
    OpenOptions {
        retention: RetentionConfig::keep_everything(),
        local_host: local.cloned(),
        ..OpenOptions::default()
    }
}

fn open(local: Option<&Host>) -> PgStore {
    PgStore::open(&pg::cluster().fresh_database(), opts(local)).unwrap()
}

fn event_hosts(store: &PgStore) -> Vec<Option<Host>> {
    store
        .process_events(100, None)
        .unwrap()
        .into_iter()
        .map(|e| e.host.map(|h| (*h).clone()))
        .collect()
}

#[test]
fn rows_of_a_database_older_than_the_registry_belong_to_the_local_host() {
    let url = pg::cluster().fresh_database();
    let old = PgStore::open_at_version(&url, opts(None), 3).unwrap();
    assert_eq!(old.schema_version().unwrap(), 3);
    drop(old);
    // Rows as version 3 wrote them (no host column yet).
    let now = at(0).micros();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO process_events (time, kind, pid, ppid, start_ticks, comm, argv,
                 argv_complete, ancestry)
             VALUES ($1, 'exec', 7, 1, 0, 'true', '[]', true, '[]')",
            &[&now],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO losses (time, source, count, reason) VALUES ($1, 'capture', 3, 'x')",
            &[&now],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO alerts (id, kind, severity, state, first_seen, last_seen, message,
                 details)
             VALUES ('a1', 'scan', 2, 'active', $1, $1, 'm', 'null')",
            &[&now],
        )
        .unwrap();

    let me = Host::new("machine-1", "web-1").unwrap();
    let store = PgStore::open(&url, opts(Some(&me))).unwrap();
    assert_eq!(store.schema_version().unwrap(), 5);
    assert_eq!(event_hosts(&store), vec![Some(me.clone())]);
    let losses = store.losses(TimeRange::ALL, 10).unwrap();
    assert_eq!(losses[0].host.as_deref(), Some(&me));
    let alerts = store.active_alerts(10).unwrap();
    assert_eq!(alerts[0].host.as_deref(), Some(&me));
    let hosts = store.hosts().unwrap();
    assert_eq!(hosts.len(), 1);
    assert!(hosts[0].local && !hosts[0].enrolled && hosts[0].host == me);

    // New local rows (no host) and rows naming the local host land on the same key.
    store
        .write_batch(&[exec(8, None), exec(9, Some(&me))])
        .unwrap();
    let hosts_of_events = event_hosts(&store);
    assert_eq!(hosts_of_events.len(), 3);
    assert!(hosts_of_events.iter().all(|h| h.as_ref() == Some(&me)));
    assert_eq!(store.hosts().unwrap().len(), 1);

    // Opening again with the same identity changes nothing; a renamed host is renamed.
    drop(store);
    let renamed = Host::new("machine-1", "web-1.example").unwrap();
    let store = PgStore::open(&url, opts(Some(&renamed))).unwrap();
    assert_eq!(event_hosts(&store)[0], Some(renamed));
}

#[test]
fn every_record_kind_reads_back_its_host() {
    let store = open(None);
    let b = Host::new("agent-b", "b.example").unwrap();
    let hb = Some(Arc::new(b.clone()));
    let t = at(0);
    let mut pkt = packet(t, "10.0.0.1", "10.0.0.2", netsnoop_core::Protocol::Tcp, 60);
    pkt.host = hb.clone();
    let mut alert = alert("x1", "scan", netsnoop_core::Severity::High, 1, 2);
    alert.host = hb.clone();
    let mut f = flow(t.micros() / 1_000_000 - 5, t.micros() / 1_000_000, 1000);
    f.host = hb.clone();
    let mut l = loss(t.micros() / 1_000_000, "capture", 4);
    l.host = hb.clone();
    let mut res = resources(t.micros() / 1_000_000, 2);
    res.host = hb.clone();
    let records = vec![
        Record::Event(Event::Packet(pkt)),
        Record::Alert(alert),
        Record::Event(Event::Flow(f)),
        Record::Event(Event::Loss(l)),
        Record::Event(Event::Resources(res)),
        exec(1, Some(&b)),
        // The local host, unnamed: its rows read back without a host.
        exec(2, None),
    ];
    store.write_batch(&records).unwrap();
    let want = Some(&b);
    let all = netsnoop_core::HostFilter::all();
    assert_eq!(
        store.recent_packets(10, &all).unwrap()[0].host.as_deref(),
        want
    );
    assert_eq!(
        store.alerts(&Default::default()).unwrap()[0]
            .host
            .as_deref(),
        want
    );
    assert_eq!(
        store.flows(10, Default::default(), &all).unwrap()[0]
            .host
            .as_deref(),
        want
    );
    assert_eq!(
        store.losses(TimeRange::ALL, 10).unwrap()[0].host.as_deref(),
        want
    );
    assert_eq!(event_hosts(&store), vec![None, Some(b.clone())]);
    assert_eq!(store.system_samples(TimeRange::ALL, 10).unwrap().len(), 1);
    assert_eq!(store.process_samples(TimeRange::ALL, 10).unwrap().len(), 2);
    // ?host= picks by id or hostname; a host without rows gets none.
    let only =
        |names: &[&str]| netsnoop_core::HostFilter(names.iter().map(|n| n.to_string()).collect());
    assert_eq!(
        store.recent_packets(10, &only(&["agent-b"])).unwrap().len(),
        1
    );
    assert_eq!(
        store.recent_packets(10, &only(&["nobody"])).unwrap().len(),
        0
    );
    assert_eq!(
        store
            .flows(10, Default::default(), &only(&["b.example"]))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .flows(10, Default::default(), &only(&["nobody"]))
            .unwrap()
            .len(),
        0
    );
    let alerts_of = |names: &[&str]| {
        store
            .alerts(&netsnoop_store::AlertFilter {
                hosts: only(names),
                ..Default::default()
            })
            .unwrap()
            .len()
    };
    assert_eq!((alerts_of(&["agent-b"]), alerts_of(&["nobody"])), (1, 0));
    let hosts = store.hosts().unwrap();
    assert_eq!(hosts.len(), 1, "a host named by a record is registered");
    assert!(!hosts[0].local && !hosts[0].enrolled && hosts[0].host == b);
}

fn mark(a: &Host, seq: u64) -> BatchMark {
    BatchMark {
        host: a.clone(),
        seq,
        agent_version: "1.1".into(),
        received: Ts::from_secs(50),
        newest_record: Some(Ts::from_secs(40 + seq as i64)),
        status: AgentStatus {
            spool_batches: seq,
            ..AgentStatus::default()
        },
    }
}

#[test]
fn a_batch_mark_commits_with_its_records_and_never_lowers_the_sequence() {
    let url = pg::cluster().fresh_database();
    let store = PgStore::open(&url, opts(None)).unwrap();
    let a = Host::new("agent-a", "a.example").unwrap();
    assert_eq!(
        store
            .enroll_host(&a, "1.0", "hash-a", Ts::from_secs(1))
            .unwrap(),
        0
    );
    store
        .write_marked(&[exec(1, Some(&a))], &[mark(&a, 3)])
        .unwrap();
    store.write_marked(&[], &[mark(&a, 2)]).unwrap();
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
    assert_eq!(row.last_seen, Ts::from_secs(50));
    assert_eq!(
        row.newest_record,
        Some(Ts::from_secs(43)),
        "the newest record stays"
    );
    assert_eq!(row.status.unwrap().spool_batches, 2, "the last status wins");
    assert_eq!(event_hosts(&store), vec![Some(a.clone())]);
    // Re-enrolling answers the sequence already committed.
    assert_eq!(
        store
            .enroll_host(&a, "1.2", "hash-a2", Ts::from_secs(60))
            .unwrap(),
        3
    );

    // A record that cannot be stored rolls its batch's mark back with it.
    let huge = Record::Event(Event::Process(ProcessEvent {
        host: Some(Arc::new(a.clone())),
        time: at(0),
        start_ticks: u64::MAX,
        ..ProcessEvent::default()
    }));
    let err = store.write_marked(&[huge], &[mark(&a, 9)]).unwrap_err();
    assert!(err.is_about_a_record(), "{err}");
    assert_eq!(
        store.agent_key("agent-a").unwrap().unwrap().committed_seq,
        3
    );
    // So does a failure in the database itself, at commit, after the mark was written:
    // a deferred trigger refuses large losses.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.count >= 100 THEN RAISE EXCEPTION 'refused at commit'; END IF;
                 RETURN NULL;
             END $$;
             CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON losses
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .unwrap();
    let mut big = loss(at(0).micros() / 1_000_000, "capture", 500);
    big.host = Some(Arc::new(a.clone()));
    let err = store
        .write_marked(
            &[exec(5, Some(&a)), Record::Event(Event::Loss(big))],
            &[mark(&a, 10)],
        )
        .unwrap_err();
    assert!(err.to_string().contains("refused at commit"), "{err}");
    assert_eq!(
        store.agent_key("agent-a").unwrap().unwrap().committed_seq,
        3
    );
    // The next batch goes through, its mark with it.
    store
        .write_marked(&[exec(6, Some(&a))], &[mark(&a, 11)])
        .unwrap();
    assert_eq!(
        store.agent_key("agent-a").unwrap().unwrap().committed_seq,
        11
    );
    assert_eq!(
        event_hosts(&store),
        vec![Some(a.clone()), Some(a.clone())],
        "nothing of the failed batches"
    );
}

#[test]
fn a_host_registered_by_a_failed_batch_is_registered_again() {
    let store = open(None);
    let c = Host::new("agent-c", "c.example").unwrap();
    let huge = Record::Event(Event::Process(ProcessEvent {
        host: Some(Arc::new(c.clone())),
        time: at(0),
        start_ticks: u64::MAX,
        ..ProcessEvent::default()
    }));
    // The host's row is registered first in the transaction, then rolled back with it.
    assert!(store.write_batch(&[exec(1, Some(&c)), huge]).is_err());
    assert!(store.hosts().unwrap().is_empty());
    store.write_batch(&[exec(2, Some(&c))]).unwrap();
    assert_eq!(event_hosts(&store), vec![Some(c.clone())]);
    assert_eq!(store.hosts().unwrap().len(), 1);
}

#[test]
fn a_host_without_an_agent_is_seen_when_its_records_are_written() {
    let store = open(None);
    let nw = Host::netwatch("web-1").unwrap();
    let last_seen = || store.hosts().unwrap()[0].last_seen;
    store.write_batch(&[exec(1, Some(&nw))]).unwrap();
    let first = last_seen();
    std::thread::sleep(std::time::Duration::from_millis(20));
    store.write_batch(&[exec(2, Some(&nw))]).unwrap();
    assert!(last_seen() > first, "{:?} after {first:?}", last_seen());
}

#[test]
fn a_revoked_key_stays_revoked_until_the_host_enrols_again() {
    let store = open(None);
    let a = Host::new("agent-a", "a.example").unwrap();
    assert!(!store.revoke_host("agent-a").unwrap(), "not enrolled yet");
    store
        .enroll_host(&a, "1.0", "h1", Ts::from_secs(1))
        .unwrap();
    // Another server process sharing the database sees the key at once.
    let key = store.agent_key("agent-a").unwrap().unwrap();
    assert_eq!((key.key_hash.as_str(), key.revoked), ("h1", false));
    assert!(store.revoke_host("a.example").unwrap(), "by hostname");
    assert!(store.agent_key("agent-a").unwrap().unwrap().revoked);
    store
        .enroll_host(&a, "1.0", "h2", Ts::from_secs(2))
        .unwrap();
    let key = store.agent_key("agent-a").unwrap().unwrap();
    assert_eq!((key.key_hash.as_str(), key.revoked), ("h2", false));
    assert!(store.agent_key("nobody").unwrap().is_none());
    let rows = store.hosts().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].enrolled && !rows[0].revoked && !rows[0].local);
}

#[test]
fn the_local_host_is_listed_first_then_hosts_by_id() {
    let me = Host::new("machine-1", "web-1").unwrap();
    let store = open(Some(&me));
    let a = Host::new("a-agent", "a.example").unwrap();
    store.enroll_host(&a, "1.0", "h", Ts::from_secs(1)).unwrap();
    let rows = store.hosts().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.host.id.as_str(), r.local))
            .collect::<Vec<_>>(),
        vec![("machine-1", true), ("a-agent", false)]
    );
}

conformance! {
fn an_agent_batch_through_the_writer_stores_its_records_and_its_mark_together(b) {
    let me = Host::new("server-1", "central").unwrap();
    let kept = b.store_with(opts(Some(&me)));
    let store = kept.store.clone();
    let a = Host::new("agent-a", "a.example").unwrap();
    store
        .enroll_host(&a, "1.0", "hash-a", Ts::from_secs(1))
        .unwrap();
    let writer = spawn_writer(store.clone(), WriterOptions::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let ack = Ack::new(move |outcome| tx.send(outcome).unwrap()).marked(mark(&a, 7));
    writer.send_durable(vec![exec(1, Some(&a)), exec(2, Some(&a))], vec![ack]);
    writer.send(vec![exec(3, None)]);
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap(),
        Ok(())
    );
    writer.flush().unwrap();
    assert_eq!(store.agent_key("agent-a").unwrap().unwrap().committed_seq, 7);
    let mut hosts: Vec<Option<String>> = store
        .process_events(10, None)
        .unwrap()
        .into_iter()
        .map(|e| e.host.map(|h| h.name.clone()))
        .collect();
    hosts.sort();
    assert_eq!(
        hosts,
        vec![
            Some("a.example".to_string()),
            Some("a.example".to_string()),
            Some("central".to_string())
        ]
    );
    let rows: Vec<(String, bool, bool, u64)> = store
        .hosts()
        .unwrap()
        .into_iter()
        .map(|h| (h.host.id, h.local, h.enrolled, h.committed_seq))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("server-1".to_string(), true, false, 0),
            ("agent-a".to_string(), false, true, 7)
        ]
    );
    writer.shutdown();
}
}
