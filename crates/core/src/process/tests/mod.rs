//! Scripted event streams at fixed times for the process table, instigator and stage.

mod instigator;
mod stage;
mod table;

use crate::event::{Event, ProcEventKind, ProcessEvent};
use crate::time::Ts;

pub fn at(secs: f64) -> Ts {
    Ts::from_secs_f64(secs)
}

fn ev(kind: ProcEventKind, pid: u32, ppid: u32) -> ProcessEvent {
    ProcessEvent {
        kind,
        pid,
        ppid,
        ..ProcessEvent::default()
    }
}

pub fn fork(pid: u32, ppid: u32) -> ProcessEvent {
    ev(ProcEventKind::Fork, pid, ppid)
}

/// An exec as the enricher reports it: argv[0]'s base name is the comm.
pub fn exec(pid: u32, ppid: u32, start: u64, exe: &str, argv: &[&str]) -> ProcessEvent {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    ProcessEvent {
        start_ticks: start,
        comm: exe.rsplit('/').next().unwrap().chars().take(15).collect(),
        exe: Some(exe.to_string()),
        argv_complete: !argv.is_empty(),
        argv,
        ..ev(ProcEventKind::Exec, pid, ppid)
    }
}

pub fn existing(pid: u32, ppid: u32, start: u64, exe: &str, argv: &[&str]) -> ProcessEvent {
    ProcessEvent {
        kind: ProcEventKind::Existing,
        ..exec(pid, ppid, start, exe, argv)
    }
}

pub fn exit(pid: u32) -> ProcessEvent {
    ev(ProcEventKind::Exit, pid, 0)
}

pub fn process(e: ProcessEvent) -> Event {
    Event::Process(e)
}

/// A little host: init, sshd, a login shell.
pub fn host() -> Vec<ProcessEvent> {
    vec![
        existing(1, 0, 1, "/usr/lib/systemd/systemd", &["/sbin/init"]),
        existing(500, 1, 100, "/usr/sbin/sshd", &["sshd: /usr/sbin/sshd -D"]),
        existing(900, 500, 200, "/usr/bin/bash", &["-bash"]),
    ]
}
