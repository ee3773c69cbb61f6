//! The enricher: turns raw connector events into full [`ProcessEvent`]s (argv, exe, user,
//! cwd, cgroup, ancestry from its own process table) and reconciles with /proc scans.

use super::clock::Clock;
use super::handoff::{Closed, Drain};
use super::message::{RawEvent, RawMsg};
use super::reader::RawItem;
use super::stats::ExecStats;
use crate::proc_pid::{Perishable, ProcFs, ProcInfo, UserNames};
use crossbeam_channel::Sender;
use netsnoop_core::process::config::TableConfig;
use netsnoop_core::process::table::{Applied, ProcessTable};
use netsnoop_core::{Event, Loss, ProcEventKind, ProcessEvent, Ts};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Most events sent to the pipeline in one batch.
const BATCH: usize = 512;
/// Events wait at most this long to be sent on, so a storm costs the pipeline one wake-up
/// per interval rather than one per socket drain.
const FLUSH_EVERY: Duration = Duration::from_millis(10);
/// Resyncs after loss are at most this frequent: a full /proc scan is costly in a storm.
const RESYNC_EVERY: Duration = Duration::from_secs(1);

/// Where the enricher's raw events come from.
pub trait RawFeed {
    /// Waits up to `wait` for raw events and appends them to `into`, oldest first; `Closed`
    /// once no more will come.
    fn next(&mut self, wait: Duration, into: &mut Vec<RawItem>) -> Result<(), Closed>;
}

impl RawFeed for Drain<RawItem> {
    fn next(&mut self, wait: Duration, into: &mut Vec<RawItem>) -> Result<(), Closed> {
        self.take(wait, into)
    }
}

pub struct Enricher {
    pub(crate) fs: ProcFs,
    users: UserNames,
    pub(crate) table: ProcessTable,
    pub(crate) clock: Clock,
    out: Sender<Vec<Event>>,
    pub(crate) stats: Arc<ExecStats>,
    batch: Vec<Event>,
    resync_due: bool,
    last_resync: Option<Instant>,
    source: &'static str,
    /// argv and stat read ahead for the execs of the current backlog.
    prefetched: HashMap<u32, Perishable>,
}

impl Enricher {
    pub fn new(
        fs: ProcFs,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
        stats: Arc<ExecStats>,
        source: &'static str,
    ) -> Enricher {
        Enricher {
            fs,
            users: UserNames::new(),
            table: ProcessTable::from_config(table),
            clock: Clock::new(),
            out,
            stats,
            batch: Vec::new(),
            resync_due: false,
            last_resync: None,
            source,
            prefetched: HashMap::new(),
        }
    }

    /// The connector loop: until stopped or the pipeline hangs up. `seeded` is told when
    /// the processes already running have been sent.
    pub fn run(mut self, mut rx: impl RawFeed, stop: Arc<AtomicBool>, seeded: Sender<()>) {
        self.scan(ProcEventKind::Existing);
        let sent = self.flush();
        let _ = seeded.send(());
        if !sent {
            return;
        }
        let mut pending_since = Instant::now();
        let mut items = Vec::new();
        while !stop.load(Relaxed) {
            let wait = if self.batch.is_empty() {
                Duration::from_millis(200)
            } else {
                FLUSH_EVERY.saturating_sub(pending_since.elapsed())
            };
            match rx.next(wait, &mut items) {
                Ok(()) if !items.is_empty() => {
                    // With a backlog, every exec's argv is read before any slower read,
                    // so the last of them still finds its process alive.
                    for item in &items {
                        if let RawItem::Msg(RawMsg {
                            event: RawEvent::Exec { pid },
                            ..
                        }) = item
                        {
                            let first = self.fs.read_perishable(*pid);
                            self.prefetched.insert(*pid, first);
                        }
                    }
                    for item in items.drain(..) {
                        self.on_item(item);
                    }
                    self.prefetched.clear();
                }
                Ok(()) => {}
                Err(Closed) => break,
            }
            if self.resync_due && self.last_resync.is_none_or(|t| t.elapsed() >= RESYNC_EVERY) {
                self.resync_due = false;
                self.last_resync = Some(Instant::now());
                self.stats.resyncs.fetch_add(1, Relaxed);
                self.scan(ProcEventKind::Existing);
                self.refresh_uids();
            }
            let due = self.batch.len() >= BATCH || pending_since.elapsed() >= FLUSH_EVERY;
            if due && !self.flush() {
                return;
            }
            if due || self.batch.is_empty() {
                pending_since = Instant::now();
            }
        }
        self.flush();
    }

    fn on_item(&mut self, item: RawItem) {
        match item {
            RawItem::Msg(m) => self.on_msg(m),
            RawItem::Lost { count, reason } => {
                self.resync_due = true;
                if count > 0 {
                    self.loss(count, reason);
                }
            }
        }
    }

    pub(crate) fn loss(&mut self, count: u64, reason: &str) {
        self.batch.push(Event::Loss(Loss {
            host: None,
            time: self.clock.now(),
            source: self.source.to_string(),
            count,
            reason: reason.to_string(),
        }));
    }

    fn on_msg(&mut self, m: RawMsg) {
        let time = self.clock.at(m.ts_ns);
        match m.event {
            RawEvent::Fork { ppid, pid } => {
                self.stats.forks.fetch_add(1, Relaxed);
                let parent = self.table.current(ppid);
                let ev = ProcessEvent {
                    time,
                    kind: ProcEventKind::Fork,
                    pid,
                    ppid,
                    comm: parent.map(|p| p.comm.clone()).unwrap_or_default(),
                    uid: parent.and_then(|p| p.uid),
                    user: parent.and_then(|p| p.user.clone()),
                    ..ProcessEvent::default()
                };
                self.table.apply(&ev);
                self.batch.push(Event::Process(ev));
            }
            RawEvent::Exec { pid } => {
                self.stats.execs.fetch_add(1, Relaxed);
                let known = self.table.current(pid).filter(|p| !p.exited);
                // The real uid is inherited at fork and changed only by the set*uid calls
                // the connector reports, so the table knows it unless events were lost
                // (then the resync re-reads it).
                let uid_known = !self.resync_due && known.is_some_and(|p| p.uid.is_some());
                let first = match self.prefetched.remove(&pid) {
                    Some(first) => first,
                    None => self.fs.read_perishable(pid),
                };
                let info = self.fs.read_rest(first, !uid_known);
                // An exec that finished just as we started was already reported by the
                // seed scan with this very image: not news.
                let seen =
                    known.is_some_and(|p| p.seeded && p.exe == info.exe && p.argv == info.argv);
                if seen {
                    return;
                }
                let ev = self.exec_event(time, pid, info, ProcEventKind::Exec);
                self.push_with_ancestry(ev);
            }
            RawEvent::Exit { pid, code } => {
                self.stats.exits.fetch_add(1, Relaxed);
                let known = self.table.current(pid).filter(|p| !p.exited);
                let ev = ProcessEvent {
                    time,
                    kind: ProcEventKind::Exit,
                    pid,
                    ppid: known.map_or(0, |p| p.ppid),
                    start_ticks: known.map_or(0, |p| p.start_ticks),
                    comm: known.map(|p| p.comm.clone()).unwrap_or_default(),
                    exit_code: Some(code),
                    ..ProcessEvent::default()
                };
                self.table.apply(&ev);
                self.batch.push(Event::Process(ev));
            }
            RawEvent::Comm { pid, comm } => {
                // At exec the kernel renames first, then reports the exec; only a rename
                // of a process already running its program is news.
                let rename = self
                    .table
                    .current(pid)
                    .is_some_and(|p| p.execed && !p.exited);
                let ev = ProcessEvent {
                    time,
                    kind: ProcEventKind::Comm,
                    pid,
                    comm,
                    ..ProcessEvent::default()
                };
                self.table.apply(&ev);
                if rename {
                    self.batch.push(Event::Process(ev));
                }
            }
            RawEvent::Uid { pid, ruid, .. } => {
                let ev = ProcessEvent {
                    time,
                    kind: ProcEventKind::Uid,
                    pid,
                    ppid: self.table.current(pid).map_or(0, |p| p.ppid),
                    uid: Some(ruid),
                    user: self.users.name(ruid),
                    ..ProcessEvent::default()
                };
                self.table.apply(&ev);
                self.batch.push(Event::Process(ev));
            }
            RawEvent::Ack { .. } | RawEvent::Ignored => {}
            RawEvent::Captured(c) => self.on_captured(*c.0),
        }
    }

    /// An eBPF event already carries argv, exe, user and parent from exec time; only the
    /// ancestry (from the table) is added.
    fn on_captured(&mut self, ev: ProcessEvent) {
        let counter = match ev.kind {
            ProcEventKind::Fork => &self.stats.forks,
            ProcEventKind::Exec => &self.stats.execs,
            _ => &self.stats.exits,
        };
        counter.fetch_add(1, Relaxed);
        if ev.kind == ProcEventKind::Exec {
            if !ev.argv_complete {
                self.stats.argv_incomplete.fetch_add(1, Relaxed);
            }
            self.push_with_ancestry(ev);
        } else {
            self.table.apply(&ev);
            self.batch.push(Event::Process(ev));
        }
    }

    /// Builds an exec (or scan) event from what /proc gave, filling gaps from the table:
    /// a process that is already gone keeps its comm (from the comm event) and parent.
    pub(crate) fn exec_event(
        &mut self,
        time: Ts,
        pid: u32,
        info: ProcInfo,
        kind: ProcEventKind,
    ) -> ProcessEvent {
        let known = self.table.current(pid).filter(|p| !p.exited);
        // The fork event's parent is the true one; /proc says 1 once the parent is gone.
        let ppid = known
            .filter(|p| !p.seeded && p.ppid != 0)
            .map(|p| p.ppid)
            .or(info.stat.as_ref().map(|s| s.ppid))
            .unwrap_or(0);
        // A forked copy's comm is its parent's, not the new program's: unknown is honest.
        let comm = info
            .stat
            .as_ref()
            .map(|s| s.comm.clone())
            .or_else(|| known.filter(|p| p.execed).map(|p| p.comm.clone()))
            .unwrap_or_default();
        let uid = info.uid.or(known.and_then(|p| p.uid));
        if !info.argv_complete && kind == ProcEventKind::Exec {
            self.stats.argv_incomplete.fetch_add(1, Relaxed);
        }
        ProcessEvent {
            host: None,
            time,
            kind,
            pid,
            ppid,
            start_ticks: info.stat.as_ref().map_or(0, |s| s.start_ticks),
            uid,
            user: uid.and_then(|u| self.users.name(u)),
            comm,
            exe: info.exe,
            argv: info.argv,
            argv_complete: info.argv_complete,
            redacted: 0,
            cwd: info.cwd,
            cgroup: info.cgroup,
            exit_code: None,
            ancestry: Vec::new(),
        }
    }

    pub(crate) fn push_with_ancestry(&mut self, mut ev: ProcessEvent) {
        if let Applied::New(id) | Applied::Updated(id) = self.table.apply(&ev) {
            ev.ancestry = self.table.ancestry(id);
        }
        self.batch.push(Event::Process(ev));
    }

    /// Reconciles the table with /proc: processes it does not know become `new_kind`
    /// events (Existing for the seed and resyncs, Exec when polling); processes gone from
    /// /proc become exits. Returns how many new processes were found.
    pub(crate) fn scan(&mut self, new_kind: ProcEventKind) -> u64 {
        let now = self.clock.now();
        let Ok(pids) = self.fs.pids() else {
            return 0;
        };
        let mut found = 0;
        for &pid in &pids {
            let Some(stat) = self.fs.stat(pid) else {
                continue;
            };
            // A fork whose exec event was lost still carries its parent's comm: a different
            // comm in /proc means the exec happened and must be reported.
            let same = self.table.current(pid).is_some_and(|p| {
                !p.exited
                    && (p.start_ticks == stat.start_ticks
                        || (p.start_ticks == 0 && (p.execed || p.comm == stat.comm)))
            });
            if same {
                continue;
            }
            let info = self.fs.read_exec(pid);
            let ev = self.exec_event(now, pid, info, new_kind);
            found += 1;
            if new_kind == ProcEventKind::Exec {
                self.push_with_ancestry(ev);
            } else {
                self.table.apply(&ev);
                self.batch.push(Event::Process(ev));
            }
            if self.batch.len() >= BATCH && !self.flush() {
                return found;
            }
        }
        for pid in self.table.live_pids() {
            // Re-check: a process born after the directory listing is not an exit.
            if pids.binary_search(&pid).is_ok() || self.fs.stat(pid).is_some() {
                continue;
            }
            let known = self.table.current(pid);
            let ev = ProcessEvent {
                time: now,
                kind: ProcEventKind::Exit,
                pid,
                ppid: known.map_or(0, |p| p.ppid),
                start_ticks: known.map_or(0, |p| p.start_ticks),
                comm: known.map(|p| p.comm.clone()).unwrap_or_default(),
                ..ProcessEvent::default()
            };
            self.table.apply(&ev);
            self.batch.push(Event::Process(ev));
        }
        found
    }

    /// After a loss: a set*uid call's event may have been among the lost, so every known
    /// process's real uid is read again and a change is reported as a uid event.
    fn refresh_uids(&mut self) {
        let now = self.clock.now();
        for pid in self.table.live_pids() {
            let Some(uid) = self.fs.uid(pid) else {
                continue;
            };
            let Some(known) = self.table.current(pid) else {
                continue;
            };
            if known.uid == Some(uid) {
                continue;
            }
            let ev = ProcessEvent {
                time: now,
                kind: ProcEventKind::Uid,
                pid,
                ppid: known.ppid,
                uid: Some(uid),
                user: self.users.name(uid),
                ..ProcessEvent::default()
            };
            self.table.apply(&ev);
            self.batch.push(Event::Process(ev));
        }
    }

    /// Sends the pending batch; false when the pipeline is gone.
    pub(crate) fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.batch);
        self.out.send(batch).is_ok()
    }
}

/// Every process running now, as `Existing` events: the seed for sources that do not scan
/// /proc themselves (eBPF).
pub fn running_processes(table: &TableConfig) -> Vec<Event> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut enr = Enricher::new(ProcFs::default(), table, tx, Arc::default(), "proc_seed");
    enr.scan(ProcEventKind::Existing);
    enr.flush();
    drop(enr);
    rx.iter().flatten().collect()
}
