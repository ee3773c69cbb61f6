//! Memory detector: system memory in use (WARNING) and per-process RSS (HIGH, CRITICAL,
//! EXTREME).

use super::config::ResourceConfig;
use super::host_levels::HostLevels;
use super::level::{LevelRule, LevelState, Onset};
use super::proc_levels::ProcLevels;
use super::tracker::{LevelSpec, ProcView};
use crate::time::Span;
use crate::{Event, Record, Severity, Stage, SystemSample, Ts};
use serde_json::json;

pub const SYSTEM_KIND: &str = "memory.system.warning";
pub const PROCESS_KINDS: [&str; 3] = [
    "memory.process.extreme",
    "memory.process.critical",
    "memory.process.high",
];

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// Watches system memory and every process's resident set.
pub struct MemoryDetector {
    system: HostLevels,
    procs: ProcLevels,
    prev: Option<Ts>,
}

impl MemoryDetector {
    pub fn new(cfg: &ResourceConfig) -> MemoryDetector {
        let m = &cfg.memory;
        let h = cfg.hysteresis_points;
        let system = LevelSpec {
            kind: SYSTEM_KIND,
            severity: Severity::Medium,
            label: Some("WARNING"),
            rule: LevelRule {
                above: m.system_above_pct,
                clear_below: m.system_above_pct - h,
                onset: Onset::Immediate,
                hold: cfg.hold(),
                cooldown: Span::secs(0),
            },
        };
        // RSS thresholds are sizes, so the hysteresis is a percentage of each.
        let rss = |mb: u64| LevelRule {
            above: mb as f64,
            clear_below: mb as f64 * (1.0 - h / 100.0),
            onset: Onset::Immediate,
            hold: cfg.hold(),
            cooldown: Span::secs(0),
        };
        let procs = vec![
            LevelSpec {
                kind: PROCESS_KINDS[0],
                severity: Severity::Critical,
                label: Some("EXTREME"),
                rule: rss(m.process_extreme_mb),
            },
            LevelSpec {
                kind: PROCESS_KINDS[1],
                severity: Severity::Critical,
                label: None,
                rule: rss(m.process_critical_mb),
            },
            LevelSpec {
                kind: PROCESS_KINDS[2],
                severity: Severity::High,
                label: None,
                rule: rss(m.process_high_mb),
            },
        ];
        MemoryDetector {
            system: HostLevels::new(vec![system], "mem_used_pct", "%", "MEMORY"),
            procs: ProcLevels::new(procs, "rss_mb", " MB"),
            prev: None,
        }
    }

    pub fn active(&self) -> usize {
        self.system.active() + self.procs.active()
    }
}

/// Share of memory in use, 0–100 (total minus available).
pub fn used_pct(s: &SystemSample) -> f64 {
    if s.mem_total == 0 {
        return 0.0;
    }
    s.mem_used as f64 * 100.0 / s.mem_total as f64
}

/// `HIGH MEMORY: PID 4242 (java) RSS 612 MB → java -jar app.jar (user ana)`
fn proc_message(spec: &LevelSpec, p: &ProcView, value: f64, _: &LevelState, _: Ts) -> String {
    format!(
        "{} MEMORY: PID {} ({}) RSS {value:.0} MB {}",
        spec.word(),
        p.pid,
        p.comm,
        p.tail()
    )
}

impl Stage for MemoryDetector {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let Event::Resources(sample) = event else {
            return Vec::new();
        };
        let s = &sample.system;
        let start = self.prev.unwrap_or(now);
        let mut out = Vec::new();
        let details = json!({
            "mem_used": s.mem_used, "mem_total": s.mem_total,
            "swap_used": s.swap_used, "swap_total": s.swap_total,
        });
        let text = format!(
            "({:.1} GB of {:.1} GB, swap {:.1} GB used)",
            s.mem_used as f64 / GIB,
            s.mem_total as f64 / GIB,
            s.swap_used as f64 / GIB
        );
        let message = |_: &LevelSpec, value: f64, _: &LevelState, _: Ts| {
            format!("WARNING MEMORY: {value:.1}% used {text}")
        };
        self.system
            .observe(used_pct(s), &details, &message, start, now, &mut out);
        self.procs.observe(
            &sample.processes,
            |p| p.rss_bytes as f64 / MIB,
            proc_message,
            start,
            now,
            &mut out,
        );
        self.prev = Some(now);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.system.close_all(now, "monitor stopped", &mut out);
        self.procs.close_all(now, "monitor stopped", &mut out);
        out
    }
}
