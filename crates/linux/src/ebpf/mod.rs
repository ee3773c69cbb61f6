//! eBPF exec capture: fork, exec (argv read in the kernel at exec time) and exit, delivered
//! as the same `Event::Process` the proc connector source emits; plus the choice of exec
//! source at start.

mod convert;
mod loader;
mod select;
mod source;
mod start;
mod wire;

pub use convert::exit_code_from_status;
pub use loader::{EbpfUnavailable, unavailable_at_build};
pub use select::{
    ExecSourceChoice, ExecSourceKind, PassedOver, SelectError, Selected, select_exec_source,
};
pub use source::{Captured, EbpfConfig, EbpfExecSource, LOSS_SOURCE, SourceHandle};
pub use start::{RunningExecSource, start_exec_source};
pub use wire::ARGV_BYTES_MAX;
/// The ring buffer record decoder, public for the fuzz targets (fuzz/).
pub use wire::{WireError, parse as decode_record, split_args};
