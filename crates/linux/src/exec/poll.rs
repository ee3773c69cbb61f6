//! The /proc polling fallback: scans every interval, reports new processes as execs and
//! counts the forks it could not see (from /proc/stat `processes`) as lost.

use super::enrich::Enricher;
use crossbeam_channel::Sender;
use netsnoop_core::ProcEventKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub const REASON_MISSED: &str =
    "forks (threads included) that started and ended between /proc scans";

pub fn run(mut enr: Enricher, interval: Duration, stop: Arc<AtomicBool>, seeded: Sender<()>) {
    let mut forks_before = enr.fs.forks_total();
    enr.scan(ProcEventKind::Existing);
    let sent = enr.flush();
    let _ = seeded.send(());
    if !sent {
        return;
    }
    let mut next = Instant::now() + interval;
    while !stop.load(Relaxed) {
        let now = Instant::now();
        if now < next {
            std::thread::sleep((next - now).min(Duration::from_millis(100)));
            continue;
        }
        next += interval;
        let found = enr.scan(ProcEventKind::Exec);
        enr.stats.execs.fetch_add(found, Relaxed);
        let forks_now = enr.fs.forks_total();
        if let (Some(before), Some(after)) = (forks_before, forks_now) {
            let missed = after.saturating_sub(before).saturating_sub(found);
            if missed > 0 {
                enr.stats.missed_by_polling.fetch_add(missed, Relaxed);
                enr.loss(missed, REASON_MISSED);
            }
        }
        forks_before = forks_now;
        if !enr.flush() {
            return;
        }
    }
}
