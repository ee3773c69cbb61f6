//! Reading one process from /proc (stat, status, cmdline, exe, cwd, cgroup), the pid list
//! and the fork counter, with the root directory injectable so tests can use fixtures.

mod memory;
pub mod parse;
#[cfg(test)]
mod test_support;
mod users;

pub use parse::Stat;
pub use users::UserNames;

use nix::fcntl::{OFlag, open, openat, readlinkat};
use nix::sys::stat::Mode;
use std::cell::Cell;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// What could be read about a process; every part may be missing if it already exited.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcInfo {
    pub stat: Option<Stat>,
    pub uid: Option<u32>,
    pub argv: Vec<String>,
    /// cmdline was read and not empty (a zombie's or a gone process's is not).
    pub argv_complete: bool,
    pub exe: Option<String>,
    pub cwd: Option<String>,
    pub cgroup: Option<String>,
}

/// What vanishes first when a process exits: its command line and stat. The directory
/// they came from stays open for the rest, so the later reads are of the same process
/// even if its pid is reused meanwhile, and skip the path walk.
#[derive(Debug, Default)]
pub struct Perishable {
    pub argv: Vec<String>,
    pub stat: Option<Stat>,
    dir: Option<OwnedFd>,
}

/// A /proc tree: the real one, or a fixture directory laid out like it.
#[derive(Debug)]
pub struct ProcFs {
    root: PathBuf,
    /// The real /proc, and reading a process's arguments from its memory has not been
    /// refused.
    memory: Cell<bool>,
}

impl Default for ProcFs {
    fn default() -> Self {
        ProcFs {
            root: "/proc".into(),
            memory: Cell::new(true),
        }
    }
}

impl ProcFs {
    pub fn at(root: impl Into<PathBuf>) -> ProcFs {
        ProcFs {
            root: root.into(),
            memory: Cell::new(false),
        }
    }

    fn path(&self, pid: u32, file: &str) -> PathBuf {
        let mut p = self.root.join(pid.to_string());
        p.push(file);
        p
    }

    /// Everything an exec event wants, argv first: it is what a short-lived process
    /// takes with it when it exits.
    pub fn read_exec(&self, pid: u32) -> ProcInfo {
        let first = self.read_perishable(pid);
        self.read_rest(first, true)
    }

    /// argv and stat only: read for a whole backlog first, before the slower rest. A
    /// zombie has no argv left to read.
    pub fn read_perishable(&self, pid: u32) -> Perishable {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let Ok(dir) = open(&self.root.join(pid.to_string()), flags, Mode::empty()) else {
            return Perishable::default();
        };
        let stat = read_at(&dir, "stat")
            .and_then(|b| parse::parse_stat(&String::from_utf8_lossy(&b)).ok());
        if stat.as_ref().is_some_and(Stat::exited) {
            return Perishable {
                argv: Vec::new(),
                stat,
                dir: Some(dir),
            };
        }
        let from_memory = match stat.as_ref().and_then(|s| s.args) {
            Some(range) if self.memory.get() => memory::read_args(pid, range),
            _ => memory::Args::Unavailable,
        };
        let cmdline = match from_memory {
            memory::Args::Read(bytes) => Some(bytes),
            memory::Args::Gone => None,
            memory::Args::Unavailable => read_at(&dir, "cmdline"),
            memory::Args::Denied => {
                self.memory.set(false);
                tracing::info!(
                    "reading exec arguments from process memory was refused (CAP_SYS_PTRACE \
                     or a security module); /proc/PID/cmdline is read instead"
                );
                read_at(&dir, "cmdline")
            }
        };
        Perishable {
            argv: cmdline
                .map(|b| parse::parse_cmdline(&b))
                .unwrap_or_default(),
            stat,
            dir: Some(dir),
        }
    }

    /// The rest of [`ProcFs::read_exec`], given what [`ProcFs::read_perishable`] got; the
    /// uid only if `read_uid` (the caller may know it already: status is the costliest read).
    pub fn read_rest(&self, first: Perishable, read_uid: bool) -> ProcInfo {
        let Perishable { argv, stat, dir } = first;
        let argv_complete = !argv.is_empty();
        let Some(dir) = dir else {
            return ProcInfo {
                stat,
                argv,
                argv_complete,
                ..ProcInfo::default()
            };
        };
        let text = |f: &str| read_at(&dir, f).map(|b| String::from_utf8_lossy(&b).into_owned());
        let uid = read_uid
            .then(|| text("status").and_then(|s| parse::parse_status_uid(&s)))
            .flatten();
        // A zombie has no exe or cwd left; only its uid is still worth a read.
        if stat.as_ref().is_some_and(Stat::exited) {
            return ProcInfo {
                stat,
                uid,
                ..ProcInfo::default()
            };
        }
        let link = |f: &str| {
            readlinkat(&dir, f)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        };
        ProcInfo {
            stat,
            uid,
            argv,
            argv_complete,
            exe: link("exe"),
            cwd: link("cwd"),
            cgroup: text("cgroup").and_then(|s| parse::parse_cgroup(&s)),
        }
    }

    /// The real uid, from status.
    pub fn uid(&self, pid: u32) -> Option<u32> {
        let text = std::fs::read_to_string(self.path(pid, "status")).ok()?;
        parse::parse_status_uid(&text)
    }

    pub fn stat(&self, pid: u32) -> Option<Stat> {
        let text = std::fs::read_to_string(self.path(pid, "stat")).ok()?;
        parse::parse_stat(&text).ok()
    }

    /// Numeric entries of the root: every process (thread groups, not threads).
    pub fn pids(&self) -> std::io::Result<Vec<u32>> {
        let mut pids: Vec<u32> = std::fs::read_dir(&self.root)?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        pids.sort_unstable();
        Ok(pids)
    }

    /// The `processes` line of /proc/stat: forks since boot, threads included.
    pub fn forks_total(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.root.join("stat")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("processes "))
            .and_then(|n| n.trim().parse().ok())
    }
}

/// A whole file under an open /proc/PID directory; None once the process is gone.
fn read_at(dir: &OwnedFd, file: &str) -> Option<Vec<u8>> {
    let fd = openat(dir, file, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
    let mut file = std::fs::File::from(fd);
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        let n = file.read(&mut buf[len..]).ok()?;
        len += n;
        // /proc hands out a whole record per read when the buffer holds it, so a short
        // read is the end: this saves the extra read(2) that would only return 0.
        if n == 0 || len < buf.len() {
            buf.truncate(len);
            return Some(buf);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("4242");
        std::fs::create_dir(&p).unwrap();
        let stat = "4242 (x) (y) S 17 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5555 0 0";
        std::fs::write(p.join("stat"), stat).unwrap();
        std::fs::write(
            p.join("status"),
            "Name:\tx) (y\nUid:\t1000\t1000\t1000\t1000\n",
        )
        .unwrap();
        std::fs::write(p.join("cmdline"), b"python3\0a test.py\0").unwrap();
        std::fs::write(p.join("cgroup"), "0::/user.slice\n").unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3.11", p.join("exe")).unwrap();
        std::os::unix::fs::symlink("/home/ana", p.join("cwd")).unwrap();
        std::fs::write(
            dir.path().join("stat"),
            "cpu 1 2 3\nprocesses 98765\nprocs_running 2\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("self_not_a_pid")).unwrap();
        dir
    }

    #[test]
    fn an_exec_read_of_a_fixture_fills_every_field() {
        let dir = fixture();
        let fs = ProcFs::at(dir.path());
        let info = fs.read_exec(4242);
        assert_eq!(info.argv, ["python3", "a test.py"]);
        assert!(info.argv_complete);
        let stat = info.stat.as_ref().unwrap();
        assert_eq!(
            (stat.comm.as_str(), stat.ppid, stat.start_ticks),
            ("x) (y", 17, 5555)
        );
        assert_eq!(info.uid, Some(1000));
        assert_eq!(info.exe.as_deref(), Some("/usr/bin/python3.11"));
        assert_eq!(info.cwd.as_deref(), Some("/home/ana"));
        assert_eq!(info.cgroup.as_deref(), Some("/user.slice"));
        assert_eq!(fs.pids().unwrap(), [4242]);
        assert_eq!(fs.forks_total(), Some(98765));
    }

    #[test]
    fn a_process_that_is_gone_reads_as_empty_and_incomplete() {
        let dir = fixture();
        let info = ProcFs::at(dir.path()).read_exec(1);
        assert_eq!(info, ProcInfo::default());
        assert!(!info.argv_complete);
    }

    #[test]
    fn the_rest_is_read_from_the_process_whose_argv_was_read_even_if_its_pid_is_reused() {
        let dir = fixture();
        let fs = ProcFs::at(dir.path());
        let first = fs.read_perishable(4242);
        // The process exits and a new one gets its pid before the slower reads.
        std::fs::rename(dir.path().join("4242"), dir.path().join("gone")).unwrap();
        let reused = dir.path().join("4242");
        std::fs::create_dir(&reused).unwrap();
        std::os::unix::fs::symlink("/usr/bin/other", reused.join("exe")).unwrap();
        let info = fs.read_rest(first, true);
        assert_eq!(info.exe.as_deref(), Some("/usr/bin/python3.11"));
        assert_eq!(info.uid, Some(1000));
    }

    #[test]
    fn the_uid_is_left_out_when_the_caller_knows_it() {
        let dir = fixture();
        let fs = ProcFs::at(dir.path());
        let info = fs.read_rest(fs.read_perishable(4242), false);
        assert_eq!(info.uid, None);
        assert_eq!(info.exe.as_deref(), Some("/usr/bin/python3.11"));
        assert_eq!(fs.uid(4242), Some(1000));
    }

    #[test]
    fn an_unprivileged_reader_gets_argv_from_cmdline_since_stat_hides_the_argument_area() {
        let mut child = test_support::sleeper();
        let pid = child.id();
        let (argv, area) = test_support::as_nobody(move || {
            let first = ProcFs::default().read_perishable(pid);
            (first.argv, first.stat.and_then(|s| s.args))
        });
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(argv, ["/bin/sleep", "5"]);
        assert_eq!(area, None, "no process_vm_readv was tried");
    }

    #[test]
    fn a_zombie_gives_its_stat_and_uid_and_nothing_it_no_longer_has() {
        let dir = fixture();
        let stat = "4242 (x) Z 17 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5555 0 0";
        std::fs::write(dir.path().join("4242/stat"), stat).unwrap();
        let info = ProcFs::at(dir.path()).read_exec(4242);
        assert_eq!(info.stat.as_ref().map(|s| s.state), Some('Z'));
        assert_eq!(info.uid, Some(1000));
        assert!(info.argv.is_empty() && !info.argv_complete);
        assert_eq!((info.exe, info.cwd, info.cgroup), (None, None, None));
    }

    #[test]
    fn a_command_line_longer_than_one_read_comes_back_whole() {
        let dir = fixture();
        let long = "x".repeat(10_000);
        std::fs::write(dir.path().join("4242/cmdline"), format!("tool\0{long}\0")).unwrap();
        let info = ProcFs::at(dir.path()).read_exec(4242);
        assert_eq!(info.argv, ["tool", long.as_str()]);
    }
}
