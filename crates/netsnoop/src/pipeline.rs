//! The pipeline thread: the single owner of every stage and sink. It receives owned
//! batches from the sources, runs the stages, updates the live snapshot, hands records to
//! the sinks, ticks about once a second, and on stop drains, finishes and closes.

use crate::sinks::{SessionEnd, Sink};
use crate::sources::StopFlag;
use crate::{events, live};
use crossbeam_channel::{Receiver, RecvTimeoutError, never, select};
use netsnoop_core::redact::Redactor;
use netsnoop_core::{Event, Record, SharedLive, Stage, Ts};
use std::time::{Duration, Instant};

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
    pub live: SharedLive,
    pub clock: Clock,
    /// How long to keep draining after a stop before giving up on slow sources.
    pub drain_for: Duration,
    /// Redacts secrets from argv as events arrive, before any stage or sink sees them
    /// (`[redact]`; the documented defaults unless the command sets its config).
    pub redactor: Redactor,
    sink_errors: Vec<u64>,
    last_tick: Option<Ts>,
    end: SessionEnd,
}

const TICK: Duration = Duration::from_secs(1);

impl Pipeline {
    pub fn new(
        stages: Vec<Box<dyn Stage>>,
        sinks: Vec<Box<dyn Sink>>,
        live: SharedLive,
        clock: Clock,
    ) -> Pipeline {
        let n = sinks.len();
        Pipeline {
            stages,
            sinks,
            live,
            clock,
            drain_for: Duration::from_millis(800),
            redactor: Redactor::default(),
            sink_errors: vec![0; n],
            last_tick: None,
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
                    self.tick(crate::time::now());
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
        for mut event in batch {
            // The one place secrets leave argv: every stage and sink comes after it.
            self.redactor.redact_event(&mut event);
            let now = events::time(&event);
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

    fn tick(&mut self, now: Ts) {
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
        live::observe(&self.live, records);
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.accept(records) {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
    }

    fn flush(&mut self) {
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.flush() {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
    }

    fn finish(mut self, reason: String) -> SessionEnd {
        let now = match self.clock {
            Clock::Wall => crate::time::now(),
            Clock::EventTime => live::read(&self.live).last_event.unwrap_or_default(),
        };
        let records: Vec<Record> = self.stages.iter_mut().flat_map(|s| s.finish(now)).collect();
        self.deliver(&records);
        self.end.time = crate::time::now();
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
