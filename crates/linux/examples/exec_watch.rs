//! Bench helper for bench/exec_storm: runs the eBPF source, the proc connector source or the
//! /proc poller and
//! reports, as one JSON line, the storm's execs it saw, how many with complete argv, what it
//! counted as lost and the CPU it used from `ready` to the end — the source's threads plus
//! the core process monitor stage (table, bursts, instigators) fed every event.
//!
//! Usage: exec_watch ebpf|netlink|poll MARKER   Prints `ready` once seeded; stops when stdin
//! has closed and no storm event came for 1.5 s (a busy host's stream is never quiet).

use crossbeam_channel::bounded;
use netsnoop_core::process::config::{SourceConfig, TableConfig};
use netsnoop_core::process::exec_source::ExecSourceChoice;
use netsnoop_core::process::{ProcessConfig, ProcessMonitor};
use netsnoop_core::{Event, ProcEventKind, Record, Stage};
use netsnoop_linux::exec::start_exec_source;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(source), Some(marker)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: exec_watch ebpf|netlink|poll MARKER");
        std::process::exit(2);
    };
    let (tx, rx) = bounded(1 << 16);
    let table = TableConfig::default();
    let choice = match source.as_str() {
        "ebpf" => ExecSourceChoice::Ebpf,
        "netlink" => ExecSourceChoice::Netlink,
        "poll" => ExecSourceChoice::Poll,
        other => fail(&format!("unknown source {other}")),
    };
    let cfg = SourceConfig {
        exec_source: choice,
        ..SourceConfig::default()
    };
    let src = start_exec_source(&cfg, &table, &tx)
        .unwrap_or_else(|e| fail(&e.to_string()))
        .source;
    drop(tx);
    let mut monitor =
        ProcessMonitor::new(ProcessConfig::default()).with_self_pid(std::process::id());
    let mut alerts = 0u64;
    // Feed the seed (queued in full before the source returned), so the storm starts
    // with a full table. A busy host never goes quiet, so do not wait for silence.
    while let Ok(batch) = rx.try_recv() {
        for ev in &batch {
            monitor.ingest(ev, ev.time());
        }
    }
    let cpu_at_ready = cpu_secs();
    println!("ready");
    let stdin_closed = Arc::new(AtomicBool::new(false));
    let flag = stdin_closed.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        flag.store(true, Ordering::Relaxed);
    });
    let (mut execs, mut complete, mut lost) = (0u64, 0u64, 0u64);
    let mut spawner = None;
    let mut last_event = Instant::now();
    loop {
        if let Ok(batch) = rx.recv_timeout(Duration::from_millis(50)) {
            for ev in batch {
                for r in monitor.ingest(&ev, ev.time()) {
                    if let Record::Alert(_) = r {
                        alerts += 1;
                    }
                }
                match ev {
                    Event::Process(p) if p.kind == ProcEventKind::Exec => {
                        let is_spawner = p.argv.get(1) == Some(marker)
                            && p.argv[0].ends_with("exec_storm_spawn");
                        if is_spawner {
                            spawner = Some(p.pid);
                            continue;
                        }
                        // Storm children are known by their parent, so one whose argv
                        // could not be read still counts as reported.
                        if spawner != Some(p.ppid) {
                            continue;
                        }
                        execs += 1;
                        last_event = Instant::now();
                        let id = p.argv.get(2).and_then(|a| a.strip_prefix("id="));
                        let tail = id.map(|i| format!("tail-{i}"));
                        if p.argv_complete && p.argv.len() == 4 && p.argv.get(3) == tail.as_ref() {
                            complete += 1;
                        }
                    }
                    Event::Loss(l) => lost += l.count,
                    _ => {}
                }
            }
        }
        if stdin_closed.load(Ordering::Relaxed)
            && last_event.elapsed() > Duration::from_millis(1500)
        {
            break;
        }
    }
    let cpu = cpu_secs() - cpu_at_ready;
    let c = src.counters();
    println!(
        "{{\"source\":\"{source}\",\"execs\":{execs},\"complete\":{complete},\"lost\":{lost},\"cpu_s\":{cpu:.3},\"overruns\":{},\"lost_seq\":{},\"lost_queue\":{},\"missed_by_polling\":{},\"resyncs\":{},\"alert_records\":{alerts}}}",
        c.overruns, c.lost_seq, c.lost_queue, c.missed_by_polling, c.resyncs
    );
    drop(src);
}

fn cpu_secs() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    secs(usage.user_time()) + secs(usage.system_time())
}

fn fail(msg: &str) -> ! {
    eprintln!("exec_watch: {msg}");
    std::process::exit(1);
}
