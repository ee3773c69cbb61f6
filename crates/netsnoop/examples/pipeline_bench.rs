//! Pipeline throughput: events per second from a source thread, over the bounded channel,
//! through the pipeline thread into sinks — with no sink, with the log files, and with
//! the log files plus an alert per 100 events — at several batch sizes.
//!
//! Run by bench/pipeline/run.sh (release build). Prints one Markdown table row per case.

use netsnoop::config::Logs;
use netsnoop::pipeline::{Clock, Pipeline};
use netsnoop::sinks::logs::LogFiles;
use netsnoop::sinks::{SessionEnd, SessionStart, Sink};
use netsnoop::sources::StopFlag;
use netsnoop::time::TimeFmt;
use netsnoop_core::episodes::Raise;
use netsnoop_core::{Episodes, Event, ProcEventKind, ProcessEvent, Record, Severity, Stage, Ts};
use std::time::Instant;

const EVENTS: usize = 400_000;
const RUNS: usize = 5;

struct Null;
impl Sink for Null {
    fn name(&self) -> String {
        "null".into()
    }
    fn accept(&mut self, _: &[Record]) -> anyhow::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    fn close(&mut self, _: &SessionEnd) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Opens a new episode every 100th event: a worst case for the CSV and session log.
struct AlertEvery100 {
    n: u64,
    eps: Episodes,
}
impl Stage for AlertEvery100 {
    fn name(&self) -> &'static str {
        "alert-every-100"
    }
    fn ingest(&mut self, _: &Event, now: Ts) -> Vec<Record> {
        self.n += 1;
        if !self.n.is_multiple_of(100) {
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
        user: Some("root".into()),
        comm: "bash".into(),
        exe: Some("/usr/bin/bash".into()),
        argv: vec!["bash".into(), "-c".into(), format!("echo {i}, \"quoted\"")],
        argv_complete: true,
        ..ProcessEvent::default()
    })
}

fn once(case: &str, batch: usize, dir: &std::path::Path) -> f64 {
    let _ = std::fs::remove_dir_all(dir);
    let tf = TimeFmt::utc();
    let start = SessionStart {
        time: Ts(0),
        command: "bench".into(),
        config: dir.join("c.toml"),
        config_found: false,
        data_dir: dir.to_path_buf(),
    };
    let logs = || -> Box<dyn Sink> {
        let cfg = Logs {
            max_size_mb: 64,
            keep: 1,
            ..Logs::default()
        };
        Box::new(LogFiles::open(dir, &cfg, tf.clone(), &start).expect("log files open"))
    };
    type Parts = (Vec<Box<dyn Sink>>, Vec<Box<dyn Stage>>);
    let (sinks, stages): Parts = match case {
        "null sink" => (vec![Box::new(Null)], vec![]),
        "log files" => (vec![logs()], vec![]),
        "log files + 1% alerts" => (
            vec![logs()],
            vec![Box::new(AlertEvery100 {
                n: 0,
                eps: Episodes::new(),
            })],
        ),
        _ => unreachable!(),
    };
    let events: Vec<Vec<Event>> = (0..EVENTS)
        .collect::<Vec<_>>()
        .chunks(batch)
        .map(|c| c.iter().map(|&i| exec(i)).collect())
        .collect();
    let (tx, rx) = crossbeam_channel::bounded(1024);
    let (_stop_tx, stop_rx) = crossbeam_channel::bounded(1);
    let pipeline = Pipeline::new(stages, sinks, Clock::EventTime);
    let t = Instant::now();
    let producer = std::thread::spawn(move || {
        for b in events {
            tx.send(b).expect("pipeline takes batches"); // blocking: measure the pipeline, not drops
        }
    });
    let end = pipeline.run(rx, stop_rx, &StopFlag::new());
    producer.join().expect("producer thread");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(end.events as usize, EVENTS);
    EVENTS as f64 / secs
}

fn main() {
    let dir = std::env::temp_dir().join(format!("netsnoop-bench-{}", std::process::id()));
    println!("| case | batch | median events/s | min | max | vs null sink, same batch |");
    println!("|---|---:|---:|---:|---:|---:|");
    for batch in [1, 64, 512] {
        let mut null_median = 0.0;
        for case in ["null sink", "log files", "log files + 1% alerts"] {
            let mut rates: Vec<f64> = (0..RUNS).map(|_| once(case, batch, &dir)).collect();
            rates.sort_by(f64::total_cmp);
            let median = rates[RUNS / 2];
            if case == "null sink" {
                null_median = median;
            }
            println!(
                "| {case} | {batch} | {:.0} | {:.0} | {:.0} | {:.2}× |",
                median,
                rates[0],
                rates[RUNS - 1],
                median / null_median
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
