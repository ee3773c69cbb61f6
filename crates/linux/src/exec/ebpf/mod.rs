//! eBPF exec capture: fork, exec (argv read in the kernel at exec time) and exit, delivered
//! as the same `Event::Process` the proc connector source emits.

mod convert;
mod loader;
mod source;
mod wire;

pub use crate::exec::message::Captured;
/// Shared with the socket attribution program (crate::sock).
pub(crate) use convert::BootClock;
pub use convert::exit_code_from_status;
pub use loader::{EbpfUnavailable, unavailable_at_build};
pub(crate) use loader::{kernel_older_than, log_tail, may_trace_with_bpf};
pub(crate) use source::boot_clock;
pub use source::{EbpfConfig, EbpfExecSource, LOSS_SOURCE, SourceHandle};
pub use wire::ARGV_BYTES_MAX;
/// The ring buffer record decoder, public for the fuzz targets (fuzz/).
pub use wire::{WireError, parse as decode_record, split_args};
