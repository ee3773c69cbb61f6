//! The commented default config `netsnoop init` writes. A test proves it parses to exactly
//! `Config::default()`, so the comments cannot drift from the code.

use std::path::Path;

const HEADER: &str = "\
# NetSnoop configuration.
# Every key is optional: a missing key (or a missing file) means the default shown here.
# Unknown keys and out-of-range values are refused at start, naming the key.
# Flags override the file: --data-dir, --listen, --interface, --filter, --no-capture.
";

const GENERAL: &str = r#"
[general]
# Time zone for every time shown in the terminal, logs and API ("local" = the system's
# zone, or an IANA name such as "Asia/Kolkata" or "UTC"). Data is stored in UTC.
timezone = "local"
"#;

/// The line `render` replaces when a data dir is given.
const DATA_DIR_LINE: &str = "# data_dir = \"/var/lib/netsnoop\"";

const PATHS: &str = r#"
[paths]
# Where the log files and the embedded database live. Default: /var/lib/netsnoop for root,
# else $XDG_DATA_HOME/netsnoop (~/.local/share/netsnoop). Must be absolute.
# data_dir = "/var/lib/netsnoop"
"#;

const LOGS: &str = r#"
[logs]
# anomalies.csv, alerts.jsonl, events.jsonl and netsnoop.log are written in the data dir.
# Each is rotated when it would grow past max_size_mb (file.1 is the newest old file);
# `keep` old files are kept per log (0-100), so logs never fill the disk.
max_size_mb = 10
keep = 5
# Event types written to events.jsonl: process, resources, packet, flow, traffic, loss.
# Packets and resource samples arrive many per second; by default only the store has them.
events = ["process", "flow", "loss"]
"#;

const STORE: &str = r#"
[store]
# "sqlite" keeps netsnoop.db in the data dir; "sqlite:/path/to/file.db" puts it elsewhere;
# "postgres://user@host/dbname" uses PostgreSQL (for a central `netsnoop serve`).
database = "sqlite"
# Retention: data older than max_age is deleted (30m, 12h, 7d, 2w), and the oldest data
# goes first while the database is larger than max_size_mb.
max_age = "7d"
max_size_mb = 1024
"#;

const SERVER: &str = r#"
[server]
# API and dashboard address. Loopback by default; to expose it, set a token too.
listen = "127.0.0.1:8000"
# Bearer token API clients and agents must send (at least 16 characters).
# token = "change-me-to-a-long-random-string"
"#;

const CAPTURE: &str = r#"
[capture]
# Packet capture for `run` and `watch` (--no-capture turns it off for one run).
enabled = true
# Interfaces to capture on (repeat --interface on the command line); empty = all that are up.
interfaces = []
# BPF filter in tcpdump syntax, e.g. "tcp or udp"; empty = everything.
filter = ""
# Bytes kept per packet (64-65535): NetSnoop reads headers only.
snaplen = 256
"#;

/// One block per config section, in file order. A new section adds its block here.
pub const SECTIONS: &[&str] = &[GENERAL, PATHS, LOGS, STORE, SERVER, CAPTURE];

/// The template, with `paths.data_dir` set when `data_dir` is given.
pub fn render(data_dir: Option<&Path>) -> String {
    let mut out = String::from(HEADER);
    for section in SECTIONS {
        out.push_str(section);
    }
    if let Some(dir) = data_dir {
        let value = toml::Value::String(dir.display().to_string());
        out = out.replacen(DATA_DIR_LINE, &format!("data_dir = {value}"), 1);
    }
    out
}
