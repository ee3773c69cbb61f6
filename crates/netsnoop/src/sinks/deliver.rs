//! The delivery sink: hands every alert to the configured outputs (netsnoop-deliver),
//! never blocking; at close, gives unsent alerts a few seconds to go.

use crate::sinks::{SessionEnd, Sink};
use netsnoop_core::Record;
use netsnoop_deliver::Delivery;

pub struct DeliverySink(pub Delivery);

impl Sink for DeliverySink {
    fn name(&self) -> String {
        "alert outputs".into()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        for r in records {
            if let Record::Alert(a) = r {
                self.0.offer(a);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        self.0.close();
        Ok(())
    }
}

/// The figures `/health` and `/metrics` show, in the server's shape.
pub fn probe(view: netsnoop_deliver::CountsView) -> netsnoop_server::outputs::OutputsProbe {
    std::sync::Arc::new(move || {
        view.counts()
            .into_iter()
            .map(|c| netsnoop_server::outputs::OutputStatus {
                name: c.name,
                kind: c.kind,
                delivered: c.delivered,
                failed: c.failed,
                errors: c.errors,
                dropped: c.dropped,
                queued: c.queued,
                last_error: c.last_error,
            })
            .collect()
    })
}
