//! Sources: each runs on its own thread and sends owned batches through an `Outlet`
//! (netsnoop-linux), which counts and reports anything the full channel could not take.

use crossbeam_channel::Sender;
use netsnoop_core::Event;
pub use netsnoop_linux::outlet::Outlet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Set once when the session stops; sources poll it between reads.
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn new() -> StopFlag {
        StopFlag::default()
    }
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A producer of events. `run` blocks until the source is exhausted (a pcap file), the
/// stop flag is set, or the outlet reports the pipeline closed; it should check the flag
/// at least every 200 ms so shutdown stays under 2 s.
pub trait Source: Send + 'static {
    fn name(&self) -> String;
    fn run(self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()>;
}

pub struct Running {
    threads: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
}

/// Starts every source on its own named thread, each with its own outlet.
pub fn spawn(
    sources: Vec<Box<dyn Source>>,
    tx: &Sender<Vec<Event>>,
    stop: &StopFlag,
) -> std::io::Result<Running> {
    let mut threads = Vec::new();
    for src in sources {
        let name = src.name();
        let mut outlet = Outlet::new(name.clone(), tx.clone());
        let stop = stop.clone();
        let handle = std::thread::Builder::new()
            .name(format!("source:{name}"))
            .spawn(move || {
                let result = src.run(&mut outlet, &stop);
                outlet.close(crate::time::now(), Duration::from_millis(200));
                result
            })?;
        threads.push((name, handle));
    }
    Ok(Running { threads })
}

impl Running {
    /// Waits up to `within` for the sources to finish; returns the errors of those that
    /// failed and the names of those still running (left behind: the process is exiting).
    pub fn join(self, within: Duration) -> (Vec<String>, Vec<String>) {
        let deadline = Instant::now() + within;
        let mut errors = Vec::new();
        let mut stuck = Vec::new();
        for (name, handle) in self.threads {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if !handle.is_finished() {
                stuck.push(name);
                continue;
            }
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(format!("source {name}: {e:#}")),
                Err(_) => errors.push(format!("source {name}: panicked")),
            }
        }
        (errors, stuck)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{PacketMeta, Ts};

    /// Sends `n` one-packet batches as fast as it can, says so, then stops.
    struct Burst(usize, crossbeam_channel::Sender<()>);

    impl Source for Burst {
        fn name(&self) -> String {
            "burst".into()
        }
        fn run(self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()> {
            for i in 0..self.0 {
                if stop.is_stopped() {
                    break;
                }
                let p = Event::Packet(PacketMeta {
                    time: Ts::from_secs(i as i64),
                    ..PacketMeta::default()
                });
                out.send(vec![p], Ts::from_secs(i as i64))?;
            }
            let _ = self.1.send(());
            Ok(())
        }
    }

    #[test]
    fn a_source_that_outruns_the_pipeline_reports_every_dropped_event() {
        let (tx, rx) = crossbeam_channel::bounded(2);
        let stop = StopFlag::new();
        let (sent_tx, sent_rx) = crossbeam_channel::bounded(1);
        let running = spawn(vec![Box::new(Burst(50, sent_tx))], &tx, &stop).unwrap();
        drop(tx);
        // Nobody reads until the source has sent everything: the channel fills after two
        // batches and the rest must come back as a loss report when the source closes.
        sent_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let mut packets = 0;
        let mut lost = 0;
        // `close` waits for room for the final loss report, so keep reading until it hangs up.
        for batch in rx.iter() {
            for e in batch {
                match e {
                    Event::Packet(_) => packets += 1,
                    Event::Loss(l) => lost += l.count,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(
            packets + lost,
            50,
            "{packets} delivered + {lost} reported lost"
        );
        assert_eq!(lost, 48);
        let (errors, stuck) = running.join(Duration::from_secs(10));
        assert!(
            errors.is_empty() && stuck.is_empty(),
            "{errors:?} {stuck:?}"
        );
    }
}
