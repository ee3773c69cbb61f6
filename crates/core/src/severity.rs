//! The ordered severity scale, and how the original tools' labels map onto it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Ordered from least to most severe, so `max()` picks the worst of a group.
///
/// The original tools also said SUSPICIOUS (an immediate CPU spike) and EXTREME (RSS over
/// 2 GB). Those stay visible as alert labels (see [`crate::Alert::label`]) but map onto
/// this scale: SUSPICIOUS is high, EXTREME is critical.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The upper-case label used in CSV rows and terminal output, as the originals did.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unknown severity {0:?}: expected info, low, medium, high or critical")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Accepts our names and the original tools' labels, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "warning" => Ok(Severity::Medium),
            "high" | "suspicious" => Ok(Severity::High),
            "critical" | "extreme" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_from_info_to_critical() {
        assert!(Severity::Info < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        assert_eq!(Severity::ALL.iter().max(), Some(&Severity::Critical));
    }

    #[test]
    fn original_labels_parse_onto_the_scale() {
        assert_eq!("SUSPICIOUS".parse(), Ok(Severity::High));
        assert_eq!("EXTREME".parse(), Ok(Severity::Critical));
        assert_eq!("Warning".parse(), Ok(Severity::Medium));
        assert!("loud".parse::<Severity>().is_err());
    }
}
