//! End to end across three network namespaces this test creates (needs root and nmap):
//! `serve` in one, an agent in each of the other two, every pair joined by a veth link
//! with private addresses inside the namespaces only. Each agent's exec, resource and
//! capture data reaches the server's store under its own host, and a port scan from one
//! agent's namespace to the other is raised by the target's agent and stored by the server.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::{KillOnDrop, require_root, wait_for};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SECRET: &str = "netns-fleet-secret-0123456789";
const TOKEN: &str = "netns-fleet-token-0123456789";

fn ip(args: &str) {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three namespaces: S (the server), A and B (agents); links S–A 10.216.N/24, S–B
/// 10.217.N/24 and A–B 10.218.N/24 (.1 on the first named, .2 on the second).
struct Lab {
    names: [String; 3],
    n: u8,
    children: Vec<KillOnDrop>,
}

impl Lab {
    fn new() -> Lab {
        let pid = std::process::id();
        let n = (pid % 200) as u8 + 20;
        let names = [
            format!("nfS{pid}"),
            format!("nfA{pid}"),
            format!("nfB{pid}"),
        ];
        for ns in &names {
            ip(&format!("netns add {ns}"));
            ip(&format!("-n {ns} link set lo up"));
        }
        let [s, a, b] = &names;
        for (net, (x, xi), (y, yi)) in [
            (216, (s, "sa"), (a, "as")),
            (217, (s, "sb"), (b, "bs")),
            (218, (a, "ab"), (b, "ba")),
        ] {
            ip(&format!(
                "link add {xi} netns {x} type veth peer name {yi} netns {y}"
            ));
            ip(&format!("-n {x} addr add 10.{net}.{n}.1/24 dev {xi}"));
            ip(&format!("-n {y} addr add 10.{net}.{n}.2/24 dev {yi}"));
            ip(&format!("-n {x} link set {xi} up"));
            ip(&format!("-n {y} link set {yi} up"));
        }
        Lab {
            names,
            n,
            children: Vec::new(),
        }
    }

    /// `netsnoop ARGS` inside namespace `ns`, its data and config in `dir`.
    fn netsnoop(&mut self, ns: usize, dir: &Path, config: &str, args: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("c.toml"), config).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.names[ns],
                env!("CARGO_BIN_EXE_netsnoop"),
            ])
            .args(args)
            .arg("--data-dir")
            .arg(dir)
            .arg("--config")
            .arg(dir.join("c.toml"))
            .env("NO_COLOR", "1")
            .env("NETSNOOP_TOKEN", TOKEN)
            .env("NETSNOOP_ENROLL_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.children.push(KillOnDrop(child));
    }

    fn exec_in(&self, ns: usize, program: &str, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.names[ns], program])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            c.stop();
        }
        for ns in &self.names {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// One number from the server's store.
fn count(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn per_host(table: &str, host: &str, extra: &str) -> String {
    format!(
        "SELECT count(*) FROM {table} WHERE host = (SELECT key FROM hosts WHERE id = '{host}'){extra}"
    )
}

#[test]
fn three_namespaces_one_server_two_agents_and_a_scan_between_them() {
    require_root("network namespaces, capture and the exec source need root");
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new();
    let n = lab.n;
    let srv = dir.path().join("srv");
    let db = srv.join("netsnoop.db");
    lab.netsnoop(0, &srv, "", &["serve", "--listen", "0.0.0.0:8000"]);
    for (ns, id, iface, link) in [(1, "agent-a", "ab", 216), (2, "agent-b", "ba", 217)] {
        let config = format!(
            "[general]\ntimezone = \"UTC\"\n[fleet]\nhost_id = \"{id}\"\nhostname = \"{id}.lab\"\n\
             [agent]\nretry_max = \"1s\"\n"
        );
        let server = format!("http://10.{link}.{n}.1:8000");
        lab.netsnoop(
            ns,
            &dir.path().join(id),
            &config,
            &["agent", "--server", &server, "--interface", iface],
        );
    }
    wait_for(Duration::from_secs(60), "both agents enrolled", || {
        (count(&db, "SELECT count(*) FROM hosts WHERE key_hash IS NOT NULL") == 2).then_some(())
    });

    // A process run in A's namespace: exec events are per host, so both agents report it.
    let marker = format!("fleet-netns-{}", std::process::id());
    assert!(
        lab.exec_in(1, "/bin/sh", &["-c", "true", &marker])
            .status
            .success()
    );
    // A SYN scan from A to B over their own link.
    let target = format!("10.218.{n}.2");
    let out = lab.exec_in(
        1,
        "nmap",
        &[
            "-sS",
            "-n",
            "-Pn",
            "-T4",
            "--max-retries",
            "1",
            "-p",
            "1-100",
            &target,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    wait_for(
        Duration::from_secs(60),
        "the scan stored under agent-b",
        || {
            let sql = per_host("alerts", "agent-b", " AND kind = 'net.portscan'");
            (count(&db, &sql) >= 1).then_some(())
        },
    );
    for host in ["agent-a", "agent-b"] {
        let counts = || {
            let execs = count(
                &db,
                &per_host(
                    "process_events",
                    host,
                    &format!(" AND comm = 'sh' AND argv LIKE '%{marker}%'"),
                ),
            );
            let samples = count(&db, &per_host("system_samples", host, ""));
            let packets = count(&db, &per_host("packets", host, ""));
            (execs, samples, packets)
        };
        let ok = netsnoop_test_support::poll(Duration::from_secs(30), || {
            let (execs, samples, packets) = counts();
            (execs == 1 && samples > 0 && packets > 0).then_some(())
        });
        assert!(
            ok.is_some(),
            "{host}: (execs, samples, packets) = {:?}",
            counts()
        );
    }
    // The scanner's side is not the target: agent-b raised it about agent-a's address.
    let src: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT src_ip FROM alerts WHERE kind = 'net.portscan' AND host = \
             (SELECT key FROM hosts WHERE id = 'agent-b')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(src, format!("10.218.{n}.1"));
}
