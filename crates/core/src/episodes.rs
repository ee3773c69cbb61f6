//! The alert lifecycle shared by every detector: open, update and resolve episodes by key.

use crate::alert::{Alert, AlertState, Subject};
use crate::{Severity, Ts};
use std::collections::HashMap;

/// What a detector knows when its condition holds; [`Episodes::raise`] turns it into an
/// [`Alert`] with a stable id and first/last-seen times.
#[derive(Clone, Debug, Default)]
pub struct Raise {
    pub kind: &'static str,
    pub severity: Severity,
    pub label: Option<&'static str>,
    pub subject: Subject,
    pub message: String,
    pub details: serde_json::Value,
}

/// The active episodes of one detector, keyed by a detector-chosen string
/// (e.g. `"cpu.process.critical/4242@1234"`).
#[derive(Debug, Default)]
pub struct Episodes {
    active: HashMap<String, Alert>,
}

impl Episodes {
    pub fn new() -> Episodes {
        Episodes::default()
    }

    /// Opens an episode, or updates the one already open under `key` (keeping its id and
    /// first-seen time). Returns the alert to emit.
    pub fn raise(&mut self, key: &str, now: Ts, raise: Raise) -> Alert {
        let alert = self.active.entry(key.to_string()).or_insert_with(|| Alert {
            host: None,
            id: format!("{}/{}/{}", raise.kind, key, now.micros()),
            kind: raise.kind.to_string(),
            severity: raise.severity,
            label: None,
            state: AlertState::Active,
            first_seen: now,
            last_seen: now,
            subject: Subject::default(),
            message: String::new(),
            details: serde_json::Value::Null,
        });
        alert.severity = raise.severity;
        alert.label = raise.label.map(str::to_string);
        alert.last_seen = now;
        alert.subject = raise.subject;
        alert.message = raise.message;
        alert.details = raise.details;
        alert.clone()
    }

    /// Closes the episode under `key`, if one is open. Returns the final alert.
    pub fn resolve(&mut self, key: &str, now: Ts) -> Option<Alert> {
        let mut alert = self.active.remove(key)?;
        alert.state = AlertState::Resolved;
        alert.last_seen = now;
        Some(alert)
    }

    /// Closes every episode not raised again within `idle` of `now`.
    pub fn resolve_idle(&mut self, now: Ts, idle: crate::time::Span) -> Vec<Alert> {
        let stale: Vec<String> = self
            .active
            .iter()
            .filter(|(_, a)| now - a.last_seen >= idle)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out: Vec<Alert> = stale.iter().filter_map(|k| self.resolve(k, now)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    pub fn get(&self, key: &str) -> Option<&Alert> {
        self.active.get(key)
    }

    pub fn is_active(&self, key: &str) -> bool {
        self.active.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Span;

    fn raise(msg: &str, severity: Severity) -> Raise {
        Raise {
            kind: "test.kind",
            severity,
            message: msg.to_string(),
            ..Raise::default()
        }
    }

    #[test]
    fn an_update_keeps_the_id_and_first_seen_of_the_episode() {
        let mut eps = Episodes::new();
        let a = eps.raise("k", Ts::from_secs(10), raise("one", Severity::Medium));
        let b = eps.raise("k", Ts::from_secs(12), raise("two", Severity::High));
        assert_eq!(a.id, b.id);
        assert_eq!(b.first_seen, Ts::from_secs(10));
        assert_eq!(b.last_seen, Ts::from_secs(12));
        assert_eq!(b.severity, Severity::High);
        assert_eq!(b.message, "two");
    }

    #[test]
    fn resolving_closes_the_episode_and_a_new_raise_opens_another() {
        let mut eps = Episodes::new();
        let a = eps.raise("k", Ts::from_secs(10), raise("x", Severity::Low));
        let r = eps.resolve("k", Ts::from_secs(20)).expect("was open");
        assert_eq!(r.state, AlertState::Resolved);
        assert_eq!(r.id, a.id);
        assert!(eps.resolve("k", Ts::from_secs(21)).is_none());
        let c = eps.raise("k", Ts::from_secs(30), raise("x", Severity::Low));
        assert_ne!(c.id, a.id);
    }

    #[test]
    fn idle_episodes_resolve_and_fresh_ones_stay() {
        let mut eps = Episodes::new();
        eps.raise("old", Ts::from_secs(0), raise("x", Severity::Low));
        eps.raise("new", Ts::from_secs(9), raise("x", Severity::Low));
        let done = eps.resolve_idle(Ts::from_secs(10), Span::secs(5));
        assert_eq!(done.len(), 1);
        assert!(done[0].id.contains("/old/"));
        assert!(eps.is_active("new"));
    }
}
