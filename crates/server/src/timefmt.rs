//! Reading times that clients send (RFC 3339, naive ISO 8601, unix seconds) and writing
//! times back as RFC 3339 with the configured offset.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::TimeZone;
use netsnoop_core::Ts;

/// Parses a time given as RFC 3339 (`2026-11-21T12:00:00Z`), a naive ISO 8601 date-time
/// (NetWatch agents send Python's `isoformat()`, taken as being in `tz`), or unix seconds
/// (`1763726400`, `1763726400.25`).
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<Ts, String> {
    match read_time(text, tz)? {
        Read::Secs(secs) => secs_to_ts(secs),
        Read::At(ts) => Ok(ts),
    }
}

/// A time as read, before any plausibility rule.
enum Read {
    Secs(f64),
    At(Ts),
}

fn read_time(text: &str, tz: &TimeZone) -> Result<Read, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Ok(Read::Secs(secs));
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        check_offset(text)?;
        return Ok(Read::At(Ts(ts.as_microsecond())));
    }
    if let Ok(dt) = text.parse::<DateTime>()
        && let Ok(zoned) = dt.to_zoned(tz.clone())
    {
        return Ok(Read::At(Ts(zoned.timestamp().as_microsecond())));
    }
    Err(format!(
        "{text:?} is not a time: give RFC 3339 (2026-11-21T12:00:00Z) or unix seconds (1763726400)"
    ))
}

/// RFC 3339 offsets run from -23:59 to +23:59; jiff reads up to ±25:59:59, which no zone
/// uses, so such a time is refused rather than shifted by a day.
fn check_offset(text: &str) -> Result<(), String> {
    let offset = Pieces::parse(text).ok().and_then(|p| p.offset());
    if let Some(PiecesOffset::Numeric(n)) = offset
        && n.offset().seconds().abs() >= 24 * 3600
    {
        return Err(format!(
            "{text:?} has the UTC offset {}, which no clock uses: offsets run from -23:59 to +23:59 (or end the time with Z for UTC)",
            n.offset()
        ));
    }
    Ok(())
}

/// Unix seconds to [`Ts`], refusing values no clock produces (NaN, before 1970, after 9999).
pub fn secs_to_ts(secs: f64) -> Result<Ts, String> {
    if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!(
            "{secs} is not a plausible unix time: give seconds since 1970 (e.g. 1763726400)"
        ));
    }
    Ok(Ts::from_secs_f64(secs))
}

/// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const MAX_SECS: f64 = 253_402_300_799.0;

/// The earliest packet time taken: 2000-01-01T00:00:00Z. No capture predates it, while an
/// unset clock (0, 1.5) or a value that is not a time (-1, year 0000) lands before it.
pub const EARLIEST_PACKET_SECS: i64 = 946_684_800;

/// Why a packet's time was refused; the counters in /health and /metrics use these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeRefusal {
    /// Not readable as a time at all.
    Unreadable,
    /// Before [`EARLIEST_PACKET_SECS`].
    TooEarly,
    /// More than the allowed skew ahead of the server clock.
    Ahead,
}

impl TimeRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeRefusal::Unreadable => "unreadable",
            TimeRefusal::TooEarly => "too_early",
            TimeRefusal::Ahead => "ahead",
        }
    }
}

/// The one rule for a packet's time, whatever form it came in (RFC 3339, naive ISO 8601,
/// unix seconds as a JSON number or a string): it must read as a time, and lie between
/// 2000-01-01 and `max_ahead` past `now` (the server clock).
pub fn packet_time(
    value: &serde_json::Value,
    tz: &TimeZone,
    now: Ts,
    max_ahead: std::time::Duration,
) -> Result<Ts, (TimeRefusal, String)> {
    let unreadable = |msg: String| (TimeRefusal::Unreadable, msg);
    let read = match value {
        serde_json::Value::Number(n) => Read::Secs(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => read_time(s, tz).map_err(unreadable)?,
        other => {
            return Err(unreadable(format!(
                "{other} is not a time; give RFC 3339 (2026-11-21T12:00:00Z) or unix seconds (1763726400)"
            )));
        }
    };
    let latest = now.micros().saturating_add(max_ahead.as_micros() as i64);
    let (micros, shown) = match read {
        Read::Secs(secs) if !secs.is_finite() => {
            return Err(unreadable(format!(
                "{secs} is not a time; give unix seconds (1763726400) or RFC 3339"
            )));
        }
        Read::Secs(secs) => {
            // Saturates far outside any clock's range; the bounds below refuse it.
            let micros = (secs * 1e6) as i64;
            let shown = if secs.abs() <= MAX_SECS {
                format!("{secs} ({})", format_time(Ts(micros), &TimeZone::UTC))
            } else {
                secs.to_string()
            };
            (micros, shown)
        }
        Read::At(ts) => (ts.micros(), format_time(ts, &TimeZone::UTC)),
    };
    if micros < EARLIEST_PACKET_SECS * 1_000_000 {
        return Err((
            TimeRefusal::TooEarly,
            format!(
                "{shown} is before 2000-01-01, so it is no capture time (an unset clock or not a time at all): send the packet's time as unix seconds (e.g. 1763726400) or RFC 3339 with an offset"
            ),
        ));
    }
    if micros > latest {
        return Err((
            TimeRefusal::Ahead,
            format!(
                "{shown} is more than {}s ahead of this server's clock ({}): fix the sender's clock (NTP) or its time zone, send UTC or an offset, or raise general.max_clock_skew",
                max_ahead.as_secs(),
                format_time(now, &TimeZone::UTC)
            ),
        ));
    }
    Ok(Ts(micros))
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

    fn judge(v: serde_json::Value) -> Result<Ts, (TimeRefusal, String)> {
        let now = Ts::from_secs(1_763_726_400);
        packet_time(&v, &TimeZone::UTC, now, std::time::Duration::from_secs(300))
    }

    #[test]
    fn every_form_of_a_packet_time_is_judged_by_one_window() {
        use serde_json::json;
        let now = Ts::from_secs(1_763_726_400);
        for ok in [
            json!(1_763_726_400),
            json!("1763726400"),
            json!("2025-11-21T12:04:59Z"),
            json!("2025-11-21T12:00:00"),
            json!(946_684_800.0),
        ] {
            assert!(judge(ok.clone()).is_ok(), "{ok}");
        }
        assert_eq!(
            judge(json!(1_763_726_400.5)),
            Ok(Ts(now.micros() + 500_000))
        );
        for early in [
            json!(-1),
            json!(1.5),
            json!("1.5"),
            json!(0),
            json!("0000-01-01T00:00:00Z"),
            json!(-1e300),
        ] {
            let (why, msg) = judge(early.clone()).unwrap_err();
            assert_eq!(why, TimeRefusal::TooEarly, "{early}: {msg}");
            assert!(msg.contains("before 2000-01-01"), "{msg}");
        }
        for ahead in [
            json!(1e10),
            json!("1e10"),
            json!(1_763_726_701),
            json!("2025-11-21T13:00:00Z"),
            json!(1e300),
        ] {
            let (why, msg) = judge(ahead.clone()).unwrap_err();
            assert_eq!(why, TimeRefusal::Ahead, "{ahead}: {msg}");
            assert!(msg.contains("general.max_clock_skew"), "{msg}");
        }
        for bad in [
            json!("2025-11-21T12:00:00+25:00"),
            json!("soon"),
            json!(true),
            json!("NaN"),
        ] {
            let (why, msg) = judge(bad.clone()).unwrap_err();
            assert_eq!(why, TimeRefusal::Unreadable, "{bad}: {msg}");
        }
    }

    #[test]
    fn an_offset_beyond_a_day_is_refused_and_names_the_valid_range() {
        let err = parse_time("2025-11-21T12:00:00+25:00", &TimeZone::UTC).unwrap_err();
        assert!(err.contains("-23:59 to +23:59"), "{err}");
        assert!(parse_time("2025-11-21T12:00:00-23:59", &TimeZone::UTC).is_ok());
    }
}
