//! Bench helper: spawns COUNT very short processes (`/bin/true MARKER id=N tail-N`) from
//! THREADS threads as fast as the machine allows, and prints the achieved rate as JSON.
//!
//! Usage: exec_storm_spawn MARKER COUNT THREADS

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let marker = args.get(1).cloned().expect("MARKER");
    let count: usize = args.get(2).and_then(|a| a.parse().ok()).expect("COUNT");
    let threads: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (next, marker) = (next.clone(), marker.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let status = Command::new("/bin/true")
                        .args([marker.as_str(), &format!("id={i}"), &format!("tail-{i}")])
                        .status()
                        .expect("spawn /bin/true");
                    assert!(status.success());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("spawner thread");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"count\":{count},\"threads\":{threads},\"secs\":{secs:.3},\"rate\":{:.0}}}",
        count as f64 / secs
    );
}
