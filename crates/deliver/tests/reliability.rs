//! Delivery when the receiver is away: retried until it is back (every alert once, in
//! order), and bounded when it never answers (drops counted, the sender never blocked).

#![allow(clippy::unwrap_used)]

mod common;

use common::{alert, falco, webhook};
use netsnoop_core::Severity;
use netsnoop_deliver::Delivery;
use netsnoop_test_support::receiver::{Behaviour, Receiver};
use netsnoop_test_support::wait_for;
use serde_json::Value;
use std::collections::HashSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn a_receiver_down_for_20_seconds_then_back_gets_every_alert_once_and_in_order() {
    // A free port nobody listens on, for 20 s.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = falco("falco", &format!("http://{addr}"));
    cfg.retry_max_secs = 2.0;
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    let down_since = Instant::now();
    let mut sent = Vec::new();
    for n in 0..20 {
        let a = alert(n, "net.portscan", Severity::High);
        sent.push(a.id.clone());
        d.offer(&a);
        std::thread::sleep(Duration::from_millis(500)); // alerts keep coming while it is down
    }
    wait_for(Duration::from_secs(30), "failed attempts", || {
        (d.counts()[0].errors >= 3).then_some(())
    });
    assert_eq!(d.counts()[0].delivered, 0);
    assert_eq!(d.counts()[0].queued, 20, "{:?}", d.counts());
    let left = Duration::from_secs(20).saturating_sub(down_since.elapsed());
    std::thread::sleep(left); // the outage lasts 20 s, as the scenario says
    let r = Receiver::start_at(addr, Behaviour::Answer);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let req = r
            .requests
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| {
                panic!("only {} of {} alerts came: {got:?}", got.len(), sent.len())
            });
        let v: Value = serde_json::from_str(&req.body).unwrap();
        got.push(
            v["output_fields"]["netsnoop.id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(got, sent, "every alert once, in the order raised");
    wait_for(Duration::from_secs(5), "the counts", || {
        (d.counts()[0].delivered == 20).then_some(())
    });
    d.close();
    assert!(r.requests.try_recv().is_err(), "no alert came twice");
    let c = &d.counts()[0];
    assert_eq!(
        (c.delivered, c.failed, c.dropped, c.queued),
        (20, 0, 0, 0),
        "{c:?}"
    );
}

#[test]
fn a_receiver_that_never_answers_holds_the_queue_bound_and_counts_every_drop() {
    let r = Receiver::start(Behaviour::Silent);
    let mut cfg = webhook("hook", &r.url(), 0.0);
    cfg.queue = 50;
    cfg.timeout_secs = 60.0;
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    let first = alert(0, "net.portscan", Severity::High);
    d.offer(&first);
    // The worker is now stuck in its first request.
    r.requests.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut ids = HashSet::new();
    for n in 1..=10_000 {
        let a = alert(n, "net.portscan", Severity::High);
        ids.insert(a.id.clone());
        d.offer(&a);
    }
    let c = d.counts()[0].clone();
    // 1 in flight, 50 in the queue; every other alert dropped and counted.
    assert_eq!(c.dropped, 10_000 - 50, "{c:?}");
    assert!(c.queued <= 51, "{c:?}");
    assert_eq!(c.delivered, 0);
    let mut watch = d.drop_watch();
    let raised = netsnoop_core::Stage::tick(&mut watch, netsnoop_core::Ts::now());
    assert_eq!(raised.len(), 1, "one delivery.dropped alert: {raised:?}");
    assert!(netsnoop_core::Stage::tick(&mut watch, netsnoop_core::Ts::now()).is_empty());
    let started = Instant::now();
    d.close();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "close waited {:?} for a receiver that never answers",
        started.elapsed()
    );
}
