//! Reading times that clients send (RFC 3339, naive ISO 8601, unix seconds) and writing
//! times back as RFC 3339 with the configured offset.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use netsnoop_core::Ts;

/// Parses a time given as RFC 3339 (`2026-11-21T12:00:00Z`), a naive ISO 8601 date-time
/// (NetWatch agents send Python's `isoformat()`, taken as being in `tz`), or unix seconds
/// (`1763726400`, `1763726400.25`).
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<Ts, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return secs_to_ts(secs);
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(Ts(ts.as_microsecond()));
    }
    if let Ok(dt) = text.parse::<DateTime>()
        && let Ok(zoned) = dt.to_zoned(tz.clone())
    {
        return Ok(Ts(zoned.timestamp().as_microsecond()));
    }
    Err(format!(
        "{text:?} is not a time: give RFC 3339 (2026-11-21T12:00:00Z) or unix seconds (1763726400)"
    ))
}

/// Unix seconds to [`Ts`], refusing values no clock produces (NaN, before 1970, after 9999).
pub fn secs_to_ts(secs: f64) -> Result<Ts, String> {
    const MAX_SECS: f64 = 253_402_300_799.0; // 9999-12-31T23:59:59Z
    if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!(
            "{secs} is not a plausible unix time: give seconds since 1970 (e.g. 1763726400)"
        ));
    }
    Ok(Ts::from_secs_f64(secs))
}

/// Formats a time as RFC 3339 with the offset of `tz` (microsecond precision when needed).
pub fn format_time(ts: Ts, tz: &TimeZone) -> String {
    netsnoop_core::time::rfc3339(ts, tz, true)
}

/// Serializes a [`Ts`] field as RFC 3339 UTC; for types whose JSON the API returns as is.
pub mod rfc3339 {
    use netsnoop_core::Ts;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(ts: &Ts, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*ts, &jiff::tz::TimeZone::UTC))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_unix_seconds_and_naive_iso_all_parse_to_the_same_instant() {
        let utc = TimeZone::UTC;
        let want = Ts::from_secs(1_763_726_400);
        assert_eq!(parse_time("2025-11-21T12:00:00Z", &utc), Ok(want));
        assert_eq!(parse_time("2025-11-21T17:30:00+05:30", &utc), Ok(want));
        assert_eq!(parse_time("1763726400", &utc), Ok(want));
        assert_eq!(parse_time("2025-11-21T12:00:00", &utc), Ok(want));
        assert_eq!(
            parse_time("1763726400.5", &utc),
            Ok(Ts(1_763_726_400_500_000))
        );
    }

    #[test]
    fn nonsense_and_negative_times_are_refused_with_an_example() {
        let err = parse_time("yesterday", &TimeZone::UTC).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(parse_time("-5", &TimeZone::UTC).is_err());
        assert!(parse_time("NaN", &TimeZone::UTC).is_err());
    }

    #[test]
    fn times_are_written_with_the_zone_offset() {
        let t = Ts::from_secs(1_763_726_400);
        assert_eq!(format_time(t, &TimeZone::UTC), "2025-11-21T12:00:00+00:00");
        let ist = TimeZone::get("Asia/Kolkata").unwrap();
        assert_eq!(format_time(t, &ist), "2025-11-21T17:30:00+05:30");
    }
}
