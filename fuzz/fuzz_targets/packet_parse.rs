//! Fuzz target: core's packet parser on any bytes, for every link type it knows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsnoop_core::Ts;
use netsnoop_core::net::parse::{LinkType, parse};

/// Link types by pcap number: the first input byte picks one.
const DLTS: [u32; 11] = [1, 101, 12, 14, 228, 229, 113, 276, 0, 108, 147];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let link = LinkType::from_dlt(DLTS[usize::from(pick) % DLTS.len()]);
    // The wire length may claim more (or less) than the captured bytes.
    let wire_len = if pick & 0x80 != 0 {
        rest.len() as u32
    } else {
        u32::from(pick) * 37
    };
    let meta = parse(link, rest, wire_len, Ts(0), 0);
    assert_eq!(meta.wire_len, wire_len);
});
