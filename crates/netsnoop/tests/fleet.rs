//! End to end, real processes: a `netsnoop serve` and two `netsnoop agent`s on this host
//! (each with a host id of its own). Marker processes are run while everything is up,
//! while the server is down for 30 s, and around a `kill -9` of one agent; every marker
//! each agent saw reaches the server's store exactly once, under the agent's host. A
//! revoked agent is refused with 401 and says so; an agent whose server lost its database
//! enrols again by itself.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::{KillOnDrop, require_root, wait_for};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SECRET: &str = "fleet-test-secret-0123456789";

struct Proc {
    child: KillOnDrop,
    stderr: mpsc::Receiver<String>,
}

impl Proc {
    /// Everything it has said so far.
    fn said(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

fn spawn(dir: &Path, config: &str, args: &[&str]) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .env("NETSNOOP_ENROLL_SECRET", SECRET)
        .env_remove("NETSNOOP_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let stderr = netsnoop_test_support::lines(child.stderr.take().unwrap());
    Proc {
        child: KillOnDrop(child),
        stderr,
    }
}

fn serve(dir: &Path, addr: SocketAddr) -> Proc {
    let p = spawn(dir, "", &["serve", "--listen", &addr.to_string()]);
    let bound = netsnoop_test_support::await_announced_addr(&p.stderr, Duration::from_secs(20));
    assert_eq!(bound, addr);
    p
}

fn agent(dir: &Path, id: &str, server: SocketAddr) -> Proc {
    agent_to(dir, id, &format!("http://{server}"), "")
}

/// An agent with host id `id` shipping to `url`, with more `[agent]` keys.
fn agent_to(dir: &Path, id: &str, url: &str, agent_keys: &str) -> Proc {
    let config = format!(
        "[fleet]\nhost_id = \"{id}\"\nhostname = \"{id}.test\"\n\
         [agent]\nretry_max = \"1s\"\nreplay_batches_per_sec = 5\n{agent_keys}\
         [resources]\nenabled = false\n"
    );
    spawn(dir, &config, &["agent", "--no-capture", "--server", url])
}

fn stop(p: Proc) {
    kill(Pid::from_raw(p.child.id() as i32), Signal::SIGTERM).unwrap();
    let mut child = p.child;
    wait_for(Duration::from_secs(10), "exit after SIGTERM", || {
        child.0.try_wait().unwrap()
    });
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Runs `n` short processes whose argv names `tag`.
fn markers(tag: &str, n: usize) {
    for i in 0..n {
        let status = Command::new("/bin/true")
            .arg(format!("fleetmark-{tag}-{i}"))
            .status()
            .unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rows per (host id, marker argv) in the server's store, read from the database file.
fn stored(db: &Path) -> BTreeMap<(String, String), usize> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT h.id, json_extract(p.argv, '$[1]') FROM process_events p
             JOIN hosts h ON h.key = p.host
             WHERE p.kind = 'exec' AND p.argv LIKE '%fleetmark-%'",
        )
        .unwrap();
    let mut counts = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in rows {
        *counts.entry(row.unwrap()).or_insert(0) += 1;
    }
    counts
}

/// Waits until every marker of `tags` (n each) is stored for each host, then checks that
/// none is stored twice.
fn expect_each_once(db: &Path, hosts: &[&str], tags: &[(&str, usize)], within: Duration) {
    let want: usize = hosts.len() * tags.iter().map(|(_, n)| n).sum::<usize>();
    let seen = |counts: &BTreeMap<(String, String), usize>| {
        counts
            .keys()
            .filter(|(h, m)| {
                hosts.contains(&h.as_str())
                    && tags
                        .iter()
                        .any(|(t, _)| m.starts_with(&format!("fleetmark-{t}-")))
            })
            .count()
    };
    let started = Instant::now();
    let counts = loop {
        let counts = if db.exists() {
            stored(db)
        } else {
            BTreeMap::new()
        };
        if seen(&counts) >= want || started.elapsed() > within {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    for host in hosts {
        for (tag, n) in tags {
            for i in 0..*n {
                let key = (host.to_string(), format!("fleetmark-{tag}-{i}"));
                assert_eq!(
                    counts.get(&key),
                    Some(&1),
                    "{key:?} stored once: {counts:?}"
                );
            }
        }
    }
}

#[test]
fn two_agents_report_every_record_once_through_an_outage_a_crash_and_a_revocation() {
    require_root("the agents' exec source (eBPF or the proc connector) needs root");
    let dir = tempfile::tempdir().unwrap();
    let (srv_dir, a_dir, b_dir) = (
        dir.path().join("srv"),
        dir.path().join("a"),
        dir.path().join("b"),
    );
    let db = srv_dir.join("netsnoop.db");
    let addr = free_addr();
    let server = serve(&srv_dir, addr);
    let a = agent(&a_dir, "agent-a", addr);
    let b = agent(&b_dir, "agent-b", addr);
    // Both enrol, and the server lists them.
    wait_for(Duration::from_secs(20), "both agents enrolled", || {
        let (_, body) = netsnoop_test_support::http(addr, "GET", "/hosts", "");
        (body.contains("\"agent-a\"") && body.contains("\"agent-b\"")).then_some(())
    });

    // Live.
    markers("live", 10);
    expect_each_once(
        &db,
        &["agent-a", "agent-b"],
        &[("live", 10)],
        Duration::from_secs(30),
    );

    // The server is away for 30 s; agent-a is killed with -9 once its markers are spooled,
    // and started again; more markers come after.
    let outage = Instant::now();
    stop(server);
    markers("outage", 10);
    std::thread::sleep(Duration::from_secs(3));
    let mut a = a;
    a.child.stop();
    let a = agent(&a_dir, "agent-a", addr);
    wait_for(Duration::from_secs(20), "agent-a running again", || {
        a.said().into_iter().find(|l| l.contains("running"))
    });
    markers("after", 10);
    std::thread::sleep(Duration::from_secs(30).saturating_sub(outage.elapsed()));
    let server = serve(&srv_dir, addr);
    expect_each_once(
        &db,
        &["agent-a", "agent-b"],
        &[("live", 10), ("outage", 10), ("after", 10)],
        Duration::from_secs(60),
    );
    let (status, hosts) = netsnoop_test_support::http(addr, "GET", "/hosts", "");
    assert_eq!(status, 200, "{hosts}");
    let hosts: serde_json::Value =
        serde_json::from_str(&hosts[hosts.find('[').unwrap()..=hosts.rfind(']').unwrap()]).unwrap();
    for id in ["agent-a", "agent-b"] {
        let h = hosts
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .unwrap();
        assert_eq!(h["status"], "up", "{h}");
        assert_eq!(h["hostname"], format!("{id}.test"));
        assert!(h["committed_seq"].as_u64().unwrap() >= 2, "{h}");
        assert_eq!(h["agent"]["spool_dropped_batches"], 0, "{h}");
    }

    // Revoked: agent-a is refused with 401 and says so; agent-b goes on.
    let out = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["hosts", "revoke", "agent-a", "--data-dir"])
        .arg(&srv_dir)
        .arg("--config")
        .arg(srv_dir.join("c.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    markers("revoked", 5);
    expect_each_once(
        &db,
        &["agent-b"],
        &[("revoked", 5)],
        Duration::from_secs(30),
    );
    let said = wait_for(Duration::from_secs(20), "agent-a to report the 401", || {
        a.said().into_iter().find(|l| l.contains("401"))
    });
    assert!(said.contains("revoked"), "{said}");
    let counts = stored(&db);
    assert!(
        !counts
            .keys()
            .any(|(h, m)| h == "agent-a" && m.starts_with("fleetmark-revoked-")),
        "nothing from a revoked agent is stored: {counts:?}"
    );
    stop(b);
    stop(a);
    stop(server);
}

#[test]
fn an_agent_enrols_again_when_the_server_lost_its_database() {
    require_root("the agent's exec source (eBPF or the proc connector) needs root");
    let dir = tempfile::tempdir().unwrap();
    let (old_dir, new_dir, a_dir) = (
        dir.path().join("old"),
        dir.path().join("new"),
        dir.path().join("a"),
    );
    let addr = free_addr();
    let server = serve(&old_dir, addr);
    let a = agent(&a_dir, "agent-r", addr);
    wait_for(Duration::from_secs(20), "the agent enrolled", || {
        let (_, body) = netsnoop_test_support::http(addr, "GET", "/hosts", "");
        body.contains("\"agent-r\"").then_some(())
    });
    markers("before-wipe", 5);
    expect_each_once(
        &old_dir.join("netsnoop.db"),
        &["agent-r"],
        &[("before-wipe", 5)],
        Duration::from_secs(30),
    );
    // The server comes back on an empty database: it has never heard of agent-r.
    stop(server);
    markers("during-wipe", 5);
    let server = serve(&new_dir, addr);
    markers("after-wipe", 5);
    expect_each_once(
        &new_dir.join("netsnoop.db"),
        &["agent-r"],
        &[("during-wipe", 5), ("after-wipe", 5)],
        Duration::from_secs(30),
    );
    let said = a.said().join("\n");
    assert!(said.contains("has no record of host"), "{said}");
    assert!(said.contains("enrolling again"), "{said}");
    stop(a);
    stop(server);
}

#[test]
fn an_agent_ships_over_https_to_a_server_it_trusts_through_its_ca_file() {
    require_root("the agents' exec source (eBPF or the proc connector) needs root");
    let dir = tempfile::tempdir().unwrap();
    let netsnoop_test_support::pki::Pki { ca, cert, key } =
        netsnoop_test_support::pki::private_ca(&dir.path().join("pki"), "127.0.0.1");
    let srv_dir = dir.path().join("srv");
    let addr = free_addr();
    let server = spawn(
        &srv_dir,
        &format!(
            "[server]\ntls_cert = {:?}\ntls_key = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
        &["serve", "--listen", &addr.to_string()],
    );
    let announced =
        netsnoop_test_support::recv_until(&server.stderr, Duration::from_secs(20), |l| {
            l.contains("listening on").then_some(l)
        })
        .expect("serve announces its address");
    assert!(
        announced.contains(&format!("https://{addr}/")),
        "{announced}"
    );
    let url = format!("https://{addr}");
    let trusting = agent_to(
        &dir.path().join("a"),
        "agent-tls",
        &url,
        &format!("ca_file = {:?}\n", ca.display().to_string()),
    );
    // Without the CA the server's certificate is not trusted: it never enrols.
    let doubting = agent_to(&dir.path().join("b"), "agent-untrusting", &url, "");
    let mut heard = Vec::new();
    let enrolled =
        netsnoop_test_support::recv_until(&trusting.stderr, Duration::from_secs(20), |l| {
            heard.push(l.clone());
            l.contains("enrolled with").then_some(())
        });
    assert!(
        enrolled.is_some(),
        "the agent enrols over HTTPS: {heard:#?}"
    );
    markers("tls", 5);
    expect_each_once(
        &srv_dir.join("netsnoop.db"),
        &["agent-tls"],
        &[("tls", 5)],
        Duration::from_secs(30),
    );
    let said = wait_for(
        Duration::from_secs(20),
        "the untrusting agent's complaint",
        || {
            doubting
                .said()
                .into_iter()
                .find(|l| l.contains("cannot reach"))
        },
    );
    assert!(said.to_lowercase().contains("certificate"), "{said}");

    // The API over HTTPS names both the one enrolled and not the other; plain HTTP to the
    // HTTPS port is a failed handshake, counted.
    let (status, _) = netsnoop_test_support::http(addr, "GET", "/hosts", "");
    assert_ne!(status, 200, "plain HTTP is not served on the HTTPS port");
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let hosts = client
        .get(format!("{url}/hosts"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(hosts.contains("\"agent-tls\""), "{hosts}");
    assert!(!hosts.contains("agent-untrusting"), "{hosts}");
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let failed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("netsnoop_http_tls_handshakes_failed_total "))
        .expect("the handshake failure counter is exported");
    assert!(failed.trim().parse::<f64>().unwrap() >= 2.0, "{failed}");
    stop(trusting);
    stop(doubting);
    stop(server);
}
