//! The `[resources]` config section: sampling, history and every alert threshold, with
//! the original tools' defaults.

use crate::time::Span;
use serde::{Deserialize, Serialize};

/// Resource monitoring settings. Embedded by the binary as the `[resources]` section;
/// every field is optional in the file and unknown keys are refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceConfig {
    /// Turn resource sampling (and so its alerts) on or off.
    pub enabled: bool,
    /// Time between two samples, in milliseconds. Default 1000: a second is short enough
    /// for the "sustained for 5 s" rules and costs well under 1% of a core.
    pub interval_ms: u64,
    /// How much system history the live view keeps in memory, in seconds (default 900,
    /// 15 minutes at 1 s).
    pub history_secs: u64,
    /// How many processes by CPU and, separately, by memory are kept per sample for the
    /// live view and the store (default 10). The rest only feed the detectors.
    pub top_n: usize,
    /// `--format jsonl` writes a sample line at most this often, in seconds, so a log
    /// stays readable (default 10; 0 writes no samples, only alerts).
    pub jsonl_samples_every_secs: u64,
    /// An alert clears only when its value falls this many points below the threshold
    /// (percent rules) or this many percent below it (RSS rules). Default 5.
    pub hysteresis_points: f64,
    /// The value must stay below the clear threshold this long before an alert resolves,
    /// in seconds (default 3), so one dip does not end an episode.
    pub hold_secs: u64,
    pub process_cpu: ProcessCpuConfig,
    pub system_cpu: SystemCpuConfig,
    pub memory: MemoryConfig,
    pub load: LoadConfig,
}

impl Default for ResourceConfig {
    fn default() -> Self {
        ResourceConfig {
            enabled: true,
            interval_ms: 1000,
            history_secs: 900,
            top_n: 10,
            jsonl_samples_every_secs: 10,
            hysteresis_points: 5.0,
            hold_secs: 3,
            process_cpu: ProcessCpuConfig::default(),
            system_cpu: SystemCpuConfig::default(),
            memory: MemoryConfig::default(),
            load: LoadConfig::default(),
        }
    }
}

/// Per-process CPU levels, in top's convention (100 = one full core).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessCpuConfig {
    /// CRITICAL when above this (default 95) ...
    pub critical_above: f64,
    /// ... for at least this many seconds (default 5).
    pub critical_for_secs: u64,
    /// SUSPICIOUS spike (severity high) the moment a sample is above this (default 90).
    pub suspicious_above: f64,
    /// No new spike alert for the same process within this many seconds of the last
    /// one ending (default 5).
    pub suspicious_cooldown_secs: u64,
    /// HIGH when above this (default 80) ...
    pub high_above: f64,
    /// ... for this many consecutive samples (default 3).
    pub high_samples: u32,
    /// No new high alert for the same process within this many seconds (default 10).
    pub high_cooldown_secs: u64,
}

impl Default for ProcessCpuConfig {
    fn default() -> Self {
        ProcessCpuConfig {
            critical_above: 95.0,
            critical_for_secs: 5,
            suspicious_above: 90.0,
            suspicious_cooldown_secs: 5,
            high_above: 80.0,
            high_samples: 3,
            high_cooldown_secs: 10,
        }
    }
}

/// System-wide CPU levels (0–100, all cores together).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemCpuConfig {
    /// WARNING the moment a sample is above this (default 80).
    pub warning_above: f64,
    /// HIGH when above this (default 90) ...
    pub high_above: f64,
    /// ... for this many consecutive samples (default 5).
    pub high_samples: u32,
    /// CRITICAL when above this (default 95) ...
    pub critical_above: f64,
    /// ... for at least this many seconds (default 5).
    pub critical_for_secs: u64,
}

impl Default for SystemCpuConfig {
    fn default() -> Self {
        SystemCpuConfig {
            warning_above: 80.0,
            high_above: 90.0,
            high_samples: 5,
            critical_above: 95.0,
            critical_for_secs: 5,
        }
    }
}

/// Memory levels. Sizes are MiB (the originals' "MB").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// WARNING when more than this share of system memory is in use (default 85).
    /// "In use" is total minus MemAvailable, so reclaimable cache does not count.
    pub system_above_pct: f64,
    /// Per-process RSS: HIGH at this many MiB (default 500) ...
    pub process_high_mb: u64,
    /// ... CRITICAL at this many (default 1024) ...
    pub process_critical_mb: u64,
    /// ... and EXTREME (severity critical) at this many (default 2048).
    pub process_extreme_mb: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            system_above_pct: 85.0,
            process_high_mb: 500,
            process_critical_mb: 1024,
            process_extreme_mb: 2048,
        }
    }
}

/// Load average level, relative to the number of cores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadConfig {
    /// Alert when the 1-minute load exceeds this multiple of the core count (default 2.0:
    /// twice as many runnable tasks as cores means work is queueing).
    pub per_core_above: f64,
    /// The alert clears below this multiple (default 1.5).
    pub per_core_clear_below: f64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            per_core_above: 2.0,
            per_core_clear_below: 1.5,
        }
    }
}

/// A setting that cannot work, with the fix in the message.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("resources.{field} = {value} is out of range: {fix}")]
    OutOfRange {
        field: &'static str,
        value: String,
        fix: &'static str,
    },
}

impl ResourceConfig {
    /// Checks the values serde cannot: ranges and the order of levels.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, value: &dyn std::fmt::Display, fix| ConfigError::OutOfRange {
            field,
            value: value.to_string(),
            fix,
        };
        if self.interval_ms < 100 {
            return Err(bad(
                "interval_ms",
                &self.interval_ms,
                "use 100 or more (1000 is the default)",
            ));
        }
        if self.hysteresis_points < 0.0 || !self.hysteresis_points.is_finite() {
            return Err(bad(
                "hysteresis_points",
                &self.hysteresis_points,
                "use 0 or a small positive number such as 5",
            ));
        }
        if self.load.per_core_clear_below > self.load.per_core_above {
            return Err(bad(
                "load.per_core_clear_below",
                &self.load.per_core_clear_below,
                "set it at or below load.per_core_above",
            ));
        }
        let m = &self.memory;
        if !(m.process_high_mb <= m.process_critical_mb
            && m.process_critical_mb <= m.process_extreme_mb)
        {
            return Err(bad(
                "memory.process_critical_mb",
                &m.process_critical_mb,
                "keep process_high_mb <= process_critical_mb <= process_extreme_mb",
            ));
        }
        Ok(())
    }

    pub fn interval(&self) -> Span {
        Span::millis(self.interval_ms as i64)
    }

    pub fn hold(&self) -> Span {
        Span::secs(self.hold_secs as i64)
    }

    /// How many samples the history keeps: `history_secs` at the sampling interval.
    pub fn history_len(&self) -> usize {
        let per_sec = 1000.0 / self.interval_ms.max(1) as f64;
        ((self.history_secs as f64) * per_sec).ceil().max(1.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_thresholds() {
        let c = ResourceConfig::default();
        assert_eq!(c.process_cpu.critical_above, 95.0);
        assert_eq!(c.process_cpu.critical_for_secs, 5);
        assert_eq!(c.process_cpu.suspicious_above, 90.0);
        assert_eq!(c.process_cpu.high_samples, 3);
        assert_eq!(c.system_cpu.high_samples, 5);
        assert_eq!(c.memory.system_above_pct, 85.0);
        assert_eq!(c.memory.process_extreme_mb, 2048);
        assert_eq!(c.history_len(), 900);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_partial_section_keeps_defaults_for_the_rest() {
        let c: ResourceConfig =
            serde_json::from_str(r#"{"interval_ms": 500, "process_cpu": {"critical_above": 99}}"#)
                .unwrap();
        assert_eq!(c.interval_ms, 500);
        assert_eq!(c.process_cpu.critical_above, 99.0);
        assert_eq!(c.process_cpu.high_above, 80.0);
        assert_eq!(c.history_len(), 1800);
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_name() {
        let err = serde_json::from_str::<ResourceConfig>(r#"{"memory": {"swap_pct": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("swap_pct"), "{err}");
    }

    #[test]
    fn an_impossible_interval_names_the_fix() {
        let c = ResourceConfig {
            interval_ms: 0,
            ..ResourceConfig::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("interval_ms") && err.contains("100 or more"),
            "{err}"
        );
    }
}
