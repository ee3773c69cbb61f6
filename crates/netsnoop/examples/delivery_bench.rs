//! Delivery's cost to the pipeline: events per second through the pipeline thread with an
//! alert every 10th event, with no output, with a webhook to a receiver that answers, and
//! with one to a receiver that never answers (its queue full, every further alert
//! dropped). The pipeline must not slow down when the receiver is dead.
//!
//! Run by bench/delivery/run.sh (release build). Prints one Markdown table row per case.

use netsnoop::pipeline::{Clock, Pipeline};
use netsnoop::sinks::{SessionEnd, Sink};
use netsnoop::sources::StopFlag;
use netsnoop_core::episodes::Raise;
use netsnoop_core::{Episodes, Event, ProcEventKind, ProcessEvent, Record, Severity, Stage, Ts};
use netsnoop_deliver::config::{WebhookConfig, WebhookFormat};
use netsnoop_deliver::{Delivery, OutputConfig};
use netsnoop_test_support::receiver::{Behaviour, Receiver};
use std::sync::Arc;
use std::time::Instant;

const EVENTS: usize = 400_000;
const BATCH: usize = 64;
const RUNS: usize = 5;

/// Hands alerts to the outputs; closing is left to the caller, outside the timing.
struct Outputs(Option<Arc<Delivery>>);
impl Sink for Outputs {
    fn name(&self) -> String {
        "outputs".into()
    }
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        if let Some(d) = &self.0 {
            for r in records {
                if let Record::Alert(a) = r {
                    d.offer(a);
                }
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

/// Opens a new episode every 10th event.
struct AlertEvery10 {
    n: u64,
    eps: Episodes,
}
impl Stage for AlertEvery10 {
    fn name(&self) -> &'static str {
        "alert-every-10"
    }
    fn ingest(&mut self, _: &Event, now: Ts) -> Vec<Record> {
        self.n += 1;
        if !self.n.is_multiple_of(10) {
            return vec![];
        }
        let raise = Raise {
            kind: "bench.alert",
            severity: Severity::High,
            message: format!("alert {}", self.n),
            ..Raise::default()
        };
        vec![Record::Alert(self.eps.raise(
            &self.n.to_string(),
            now,
            raise,
        ))]
    }
}

fn exec(i: usize) -> Event {
    Event::Process(ProcessEvent {
        time: Ts::from_millis(i as i64),
        kind: ProcEventKind::Exec,
        pid: 1000 + (i % 30000) as u32,
        ppid: 1,
        comm: "bash".into(),
        argv: vec!["bash".into(), "-c".into(), format!("echo {i}")],
        argv_complete: true,
        ..ProcessEvent::default()
    })
}

fn webhook(url: String) -> OutputConfig {
    let mut c = OutputConfig::named("hook");
    c.group_secs = Some(0.0);
    c.queue = 1000;
    c.timeout_secs = 600.0;
    c.webhook = Some(WebhookConfig {
        url: url.as_str().into(),
        format: WebhookFormat::Alertmanager,
        bearer_token: None,
        bearer_token_file: None,
        headers: Default::default(),
    });
    c
}

/// (events/s, alerts delivered, alerts dropped) for one run.
fn once(receiver: Option<&Receiver>) -> (f64, u64, u64) {
    let delivery = receiver
        .map(|r| Arc::new(Delivery::start(&[webhook(r.url())], "bench").expect("delivery starts")));
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(Outputs(delivery.clone()))];
    let stages: Vec<Box<dyn Stage>> = vec![Box::new(AlertEvery10 {
        n: 0,
        eps: Episodes::new(),
    })];
    let events: Vec<Vec<Event>> = (0..EVENTS)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|c| c.iter().map(|&i| exec(i)).collect())
        .collect();
    let (tx, rx) = crossbeam_channel::bounded(1024);
    let (_stop_tx, stop_rx) = crossbeam_channel::bounded(1);
    let pipeline = Pipeline::new(stages, sinks, Clock::EventTime);
    let t = Instant::now();
    let producer = std::thread::spawn(move || {
        for b in events {
            tx.send(b).expect("pipeline takes batches");
        }
    });
    let end = pipeline.run(rx, stop_rx, &StopFlag::new());
    producer.join().expect("producer thread");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(end.events as usize, EVENTS);
    let (delivered, dropped) = match delivery {
        Some(d) => {
            let c = d.counts()[0].clone();
            if let Ok(mut d) = Arc::try_unwrap(d) {
                d.close();
            }
            (c.delivered, c.dropped)
        }
        None => (0, 0),
    };
    (EVENTS as f64 / secs, delivered, dropped)
}

fn main() {
    let answering = Receiver::start(Behaviour::Answer);
    let silent = Receiver::start(Behaviour::Silent);
    println!(
        "| case | median events/s | min | max | vs no output | alerts delivered / dropped (median run) |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    let mut base = 0.0;
    for (case, r) in [
        ("no output", None),
        ("webhook, receiver answers", Some(&answering)),
        ("webhook, receiver never answers", Some(&silent)),
    ] {
        let mut runs: Vec<(f64, u64, u64)> = (0..RUNS).map(|_| once(r)).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (median, delivered, dropped) = runs[RUNS / 2];
        if r.is_none() {
            base = median;
        }
        println!(
            "| {case} | {median:.0} | {:.0} | {:.0} | {:.2}× | {delivered} / {dropped} |",
            runs[0].0,
            runs[RUNS - 1].0,
            median / base
        );
        // Drain what the answering receiver recorded, so memory stays flat.
        if let Some(r) = r {
            while r.requests.try_recv().is_ok() {}
        }
    }
}
