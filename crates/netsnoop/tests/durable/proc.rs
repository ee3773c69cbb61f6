//! Helpers: a real `netsnoop serve` process on loopback, raw HTTP requests to it, packets
//! that can be told apart, and reading the database file it leaves behind.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sent with every request: POST may require a token, and this one is long enough.
pub const TOKEN: &str = "durable-test-token-0123456789abcdef";

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every stderr line so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
    pub dir: PathBuf,
}

impl Server {
    /// `netsnoop serve` over `dir` on a free loopback port, once it announces the port.
    pub fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .arg("--config")
            .arg(dir.join("none.toml"))
            .env("NO_COLOR", "1")
            .env("NETSNOOP_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netsnoop starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let found = stderr
                .lock()
                .unwrap()
                .iter()
                .find_map(|line| netsnoop_test_support::announced_addr(line));
            if let Some(addr) = found {
                break addr;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "netsnoop serve exited ({status}): {:#?}",
                    stderr.lock().unwrap()
                );
            }
            assert!(Instant::now() < deadline, "no address announced");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            addr,
            stderr,
            dir: dir.to_path_buf(),
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).unwrap();
    }

    /// Waits for the process to end (after a signal).
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running after {within:?}: {}", self.stderr_text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill9(&mut self) {
        self.signal(Signal::SIGKILL);
        self.wait(Duration::from_secs(10));
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join("netsnoop.db")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One request on a fresh connection: (status, body); status 0 when the connection was
/// refused or cut before an answer (the server is gone).
pub fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    request(addr, method, path, body, Duration::from_secs(30))
}

/// As [`http`], giving up (status 0) when no answer comes within `wait`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    wait: Duration,
) -> (u16, String) {
    netsnoop_test_support::http_request(addr, (method, path, body), Some(TOKEN), wait)
}

/// GET `path` as JSON (tolerating chunked framing).
pub fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = http(addr, "GET", path, "");
    assert_eq!(status, 200, "GET {path}: {body}");
    let start = body.find(['{', '[']).unwrap_or(0);
    let end = body.rfind(['}', ']']).map_or(body.len(), |e| e + 1);
    serde_json::from_str(&body[start..end]).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A packet told apart from every other by (src_ip, dst_port): `writer` 0–255 and
/// `n` below 2^24.
pub fn packet(writer: u8, n: u32, unix_secs: i64) -> String {
    format!(
        r#"{{"timestamp":{unix_secs},"src_ip":"10.{writer}.{}.{}","dst_ip":"192.0.2.1","protocol":"UDP","packet_size":100,"src_port":1,"dst_port":{}}}"#,
        (n >> 8) & 255,
        n & 255,
        (n >> 16) + 1
    )
}

/// The identity [`packet`] gives.
pub fn identity(writer: u8, n: u32) -> (String, u16) {
    (
        format!("10.{writer}.{}.{}", (n >> 8) & 255, n & 255),
        (n >> 16) as u16 + 1,
    )
}

pub fn batch(writer: u8, from: u32, count: u32, unix_secs: i64) -> String {
    let items: Vec<String> = (from..from + count)
        .map(|n| packet(writer, n, unix_secs))
        .collect();
    format!("[{}]", items.join(","))
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// What a database file holds, read with plain SQLite after the server is gone.
pub struct Stored {
    pub packets: HashSet<(String, u16)>,
    /// Packets counted by the per-second rollups.
    pub counted: u64,
    pub integrity: String,
}

pub fn read_db(db: &Path) -> Stored {
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT src_ip, dst_port FROM packets")
        .unwrap();
    let packets = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let counted: i64 = conn
        .query_row(
            "SELECT coalesce(sum(packets), 0) FROM traffic_seconds",
            [],
            |r| r.get(0),
        )
        .unwrap();
    Stored {
        packets,
        counted: counted as u64,
        integrity,
    }
}
