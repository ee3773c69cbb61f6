//! Timestamps: microseconds since the Unix epoch, UTC. Formatting to a zone is the binary's job.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Sub};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
///
/// Kept as a plain integer so core stays free of clocks and time-zone data; the binary
/// turns it into RFC 3339 with the configured offset.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ts(pub i64);

impl Ts {
    pub const fn from_secs(secs: i64) -> Ts {
        Ts(secs * 1_000_000)
    }
    pub const fn from_millis(ms: i64) -> Ts {
        Ts(ms * 1_000)
    }
    pub fn from_secs_f64(secs: f64) -> Ts {
        Ts((secs * 1e6).round() as i64)
    }
    pub const fn micros(self) -> i64 {
        self.0
    }
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Seconds elapsed from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: Ts) -> f64 {
        (self.0 - earlier.0) as f64 / 1e6
    }
}

/// A span of time in microseconds, for windows and timeouts in detector configs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub i64);

impl Span {
    pub const fn secs(s: i64) -> Span {
        Span(s * 1_000_000)
    }
    pub const fn millis(ms: i64) -> Span {
        Span(ms * 1_000)
    }
    pub fn secs_f64(s: f64) -> Span {
        Span((s * 1e6).round() as i64)
    }
}

impl Add<Span> for Ts {
    type Output = Ts;
    fn add(self, rhs: Span) -> Ts {
        Ts(self.0 + rhs.0)
    }
}

impl Sub<Span> for Ts {
    type Output = Ts;
    fn sub(self, rhs: Span) -> Ts {
        Ts(self.0 - rhs.0)
    }
}

impl Sub<Ts> for Ts {
    type Output = Span;
    fn sub(self, rhs: Ts) -> Span {
        Span(self.0 - rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_for_times_before_the_epoch() {
        assert_eq!(Ts(-1).secs(), -1);
        assert_eq!(Ts::from_secs(5).secs(), 5);
    }

    #[test]
    fn adding_a_span_moves_the_time_forward() {
        let t = Ts::from_secs(10) + Span::millis(1500);
        assert_eq!(t, Ts(11_500_000));
        assert_eq!(t - Ts::from_secs(10), Span::millis(1500));
        assert!((t.since(Ts::from_secs(10)) - 1.5).abs() < 1e-9);
    }
}
