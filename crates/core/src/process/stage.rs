//! The process monitor stage: keeps its own process table from the event stream and raises
//! `process.burst` (with the instigator), `process.spawn_rate` and `process.events_lost`.

use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::event::{Event, Loss, ProcEventKind, ProcessEvent, Record};
use crate::process::burst::{BurstNews, BurstWindows};
use crate::process::config::ProcessConfig;
use crate::process::instigator::{Tracer, command_line};
use crate::process::rate::SpawnRate;
use crate::process::table::{Applied, Proc, ProcId, ProcessTable};
use crate::time::{Span, Ts};
use crate::{Severity, Stage};
use serde_json::json;
use std::collections::HashMap;

/// Everything the stage counted, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessCounters {
    /// Processes seen being created (forks, or execs of unseen pids when polling).
    pub new_processes: u64,
    /// Processes learnt from /proc scans (already running); never counted as new.
    pub seeded: u64,
    pub bursts_opened: u64,
    /// New children of safe parents, not counted towards bursts.
    pub safe_parent_children: u64,
    /// Events reported lost by the process sources.
    pub events_lost: u64,
}

struct LossEpisode {
    total: u64,
    last: Ts,
    last_emit: Option<Ts>,
    reason: String,
}

pub struct ProcessMonitor {
    cfg: ProcessConfig,
    table: ProcessTable,
    bursts: BurstWindows,
    tracer: Tracer,
    burst_eps: Episodes,
    burst_keys: HashMap<ProcId, String>,
    rate: SpawnRate,
    other_eps: Episodes,
    losses: HashMap<String, LossEpisode>,
    counters: ProcessCounters,
}

impl ProcessMonitor {
    pub fn new(cfg: ProcessConfig) -> ProcessMonitor {
        ProcessMonitor {
            table: ProcessTable::from_config(&cfg.table),
            bursts: BurstWindows::new(&cfg.burst),
            tracer: Tracer::new(cfg.instigator.clone()),
            burst_eps: Episodes::new(),
            burst_keys: HashMap::new(),
            rate: SpawnRate::new(&cfg.spawn_rate),
            other_eps: Episodes::new(),
            losses: HashMap::new(),
            counters: ProcessCounters::default(),
            cfg,
        }
    }

    /// NetSnoop's own pid: never named as an instigator.
    pub fn with_self_pid(mut self, pid: u32) -> ProcessMonitor {
        self.tracer = Tracer::new(self.cfg.instigator.clone()).with_self_pid(pid);
        self
    }

    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    pub fn counters(&self) -> ProcessCounters {
        self.counters
    }

    fn on_process(&mut self, ev: &ProcessEvent, now: Ts) -> Vec<Record> {
        let id = match self.table.apply(ev) {
            Applied::New(id) => id,
            Applied::Seeded(_) => {
                self.counters.seeded += 1;
                return Vec::new();
            }
            _ => return Vec::new(),
        };
        self.counters.new_processes += 1;
        let mut out = self
            .rate
            .add(now, 1)
            .map(Record::Alert)
            .into_iter()
            .collect();
        if self
            .table
            .get(id)
            .and_then(|p| self.table.parent_of(p))
            .is_none()
            && ev.ppid > 0
        {
            // A parent we never saw (its source sent no seed): track it by pid so its
            // children can still make a burst.
            self.table.apply(&ProcessEvent {
                kind: ProcEventKind::Existing,
                pid: ev.ppid,
                time: now,
                ..ProcessEvent::default()
            });
        }
        let Some(parent) = self.table.get(id).and_then(|p| self.table.parent_of(p)) else {
            return out;
        };
        if self.is_safe(parent) {
            self.counters.safe_parent_children += 1;
            return out;
        }
        let parent_id = parent.id;
        if let Some(news) = self.bursts.child(parent_id, now) {
            out.extend(self.burst_alert(news, now).map(Record::Alert));
        }
        out
    }

    fn is_safe(&self, p: &Proc) -> bool {
        let safe = &self.cfg.burst.safe_parents;
        let exe_name = p.exe.as_deref().map(|e| e.rsplit('/').next().unwrap_or(e));
        safe.iter()
            .any(|s| *s == p.comm || Some(s.as_str()) == exe_name)
    }

    fn burst_alert(&mut self, news: BurstNews, now: Ts) -> Option<crate::Alert> {
        let parent = self.table.get(news.parent)?;
        let key = self
            .burst_keys
            .entry(news.parent)
            .or_insert_with(|| format!("{}@{}", parent.pid, parent.start_ticks))
            .clone();
        if news.opened {
            self.counters.bursts_opened += 1;
        }
        let inst = self.tracer.trace(&self.table, news.parent)?;
        let message = format!(
            "PID {} ({}) → {} spawns in {}s — instigator: {}",
            parent.pid,
            parent.comm,
            news.in_window,
            self.cfg.burst.window_secs,
            inst.display()
        );
        let subject = Subject {
            pid: Some(parent.pid),
            process_name: Some(parent.comm.clone()),
            user: parent.user.clone(),
            command: Some(command_line(parent)),
            ..Subject::default()
        };
        let details = json!({
            "parent": {"pid": parent.pid, "comm": parent.comm},
            "in_window": news.in_window,
            "peak": news.peak,
            "total": news.total,
            "window_secs": self.cfg.burst.window_secs,
            "threshold": self.cfg.burst.threshold,
            "instigator": inst,
            "chain": inst.display(),
        });
        let raise = Raise {
            kind: "process.burst",
            severity: news.severity,
            label: None,
            subject,
            message,
            details,
        };
        Some(self.burst_eps.raise(&key, now, raise))
    }

    fn on_loss(&mut self, loss: &Loss, now: Ts) -> Vec<Record> {
        if !loss.source.starts_with("proc") {
            return Vec::new();
        }
        self.counters.events_lost += loss.count;
        let mut out = Vec::new();
        if loss.source == "proc_poll" {
            // Forks the poller never saw still happened: they count towards the rate.
            out.extend(self.rate.add(now, loss.count).map(Record::Alert));
        }
        let ep = self
            .losses
            .entry(loss.source.clone())
            .or_insert(LossEpisode {
                total: 0,
                last: now,
                last_emit: None,
                reason: String::new(),
            });
        ep.total += loss.count;
        ep.last = now;
        ep.reason = loss.reason.clone();
        if ep.last_emit.is_none_or(|t| now - t >= Span::secs(5)) {
            ep.last_emit = Some(now);
            let (total, reason) = (ep.total, ep.reason.clone());
            out.push(Record::Alert(self.raise_loss(
                &loss.source,
                total,
                &reason,
                now,
            )));
        }
        out
    }

    fn raise_loss(&mut self, source: &str, total: u64, reason: &str, now: Ts) -> crate::Alert {
        let severity = if source == "proc_connector" {
            Severity::High
        } else {
            Severity::Medium
        };
        let raise = Raise {
            kind: "process.events_lost",
            severity,
            label: None,
            subject: Subject {
                process_name: Some(source.to_string()),
                ..Subject::default()
            },
            message: format!("{total} process events lost ({source}: {reason})"),
            details: json!({"source": source, "count": total, "reason": reason}),
        };
        self.other_eps.raise(&format!("loss/{source}"), now, raise)
    }
}

impl Stage for ProcessMonitor {
    fn name(&self) -> &'static str {
        "process"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        match event {
            Event::Process(ev) => self.on_process(ev, now),
            Event::Loss(loss) => self.on_loss(loss, now),
            _ => Vec::new(),
        }
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        for parent in self.bursts.expire(now) {
            if let Some(key) = self.burst_keys.remove(&parent) {
                out.extend(self.burst_eps.resolve(&key, now).map(Record::Alert));
            }
        }
        out.extend(self.rate.tick(now).map(Record::Alert));
        let quiet = Span::secs_f64(self.cfg.loss.quiet_secs);
        let mut done: Vec<String> = self
            .losses
            .iter()
            .filter(|(_, ep)| now - ep.last >= quiet)
            .map(|(k, _)| k.clone())
            .collect();
        // HashMap order differs from run to run; records go out in source order.
        done.sort_unstable();
        for source in done {
            let ep = self.losses.remove(&source).expect("listed above");
            self.raise_loss(&source, ep.total, &ep.reason, now);
            out.extend(
                self.other_eps
                    .resolve(&format!("loss/{source}"), now)
                    .map(Record::Alert),
            );
        }
        out
    }
}
