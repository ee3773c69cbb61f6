//! A real `netsnoop run -i lo` on a free port and a throwaway data dir, with the HTTP,
//! scrape and series helpers the /metrics end-to-end tests share.

use netsnoop_test_support::{http, lines, wait_for};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Run {
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Run {
    /// Starts `netsnoop run -i lo` and returns once it announced its address.
    pub fn start() -> Run {
        netsnoop_test_support::require_root("live capture on lo and exec events");
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
            .args(["run", "-i", "lo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .arg("--config")
            .arg(dir.path().join("c.toml"))
            .env("NO_COLOR", "1")
            .env_remove("NETSNOOP_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netsnoop starts");
        let rx = lines(child.stderr.take().unwrap());
        let addr = netsnoop_test_support::recv_until(&rx, Duration::from_secs(30), |line| {
            netsnoop_test_support::announced_addr(&line)
        });
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("netsnoop run announced no address");
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Run {
            addr,
            _dir: dir,
            child,
        }
    }

    pub fn get(&self, path: &str) -> String {
        let (status, body) = http(self.addr, "GET", path, "");
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub fn health(&self) -> serde_json::Value {
        let body = self.get("/health");
        let start = body.find('{').unwrap_or(0);
        let end = body.rfind('}').map_or(body.len(), |e| e + 1);
        serde_json::from_str(&body[start..end]).expect("/health is JSON")
    }

    /// The exposition text of one scrape.
    pub fn metrics(&self) -> String {
        let body = self.get("/metrics");
        // The raw helper returns the body with any chunk framing; keep the sample lines.
        body.lines()
            .filter(|l| l.starts_with('#') || l.contains(' '))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until `metric` (summed over all its series) reaches `at_least`.
    pub fn wait_metric(&self, metric: &str, at_least: f64, within: Duration) -> f64 {
        wait_for(within, format!("{metric} >= {at_least}"), || {
            let v = sum(&self.metrics(), metric)?;
            std::thread::sleep(Duration::from_millis(100));
            (v >= at_least).then_some(v)
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// The sum of every series of `metric` (None if it has none).
pub fn sum(text: &str, metric: &str) -> Option<f64> {
    netsnoop_server::metrics::pairs::sum_in(text, metric, &[])
}

/// The series (name and labels, no values) of one scrape.
pub fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

/// Runs `n` short processes (`/bin/true`), `parallel` at a time.
pub fn spawn_processes(n: usize, parallel: usize) {
    let per = n / parallel;
    let threads: Vec<_> = (0..parallel)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..per {
                    let ok = Command::new("/bin/true").status().expect("spawn /bin/true");
                    assert!(ok.success());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A POST /packets body of `n` packets from distinct sources numbered from `first`.
pub fn packets_from_distinct_sources(first: u32, n: u32, now: f64) -> String {
    let items: Vec<String> = (first..first + n)
        .map(|i| {
            let [_, b, c, d] = i.to_be_bytes();
            format!(
                r#"{{"timestamp":{now},"src_ip":"10.{b}.{c}.{d}","dst_ip":"127.0.0.1","protocol":"TCP","packet_size":60,"src_port":40000,"dst_port":80}}"#
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}
