//! What is measured outside the HTTP exchange: when each stored exec event first becomes
//! queryable in the server's SQLite file, and a process's CPU time and peak RSS.

use netsnoop_core::Ts;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Polls the store every `every` for exec rows of agents (host > 0) newer than the last
/// seen, and returns for each the seconds from its record time to the poll that found it.
pub fn poll_lags(db: PathBuf, every: Duration, stop: Arc<AtomicBool>) -> Vec<(Ts, f64)> {
    let mut lags = Vec::new();
    let mut last_id: i64 = 0;
    let mut conn = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        if conn.is_none() && db.exists() {
            conn = rusqlite::Connection::open_with_flags(
                &db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .ok();
        }
        let Some(c) = &conn else { continue };
        let rows: Result<Vec<(i64, i64)>, _> = c
            .prepare_cached(
                "SELECT id, time FROM process_events WHERE id > ?1 AND host > 0 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([last_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            });
        let now = Ts::now();
        if let Ok(rows) = rows {
            for (id, time) in rows {
                last_id = last_id.max(id);
                lags.push((Ts(time), now.since(Ts(time))));
            }
        }
    }
    lags
}

/// utime + stime of a process, in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    (ticks(14) + ticks(15)) / 100.0
}

/// Peak resident set (VmHWM) in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
