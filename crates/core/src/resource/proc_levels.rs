//! Levels for every process, keyed by (pid, start time): open, resolve on recovery or
//! exit, and forget processes with nothing left to remember.

use super::level::{LevelState, Step};
use super::tracker::{LevelSpec, ProcView, resolved_details, round1, title_of};
use crate::episodes::Raise;
use crate::{Episodes, ProcSample, Record, Ts};
use serde_json::json;
use std::collections::HashMap;

/// Builds the opening message of a level for a process: (level index, process, value,
/// level state, now).
pub type ProcMessage = fn(&LevelSpec, &ProcView, f64, &LevelState, Ts) -> String;

struct Track {
    view: ProcView,
    states: Vec<LevelState>,
    last_value: f64,
    seen: Ts,
}

/// Levels for every process, keyed by (pid, start time) so a reused pid is a new process.
pub struct ProcLevels {
    specs: Vec<LevelSpec>,
    ends: Ends,
    floor: f64,
    tracks: HashMap<(u32, u64), Track>,
    /// One set per level, so a process's key is the same at every level.
    episodes: Vec<Episodes>,
}

impl ProcLevels {
    pub fn new(specs: Vec<LevelSpec>, metric: &'static str, unit: &'static str) -> ProcLevels {
        // Below every clear threshold, a process with nothing open needs no state at all:
        // this keeps a sample of a thousand idle processes to a comparison each.
        let floor = specs
            .iter()
            .map(|s| s.rule.clear_below.min(s.rule.above))
            .fold(f64::INFINITY, f64::min);
        let n = specs.len();
        ProcLevels {
            specs,
            ends: Ends { metric, unit },
            floor,
            tracks: HashMap::new(),
            episodes: (0..n).map(|_| Episodes::new()).collect(),
        }
    }

    pub fn specs(&self) -> &[LevelSpec] {
        &self.specs
    }

    /// Feeds one sample round. Processes missing from it have exited: their open levels
    /// resolve at once.
    pub fn observe(
        &mut self,
        procs: &[ProcSample],
        value_of: impl Fn(&ProcSample) -> f64,
        message: ProcMessage,
        interval_start: Ts,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        for p in procs {
            let value = value_of(p);
            let key = (p.pid, p.start_ticks);
            if value < self.floor && !self.tracks.contains_key(&key) {
                continue;
            }
            let n = self.specs.len();
            let track = self.tracks.entry(key).or_insert_with(|| Track {
                view: ProcView::of(p),
                states: vec![LevelState::default(); n],
                last_value: value,
                seen: now,
            });
            track.seen = now;
            track.last_value = value;
            if track.view.comm != p.comm || track.view.cmdline != p.cmdline {
                track.view = ProcView::of(p);
            }
            for (i, spec) in self.specs.iter().enumerate() {
                let state = &mut track.states[i];
                match state.observe(&spec.rule, value, interval_start, now) {
                    Step::Open => {
                        let text = message(spec, &track.view, value, state, now);
                        let raise = Raise {
                            kind: spec.kind,
                            severity: spec.severity,
                            label: spec.label,
                            subject: track.view.subject(),
                            message: text,
                            details: json!({
                                self.ends.metric: round1(value),
                                "threshold": spec.rule.above,
                                "clear_below": spec.rule.clear_below,
                                "above_for_secs": round1(state.above_for_secs(now)),
                                "samples_above": state.consecutive(),
                                "start_ticks": p.start_ticks,
                            }),
                        };
                        let key = episode_key(p.pid, p.start_ticks);
                        out.push(Record::Alert(self.episodes[i].raise(&key, now, raise)));
                    }
                    Step::Resolve => {
                        let why = format!("now {value:.1}{}", self.ends.unit);
                        let (peak, opened) = (state.peak(), state.opened_at());
                        let end = End {
                            peak,
                            opened,
                            why: &why,
                            now,
                        };
                        out.extend(
                            self.ends
                                .finish(&mut self.episodes[i], spec, &track.view, end),
                        );
                    }
                    Step::Quiet | Step::Active => {}
                }
            }
        }
        self.sweep(now, out);
    }

    /// Resolves what is open for processes not in the round stamped `now`, and forgets
    /// processes with nothing left to remember.
    fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        let mut gone: Vec<(u32, u64)> = Vec::new();
        for (key, track) in &self.tracks {
            if track.seen != now || track.states.iter().all(|s| s.is_idle(now)) {
                gone.push(*key);
            }
        }
        gone.sort_unstable();
        for key in gone {
            let Some(mut track) = self.tracks.remove(&key) else {
                continue;
            };
            if track.seen == now {
                continue;
            }
            self.close_track(&mut track, "exited", now, out);
        }
    }

    /// Resolves everything open (monitor shutting down).
    pub fn close_all(&mut self, now: Ts, why: &str, out: &mut Vec<Record>) {
        let mut keys: Vec<(u32, u64)> = self.tracks.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let Some(mut track) = self.tracks.remove(&key) else {
                continue;
            };
            self.close_track(&mut track, why, now, out);
        }
    }

    fn close_track(&mut self, track: &mut Track, why: &str, now: Ts, out: &mut Vec<Record>) {
        for (i, spec) in self.specs.iter().enumerate() {
            let state = &mut track.states[i];
            let (peak, opened) = (state.peak(), state.opened_at());
            if state.force_close(&spec.rule, now) {
                let end = End {
                    peak,
                    opened,
                    why,
                    now,
                };
                out.extend(
                    self.ends
                        .finish(&mut self.episodes[i], spec, &track.view, end),
                );
            }
        }
    }

    /// Open episodes, for tests and the live view.
    pub fn active(&self) -> usize {
        self.episodes.iter().map(Episodes::len).sum()
    }

    /// Processes currently remembered (open, counting, or cooling down).
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }
}

/// How an episode ended, for its resolution message.
struct End<'a> {
    peak: f64,
    opened: Option<Ts>,
    why: &'a str,
    now: Ts,
}

/// What a process detector's resolutions need to know about its metric.
struct Ends {
    /// The metric's name in alert details (`cpu_pct`, `rss_mb`).
    metric: &'static str,
    unit: &'static str,
}

impl Ends {
    fn finish(
        &self,
        episodes: &mut Episodes,
        spec: &LevelSpec,
        view: &ProcView,
        end: End<'_>,
    ) -> Option<Record> {
        let key = episode_key(view.pid, view.start_ticks);
        let mut alert = episodes.resolve(&key, end.now)?;
        let lasted = end.opened.map_or(0.0, |o| end.now.since(o));
        alert.message = format!(
            "RESOLVED {} {}: PID {} ({}) {} (peak {:.1}{}, open {lasted:.0}s)",
            spec.word(),
            title_of(spec.kind),
            view.pid,
            view.comm,
            end.why,
            end.peak,
            self.unit,
        );
        resolved_details(&mut alert, self.metric, end.peak);
        Some(Record::Alert(alert))
    }
}

fn episode_key(pid: u32, start: u64) -> String {
    format!("{pid}@{start}")
}
