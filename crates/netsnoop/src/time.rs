//! Time for people: UTC `Ts` inside, RFC 3339 with the configured zone's offset outside,
//! and the human durations (`10m`, `2h`, `1d`) used by flags and config.

use anyhow::{Context, bail};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Unit};
use netsnoop_core::Ts;
use std::time::Duration;

/// Formats timestamps in one time zone. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TimeFmt {
    tz: TimeZone,
}

impl TimeFmt {
    /// `"local"` (or empty) is the system's own zone; anything else is an IANA name.
    pub fn from_setting(setting: &str) -> anyhow::Result<TimeFmt> {
        Ok(TimeFmt { tz: zone(setting)? })
    }

    pub fn utc() -> TimeFmt {
        TimeFmt { tz: TimeZone::UTC }
    }

    /// RFC 3339 to the second, e.g. `2026-11-21T17:30:53+05:30`: logs and terminal.
    pub fn rfc3339(&self, ts: Ts) -> String {
        self.zoned(ts, false)
    }

    /// RFC 3339 with the fraction kept (up to microseconds): machine-readable output.
    pub fn rfc3339_precise(&self, ts: Ts) -> String {
        self.zoned(ts, true)
    }

    /// The time in the zone by a strftime `pattern` (e.g. `%Y-%m-%d %H:%M:%S %Z`), for
    /// files other tools parse. A pattern jiff cannot render (checked when the config
    /// loads) falls back to RFC 3339 rather than lose the row.
    pub fn strftime(&self, ts: Ts, pattern: &str) -> String {
        Timestamp::from_microsecond(ts.micros())
            .ok()
            .and_then(|t| jiff::fmt::strtime::format(pattern, &t.to_zoned(self.tz.clone())).ok())
            .unwrap_or_else(|| self.rfc3339(ts))
    }

    /// `HH:MM:SS` in the zone, for compact terminal lines.
    pub fn clock(&self, ts: Ts) -> String {
        match Timestamp::from_microsecond(ts.micros()) {
            Ok(t) => t.to_zoned(self.tz.clone()).strftime("%H:%M:%S").to_string(),
            Err(_) => format!("@{}us", ts.micros()),
        }
    }

    fn zoned(&self, ts: Ts, precise: bool) -> String {
        netsnoop_core::time::rfc3339(ts, &self.tz, precise)
    }
}

/// Resolves a zone setting, naming the fix when it is unknown.
pub fn zone(setting: &str) -> anyhow::Result<TimeZone> {
    let s = setting.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("local") {
        return Ok(TimeZone::system());
    }
    TimeZone::get(s).with_context(|| {
        format!("unknown time zone {s:?}: use an IANA name such as \"Asia/Kolkata\" or \"UTC\", or \"local\"")
    })
}

/// Parses `90s`, `10m`, `2h`, `1d`, `1w` and combinations such as `1h30m`.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let s = text.trim();
    let hint = "use a number and a unit: 30s, 10m, 2h, 1d or 1w (combinations like 1h30m work)";
    if s.is_empty() {
        bail!("empty duration: {hint}");
    }
    let span: jiff::Span = s
        .parse()
        .with_context(|| format!("cannot read {s:?} as a duration: {hint}"))?;
    if span.is_negative() {
        bail!("duration {s:?} is negative: {hint}");
    }
    if span.get_months() != 0 || span.get_years() != 0 {
        bail!("duration {s:?} uses months or years, which have no fixed length: {hint}");
    }
    let secs = span
        .total((Unit::Second, jiff::SpanRelativeTo::days_are_24_hours()))
        .with_context(|| format!("duration {s:?} is too large"))?;
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_and_the_logs_write_every_time_alike_even_out_of_range() {
        let f = TimeFmt::utc();
        for t in [Ts(1_763_726_400_250_000), Ts(i64::MAX), Ts(i64::MIN)] {
            assert_eq!(
                f.rfc3339_precise(t),
                netsnoop_server::timefmt::format_time(t, &TimeZone::UTC)
            );
        }
    }

    #[test]
    fn kolkata_times_carry_the_plus_five_thirty_offset() {
        let f = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        // 2026-11-21T12:00:53Z
        let ts = Ts::from_secs(1_795_262_453);
        assert_eq!(f.rfc3339(ts), "2026-11-21T17:30:53+05:30");
        assert_eq!(f.clock(ts), "17:30:53");
        assert_eq!(
            f.rfc3339_precise(Ts(ts.micros() + 250_000)),
            "2026-11-21T17:30:53.25+05:30"
        );
    }

    #[test]
    fn utc_times_use_a_zero_offset() {
        let f = TimeFmt::utc();
        assert_eq!(f.rfc3339(Ts::from_secs(0)), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn an_unknown_zone_is_refused_with_the_fix() {
        let err = TimeFmt::from_setting("Mars/Olympus").unwrap_err();
        assert!(format!("{err:#}").contains("IANA name"), "{err:#}");
    }

    #[test]
    fn human_durations_parse_to_seconds() {
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45s").unwrap(), Duration::from_secs(45));
        for bad in ["", "ten minutes", "-5m", "3mo", "5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
