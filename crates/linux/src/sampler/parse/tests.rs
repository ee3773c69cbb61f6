//! The /proc parsers on literal kernel text, including the awkward cases.

use super::*;

const STAT_TWO_CORES: &str = "\
cpu  90496 93 21467 83788 2193 0 303 4208 0 0
cpu0 45032 10 10404 43285 531 0 27 2020 0 0
cpu1 45464 83 11062 40503 1662 0 275 2188 0 0
intr 657326 0 0 0 0 0 1 1 14
ctxt 1000036
btime 1763725990
processes 31624
procs_running 3
procs_blocked 0
softirq 300 0 1 2 3 4 5 6 7 8 9
";

#[test]
fn stat_reads_the_total_every_core_and_the_fork_counter() {
    let s = parse_stat(STAT_TWO_CORES).unwrap();
    assert_eq!(s.total.user, 90496);
    assert_eq!(s.total.steal, 4208);
    assert_eq!(s.cores.len(), 2);
    assert_eq!(s.cores[1].0, 1);
    assert_eq!(s.cores[1].1.idle, 40503);
    assert_eq!(s.processes, 31624);
    assert_eq!(s.procs_running, 3);
    assert_eq!(s.total.busy(), 90496 + 93 + 21467 + 303 + 4208);
    assert_eq!(s.total.total(), s.total.busy() + 83788 + 2193);
}

#[test]
fn stat_with_eight_cores_and_a_gap_keeps_the_cpu_numbers() {
    let mut text = String::from("cpu  800 0 80 8000 0 0 0 0 0 0\n");
    for n in [0, 1, 2, 3, 5, 6, 7] {
        text.push_str(&format!("cpu{n} 100 0 10 1000 0 0 0 0 0 0\n"));
    }
    text.push_str("processes 7\n");
    let s = parse_stat(&text).unwrap();
    let ids: Vec<u32> = s.cores.iter().map(|c| c.0).collect();
    assert_eq!(ids, [0, 1, 2, 3, 5, 6, 7]);
}

#[test]
fn busy_share_is_the_busy_delta_over_the_total_delta() {
    let a = parse_stat("cpu  100 0 100 800 0 0 0 0 0 0\n")
        .unwrap()
        .total;
    let b = parse_stat("cpu  250 0 150 850 50 0 0 0 0 0\n")
        .unwrap()
        .total;
    // busy +200, total +300 (iowait counts as idle).
    assert!((b.busy_pct_since(&a) - 200.0 * 100.0 / 300.0).abs() < 1e-9);
    assert_eq!(a.busy_pct_since(&a), 0.0);
    assert_eq!(
        a.busy_pct_since(&b),
        0.0,
        "counters going backwards read as idle"
    );
}

#[test]
fn stat_from_an_old_kernel_with_four_columns_still_parses() {
    let s = parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n").unwrap();
    assert_eq!(s.total.idle, 4);
    assert_eq!(s.total.steal, 0);
}

#[test]
fn stat_without_a_cpu_line_is_an_error_naming_the_file() {
    let e = parse_stat("intr 1 2 3\n").unwrap_err();
    assert!(e.to_string().contains("/proc/stat"), "{e}");
}

const MEMINFO: &str = "\
MemTotal:       24575288 kB
MemFree:        18123456 kB
MemAvailable:   21000000 kB
Buffers:          123456 kB
Cached:          2345678 kB
SwapCached:            0 kB
Active:          1234567 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
";

#[test]
fn meminfo_gives_used_available_and_swap_in_bytes() {
    let m = parse_meminfo(MEMINFO).unwrap();
    assert_eq!(m.total, 24575288 * 1024);
    assert_eq!(m.available(), 21000000 * 1024);
    assert_eq!(m.used(), (24575288 - 21000000) * 1024);
    assert_eq!(m.swap_used(), (2097148 - 1048574) * 1024);
}

#[test]
fn meminfo_without_swap_lines_reports_no_swap() {
    let text = "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 600 kB\n";
    let m = parse_meminfo(text).unwrap();
    assert_eq!(m.swap_total, 0);
    assert_eq!(m.swap_used(), 0);
    assert_eq!(m.used(), 400 * 1024);
}

#[test]
fn meminfo_without_memavailable_estimates_it_from_free_buffers_and_cache() {
    let text = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n";
    let m = parse_meminfo(text).unwrap();
    assert_eq!(m.available, None);
    assert_eq!(m.available(), 400 * 1024);
}

#[test]
fn loadavg_gives_three_loads_and_the_task_counts() {
    let l = parse_loadavg("7.28 4.59 2.23 3/137 31619\n").unwrap();
    assert_eq!((l.load1, l.load5, l.load15), (7.28, 4.59, 2.23));
    assert_eq!((l.running, l.tasks), (3, 137));
    assert!(parse_loadavg("7.28 4.59\n").is_err());
}

#[test]
fn psi_reads_some_avg10() {
    let text = "some avg10=18.54 avg60=22.02 avg300=11.01 total=59866222\n\
                full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    assert_eq!(parse_psi_some_avg10(text).unwrap(), 18.54);
    assert!(parse_psi_some_avg10("").is_err());
}

#[test]
fn pid_stat_reads_times_start_and_rss() {
    let text = "31617 (cat) R 31613 31613 9078 0 -1 4194304 100 0 0 0 7 3 0 0 20 0 1 0 \
                101396 3133440 385 18446744073709551615 94165390385152 0 0 0 0 0 0 0 0 0 \
                17 0 0 0 0 0 0\n";
    let s = parse_pid_stat(text).unwrap();
    assert_eq!(s.pid, 31617);
    assert_eq!(s.comm, "cat");
    assert_eq!(s.state, 'R');
    assert_eq!(s.ppid, 31613);
    assert_eq!((s.utime, s.stime), (7, 3));
    assert_eq!(s.num_threads, 1);
    assert_eq!(s.starttime, 101396);
    assert_eq!(s.vsize, 3133440);
    assert_eq!(s.rss_pages, 385);
}

#[test]
fn a_comm_with_spaces_and_parentheses_is_read_to_the_last_parenthesis() {
    let text = "42 (a (weird) name) ) S 1 42 42 0 -1 0 0 0 0 0 11 22 0 0 20 0 3 0 555 \
                1000 7 0\n";
    let s = parse_pid_stat(text).unwrap();
    assert_eq!(s.comm, "a (weird) name) ");
    assert_eq!(s.state, 'S');
    assert_eq!(
        (s.utime, s.stime, s.num_threads, s.starttime),
        (11, 22, 3, 555)
    );
    let sdpam = "1337 (sd-pam) S 1336 1336 1336 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 9 9 0\n";
    assert_eq!(parse_pid_stat(sdpam).unwrap().comm, "sd-pam");
}

#[test]
fn a_truncated_pid_stat_is_an_error_naming_the_missing_field() {
    let e = parse_pid_stat("42 (x) S 1 42 42 0 -1 0 0 0\n").unwrap_err();
    assert!(e.to_string().contains("missing field 14"), "{e}");
    assert!(parse_pid_stat("garbage").is_err());
}

#[test]
fn statm_gives_size_and_resident_pages() {
    assert_eq!(parse_statm("765 442 414 5 0 123 0\n").unwrap(), (765, 442));
    assert!(parse_statm("").is_err());
}

#[test]
fn status_gives_the_real_uid() {
    let text = "Name:\tsudo\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\n\
                Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
    assert_eq!(parse_status_uid(text).unwrap(), 1000);
    assert!(parse_status_uid("Name:\tx\n").is_err());
}

#[test]
fn cmdline_joins_arguments_with_spaces_and_keeps_bad_bytes_visible() {
    assert_eq!(
        parse_cmdline(b"python3\0intensive_task.py\0"),
        "python3 intensive_task.py"
    );
    assert_eq!(parse_cmdline(b""), "");
    assert_eq!(parse_cmdline(b"a\xffb\0"), "a\u{fffd}b");
}

#[test]
fn schedstat_gives_the_run_time_in_nanoseconds() {
    assert_eq!(
        parse_schedstat_runtime("374816 5887339 2\n").unwrap(),
        374816
    );
    assert!(parse_schedstat_runtime("").is_err());
}
