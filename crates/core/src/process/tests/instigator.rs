//! Instigator tracing tests: from a burst's parent up to the program behind it.

use super::*;
use crate::process::config::InstigatorConfig;
use crate::process::instigator::{Tracer, Why};
use crate::process::table::ProcessTable;

fn table(extra: &[ProcessEvent]) -> ProcessTable {
    let mut t = ProcessTable::new(1000, 64);
    for e in host().iter().chain(extra) {
        t.apply(e);
    }
    t
}

fn trace(t: &ProcessTable, pid: u32) -> (Why, String) {
    let i = Tracer::new(InstigatorConfig::default())
        .with_self_pid(4242)
        .trace(t, t.current(pid).unwrap().id)
        .expect("known pid");
    (i.why.clone(), i.display())
}

#[test]
fn a_build_tool_under_a_login_shell_is_named_with_its_chain() {
    let t = table(&[exec(
        9301,
        900,
        300,
        "/usr/bin/make",
        &["make", "-j8", "all"],
    )]);
    assert_eq!(
        trace(&t, 9301),
        (
            Why::BuildTool,
            "make -j8 all (PID 9301) ← bash ← sshd".into()
        )
    );
}

#[test]
fn the_trace_walks_past_an_inline_shell_to_the_interpreter_script_behind_it() {
    let t = table(&[
        exec(
            1000,
            900,
            300,
            "/usr/bin/python3.11",
            &["python3", "deploy.py", "--all"],
        ),
        exec(
            1001,
            1000,
            301,
            "/usr/bin/dash",
            &["sh", "-c", "for i in 1 2 3; do true; done"],
        ),
    ]);
    assert_eq!(
        trace(&t, 1001),
        (
            Why::Script("deploy.py".into()),
            "python3 deploy.py --all (PID 1000) ← bash ← sshd".into()
        )
    );
}

#[test]
fn a_shell_running_a_script_is_the_instigator() {
    let t = table(&[exec(
        1000,
        900,
        300,
        "/usr/bin/bash",
        &["bash", "-e", "spawn"],
    )]);
    assert_eq!(trace(&t, 1000).0, Why::Script("spawn".into()));
}

#[test]
fn a_shebang_script_is_recognised_by_its_extension() {
    let mut e = exec(
        1000,
        900,
        300,
        "/usr/bin/bash",
        &["/bin/bash", "./deploy.sh"],
    );
    e.comm = "deploy.sh".into();
    let t = table(&[e]);
    assert_eq!(trace(&t, 1000).0, Why::Script("./deploy.sh".into()));
}

#[test]
fn an_interpreter_without_a_script_file_still_counts_as_a_runtime() {
    let t = table(&[exec(
        1000,
        900,
        300,
        "/usr/bin/node",
        &["node", "-e", "spawn()"],
    )]);
    assert_eq!(trace(&t, 1000).0, Why::Interpreter);
}

#[test]
fn a_program_outside_system_paths_is_a_user_program() {
    let t = table(&[
        exec(
            1000,
            900,
            300,
            "/home/ana/bin/spawner",
            &["spawner", "-n", "50"],
        ),
        exec(1001, 1000, 301, "/usr/bin/xargs", &["xargs", "-P4", "true"]),
    ]);
    assert_eq!(
        trace(&t, 1001),
        (
            Why::UserProgram,
            "spawner -n 50 (PID 1000) ← bash ← sshd".into()
        )
    );
}

#[test]
fn with_nothing_meaningful_above_it_the_parent_itself_is_named() {
    let t = table(&[exec(1000, 900, 300, "/usr/bin/xargs", &["xargs", "true"])]);
    assert_eq!(
        trace(&t, 1000),
        (Why::Parent, "xargs true (PID 1000) ← bash ← sshd".into())
    );
}

#[test]
fn netsnoop_itself_is_never_the_instigator() {
    let t = table(&[
        exec(
            4242,
            900,
            300,
            "/opt/netsnoop/netsnoop",
            &["netsnoop", "watch"],
        ),
        exec(4243, 4242, 301, "/usr/bin/find", &["find", "/"]),
    ]);
    assert_eq!(trace(&t, 4243).0, Why::Parent);
}

#[test]
fn a_very_long_command_line_is_cut_in_the_message() {
    let long = "x".repeat(300);
    let t = table(&[exec(
        1000,
        900,
        300,
        "/usr/bin/python3",
        &["python3", "a.py", &long],
    )]);
    let (_, shown) = trace(&t, 1000);
    assert!(shown.starts_with("python3 a.py xxx"), "{shown}");
    assert!(shown.ends_with("… (PID 1000) ← bash ← sshd"), "{shown}");
    assert!(shown.chars().count() < 160, "{shown}");
}
