//! Display grouping: alerts of the same family that arrive within a few seconds are shown
//! together, most severe first, as the original tools did.

use crate::time::Span;
use crate::{Alert, AlertState, Ts};

/// Alerts shown as one block.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertGroup {
    /// `cpu.process`, `memory.system`, …: the kind without its level.
    pub family: String,
    /// Most severe first; equal severities in arrival order.
    pub alerts: Vec<Alert>,
}

impl AlertGroup {
    /// The time of the group's first alert.
    pub fn first(&self) -> Ts {
        self.alerts.iter().map(when).min().unwrap_or_default()
    }

    pub fn is_single(&self) -> bool {
        self.alerts.len() == 1
    }
}

/// The family of a kind: everything before the last dot (`cpu.process.high` →
/// `cpu.process`); a kind without a dot is its own family.
pub fn family(kind: &str) -> &str {
    kind.rsplit_once('.').map_or(kind, |(f, _)| f)
}

/// When an alert happened for grouping: openings by first seen, resolutions and updates
/// by last seen.
fn when(a: &Alert) -> Ts {
    match a.state {
        AlertState::Active if a.first_seen == a.last_seen => a.first_seen,
        _ => a.last_seen,
    }
}

/// Groups alerts: same family and same state (openings apart from resolutions), each
/// within `window` of its group's first alert. Groups come out in time order.
pub fn group_alerts(alerts: &[Alert], window: Span) -> Vec<AlertGroup> {
    let mut order: Vec<&Alert> = alerts.iter().collect();
    order.sort_by_key(|a| when(a));
    let mut groups: Vec<(AlertState, Ts, AlertGroup)> = Vec::new();
    for a in order {
        let fam = family(&a.kind);
        let t = when(a);
        let open = groups
            .iter_mut()
            .rev()
            .find(|(state, start, g)| *state == a.state && g.family == fam && t - *start <= window);
        match open {
            Some((_, _, g)) => g.alerts.push(a.clone()),
            None => groups.push((
                a.state,
                t,
                AlertGroup {
                    family: fam.to_string(),
                    alerts: vec![a.clone()],
                },
            )),
        }
    }
    let mut out: Vec<AlertGroup> = groups.into_iter().map(|(_, _, g)| g).collect();
    for g in &mut out {
        // Stable sort: equal severities keep their arrival order.
        g.alerts.sort_by_key(|a| std::cmp::Reverse(a.severity));
    }
    out
}

/// A buffer for the terminal: push alerts as they come, and take the groups whose
/// window has passed. Pure; the caller passes the time.
#[derive(Debug, Default)]
pub struct AlertGrouper {
    window: Span,
    pending: Vec<Alert>,
}

impl AlertGrouper {
    pub fn new(window: Span) -> AlertGrouper {
        AlertGrouper {
            window,
            pending: Vec::new(),
        }
    }

    pub fn push(&mut self, alert: Alert) {
        self.pending.push(alert);
    }

    /// Groups complete at `now` (their first alert is at least `window` old); the
    /// rest stay buffered.
    pub fn take_ready(&mut self, now: Ts) -> Vec<AlertGroup> {
        let groups = group_alerts(&self.pending, self.window);
        let (ready, waiting): (Vec<AlertGroup>, Vec<AlertGroup>) = groups
            .into_iter()
            .partition(|g| now - g.first() >= self.window);
        self.pending = waiting.into_iter().flat_map(|g| g.alerts).collect();
        ready
    }

    /// Everything buffered, grouped (at shutdown).
    pub fn drain(&mut self) -> Vec<AlertGroup> {
        let groups = group_alerts(&self.pending, self.window);
        self.pending.clear();
        groups
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}
