//! What `netsnoop --version` says: the version, the commit and date it was built from, and
//! what this build can do (exec sources, stores), so a bug report carries all of it.

/// `netsnoop --version`'s text after the name.
pub fn long_version() -> String {
    let ebpf = match netsnoop_linux::exec::ebpf::unavailable_at_build() {
        None => "ebpf".to_string(),
        Some(why) => format!("(no ebpf: {why})"),
    };
    format!(
        "{version}\ncommit:       {commit} (built {date})\nexec sources: {ebpf}, netlink proc connector, /proc polling\ncapture:      libpcap (live, pcap and pcapng files)\nstores:       sqlite",
        version = env!("CARGO_PKG_VERSION"),
        commit = netsnoop_server::BUILD_COMMIT,
        date = netsnoop_server::BUILD_DATE,
    )
}
