//! Loads and attaches the compiled exec program, and says precisely why when it cannot.

use crate::caps::{CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN};
use aya::maps::{MapData, PerCpuArray, RingBuf};
use aya::programs::{BtfTracePoint, ProgramError};
use aya::{Btf, Ebpf, EbpfError, EbpfLoader};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use thiserror::Error;

/// The object build.rs compiled (empty when it could not), and why it is empty.
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/exec.bpf.o"));
const BUILD_NOTE: &str = env!("NETSNOOP_EBPF_BUILD");

/// (program in exec.bpf.c, BTF tracepoint it attaches to)
const PROGRAMS: [(&str, &str); 3] = [
    ("netsnoop_fork", "sched_process_fork"),
    ("netsnoop_exec", "sched_process_exec"),
    ("netsnoop_exit", "sched_process_exit"),
];

/// tp_btf arrived in 5.5, the ring buffer and bpf_ktime_get_boot_ns in 5.8.
const MIN_KERNEL: (u32, u32) = (5, 8);

/// Why the eBPF exec source cannot run here; shown at start and in /health.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum EbpfUnavailable {
    #[error("eBPF unavailable: {0}")]
    NotBuilt(String),
    #[error(
        "eBPF unavailable: no CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run as root or \
         `setcap cap_bpf,cap_perfmon+eip` the binary"
    )]
    NoCapBpf,
    #[error(
        "eBPF unavailable: the kernel has no BTF ({0} missing); it needs CONFIG_DEBUG_INFO_BTF=y"
    )]
    NoBtf(String),
    #[error("eBPF unavailable: kernel {found} is too old, exec capture needs 5.8 or later")]
    KernelTooOld { found: String },
    #[error("eBPF unavailable: the verifier rejected {program}: {log}")]
    VerifierRejected { program: String, log: String },
    #[error("eBPF unavailable: {0}")]
    LoadFailed(String),
}

/// The loaded, attached program and the maps user space reads.
pub struct Loaded {
    /// Owns the programs and their links: dropping it detaches everything.
    pub ebpf: Ebpf,
    pub events: RingBuf<MapData>,
    /// A duplicate of the ring buffer's descriptor, to wait on for new records.
    pub events_fd: OwnedFd,
    pub lost: PerCpuArray<MapData, u64>,
}

/// Why this binary has no eBPF exec program (built without clang), if it has none.
pub fn unavailable_at_build() -> Option<EbpfUnavailable> {
    OBJECT
        .is_empty()
        .then(|| EbpfUnavailable::NotBuilt(BUILD_NOTE.to_string()))
}

/// Checks what can be checked cheaply first, so the reason given is the real one, then
/// loads (where the verifier has its say) and attaches.
pub fn load(ring_buffer_bytes: u32) -> Result<Loaded, EbpfUnavailable> {
    if let Some(reason) = unavailable_at_build() {
        return Err(reason);
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    if kernel_older_than(release.trim(), MIN_KERNEL) {
        return Err(EbpfUnavailable::KernelTooOld {
            found: release.trim().to_string(),
        });
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !may_trace_with_bpf(&status) {
        return Err(EbpfUnavailable::NoCapBpf);
    }
    let btf_path = Path::new("/sys/kernel/btf/vmlinux");
    if !btf_path.exists() {
        return Err(EbpfUnavailable::NoBtf(btf_path.display().to_string()));
    }
    let btf = Btf::from_sys_fs().map_err(|e| EbpfUnavailable::NoBtf(e.to_string()))?;
    let mut ebpf = EbpfLoader::new()
        .btf(Some(&btf))
        .set_max_entries("EVENTS", ring_buffer_bytes)
        .load(OBJECT)
        .map_err(from_load_error)?;
    for (name, tracepoint) in PROGRAMS {
        let program: &mut BtfTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| EbpfUnavailable::LoadFailed(format!("object lacks program {name}")))?
            .try_into()
            .map_err(|e: ProgramError| EbpfUnavailable::LoadFailed(e.to_string()))?;
        program
            .load(tracepoint, &btf)
            .map_err(|e| from_program_error(name, e))?;
        program.attach().map_err(|e| from_program_error(name, e))?;
    }
    let events_fd = match ebpf.map("EVENTS") {
        Some(aya::maps::Map::RingBuf(data)) => data.fd().as_fd().try_clone_to_owned(),
        _ => {
            return Err(EbpfUnavailable::LoadFailed(
                "EVENTS is not a ring buffer".into(),
            ));
        }
    }
    .map_err(|e| EbpfUnavailable::LoadFailed(format!("dup of the ring buffer fd: {e}")))?;
    let events = take_map(&mut ebpf, "EVENTS", RingBuf::try_from)?;
    let lost = take_map(&mut ebpf, "LOST", PerCpuArray::try_from)?;
    Ok(Loaded {
        ebpf,
        events,
        events_fd,
        lost,
    })
}

fn take_map<T>(
    ebpf: &mut Ebpf,
    name: &str,
    convert: impl FnOnce(aya::maps::Map) -> Result<T, aya::maps::MapError>,
) -> Result<T, EbpfUnavailable> {
    let map = ebpf
        .take_map(name)
        .ok_or_else(|| EbpfUnavailable::LoadFailed(format!("object lacks map {name}")))?;
    convert(map).map_err(|e| EbpfUnavailable::LoadFailed(format!("map {name}: {e}")))
}

fn from_load_error(e: EbpfError) -> EbpfUnavailable {
    match e {
        EbpfError::MapError(m) if is_permission(&m.to_string()) => EbpfUnavailable::NoCapBpf,
        other => EbpfUnavailable::LoadFailed(other.to_string()),
    }
}

fn from_program_error(program: &str, e: ProgramError) -> EbpfUnavailable {
    match e {
        ProgramError::LoadError {
            io_error,
            verifier_log,
        } => {
            if io_error.kind() == std::io::ErrorKind::PermissionDenied
                && verifier_log.to_string().trim().is_empty()
            {
                return EbpfUnavailable::NoCapBpf;
            }
            EbpfUnavailable::VerifierRejected {
                program: program.to_string(),
                log: log_tail(&verifier_log.to_string(), 5),
            }
        }
        other if is_permission(&other.to_string()) => EbpfUnavailable::NoCapBpf,
        other => EbpfUnavailable::LoadFailed(format!("{program}: {other}")),
    }
}

fn is_permission(message: &str) -> bool {
    message.contains("Operation not permitted") || message.contains("Permission denied")
}

/// The verifier's verdict is at the end of its log; the whole log can be thousands of lines.
pub(crate) fn log_tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

/// Whether the effective capabilities (the CapEff line of /proc/self/status) allow loading
/// tracing programs: CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN on kernels before 5.8.
pub fn may_trace_with_bpf(proc_status: &str) -> bool {
    let Some(caps) = crate::caps::effective_in(proc_status) else {
        return false;
    };
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

/// Compares the leading "major.minor" of a kernel release such as "6.1.0-18-amd64".
pub fn kernel_older_than(release: &str, min: (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) < min,
        // An unreadable release is left to the loader to judge.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_capabilities_allow_bpf_tracing() {
        let status = "Name:\tnetsnoop\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert!(may_trace_with_bpf(status));
    }

    #[test]
    fn cap_bpf_without_cap_perfmon_is_not_enough() {
        let status = format!("CapEff:\t{:016x}\n", 1u64 << CAP_BPF);
        assert!(!may_trace_with_bpf(&status));
        let both = format!(
            "CapEff:\t{:016x}\n",
            (1u64 << CAP_BPF) | (1u64 << CAP_PERFMON)
        );
        assert!(may_trace_with_bpf(&both));
    }

    #[test]
    fn no_capabilities_or_no_capeff_line_means_no_bpf() {
        assert!(!may_trace_with_bpf("CapEff:\t0000000000000000\n"));
        assert!(!may_trace_with_bpf("Name:\tx\n"));
    }

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        assert!(kernel_older_than("5.4.0-150-generic", (5, 8)));
        assert!(kernel_older_than("4.19.0", (5, 8)));
        assert!(!kernel_older_than("5.8.0", (5, 8)));
        assert!(!kernel_older_than("6.18.44-fc-v657", (5, 8)));
        assert!(!kernel_older_than("weird", (5, 8)));
    }

    #[test]
    fn the_verifier_log_is_cut_to_its_verdict() {
        let log = "0: r1 = 0\n1: exit\n\nR0 !read_ok\nprocessed 2 insns\n";
        assert_eq!(log_tail(log, 2), "R0 !read_ok | processed 2 insns");
    }
}
