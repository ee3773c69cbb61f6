//! Per-output grouping: deduplicates by episode id, holds a burst for the group window
//! so it goes out as one message, re-sends open alerts every repeat interval and sends
//! resolutions when the route asks. Pure: time is passed in.

use netsnoop_core::time::Span;
use netsnoop_core::{Alert, AlertState, Ts};
use std::collections::HashMap;

/// Episodes remembered at most; past it, the finished ones are forgotten first.
const KNOWN_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRules {
    pub window: Span,
    /// `Span(0)`: never repeat.
    pub repeat: Span,
    pub send_resolved: bool,
}

struct Known {
    /// The state last sent.
    sent: AlertState,
    last_sent: Ts,
    latest: Alert,
}

/// The grouping state of one output.
pub struct Grouper {
    rules: GroupRules,
    known: HashMap<String, Known>,
    /// Waiting for the window to close, in arrival order (one entry per episode).
    pending: Vec<Alert>,
    pending_since: Option<Ts>,
}

impl Grouper {
    pub fn new(rules: GroupRules) -> Grouper {
        Grouper {
            rules,
            known: HashMap::new(),
            pending: Vec::new(),
            pending_since: None,
        }
    }

    /// Takes one alert update. Updates of an episode already sent are not sent again
    /// (they refresh what a repeat sends); its resolution is, if the route wants it.
    pub fn offer(&mut self, alert: Alert, now: Ts) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.id == alert.id) {
            *p = alert;
            return;
        }
        match self.known.get_mut(&alert.id) {
            Some(k) if k.sent == AlertState::Resolved => {}
            Some(k) if alert.is_active() => k.latest = alert,
            Some(_) => {
                if self.rules.send_resolved {
                    self.push(alert, now);
                } else {
                    self.known.remove(&alert.id);
                }
            }
            None => self.push(alert, now),
        }
    }

    fn push(&mut self, alert: Alert, now: Ts) {
        self.pending.push(alert);
        self.pending_since.get_or_insert(now);
    }

    /// The alerts to send now: the group whose window has closed, then the open
    /// episodes due for a repeat. Empty if nothing is due.
    pub fn due(&mut self, now: Ts) -> Vec<Alert> {
        let mut out = Vec::new();
        if self
            .pending_since
            .is_some_and(|since| now >= since + self.rules.window)
        {
            self.pending_since = None;
            for a in std::mem::take(&mut self.pending) {
                self.known.insert(
                    a.id.clone(),
                    Known {
                        sent: a.state,
                        last_sent: now,
                        latest: a.clone(),
                    },
                );
                out.push(a);
            }
            self.bound();
        }
        if self.rules.repeat.0 > 0 {
            let mut repeats: Vec<&mut Known> = self
                .known
                .values_mut()
                .filter(|k| {
                    k.sent == AlertState::Active
                        && now >= k.last_sent + self.rules.repeat
                        && !out.iter().any(|a| a.id == k.latest.id)
                })
                .collect();
            repeats.sort_by_key(|k| k.latest.first_seen);
            for k in repeats {
                k.last_sent = now;
                out.push(k.latest.clone());
            }
        }
        out
    }

    /// Every alert waiting for its window, at once (at shutdown).
    pub fn take_pending(&mut self, now: Ts) -> Vec<Alert> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.pending_since = Some(now - self.rules.window);
        let repeat = std::mem::replace(&mut self.rules.repeat, Span(0));
        let out = self.due(now);
        self.rules.repeat = repeat;
        out
    }

    /// When [`Grouper::due`] will next have something, if ever.
    pub fn next_due(&self) -> Option<Ts> {
        let group = self.pending_since.map(|s| s + self.rules.window);
        let repeat = (self.rules.repeat.0 > 0)
            .then(|| {
                self.known
                    .values()
                    .filter(|k| k.sent == AlertState::Active)
                    .map(|k| k.last_sent + self.rules.repeat)
                    .min()
            })
            .flatten();
        group.into_iter().chain(repeat).min()
    }

    /// Alerts waiting for their window.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn bound(&mut self) {
        if self.known.len() > KNOWN_MAX {
            self.known.retain(|_, k| k.sent == AlertState::Active);
        }
        if self.known.len() > KNOWN_MAX {
            let mut by_age: Vec<(Ts, String)> = self
                .known
                .iter()
                .map(|(id, k)| (k.last_sent, id.clone()))
                .collect();
            by_age.sort();
            for (_, id) in by_age.iter().take(self.known.len() - KNOWN_MAX) {
                self.known.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{alert, resolved};
    use netsnoop_core::Severity;

    fn rules(window: i64, repeat: i64, send_resolved: bool) -> GroupRules {
        GroupRules {
            window: Span::secs(window),
            repeat: Span::secs(repeat),
            send_resolved,
        }
    }

    fn ids(v: &[Alert]) -> Vec<(&str, AlertState)> {
        v.iter().map(|a| (a.id.as_str(), a.state)).collect()
    }

    #[test]
    fn a_burst_within_the_window_goes_out_as_one_group() {
        let mut g = Grouper::new(rules(10, 0, true));
        g.offer(alert("a", "cpu.system", Severity::High), Ts::from_secs(100));
        g.offer(alert("b", "cpu.system", Severity::High), Ts::from_secs(105));
        assert!(g.due(Ts::from_secs(109)).is_empty());
        assert_eq!(g.next_due(), Some(Ts::from_secs(110)));
        let sent = g.due(Ts::from_secs(110));
        assert_eq!(
            ids(&sent),
            [("a", AlertState::Active), ("b", AlertState::Active)]
        );
        assert!(g.due(Ts::from_secs(200)).is_empty());
    }

    #[test]
    fn updates_of_a_sent_episode_are_deduplicated_and_its_resolution_is_sent() {
        let mut g = Grouper::new(rules(0, 0, true));
        let a = alert("a", "cpu.system", Severity::High);
        g.offer(a.clone(), Ts::from_secs(1));
        assert_eq!(g.due(Ts::from_secs(1)).len(), 1);
        g.offer(a.clone(), Ts::from_secs(2));
        assert!(g.due(Ts::from_secs(2)).is_empty());
        g.offer(resolved(&a, 3), Ts::from_secs(3));
        assert_eq!(ids(&g.due(Ts::from_secs(3))), [("a", AlertState::Resolved)]);
        // A late duplicate of the resolution is not sent twice.
        g.offer(resolved(&a, 3), Ts::from_secs(4));
        assert!(g.due(Ts::from_secs(4)).is_empty());
    }

    #[test]
    fn resolutions_are_not_sent_when_the_route_says_so() {
        let mut g = Grouper::new(rules(0, 0, false));
        let a = alert("a", "cpu.system", Severity::High);
        g.offer(a.clone(), Ts::from_secs(1));
        assert_eq!(g.due(Ts::from_secs(1)).len(), 1);
        g.offer(resolved(&a, 3), Ts::from_secs(3));
        assert!(g.due(Ts::from_secs(3)).is_empty());
        assert_eq!(g.next_due(), None);
    }

    #[test]
    fn an_episode_that_ends_within_its_window_is_sent_once_in_its_last_state() {
        let mut g = Grouper::new(rules(10, 0, true));
        let a = alert("a", "cpu.system", Severity::High);
        g.offer(a.clone(), Ts::from_secs(1));
        g.offer(resolved(&a, 5), Ts::from_secs(5));
        assert_eq!(
            ids(&g.due(Ts::from_secs(11))),
            [("a", AlertState::Resolved)]
        );
    }

    #[test]
    fn open_episodes_are_repeated_every_interval_until_resolved() {
        let mut g = Grouper::new(rules(0, 60, true));
        let a = alert("a", "cpu.system", Severity::High);
        g.offer(a.clone(), Ts::from_secs(0));
        assert_eq!(g.due(Ts::from_secs(0)).len(), 1);
        assert_eq!(g.next_due(), Some(Ts::from_secs(60)));
        assert!(g.due(Ts::from_secs(59)).is_empty());
        assert_eq!(ids(&g.due(Ts::from_secs(60))), [("a", AlertState::Active)]);
        g.offer(resolved(&a, 70), Ts::from_secs(70));
        assert_eq!(
            ids(&g.due(Ts::from_secs(70))),
            [("a", AlertState::Resolved)]
        );
        assert!(g.due(Ts::from_secs(500)).is_empty());
    }
}
