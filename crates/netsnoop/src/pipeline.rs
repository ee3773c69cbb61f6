//! The pipeline thread: the single owner of every stage and sink. It receives owned
//! batches from the sources, runs the stages, updates the live snapshot, hands records to
//! the sinks, ticks about once a second, and on stop drains, finishes and closes.

use crate::sinks::{SessionEnd, Sink};
use crate::sources::StopFlag;
use crate::{events, live};
use crossbeam_channel::{Receiver, RecvTimeoutError, never, select};
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
    /// With the wall clock, packets stamped further ahead of it than this are dropped
    /// (and reported as a `clock` loss) before any stage sees them: a packet's time
    /// drives the network stages' clock, so one bad time must not move it.
    pub max_clock_skew: Duration,
    sink_errors: Vec<u64>,
    last_tick: Option<Ts>,
    end: SessionEnd,
}

const TICK: Duration = Duration::from_secs(1);
/// `general.max_clock_skew`'s default.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);
/// The loss source under which refused packet times are counted.
pub const CLOCK_LOSS_SOURCE: &str = "clock";

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
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
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
    pub fn ingest(&mut self, mut batch: Vec<Event>) {
        if self.clock == Clock::Wall {
            self.refuse_future_packets(&mut batch);
        }
        let mut records = Vec::with_capacity(batch.len());
        for event in batch {
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

    /// Drops packets stamped more than `max_clock_skew` ahead of the wall clock and puts
    /// one loss event in their place, so they are counted wherever losses are.
    fn refuse_future_packets(&self, batch: &mut Vec<Event>) {
        let now = crate::time::now();
        let limit = now + crate::time::to_core_span(self.max_clock_skew);
        let ahead = |e: &Event| matches!(e, Event::Packet(p) if p.time > limit);
        if !batch.iter().any(ahead) {
            return;
        }
        let before = batch.len();
        batch.retain(|e| !ahead(e));
        batch.push(Event::Loss(netsnoop_core::event::Loss {
            time: now,
            source: CLOCK_LOSS_SOURCE.into(),
            count: (before - batch.len()) as u64,
            reason: format!(
                "packets stamped more than {}s ahead of this host's clock were dropped: fix the sender's clock (NTP) or raise general.max_clock_skew",
                self.max_clock_skew.as_secs()
            ),
        }));
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
