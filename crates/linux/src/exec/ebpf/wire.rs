//! The byte layout of one ring-buffer record written by bpf/exec.bpf.c, and its parser.
//!
//! Records are parsed field by field from little-endian bytes (no casts of raw memory), so a
//! short or inconsistent record is an error to count, never undefined behaviour.

use thiserror::Error;

/// Offsets into a record; they mirror `struct event` in exec.bpf.c, whose header length the
/// C side pins with a static assertion.
const KIND: usize = 0;
const FLAGS: usize = 1;
const ARGS_LEN: usize = 2;
const PID: usize = 4;
const TID: usize = 8;
const PPID: usize = 12;
const UID: usize = 16;
const EXIT_CODE: usize = 20;
const TIME_NS: usize = 24;
const START_NS: usize = 32;
const COMM: usize = 40;
const COMM_LEN: usize = 16;
const FILENAME: usize = 56;
const FILENAME_LEN: usize = 256;
pub const HEADER_LEN: usize = 312;
/// At most this many bytes of the argv area are copied per exec (ARGS_MAX - 1 in the C).
pub const ARGV_BYTES_MAX: usize = 8191;

const FLAG_ARGV_TRUNCATED: u8 = 1;
const FLAG_ARGV_UNREADABLE: u8 = 2;
const FLAG_FILENAME_TRUNCATED: u8 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    Fork,
    Exec,
    Exit,
}

/// One record as the kernel side wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEvent {
    pub kind: RawKind,
    /// Thread-group id: what user space calls the pid.
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    /// The kernel's wait-status encoding (exit events only).
    pub exit_status: i32,
    /// CLOCK_BOOTTIME of the event, in nanoseconds.
    pub time_ns: u64,
    /// CLOCK_BOOTTIME when the process started, in nanoseconds.
    pub start_ns: u64,
    pub comm: String,
    /// The path given to execve (exec events only).
    pub filename: String,
    pub filename_truncated: bool,
    /// The argv area: NUL-terminated strings back to back.
    pub args: Vec<u8>,
    /// More argv than ARGV_BYTES_MAX; `args` holds the first part.
    pub argv_truncated: bool,
    /// The argv area could not be read at all.
    pub argv_unreadable: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("record of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    Short(usize),
    #[error("record has unknown kind {0}")]
    UnknownKind(u8),
    #[error("record claims {claimed} argv bytes but carries {carried}")]
    ArgsLength { claimed: usize, carried: usize },
}

pub fn parse(record: &[u8]) -> Result<RawEvent, WireError> {
    if record.len() < HEADER_LEN {
        return Err(WireError::Short(record.len()));
    }
    let kind = match record[KIND] {
        1 => RawKind::Fork,
        2 => RawKind::Exec,
        3 => RawKind::Exit,
        other => return Err(WireError::UnknownKind(other)),
    };
    let flags = record[FLAGS];
    let args_len = usize::from(u16_at(record, ARGS_LEN));
    let carried = record.len() - HEADER_LEN;
    if args_len > carried || args_len > ARGV_BYTES_MAX {
        return Err(WireError::ArgsLength {
            claimed: args_len,
            carried,
        });
    }
    Ok(RawEvent {
        kind,
        pid: u32_at(record, PID),
        tid: u32_at(record, TID),
        ppid: u32_at(record, PPID),
        uid: u32_at(record, UID),
        exit_status: u32_at(record, EXIT_CODE) as i32,
        time_ns: u64_at(record, TIME_NS),
        start_ns: u64_at(record, START_NS),
        comm: c_string(&record[COMM..COMM + COMM_LEN]),
        filename: c_string(&record[FILENAME..FILENAME + FILENAME_LEN]),
        filename_truncated: flags & FLAG_FILENAME_TRUNCATED != 0,
        args: record[HEADER_LEN..HEADER_LEN + args_len].to_vec(),
        argv_truncated: flags & FLAG_ARGV_TRUNCATED != 0,
        argv_unreadable: flags & FLAG_ARGV_UNREADABLE != 0,
    })
}

/// Splits the argv area into arguments. An argument cut by truncation is kept as far as it
/// was copied; the event says the argv is incomplete.
pub fn split_args(args: &[u8]) -> Vec<String> {
    if args.is_empty() {
        return Vec::new();
    }
    let body = args.strip_suffix(&[0]).unwrap_or(args);
    body.split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a record the way exec.bpf.c lays it out.
    pub(crate) fn record(
        kind: u8,
        flags: u8,
        pid: u32,
        comm: &str,
        file: &str,
        args: &[u8],
    ) -> Vec<u8> {
        let mut r = vec![0u8; HEADER_LEN];
        r[KIND] = kind;
        r[FLAGS] = flags;
        r[ARGS_LEN..ARGS_LEN + 2].copy_from_slice(&(args.len() as u16).to_le_bytes());
        r[PID..PID + 4].copy_from_slice(&pid.to_le_bytes());
        r[TID..TID + 4].copy_from_slice(&pid.to_le_bytes());
        r[PPID..PPID + 4].copy_from_slice(&1u32.to_le_bytes());
        r[UID..UID + 4].copy_from_slice(&1000u32.to_le_bytes());
        r[EXIT_CODE..EXIT_CODE + 4].copy_from_slice(&(3i32 << 8).to_le_bytes());
        r[TIME_NS..TIME_NS + 8].copy_from_slice(&5_000_000_000u64.to_le_bytes());
        r[START_NS..START_NS + 8].copy_from_slice(&4_990_000_000u64.to_le_bytes());
        r[COMM..COMM + comm.len()].copy_from_slice(comm.as_bytes());
        r[FILENAME..FILENAME + file.len()].copy_from_slice(file.as_bytes());
        r.extend_from_slice(args);
        r
    }

    #[test]
    fn an_exec_record_yields_its_fields_and_argv() {
        let r = record(2, 0, 4242, "true", "/bin/true", b"/bin/true\0--id=7\0\0x\0");
        let e = parse(&r).unwrap();
        assert_eq!(e.kind, RawKind::Exec);
        assert_eq!((e.pid, e.ppid, e.uid), (4242, 1, 1000));
        assert_eq!(
            (e.comm.as_str(), e.filename.as_str()),
            ("true", "/bin/true")
        );
        assert_eq!(e.time_ns, 5_000_000_000);
        assert_eq!(split_args(&e.args), ["/bin/true", "--id=7", "", "x"]);
        assert!(!e.argv_truncated && !e.argv_unreadable && !e.filename_truncated);
    }

    #[test]
    fn truncation_flags_are_reported_and_the_cut_argument_is_kept() {
        let r = record(2, 1 | 4, 1, "sh", "/bin/sh", b"sh\0-c\0ech");
        let e = parse(&r).unwrap();
        assert!(e.argv_truncated && e.filename_truncated && !e.argv_unreadable);
        assert_eq!(split_args(&e.args), ["sh", "-c", "ech"]);
    }

    #[test]
    fn an_empty_argv_area_is_no_arguments() {
        assert!(split_args(b"").is_empty());
        assert_eq!(split_args(b"\0"), [""]);
    }

    #[test]
    fn invalid_utf8_in_argv_is_replaced_not_dropped() {
        assert_eq!(split_args(b"a\xffb\0"), ["a\u{fffd}b"]);
    }

    #[test]
    fn short_unknown_and_inconsistent_records_are_errors() {
        assert_eq!(parse(&[2u8; 10]), Err(WireError::Short(10)));
        let mut r = record(9, 0, 1, "x", "", b"");
        assert_eq!(parse(&r), Err(WireError::UnknownKind(9)));
        r = record(2, 0, 1, "x", "", b"abc\0");
        r.truncate(HEADER_LEN + 2);
        assert_eq!(
            parse(&r),
            Err(WireError::ArgsLength {
                claimed: 4,
                carried: 2
            })
        );
    }

    #[test]
    fn a_full_comm_without_terminator_is_read_to_its_end() {
        let r = record(1, 0, 1, "sixteen-chars-ab", "", b"");
        assert_eq!(parse(&r).unwrap().comm, "sixteen-chars-ab");
    }
}
