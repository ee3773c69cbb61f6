//! netsnoop-pipeline: the pipeline thread, the single owner of every stage and sink. It
//! receives owned batches from the sources, runs the stages, hands records to the sinks,
//! ticks about once a second, and on stop drains, finishes and closes. The binary and the
//! server's tests both drive this one loop.
//!
//! Batches from the intake (POST /packets) carry acks: the pipeline takes every such
//! batch already waiting, runs them, adds the stages' checkpoint (the open second's
//! rollup so far) and hands records and acks to the sinks together, so the store answers
//! each ack once the packets and their counts are committed. On stop the intake closes
//! first (new batches get 503) and every batch it took is run before the sinks close.

#![forbid(unsafe_code)]

pub mod sink;

use crossbeam_channel::{Receiver, RecvTimeoutError, never, select};
use netsnoop_core::redact::Redactor;
use netsnoop_core::{Event, Record, Stage, Ts};
use netsnoop_store::intake::IntakeReceiver;
use netsnoop_store::{Ack, AckedBatch};
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
    /// With the wall clock, packets stamped further ahead of it than this are dropped
    /// (and reported as a `clock` loss) before any stage sees them: a packet's time
    /// drives the network stages' clock, so one bad time must not move it.
    pub max_clock_skew: Duration,
    /// Redacts secrets from argv as events arrive, before any stage or sink sees them
    /// (`[redact]`; the documented defaults unless the command sets its config).
    pub redactor: Redactor,
    sink_errors: Vec<u64>,
    last_tick: Option<Ts>,
    /// Time of the newest event delivered: `finish` runs at it in a replay.
    last_event: Option<Ts>,
    end: SessionEnd,
    intake: Option<IntakeReceiver>,
}

const TICK: Duration = Duration::from_secs(1);
/// Most events run as one acknowledged group (one checkpoint, one writer message).
const GROUP_EVENTS: usize = 50_000;
/// `general.max_clock_skew`'s default.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);
/// The loss source under which refused packet times are counted.
pub const CLOCK_LOSS_SOURCE: &str = "clock";

impl Pipeline {
    pub fn new(stages: Vec<Box<dyn Stage>>, sinks: Vec<Box<dyn Sink>>, clock: Clock) -> Pipeline {
        let n = sinks.len();
        Pipeline {
            stages,
            sinks,
            clock,
            drain_for: Duration::from_millis(800),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            redactor: Redactor::default(),
            sink_errors: vec![0; n],
            last_tick: None,
            last_event: None,
            end: SessionEnd::default(),
            intake: None,
        }
    }

    /// Takes acknowledged batches (POST /packets) from `intake` besides the sources.
    pub fn with_intake(mut self, intake: IntakeReceiver) -> Pipeline {
        self.intake = Some(intake);
        self
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
        let acked = match &self.intake {
            Some(intake) => intake.receiver().clone(),
            None => never(),
        };
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
                recv(acked) -> msg => if let Ok(first) = msg {
                    let mut group = vec![first];
                    let mut events = group[0].events.len();
                    while events < GROUP_EVENTS && let Ok(more) = acked.try_recv() {
                        events += more.events.len();
                        group.push(more);
                    }
                    self.ingest_acked(group);
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
        if let Some(intake) = self.intake.take() {
            // From here POST /packets answers 503; what it took before is all run.
            intake.close();
            let (mut group, mut events) = (Vec::new(), 0);
            intake.drain(|batch| {
                events += batch.events.len();
                group.push(batch);
                if events >= GROUP_EVENTS {
                    self.ingest_acked(std::mem::take(&mut group));
                    events = 0;
                }
            });
            self.ingest_acked(group);
        }
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
        let records = self.stage(batch);
        self.deliver(&records);
    }

    /// Runs acknowledged batches through the stages and hands their records, the stages'
    /// checkpoint and the acks to the sinks in one go.
    pub fn ingest_acked(&mut self, group: Vec<AckedBatch>) {
        if group.is_empty() {
            return;
        }
        let mut records = Vec::new();
        let mut acks = Vec::with_capacity(group.len());
        for batch in group {
            records.extend(self.stage(batch.events));
            // An agent's records: its own stages made them, so they go on as they are.
            records.extend(batch.records);
            acks.push(batch.ack);
        }
        let now = Ts::now();
        for stage in &mut self.stages {
            records.extend(stage.checkpoint(now));
        }
        self.deliver_durable(&records, acks);
    }

    /// The records of one batch: each event, followed by what the stages made of it.
    fn stage(&mut self, mut batch: Vec<Event>) -> Vec<Record> {
        if self.clock == Clock::Wall {
            self.refuse_future_packets(&mut batch);
        }
        let mut records = Vec::with_capacity(batch.len());
        for mut event in batch {
            // The one place secrets leave argv: every stage and sink comes after it.
            self.redactor.redact_event(&mut event);
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
        records
    }

    /// Drops packets stamped more than `max_clock_skew` ahead of the wall clock and puts
    /// one loss event in their place, so they are counted wherever losses are.
    fn refuse_future_packets(&self, batch: &mut Vec<Event>) {
        let now = Ts::now();
        let limit = now + netsnoop_core::time::Span::from(self.max_clock_skew);
        let ahead = |e: &Event| matches!(e, Event::Packet(p) if p.time > limit);
        if !batch.iter().any(ahead) {
            return;
        }
        let before = batch.len();
        batch.retain(|e| !ahead(e));
        batch.push(Event::Loss(netsnoop_core::event::Loss {
            host: None,
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

    /// Ticks every stage at `now` and hands what they emit to the sinks (`run` does this
    /// once a second on the wall clock; a test harness may do it at a scripted time).
    pub fn tick(&mut self, now: Ts) {
        let records = self.stage_ticks(now);
        self.last_tick = Some(now);
        self.deliver(&records);
    }

    /// Counts the alerts and keeps the newest event time of records about to be delivered.
    fn observe(&mut self, records: &[Record]) {
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
    }

    fn deliver(&mut self, records: &[Record]) {
        if records.is_empty() {
            return;
        }
        self.observe(records);
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.accept(records) {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
    }

    fn deliver_durable(&mut self, records: &[Record], mut acks: Vec<Ack>) {
        self.observe(records);
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let Err(e) = sink.accept_durable(records, &mut acks) {
                report(&mut self.sink_errors[i], &sink.name(), &e);
            }
        }
        // No sink stores records (the store could not be opened).
        for ack in acks {
            ack.fail(
                "no store is open, so nothing can be stored (see /health for why); fix the store and restart",
            );
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
