//! Sources: each runs on its own thread and sends owned batches through an `Outlet`
//! (netsnoop-linux), which counts and reports anything the full channel could not take.

pub mod capture;
pub mod exec;
pub mod owner;
pub mod resources;

use crossbeam_channel::Sender;
use netsnoop_core::Event;
pub use netsnoop_linux::outlet::Outlet;
pub use netsnoop_pipeline::StopFlag;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A producer of events. `run` blocks until the source is exhausted (a pcap file), the
/// stop flag is set, or the outlet reports the pipeline closed; it should check the flag
/// at least every 200 ms so shutdown stays under 2 s.
pub trait Source: Send + 'static {
    fn name(&self) -> String;
    fn run(self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()>;
}

/// Stops a source that runs its own threads; called once, from the source's thread.
pub type StopFn = Box<dyn FnOnce() + Send>;

type StartFn = Box<dyn FnOnce(Sender<Vec<Event>>) -> anyhow::Result<StopFn> + Send>;

/// Adapts a netsnoop-linux source that starts its own threads and sends to a plain
/// channel (`ExecSource::start`, `sampler::spawn`, `EbpfExecSource::spawn`): its batches
/// are forwarded through the outlet, so channel-full drops are counted like any other.
///
/// ```text
/// Threaded::new("exec", move |tx| {
///     let src = ExecSource::start(&cfg.source, &cfg.table, tx)?;
///     Ok(Box::new(move || src.stop()) as StopFn)
/// })
/// ```
pub struct Threaded {
    name: String,
    start: StartFn,
}

/// Batches a threaded source may have in flight to its forwarder.
const FORWARD_BATCHES: usize = 64;

impl Threaded {
    pub fn new(
        name: impl Into<String>,
        start: impl FnOnce(Sender<Vec<Event>>) -> anyhow::Result<StopFn> + Send + 'static,
    ) -> Threaded {
        Threaded {
            name: name.into(),
            start: Box::new(start),
        }
    }
}

impl Source for Threaded {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()> {
        let (tx, rx) = crossbeam_channel::bounded(FORWARD_BATCHES);
        let halt = (self.start)(tx)?;
        let result = forward(&rx, out, stop);
        halt();
        // What the source sent while stopping still counts.
        for batch in rx.try_iter() {
            if out.send(batch, netsnoop_core::Ts::now()).is_err() {
                break;
            }
        }
        result
    }
}

/// Moves batches from `rx` to the outlet until the stop flag is set, the source hangs up,
/// or the pipeline does. Wakes every 100 ms to look at the flag.
pub fn forward(
    rx: &crossbeam_channel::Receiver<Vec<Event>>,
    out: &mut Outlet,
    stop: &StopFlag,
) -> anyhow::Result<()> {
    use crossbeam_channel::RecvTimeoutError;
    while !stop.is_stopped() {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(batch) => {
                if out.send(batch, netsnoop_core::Ts::now()).is_err() {
                    return Ok(());
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
    Ok(())
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
                outlet.close(netsnoop_core::Ts::now(), Duration::from_millis(200));
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
    fn a_threaded_source_is_forwarded_and_stopped_with_the_session() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let halted = Arc::new(AtomicBool::new(false));
        let h = halted.clone();
        let src = Threaded::new("ticker", move |tx| {
            let running = Arc::new(AtomicBool::new(true));
            let r = running.clone();
            let t = std::thread::spawn(move || {
                let mut i = 0;
                while r.load(Ordering::SeqCst) {
                    let p = Event::Packet(PacketMeta {
                        time: Ts(i),
                        ..PacketMeta::default()
                    });
                    if tx.send(vec![p]).is_err() {
                        break;
                    }
                    i += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            Ok(Box::new(move || {
                running.store(false, Ordering::SeqCst);
                let _ = t.join();
                h.store(true, Ordering::SeqCst);
            }) as StopFn)
        });
        let (tx, rx) = crossbeam_channel::bounded(1024);
        let stop = StopFlag::new();
        let running = spawn(vec![Box::new(src)], &tx, &stop).unwrap();
        drop(tx);
        // Wait for real traffic, then stop the session.
        let first = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("forwarded batches");
        assert!(matches!(first[0], Event::Packet(_)));
        stop.stop();
        let (errors, stuck) = running.join(Duration::from_secs(2));
        assert!(
            errors.is_empty() && stuck.is_empty(),
            "{errors:?} {stuck:?}"
        );
        assert!(
            halted.load(Ordering::SeqCst),
            "the source's own threads were stopped"
        );
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
