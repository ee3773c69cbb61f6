//! Fuzz target: the capture file reader on pcapng input (section header block type
//! forced), every block read and each packet parsed, until the end or the damage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsnoop_core::net::parse::parse;
use netsnoop_linux::capture::CaptureFile;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let mut file = data.to_vec();
    file[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
    let Ok(mut reader) = CaptureFile::new(std::io::Cursor::new(&file[..])) else {
        return;
    };
    while let Ok(Some(p)) = reader.next_packet() {
        let _ = parse(p.link, p.data, p.wire_len, p.time, p.iface);
    }
});
