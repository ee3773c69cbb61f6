//! This process's effective capabilities (the CapEff line of /proc/self/status), so each
//! monitor can say which capability it misses instead of failing later without a reason.

/// Capability numbers from linux/capability.h.
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_PERFMON: u32 = 38;
pub const CAP_BPF: u32 = 39;

/// The effective set parsed from a /proc/PID/status text; None when it has no CapEff line.
pub fn effective_in(proc_status: &str) -> Option<u64> {
    let hex = proc_status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// Whether this process holds `cap` in its effective set now.
pub fn has(cap: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| effective_in(&s))
        .is_some_and(|caps| caps & (1u64 << cap) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_set_is_read_from_the_capeff_line() {
        let status = "Name:\tnetsnoop\nCapInh:\t0000000000000000\nCapEff:\t0000000000082000\n";
        let caps = effective_in(status).unwrap();
        assert_ne!(caps & (1 << CAP_NET_RAW), 0);
        assert_ne!(caps & (1 << CAP_SYS_PTRACE), 0);
        assert_eq!(caps & (1 << CAP_NET_ADMIN), 0);
        assert_eq!(effective_in("Name:\tx\n"), None);
        assert_eq!(effective_in("CapEff:\tnot-hex\n"), None);
    }
}
