//! Per-process CPU detector: CRITICAL (sustained), SUSPICIOUS spike (immediate) and HIGH
//! (consecutive samples), in top's convention where 100% is one core.

use super::config::ResourceConfig;
use super::level::{LevelRule, LevelState, Onset};
use super::proc_levels::ProcLevels;
use super::tracker::{LevelSpec, ProcView};
use crate::time::Span;
use crate::{Event, Record, Severity, Stage, Ts};

/// The alert kinds this detector raises, most severe first.
pub const KINDS: [&str; 3] = [
    "cpu.process.critical",
    "cpu.process.suspicious",
    "cpu.process.high",
];

/// Watches every process's CPU share in each resource sample.
pub struct ProcessCpuDetector {
    levels: ProcLevels,
    prev: Option<Ts>,
}

impl ProcessCpuDetector {
    pub fn new(cfg: &ResourceConfig) -> ProcessCpuDetector {
        let c = &cfg.process_cpu;
        let h = cfg.hysteresis_points;
        let rule = |above: f64, onset, cooldown: u64| LevelRule {
            above,
            clear_below: above - h,
            onset,
            hold: cfg.hold(),
            cooldown: Span::secs(cooldown as i64),
        };
        let specs = vec![
            LevelSpec {
                kind: KINDS[0],
                severity: Severity::Critical,
                label: None,
                rule: rule(
                    c.critical_above,
                    Onset::Sustained(Span::secs(c.critical_for_secs as i64)),
                    0,
                ),
            },
            LevelSpec {
                kind: KINDS[1],
                severity: Severity::High,
                label: Some("SUSPICIOUS"),
                rule: rule(
                    c.suspicious_above,
                    Onset::Immediate,
                    c.suspicious_cooldown_secs,
                ),
            },
            LevelSpec {
                kind: KINDS[2],
                severity: Severity::High,
                label: None,
                rule: rule(
                    c.high_above,
                    Onset::Samples(c.high_samples),
                    c.high_cooldown_secs,
                ),
            },
        ];
        ProcessCpuDetector {
            levels: ProcLevels::new(specs, "cpu_pct", "%"),
            prev: None,
        }
    }

    /// Open episodes (all levels, all processes).
    pub fn active(&self) -> usize {
        self.levels.active()
    }
}

/// `CRITICAL CPU: PID 9101 (python3) 98.5% for 5+s → python3 intensive_task.py (user ana)`
fn message(spec: &LevelSpec, p: &ProcView, value: f64, state: &LevelState, now: Ts) -> String {
    let head = format!("PID {} ({}) {value:.1}%", p.pid, p.comm);
    match spec.rule.onset {
        Onset::Sustained(d) => format!(
            "CRITICAL CPU: {head} for {}+s {}",
            d.0 / 1_000_000,
            p.tail()
        ),
        Onset::Immediate => format!("SUSPICIOUS CPU SPIKE: {head} {}", p.tail()),
        Onset::Samples(_) => format!(
            "HIGH CPU ALERT: {head} for {:.0}s {}",
            state.above_for_secs(now),
            p.tail()
        ),
    }
}

impl Stage for ProcessCpuDetector {
    fn name(&self) -> &'static str {
        "cpu.process"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let Event::Resources(sample) = event else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let start = self.prev.unwrap_or(now);
        self.levels.observe(
            &sample.processes,
            |p| p.cpu_pct,
            message,
            start,
            now,
            &mut out,
        );
        self.prev = Some(now);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.levels.close_all(now, "monitor stopped", &mut out);
        out
    }
}
