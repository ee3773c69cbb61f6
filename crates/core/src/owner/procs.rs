//! What exec events said about each pid, so a socket owner (which the kernel reports as
//! pid, comm, uid and cgroup only) gets its exe, argv, user, cgroup and ancestry.
//! Bounded; an exited process is kept a while, since its flows end after it does.

use crate::Ts;
use crate::event::{Ancestor, ProcEventKind, ProcessEvent};
use crate::time::Span;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// One process as exec events described it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProcInfo {
    pub comm: String,
    pub exe: Option<String>,
    pub argv: Vec<String>,
    pub user: Option<String>,
    pub cgroup: Option<String>,
    /// Parent first.
    pub ancestry: Vec<Ancestor>,
    exited: Option<Ts>,
}

pub(crate) struct Procs {
    max: usize,
    keep_exited: Span,
    map: FxHashMap<u32, ProcInfo>,
    /// Pids in the order they were added, for evicting the oldest when full.
    order: VecDeque<u32>,
    pub(crate) evicted: u64,
}

impl Procs {
    pub(crate) fn new(max: usize, keep_exited: Span) -> Procs {
        Procs {
            max: max.max(1),
            keep_exited,
            map: FxHashMap::default(),
            order: VecDeque::new(),
            evicted: 0,
        }
    }

    pub(crate) fn get(&self, pid: u32) -> Option<&ProcInfo> {
        self.map.get(&pid)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn note(&mut self, p: &ProcessEvent) {
        match p.kind {
            ProcEventKind::Exec | ProcEventKind::Existing | ProcEventKind::Fork => {
                if !self.map.contains_key(&p.pid) {
                    if self.map.len() >= self.max {
                        self.evict_one();
                    }
                    self.order.push_back(p.pid);
                }
                let info = self.map.entry(p.pid).or_default();
                // A fork carries the parent's image until the exec replaces it.
                if p.kind != ProcEventKind::Fork || info.argv.is_empty() {
                    *info = ProcInfo {
                        comm: p.comm.clone(),
                        exe: p.exe.clone(),
                        argv: p.argv.clone(),
                        user: p.user.clone(),
                        cgroup: p.cgroup.clone(),
                        ancestry: p.ancestry.clone(),
                        exited: None,
                    };
                }
            }
            ProcEventKind::Exit => {
                if let Some(info) = self.map.get_mut(&p.pid) {
                    info.exited = Some(p.time);
                }
            }
            ProcEventKind::Comm => {
                if let Some(info) = self.map.get_mut(&p.pid) {
                    info.comm = p.comm.clone();
                }
            }
            ProcEventKind::Uid => {
                if let Some(info) = self.map.get_mut(&p.pid) {
                    info.user = p.user.clone();
                }
            }
        }
    }

    fn evict_one(&mut self) {
        while let Some(pid) = self.order.pop_front() {
            if self.map.remove(&pid).is_some() {
                self.evicted += 1;
                return;
            }
        }
    }

    /// Forgets processes that exited longer ago than `keep_exited`.
    pub(crate) fn expire(&mut self, now: Ts) {
        let keep = self.keep_exited;
        let before = self.map.len();
        self.map
            .retain(|_, p| p.exited.is_none_or(|at| now - at < keep));
        if self.map.len() != before {
            let map = &self.map;
            self.order.retain(|pid| map.contains_key(pid));
        }
    }
}
