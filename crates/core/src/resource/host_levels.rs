//! Levels for the host itself (system CPU, memory, load): one state per level.

use super::level::{LevelRule, LevelState, Step};
use super::tracker::{HOST, LevelSpec, level_of, merge, resolved_details, round1};
use crate::alert::Subject;
use crate::episodes::Raise;
use crate::{Episodes, Record, Ts};
use serde_json::json;

/// Levels for the host: one state per level.
pub struct HostLevels {
    specs: Vec<LevelSpec>,
    states: Vec<LevelState>,
    metric: &'static str,
    unit: &'static str,
    title: &'static str,
    episodes: Episodes,
}

/// Builds the opening message of a host level: (spec, value, state, now, context).
pub type HostMessage<'a> = &'a dyn Fn(&LevelSpec, f64, &LevelState, Ts) -> String;

impl HostLevels {
    pub fn new(
        specs: Vec<LevelSpec>,
        metric: &'static str,
        unit: &'static str,
        title: &'static str,
    ) -> HostLevels {
        let n = specs.len();
        HostLevels {
            specs,
            states: vec![LevelState::default(); n],
            metric,
            unit,
            title,
            episodes: Episodes::new(),
        }
    }

    /// Replaces the rules (the load level scales with the core count).
    pub fn set_rule(&mut self, i: usize, rule: LevelRule) {
        self.specs[i].rule = rule;
    }

    pub fn observe(
        &mut self,
        value: f64,
        details: &serde_json::Value,
        message: HostMessage<'_>,
        interval_start: Ts,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        for i in 0..self.specs.len() {
            let spec = &self.specs[i];
            let state = &mut self.states[i];
            match state.observe(&spec.rule, value, interval_start, now) {
                Step::Open => {
                    let mut d = json!({
                        self.metric: round1(value),
                        "threshold": spec.rule.above,
                        "clear_below": spec.rule.clear_below,
                        "above_for_secs": round1(state.above_for_secs(now)),
                        "samples_above": state.consecutive(),
                    });
                    merge(&mut d, details);
                    let raise = Raise {
                        kind: spec.kind,
                        severity: spec.severity,
                        label: spec.label,
                        subject: Subject::host(),
                        message: message(spec, value, state, now),
                        details: d,
                    };
                    out.push(Record::Alert(self.episodes.raise(
                        &format!("{HOST}/{}", level_of(spec.kind)),
                        now,
                        raise,
                    )));
                }
                Step::Resolve => {
                    let why = format!("now {value:.1}{}", self.unit);
                    let (peak, opened) = (state.peak(), state.opened_at());
                    out.extend(self.finish(i, peak, opened, &why, now));
                }
                Step::Quiet | Step::Active => {}
            }
        }
    }

    pub fn close_all(&mut self, now: Ts, why: &str, out: &mut Vec<Record>) {
        for i in 0..self.specs.len() {
            let rule = self.specs[i].rule;
            let (peak, opened) = (self.states[i].peak(), self.states[i].opened_at());
            if self.states[i].force_close(&rule, now) {
                out.extend(self.finish(i, peak, opened, why, now));
            }
        }
    }

    fn finish(
        &mut self,
        i: usize,
        peak: f64,
        opened: Option<Ts>,
        why: &str,
        now: Ts,
    ) -> Option<Record> {
        let spec = &self.specs[i];
        let mut alert = self
            .episodes
            .resolve(&format!("{HOST}/{}", level_of(spec.kind)), now)?;
        let lasted = opened.map_or(0.0, |o| now.since(o));
        alert.message = format!(
            "RESOLVED {} {}: {why} (peak {peak:.1}{}, open {lasted:.0}s)",
            spec.word(),
            self.title,
            self.unit,
        );
        resolved_details(&mut alert, self.metric, peak);
        Some(Record::Alert(alert))
    }

    pub fn active(&self) -> usize {
        self.episodes.len()
    }
}
