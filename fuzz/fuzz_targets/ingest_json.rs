//! Fuzz target: the body of `POST /packets` (NetWatch's JSON, one packet or an array) as
//! the server parses and validates it before anything is handed over.
#![no_main]

use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use netsnoop_core::Ts;
use netsnoop_server::routes::ingest::parse_body;

fuzz_target!(|data: &[u8]| {
    // A fixed "now" (2026-01-01) keeps runs reproducible.
    let now = Ts::from_secs(1_767_225_600);
    if let Ok(packets) = parse_body(data, &TimeZone::UTC, now) {
        assert!(!packets.is_empty() || data.iter().any(|b| *b == b'['));
    }
    let _ = parse_body(data, &TimeZone::fixed(jiff::tz::offset(5)), now);
});
