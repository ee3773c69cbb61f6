//! The owners of flow ends on both backends: stored and read back whole, a process's flows
//! found by its pid on either end, and traffic summed per process with the unattributed
//! bucket, ends that are not local left out.

#![allow(clippy::unwrap_used)]

mod common;

use netsnoop_core::owner::{FlowOwner, SocketOwner, UnknownReason};
use netsnoop_core::{Event, Host, HostFilter, Record};
use netsnoop_store::{FlowOrder, TimeRange};

fn owned(pid: u32, comm: &str) -> Option<FlowOwner> {
    Some(FlowOwner::Known(SocketOwner {
        pid,
        comm: comm.into(),
        uid: 1000,
        user: Some("ann".into()),
        exe: Some(format!("/usr/bin/{comm}")),
        ..SocketOwner::default()
    }))
}

conformance! {
fn flow_owners_are_stored_and_summed_per_process_with_the_unknown_bucket(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let mut curl = common::flow(100, 110, 1_000); // 500 out, 500 in for curl
    curl.orig_owner = owned(42, "curl");
    curl.resp_owner = Some(FlowOwner::Unknown(UnknownReason::NotLocal));
    let mut served = common::flow(120, 130, 3_000); // nginx answers: 1,500 out
    served.orig_owner = Some(FlowOwner::Unknown(UnknownReason::NotSeen));
    served.resp_owner = owned(7, "nginx");
    let mut again = common::flow(140, 150, 200);
    again.orig_owner = owned(42, "curl");
    let records: Vec<Record> = [curl.clone(), served, again]
        .into_iter()
        .map(|f| Record::Event(Event::Flow(f)))
        .collect();
    store.write_batch(&records).unwrap();

    let flows = store.flows(10, FlowOrder::LastSeen, &Default::default()).unwrap();
    let read = flows.iter().find(|f| f.first_seen == curl.first_seen).unwrap();
    assert_eq!(read.orig_owner, curl.orig_owner);
    assert_eq!(read.resp_owner, curl.resp_owner);

    let of_curl = store.process_flows(42, TimeRange::ALL, 10).unwrap();
    assert_eq!(of_curl.len(), 2);
    assert!(of_curl[0].last_seen > of_curl[1].last_seen, "newest first");

    let top = store.process_traffic(TimeRange::ALL, 10, None, &HostFilter::all()).unwrap();
    let row = |pid: Option<u32>| top.iter().find(|t| t.pid == pid).unwrap();
    assert_eq!(top.len(), 3, "{top:?}");
    // Most bytes first; a tie (the bucket and nginx, 3,000 each) goes by pid, none first.
    assert_eq!(
        top.iter().map(|t| t.pid).collect::<Vec<_>>(),
        [None, Some(7), Some(42)],
        "{top:?}"
    );
    assert_eq!((row(Some(7)).bytes_out, row(Some(7)).bytes_in), (1_500, 1_500));
    assert_eq!((row(Some(42)).bytes_out, row(Some(42)).flows), (600, 2));
    assert_eq!(row(Some(42)).comm.as_deref(), Some("curl"));
    // The client end nobody saw is the unattributed bucket; the remote end is not counted.
    assert_eq!((row(None).bytes_out, row(None).comm.clone()), (1_500, None));
    let only = store.process_traffic(TimeRange::ALL, 10, Some(42), &HostFilter::all()).unwrap();
    assert_eq!(only.iter().map(|t| t.pid).collect::<Vec<_>>(), [Some(42)]);
}

fn pids_of_two_hosts_are_two_processes_and_a_host_filter_keeps_one(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let agent = Host::new("agent-x", "x.example").unwrap().shared();
    let mut here = common::flow(100, 110, 1_000);
    here.orig_owner = owned(42, "curl");
    let mut there = common::flow(100, 110, 4_000);
    there.orig_owner = owned(42, "wget");
    there.host = Some(agent.clone());
    store
        .write_batch(&[Record::Event(Event::Flow(here)), Record::Event(Event::Flow(there))])
        .unwrap();
    let all = store.process_traffic(TimeRange::ALL, 10, Some(42), &HostFilter::all()).unwrap();
    let named: Vec<(Option<&str>, Option<&str>)> = all
        .iter()
        .map(|t| (t.host.as_ref().map(|h| h.id.as_str()), t.comm.as_deref()))
        .collect();
    assert_eq!(named.len(), 2, "one row per host: {all:?}");
    assert_eq!(named[0], (Some("agent-x"), Some("wget")), "most bytes first: {all:?}");
    assert_eq!(named[1].1, Some("curl"));
    let one = store
        .process_traffic(TimeRange::ALL, 10, None, &HostFilter(vec!["x.example".into()]))
        .unwrap();
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!((one[0].comm.as_deref(), one[0].bytes_out), (Some("wget"), 2_000));
}
}
