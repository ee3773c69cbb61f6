//! Alerts for this crate's unit tests.

use netsnoop_core::{Alert, AlertState, Severity, Subject, Ts};

/// An active alert with id `id` about process `stress[42]`, first seen at 1,000 s.
pub fn alert(id: &str, kind: &str, severity: Severity) -> Alert {
    Alert {
        host: None,
        id: id.into(),
        kind: kind.into(),
        severity,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::from_secs(1_000),
        last_seen: Ts::from_secs(1_000),
        subject: Subject::process(42, "stress"),
        message: format!("{kind} on stress[42]"),
        details: serde_json::json!({"cpu": 99.5}),
    }
}

/// The same alert, resolved at `secs`.
pub fn resolved(a: &Alert, secs: i64) -> Alert {
    let mut r = a.clone();
    r.state = AlertState::Resolved;
    r.last_seen = Ts::from_secs(secs);
    r
}
