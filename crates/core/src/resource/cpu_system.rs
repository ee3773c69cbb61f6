//! System CPU detector: WARNING (immediate), HIGH (consecutive samples) and CRITICAL
//! (sustained), each reported with the load average.

use super::config::ResourceConfig;
use super::host_levels::HostLevels;
use super::level::{LevelRule, LevelState, Onset};
use super::tracker::LevelSpec;
use crate::time::Span;
use crate::{Event, Record, Severity, Stage, SystemSample, Ts};
use serde_json::json;

pub const KINDS: [&str; 3] = [
    "cpu.system.critical",
    "cpu.system.high",
    "cpu.system.warning",
];

/// Watches the overall CPU share of the host.
pub struct SystemCpuDetector {
    levels: HostLevels,
    prev: Option<Ts>,
}

impl SystemCpuDetector {
    pub fn new(cfg: &ResourceConfig) -> SystemCpuDetector {
        let c = &cfg.system_cpu;
        let rule = |above: f64, onset| LevelRule {
            above,
            clear_below: above - cfg.hysteresis_points,
            onset,
            hold: cfg.hold(),
            cooldown: Span::secs(0),
        };
        let specs = vec![
            LevelSpec {
                kind: KINDS[0],
                severity: Severity::Critical,
                label: None,
                rule: rule(
                    c.critical_above,
                    Onset::Sustained(Span::secs(c.critical_for_secs as i64)),
                ),
            },
            LevelSpec {
                kind: KINDS[1],
                severity: Severity::High,
                label: None,
                rule: rule(c.high_above, Onset::Samples(c.high_samples)),
            },
            LevelSpec {
                kind: KINDS[2],
                severity: Severity::Medium,
                label: Some("WARNING"),
                rule: rule(c.warning_above, Onset::Immediate),
            },
        ];
        SystemCpuDetector {
            levels: HostLevels::new(specs, "cpu_pct", "%", "SYSTEM CPU"),
            prev: None,
        }
    }

    pub fn active(&self) -> usize {
        self.levels.active()
    }
}

/// `(load 3.52 2.10 1.05)`, the load average every system CPU alert carries.
pub fn load_text(s: &SystemSample) -> String {
    format!("(load {:.2} {:.2} {:.2})", s.load1, s.load5, s.load15)
}

impl Stage for SystemCpuDetector {
    fn name(&self) -> &'static str {
        "cpu.system"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let Event::Resources(sample) = event else {
            return Vec::new();
        };
        let s = &sample.system;
        let load = load_text(s);
        let details = json!({
            "load1": s.load1, "load5": s.load5, "load15": s.load15,
            "cores": s.per_core_pct.len(),
        });
        let message =
            |spec: &LevelSpec, value: f64, state: &LevelState, now: Ts| match spec.rule.onset {
                Onset::Sustained(d) => format!(
                    "CRITICAL SYSTEM CPU: {value:.1}% for {}+s {load}",
                    d.0 / 1_000_000
                ),
                Onset::Samples(n) => format!(
                    "HIGH SYSTEM CPU: {value:.1}% for {n} samples ({:.0}s) {load}",
                    state.above_for_secs(now)
                ),
                Onset::Immediate => format!("WARNING SYSTEM CPU: {value:.1}% {load}"),
            };
        let mut out = Vec::new();
        let start = self.prev.unwrap_or(now);
        self.levels
            .observe(s.cpu_pct, &details, &message, start, now, &mut out);
        self.prev = Some(now);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.levels.close_all(now, "monitor stopped", &mut out);
        out
    }
}
