//! The exec event sources NetSnoop knows, best first, and the user's choice among them
//! (`[process.source] exec_source`, `--exec-source`). Starting them is netsnoop-linux's job.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An exec event source, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecSourceKind {
    /// In-kernel capture through eBPF: argv read at exec time, so short-lived processes
    /// have complete argv.
    Ebpf,
    /// The netlink proc connector: every event, argv read from /proc afterwards.
    Netlink,
    /// Scanning /proc every interval: misses processes shorter than the interval.
    Poll,
}

impl ExecSourceKind {
    pub const PREFERENCE: [ExecSourceKind; 3] = [Self::Ebpf, Self::Netlink, Self::Poll];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ebpf => "ebpf",
            Self::Netlink => "netlink",
            Self::Poll => "poll",
        }
    }
}

impl fmt::Display for ExecSourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user asked for (`--exec-source`, config `process.exec_source`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecSourceChoice {
    /// The best source that starts.
    #[default]
    Auto,
    /// This source or none: a forced source that fails to start is an error.
    Ebpf,
    Netlink,
    Poll,
}

impl ExecSourceChoice {
    /// The source a non-auto choice forces.
    pub fn forced(self) -> Option<ExecSourceKind> {
        match self {
            Self::Auto => None,
            Self::Ebpf => Some(ExecSourceKind::Ebpf),
            Self::Netlink => Some(ExecSourceKind::Netlink),
            Self::Poll => Some(ExecSourceKind::Poll),
        }
    }
}

impl FromStr for ExecSourceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "ebpf" => Ok(Self::Ebpf),
            "netlink" => Ok(Self::Netlink),
            "poll" => Ok(Self::Poll),
            other => Err(format!(
                "unknown exec source {other:?}: use one of auto, ebpf, netlink, poll"
            )),
        }
    }
}

impl fmt::Display for ExecSourceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Ebpf => "ebpf",
            Self::Netlink => "netlink",
            Self::Poll => "poll",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_from_their_flag_values_and_display_back() {
        for s in ["auto", "ebpf", "netlink", "poll"] {
            assert_eq!(s.parse::<ExecSourceChoice>().unwrap().to_string(), s);
        }
        let e = "kprobe".parse::<ExecSourceChoice>().unwrap_err();
        assert!(e.contains("auto, ebpf, netlink, poll"), "{e}");
    }

    #[test]
    fn a_forced_choice_names_its_source_and_auto_none() {
        assert_eq!(ExecSourceChoice::Auto.forced(), None);
        assert_eq!(ExecSourceChoice::Poll.forced(), Some(ExecSourceKind::Poll));
    }
}
