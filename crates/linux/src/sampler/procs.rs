//! The per-process part of a sampling round: list /proc, read each `stat`, and turn tick
//! deltas into CPU% (top's convention). Name, command line and user are read once per
//! process (and again after an exec), not every second.

use super::SamplerError;
use super::parse::{parse_cmdline, parse_pid_stat, parse_status_uid};
use super::users::UserCache;
use netsnoop_core::ProcSample;
use nix::dir::Dir;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What is remembered about a process between rounds.
struct Known {
    start: u64,
    ticks: u64,
    comm: String,
    cmdline: String,
    user: Option<String>,
    round: u64,
}

/// Outcome counters of one round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundCounts {
    /// Processes that exited between being listed and being read.
    pub vanished: u64,
    /// Processes whose files could not be read or parsed for another reason.
    pub unreadable: u64,
}

pub struct ProcScanner {
    root: String,
    dir: Dir,
    clk_tck: f64,
    page_size: u64,
    known: HashMap<u32, Known>,
    users: UserCache,
    buf: Vec<u8>,
    path: String,
    round: u64,
}

impl ProcScanner {
    pub fn new(root: &Path, clk_tck: f64, page_size: u64) -> Result<ProcScanner, SamplerError> {
        let dir = Dir::open(
            root,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SamplerError::read(root.display().to_string(), io::Error::from(e)))?;
        Ok(ProcScanner {
            root: root.display().to_string(),
            dir,
            clk_tck,
            page_size,
            known: HashMap::new(),
            users: UserCache::new(),
            buf: vec![0; 4096],
            path: String::with_capacity(64),
            round: 0,
        })
    }

    /// Reads every process. `uptime` is seconds since boot now; `prev_uptime` at the
    /// previous round (None on the first, when there is no delta yet and CPU% is 0).
    pub fn scan(
        &mut self,
        uptime: f64,
        prev_uptime: Option<f64>,
    ) -> (Vec<ProcSample>, RoundCounts) {
        self.round += 1;
        let mut out = Vec::with_capacity(self.known.len() + 16);
        let mut counts = RoundCounts::default();
        let mut pids: Vec<u32> = Vec::with_capacity(self.known.len() + 16);
        for entry in self.dir.iter().flatten() {
            if let Some(pid) = pid_of(entry.file_name().to_bytes()) {
                pids.push(pid);
            }
        }
        for pid in pids {
            match self.read_one(pid, uptime, prev_uptime) {
                Ok(p) => out.push(p),
                Err(e) if vanished(&e) => counts.vanished += 1,
                Err(e) => {
                    tracing::debug!(pid, error = %e, "process skipped");
                    counts.unreadable += 1;
                }
            }
        }
        let round = self.round;
        self.known.retain(|_, k| k.round == round);
        (out, counts)
    }

    fn read_one(
        &mut self,
        pid: u32,
        uptime: f64,
        prev_uptime: Option<f64>,
    ) -> io::Result<ProcSample> {
        let len = self.read(pid, "stat", true)?;
        let text = String::from_utf8_lossy(&self.buf[..len]);
        let st = parse_pid_stat(&text).map_err(io::Error::other)?;
        let ticks = st.utime + st.stime;
        let start_secs = st.starttime as f64 / self.clk_tck;
        let (ppid, start, rss_pages) = (st.ppid, st.starttime, st.rss_pages);
        let fresh = match self.known.get(&pid) {
            Some(k) if k.start == start => {
                // An exec changes the name: read command line and user again.
                (k.comm != st.comm).then(|| st.comm.to_string())
            }
            _ => Some(st.comm.to_string()),
        };
        drop(text);
        let prev = match self.known.get(&pid) {
            Some(k) if k.start == start => Some(k.ticks),
            _ => None,
        };
        if let Some(comm) = fresh {
            let cmdline = match self.read(pid, "cmdline", false) {
                Ok(n) => parse_cmdline(&self.buf[..n]),
                Err(e) if vanished(&e) => return Err(e),
                Err(_) => String::new(),
            };
            let n = self.read(pid, "status", false)?;
            let user = std::str::from_utf8(&self.buf[..n])
                .ok()
                .and_then(|s| parse_status_uid(s).ok())
                .map(|uid| self.users.name(uid).to_string());
            self.known.insert(
                pid,
                Known {
                    start,
                    ticks,
                    comm,
                    cmdline,
                    user,
                    round: 0,
                },
            );
        }
        let cpu_pct = match (prev, prev_uptime) {
            (Some(before), Some(then)) => self.pct(ticks.saturating_sub(before), uptime - then),
            // Started since the last round: its whole life is inside this interval.
            (None, Some(then)) if start_secs >= then => self.pct(ticks, uptime - start_secs),
            _ => 0.0,
        };
        let k = self.known.get_mut(&pid).expect("inserted above");
        k.ticks = ticks;
        k.round = self.round;
        Ok(ProcSample {
            pid,
            start_ticks: start,
            ppid,
            comm: k.comm.clone(),
            user: k.user.clone(),
            cmdline: k.cmdline.clone(),
            cpu_pct,
            rss_bytes: rss_pages * self.page_size,
        })
    }

    fn pct(&self, ticks: u64, secs: f64) -> f64 {
        // Less than a tick of wall time gives noise, not a measurement.
        if secs * self.clk_tck < 1.0 {
            return 0.0;
        }
        ticks as f64 / self.clk_tck / secs * 100.0
    }

    /// Reads `<root>/<pid>/<file>` into the reused buffer; returns the length.
    fn read(&mut self, pid: u32, file: &str, one_shot: bool) -> io::Result<usize> {
        self.path.clear();
        let _ = write!(self.path, "{}/{pid}/{file}", self.root);
        let mut f = File::open(&self.path)?;
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
            let n = f.read(&mut self.buf[len..])?;
            len += n;
            // proc's seq files hand a whole small record to the first read that has
            // room for it, which saves the second read that would only see the end.
            if n == 0 || (one_shot && len < self.buf.len()) {
                return Ok(len);
            }
        }
    }
}

fn pid_of(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// The process went away while being read: the open fails with ENOENT, or a read of
/// an open file fails with ESRCH.
fn vanished(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}
