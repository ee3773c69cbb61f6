//! Alerts are one row per episode, updated in place, and filter as the API asks.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::{Alert, AlertState, Record, Severity, Ts};
use netsnoop_store::{AlertFilter, Store};

fn write(store: &dyn Store, alerts: &[Alert]) {
    let records: Vec<Record> = alerts.iter().cloned().map(Record::Alert).collect();
    store.write_batch(&records).unwrap();
}

conformance! {
fn an_alert_episode_is_one_row_updated_until_resolved(b) {
    let store = b.store();
    let opened = alert("cpu/1", "cpu.process.high", Severity::Medium, 10, 10);
    let mut updated = opened.clone();
    updated.severity = Severity::Critical;
    updated.last_seen = Ts::from_secs(15);
    updated.message = "now critical".into();
    let mut resolved = updated.clone();
    resolved.state = AlertState::Resolved;
    resolved.last_seen = Ts::from_secs(20);

    write(&*store, &[opened]);
    assert_eq!(store.active_alerts(10).unwrap().len(), 1);
    write(&*store, &[updated.clone()]);
    assert_eq!(
        store.alerts(&AlertFilter::default()).unwrap(),
        vec![updated]
    );
    write(&*store, &[resolved.clone()]);

    assert_eq!(
        store.alerts(&AlertFilter::default()).unwrap(),
        vec![resolved]
    );
    assert!(store.active_alerts(10).unwrap().is_empty());
    assert_eq!(store.stats().unwrap().rows["alerts"], 1);
}

fn a_late_older_update_does_not_overwrite_a_newer_one(b) {
    let store = b.store();
    let mut newer = alert("scan/1", "net.portscan", Severity::High, 10, 30);
    newer.state = AlertState::Resolved;
    let older = alert("scan/1", "net.portscan", Severity::Low, 10, 20);
    write(&*store, &[newer.clone(), older]);
    assert_eq!(store.alerts(&AlertFilter::default()).unwrap(), vec![newer]);
}

fn alert_filters_narrow_by_kind_severity_state_and_time(b) {
    let store = b.store();
    let kinds = ["net.portscan", "process.burst", "cpu.system.high"];
    let mut rng = Lcg(42);
    let all: Vec<Alert> = (0..120)
        .map(|i| {
            let first = 1000 + rng.below(500) as i64;
            let mut a = alert(
                &format!("a/{i}"),
                kinds[rng.below(3) as usize],
                Severity::ALL[rng.below(5) as usize],
                first,
                first + rng.below(60) as i64,
            );
            if rng.below(2) == 0 {
                a.state = AlertState::Resolved;
            }
            a
        })
        .collect();
    write(&*store, &all);

    let filters = [
        AlertFilter {
            kind: Some("net.portscan".into()),
            ..AlertFilter::default()
        },
        AlertFilter {
            min_severity: Some(Severity::High),
            ..AlertFilter::default()
        },
        AlertFilter {
            state: Some(AlertState::Active),
            ..AlertFilter::default()
        },
        AlertFilter {
            since: Some(Ts::from_secs(1300)),
            until: Some(Ts::from_secs(1400)),
            ..AlertFilter::default()
        },
        AlertFilter {
            kind: Some("process.burst".into()),
            min_severity: Some(Severity::Medium),
            state: Some(AlertState::Resolved),
            since: Some(Ts::from_secs(1100)),
            ..AlertFilter::default()
        },
        AlertFilter {
            limit: 7,
            offset: 5,
            ..AlertFilter::default()
        },
        AlertFilter {
            limit: 1000,
            offset: 0,
            ..AlertFilter::default()
        },
    ];
    for f in filters {
        let mut want: Vec<Alert> = all
            .iter()
            .filter(|a| f.kind.as_ref().is_none_or(|k| &a.kind == k))
            .filter(|a| f.min_severity.is_none_or(|s| a.severity >= s))
            .filter(|a| f.state.is_none_or(|s| a.state == s))
            .filter(|a| f.since.is_none_or(|s| a.last_seen >= s))
            .filter(|a| f.until.is_none_or(|u| a.first_seen < u))
            .cloned()
            .collect();
        want.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        let want: Vec<Alert> = want
            .into_iter()
            .skip(f.offset as usize)
            .take(f.limit as usize)
            .collect();
        assert!(
            !want.is_empty(),
            "filter {f:?} should match something in this data"
        );
        assert_eq!(store.alerts(&f).unwrap(), want, "filter {f:?}");
    }
}

fn active_alerts_list_worst_first_then_most_recent(b) {
    let store = b.store();
    let mut resolved = alert("r", "x", Severity::Critical, 1, 50);
    resolved.state = AlertState::Resolved;
    let low_recent = alert("l", "x", Severity::Low, 1, 40);
    let high_old = alert("h1", "x", Severity::High, 1, 10);
    let high_new = alert("h2", "x", Severity::High, 1, 20);
    write(
        &*store,
        &[
            resolved,
            low_recent.clone(),
            high_old.clone(),
            high_new.clone(),
        ],
    );
    assert_eq!(
        store.active_alerts(10).unwrap(),
        vec![high_new, high_old, low_recent]
    );
}
}
