//! The commented default config `netsnoop init` writes. A test proves it parses to exactly
//! `Config::default()`, so the comments cannot drift from the code.

use netsnoop_core::net::config::NetworkConfig;
use netsnoop_core::process::config::ProcessConfig;
use netsnoop_core::resource::ResourceConfig;
use serde::Serialize;
use std::path::Path;

const HEADER: &str = "\
# NetSnoop configuration.
# Every key is optional: a missing key (or a missing file) means the default shown here.
# Unknown keys and out-of-range values are refused at start, naming the key.
# Flags override the file: --data-dir, --listen, --interface, --filter, --no-capture.
# Times are written like 30s, 10m, 2h, 7d.
";

const GENERAL: &str = r#"
[general]
# Time zone for every time shown in the terminal, logs and API ("local" = the system's
# zone, or an IANA name such as "Asia/Kolkata" or "UTC"). Data is stored in UTC.
timezone = "local"
# Packet times may run at most this far ahead of this host's clock. A later time is
# refused: POST /packets answers 422 naming the packet, captured packets are dropped;
# both are counted (/health: packet_times.refused and losses.clock; /metrics:
# netsnoop_packets_time_refused_total, netsnoop_lost_events_total{source="clock"}).
# POST /packets also refuses times before 2000-01-01. 1s to 1d.
max_clock_skew = "5m"
"#;

/// The line `render` replaces when a data dir is given.
const DATA_DIR_LINE: &str = "# data_dir = \"/var/lib/netsnoop\"";

const PATHS: &str = r#"
[paths]
# Where the log files and the embedded database live. Default: /var/lib/netsnoop for root,
# else $XDG_DATA_HOME/netsnoop (~/.local/share/netsnoop). Must be absolute.
# data_dir = "/var/lib/netsnoop"
# The data dir is created 0700 and its files 0600: they hold every user's argv. A group
# given here may read them (dir 2750 owned by the group, files 0640).
# group = "adm"
"#;

const LOGS: &str = r#"
[logs]
# anomalies.csv, alerts.jsonl, events.jsonl and netsnoop.log are written in the data dir.
# Each is rotated when it would grow past max_size_mb (file.1 is the newest old file);
# `keep` old files are kept per log (0-100), so logs never fill the disk.
max_size_mb = 10
keep = 5
# Event types written to events.jsonl: process, resources, packet, flow, traffic, loss,
# connection (a socket connected, accepted, sent UDP, listened or closed, with its process).
# Packets and resource samples arrive many per second; by default only the store has them.
events = ["process", "flow", "loss", "connection"]
# strftime pattern for the timestamp column of anomalies.csv (default: RFC 3339, e.g.
# 2026-12-03T14:24:29+05:30). The original NetSnoop's dashboard reads only its own form:
# with general.timezone = "Asia/Kolkata", "%Y-%m-%d %H:%M:%S %Z" gives 2026-12-03 14:24:29 IST.
# csv_time_format = "%Y-%m-%d %H:%M:%S %Z"
"#;

const STORE: &str = r#"
[store]
# "sqlite" keeps netsnoop.db in the data dir; "sqlite:/path/to/file.db" puts it elsewhere;
# "postgres://user@host/dbname" uses PostgreSQL (for a central `netsnoop serve`).
database = "sqlite"
# The oldest data is deleted while the database is larger than this (0 = no limit).
max_size_mb = 2048
# Most packet rows kept, oldest first out (0 = no limit). Statistics come from rollups.
max_packet_rows = 1000000
# How often retention runs.
retention_every = "5m"

[store.keep]
# How long each kind of data is kept (30m, 12h, 7d, 2w, or "forever").
packets = "1d"
traffic = "30d"
# Per-minute (and 10 min) and per-hour traffic statistics for older ranges; kept at
# least as long as the finer ones.
traffic_minutes = "90d"
traffic_hours = "400d"
flows = "7d"
process_events = "7d"
system_samples = "7d"
process_samples = "2d"
alerts = "90d"
losses = "90d"
"#;

const SERVER: &str = r#"
[server]
# API and dashboard address. Loopback by default; to expose it, set a token too.
listen = "127.0.0.1:8000"
# Bearer token API clients and agents must send (at least 16 characters; NETSNOOP_TOKEN
# wins over this key). With a token, POST always needs it; beyond loopback every data
# request needs it too. Without one (loopback only) any local program may POST packets,
# but web pages may not: writes must be `Content-Type: application/json` with no foreign
# `Origin`, which browsers cannot send cross-origin. Set a token on shared machines.
# token = "change-me-to-a-long-random-string"
# HTTPS: the certificate chain and its private key, PEM (both or neither). Agents then use
# --server https://… (with agent.ca_file for a private CA).
# tls_cert = "/etc/netsnoop/tls/cert.pem"
# tls_key = "/etc/netsnoop/tls/key.pem"
# Host names the API answers to besides IP addresses and localhost (e.g. the name of a
# reverse proxy or of this machine). Any other `Host:` is refused (DNS rebinding).
allowed_hosts = []
# Most HTTP connections open at once (8-100000). At the cap the oldest idle connection is
# closed to make room (logged, and counted in /metrics), so a flood of idle or half-open
# connections cannot lock out health checks. Keep it well under `ulimit -n`.
max_connections = 512
# A client must send a request's headers within header_timeout; a keep-alive connection
# with no request in progress is closed after idle_timeout (1s-1h each).
header_timeout = "10s"
idle_timeout = "60s"
"#;

const REDACT: &str = r#"
[redact]
# Secrets in process arguments are replaced by "<redacted>" before anything stores or
# shows them (store, API, stream, dashboard, terminal, logs). Each exec event says how many
# it lost (`redacted`); /health and /metrics count them all. Names match in any case.
enabled = true
# Header values, wherever an argument holds `Name: value` (curl -H, wget --header). A
# scheme word (Bearer, Basic, ...) is kept, the credential after it is not.
headers = ["authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "private-token"]
# Long options, without dashes: both `--password=X` and `--password X` lose X. A glued
# `--name=X` also loses X when the name contains one of env_names (--db-password=X).
options = ["password", "passwd", "token", "secret", "api-key", "apikey", "access-token", "auth-token", "client-secret"]
# `NAME=value` arguments (env, docker -e, mount -o a=1,b=2) whose NAME contains one of
# these (`-` counts as `_`) lose their value.
env_names = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"]
# The password of URLs with credentials: https://user:<redacted>@host/.
url_credentials = true

[redact.short_options]
# Per program (argv[0]'s basename, or a later argument's, as after sudo): option letters
# whose value is a secret. "p" redacts a glued value only (mysql -pX: mysql's -p X names a
# database); "p+" also the next argument (sshpass -p X).
mariadb = ["p"]
mariadb-dump = ["p"]
mysql = ["p"]
mysqladmin = ["p"]
mysqldump = ["p"]
sshpass = ["p+"]
"#;

const PROCESS: &str = "
# Process monitoring: exec events (proc connector, else /proc polling), the process table,
# spawn bursts (more than 8 new processes under one parent within 3 s), instigator tracing
# and spawn-rate alerts. Every key with its default:
";

const RESOURCES: &str = "
# Resource monitoring: sampling every second; per-process CPU (100 = one core), system
# CPU, memory and load alerts with the original tools' levels. Every key with its default:
";

const NETWORK: &str = "
# Network monitoring: packet capture (--interface, --filter and --no-capture override
# [network.capture]), flows, per-second rollups, scan and traffic-spike detection.
# Every key with its default:
";

const OUTPUTS: &str = r#"
# Alert delivery: any number of [[outputs]], each with its route and exactly one receiver
# table. Each output has its own bounded queue and thread: a slow or dead receiver never
# slows monitoring; failures are retried with backoff, drops counted (/health, /metrics)
# and raised once as a delivery.dropped alert. Secrets: write ${ENV_VAR} in any URL,
# header or password, or use password_file / bearer_token_file.
#
# [[outputs]]
# name = "alertmanager"
# min_severity = "medium"          # info, low, medium, high, critical
# kinds = ["cpu.*", "net.*"]       # globs; empty = every kind
# hosts = []                       # globs over host names; empty = every host
# subjects = []                    # globs over pid, process name, user, command, IPs
# group_secs = 0                   # a burst within this window is one message (10 for webhook/email)
# repeat_secs = 60                 # re-send open alerts (3600 for others; 0 = never)
# send_resolved = true
# queue = 1000                     # alerts waiting at most; more are dropped and counted
# timeout_secs = 10
# retry_max_secs = 60              # retries start at 0.5 s and double up to this, with jitter
# [outputs.alertmanager]
# url = "http://127.0.0.1:9093"
#
# Other receivers (one per output):
# [outputs.webhook]   url = "...", format = "alertmanager" (payload v4) | "slack" | "mattermost" | "discord",
#                     bearer_token = "${HOOK_TOKEN}" or bearer_token_file = "/path", headers = {}
# [outputs.falco]     url = "http://127.0.0.1:2801/", tags = []   (falcosidekick)
# [outputs.email]     host = "smtp.example.org", tls = "starttls" | "tls" | "none", port = 587,
#                     username = "...", password = "${SMTP_PASSWORD}" or password_file = "/path",
#                     from = "netsnoop@example.org", to = ["ops@example.org"]
# [outputs.program]   command = "logger -t netsnoop"   (one JSON line per alert on stdin)
"#;

const ATTRIBUTION: &str = "
# Socket attribution: which process owns each connection, joined into flows and scan
# alerts. eBPF (BTF tracepoints) sees even the shortest connection; without it, /proc is
# scanned every scan_interval_secs. Every key with its default:
";

const FLEET: &str = r#"
[fleet]
# Agents (`netsnoop agent --server URL`) enrol once with this secret and get a key of
# their own; the server keeps only its hash. NETSNOOP_ENROLL_SECRET wins over this key.
# Without a secret, `serve` enrols no agent. At least 16 characters.
# enrollment_secret = "change-me-to-a-long-random-string"
# A host that has not reported for stale_after is shown `stale`, for down_after `down`
# (GET /hosts, `netsnoop hosts`).
stale_after = "1m"
down_after = "5m"
# This host's identity: /etc/machine-id (else an id kept in the data dir) and the
# hostname. Set them where clones of one image share a machine id.
# host_id = "web-1"
# hostname = "web-1.example.org"
# NetWatch agents POST packets to /packets: those that name no `host` belong to this one
# (its id is `netwatch-` + the name).
netwatch_host = "netwatch"
"#;

const AGENT: &str = r#"
[agent]
# Where `netsnoop agent` reports (--server wins), and the secret it enrols with once
# (NETSNOOP_ENROLL_SECRET wins). ca_file: the PEM of a private CA for https://.
# server = "https://monitor.example.org:8000"
# enrollment_secret = "change-me-to-a-long-random-string"
# ca_file = "/etc/netsnoop/ca.pem"
# Records form a batch every batch_interval (1s-1m) or batch_records, whichever comes first.
batch_interval = "1s"
batch_records = 5000
# Batches wait in the spool (agent-spool.db in the data dir) until the server has stored
# them; it survives restarts and crashes. Past spool_max_mb or spool_max_age the oldest
# batches are dropped, counted, and reported to the server when it is back.
spool_max_mb = 1024
spool_max_age = "24h"
# A backlog is replayed in order at most this many batches per second.
replay_batches_per_sec = 20
# While the server is away, retries back off up to retry_max, with jitter.
retry_max = "10s"
"#;

/// One block per config section, in file order. A new section adds its block here.
pub fn sections() -> Vec<String> {
    let mut out: Vec<String> = [GENERAL, PATHS, LOGS, STORE, SERVER, REDACT]
        .iter()
        .map(|s| s.to_string())
        .collect();
    out.push(defaults_block(
        PROCESS,
        "process",
        &ProcessConfig::default(),
    ));
    out.push(defaults_block(
        RESOURCES,
        "resources",
        &ResourceConfig::default(),
    ));
    out.push(defaults_block(
        NETWORK,
        "network",
        &NetworkConfig::default(),
    ));
    out.push(OUTPUTS.to_string());
    out.push(defaults_block(
        ATTRIBUTION,
        "attribution",
        &netsnoop_core::owner::OwnerConfig::default(),
    ));
    out.push(FLEET.to_string());
    out.push(AGENT.to_string());
    out
}

/// A section whose keys are documented next to their code in netsnoop-core: a comment,
/// then its defaults rendered from the code itself, so the file can never disagree.
fn defaults_block<T: Serialize>(comment: &str, name: &str, defaults: &T) -> String {
    let mut root = toml::Table::new();
    let value = toml::Value::try_from(defaults).expect("config defaults serialize to TOML");
    root.insert(name.to_string(), value);
    let body = toml::to_string(&root).expect("a TOML table renders");
    format!("{comment}{body}")
}

/// The template, with `paths.data_dir` set when `data_dir` is given.
pub fn render(data_dir: Option<&Path>) -> String {
    let mut out = String::from(HEADER);
    for section in sections() {
        out.push_str(&section);
    }
    if let Some(dir) = data_dir {
        let value = toml::Value::String(dir.display().to_string());
        out = out.replacen(DATA_DIR_LINE, &format!("data_dir = {value}"), 1);
    }
    out
}
