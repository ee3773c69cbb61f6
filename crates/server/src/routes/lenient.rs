//! POST /packets field readers as lenient in form as NetWatch's pydantic model (numbers
//! sent as strings, whole floats) and strict in value: anything that would be stored as
//! something else than what was sent is refused.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A whole number from a JSON number, a whole float (`60.0`) or a numeric string (`"60"`).
struct WholeNumber;

impl Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number (or a string holding one)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is far too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(v as i64)
        } else {
            Err(E::custom(format!("{v} is not a whole number")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim().parse::<i64>().map_err(|_| {
            E::custom(format!(
                "{v:?} is not a whole number; send e.g. 60 or \"60\""
            ))
        })
    }
}

/// `packet_size`: required, lenient in form.
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(WholeNumber)
}

/// A port, lenient in form; `null` or absent is "no port given".
pub fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let Some(v) = Option::<Lenient>::deserialize(d)? else {
        return Ok(None);
    };
    u16::try_from(v.0)
        .map(Some)
        .map_err(|_| de::Error::custom(format!("{} is not a port: give 0 to 65535", v.0)))
}

struct Lenient(i64);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeNumber).map(Lenient)
    }
}

/// TCP flags as the bits on the wire (`2`, `"18"`) or as letters the way scapy and
/// tcpdump print them (`"S"`, `"SA"`, `"FPU"`): F S R P A U E C.
pub fn tcp_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let Some(v) = Option::<serde_json::Value>::deserialize(d)? else {
        return Ok(None);
    };
    let bad = || {
        de::Error::custom(format!(
            "{v} is not TCP flags: give the bits (0-255, e.g. 2 for SYN) or letters from FSRPAUEC (e.g. \"S\", \"SA\")"
        ))
    };
    match &v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .map(Some)
            .ok_or_else(bad),
        serde_json::Value::String(s) if s.trim().chars().all(|c| c.is_ascii_digit()) => {
            s.trim().parse::<u8>().map(Some).map_err(|_| bad())
        }
        serde_json::Value::String(s) => letters(s.trim()).map(Some).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Flag letters to bits; `None` on any other character or an empty string.
fn letters(s: &str) -> Option<u8> {
    if s.is_empty() {
        return None;
    }
    s.chars().try_fold(0u8, |bits, c| {
        let bit = match c.to_ascii_uppercase() {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            'E' => 0x40,
            'C' => 0x80,
            _ => return None,
        };
        Some(bits | bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "whole")]
        size: i64,
        #[serde(default, deserialize_with = "port")]
        port: Option<u16>,
        #[serde(default, deserialize_with = "tcp_flags")]
        flags: Option<u8>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_as_strings_and_whole_floats_are_read_like_pydantic_does() {
        assert_eq!(t(r#"{"size":"60"}"#).unwrap().size, 60);
        assert_eq!(t(r#"{"size":60.0}"#).unwrap().size, 60);
        assert_eq!(t(r#"{"size":60,"port":"443"}"#).unwrap().port, Some(443));
        assert_eq!(t(r#"{"size":60,"port":null}"#).unwrap().port, None);
        for bad in [
            r#"{"size":"big"}"#,
            r#"{"size":60.5}"#,
            r#"{"size":true}"#,
            r#"{"size":1,"port":70000}"#,
            r#"{"size":1,"port":"-1"}"#,
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tcp_flags_are_bits_or_letters() {
        assert_eq!(t(r#"{"size":1,"flags":2}"#).unwrap().flags, Some(0x02));
        assert_eq!(t(r#"{"size":1,"flags":"18"}"#).unwrap().flags, Some(0x12));
        assert_eq!(t(r#"{"size":1,"flags":"SA"}"#).unwrap().flags, Some(0x12));
        assert_eq!(t(r#"{"size":1,"flags":"ra"}"#).unwrap().flags, Some(0x14));
        for bad in [r#""SX""#, "256", r#""""#, "-1", "[1]"] {
            let body = format!(r#"{{"size":1,"flags":{bad}}}"#);
            assert!(t(&body).is_err(), "{bad}");
        }
    }
}
