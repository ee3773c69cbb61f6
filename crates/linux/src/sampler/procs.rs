//! The per-process part of a sampling round: list /proc, read each `stat`, and turn tick
//! deltas into CPU% (top's convention). Name, command line and user are read once per
//! process (and again after an exec), not every second.
//!
//! Each process's `stat` stays open between rounds and is re-read with pread: opening a
//! /proc file costs more than generating its text, so this more than halves the kernel
//! time of a round. A held file belongs to one process for good: once that process is
//! gone the read fails with ESRCH, even if its pid has been reused.
//!
//! Most processes sleep through most seconds. For a single-threaded process the kernel's
//! `schedstat` (its run time in ns, three numbers, a third of the cost of `stat`) shows
//! whether it ran at all; if not, nothing in `stat` that we use can have changed (an
//! exec, a new thread or more memory all need it to run), so the last values stand.
//! Multi-threaded processes are always read in full: `schedstat` covers one thread.

use super::SamplerError;
use super::parse::{parse_cmdline, parse_pid_stat, parse_schedstat_runtime, parse_status_uid};
use crate::proc_pid::UserNames;
use netsnoop_core::ProcSample;
use nix::dir::Dir;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Pids are already well spread: hashing them again is wasted work in the hot loop.
#[derive(Default)]
struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        // Spread the bits so the map's top-bit bucketing sees them.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PidMap<V> = HashMap<u32, V, BuildHasherDefault<PidHasher>>;

/// What is remembered about a process between rounds.
struct Known {
    start: u64,
    ticks: u64,
    comm: String,
    cmdline: String,
    user: Option<String>,
    round: u64,
    ppid: u32,
    rss_pages: u64,
    threads: u32,
    /// Run time from `schedstat` when `stat` was last read, in ns.
    runtime: Option<u64>,
    /// The process's `stat` and `schedstat`, kept open (within the file budget).
    stat: Option<File>,
    sched: Option<File>,
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
    known: PidMap<Known>,
    users: UserNames,
    buf: Vec<u8>,
    path: String,
    round: u64,
    /// How many `stat` files may stay open; beyond it they are opened each round.
    fd_budget: usize,
    /// A `stat` just opened for a process not yet (or no longer) remembered.
    opened: Option<File>,
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
            known: PidMap::default(),
            users: UserNames::new(),
            buf: vec![0; 4096],
            path: String::with_capacity(64),
            round: 0,
            fd_budget: fd_budget(),
            opened: None,
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
        let runtime = self.held_runtime(pid);
        if let (Some(rt), Some(k)) = (runtime, self.known.get_mut(&pid))
            && k.threads == 1
            && k.runtime == Some(rt)
        {
            k.round = self.round;
            return Ok(ProcSample {
                pid,
                start_ticks: k.start,
                ppid: k.ppid,
                comm: k.comm.clone(),
                user: k.user.clone(),
                cmdline: k.cmdline.clone(),
                cpu_pct: 0.0,
                rss_bytes: k.rss_pages * self.page_size,
            });
        }
        let len = self.read_stat(pid)?;
        let text = String::from_utf8_lossy(&self.buf[..len]);
        let st = parse_pid_stat(&text).map_err(io::Error::other)?;
        let ticks = st.utime + st.stime;
        let start_secs = st.starttime as f64 / self.clk_tck;
        let (ppid, start, rss_pages, threads) =
            (st.ppid, st.starttime, st.rss_pages, st.num_threads);
        let (prev, refresh) = match self.known.get(&pid) {
            // An exec changes the name: read command line and user again.
            Some(k) if k.start == start => (Some(k.ticks), k.comm != st.comm),
            _ => (None, true),
        };
        let comm = refresh.then(|| st.comm.to_string());
        drop(text);
        if let Some(comm) = comm {
            let cmdline = match self.read(pid, "cmdline") {
                Ok(n) => parse_cmdline(&self.buf[..n]),
                Err(e) if vanished(&e) => return Err(e),
                Err(_) => String::new(),
            };
            let n = self.read(pid, "status")?;
            let user = std::str::from_utf8(&self.buf[..n])
                .ok()
                .and_then(|s| parse_status_uid(s).ok())
                .map(|uid| self.users.name(uid).unwrap_or_else(|| uid.to_string()));
            // After an exec the process is the same: keep its open files.
            let (old_stat, old_sched) = match self.known.remove(&pid) {
                Some(k) if k.start == start => (k.stat, k.sched),
                _ => (None, None),
            };
            let held = self.opened.take().or(old_stat);
            self.known.insert(
                pid,
                Known {
                    start,
                    ticks,
                    comm,
                    cmdline,
                    user,
                    round: 0,
                    ppid,
                    rss_pages,
                    threads,
                    runtime: None,
                    stat: held,
                    sched: old_sched,
                },
            );
        }
        let cpu_pct = match (prev, prev_uptime) {
            (Some(before), Some(then)) => self.pct(ticks.saturating_sub(before), uptime - then),
            // Started since the last round: its whole life is inside this interval.
            (None, Some(then)) if start_secs >= then => self.pct(ticks, uptime - start_secs),
            _ => 0.0,
        };
        let opened = self.opened.take();
        // Within the file budget (its stat is held): hold its schedstat too.
        let holds_stat = opened.is_some() || self.known.get(&pid).is_some_and(|k| k.stat.is_some());
        let (runtime, sched) = match runtime {
            Some(rt) => (Some(rt), None),
            None if holds_stat => match self.open_sched(pid) {
                Some((rt, f)) => (Some(rt), Some(f)),
                None => (None, None),
            },
            None => (None, None),
        };
        let k = self.known.get_mut(&pid).expect("inserted above");
        if k.stat.is_none() {
            k.stat = opened;
        }
        if sched.is_some() {
            k.sched = sched;
        }
        k.runtime = runtime;
        k.ticks = ticks;
        k.round = self.round;
        k.ppid = ppid;
        k.rss_pages = rss_pages;
        k.threads = threads;
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

    /// The run time from the process's held `schedstat`, if it has one. A process that
    /// is gone is forgotten here, so its pid is read afresh.
    fn held_runtime(&mut self, pid: u32) -> Option<u64> {
        let f = self.known.get(&pid)?.sched.as_ref()?;
        match pread_all(f, &mut self.buf) {
            Ok(n) => std::str::from_utf8(&self.buf[..n])
                .ok()
                .and_then(|t| parse_schedstat_runtime(t).ok()),
            Err(e) if vanished(&e) => {
                self.known.remove(&pid);
                None
            }
            Err(_) => None,
        }
    }

    /// Opens and reads a new process's `schedstat`, to be held with its `stat`.
    /// (Kernels without SCHED_INFO have no `schedstat`: those processes are always
    /// read in full.)
    fn open_sched(&mut self, pid: u32) -> Option<(u64, File)> {
        let mut f = self.open(pid, "schedstat").ok()?;
        let n = read_all(&mut f, &mut self.buf).ok()?;
        let rt = std::str::from_utf8(&self.buf[..n])
            .ok()
            .and_then(|t| parse_schedstat_runtime(t).ok())?;
        Some((rt, f))
    }

    /// Reads the process's `stat` into the buffer: through its held file if there is
    /// one, else by opening it (and keeping the file in `opened` if the budget allows).
    fn read_stat(&mut self, pid: u32) -> io::Result<usize> {
        self.opened = None;
        if let Some(f) = self.known.get(&pid).and_then(|k| k.stat.as_ref()) {
            match pread_all(f, &mut self.buf) {
                Ok(n) => return Ok(n),
                // That process is gone; the pid may already name a new one.
                Err(e) if vanished(&e) => {
                    self.known.remove(&pid);
                }
                Err(e) => return Err(e),
            }
        }
        let mut f = self.open(pid, "stat")?;
        let n = read_all(&mut f, &mut self.buf)?;
        if self.known.len() < self.fd_budget {
            self.opened = Some(f);
        }
        Ok(n)
    }

    fn pct(&self, ticks: u64, secs: f64) -> f64 {
        // Less than a tick of wall time gives noise, not a measurement.
        if secs * self.clk_tck < 1.0 {
            return 0.0;
        }
        ticks as f64 / self.clk_tck / secs * 100.0
    }

    fn open(&mut self, pid: u32, file: &str) -> io::Result<File> {
        self.path.clear();
        let _ = write!(self.path, "{}/{pid}/{file}", self.root);
        File::open(&self.path)
    }

    /// Reads `<root>/<pid>/<file>` into the reused buffer; returns the length.
    fn read(&mut self, pid: u32, file: &str) -> io::Result<usize> {
        let mut f = self.open(pid, file)?;
        read_all(&mut f, &mut self.buf)
    }
}

/// Reads to the end into `buf` (grown as needed, never shrunk); returns the length.
fn read_all(f: &mut File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        let n = f.read(&mut buf[len..])?;
        if n == 0 {
            return Ok(len);
        }
        len += n;
    }
}

/// Re-reads a held /proc file from the start. proc's seq files hand a whole small record
/// to the first read that has room for it, so one pread usually does.
fn pread_all(f: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        let n = f.read_at(&mut buf[len..], len as u64)?;
        len += n;
        if n == 0 || len < buf.len() {
            return Ok(len);
        }
    }
}

/// How many processes may keep their files open: a quarter of the open-file limit, after raising the soft
/// limit towards the hard one (a monitor of thousands of processes needs more than the
/// traditional 1024, and the hard limit says what the system allows).
fn fd_budget() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 0;
    };
    let want = hard.min(1 << 16);
    let soft = if soft < want && setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok() {
        want
    } else {
        soft
    };
    // Two files per process (stat and schedstat); leave half the limit for the rest.
    (soft / 4) as usize
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
