//! Pure parsers for the /proc files the resource sampler reads. No I/O: each takes the
//! file's text and returns what it means, so they are tested on literal /proc text.

/// A /proc file that did not look the way the kernel writes it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unexpected {file} format: {problem}")]
pub struct ParseError {
    pub file: &'static str,
    pub problem: String,
}

fn err(file: &'static str, problem: impl Into<String>) -> ParseError {
    ParseError {
        file,
        problem: problem.into(),
    }
}

/// Cumulative CPU time of one `cpu` line of /proc/stat, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTimes {
    /// Everything counted. Guest time is left out: the kernel already counts it in user
    /// and nice.
    pub fn total(&self) -> u64 {
        self.busy() + self.idle + self.iowait
    }

    /// Time not idle. I/O wait counts as idle, as top and the original tool treat it.
    pub fn busy(&self) -> u64 {
        self.user + self.nice + self.system + self.irq + self.softirq + self.steal
    }

    /// Busy share between two readings, 0–100. Zero when no time passed (or the counters
    /// went backwards, as after a CPU came back online).
    pub fn busy_pct_since(&self, earlier: &CpuTimes) -> f64 {
        let total = self.total().saturating_sub(earlier.total());
        if total == 0 {
            return 0.0;
        }
        let busy = self.busy().saturating_sub(earlier.busy()).min(total);
        busy as f64 * 100.0 / total as f64
    }
}

/// What the sampler uses from /proc/stat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcStat {
    pub total: CpuTimes,
    /// (cpu number, times), in file order. Offline CPUs have no line.
    pub cores: Vec<(u32, CpuTimes)>,
    /// Forks since boot.
    pub processes: u64,
    pub procs_running: u32,
}

fn cpu_times(rest: &str) -> Result<CpuTimes, ParseError> {
    let mut f = rest.split_ascii_whitespace().map(|v| v.parse::<u64>());
    let mut next = |name: &str| match f.next() {
        Some(Ok(v)) => Ok(v),
        // Fields added by later kernels are optional for old ones.
        None => Ok(0),
        Some(Err(_)) => Err(err("/proc/stat", format!("bad {name} value in {rest:?}"))),
    };
    Ok(CpuTimes {
        user: next("user")?,
        nice: next("nice")?,
        system: next("system")?,
        idle: next("idle")?,
        iowait: next("iowait")?,
        irq: next("irq")?,
        softirq: next("softirq")?,
        steal: next("steal")?,
    })
}

pub fn parse_stat(text: &str) -> Result<ProcStat, ParseError> {
    let mut out = ProcStat::default();
    let mut saw_total = false;
    for line in text.lines() {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        if key == "cpu" {
            out.total = cpu_times(rest)?;
            saw_total = true;
        } else if let Some(n) = key.strip_prefix("cpu") {
            let n = n
                .parse()
                .map_err(|_| err("/proc/stat", format!("bad cpu line {key:?}")))?;
            out.cores.push((n, cpu_times(rest)?));
        } else if key == "processes" {
            out.processes = rest.trim().parse().unwrap_or(0);
        } else if key == "procs_running" {
            out.procs_running = rest.trim().parse().unwrap_or(0);
        }
    }
    if !saw_total {
        return Err(err("/proc/stat", "no aggregate \"cpu\" line"));
    }
    Ok(out)
}

/// /proc/meminfo, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub total: u64,
    pub free: u64,
    /// MemAvailable (kernels since 3.14); None before.
    pub available: Option<u64>,
    pub buffers: u64,
    pub cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

impl MemInfo {
    /// The kernel's estimate of what can be had without swapping; an approximation on
    /// kernels that lack it.
    pub fn available(&self) -> u64 {
        self.available
            .unwrap_or(self.free + self.buffers + self.cached)
            .min(self.total)
    }

    pub fn used(&self) -> u64 {
        self.total - self.available()
    }

    pub fn swap_used(&self) -> u64 {
        self.swap_total.saturating_sub(self.swap_free)
    }
}

pub fn parse_meminfo(text: &str) -> Result<MemInfo, ParseError> {
    let mut m = MemInfo::default();
    let mut saw_total = false;
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "MemTotal" => &mut m.total,
            "MemFree" => &mut m.free,
            "Buffers" => &mut m.buffers,
            "Cached" => &mut m.cached,
            "SwapTotal" => &mut m.swap_total,
            "SwapFree" => &mut m.swap_free,
            "MemAvailable" => m.available.insert(0),
            _ => continue,
        };
        let mut parts = rest.split_ascii_whitespace();
        let value: u64 = parts
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| err("/proc/meminfo", format!("bad value in {line:?}")))?;
        let scale = match parts.next() {
            Some("kB") => 1024,
            _ => 1,
        };
        *slot = value * scale;
        saw_total |= key == "MemTotal";
    }
    if !saw_total {
        return Err(err("/proc/meminfo", "no MemTotal line"));
    }
    Ok(m)
}

/// /proc/loadavg.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadAvg {
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    pub running: u32,
    pub tasks: u32,
}

pub fn parse_loadavg(text: &str) -> Result<LoadAvg, ParseError> {
    let bad = || err("/proc/loadavg", format!("{:?}", text.trim()));
    let mut f = text.split_ascii_whitespace();
    let mut load = || f.next().and_then(|v| v.parse::<f64>().ok()).ok_or_else(bad);
    let (load1, load5, load15) = (load()?, load()?, load()?);
    let (running, tasks) = f
        .next()
        .and_then(|v| v.split_once('/'))
        .and_then(|(r, t)| Some((r.parse().ok()?, t.parse().ok()?)))
        .ok_or_else(bad)?;
    Ok(LoadAvg {
        load1,
        load5,
        load15,
        running,
        tasks,
    })
}

/// The `some avg10` figure of a /proc/pressure file: the share of the last 10 s in which
/// at least one task was stalled on the resource.
pub fn parse_psi_some_avg10(text: &str) -> Result<f64, ParseError> {
    text.lines()
        .find_map(|l| l.strip_prefix("some "))
        .and_then(|rest| {
            rest.split_ascii_whitespace()
                .find_map(|kv| kv.strip_prefix("avg10="))
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err("/proc/pressure", format!("no some avg10 in {text:?}")))
}

/// The fields the sampler uses from /proc/<pid>/stat. `comm` borrows from the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidStat<'a> {
    pub pid: u32,
    pub comm: &'a str,
    pub state: char,
    pub ppid: u32,
    /// User and system time, in clock ticks.
    pub utime: u64,
    pub stime: u64,
    pub num_threads: u32,
    /// Start time after boot, in clock ticks.
    pub starttime: u64,
    pub vsize: u64,
    /// Resident set, in pages (the same figure as the second field of statm).
    pub rss_pages: u64,
}

/// Parses /proc/<pid>/stat. The name sits in parentheses and may itself hold spaces and
/// parentheses, so it runs to the *last* `)` of the line.
pub fn parse_pid_stat(text: &str) -> Result<PidStat<'_>, ParseError> {
    const FILE: &str = "/proc/<pid>/stat";
    let open = text
        .find(" (")
        .ok_or_else(|| err(FILE, "no \" (\" before the name"))?;
    let close = text
        .rfind(')')
        .filter(|c| *c > open)
        .ok_or_else(|| err(FILE, "no \")\" after the name"))?;
    let pid = text[..open]
        .parse()
        .map_err(|_| err(FILE, format!("bad pid {:?}", &text[..open])))?;
    let comm = &text[open + 2..close];
    // Fields after the name, numbered from 3 (state) as in proc(5).
    let mut fields = text[close + 1..].split_ascii_whitespace();
    let mut at = 3;
    let mut field = |n: usize| -> Result<&str, ParseError> {
        let v = fields
            .nth(n - at)
            .ok_or_else(|| err(FILE, format!("missing field {n}")))?;
        at = n + 1;
        Ok(v)
    };
    let num = |v: &str, n: usize| -> Result<u64, ParseError> {
        v.parse()
            .map_err(|_| err(FILE, format!("bad field {n}: {v:?}")))
    };
    let state = field(3)?.chars().next().unwrap_or('?');
    let ppid = num(field(4)?, 4)? as u32;
    let utime = num(field(14)?, 14)?;
    let stime = num(field(15)?, 15)?;
    let num_threads = num(field(20)?, 20)? as u32;
    let starttime = num(field(22)?, 22)?;
    let vsize = num(field(23)?, 23)?;
    let rss = field(24)?;
    // rss is signed in the kernel's format; a negative value can only be transient.
    let rss_pages = rss
        .parse::<i64>()
        .map(|v| v.max(0) as u64)
        .map_err(|_| err(FILE, format!("bad field 24: {rss:?}")))?;
    Ok(PidStat {
        pid,
        comm,
        state,
        ppid,
        utime,
        stime,
        num_threads,
        starttime,
        vsize,
        rss_pages,
    })
}

/// (size, resident) in pages from /proc/<pid>/statm.
pub fn parse_statm(text: &str) -> Result<(u64, u64), ParseError> {
    let mut f = text.split_ascii_whitespace().map(|v| v.parse::<u64>().ok());
    match (f.next().flatten(), f.next().flatten()) {
        (Some(size), Some(resident)) => Ok((size, resident)),
        _ => Err(err("/proc/<pid>/statm", format!("{:?}", text.trim()))),
    }
}

/// Time spent running, in ns: the first of the three figures in /proc/<pid>/schedstat.
pub fn parse_schedstat_runtime(text: &str) -> Result<u64, ParseError> {
    text.split_ascii_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err("/proc/<pid>/schedstat", format!("{:?}", text.trim())))
}

/// The real uid from the `Uid:` line of /proc/<pid>/status.
pub fn parse_status_uid(text: &str) -> Result<u32, ParseError> {
    text.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_ascii_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err("/proc/<pid>/status", "no Uid line"))
}

/// /proc/<pid>/cmdline (NUL-separated arguments) as one line joined by spaces, as ps
/// shows it. Invalid UTF-8 is replaced, never dropped.
pub fn parse_cmdline(raw: &[u8]) -> String {
    let trimmed = raw.strip_suffix(b"\0").unwrap_or(raw);
    let text = String::from_utf8_lossy(trimmed);
    text.replace('\0', " ")
}

#[cfg(test)]
mod tests;
