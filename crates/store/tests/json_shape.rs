//! The JSON shape of what queries return, as the HTTP API will serialise it.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use netsnoop_core::{Event, HostFilter, Protocol, Record, Severity, Ts};
use netsnoop_store::{AlertFilter, FlowOrder, TalkerOrder, TimeRange};

// Both backends compare against the same snapshots: the same answers out.
#[test]
fn query_results_keep_their_json_shape_on_sqlite() {
    query_results_keep_their_json_shape(Backend::Sqlite);
}

#[test]
fn query_results_keep_their_json_shape_on_postgres() {
    query_results_keep_their_json_shape(Backend::Postgres);
}

fn query_results_keep_their_json_shape(b: Backend) {
    let store = b.store();
    let t0 = 1_700_000_000;
    let packets = vec![
        packet(
            Ts::from_secs(t0),
            "10.0.0.1",
            "10.0.0.254",
            Protocol::Tcp,
            1500,
        ),
        packet(
            Ts::from_secs(t0) + netsnoop_core::time::Span(250_000),
            "10.0.0.1",
            "8.8.8.8",
            Protocol::Udp,
            80,
        ),
        packet(
            Ts::from_secs(t0 + 1),
            "2001:db8::beef",
            "2001:db8::1",
            Protocol::Tcp,
            90,
        ),
        icmp_error_packet(Ts::from_secs(t0 + 2)),
    ];
    let mut records = packet_records(&packets);
    records.extend(traffic_records(&packets));
    records.push(Record::Alert(alert(
        "net.portscan/10.0.0.9/1",
        "net.portscan",
        Severity::High,
        t0,
        t0 + 2,
    )));
    records.push(Record::Event(Event::Flow(flow(t0, t0 + 2, 1580))));
    records.push(Record::Event(Event::Resources(resources(t0 + 2, 1))));
    records.push(Record::Event(Event::Loss(loss(t0 + 2, "capture:lo", 4))));
    store.write_batch(&records).unwrap();

    let all = TimeRange::ALL;
    insta::assert_json_snapshot!("summary", store.summary(all, &HostFilter::all()).unwrap());
    insta::assert_json_snapshot!(
        "top_talkers",
        store
            .top_talkers(all, &HostFilter::all(), 5, TalkerOrder::Packets)
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "protocol_distribution",
        store
            .protocol_distribution(all, &HostFilter::all())
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "traffic_raw",
        store
            .traffic_over_time(all, &HostFilter::all(), None)
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "traffic_buckets",
        store
            .traffic_over_time(all, &HostFilter::all(), Some(2))
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "recent_packets",
        store.recent_packets(2, &Default::default()).unwrap()
    );
    insta::assert_json_snapshot!("alerts", store.alerts(&AlertFilter::default()).unwrap());
    insta::assert_json_snapshot!(
        "flows",
        store
            .flows(1, FlowOrder::Bytes, &Default::default())
            .unwrap()
    );
    insta::assert_json_snapshot!("process_samples", store.process_samples(all, 1).unwrap());
    insta::assert_json_snapshot!("loss_totals", store.loss_totals(all).unwrap());
}
