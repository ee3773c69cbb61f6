//! Which alert records are news: an episode opening, its severity rising, or it resolving.
//! Sinks that write one line per alert (CSV, session log, terminal) skip plain updates.

use netsnoop_core::{Alert, AlertState, Severity};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Opened,
    Escalated,
    /// Same or lower severity than already reported.
    Updated,
    Resolved,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Opened => "opened",
            Change::Escalated => "escalated",
            Change::Updated => "updated",
            Change::Resolved => "resolved",
        }
    }

    /// Whether a one-line-per-alert sink writes it.
    pub fn is_news(self) -> bool {
        self != Change::Updated
    }
}

/// The highest severity reported so far for each open episode. Entries leave when their
/// episode resolves, so the map is as bounded as the detectors' own episodes.
#[derive(Debug, Default)]
pub struct Changes {
    reported: HashMap<String, Severity>,
}

impl Changes {
    pub fn classify(&mut self, a: &Alert) -> Change {
        if a.state == AlertState::Resolved {
            self.reported.remove(&a.id);
            return Change::Resolved;
        }
        match self.reported.get_mut(&a.id) {
            None => {
                self.reported.insert(a.id.clone(), a.severity);
                Change::Opened
            }
            Some(prev) if a.severity > *prev => {
                *prev = a.severity;
                Change::Escalated
            }
            Some(_) => Change::Updated,
        }
    }

    pub fn open(&self) -> usize {
        self.reported.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{Subject, Ts};

    fn alert(sev: Severity, state: AlertState) -> Alert {
        Alert {
            host: None,
            id: "a/1".into(),
            kind: "cpu.process.high".into(),
            severity: sev,
            label: None,
            state,
            first_seen: Ts(0),
            last_seen: Ts(0),
            subject: Subject::host(),
            message: String::new(),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn only_opening_rising_and_resolving_are_news() {
        let mut c = Changes::default();
        let seq = [
            (Severity::Medium, AlertState::Active, Change::Opened),
            (Severity::Medium, AlertState::Active, Change::Updated),
            (Severity::High, AlertState::Active, Change::Escalated),
            (Severity::Medium, AlertState::Active, Change::Updated),
            (Severity::High, AlertState::Active, Change::Updated),
            (Severity::Critical, AlertState::Active, Change::Escalated),
            (Severity::Critical, AlertState::Resolved, Change::Resolved),
        ];
        for (sev, state, want) in seq {
            assert_eq!(c.classify(&alert(sev, state)), want);
        }
        assert_eq!(c.open(), 0, "a resolved episode is forgotten");
    }
}
