//! The sampler's I/O layer on a recorded /proc-like tree: deltas between rounds, the
//! per-process CPU%, users, command lines, and the degraded mode without PSI.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_core::Ts;
use netsnoop_linux::sampler::{Degraded, Sampler};
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn pid_stat(pid: u32, comm: &str, utime: u64, stime: u64, start: u64, rss: u64) -> String {
    format!(
        "{pid} ({comm}) R 1 {pid} {pid} 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 \
         {start} 100000 {rss} 18446744073709551615 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
    )
}

fn round(root: &Path, busy: u64, idle: u64, burner_ticks: u64) {
    write(
        root,
        "stat",
        &format!(
            "cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 {busy} 0 0 0 0 0 0 0 0 0\n\
             cpu1 0 0 0 {idle} 0 0 0 0 0 0\nprocesses 500\nprocs_running 2\n"
        ),
    );
    write(
        root,
        "1234/stat",
        &pid_stat(1234, "burn (x)", burner_ticks, 0, 100, 256),
    );
    write(root, "77/stat", &pid_stat(77, "sleep", 5, 5, 50, 10));
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "meminfo",
        "MemTotal: 1000000 kB\nMemFree: 100000 kB\nMemAvailable: 250000 kB\n",
    );
    write(root, "loadavg", "1.50 1.00 0.50 2/300 999\n");
    write(root, "1234/cmdline", "python3\0burn.py\0");
    write(root, "1234/status", "Name:\tburn\nUid:\t0\t0\t0\t0\n");
    write(root, "77/cmdline", "sleep\0infinity\0");
    write(
        root,
        "77/status",
        "Name:\tsleep\nUid:\t4000000000\t0\t0\t0\n",
    );
    write(root, "self", "not a pid");
    round(root, 1000, 1000, 1000);
    dir
}

#[test]
fn a_fixture_proc_gives_cpu_from_tick_deltas_between_rounds() {
    let dir = fixture();
    let mut s = Sampler::with_root(dir.path()).unwrap();
    let first = s.sample_at(Ts::from_secs(100), 50.0).unwrap();
    assert_eq!(first.system.cpu_pct, 0.0, "no delta on the first round");
    assert_eq!(first.processes.len(), 2);

    // One second later (100 ticks at 100 Hz): the burner used 98 ticks, the host's
    // core 0 was busy throughout and core 1 idle.
    round(dir.path(), 1100, 1100, 1098);
    let second = s.sample_at(Ts::from_secs(101), 51.0).unwrap();
    let sys = &second.system;
    assert!((sys.cpu_pct - 50.0).abs() < 1e-9, "{}", sys.cpu_pct);
    assert_eq!(sys.per_core_pct, [100.0, 0.0]);
    assert_eq!(sys.mem_total, 1_000_000 * 1024);
    assert_eq!(sys.mem_used, 750_000 * 1024);
    assert_eq!(sys.load1, 1.5);
    assert_eq!(sys.forks_total, 500);
    assert_eq!(sys.psi_cpu, None);

    let burner = second.processes.iter().find(|p| p.pid == 1234).unwrap();
    assert!((burner.cpu_pct - 98.0).abs() < 1e-6, "{}", burner.cpu_pct);
    assert_eq!(burner.comm, "burn (x)");
    assert_eq!(burner.cmdline, "python3 burn.py");
    assert_eq!(burner.user.as_deref(), Some("root"));
    assert_eq!(burner.start_ticks, 100);
    assert_eq!(burner.rss_bytes, 256 * page_size());
    let sleeper = second.processes.iter().find(|p| p.pid == 77).unwrap();
    assert_eq!(sleeper.cpu_pct, 0.0);
    assert_eq!(sleeper.user.as_deref(), Some("4000000000"));
}

#[test]
fn a_process_started_since_the_last_round_is_measured_over_its_own_life() {
    let dir = fixture();
    let mut s = Sampler::with_root(dir.path()).unwrap();
    s.sample_at(Ts::from_secs(100), 50.0).unwrap();
    // Started at 50.5 s after boot (tick 5050), ran 45 ticks in its 0.5 s.
    write(
        dir.path(),
        "555/stat",
        &pid_stat(555, "new", 45, 0, 5050, 1),
    );
    write(dir.path(), "555/cmdline", "new\0");
    write(dir.path(), "555/status", "Uid:\t0\t0\t0\t0\n");
    let next = s.sample_at(Ts::from_secs(101), 51.0).unwrap();
    let p = next.processes.iter().find(|p| p.pid == 555).unwrap();
    assert!((p.cpu_pct - 90.0).abs() < 1e-6, "{}", p.cpu_pct);
}

#[test]
fn missing_pressure_files_are_reported_as_degraded_with_the_reason() {
    let dir = fixture();
    let s = Sampler::with_root(dir.path()).unwrap();
    match s.degraded() {
        [Degraded::NoPressure { detail }] => {
            assert!(detail.contains("CONFIG_PSI"), "{detail}")
        }
        other => panic!("expected the no-PSI degraded mode, got {other:?}"),
    }
}

#[test]
fn pressure_figures_are_read_where_present() {
    let dir = fixture();
    for what in ["cpu", "memory", "io"] {
        write(
            dir.path(),
            &format!("pressure/{what}"),
            "some avg10=12.50 avg60=1.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        );
    }
    let mut s = Sampler::with_root(dir.path()).unwrap();
    assert!(s.degraded().is_empty());
    let r = s.sample_at(Ts::from_secs(1), 1.0).unwrap();
    assert_eq!(r.system.psi_cpu, Some(12.5));
    assert_eq!(r.system.psi_io, Some(12.5));
}

#[test]
fn a_broken_system_file_is_an_error_naming_the_file() {
    let dir = fixture();
    write(dir.path(), "loadavg", "nonsense\n");
    let mut s = Sampler::with_root(dir.path()).unwrap();
    let e = s.sample_at(Ts::from_secs(1), 1.0).unwrap_err().to_string();
    assert!(e.contains("loadavg"), "{e}");
}

#[test]
fn a_process_whose_files_vanish_is_skipped_and_counted() {
    let dir = fixture();
    // Listed, but its stat is gone: what a process exiting mid-round looks like.
    fs::create_dir_all(dir.path().join("4242")).unwrap();
    let mut s = Sampler::with_root(dir.path()).unwrap();
    let r = s.sample_at(Ts::from_secs(1), 1.0).unwrap();
    assert_eq!(s.last_round().vanished, 1);
    assert_eq!(r.processes.len(), 2);
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .unwrap()
        .unwrap() as u64
}

fn stat_threads(pid: u32, ticks: u64, threads: u32, rss: u64) -> String {
    format!(
        "{pid} (worker) S 1 {pid} {pid} 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 {threads} 0 \
         50 100000 {rss} 18446744073709551615 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
    )
}

#[test]
fn an_idle_single_threaded_process_is_not_reread_until_it_runs_again() {
    let dir = fixture();
    let root = dir.path();
    write(root, "88/stat", &stat_threads(88, 10, 1, 10));
    write(root, "88/schedstat", "1000 0 1\n");
    write(root, "88/cmdline", "worker\0");
    write(root, "88/status", "Uid:\t0\t0\t0\t0\n");
    let mut s = Sampler::with_root(root).unwrap();
    s.sample_at(Ts::from_secs(1), 1.0).unwrap();
    // Did not run (same run time): stat is not read, so its new RSS is not seen.
    write(root, "88/stat", &stat_threads(88, 10, 1, 999));
    let r = s.sample_at(Ts::from_secs(2), 2.0).unwrap();
    let p = r.processes.iter().find(|p| p.pid == 88).unwrap();
    assert_eq!(p.rss_bytes, 10 * page_size());
    assert_eq!(p.cpu_pct, 0.0);
    // Ran: stat is read again, 40 ticks in the last second.
    write(root, "88/stat", &stat_threads(88, 50, 1, 999));
    write(root, "88/schedstat", "400001000 0 9\n");
    let r = s.sample_at(Ts::from_secs(3), 3.0).unwrap();
    let p = r.processes.iter().find(|p| p.pid == 88).unwrap();
    assert_eq!(p.rss_bytes, 999 * page_size());
    assert!((p.cpu_pct - 40.0).abs() < 1e-6, "{}", p.cpu_pct);
}

#[test]
fn a_multi_threaded_process_is_read_in_full_every_round() {
    let dir = fixture();
    let root = dir.path();
    write(root, "88/stat", &stat_threads(88, 10, 4, 10));
    write(root, "88/schedstat", "1000 0 1\n");
    write(root, "88/cmdline", "worker\0");
    write(root, "88/status", "Uid:\t0\t0\t0\t0\n");
    let mut s = Sampler::with_root(root).unwrap();
    s.sample_at(Ts::from_secs(1), 1.0).unwrap();
    // The leader's run time says nothing about the other threads.
    write(root, "88/stat", &stat_threads(88, 90, 4, 20));
    let r = s.sample_at(Ts::from_secs(2), 2.0).unwrap();
    let p = r.processes.iter().find(|p| p.pid == 88).unwrap();
    assert_eq!(p.rss_bytes, 20 * page_size());
    assert!((p.cpu_pct - 80.0).abs() < 1e-6, "{}", p.cpu_pct);
}
