//! The process table: every known process keyed by (pid, start time), its parent link and
//! what was learnt about it, bounded, with ancestry walks that survive parents exiting.

use crate::process::event::{Ancestor, ProcEventKind, ProcessEvent};
use std::collections::{HashMap, VecDeque};

/// Identifies one process for the table's lifetime, even after its pid is reused.
pub type ProcId = u64;

/// What the table knows about one process.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Proc {
    pub id: ProcId,
    pub pid: u32,
    /// 0 until learnt (a fork event does not carry it; the exec read of /proc does).
    pub start_ticks: u64,
    pub ppid: u32,
    /// The parent as it was when this process was created; kept after the parent exits.
    pub parent: Option<ProcId>,
    pub comm: String,
    pub exe: Option<String>,
    pub argv: Vec<String>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub exited: bool,
    /// Came from a /proc scan (already running), not from a fork or exec we saw.
    pub seeded: bool,
    /// Has run its own program since the fork (an exec or a scan was seen), so a later
    /// comm change is a rename, not the exec's own.
    pub execed: bool,
}

/// What applying one event did to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A process not known before (fork, or exec of an unseen pid). Counts towards bursts.
    New(ProcId),
    /// A known process changed (exec, comm, uid) or was confirmed by a scan.
    Updated(ProcId),
    /// A process already running when scanned; never counts as new.
    Seeded(ProcId),
    Exited(ProcId),
    /// The event named a pid the table does not know (e.g. the exit of a thread).
    Unknown,
}

/// Counters for everything the table dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub len: usize,
    /// Live processes evicted because the table was full.
    pub evicted_live: u64,
    /// Exited processes retired to make room (normal, not a loss).
    pub retired_exited: u64,
}

#[derive(Debug)]
pub struct ProcessTable {
    procs: HashMap<ProcId, Proc>,
    current: HashMap<u32, ProcId>,
    order: VecDeque<ProcId>,
    exited: VecDeque<ProcId>,
    next_id: ProcId,
    max_entries: usize,
    max_depth: usize,
    stats: TableStats,
}

impl ProcessTable {
    pub fn new(max_entries: usize, max_depth: usize) -> ProcessTable {
        ProcessTable {
            procs: HashMap::new(),
            current: HashMap::new(),
            order: VecDeque::new(),
            exited: VecDeque::new(),
            next_id: 1,
            max_entries: max_entries.max(2),
            max_depth: max_depth.max(1),
            stats: TableStats::default(),
        }
    }

    pub fn from_config(c: &crate::process::config::TableConfig) -> ProcessTable {
        ProcessTable::new(c.max_entries, c.max_depth)
    }

    /// Applies one process event and says whether it brought a new process.
    pub fn apply(&mut self, ev: &ProcessEvent) -> Applied {
        match ev.kind {
            ProcEventKind::Fork => {
                let parent = self.current.get(&ev.ppid).copied();
                let mut p = self.inherit(parent, ev);
                p.parent = parent;
                Applied::New(self.insert(p))
            }
            ProcEventKind::Exec | ProcEventKind::Existing => {
                let seeded = ev.kind == ProcEventKind::Existing;
                if let Some(id) = self.same_process(ev) {
                    let p = self.procs.get_mut(&id).expect("current ids are present");
                    absorb(p, ev);
                    return Applied::Updated(id);
                }
                let parent = self.parent_for(ev);
                let mut p = Proc {
                    parent,
                    seeded,
                    ..Proc::default()
                };
                absorb(&mut p, ev);
                let id = self.insert(p);
                if seeded {
                    Applied::Seeded(id)
                } else {
                    Applied::New(id)
                }
            }
            ProcEventKind::Exit => match self.current.get(&ev.pid).copied() {
                Some(id) => {
                    self.mark_exited(id);
                    Applied::Exited(id)
                }
                None => Applied::Unknown,
            },
            ProcEventKind::Comm | ProcEventKind::Uid => {
                let Some(&id) = self.current.get(&ev.pid) else {
                    return Applied::Unknown;
                };
                let p = self.procs.get_mut(&id).expect("current ids are present");
                if ev.kind == ProcEventKind::Comm && !ev.comm.is_empty() {
                    p.comm = ev.comm.clone();
                }
                if ev.uid.is_some() {
                    p.uid = ev.uid;
                    p.user = ev.user.clone();
                }
                Applied::Updated(id)
            }
        }
    }

    /// The live (or last seen) process holding `pid`.
    pub fn current(&self, pid: u32) -> Option<&Proc> {
        self.current.get(&pid).and_then(|id| self.procs.get(id))
    }

    pub fn get(&self, id: ProcId) -> Option<&Proc> {
        self.procs.get(&id)
    }

    /// The parent of `p` when it was created, falling back to whoever holds its ppid now
    /// if that one cannot be younger than `p`.
    pub fn parent_of(&self, p: &Proc) -> Option<&Proc> {
        if let Some(parent) = p.parent.and_then(|id| self.procs.get(&id)) {
            return Some(parent);
        }
        if p.ppid == 0 || p.ppid == p.pid {
            return None;
        }
        self.current(p.ppid)
            .filter(|q| q.start_ticks == 0 || p.start_ticks == 0 || q.start_ticks <= p.start_ticks)
    }

    /// `p` itself and then each ancestor up to pid 1, bounded by the configured depth.
    pub fn lineage(&self, id: ProcId) -> Vec<&Proc> {
        let mut out = Vec::new();
        let mut cur = self.procs.get(&id);
        while let Some(p) = cur {
            if out.len() > self.max_depth || out.iter().any(|q: &&Proc| q.id == p.id) {
                break;
            }
            out.push(p);
            if p.pid <= 1 {
                break;
            }
            cur = self.parent_of(p);
        }
        out
    }

    /// Parent first, up to pid 1. A parent the table never saw ends the chain with its
    /// pid and comm `?`.
    pub fn ancestry(&self, id: ProcId) -> Vec<Ancestor> {
        let lineage = self.lineage(id);
        let mut out: Vec<Ancestor> = lineage
            .iter()
            .skip(1)
            .map(|p| Ancestor {
                pid: p.pid,
                comm: p.comm.clone(),
            })
            .collect();
        if let Some(last) = lineage.last()
            && last.pid > 1
            && last.ppid != 0
            && self.parent_of(last).is_none()
            && lineage.len() <= self.max_depth
        {
            out.push(Ancestor {
                pid: last.ppid,
                comm: "?".to_string(),
            });
        }
        out
    }

    /// Live pids, for reconciling with a /proc scan.
    pub fn live_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .current
            .iter()
            .filter(|(_, id)| self.procs.get(id).is_some_and(|p| !p.exited))
            .map(|(pid, _)| *pid)
            .collect();
        pids.sort_unstable();
        pids
    }

    pub fn stats(&self) -> TableStats {
        TableStats {
            len: self.procs.len(),
            ..self.stats
        }
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    fn same_process(&self, ev: &ProcessEvent) -> Option<ProcId> {
        let id = *self.current.get(&ev.pid)?;
        let p = &self.procs[&id];
        let same_start =
            p.start_ticks == 0 || ev.start_ticks == 0 || p.start_ticks == ev.start_ticks;
        (same_start && !p.exited).then_some(id)
    }

    fn parent_for(&self, ev: &ProcessEvent) -> Option<ProcId> {
        let id = *self.current.get(&ev.ppid)?;
        let q = &self.procs[&id];
        let older = q.start_ticks == 0 || ev.start_ticks == 0 || q.start_ticks <= ev.start_ticks;
        (older && ev.ppid != ev.pid).then_some(id)
    }

    /// A forked child starts as a copy of its parent's image.
    fn inherit(&self, parent: Option<ProcId>, ev: &ProcessEvent) -> Proc {
        let mut p = parent
            .and_then(|id| self.procs.get(&id))
            .map(|q| Proc {
                comm: q.comm.clone(),
                exe: q.exe.clone(),
                argv: q.argv.clone(),
                uid: q.uid,
                user: q.user.clone(),
                ..Proc::default()
            })
            .unwrap_or_default();
        p.pid = ev.pid;
        p.ppid = ev.ppid;
        p.start_ticks = ev.start_ticks;
        if !ev.comm.is_empty() {
            p.comm = ev.comm.clone();
        }
        p
    }

    fn insert(&mut self, mut p: Proc) -> ProcId {
        if self.procs.len() >= self.max_entries {
            self.make_room();
        }
        let id = self.next_id;
        self.next_id += 1;
        p.id = id;
        if let Some(old) = self.current.insert(p.pid, id) {
            // A fork or exec for a pid we think is alive: its exit was lost; the pid is
            // reused by a new process.
            self.mark_exited(old);
        }
        self.procs.insert(id, p);
        self.order.push_back(id);
        if self.order.len() > 2 * self.max_entries {
            let procs = &self.procs;
            self.order.retain(|id| procs.contains_key(id));
        }
        id
    }

    fn mark_exited(&mut self, id: ProcId) {
        if let Some(p) = self.procs.get_mut(&id)
            && !p.exited
        {
            p.exited = true;
            self.exited.push_back(id);
        }
    }

    fn make_room(&mut self) {
        while let Some(id) = self.exited.pop_front() {
            if self.procs.get(&id).is_some_and(|p| p.exited) {
                self.remove(id);
                self.stats.retired_exited += 1;
                return;
            }
        }
        while let Some(id) = self.order.pop_front() {
            if self.procs.contains_key(&id) {
                self.remove(id);
                self.stats.evicted_live += 1;
                return;
            }
        }
    }

    fn remove(&mut self, id: ProcId) {
        if let Some(p) = self.procs.remove(&id)
            && self.current.get(&p.pid) == Some(&id)
        {
            self.current.remove(&p.pid);
        }
    }
}

/// Copies what an exec or scan event knows into the entry, keeping what it does not.
fn absorb(p: &mut Proc, ev: &ProcessEvent) {
    p.pid = ev.pid;
    p.execed = true;
    if ev.start_ticks != 0 {
        p.start_ticks = ev.start_ticks;
    }
    if ev.ppid != 0 && p.ppid == 0 {
        p.ppid = ev.ppid;
    }
    if !ev.comm.is_empty() {
        p.comm = ev.comm.clone();
    }
    // An exec replaces the image, so what a fork inherited must not survive it.
    let replaces_image = ev.kind == ProcEventKind::Exec;
    if ev.exe.is_some() || replaces_image {
        p.exe = ev.exe.clone();
    }
    if !ev.argv.is_empty() || replaces_image {
        p.argv = ev.argv.clone();
    }
    if ev.uid.is_some() {
        p.uid = ev.uid;
    }
    if ev.user.is_some() {
        p.user = ev.user.clone();
    }
}
