//! The packet rate limit in front of sinks that store or print packets one by one.

use crate::sinks::{SessionEnd, Sink};
use netsnoop_core::net::config::SamplerConfig;
use netsnoop_core::net::packet_limit::PacketSampler;
use netsnoop_core::{Event, Record};
use netsnoop_store::Ack;

/// Passes at most `max_per_second` packets a second (an even sample above it) to the
/// wrapped sink; every other record goes through untouched. Rollups count all packets, so
/// statistics stay exact while the recent-packets table and JSON lines stay bounded.
pub struct SampledPackets<S: Sink> {
    inner: S,
    sampler: PacketSampler,
}

impl<S: Sink> SampledPackets<S> {
    pub fn new(inner: S, cfg: SamplerConfig) -> SampledPackets<S> {
        SampledPackets {
            inner,
            sampler: PacketSampler::new(cfg),
        }
    }

    /// Hands `to_inner` the records with the packets over the rate left out.
    fn sampled(
        &mut self,
        records: &[Record],
        to_inner: impl FnOnce(&mut S, &[Record]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let keep: Vec<bool> = records
            .iter()
            .map(|r| match r {
                Record::Event(Event::Packet(p)) => self.sampler.admit(p.time),
                _ => true,
            })
            .collect();
        if keep.iter().all(|k| *k) {
            return to_inner(&mut self.inner, records);
        }
        let kept: Vec<Record> = records
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(r, _)| r.clone())
            .collect();
        to_inner(&mut self.inner, &kept)
    }
}

impl<S: Sink> Sink for SampledPackets<S> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        self.sampled(records, |inner, records| inner.accept(records))
    }

    fn accept_durable(&mut self, records: &[Record], acks: &mut Vec<Ack>) -> anyhow::Result<()> {
        self.sampled(records, |inner, records| {
            inner.accept_durable(records, acks)
        })
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.inner.flush()
    }

    fn close(&mut self, end: &SessionEnd) -> anyhow::Result<()> {
        self.inner.close(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{PacketMeta, Ts};

    #[derive(Default)]
    struct Count(usize, usize);

    impl Sink for &mut Count {
        fn name(&self) -> String {
            "count".into()
        }
        fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
            for r in records {
                match r {
                    Record::Event(Event::Packet(_)) => self.0 += 1,
                    _ => self.1 += 1,
                }
            }
            Ok(())
        }
        fn flush(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
        fn close(&mut self, _: &SessionEnd) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn packets_above_the_rate_are_sampled_and_other_records_all_pass() {
        let mut count = Count::default();
        {
            let mut s = SampledPackets::new(&mut count, SamplerConfig { max_per_second: 10 });
            let mut batch: Vec<Record> = (0..100)
                .map(|i| {
                    Record::Event(Event::Packet(PacketMeta {
                        time: Ts::from_millis(5_000 + i),
                        ..PacketMeta::default()
                    }))
                })
                .collect();
            batch.push(Record::Event(Event::Traffic(Default::default())));
            s.accept(&batch).unwrap();
        }
        assert_eq!((count.0, count.1), (10, 1));
    }
}
