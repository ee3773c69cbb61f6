//! Process table tests: forks, execs, exits, ancestry and the seed.

use super::*;
use crate::process::table::{Applied, ProcessTable};

fn table_with_host() -> ProcessTable {
    let mut t = ProcessTable::new(1000, 64);
    for e in host() {
        assert!(matches!(t.apply(&e), Applied::Seeded(_)));
    }
    t
}

fn names(t: &ProcessTable, pid: u32) -> Vec<(u32, String)> {
    let id = t.current(pid).expect("known").id;
    t.ancestry(id)
        .into_iter()
        .map(|a| (a.pid, a.comm))
        .collect()
}

#[test]
fn a_fork_then_exec_is_one_new_process_with_its_parent_chain() {
    let mut t = table_with_host();
    assert!(matches!(t.apply(&fork(1000, 900)), Applied::New(_)));
    let e = exec(1000, 900, 300, "/usr/bin/make", &["make", "-j8", "all"]);
    assert!(matches!(t.apply(&e), Applied::Updated(_)));
    assert_eq!(
        names(&t, 1000),
        [
            (900, "bash".into()),
            (500, "sshd".into()),
            (1, "systemd".into())
        ]
    );
    assert_eq!(t.current(1000).unwrap().argv, ["make", "-j8", "all"]);
}

#[test]
fn a_reused_pid_is_a_new_process() {
    let mut t = table_with_host();
    t.apply(&fork(1000, 900));
    let first = t.apply(&exec(1000, 900, 300, "/usr/bin/sleep", &["sleep", "1"]));
    t.apply(&exit(1000));
    let again = t.apply(&fork(1000, 500));
    let (Applied::Updated(a), Applied::New(b)) = (first, again) else {
        panic!("{first:?} {again:?}")
    };
    assert_ne!(a, b);
    assert_eq!(t.current(1000).unwrap().ppid, 500);
    assert_eq!(names(&t, 1000)[0], (500, "sshd".into()));
}

#[test]
fn a_reused_pid_seen_only_by_polling_is_told_apart_by_its_start_time() {
    let mut t = table_with_host();
    let a = t.apply(&exec(1000, 900, 300, "/usr/bin/sleep", &["sleep", "1"]));
    let same = t.apply(&existing(1000, 900, 300, "/usr/bin/sleep", &["sleep", "1"]));
    let b = t.apply(&exec(1000, 500, 999, "/usr/bin/true", &["true"]));
    assert!(matches!(a, Applied::New(_)));
    assert!(matches!(same, Applied::Updated(_)));
    assert!(matches!(b, Applied::New(_)));
    assert_eq!(t.current(1000).unwrap().comm, "true");
}

#[test]
fn ancestry_stays_correct_after_the_parent_exits_and_its_pid_is_reused() {
    let mut t = table_with_host();
    t.apply(&fork(1000, 900));
    t.apply(&exec(
        1000,
        900,
        300,
        "/usr/bin/python3",
        &["python3", "x.py"],
    ));
    t.apply(&fork(1001, 1000));
    t.apply(&exit(1000));
    t.apply(&fork(1000, 1));
    t.apply(&exec(1000, 1, 400, "/usr/bin/cron", &["cron"]));
    t.apply(&exec(1001, 1000, 310, "/usr/bin/gcc", &["gcc", "a.c"]));
    assert_eq!(
        names(&t, 1001),
        [
            (1000, "python3".into()),
            (900, "bash".into()),
            (500, "sshd".into()),
            (1, "systemd".into())
        ]
    );
}

#[test]
fn a_parent_the_table_never_saw_ends_the_chain_with_a_question_mark() {
    let mut t = table_with_host();
    t.apply(&exec(2000, 1999, 5, "/usr/bin/true", &["true"]));
    assert_eq!(names(&t, 2000), [(1999, "?".into())]);
}

#[test]
fn a_fork_inherits_the_parents_image_until_it_execs() {
    let mut t = table_with_host();
    t.apply(&fork(1000, 900));
    assert_eq!(t.current(1000).unwrap().comm, "bash");
    let mut gone = exec(1000, 900, 0, "/x", &[]);
    gone.exe = None;
    gone.comm = "true".into();
    t.apply(&gone);
    let p = t.current(1000).unwrap();
    assert_eq!(
        (p.comm.as_str(), p.exe.clone(), p.argv.len()),
        ("true", None, 0)
    );
}

#[test]
fn the_table_is_bounded_retiring_exited_processes_before_evicting_live_ones() {
    let mut t = ProcessTable::new(4, 64);
    for e in host() {
        t.apply(&e);
    }
    t.apply(&fork(10, 900));
    t.apply(&exit(10));
    t.apply(&fork(11, 900));
    assert_eq!(t.len(), 4);
    assert_eq!(t.stats().retired_exited, 1);
    assert_eq!(t.stats().evicted_live, 0);
    t.apply(&fork(12, 900));
    assert_eq!(t.len(), 4);
    assert_eq!(t.stats().evicted_live, 1);
    assert!(t.current(1).is_none(), "the oldest live entry went first");
}
