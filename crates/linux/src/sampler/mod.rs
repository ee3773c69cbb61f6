//! The resource sampler: reads system and per-process figures from /proc once per
//! interval and sends them to the pipeline as `Event::Resources` batches.

pub mod parse;
mod procs;
mod thread;

pub use procs::RoundCounts;
pub use thread::{Counters, SamplerHandle, SamplerStats, run_rounds, spawn};

use netsnoop_core::{ResourceSample, SystemSample, Ts};
use parse::{CpuTimes, parse_loadavg, parse_meminfo, parse_psi_some_avg10, parse_stat};
use procs::ProcScanner;
use std::io;
use std::path::{Path, PathBuf};

/// Why a resource figure is missing. Printed at start and reported by `/health`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Degraded {
    /// No pressure stall information: the psi_* figures are left out of samples.
    NoPressure { detail: String },
}

impl std::fmt::Display for Degraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Degraded::NoPressure { detail } => write!(
                f,
                "no pressure (PSI) figures: {detail}; CPU, memory and load are still sampled"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    #[error("cannot read {path}: {source} (NetSnoop needs a mounted Linux /proc)")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        #[source]
        source: parse::ParseError,
    },
    #[error("cannot ask the system for {what}: {source}")]
    Sysconf {
        what: &'static str,
        #[source]
        source: nix::Error,
    },
}

impl SamplerError {
    fn read(path: String, source: io::Error) -> SamplerError {
        SamplerError::Read { path, source }
    }
}

/// Reads /proc. Keeps the previous round's counters so each sample carries deltas.
pub struct Sampler {
    root: PathBuf,
    procs: ProcScanner,
    prev_total: Option<CpuTimes>,
    prev_cores: Vec<(u32, CpuTimes)>,
    prev_uptime: Option<f64>,
    psi: bool,
    degraded: Vec<Degraded>,
    text: String,
    last_round: RoundCounts,
}

impl Sampler {
    /// A sampler of the real /proc. The first [`Sampler::sample`] already has deltas:
    /// construction takes a priming reading.
    pub fn new() -> Result<Sampler, SamplerError> {
        let mut s = Sampler::with_root("/proc")?;
        s.sample_at(Ts::default(), boot_clock())?;
        Ok(s)
    }

    /// A sampler of a /proc-like tree (recorded fixtures in tests). No priming reading.
    pub fn with_root(root: impl AsRef<Path>) -> Result<Sampler, SamplerError> {
        let root = root.as_ref().to_path_buf();
        // Read once: both are fixed for the life of the system.
        let clk_tck = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .map_err(|source| SamplerError::Sysconf {
                what: "the clock tick rate",
                source,
            })?
            .unwrap_or(100) as f64;
        let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .map_err(|source| SamplerError::Sysconf {
                what: "the page size",
                source,
            })?
            .unwrap_or(4096) as u64;
        let procs = ProcScanner::new(&root, clk_tck, page_size)?;
        let (psi, degraded) = match std::fs::read_to_string(root.join("pressure/cpu")) {
            Ok(_) => (true, Vec::new()),
            Err(e) => {
                let detail = match e.raw_os_error() {
                    Some(libc::EOPNOTSUPP) => {
                        "PSI is disabled on this kernel (boot with psi=1 to enable it)".to_string()
                    }
                    _ if e.kind() == io::ErrorKind::NotFound => format!(
                        "{} is missing (kernel built without CONFIG_PSI)",
                        root.join("pressure").display()
                    ),
                    _ => format!("{}: {e}", root.join("pressure/cpu").display()),
                };
                (false, vec![Degraded::NoPressure { detail }])
            }
        };
        Ok(Sampler {
            root,
            procs,
            prev_total: None,
            prev_cores: Vec::new(),
            prev_uptime: None,
            psi,
            degraded,
            text: String::with_capacity(8192),
            last_round: RoundCounts::default(),
        })
    }

    /// What this sampler cannot report, and why.
    pub fn degraded(&self) -> &[Degraded] {
        &self.degraded
    }

    /// What the last round skipped: processes that vanished mid-read, and unreadable ones.
    pub fn last_round(&self) -> RoundCounts {
        self.last_round
    }

    /// One round, stamped `now`, with CPU figures since the previous round.
    pub fn sample(&mut self, now: Ts) -> Result<ResourceSample, SamplerError> {
        self.sample_at(now, boot_clock())
    }

    /// One round with the seconds since boot given (fixtures bring their own clock).
    pub fn sample_at(&mut self, now: Ts, uptime: f64) -> Result<ResourceSample, SamplerError> {
        let stat = parse_stat(self.read("stat")?).map_err(|e| self.parse_err("stat", e))?;
        let mem = parse_meminfo(self.read("meminfo")?).map_err(|e| self.parse_err("meminfo", e))?;
        let load =
            parse_loadavg(self.read("loadavg")?).map_err(|e| self.parse_err("loadavg", e))?;
        let (psi_cpu, psi_memory, psi_io) = if self.psi {
            (self.psi("cpu"), self.psi("memory"), self.psi("io"))
        } else {
            (None, None, None)
        };
        let cpu_pct = self
            .prev_total
            .map_or(0.0, |p| stat.total.busy_pct_since(&p));
        let per_core_pct = stat
            .cores
            .iter()
            .map(|(n, t)| {
                self.prev_cores
                    .iter()
                    .find(|(m, _)| m == n)
                    .map_or(0.0, |(_, p)| t.busy_pct_since(p))
            })
            .collect();
        let (processes, counts) = self.procs.scan(uptime, self.prev_uptime);
        self.last_round = counts;
        self.prev_total = Some(stat.total);
        self.prev_cores = stat.cores;
        self.prev_uptime = Some(uptime);
        Ok(ResourceSample {
            host: None,
            system: SystemSample {
                time: now,
                cpu_pct,
                per_core_pct,
                mem_total: mem.total,
                mem_used: mem.used(),
                mem_available: mem.available(),
                swap_total: mem.swap_total,
                swap_used: mem.swap_used(),
                load1: load.load1,
                load5: load.load5,
                load15: load.load15,
                psi_cpu,
                psi_memory,
                psi_io,
                forks_total: stat.processes,
                procs_running: stat.procs_running,
            },
            processes,
        })
    }

    fn read(&mut self, file: &str) -> Result<&str, SamplerError> {
        use std::io::Read;
        let path = self.root.join(file);
        self.text.clear();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_string(&mut self.text))
            .map_err(|e| SamplerError::read(path.display().to_string(), e))?;
        Ok(&self.text)
    }

    fn parse_err(&self, file: &str, source: parse::ParseError) -> SamplerError {
        SamplerError::Parse {
            path: self.root.join(file).display().to_string(),
            source,
        }
    }

    /// A pressure figure; None (and logged at debug) if this one file fails.
    fn psi(&mut self, what: &str) -> Option<f64> {
        let file = format!("pressure/{what}");
        let text = self.read(&file).ok()?;
        parse_psi_some_avg10(text).ok()
    }
}

/// Seconds since boot on the clock /proc's start times use (it keeps counting through
/// suspend, unlike the monotonic clock).
pub fn boot_clock() -> f64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME) {
        Ok(t) => t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9,
        Err(_) => 0.0,
    }
}
