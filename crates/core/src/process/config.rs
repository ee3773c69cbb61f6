//! The `[process]` configuration section: exec source, process table, burst, instigator and
//! spawn-rate settings, each with documented defaults taken from the original NetSnoop.

use crate::process::exec_source::ExecSourceChoice;
use serde::{Deserialize, Serialize};

/// Everything process monitoring can be told. Embedded by the binary as `[process]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessConfig {
    pub source: SourceConfig,
    pub table: TableConfig,
    pub burst: BurstConfig,
    pub instigator: InstigatorConfig,
    pub spawn_rate: SpawnRateConfig,
    pub loss: LossConfig,
}

/// Where exec events come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// Which exec source runs (default "auto": eBPF, else the proc connector, else /proc
    /// polling). "ebpf", "netlink" or "poll" force one; a forced source that cannot start
    /// stops NetSnoop with the reason. `--exec-source` overrides this.
    pub exec_source: ExecSourceChoice,
    /// Size of the eBPF ring buffer, in bytes (default 16 MiB, about 40,000 exec records):
    /// it absorbs exec storms while the pipeline is busy; what overflows is counted as lost.
    pub ebpf_ring_buffer_bytes: u32,
    /// Skip the proc connector and poll /proc (default false). Polling misses processes
    /// that live less than one interval; it exists for hosts without the connector.
    pub force_polling: bool,
    /// Interval of the /proc fallback scan, in milliseconds (default 1000, as the original).
    pub poll_interval_ms: u64,
    /// Kernel receive buffer asked for on the netlink socket, in bytes (default 16 MiB).
    /// A large buffer absorbs fork storms while the reader is descheduled.
    pub receive_buffer_bytes: usize,
    /// Raw events queued between the socket reader and the enricher (default 262144).
    /// When full, events are dropped and counted as lost.
    pub queue_capacity: usize,
    /// Niceness of the reader and enricher threads (default -10): a short-lived process's
    /// argv can only be read before it exits, so they must not wait behind the workload.
    /// Needs root or CAP_SYS_NICE; without it they keep the normal priority (logged).
    pub thread_nice: i32,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            exec_source: ExecSourceChoice::Auto,
            ebpf_ring_buffer_bytes: 16 << 20,
            force_polling: false,
            poll_interval_ms: 1000,
            receive_buffer_bytes: 16 << 20,
            queue_capacity: 262_144,
            thread_nice: -10,
        }
    }
}

/// The in-memory process table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableConfig {
    /// Most processes (live and recently exited) kept (default 32768). Exited ones are
    /// retired first; evicting a live one is counted.
    pub max_entries: usize,
    /// Deepest ancestry chain built (default 64), a guard against corrupt parent links.
    pub max_depth: usize,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            max_entries: 32_768,
            max_depth: 64,
        }
    }
}

/// Spawn bursts under one parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstConfig {
    /// A burst is MORE than this many new processes under one parent (default 8).
    pub threshold: usize,
    /// ... within this many seconds (default 3).
    pub window_secs: f64,
    /// An episode stays open (absorbing new bursts of the same parent) until the parent
    /// has been quiet this long; so at most one alert per parent per cooldown (default 30).
    pub cooldown_secs: f64,
    /// Severity is high when the peak count in the window is above this, else medium
    /// (default 15).
    pub high_above: usize,
    /// Terminal output groups burst alerts over this many seconds (default 5).
    pub group_secs: f64,
    /// An open episode is re-emitted with fresh counts at most this often (default 1).
    pub update_every_secs: f64,
    /// Parents whose bursts are ignored, matched on comm or executable name.
    /// Shells are deliberately absent: the instigator trace walks past them.
    pub safe_parents: Vec<String>,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            threshold: 8,
            window_secs: 3.0,
            cooldown_secs: 30.0,
            high_above: 15,
            group_secs: 5.0,
            update_every_secs: 1.0,
            safe_parents: strings(&[
                "systemd",
                "init",
                "kthreadd",
                "rsyslogd",
                "cron",
                "agetty",
                "dbus-daemon",
                "systemd-journal",
                "systemd-journald",
                "systemd-udevd",
                "systemd-logind",
                "login",
            ]),
        }
    }
}

/// How the program really behind a burst is found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstigatorConfig {
    /// File extensions that mark an argument as a script.
    pub script_extensions: Vec<String>,
    /// Interpreters and runtimes (version suffixes like `python3.11` match `python`).
    pub interpreters: Vec<String>,
    /// Shells: meaningful only when running a script, otherwise walked past.
    pub shells: Vec<String>,
    /// Compilers and build tools.
    pub build_tools: Vec<String>,
    /// Walked past: init, session managers, terminal multiplexers, privilege tools and
    /// NetSnoop itself.
    pub skip: Vec<String>,
    /// Executables under these prefixes are system programs; anything else is a user
    /// program and counts as meaningful.
    pub system_paths: Vec<String>,
}

impl Default for InstigatorConfig {
    fn default() -> Self {
        InstigatorConfig {
            script_extensions: strings(&[
                "sh", "bash", "zsh", "ksh", "py", "pl", "rb", "js", "mjs", "ts", "php", "lua",
                "tcl", "r", "ps1",
            ]),
            interpreters: strings(&[
                "python",
                "perl",
                "ruby",
                "node",
                "nodejs",
                "deno",
                "bun",
                "php",
                "lua",
                "luajit",
                "java",
                "tclsh",
                "Rscript",
                "dotnet",
                "pwsh",
                "osascript",
                "awk",
                "gawk",
            ]),
            shells: strings(&[
                "sh", "bash", "dash", "zsh", "ksh", "fish", "tcsh", "csh", "ash",
            ]),
            build_tools: strings(&[
                "make",
                "gmake",
                "cmake",
                "ninja",
                "meson",
                "cargo",
                "rustc",
                "gcc",
                "g++",
                "cc",
                "c++",
                "clang",
                "clang++",
                "ld",
                "go",
                "javac",
                "mvn",
                "gradle",
                "ant",
                "npm",
                "yarn",
                "pnpm",
                "bazel",
                "scons",
                "dpkg-buildpackage",
                "rpmbuild",
            ]),
            skip: strings(&[
                "systemd",
                "init",
                "kthreadd",
                "sshd",
                "sshd-session",
                "login",
                "su",
                "sudo",
                "doas",
                "tmux",
                "tmux: server",
                "screen",
                "SCREEN",
                "gdm-session-wor",
                "lightdm",
                "sddm",
                "systemd-logind",
                "containerd-shim",
                "netsnoop",
            ]),
            system_paths: strings(&["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/etc/"]),
        }
    }
}

/// The system-wide spawn-rate rule (the original's "process Δ > 10" check). The original
/// compared process counts between 5 s scans; here the true fork count is used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpawnRateConfig {
    /// Alert when forks per second, averaged over `window_secs`, exceed this (default 100).
    pub max_per_sec: f64,
    /// Averaging window in seconds (default 5, the original's scan interval).
    pub window_secs: f64,
    /// The episode resolves after the rate has been below the threshold this long
    /// (default 30).
    pub cooldown_secs: f64,
}

impl Default for SpawnRateConfig {
    fn default() -> Self {
        SpawnRateConfig {
            max_per_sec: 100.0,
            window_secs: 5.0,
            cooldown_secs: 30.0,
        }
    }
}

/// The `process.events_lost` alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// The episode resolves after no loss for this long (default 30).
    pub quiet_secs: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig { quiet_secs: 30.0 }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_gives_the_documented_defaults() {
        let c: ProcessConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, ProcessConfig::default());
        assert_eq!(c.burst.threshold, 8);
        assert_eq!(c.burst.window_secs, 3.0);
        assert_eq!(c.burst.cooldown_secs, 30.0);
        assert_eq!(c.burst.high_above, 15);
        assert!(!c.burst.safe_parents.iter().any(|p| p == "bash"));
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_name() {
        let err = serde_json::from_str::<ProcessConfig>(r#"{"burst":{"treshold":3}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("treshold"), "{err}");
    }

    #[test]
    fn one_field_can_be_changed_and_the_rest_keep_defaults() {
        let c: ProcessConfig = serde_json::from_str(r#"{"burst":{"threshold":3}}"#).unwrap();
        assert_eq!(c.burst.threshold, 3);
        assert_eq!(c.burst.window_secs, 3.0);
    }
}
