//! Loads and attaches the socket attribution program, and says precisely why it cannot.

use crate::exec::ebpf::{EbpfUnavailable, kernel_older_than, log_tail, may_trace_with_bpf};
use aya::maps::{MapData, PerCpuArray, RingBuf};
use aya::programs::{BtfTracePoint, ProgramError};
use aya::{Btf, Ebpf, EbpfLoader};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sock.bpf.o"));
const BUILD_NOTE: &str = env!("NETSNOOP_SOCK_BPF_BUILD");

/// (program in sock.bpf.c, BTF tracepoint, required). `sock_send_length` and
/// `sock_recv_length` came in Linux 6.3; without them connects, listens and closes are
/// still seen, but accepted sockets and UDP are not (the /proc dump covers what exists).
const PROGRAMS: [(&str, &str, bool); 3] = [
    ("netsnoop_sock_state", "inet_sock_set_state", true),
    ("netsnoop_send", "sock_send_length", false),
    ("netsnoop_recv", "sock_recv_length", false),
];

/// tp_btf arrived in 5.5, the ring buffer and bpf_ktime_get_boot_ns in 5.8.
const MIN_KERNEL: (u32, u32) = (5, 8);

pub struct Loaded {
    /// Owns the programs and links: dropping it detaches everything.
    pub ebpf: Ebpf,
    /// Optional tracepoints this kernel lacks, and so what is not seen.
    pub missing: Vec<String>,
    pub events: RingBuf<MapData>,
    pub events_fd: OwnedFd,
    pub lost: PerCpuArray<MapData, u64>,
}

pub fn unavailable_at_build() -> Option<EbpfUnavailable> {
    OBJECT
        .is_empty()
        .then(|| EbpfUnavailable::NotBuilt(BUILD_NOTE.to_string()))
}

pub fn load(ring_buffer_bytes: u32) -> Result<Loaded, EbpfUnavailable> {
    if let Some(reason) = unavailable_at_build() {
        return Err(reason);
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    if kernel_older_than(release.trim(), MIN_KERNEL) {
        return Err(EbpfUnavailable::LoadFailed(format!(
            "kernel {} is too old, socket attribution needs 5.8 or later",
            release.trim()
        )));
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
        .set_max_entries("SOCK_EVENTS", ring_buffer_bytes)
        .load(OBJECT)
        .map_err(|e| EbpfUnavailable::LoadFailed(e.to_string()))?;
    let mut missing = Vec::new();
    for (name, tracepoint, required) in PROGRAMS {
        let program: &mut BtfTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| EbpfUnavailable::LoadFailed(format!("object lacks program {name}")))?
            .try_into()
            .map_err(|e: ProgramError| EbpfUnavailable::LoadFailed(format!("{name}: {e}")))?;
        let attached = program
            .load(tracepoint, &btf)
            .map_err(|e| rejected(name, e))
            .and_then(|()| program.attach().map(drop).map_err(|e| rejected(name, e)));
        match attached {
            Ok(()) => {}
            Err(e) if required => return Err(e),
            Err(e) => {
                tracing::info!("socket attribution: optional tracepoint {tracepoint}: {e}");
                missing.push(tracepoint.to_string());
            }
        }
    }
    let events_fd = match ebpf.map("SOCK_EVENTS") {
        Some(aya::maps::Map::RingBuf(data)) => data.fd().as_fd().try_clone_to_owned(),
        _ => {
            return Err(EbpfUnavailable::LoadFailed(
                "SOCK_EVENTS is not a ring buffer".into(),
            ));
        }
    }
    .map_err(|e| EbpfUnavailable::LoadFailed(format!("dup of the ring buffer fd: {e}")))?;
    let events = take(&mut ebpf, "SOCK_EVENTS", RingBuf::try_from)?;
    let lost = take(&mut ebpf, "SOCK_LOST", PerCpuArray::try_from)?;
    Ok(Loaded {
        ebpf,
        missing,
        events,
        events_fd,
        lost,
    })
}

fn take<T>(
    ebpf: &mut Ebpf,
    name: &str,
    convert: impl FnOnce(aya::maps::Map) -> Result<T, aya::maps::MapError>,
) -> Result<T, EbpfUnavailable> {
    let map = ebpf
        .take_map(name)
        .ok_or_else(|| EbpfUnavailable::LoadFailed(format!("object lacks map {name}")))?;
    convert(map).map_err(|e| EbpfUnavailable::LoadFailed(format!("map {name}: {e}")))
}

fn rejected(program: &str, e: ProgramError) -> EbpfUnavailable {
    match e {
        ProgramError::LoadError {
            io_error,
            verifier_log,
        } => {
            if io_error.kind() == std::io::ErrorKind::PermissionDenied
                && verifier_log.to_string().trim().is_empty()
            {
                return EbpfUnavailable::LoadFailed(format!(
                    "{program}: the kernel refused to load it ({io_error}); \
                     with CAP_BPF present this is kernel lockdown or a BPF LSM policy"
                ));
            }
            EbpfUnavailable::VerifierRejected {
                program: program.to_string(),
                log: log_tail(&verifier_log.to_string(), 5),
            }
        }
        other => EbpfUnavailable::LoadFailed(format!("{program}: {other}")),
    }
}
