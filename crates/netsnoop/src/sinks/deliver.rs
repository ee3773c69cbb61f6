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
                silenced: c.silenced,
                queued: c.queued,
                last_error: c.last_error,
            })
            .collect()
    })
}

/// How often silences and acks set by `netsnoop alerts ack|silence` are picked up.
const MUTES_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps delivery's silences and acks in step with the store, until delivery is gone.
pub fn refresh_mutes(
    store: std::sync::Arc<dyn netsnoop_store::Store>,
    mutes: std::sync::Arc<netsnoop_deliver::mutes::Mutes>,
) -> std::io::Result<()> {
    let weak = std::sync::Arc::downgrade(&mutes);
    drop(mutes);
    std::thread::Builder::new()
        .name("silences".into())
        .spawn(move || {
            let mut warned = false;
            while let Some(mutes) = weak.upgrade() {
                let now = netsnoop_core::Ts::now();
                match store.silences(Some(now), 10_000).and_then(|s| {
                    let acked = store.acks(10_000)?.into_iter().map(|a| a.alert_id);
                    Ok((s, acked.collect()))
                }) {
                    Ok((silences, acked)) => mutes.set(silences, acked),
                    Err(e) if !warned => {
                        warned = true;
                        tracing::warn!("cannot read silences and acks: {e}");
                    }
                    Err(_) => {}
                }
                drop(mutes);
                std::thread::sleep(MUTES_EVERY);
            }
        })
        .map(|_| ())
}
