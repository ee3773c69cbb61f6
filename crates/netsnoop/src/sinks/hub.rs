//! The live-hub sink: hands every batch to the server's `LiveHub`.

use crate::sinks::{SessionEnd, Sink};
use netsnoop_core::Record;
use netsnoop_server::LiveHub;

/// Hands every batch to the live hub: /system, /processes, /health, /metrics and /stream.
pub struct HubSink(pub LiveHub);

impl Sink for HubSink {
    fn name(&self) -> String {
        "live api".into()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        self.0.publish(records);
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        Ok(())
    }
}
