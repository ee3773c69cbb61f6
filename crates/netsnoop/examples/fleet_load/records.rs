//! Synthetic agent records, built with the netsnoop-core types: exec events with argv and
//! ancestry, resource samples of 20 processes, traffic seconds, finished flows and the
//! occasional alert, timed inside the second the batch covers.

use netsnoop_core::event::{Ancestor, FlowRecord, TrafficSecond};
use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{
    Alert, AlertState, Event, ProcEventKind, ProcSample, ProcessEvent, Protocol, Record,
    ResourceSample, Severity, Subject, SystemSample, Ts,
};
use std::net::{IpAddr, Ipv4Addr};

/// A small xorshift generator: enough to vary the records, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len() as u64) as usize]
    }
}

const COMMANDS: &[(&str, &str, &[&str])] = &[
    (
        "curl",
        "/usr/bin/curl",
        &["-fsS", "--max-time", "5", "https://api.internal/v1/health"],
    ),
    (
        "python3",
        "/usr/bin/python3",
        &["/opt/app/worker.py", "--queue", "jobs", "--once"],
    ),
    ("git", "/usr/bin/git", &["fetch", "--prune", "origin"]),
    (
        "sh",
        "/bin/sh",
        &["-c", "test -f /run/app.pid && kill -0 $(cat /run/app.pid)"],
    ),
    (
        "grep",
        "/bin/grep",
        &["-c", "ERROR", "/var/log/app/app.log"],
    ),
    ("logrotate", "/usr/sbin/logrotate", &["/etc/logrotate.conf"]),
    ("ps", "/bin/ps", &["-eo", "pid,comm,%cpu", "--sort=-%cpu"]),
];
const PARENTS: &[&str] = &["bash", "cron", "sshd", "containerd-shim", "node", "systemd"];
const USERS: &[&str] = &["root", "www-data", "deploy", "postgres"];

/// One agent's generator: its pids grow like a real host's.
pub struct Agent {
    pub rng: Rng,
    pid: u32,
    alerts: u64,
}

impl Agent {
    pub fn new(seed: u64) -> Agent {
        Agent {
            rng: Rng::new(seed),
            pid: 4_000 + (seed as u32 % 1_000) * 17,
            alerts: 0,
        }
    }

    /// The records of one batch covering `(from, to]`: one resource sample and one traffic
    /// second, then execs and flows (2:1) up to `n` records, and an alert once in `alert_every`.
    pub fn batch(&mut self, from: Ts, to: Ts, n: usize, alert_every: u64) -> Vec<Record> {
        let span = (to.0 - from.0).max(1) as u64;
        let at = |rng: &mut Rng| Ts(from.0 + 1 + rng.below(span) as i64);
        let mut out = vec![
            Record::Event(Event::Resources(self.resources(to))),
            Record::Event(Event::Traffic(self.traffic(to.secs() - 1))),
        ];
        while out.len() < n {
            let t = at(&mut self.rng);
            let e = if self.rng.below(3) < 2 {
                Event::Process(self.exec(t))
            } else {
                Event::Flow(self.flow(t))
            };
            out.push(Record::Event(e));
        }
        if self.rng.below(alert_every.max(1)) == 0 {
            out.push(Record::Alert(self.alert(to)));
        }
        out.sort_by_key(Record::time);
        out
    }

    fn exec(&mut self, time: Ts) -> ProcessEvent {
        self.pid += 1 + self.rng.below(3) as u32;
        let (comm, exe, args) = COMMANDS[self.rng.below(COMMANDS.len() as u64) as usize];
        let mut argv = vec![comm.to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let depth = 2 + self.rng.below(3) as u32;
        let mut ancestry: Vec<Ancestor> = (0..depth)
            .map(|i| Ancestor {
                pid: self.pid - 1 - i * 97,
                comm: self.rng.pick(PARENTS).to_string(),
            })
            .collect();
        ancestry.push(Ancestor {
            pid: 1,
            comm: "systemd".into(),
        });
        let user = self.rng.pick(USERS);
        ProcessEvent {
            host: None,
            time,
            kind: ProcEventKind::Exec,
            pid: self.pid,
            ppid: ancestry[0].pid,
            start_ticks: 1_000_000 + u64::from(self.pid) * 3,
            uid: Some(if user == "root" { 0 } else { 1000 }),
            user: Some(user.to_string()),
            comm: comm.to_string(),
            exe: Some(exe.to_string()),
            argv,
            argv_complete: true,
            redacted: 0,
            cwd: Some("/srv/app".into()),
            cgroup: Some("/system.slice/app.service".into()),
            exit_code: None,
            ancestry,
        }
    }

    fn resources(&mut self, time: Ts) -> ResourceSample {
        let processes = (0..20u32)
            .map(|i| ProcSample {
                pid: 300 + i * 41,
                start_ticks: 5_000 + u64::from(i),
                ppid: 1,
                comm: format!("svc{i}"),
                user: Some(self.rng.pick(USERS).to_string()),
                cmdline: format!("/usr/sbin/svc{i} --config /etc/svc{i}.conf"),
                cpu_pct: self.rng.below(400) as f64 / 10.0,
                rss_bytes: (20 + self.rng.below(500)) << 20,
            })
            .collect();
        ResourceSample {
            host: None,
            system: SystemSample {
                time,
                cpu_pct: self.rng.below(1000) as f64 / 10.0,
                per_core_pct: vec![self.rng.below(100) as f64; 4],
                mem_total: 16 << 30,
                mem_used: (4 + self.rng.below(8)) << 30,
                mem_available: 6 << 30,
                swap_total: 2 << 30,
                swap_used: 0,
                load1: 0.8,
                load5: 0.7,
                load15: 0.6,
                psi_cpu: Some(1.5),
                psi_memory: Some(0.0),
                psi_io: Some(0.2),
                forks_total: 1_000_000 + u64::from(self.pid),
                procs_running: 2,
            },
            processes,
        }
    }

    fn traffic(&mut self, second: i64) -> TrafficSecond {
        let ip = |n: u64| IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8));
        let c = |rng: &mut Rng| Counts {
            packets: 1 + rng.below(500),
            bytes: 64 + rng.below(400_000),
        };
        let by_src: Vec<(IpAddr, Counts)> = (0..5).map(|i| (ip(i + 1), c(&mut self.rng))).collect();
        let by_dst: Vec<(IpAddr, Counts)> =
            (0..5).map(|i| (ip(i + 100), c(&mut self.rng))).collect();
        let total = by_src.iter().fold(Counts::default(), |mut t, (_, n)| {
            t.merge(*n);
            t
        });
        TrafficSecond {
            host: None,
            second,
            total,
            by_protocol: vec![(Protocol::Tcp, total)],
            by_src,
            by_dst,
            unique_src: 5,
            unique_dst: 5,
            src_other: Counts::default(),
            dst_other: Counts::default(),
        }
    }

    fn flow(&mut self, end: Ts) -> FlowRecord {
        let r = self.rng.below(200);
        FlowRecord {
            host: None,
            first_seen: Ts(end.0 - 200_000 - r as i64 * 1_000),
            last_seen: end,
            protocol: Protocol::Tcp,
            orig_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + (r % 50) as u8))),
            orig_port: 30_000 + r as u16 * 7,
            resp_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 10))),
            resp_port: if r.is_multiple_of(2) { 443 } else { 5432 },
            orig_packets: 8 + r,
            orig_bytes: 900 + r * 40,
            resp_packets: 7 + r,
            resp_bytes: 4_000 + r * 900,
            state: "SF".into(),
            end_reason: "fin".into(),
            orig_owner: None,
            resp_owner: None,
        }
    }

    fn alert(&mut self, now: Ts) -> Alert {
        self.alerts += 1;
        Alert {
            host: None,
            id: format!("process.burst:{}:{}", self.pid, now.0),
            kind: "process.burst".into(),
            severity: Severity::Medium,
            label: None,
            state: AlertState::Active,
            first_seen: Ts(now.0 - 5_000_000),
            last_seen: now,
            subject: Subject::process(self.pid, "sh"),
            message: format!("sh started 42 processes in 10 s (episode {})", self.alerts),
            details: serde_json::json!({"count": 42, "window_secs": 10, "threshold": 30}),
        }
    }
}
