//! A small resource monitor: the real sampler thread, every resource detector and top-N
//! trimming, as the pipeline runs them. Used by bench/resources.
//!
//! Usage: resource_monitor [--secs N] [--interval-ms MS] [--quiet]
//! Prints alerts as JSON lines on stdout and a summary on stderr.

use crossbeam_channel::{RecvTimeoutError, bounded};
use netsnoop_core::resource::{self, ResourceConfig, trim_to_top_n};
use netsnoop_core::{Event, Record};
use netsnoop_linux::sampler::{self, Sampler};
use std::time::{Duration, Instant};

fn main() {
    let mut secs = 60u64;
    let mut cfg = ResourceConfig::default();
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&a))
        };
        match a.as_str() {
            "--secs" => secs = num(),
            "--interval-ms" => cfg.interval_ms = num(),
            "--quiet" => quiet = true,
            _ => usage(&a),
        }
    }
    let sampler = Sampler::new().unwrap_or_else(|e| fail(&e.to_string()));
    for d in sampler.degraded() {
        eprintln!("degraded: {d}");
    }
    let (tx, rx) = bounded(64);
    let handle = sampler::spawn(sampler, Duration::from_millis(cfg.interval_ms), tx)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut stages = resource::detectors(&cfg);
    let (mut alerts, mut stored_rows, mut procs_seen) = (0u64, 0usize, 0usize);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut last_time = netsnoop_core::Ts::default();
    while Instant::now() < end {
        let batch = match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(b) => b,
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => fail("sampler stopped"),
        };
        for ev in batch {
            let Event::Resources(s) = &ev else { continue };
            last_time = s.system.time;
            procs_seen = s.processes.len();
            // What the store sink would write for this second.
            stored_rows += trim_to_top_n(s, cfg.top_n).processes.len();
            for stage in &mut stages {
                for r in stage.ingest(&ev, last_time) {
                    alerts += 1;
                    if let (Record::Alert(a), false) = (&r, quiet) {
                        println!("{}", serde_json::to_string(a).expect("alert to JSON"));
                    }
                }
            }
        }
    }
    for stage in &mut stages {
        alerts += stage.finish(last_time).len() as u64;
    }
    let stats = handle.stop();
    eprintln!(
        "rounds={} processes_last={} vanished={} dropped={} errors={} alerts={} \
         top_rows={}",
        stats.rounds, procs_seen, stats.vanished, stats.dropped, stats.errors, alerts, stored_rows
    );
}

fn usage(arg: &str) -> ! {
    fail(&format!(
        "unexpected argument {arg:?}; usage: resource_monitor [--secs N] [--interval-ms MS] [--quiet]"
    ))
}

fn fail(msg: &str) -> ! {
    eprintln!("resource_monitor: {msg}");
    std::process::exit(2)
}
