//! Fuzz target: the decoder of eBPF ring buffer records (fork, exec, exit) and the split of
//! their argv area.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsnoop_linux::exec::ebpf::{decode_record, split_args};

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = decode_record(data) {
        let args = split_args(&ev.args);
        assert!(args.len() <= ev.args.len() + 1);
    }
});
