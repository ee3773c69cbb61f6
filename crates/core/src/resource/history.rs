//! Live resource state for the API and dashboard: a rolling window of system samples
//! and the current top processes by CPU and by memory.

use super::config::ResourceConfig;
use super::topn::{top_by_cpu, top_by_memory};
use crate::{Event, ProcSample, Record, ResourceSample, Stage, SystemSample, Ts};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

/// The history as the pipeline shares it with readers (API, dashboard).
pub type SharedHistory = Arc<RwLock<ResourceHistory>>;

/// A stage that records every resource sample into a [`SharedHistory`]; it raises
/// nothing. The pipeline runs it like a detector, readers take the read lock.
pub struct HistoryRecorder {
    history: SharedHistory,
}

impl HistoryRecorder {
    pub fn new(history: SharedHistory) -> HistoryRecorder {
        HistoryRecorder { history }
    }

    /// A recorder and the handle readers keep, sized from the config.
    pub fn from_config(cfg: &ResourceConfig) -> (HistoryRecorder, SharedHistory) {
        let shared = Arc::new(RwLock::new(ResourceHistory::from_config(cfg)));
        (HistoryRecorder::new(Arc::clone(&shared)), shared)
    }
}

impl Stage for HistoryRecorder {
    fn name(&self) -> &'static str {
        "resource.history"
    }

    fn ingest(&mut self, event: &Event, _now: Ts) -> Vec<Record> {
        if let Event::Resources(s) = event {
            // A reader that panicked while holding the lock leaves the data intact.
            let mut h = self.history.write().unwrap_or_else(|e| e.into_inner());
            h.push(s);
        }
        Vec::new()
    }
}

/// A bounded ring of system samples (oldest dropped first) plus the latest top lists.
#[derive(Clone, Debug, Serialize)]
pub struct ResourceHistory {
    capacity: usize,
    top_n: usize,
    system: VecDeque<SystemSample>,
    top_cpu: Vec<ProcSample>,
    top_memory: Vec<ProcSample>,
    /// Samples pushed out of the window since start (counted, never silent).
    evicted: u64,
}

impl ResourceHistory {
    /// Keeps `capacity` system samples and `top_n` processes per list.
    pub fn new(capacity: usize, top_n: usize) -> ResourceHistory {
        let capacity = capacity.max(1);
        ResourceHistory {
            capacity,
            top_n,
            system: VecDeque::with_capacity(capacity),
            top_cpu: Vec::with_capacity(top_n),
            top_memory: Vec::with_capacity(top_n),
            evicted: 0,
        }
    }

    /// Sized from the config: `history_secs` at the sampling interval, `top_n` each.
    pub fn from_config(cfg: &ResourceConfig) -> ResourceHistory {
        ResourceHistory::new(cfg.history_len(), cfg.top_n)
    }

    pub fn push(&mut self, sample: &ResourceSample) {
        if self.system.len() == self.capacity {
            self.system.pop_front();
            self.evicted += 1;
        }
        self.system.push_back(sample.system.clone());
        self.top_cpu.clear();
        self.top_cpu.extend(
            top_by_cpu(&sample.processes, self.top_n)
                .into_iter()
                .cloned(),
        );
        self.top_memory.clear();
        self.top_memory.extend(
            top_by_memory(&sample.processes, self.top_n)
                .into_iter()
                .cloned(),
        );
    }

    pub fn latest(&self) -> Option<&SystemSample> {
        self.system.back()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &SystemSample> + ExactSizeIterator {
        self.system.iter()
    }

    /// Samples taken at or after `t`, oldest first.
    pub fn since(&self, t: Ts) -> impl Iterator<Item = &SystemSample> {
        let start = self.system.partition_point(|s| s.time < t);
        self.system.range(start..)
    }

    pub fn top_by_cpu(&self) -> &[ProcSample] {
        &self.top_cpu
    }

    pub fn top_by_memory(&self) -> &[ProcSample] {
        &self.top_memory
    }

    pub fn len(&self) -> usize {
        self.system.len()
    }

    pub fn is_empty(&self) -> bool {
        self.system.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: i64, procs: &[(u32, f64, u64)]) -> ResourceSample {
        ResourceSample {
            system: SystemSample {
                time: Ts::from_secs(t),
                cpu_pct: t as f64,
                ..SystemSample::default()
            },
            processes: procs
                .iter()
                .map(|&(pid, cpu_pct, rss_bytes)| ProcSample {
                    pid,
                    cpu_pct,
                    rss_bytes,
                    ..ProcSample::default()
                })
                .collect(),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_samples_and_counts_what_it_drops() {
        let mut h = ResourceHistory::new(3, 2);
        for t in 0..5 {
            h.push(&sample(t, &[]));
        }
        let times: Vec<i64> = h.iter().map(|s| s.time.secs()).collect();
        assert_eq!(times, [2, 3, 4]);
        assert_eq!(h.evicted(), 2);
        assert_eq!(h.latest().map(|s| s.time), Some(Ts::from_secs(4)));
        let recent: Vec<i64> = h.since(Ts::from_secs(3)).map(|s| s.time.secs()).collect();
        assert_eq!(recent, [3, 4]);
    }

    #[test]
    fn the_top_lists_follow_the_latest_sample() {
        let mut h = ResourceHistory::new(10, 2);
        h.push(&sample(0, &[(1, 5.0, 900), (2, 50.0, 10), (3, 20.0, 500)]));
        let cpu: Vec<u32> = h.top_by_cpu().iter().map(|p| p.pid).collect();
        let mem: Vec<u32> = h.top_by_memory().iter().map(|p| p.pid).collect();
        assert_eq!(cpu, [2, 3]);
        assert_eq!(mem, [1, 3]);
        h.push(&sample(1, &[(4, 1.0, 1)]));
        assert_eq!(h.top_by_cpu().len(), 1);
    }

    #[test]
    fn the_recorder_stage_fills_the_shared_history_and_raises_nothing() {
        let (mut rec, shared) = HistoryRecorder::from_config(&ResourceConfig::default());
        let out = rec.ingest(
            &Event::Resources(sample(7, &[(1, 9.0, 9)])),
            Ts::from_secs(7),
        );
        assert!(out.is_empty());
        let h = shared.read().unwrap();
        assert_eq!(h.latest().map(|s| s.time), Some(Ts::from_secs(7)));
        assert_eq!(h.top_by_cpu()[0].pid, 1);
    }

    #[test]
    fn fifteen_minutes_at_one_second_fit_by_default() {
        let h = ResourceHistory::from_config(&ResourceConfig::default());
        assert!(h.capacity() >= 900);
    }
}
