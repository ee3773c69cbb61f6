//! The sampler alone: CPU time and wall time of each round at a 1 s pace, so the cost of
//! one round can be read apart from startup and from the detectors. Used by
//! bench/resources to explain its totals.
//!
//! Usage: sampler_cost [ROUNDS]   (default 20)

use netsnoop_linux::sampler::Sampler;
use nix::sys::resource::{UsageWho, getrusage};
use std::time::{Duration, Instant};

/// (user, system) CPU seconds of this thread.
fn cpu() -> (f64, f64) {
    let u = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage");
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    (t(u.user_time()), t(u.system_time()))
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut s = Sampler::new().expect("sampler");
    let (mut user, mut sys, mut walls, mut procs) = (0.0, 0.0, Vec::new(), 0);
    for _ in 0..n {
        std::thread::sleep(Duration::from_secs(1));
        let (u0, s0) = cpu();
        let t = Instant::now();
        procs = s
            .sample(netsnoop_core::Ts::now())
            .expect("sample")
            .processes
            .len();
        walls.push(t.elapsed().as_micros());
        let (u1, s1) = cpu();
        user += u1 - u0;
        sys += s1 - s0;
    }
    walls.sort_unstable();
    println!(
        "processes={procs} rounds={n} wall_us min={} median={} user_us={:.0} sys_us={:.0} (per round)",
        walls[0],
        walls[walls.len() / 2],
        user * 1e6 / n as f64,
        sys * 1e6 / n as f64
    );
}
