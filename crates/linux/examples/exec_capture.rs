//! Bench helper: runs one exec source and reports, as one JSON line, how many execs carrying
//! a marker argument it saw, how many with complete argv, what it lost and the CPU it used.
//!
//! Usage: exec_capture SOURCE MARKER   (SOURCE: ebpf, netlink or poll). Prints `ready` once capturing;
//! stops when stdin closes, after the stream has been quiet for 500 ms.

use crossbeam_channel::bounded;
use netsnoop_core::process::config::{SourceConfig, TableConfig};
use netsnoop_core::{Event, ProcEventKind};
use netsnoop_linux::ebpf::{ExecSourceChoice, start_exec_source};
use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(source), Some(marker)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: exec_capture ebpf|netlink|poll MARKER");
        std::process::exit(2);
    };
    let (tx, rx) = bounded(4096);
    let choice = match source.as_str() {
        "ebpf" => ExecSourceChoice::Ebpf,
        "netlink" => ExecSourceChoice::Netlink,
        "poll" => ExecSourceChoice::Poll,
        other => fail(&format!("unknown source {other}")),
    };
    let config = SourceConfig {
        exec_source: choice,
        ..SourceConfig::default()
    };
    let _running = start_exec_source(&config, &TableConfig::default(), &tx)
        .unwrap_or_else(|e| fail(&e.to_string()));
    drop(tx);
    // The start-up seed of running processes is not part of the storm.
    let settle = Instant::now() + Duration::from_millis(500);
    while Instant::now() < settle {
        let _ = rx.recv_timeout(Duration::from_millis(50));
    }
    // Loading (BTF parsing above all) is a one-off; the storm's cost is what follows.
    let cpu_at_ready = cpu_secs();
    println!("ready");
    let stdin_closed = Arc::new(AtomicBool::new(false));
    let flag = stdin_closed.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        flag.store(true, Ordering::Relaxed);
    });
    let mut ids = HashSet::new();
    let (mut execs, mut complete, mut lost) = (0u64, 0u64, 0u64);
    let mut last_event = Instant::now();
    let mut spawner = None;
    loop {
        if let Ok(batch) = rx.recv_timeout(Duration::from_millis(50)) {
            last_event = Instant::now();
            for ev in batch {
                match ev {
                    Event::Process(p) if p.kind == ProcEventKind::Exec => {
                        // Storm processes are told apart by their parent, the spawner,
                        // so one whose argv could not be read still counts as reported.
                        let is_spawner = p.argv.get(1) == Some(marker)
                            && p.argv[0].ends_with("exec_storm_spawn");
                        if is_spawner {
                            spawner = Some(p.pid);
                        }
                        if is_spawner || spawner != Some(p.ppid) {
                            continue;
                        }
                        execs += 1;
                        // The storm's argv is: /bin/true MARKER id=N tail-N
                        let id = p.argv.get(2).and_then(|a| a.strip_prefix("id="));
                        let tail = id.map(|i| format!("tail-{i}"));
                        if p.argv_complete && p.argv.len() == 4 && p.argv.get(3) == tail.as_ref() {
                            complete += 1;
                        }
                        if let Some(id) = id {
                            ids.insert(id.to_string());
                        }
                    }
                    Event::Loss(l) => lost += l.count,
                    _ => {}
                }
            }
        }
        if stdin_closed.load(Ordering::Relaxed) && last_event.elapsed() > Duration::from_millis(500)
        {
            break;
        }
    }
    println!(
        "{{\"source\":\"{source}\",\"execs\":{execs},\"distinct\":{},\"complete\":{complete},\"lost\":{lost},\"cpu_s\":{:.3}}}",
        ids.len(),
        cpu_secs() - cpu_at_ready
    );
}

fn cpu_secs() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    secs(usage.user_time()) + secs(usage.system_time())
}

fn fail(msg: &str) -> ! {
    eprintln!("exec_capture: {msg}");
    std::process::exit(1);
}
