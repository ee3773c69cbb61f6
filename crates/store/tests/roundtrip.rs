//! Every record type reads back exactly as written, hostile strings included.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::{Event, HostFilter, Record, Ts};
use netsnoop_store::{AlertFilter, FlowOrder, OpenOptions, RetentionConfig, Store, TimeRange};
use std::time::{Duration, Instant};

conformance! {
fn every_record_type_reads_back_as_written(b) {
    let store = b.store();
    let proc_event = process_event(100, 4242, "curl", &["curl", "-s", "https://example.com"]);
    let res = resources(101, 3);
    let fl = flow(90, 99, 5000);
    let lo = loss(102, "capture:lo", 17);
    let mut plain = packet(
        Ts::from_secs(103),
        "10.0.0.1",
        "2001:db8::1",
        netsnoop_core::Protocol::Tcp,
        1500,
    );
    plain.iface = 2;
    let icmp = icmp_error_packet(Ts::from_secs(104));
    let mut arp = packet(
        Ts::from_secs(105),
        "10.0.0.1",
        "10.0.0.2",
        netsnoop_core::Protocol::Arp,
        42,
    );
    (
        arp.src_ip,
        arp.dst_ip,
        arp.src_port,
        arp.dst_port,
        arp.tcp_flags,
        arp.ip_len,
    ) = (None, None, 0, 0, 0, 0);
    let mut al = alert(
        "net.portscan/10.0.0.9/1",
        "net.portscan",
        netsnoop_core::Severity::High,
        100,
        105,
    );
    al.label = Some("SUSPICIOUS".into());
    al.subject.pid = Some(7);
    al.subject.user = Some("bob".into());
    al.subject.dst_ip = Some(ip("::1"));
    let records = vec![
        Record::Event(Event::Process(proc_event.clone())),
        Record::Event(Event::Resources(res.clone())),
        Record::Event(Event::Flow(fl.clone())),
        Record::Event(Event::Loss(lo.clone())),
        Record::Event(Event::Packet(plain.clone())),
        Record::Event(Event::Packet(icmp.clone())),
        Record::Event(Event::Packet(arp.clone())),
        Record::Alert(al.clone()),
    ];
    let report = store.write_batch(&records).unwrap();
    assert_eq!(report.records, records.len() as u64);
    assert_eq!(report.rows, 1 + (1 + 3) + 1 + 1 + 3 + 1);

    assert_eq!(store.process_events(10, None).unwrap(), vec![proc_event]);
    assert_eq!(
        store.system_samples(TimeRange::ALL, 10).unwrap(),
        vec![res.system.clone()]
    );
    let mut procs = store.process_samples(TimeRange::ALL, 10).unwrap();
    procs.sort_by_key(|p| p.sample.pid);
    assert!(procs.iter().all(|p| p.time == res.system.time));
    assert_eq!(
        procs.into_iter().map(|p| p.sample).collect::<Vec<_>>(),
        res.processes
    );
    assert_eq!(store.flows(10, FlowOrder::LastSeen, &Default::default()).unwrap(), vec![fl]);
    assert_eq!(store.losses(TimeRange::ALL, 10).unwrap(), vec![lo]);
    assert_eq!(store.recent_packets(10, &Default::default()).unwrap(), vec![arp, icmp, plain]);
    assert_eq!(store.alerts(&AlertFilter::default()).unwrap(), vec![al]);
}

fn a_packet_posted_without_ports_reads_back_without_ports(b) {
    let store = b.store();
    let mut portless = packet(
        Ts::from_secs(103),
        "10.0.0.1",
        "10.0.0.2",
        netsnoop_core::Protocol::Tcp,
        60,
    );
    (portless.src_port, portless.dst_port, portless.no_ports) = (0, 0, true);
    let with_ports = packet(
        Ts::from_secs(104),
        "10.0.0.1",
        "10.0.0.2",
        netsnoop_core::Protocol::Tcp,
        60,
    );
    store
        .write_batch(&[
            Record::Event(Event::Packet(portless.clone())),
            Record::Event(Event::Packet(with_ports.clone())),
        ])
        .unwrap();
    let back = store.recent_packets(10, &Default::default()).unwrap();
    assert_eq!(back, vec![with_ports, portless]);
    assert_eq!(back[0].ports(), Some((40000, 443)));
    assert_eq!(back[1].ports(), None);
}

fn hostile_strings_are_stored_verbatim(b) {
    let store = b.store();
    let hostile = [
        "'; DROP TABLE alerts; --",
        "\"quoted\" and 'single' and `back`",
        "tab\there\nnewline\r\x1b[31mred\x1b[0m\x07bell\x7f",
        "Ünïcødé ☃ 🚀 \u{202e}reversed\u{202c} 中文",
        "%s %n {} ${HOME} $(reboot) \\ backslash",
        "",
    ];
    let mut records = Vec::new();
    for (i, s) in hostile.iter().enumerate() {
        let mut ev = process_event(200 + i as i64, 1000 + i as u32, s, &[s, s, "--x"]);
        ev.exe = Some(s.to_string());
        ev.cwd = Some(format!("/tmp/{s}"));
        ev.ancestry[0].comm = s.to_string();
        records.push(Record::Event(Event::Process(ev)));
        let mut al = alert(s, s, netsnoop_core::Severity::Critical, 200, 200 + i as i64);
        al.message = s.to_string();
        al.subject.command = Some(s.to_string());
        al.details = serde_json::json!({ "argv": [s], "note": s });
        records.push(Record::Alert(al));
        let mut l = loss(200 + i as i64, s, 1);
        l.reason = s.to_string();
        records.push(Record::Event(Event::Loss(l)));
    }
    store.write_batch(&records).unwrap();

    let mut events = store.process_events(100, None).unwrap();
    events.reverse();
    let want_events: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Event(Event::Process(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(events, want_events);
    let mut alerts = store.alerts(&AlertFilter::default()).unwrap();
    alerts.reverse();
    let want_alerts: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(alerts, want_alerts);
    for s in hostile {
        let found = store
            .alerts(&AlertFilter {
                kind: Some(s.to_string()),
                ..AlertFilter::default()
            })
            .unwrap();
        assert_eq!(found.len(), 1, "kind {s:?} must match exactly one alert");
    }
    let mut losses = store.losses(TimeRange::ALL, 100).unwrap();
    losses.reverse();
    assert_eq!(
        losses.iter().map(|l| l.source.as_str()).collect::<Vec<_>>(),
        hostile
    );
}

fn process_samples_keep_only_the_top_n_by_cpu(b) {
    let store = b.store_with(OpenOptions {
        retention: RetentionConfig::keep_everything(),
        process_samples_top_n: 5,
        ..OpenOptions::default()
    });
    let res = resources(300, 20);
    store
        .write_batch(&[Record::Event(Event::Resources(res.clone()))])
        .unwrap();
    let mut want = res.processes.clone();
    want.sort_by(|a, b| {
        b.cpu_pct
            .total_cmp(&a.cpu_pct)
            .then(b.rss_bytes.cmp(&a.rss_bytes))
    });
    want.truncate(5);
    let got: Vec<_> = store
        .process_samples(TimeRange::ALL, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.sample)
        .collect();
    assert_eq!(got.len(), 5);
    assert_eq!(got, want);
}

fn samples_with_nan_values_are_kept_and_read_back_as_nan(b) {
    let store = b.store();
    let mut res = resources(400, 2);
    res.system.cpu_pct = f64::NAN;
    res.system.per_core_pct = vec![12.5, f64::NAN];
    res.system.load5 = f64::NAN;
    res.processes[0].cpu_pct = f64::NAN;
    store
        .write_batch(&[Record::Event(Event::Resources(res.clone()))])
        .unwrap();

    let got = store.system_samples(TimeRange::ALL, 10).unwrap();
    assert_eq!(got.len(), 1);
    let sys = &got[0];
    assert!(sys.cpu_pct.is_nan() && sys.load5.is_nan());
    assert_eq!(sys.per_core_pct[0], 12.5);
    assert!(sys.per_core_pct[1].is_nan());
    assert_eq!(
        (sys.load1, sys.load15, sys.mem_used),
        (res.system.load1, res.system.load15, res.system.mem_used)
    );
    let procs = store.process_samples(TimeRange::ALL, 10).unwrap();
    assert_eq!(procs.len(), 2);
    assert!(
        procs
            .iter()
            .any(|p| p.sample.pid == res.processes[0].pid && p.sample.cpu_pct.is_nan())
    );
}
}

#[test]
fn queries_do_not_wait_for_an_open_write_transaction() {
    let (dir, store) = store();
    let packets = random_packets(7, 1000, 10, 500);
    store.write_batch(&packet_records(&packets)).unwrap();
    store.write_batch(&traffic_records(&packets)).unwrap();

    // Another connection holds the write lock with uncommitted rows, as a long write
    // batch would.
    let other = rusqlite::Connection::open(dir.path().join("netsnoop.db")).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM traffic_seconds;")
        .unwrap();

    // A reader blocked by the writer would sit in its 5 s busy timeout.
    let started = Instant::now();
    let summary = store.summary(TimeRange::ALL, &HostFilter::all()).unwrap();
    let recent = store.recent_packets(10, &Default::default()).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "queries waited {:?}",
        started.elapsed()
    );
    assert_eq!(
        summary.total_packets,
        packets.len() as u64,
        "reads see the last committed state"
    );
    assert_eq!(recent.len(), 10);
    other.execute_batch("ROLLBACK").unwrap();
}
