//! Parsers for the /proc/PID files the exec source reads, on text, so that awkward names
//! (`(sd-pam)`, `a test`, `x) (y`) are tested on literal input.

/// The fields of /proc/PID/stat we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    /// Field 22: start time in clock ticks since boot.
    pub start_ticks: u64,
    /// Fields 48 and 49: where the argument strings lie in the process's memory; None for
    /// a zombie, without permission, or from kernels older than 3.5.
    pub args: Option<(u64, u64)>,
}

impl Stat {
    /// A zombie (or dead task): it has exited and only waits for its parent to reap it.
    pub fn exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed /proc/PID/stat: {0}")]
pub struct StatError(&'static str);

/// comm sits between the first `(` and the LAST `)`: it may itself hold spaces and
/// parentheses, and nothing after it can contain `)`.
pub fn parse_stat(text: &str) -> Result<Stat, StatError> {
    let open = text.find('(').ok_or(StatError("no '('"))?;
    let close = text.rfind(')').ok_or(StatError("no ')'"))?;
    if close < open {
        return Err(StatError("')' before '('"));
    }
    let pid = text[..open]
        .trim()
        .parse()
        .map_err(|_| StatError("bad pid"))?;
    let comm = text[open + 1..close].to_string();
    // Fields from 3 (state) on, so field N is rest[N - 3].
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).copied().ok_or(StatError("too few fields"));
    let state = field(3)?.chars().next().ok_or(StatError("empty state"))?;
    let ppid = field(4)?.parse().map_err(|_| StatError("bad ppid"))?;
    let start_ticks = field(22)?.parse().map_err(|_| StatError("bad starttime"))?;
    let address = |n: usize| field(n).ok().and_then(|f| f.parse::<u64>().ok());
    let args = match (address(48), address(49)) {
        (Some(start), Some(end)) if start != 0 && end > start => Some((start, end)),
        _ => None,
    };
    Ok(Stat {
        pid,
        comm,
        state,
        ppid,
        start_ticks,
        args,
    })
}

/// The real uid from the `Uid:` line of /proc/PID/status.
pub fn parse_status_uid(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_ascii_whitespace().next())
        .and_then(|uid| uid.parse().ok())
}

/// NUL-separated arguments. Programs that rewrite their title (`sshd: user@pts/0`) leave
/// one string, possibly padded with NULs; empty trailing pieces are dropped.
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = match bytes.iter().rposition(|&b| b != 0) {
        Some(last) => &bytes[..=last],
        None => return Vec::new(),
    };
    bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// A container id (64 hex digits in the cgroup path, shortened to 12 as docker and podman
/// show it) or else the cgroup path; None for the root cgroup.
pub fn parse_cgroup(text: &str) -> Option<String> {
    // cgroup v2 is `0::/path`; with v1 hierarchies, any line's path will do.
    let line = text
        .lines()
        .find(|l| l.starts_with("0::"))
        .or_else(|| text.lines().next())?;
    let path = line.splitn(3, ':').nth(2)?.trim();
    if let Some(id) = container_id(path) {
        return Some(id);
    }
    (!path.is_empty() && path != "/").then(|| path.to_string())
}

fn container_id(path: &str) -> Option<String> {
    path.split(['/', '-', '.', ':'])
        .find(|seg| seg.len() == 64 && seg.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|seg| seg[..12].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_line(comm: &str) -> String {
        format!(
            "4242 ({comm}) S 17 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 987654 \
             5505024 321 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"
        )
    }

    #[test]
    fn stat_parses_plain_and_awkward_comms() {
        for comm in ["bash", "(sd-pam)", "a test", "x) (y", ")", "", "tab\there"] {
            let s = parse_stat(&stat_line(comm)).expect(comm);
            assert_eq!(
                (s.pid, s.comm.as_str(), s.state, s.ppid, s.start_ticks),
                (4242, comm, 'S', 17, 987654),
                "{comm:?}"
            );
        }
    }

    #[test]
    fn stat_gives_where_the_arguments_lie_unless_it_hides_them() {
        // A real line from kernel 6.x: 52 fields, arg_start and arg_end are 48 and 49.
        let live = "913 (sh) S 1 913 913 0 -1 4194560 97 0 0 0 0 0 0 0 20 0 1 0 1722 \
                    2654208 226 18446744073709551615 94750511693824 94750511784913 \
                    140723418484496 0 0 0 0 0 65538 1 0 0 17 1 0 0 0 0 0 94750511812016 \
                    94750511817056 94750521761792 140723418487453 140723418487489 \
                    140723418487489 140723418488811 0\n";
        let s = parse_stat(live).unwrap();
        assert_eq!(s.args, Some((140723418487453, 140723418487489)));
        assert!(!s.exited());
        // A zombie (or a reader without permission) sees zeros.
        let zombie = live.replace(" S ", " Z ").replace("140723418487453", "0");
        let z = parse_stat(&zombie).unwrap();
        assert_eq!(z.args, None);
        assert!(z.exited());
        assert_eq!(
            parse_stat(&stat_line("old")).unwrap().args,
            None,
            "short line"
        );
    }

    #[test]
    fn a_truncated_stat_is_an_error_not_a_wrong_answer() {
        assert!(parse_stat("4242 (bash) S 17 4242").is_err());
        assert!(parse_stat("4242 bash S").is_err());
        assert!(parse_stat("").is_err());
    }

    #[test]
    fn status_gives_the_real_uid() {
        let text = "Name:\ta test\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(parse_status_uid(text), Some(1000));
        assert_eq!(parse_status_uid("Name:\tx\n"), None);
    }

    #[test]
    fn cmdline_splits_on_nul_and_keeps_empty_and_spaced_arguments() {
        assert_eq!(parse_cmdline(b"ls\0-l\0\0a b\0"), ["ls", "-l", "", "a b"]);
        assert_eq!(parse_cmdline(b"sshd: ana@pts/0\0\0\0"), ["sshd: ana@pts/0"]);
        assert!(parse_cmdline(b"").is_empty());
        assert_eq!(parse_cmdline(b"\xff\0"), ["\u{fffd}"]);
    }

    #[test]
    fn cgroup_names_the_container_or_the_path() {
        let id = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00998877665544332211";
        let docker = format!("0::/system.slice/docker-{id}.scope\n");
        assert_eq!(parse_cgroup(&docker).as_deref(), Some("3f4e5d6c7b8a"));
        let user = "0::/user.slice/user-1000.slice/session-3.scope\n";
        assert_eq!(
            parse_cgroup(user).as_deref(),
            Some("/user.slice/user-1000.slice/session-3.scope")
        );
        assert_eq!(parse_cgroup("0::/\n"), None);
        let v1 = format!("12:pids:/docker/{id}\n11:memory:/docker/{id}\n");
        assert_eq!(parse_cgroup(&v1).as_deref(), Some("3f4e5d6c7b8a"));
    }
}
