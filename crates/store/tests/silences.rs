//! Silences and acknowledgements: stored, listed (in force at a time, or all), and acks
//! only for alerts the store holds, on both backends.

#![allow(clippy::unwrap_used)]

mod common;

use netsnoop_core::silence::{Ack, Matcher, Silence};
use netsnoop_core::{Alert, AlertState, Record, Severity, Subject, Ts};

fn silence(start: i64, end: i64, kind: &str) -> Silence {
    Silence {
        id: 0,
        matcher: Matcher {
            kind: Some(kind.into()),
            ..Matcher::default()
        },
        starts_at: Ts::from_secs(start),
        ends_at: Ts::from_secs(end),
        author: "ann".into(),
        comment: "maintenance window".into(),
    }
}

conformance! {
fn silences_are_stored_and_listed_while_in_force_or_all(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let a = store.add_silence(&silence(100, 200, "cpu.*")).unwrap();
    let b = store.add_silence(&silence(150, 400, "net.*")).unwrap();
    assert_ne!(a, b);
    let at = |t| store.silences(Some(Ts::from_secs(t)), 100).unwrap();
    assert_eq!(at(120).iter().map(|s| s.id).collect::<Vec<_>>(), [a]);
    assert_eq!(at(160).len(), 2);
    // Expired by itself: no longer in force, still listed among all.
    let later = at(300);
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].matcher.kind.as_deref(), Some("net.*"));
    assert_eq!(later[0].author, "ann");
    assert_eq!(later[0].comment, "maintenance window");
    assert_eq!(store.silences(None, 100).unwrap().len(), 2);
}

fn an_ack_is_stored_for_a_stored_alert_only(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let alert = Alert {
        host: None,
        id: "cpu/1".into(),
        kind: "cpu.system".into(),
        severity: Severity::High,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::from_secs(1),
        last_seen: Ts::from_secs(1),
        subject: Subject::host(),
        message: "hot".into(),
        details: serde_json::Value::Null,
    };
    store.write_batch(&[Record::Alert(alert)]).unwrap();
    let ack = |id: &str, who: &str| Ack {
        alert_id: id.into(),
        author: who.into(),
        comment: "on it".into(),
        at: Ts::from_secs(5),
    };
    assert!(!store.ack_alert(&ack("nope", "ann")).unwrap());
    assert!(store.ack_alert(&ack("cpu/1", "ann")).unwrap());
    assert!(store.ack_alert(&ack("cpu/1", "bob")).unwrap());
    let acks = store.acks(10).unwrap();
    assert_eq!(acks.len(), 1, "a later ack replaces the earlier: {acks:?}");
    assert_eq!(acks[0].author, "bob");
}
}
