//! Fuzz target: secret redaction on any argv (NUL-separated) and on the joined command
//! line; redacting twice must change nothing more.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsnoop_core::redact::Redactor;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = Redactor::default();
    let mut argv: Vec<String> = text.split('\0').map(str::to_string).collect();
    r.redact_argv(&mut argv);
    let once = argv.clone();
    assert_eq!(r.redact_argv(&mut argv), 0);
    assert_eq!(argv, once);
    let mut line = text.replace('\0', " ");
    r.redact_line(&mut line);
});
