//! Tests of the pipeline with scripted sources, a recording stage and a recording sink.

use super::*;
use crossbeam_channel::bounded;
use netsnoop_core::episodes::Raise;
use netsnoop_core::event::Loss;
use netsnoop_core::{Episodes, PacketMeta, Severity};
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

/// Raises one alert per packet and notes every tick and the finish.
struct Recorder {
    log: Log,
    episodes: Episodes,
}

impl Stage for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        if !matches!(event, Event::Packet(_)) {
            return vec![];
        }
        let raise = Raise {
            kind: "test.packet",
            severity: Severity::Low,
            message: "seen".into(),
            ..Raise::default()
        };
        vec![Record::Alert(self.episodes.raise("k", now, raise))]
    }
    fn tick(&mut self, now: Ts) -> Vec<Record> {
        self.log
            .lock()
            .unwrap()
            .push(format!("tick {}", now.secs()));
        vec![]
    }
    fn finish(&mut self, now: Ts) -> Vec<Record> {
        self.log
            .lock()
            .unwrap()
            .push(format!("finish {}", now.secs()));
        self.episodes
            .resolve("k", now)
            .map(Record::Alert)
            .into_iter()
            .collect()
    }
}

struct Recording(Log);

impl Sink for Recording {
    fn name(&self) -> String {
        "recording".into()
    }
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        let mut log = self.0.lock().unwrap();
        for r in records {
            log.push(match r {
                Record::Event(e) => format!("event {}", e.type_name()),
                Record::Alert(a) => {
                    format!("alert {}", a.state == netsnoop_core::AlertState::Active)
                }
            });
        }
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    fn close(&mut self, end: &SessionEnd) -> anyhow::Result<()> {
        self.0.lock().unwrap().push(format!("close {}", end.reason));
        Ok(())
    }
}

fn packet(ms: i64) -> Event {
    Event::Packet(PacketMeta {
        time: Ts::from_millis(ms),
        ..PacketMeta::default()
    })
}

fn pipeline(clock: Clock, log: &Log) -> Pipeline {
    let stage = Recorder {
        log: log.clone(),
        episodes: Episodes::new(),
    };
    Pipeline::new(
        vec![Box::new(stage)],
        vec![Box::new(Recording(log.clone()))],
        clock,
    )
}

#[test]
fn a_replay_ticks_on_event_time_and_finishes_when_the_input_ends() {
    let log = Log::default();
    let (tx, rx) = bounded(4);
    let (_stop_tx, stop_rx) = bounded(1);
    tx.send(vec![packet(1_000), packet(1_500)]).unwrap();
    tx.send(vec![packet(2_100), packet(4_000)]).unwrap();
    drop(tx);
    let end = pipeline(Clock::EventTime, &log).run(rx, stop_rx, &StopFlag::new());
    assert_eq!(end.reason, "end of input");
    assert_eq!(end.events, 4);
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            // The stage notes ticks as they happen; the sink sees each batch at its end.
            "event packet",
            "alert true",
            "event packet",
            "alert true",
            "tick 2",
            "tick 4",
            "event packet",
            "alert true",
            "event packet",
            "alert true",
            "finish 4",
            "alert false",
            "close end of input",
        ]
    );
}

#[test]
fn a_stop_drains_what_is_queued_then_finishes_and_closes() {
    let log = Log::default();
    let (tx, rx) = bounded(8);
    let (stop_tx, stop_rx) = bounded(1);
    for i in 0..3 {
        tx.send(vec![packet(i * 10)]).unwrap();
    }
    stop_tx.send("SIGTERM".to_string()).unwrap();
    let flag = StopFlag::new();
    let p = pipeline(Clock::Wall, &log);
    // The sender stays alive (a source that has not noticed the stop yet): draining must
    // still end, bounded by drain_for.
    let end = p.run(rx, stop_rx, &flag);
    assert!(flag.is_stopped(), "sources are told to stop");
    assert_eq!(end.reason, "SIGTERM");
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got.iter().filter(|l| *l == "event packet").count(),
        3,
        "{got:?}"
    );
    assert_eq!(
        got[got.len() - 2..],
        ["alert false", "close SIGTERM"],
        "finish resolved the episode, then the sink was closed"
    );
    drop(tx);
}

#[test]
fn losses_are_counted_in_the_session_end_and_a_replay_finishes_at_the_last_event() {
    let log = Log::default();
    let (tx, rx) = bounded(4);
    let (_stop_tx, stop_rx) = bounded(1);
    let loss = |n| {
        Event::Loss(Loss {
            host: None,
            time: Ts::from_secs(1),
            source: "capture:lo".into(),
            count: n,
            reason: "pipeline channel full".into(),
        })
    };
    tx.send(vec![loss(3), packet(1_000)]).unwrap();
    tx.send(vec![loss(4)]).unwrap();
    drop(tx);
    let end = pipeline(Clock::EventTime, &log).run(rx, stop_rx, &StopFlag::new());
    assert_eq!(end.lost, 7);
    assert_eq!(end.events, 3);
    let got = log.lock().unwrap().clone();
    assert!(got.contains(&"finish 1".to_string()), "{got:?}");
}

/// Answers every ack it is handed as stored, as the store sink does after its commit.
struct Storing(Log);

impl Sink for Storing {
    fn name(&self) -> String {
        "storing".into()
    }
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        let packets = records
            .iter()
            .filter(|r| matches!(r, Record::Event(Event::Packet(_))))
            .count();
        self.0.lock().unwrap().push(format!("packets {packets}"));
        Ok(())
    }
    fn accept_durable(&mut self, records: &[Record], acks: &mut Vec<Ack>) -> anyhow::Result<()> {
        self.accept(records)?;
        for ack in acks.drain(..) {
            ack.stored();
        }
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        Ok(())
    }
}

type Answers = std::sync::mpsc::Receiver<Result<(), netsnoop_store::NotStored>>;

fn acked(
    n: i64,
    answers: &std::sync::mpsc::Sender<Result<(), netsnoop_store::NotStored>>,
) -> AckedBatch {
    let tx = answers.clone();
    AckedBatch {
        events: (0..n).map(|i| packet(i * 10)).collect(),
        records: Vec::new(),
        ack: Ack::new(move |outcome| tx.send(outcome).unwrap()),
    }
}

fn answers(rx: &Answers, n: usize) -> Vec<Result<(), netsnoop_store::NotStored>> {
    (0..n)
        .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect()
}

#[test]
fn a_stop_runs_every_acknowledged_batch_already_taken_and_refuses_later_ones() {
    let log = Log::default();
    let (_tx, rx) = bounded::<Vec<Event>>(1);
    let (stop_tx, stop_rx) = bounded(1);
    let (intake_tx, intake_rx) = netsnoop_store::intake::intake(8);
    let (answer_tx, answer_rx) = std::sync::mpsc::channel();
    for n in [1, 2, 3] {
        intake_tx
            .send(acked(n, &answer_tx), Duration::ZERO)
            .unwrap();
    }
    stop_tx.send("SIGTERM".to_string()).unwrap();
    let p = Pipeline::new(vec![], vec![Box::new(Storing(log.clone()))], Clock::Wall)
        .with_intake(intake_rx);
    p.run(rx, stop_rx, &StopFlag::new());
    assert_eq!(answers(&answer_rx, 3), vec![Ok(()); 3]);
    let stored: usize = log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("packets ")?.parse::<usize>().ok())
        .sum();
    assert_eq!(stored, 6, "every packet of the three batches");
    assert!(matches!(
        intake_tx.send(acked(1, &answer_tx), Duration::ZERO),
        Err(netsnoop_store::intake::SendError::Closed(_))
    ));
}

#[test]
fn an_acknowledged_batch_with_no_sink_to_store_it_is_answered_not_stored() {
    let log = Log::default();
    let (_tx, rx) = bounded::<Vec<Event>>(1);
    let (stop_tx, stop_rx) = bounded(1);
    let (intake_tx, intake_rx) = netsnoop_store::intake::intake(8);
    let (answer_tx, answer_rx) = std::sync::mpsc::channel();
    intake_tx
        .send(acked(2, &answer_tx), Duration::ZERO)
        .unwrap();
    stop_tx.send("SIGTERM".to_string()).unwrap();
    pipeline(Clock::Wall, &log)
        .with_intake(intake_rx)
        .run(rx, stop_rx, &StopFlag::new());
    let why = answers(&answer_rx, 1).remove(0).unwrap_err().0;
    assert!(why.contains("no store is open"), "{why}");
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got.iter().filter(|l| *l == "event packet").count(),
        2,
        "{got:?}"
    );
}

#[test]
fn with_the_wall_clock_a_packet_stamped_beyond_the_skew_is_dropped_and_counted_as_a_clock_loss() {
    let log = Log::default();
    let mut p = pipeline(Clock::Wall, &log);
    p.max_clock_skew = Duration::from_secs(60);
    let now = Ts::now();
    let at = |secs: i64| {
        Event::Packet(PacketMeta {
            time: Ts(now.micros() + secs * 1_000_000),
            ..PacketMeta::default()
        })
    };
    p.ingest(vec![at(3_600), at(0), at(30), at(86_400 * 365 * 200)]);
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got.iter().filter(|l| *l == "event packet").count(),
        2,
        "{got:?}"
    );
    assert_eq!(
        p.end.lost, 2,
        "the two refused packets are one clock loss of 2"
    );
    assert!(
        p.last_event
            .is_some_and(|t| t.micros() <= now.micros() + 31_000_000),
        "no refused time reached the pipeline's clock: {:?}",
        p.last_event
    );
}
