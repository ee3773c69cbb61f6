//! Display grouping: burst alerts collected over a few seconds and shown together, as the
//! original's "Multiple Anomalies Detected (Grouped)" block.

use crate::Alert;
use crate::time::{Span, Ts};

/// Collects alerts and hands them out once the group window since the first has passed.
/// An alert updated within the window replaces its earlier version (same id).
#[derive(Debug)]
pub struct AlertGroups {
    window: Span,
    started: Option<Ts>,
    pending: Vec<Alert>,
}

impl AlertGroups {
    pub fn new(window_secs: f64) -> AlertGroups {
        AlertGroups {
            window: Span::secs_f64(window_secs),
            started: None,
            pending: Vec::new(),
        }
    }

    pub fn push(&mut self, alert: Alert, now: Ts) {
        self.started.get_or_insert(now);
        match self.pending.iter_mut().find(|a| a.id == alert.id) {
            Some(slot) => *slot = alert,
            None => self.pending.push(alert),
        }
    }

    /// The group, when its window has passed (or `force` at shutdown).
    pub fn due(&mut self, now: Ts, force: bool) -> Option<Vec<Alert>> {
        let start = self.started?;
        if !force && now - start < self.window {
            return None;
        }
        self.started = None;
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, msg: &str) -> Alert {
        Alert {
            host: None,
            id: id.into(),
            kind: "process.burst".into(),
            severity: crate::Severity::Medium,
            label: None,
            state: crate::AlertState::Active,
            first_seen: Ts(0),
            last_seen: Ts(0),
            subject: Default::default(),
            message: msg.into(),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn alerts_are_held_for_the_window_and_updates_replace_earlier_versions() {
        let mut g = AlertGroups::new(5.0);
        g.push(alert("a", "first"), Ts::from_secs(10));
        g.push(alert("b", "other"), Ts::from_secs(11));
        g.push(alert("a", "second"), Ts::from_secs(12));
        assert!(g.due(Ts::from_secs(14), false).is_none());
        let group = g.due(Ts::from_secs(15), false).expect("window passed");
        let msgs: Vec<_> = group.iter().map(|a| a.message.as_str()).collect();
        assert_eq!(msgs, ["second", "other"]);
        assert!(g.due(Ts::from_secs(30), false).is_none());
    }
}
