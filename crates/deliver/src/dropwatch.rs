//! The `delivery.dropped` alert: raised once when an output starts dropping alerts
//! (its queue full), resolved after a minute without drops. Raised as a stage, so it is
//! stored and shown like any alert; updates are not emitted, so it never loops.

use crate::stats::Counters;
use netsnoop_core::episodes::Raise;
use netsnoop_core::time::Span;
use netsnoop_core::{Episodes, Event, Record, Severity, Stage, Subject, Ts};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A drop episode ends after this long without a new drop.
const QUIET: Span = Span::secs(60);

pub struct DropWatch {
    outputs: Vec<(String, Arc<Counters>)>,
    seen: Vec<u64>,
    last_drop: Vec<Ts>,
    episodes: Episodes,
}

impl DropWatch {
    pub(crate) fn new(outputs: Vec<(String, Arc<Counters>)>) -> DropWatch {
        let n = outputs.len();
        DropWatch {
            outputs,
            seen: vec![0; n],
            last_drop: vec![Ts(0); n],
            episodes: Episodes::new(),
        }
    }
}

impl Stage for DropWatch {
    fn name(&self) -> &'static str {
        "delivery"
    }

    fn ingest(&mut self, _event: &Event, _now: Ts) -> Vec<Record> {
        Vec::new()
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        for (i, (name, c)) in self.outputs.iter().enumerate() {
            let dropped = c.dropped.load(Ordering::Relaxed);
            let key = format!("output:{name}");
            if dropped > self.seen[i] {
                self.seen[i] = dropped;
                self.last_drop[i] = now;
                let first = !self.episodes.is_active(&key);
                let alert = self.episodes.raise(
                    &key,
                    now,
                    Raise {
                        kind: "delivery.dropped",
                        severity: Severity::High,
                        label: None,
                        subject: Subject::host(),
                        message: format!(
                            "alerts for output {name} are being dropped: its queue is full \
                             (the receiver is slow or down)"
                        ),
                        details: serde_json::json!({ "output": name, "dropped": dropped }),
                    },
                );
                if first {
                    out.push(Record::Alert(alert));
                }
            } else if self.episodes.is_active(&key) && now - self.last_drop[i] >= QUIET {
                out.extend(self.episodes.resolve(&key, now).map(Record::Alert));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_raise_one_alert_per_episode_and_it_resolves_when_they_stop() {
        let c = Arc::new(Counters::default());
        let mut w = DropWatch::new(vec![("hook".into(), c.clone())]);
        assert!(w.tick(Ts::from_secs(1)).is_empty());
        c.dropped.fetch_add(5, Ordering::Relaxed);
        let first = w.tick(Ts::from_secs(2));
        assert_eq!(first.len(), 1);
        let Record::Alert(a) = &first[0] else {
            panic!("expected an alert, got {first:?}")
        };
        assert_eq!(a.kind, "delivery.dropped");
        c.dropped.fetch_add(5, Ordering::Relaxed);
        assert!(
            w.tick(Ts::from_secs(3)).is_empty(),
            "no second alert while dropping"
        );
        assert!(w.tick(Ts::from_secs(62)).is_empty());
        let end = w.tick(Ts::from_secs(63));
        assert!(matches!(&end[..], [Record::Alert(a)] if !a.is_active()));
    }
}
