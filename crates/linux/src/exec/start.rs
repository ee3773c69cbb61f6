//! Starts the exec source the user chose (or the best that works): the one call the binary
//! makes, returning the running source with the reasons better ones were passed over.

use super::connector::{ConnectorUnavailable, ExecSource};
use super::ebpf::{EbpfConfig, EbpfExecSource, EbpfUnavailable, SourceHandle};
use super::select::{ExecSourceChoice, ExecSourceKind, SelectError, Selected, select_exec_source};
use super::stats::{ExecCounters, ExecStats};
use crossbeam_channel::Sender;
use netsnoop_core::Event;
use netsnoop_core::process::config::{SourceConfig, TableConfig};
use std::sync::Arc;

/// Whichever exec source runs; dropping it stops it.
pub enum RunningExecSource {
    Ebpf(SourceHandle),
    /// The proc connector, or the /proc poller.
    Proc(ExecSource),
}

impl RunningExecSource {
    pub fn counters(&self) -> ExecCounters {
        match self {
            Self::Ebpf(h) => h.counters(),
            Self::Proc(s) => s.counters(),
        }
    }

    /// The live counters, for a metrics endpoint.
    pub fn stats(&self) -> Arc<ExecStats> {
        match self {
            Self::Ebpf(h) => h.stats(),
            Self::Proc(s) => s.stats(),
        }
    }
}

/// Starts the exec source `[process.source]` asks for (`exec_source`), or in `auto` the
/// first of eBPF, proc connector and /proc polling that starts; `force_polling = true`
/// means `poll`. Events go to `out` as each source documents.
pub fn start_exec_source(
    source: &SourceConfig,
    table: &TableConfig,
    out: &Sender<Vec<Event>>,
) -> Result<Selected<RunningExecSource>, SelectError> {
    let choice = match source.exec_source {
        ExecSourceChoice::Auto if source.force_polling => ExecSourceChoice::Poll,
        other => other,
    };
    let ebpf = EbpfConfig {
        ring_buffer_bytes: source.ebpf_ring_buffer_bytes,
        queue_capacity: source.queue_capacity,
    };
    // Why the connector did not start, for the poller to report as its reason.
    let mut no_connector = ConnectorUnavailable::Forced;
    select_exec_source(choice, |kind| match kind {
        ExecSourceKind::Ebpf => {
            let loaded = EbpfExecSource::load(&ebpf).map_err(|e| reason(&e))?;
            loaded
                .spawn(table, out.clone())
                .map(RunningExecSource::Ebpf)
                .map_err(|e| format!("could not start its threads: {e}"))
        }
        ExecSourceKind::Netlink => ExecSource::connector(source, table, out.clone())
            .map(RunningExecSource::Proc)
            .map_err(|e| {
                let text = e.to_string();
                no_connector = e;
                text
            }),
        ExecSourceKind::Poll => {
            let why = std::mem::replace(&mut no_connector, ConnectorUnavailable::Forced);
            ExecSource::polling(source, table, out.clone(), why)
                .map(RunningExecSource::Proc)
                .map_err(|e| format!("could not start: {e}"))
        }
    })
}

/// The reason without the "eBPF unavailable:" prefix, which the display adds by source.
fn reason(e: &EbpfUnavailable) -> String {
    let text = e.to_string();
    text.strip_prefix("eBPF unavailable: ")
        .map(str::to_string)
        .unwrap_or(text)
}
