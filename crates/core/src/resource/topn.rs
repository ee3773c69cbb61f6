//! Top-N selection: the processes worth keeping from a sample (for the live view and the
//! store), and the rate limit for sample lines in JSON-lines output.

use crate::time::Span;
use crate::{ProcSample, ResourceSample, Ts};
use std::cmp::Ordering;

fn by_cpu(a: &ProcSample, b: &ProcSample) -> Ordering {
    b.cpu_pct
        .total_cmp(&a.cpu_pct)
        .then(b.rss_bytes.cmp(&a.rss_bytes))
        .then(a.pid.cmp(&b.pid))
}

fn by_memory(a: &ProcSample, b: &ProcSample) -> Ordering {
    b.rss_bytes
        .cmp(&a.rss_bytes)
        .then(b.cpu_pct.total_cmp(&a.cpu_pct))
        .then(a.pid.cmp(&b.pid))
}

fn top(
    procs: &[ProcSample],
    n: usize,
    cmp: fn(&ProcSample, &ProcSample) -> Ordering,
) -> Vec<&ProcSample> {
    let mut all: Vec<&ProcSample> = procs.iter().collect();
    if n < all.len() {
        // Partition first so only the kept few are fully sorted.
        all.select_nth_unstable_by(n, |a, b| cmp(a, b));
        all.truncate(n);
    }
    all.sort_by(|a, b| cmp(a, b));
    all
}

/// The `n` busiest processes, highest CPU first (ties: larger RSS, then lower pid).
pub fn top_by_cpu(procs: &[ProcSample], n: usize) -> Vec<&ProcSample> {
    top(procs, n, by_cpu)
}

/// The `n` largest processes by RSS, largest first.
pub fn top_by_memory(procs: &[ProcSample], n: usize) -> Vec<&ProcSample> {
    top(procs, n, by_memory)
}

/// The sample with only the top `n` processes by CPU and the top `n` by memory (a
/// process in both lists is kept once), highest CPU first. This is what the store keeps
/// each second: the system figures in full, per-process rows only for these.
pub fn trim_to_top_n(sample: &ResourceSample, n: usize) -> ResourceSample {
    let mut keep: Vec<&ProcSample> = top_by_cpu(&sample.processes, n);
    for p in top_by_memory(&sample.processes, n) {
        if !keep
            .iter()
            .any(|k| k.pid == p.pid && k.start_ticks == p.start_ticks)
        {
            keep.push(p);
        }
    }
    keep.sort_by(|a, b| by_cpu(a, b));
    ResourceSample {
        host: sample.host.clone(),
        system: sample.system.clone(),
        processes: keep.into_iter().cloned().collect(),
    }
}

/// Lets a sample through at most once per `every` (for `--format jsonl`); a zero span
/// lets none through.
#[derive(Clone, Debug)]
pub struct SampleThrottle {
    every: Span,
    last: Option<Ts>,
}

impl SampleThrottle {
    pub fn new(every: Span) -> SampleThrottle {
        SampleThrottle { every, last: None }
    }

    pub fn admit(&mut self, now: Ts) -> bool {
        if self.every.0 <= 0 {
            return false;
        }
        match self.last {
            Some(last) if now - last < self.every => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}
