//! Load average detector: the 1-minute load above a multiple of the core count.

use super::config::ResourceConfig;
use super::host_levels::HostLevels;
use super::level::{LevelRule, LevelState, Onset};
use super::tracker::LevelSpec;
use crate::time::Span;
use crate::{Event, Record, Severity, Stage, Ts};
use serde_json::json;

pub const KIND: &str = "load.high";

/// Watches the 1-minute load average against the number of cores in each sample.
pub struct LoadDetector {
    levels: HostLevels,
    per_core_above: f64,
    per_core_clear_below: f64,
    hold: Span,
    prev: Option<Ts>,
}

impl LoadDetector {
    pub fn new(cfg: &ResourceConfig) -> LoadDetector {
        let spec = LevelSpec {
            kind: KIND,
            severity: Severity::Medium,
            label: Some("WARNING"),
            rule: LevelRule {
                above: f64::INFINITY,
                clear_below: f64::INFINITY,
                onset: Onset::Immediate,
                hold: cfg.hold(),
                cooldown: Span::secs(0),
            },
        };
        LoadDetector {
            levels: HostLevels::new(vec![spec], "load1", "", "LOAD"),
            per_core_above: cfg.load.per_core_above,
            per_core_clear_below: cfg.load.per_core_clear_below,
            hold: cfg.hold(),
            prev: None,
        }
    }

    pub fn active(&self) -> usize {
        self.levels.active()
    }
}

impl Stage for LoadDetector {
    fn name(&self) -> &'static str {
        "load"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let Event::Resources(sample) = event else {
            return Vec::new();
        };
        let s = &sample.system;
        // A sample without per-core figures still has at least one core.
        let cores = s.per_core_pct.len().max(1) as f64;
        let above = self.per_core_above * cores;
        self.levels.set_rule(
            0,
            LevelRule {
                above,
                clear_below: self.per_core_clear_below * cores,
                onset: Onset::Immediate,
                hold: self.hold,
                cooldown: Span::secs(0),
            },
        );
        let details = json!({
            "load5": s.load5, "load15": s.load15, "cores": cores as u64,
            "per_core_above": self.per_core_above,
        });
        let multiple = self.per_core_above;
        let (l5, l15) = (s.load5, s.load15);
        let message = |_: &LevelSpec, value: f64, _: &LevelState, _: Ts| {
            format!(
                "WARNING LOAD: 1-min load {value:.2} above {multiple} × {cores} cores \
                 (5-min {l5:.2}, 15-min {l15:.2})"
            )
        };
        let mut out = Vec::new();
        let start = self.prev.unwrap_or(now);
        self.levels
            .observe(s.load1, &details, &message, start, now, &mut out);
        self.prev = Some(now);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.levels.close_all(now, "monitor stopped", &mut out);
        out
    }
}
