//! Fuzz target: the config file loader (TOML, every section with unknown keys refused,
//! then range checks) on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match netsnoop::config::parse(&text, Path::new("/fuzz/config.toml")) {
        Ok(config) => {
            let _ = config.problems();
            let _ = netsnoop_core::redact::Redactor::new(&config.redact);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
