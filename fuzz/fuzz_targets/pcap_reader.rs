//! Fuzz target: the capture file reader on pcap input (classic header forced), every
//! record read and parsed as `netsnoop analyze` does, until the end or the damage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsnoop_core::net::parse::parse;
use netsnoop_linux::capture::CaptureFile;

/// Microsecond and nanosecond pcap magics, both byte orders.
const MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let mut file = data.to_vec();
    file[..4].copy_from_slice(&MAGICS[usize::from(data[0] & 3)]);
    read_all(&file);
});

fn read_all(file: &[u8]) {
    let Ok(mut reader) = CaptureFile::new(std::io::Cursor::new(file)) else {
        return;
    };
    while let Ok(Some(p)) = reader.next_packet() {
        let _ = parse(p.link, p.data, p.wire_len, p.time, p.iface);
    }
}
