//! Timestamps: microseconds since the Unix epoch, UTC; the one wall-clock read
//! ([`Ts::now`]) and the one RFC 3339 writer ([`rfc3339`]) of the workspace. Detectors never
//! read the clock: they are given `now`.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Sub};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
///
/// Kept as a plain integer; [`rfc3339`] turns it into text with a zone's offset.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ts(pub i64);

impl Ts {
    /// The wall clock. Sources stamp what they read with it; stages are given it.
    pub fn now() -> Ts {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Ts(since.map_or(0, |d| d.as_micros() as i64))
    }
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

impl From<std::time::Duration> for Span {
    /// Saturates at the largest span (about 292,000 years).
    fn from(d: std::time::Duration) -> Span {
        Span(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
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

/// RFC 3339 with the offset of `tz`: to the second, or with the fraction (up to
/// microseconds) when `precise`. A time out of range (beyond year ±9999) is written as
/// `@<micros>us` rather than failing the line it is part of.
pub fn rfc3339(ts: Ts, tz: &jiff::tz::TimeZone, precise: bool) -> String {
    let Ok(t) = jiff::Timestamp::from_microsecond(ts.micros()) else {
        return format!("@{}us", ts.micros());
    };
    let fmt = if precise {
        "%Y-%m-%dT%H:%M:%S%.f%:z"
    } else {
        "%Y-%m-%dT%H:%M:%S%:z"
    };
    t.to_zoned(tz.clone()).strftime(fmt).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_keeps_the_fraction_only_when_asked_and_marks_times_out_of_range() {
        let utc = jiff::tz::TimeZone::UTC;
        let t = Ts(1_763_726_400_250_000);
        assert_eq!(rfc3339(t, &utc, false), "2025-11-21T12:00:00+00:00");
        assert_eq!(rfc3339(t, &utc, true), "2025-11-21T12:00:00.25+00:00");
        assert_eq!(
            rfc3339(Ts(i64::MAX), &utc, true),
            format!("@{}us", i64::MAX)
        );
    }

    #[test]
    fn now_is_after_the_time_this_test_was_written() {
        assert!(Ts::now() > Ts::from_secs(1_795_000_000));
    }

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
