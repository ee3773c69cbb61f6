//! netsnoop-pipeline: the pipeline thread, the single owner of every stage and sink. It
//! receives owned batches from the sources, runs the stages, hands records to the sinks,
//! ticks about once a second, and on stop drains, finishes and closes. The binary and the
//! server's tests both drive this one loop.

#![forbid(unsafe_code)]

pub mod sink;

use crossbeam_channel::{Receiver, RecvTimeoutError, never, select};
use netsnoop_core::{Event, Record, Stage, Ts};
pub use sink::{SessionEnd, Sink};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// What `now` means for ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Live sources: tick on the wall clock, even when nothing arrives.
    Wall,
    /// Replay (pcap files): tick as event time crosses each second, so a replay gives the
    /// same alerts as the live run no matter how fast it is read.
    EventTime,
}

pub struct Pipeline {
    pub stages: Vec<Box<dyn Stage>>,
    pub sinks: Vec<Box<dyn Sink>>,
    pub clock: Clock,
    /// How long to keep draining after a stop before giving up on slow sources.
    pub drain_for: Duration,
    sink_errors: Vec<u64>,
    last_tick: Option<Ts>,
    /// Time of the newest event delivered: `finish` runs at it in a replay.
    last_event: Option<Ts>,
    end: SessionEnd,
}

const TICK: Duration = Duration::from_secs(1);

impl Pipeline {
    pub fn new(stages: Vec<Box<dyn Stage>>, sinks: Vec<Box<dyn Sink>>, clock: Clock) -> Pipeline {
        let n = sinks.len();
        Pipeline {
            stages,
            sinks,
            clock,
            drain_for: Duration::from_millis(800),
            sink_errors: vec![0; n],
            last_tick: None,
            last_event: None,
            end: SessionEnd::default(),
        }
    }

    /// Runs until `stop` delivers a reason (a signal name) or, with event-time clocks,
    /// until every source has hung up. Sets `sources_stop` before draining.
    pub fn run(
        mut self,
        input: Receiver<Vec<Event>>,
        stop: Receiver<String>,
        sources_stop: &StopFlag,
    ) -> SessionEnd {
        let mut input_open = true;
        let mut next_flush = Instant::now() + TICK;
        let reason = loop {
            let wait = next_flush.saturating_duration_since(Instant::now());
            let rx = if input_open { input.clone() } else { never() };
            select! {
                recv(rx) -> msg => match msg {
                    Ok(batch) => self.ingest(batch),
                    Err(_) if self.clock == Clock::EventTime => break "end of input".to_string(),
                    // Live mode with no (more) sources: keep running until told to stop.
                    Err(_) => input_open = false,
                },
                recv(stop) -> why => break why.unwrap_or_else(|_| "stopped".into()),
                default(wait) => {}
            }
            if Instant::now() >= next_flush {
                if self.clock == Clock::Wall {
                    self.tick(netsnoop_core::Ts::now());
                }
                self.flush();
                next_flush = Instant::now() + TICK;
            }
        };
        sources_stop.stop();
        self.drain(&input);
        self.finish(reason)
    }

    fn drain(&mut self, input: &Receiver<Vec<Event>>) {
        let deadline = Instant::now() + self.drain_for;
        loop {
            match input.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(batch) => self.ingest(batch),
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    // Whatever is still queued is taken; later arrivals are not waited for.
                    let rest: Vec<_> = input.try_iter().collect();
                    for batch in rest {
                        self.ingest(batch);
                    }
                    return;
                }
            }
        }
    }

    /// Runs one source batch through the stages and hands the records to the sinks.
    pub fn ingest(&mut self, batch: Vec<Event>) {
        let mut records = Vec::with_capacity(batch.len());
        for event in batch {
            let now = event.time();
            if self.clock == Clock::EventTime {
                self.tick_if_due(now, &mut records);
            }
            self.end.events += 1;
            if let Event::Loss(l) = &event {
                self.end.lost += l.count;
            }
            let mut derived = Vec::new();
            for stage in &mut self.stages {
                derived.extend(stage.ingest(&event, now));
            }
            records.push(Record::Event(event));
            records.extend(derived);
        }
        self.deliver(&records);
    }

    fn tick_if_due(&mut self, now: Ts, records: &mut Vec<Record>) {
        match self.last_tick {
            None => self.last_tick = Some(now),
            Some(last) if now.secs() > last.secs() => {
                records.extend(self.stage_ticks(now));
                self.last_tick = Some(now);
            }
            Some(_) => {}
        }
    }

    fn stage_ticks(&mut self, now: Ts) -> Vec<Record> {
        self.stages.iter_mut().flat_map(|s| s.tick(now)).collect()
    }

    /// Ticks every stage at `now` and hands what they emit to the sinks (`run` does this
    /// once a second on the wall clock; a test harness may do it at a scripted time).
    pub fn tick(&mut self, now: Ts) {
        let records = self.stage_ticks(now);
        self.last_tick = Some(now);
        self.deliver(&records);
    }

    fn deliver(&mut self, records: &[Record]) {
        if records.is_empty() {
            return;
        }
        self.end.alerts += records
            .iter()
            .filter(|r| matches!(r, Record::Alert(_)))
            .count() as u64;
        for r in records {
            if let Record::Event(e) = r {
                let t = e.time();
                if self.last_event.is_none_or(|last| t > last) {
                    self.last_event = Some(t);
                }
            }
        }
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.accept(records) {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
    }

    /// Asks every sink to make what it accepted durable or visible.
    pub fn flush(&mut self) {
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.flush() {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
    }

    /// Finishes every stage, delivers what that emits, and closes every sink.
    pub fn finish(mut self, reason: String) -> SessionEnd {
        let now = match self.clock {
            Clock::Wall => netsnoop_core::Ts::now(),
            Clock::EventTime => self.last_event.unwrap_or_default(),
        };
        let records: Vec<Record> = self.stages.iter_mut().flat_map(|s| s.finish(now)).collect();
        self.deliver(&records);
        self.end.time = netsnoop_core::Ts::now();
        self.end.reason = reason;
        self.end.sink_errors = self.sink_errors.iter().sum();
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.close(&self.end) {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
        self.end.sink_errors = self.sink_errors.iter().sum();
        self.end
    }
}

/// Counts a sink error; says so on stderr the first time and then every 1000th, so a
/// full disk is visible without flooding the terminal.
fn report(count: &mut u64, sink: &str, e: &anyhow::Error) {
    *count += 1;
    if *count == 1 || (*count).is_multiple_of(1000) {
        tracing::error!("sink {sink} failed ({count} errors so far): {e:#}");
    }
}

#[cfg(test)]
mod tests;
