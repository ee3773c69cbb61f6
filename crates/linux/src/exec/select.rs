//! Chooses the exec event source at start: eBPF, then the proc connector, then /proc
//! polling, keeping the reason each better source was passed over for display and /health.

pub use netsnoop_core::process::exec_source::{ExecSourceChoice, ExecSourceKind};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A better source that is not in use, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedOver {
    pub source: ExecSourceKind,
    pub reason: String,
}

/// The running source and the reasons every better one was passed over.
#[derive(Debug)]
pub struct Selected<T> {
    pub kind: ExecSourceKind,
    pub source: T,
    pub passed_over: Vec<PassedOver>,
}

impl<T> Selected<T> {
    /// One line for the start banner and logs, e.g.
    /// `exec source: netlink (ebpf unavailable: no CAP_BPF ...)`.
    pub fn summary(&self) -> String {
        let mut s = format!("exec source: {}", self.kind);
        if !self.passed_over.is_empty() {
            let why: Vec<String> = self
                .passed_over
                .iter()
                .map(|p| format!("{}: {}", p.source, p.reason))
                .collect();
            s.push_str(&format!(" (not used: {})", why.join("; ")));
        }
        s
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SelectError {
    #[error(
        "exec source {forced} was forced but cannot start: {reason}; use --exec-source auto to fall back"
    )]
    ForcedUnavailable {
        forced: ExecSourceKind,
        reason: String,
    },
    #[error("no exec source could start: {}", list(.0))]
    NoneAvailable(Vec<PassedOver>),
}

fn list(p: &[PassedOver]) -> String {
    p.iter()
        .map(|p| format!("{}: {}", p.source, p.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Starts sources in order of preference until one starts; `start` builds one source or
/// says why it cannot. A forced source is the only one tried.
pub fn select_exec_source<T>(
    choice: ExecSourceChoice,
    mut start: impl FnMut(ExecSourceKind) -> Result<T, String>,
) -> Result<Selected<T>, SelectError> {
    let mut passed_over = Vec::new();
    if let Some(forced) = choice.forced() {
        for better in ExecSourceKind::PREFERENCE
            .into_iter()
            .take_while(|k| *k != forced)
        {
            passed_over.push(PassedOver {
                source: better,
                reason: format!("not tried: exec source forced to {forced}"),
            });
        }
        return match start(forced) {
            Ok(source) => Ok(Selected {
                kind: forced,
                source,
                passed_over,
            }),
            Err(reason) => Err(SelectError::ForcedUnavailable { forced, reason }),
        };
    }
    for kind in ExecSourceKind::PREFERENCE {
        match start(kind) {
            Ok(source) => {
                return Ok(Selected {
                    kind,
                    source,
                    passed_over,
                });
            }
            Err(reason) => passed_over.push(PassedOver {
                source: kind,
                reason,
            }),
        }
    }
    Err(SelectError::NoneAvailable(passed_over))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starter(
        working: &'static [ExecSourceKind],
    ) -> impl FnMut(ExecSourceKind) -> Result<ExecSourceKind, String> {
        move |k| {
            if working.contains(&k) {
                Ok(k)
            } else {
                Err(format!("{k} broken"))
            }
        }
    }

    #[test]
    fn auto_takes_ebpf_when_it_starts() {
        let s =
            select_exec_source(ExecSourceChoice::Auto, starter(&[ExecSourceKind::Ebpf])).unwrap();
        assert_eq!(s.kind, ExecSourceKind::Ebpf);
        assert!(s.passed_over.is_empty());
        assert_eq!(s.summary(), "exec source: ebpf");
    }

    #[test]
    fn auto_falls_back_in_order_and_keeps_every_reason() {
        let s =
            select_exec_source(ExecSourceChoice::Auto, starter(&[ExecSourceKind::Poll])).unwrap();
        assert_eq!(s.source, ExecSourceKind::Poll);
        assert_eq!(
            s.summary(),
            "exec source: poll (not used: ebpf: ebpf broken; netlink: netlink broken)"
        );
    }

    #[test]
    fn a_forced_source_is_the_only_one_tried() {
        let mut tried = Vec::new();
        let s = select_exec_source(ExecSourceChoice::Netlink, |k| {
            tried.push(k);
            Ok::<_, String>(k)
        })
        .unwrap();
        assert_eq!(tried, [ExecSourceKind::Netlink]);
        assert_eq!(s.passed_over[0].source, ExecSourceKind::Ebpf);
        assert!(s.passed_over[0].reason.contains("forced to netlink"));
    }

    #[test]
    fn a_forced_source_that_fails_is_an_error_naming_the_fix() {
        let e = select_exec_source(ExecSourceChoice::Ebpf, starter(&[ExecSourceKind::Poll]))
            .unwrap_err();
        assert!(e.to_string().contains("--exec-source auto"), "{e}");
    }

    #[test]
    fn no_working_source_lists_all_reasons() {
        let e = select_exec_source(ExecSourceChoice::Auto, starter(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no exec source could start: ebpf: ebpf broken; netlink: netlink broken; poll: poll broken"
        );
    }

    #[test]
    fn choices_parse_from_their_flag_values() {
        assert_eq!("auto".parse(), Ok(ExecSourceChoice::Auto));
        assert_eq!("ebpf".parse(), Ok(ExecSourceChoice::Ebpf));
        assert_eq!("netlink".parse(), Ok(ExecSourceChoice::Netlink));
        assert_eq!("poll".parse(), Ok(ExecSourceChoice::Poll));
        assert!(
            "kprobe"
                .parse::<ExecSourceChoice>()
                .unwrap_err()
                .contains("auto, ebpf")
        );
    }
}
