//! Turns kernel records into the same [`ProcessEvent`]s the proc connector source emits, so
//! the pipeline does not care which source produced them.

use super::wire::{RawEvent, RawKind, split_args};
use crate::proc_pid::UserNames;
use netsnoop_core::{ProcEventKind, ProcessEvent, Ts};

/// Linux fixes USER_HZ (the unit of /proc/PID/stat's start time) at 100 on the architectures
/// this builds for, so `start_ticks` matches what the /proc-based sources compute.
const NS_PER_TICK: u64 = 10_000_000;

/// Maps CLOCK_BOOTTIME (the kernel's event clock) to wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootClock {
    /// CLOCK_REALTIME minus CLOCK_BOOTTIME, in microseconds.
    pub realtime_minus_boot_us: i64,
}

impl BootClock {
    pub fn ts(&self, boot_ns: u64) -> Ts {
        Ts((boot_ns / 1_000) as i64 + self.realtime_minus_boot_us)
    }
}

/// The exit code as a shell shows it: the status for a normal exit, 128 + the signal number
/// for a death by signal.
pub fn exit_code_from_status(status: i32) -> i32 {
    let signal = status & 0x7f;
    if signal == 0 {
        (status >> 8) & 0xff
    } else {
        128 + signal
    }
}

pub fn to_process_event(raw: RawEvent, clock: BootClock, users: &mut UserNames) -> ProcessEvent {
    let kind = match raw.kind {
        RawKind::Fork => ProcEventKind::Fork,
        RawKind::Exec => ProcEventKind::Exec,
        RawKind::Exit => ProcEventKind::Exit,
    };
    let is_exec = raw.kind == RawKind::Exec;
    let argv = if is_exec {
        split_args(&raw.args)
    } else {
        Vec::new()
    };
    ProcessEvent {
        time: clock.ts(raw.time_ns),
        kind,
        pid: raw.pid,
        ppid: raw.ppid,
        start_ticks: raw.start_ns / NS_PER_TICK,
        uid: Some(raw.uid),
        user: users.name(raw.uid),
        comm: raw.comm,
        exe: (is_exec && !raw.filename.is_empty()).then(|| exe_path(raw.pid, raw.filename)),
        argv,
        argv_complete: is_exec && !raw.argv_truncated && !raw.argv_unreadable,
        exit_code: (raw.kind == RawKind::Exit).then(|| exit_code_from_status(raw.exit_status)),
        ..ProcessEvent::default()
    }
}

/// execve's path may be relative ("./run.sh"); the absolute one is worth a readlink while
/// the process still exists, and the given path is kept when it is already gone.
fn exe_path(pid: u32, filename: String) -> String {
    if filename.starts_with('/') {
        return filename;
    }
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| p.into_os_string().into_string().ok())
        .unwrap_or(filename)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::ebpf::wire::{parse, tests::record};

    const CLOCK: BootClock = BootClock {
        realtime_minus_boot_us: 1_700_000_000_000_000,
    };

    #[test]
    fn an_exec_becomes_a_process_exec_event_with_complete_argv() {
        let raw = parse(&record(
            2,
            0,
            4242,
            "true",
            "/bin/true",
            b"/bin/true\0a b\0",
        ))
        .unwrap();
        let e = to_process_event(raw, CLOCK, &mut UserNames::default());
        assert_eq!(e.kind, ProcEventKind::Exec);
        assert_eq!((e.pid, e.ppid, e.uid), (4242, 1, Some(1000)));
        assert_eq!(e.exe.as_deref(), Some("/bin/true"));
        assert_eq!(e.argv, ["/bin/true", "a b"]);
        assert!(e.argv_complete);
        assert_eq!(e.time, Ts(1_700_000_000_000_000 + 5_000_000));
        assert_eq!(e.start_ticks, 499);
        assert_eq!(e.exit_code, None);
    }

    #[test]
    fn a_truncated_or_unreadable_argv_is_not_complete() {
        for flags in [1, 2] {
            let raw = parse(&record(2, flags, 7, "sh", "/bin/sh", b"sh\0")).unwrap();
            let e = to_process_event(raw, CLOCK, &mut UserNames::default());
            assert!(!e.argv_complete, "flags {flags}");
        }
    }

    #[test]
    fn an_exit_carries_the_decoded_exit_code_and_no_argv() {
        let raw = parse(&record(3, 0, 7, "false", "", b"")).unwrap();
        let e = to_process_event(raw, CLOCK, &mut UserNames::default());
        assert_eq!(e.kind, ProcEventKind::Exit);
        assert_eq!(e.exit_code, Some(3));
        assert!(e.argv.is_empty() && e.exe.is_none());
    }

    #[test]
    fn exit_statuses_decode_like_a_shell() {
        assert_eq!(exit_code_from_status(0), 0);
        assert_eq!(exit_code_from_status(1 << 8), 1);
        assert_eq!(exit_code_from_status(9), 137);
        assert_eq!(exit_code_from_status(15 | 0x80), 143);
    }

    #[test]
    fn the_user_name_comes_from_the_uid() {
        let mut raw = parse(&record(2, 0, 7, "id", "/usr/bin/id", b"id\0")).unwrap();
        raw.uid = 0;
        let e = to_process_event(raw, CLOCK, &mut UserNames::new());
        assert_eq!(e.user.as_deref(), Some("root"));
    }
}
