//! Network monitoring in `run` and `watch`: live capture sources, one per interface.

use crate::sources::{Outlet, Source, StopFlag};
use netsnoop_core::net::NetworkConfig;
use netsnoop_linux::capture::{CaptureError, InterfaceCapture};
use std::net::SocketAddr;

/// One interface's live capture as a pipeline source.
pub struct CaptureSource(InterfaceCapture);

impl Source for CaptureSource {
    fn name(&self) -> String {
        format!("capture:{}", self.0.name())
    }

    fn run(self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()> {
        self.0.run(out, &|| stop.is_stopped())?;
        Ok(())
    }
}

/// Live capture, opened and ready to start: one source per interface.
pub struct Capture {
    pub sources: Vec<Box<dyn Source>>,
    /// The BPF filter installed on every interface.
    pub filter: Option<String>,
}

/// Opens capture on every configured interface. `own_listen` (the API address in `run`)
/// is kept out of the figures when `network.capture.exclude_own_traffic` is set.
pub fn capture_sources(
    cfg: &NetworkConfig,
    own_listen: Option<SocketAddr>,
) -> Result<Capture, CaptureError> {
    let (caps, filter) = InterfaceCapture::open_all(&cfg.capture, own_listen)?;
    let sources = caps
        .into_iter()
        .map(|c| Box::new(CaptureSource(c)) as Box<dyn Source>)
        .collect();
    Ok(Capture { sources, filter })
}
