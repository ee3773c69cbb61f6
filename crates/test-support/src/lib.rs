//! Helpers the tests of every NetSnoop crate share (a dev-dependency only): the root check,
//! the deadline poll and receive, a child's output as a channel of lines, a CPU burner, and a
//! throwaway PostgreSQL cluster (`pg`).

#![forbid(unsafe_code)]

pub mod pg;
pub mod pki;
pub mod receiver;

use std::fmt::Display;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Fails (never skips) a test that needs root, saying what for and how to run it.
pub fn require_root(why: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root ({why}): run the tests as root, as CI does"
    );
}

/// Calls `probe` every 5 ms until it gives a value, and returns it; panics naming `what`
/// once `within` has passed without one.
pub fn wait_for<T>(within: Duration, what: impl Display, probe: impl FnMut() -> Option<T>) -> T {
    poll(within, probe).unwrap_or_else(|| panic!("gave up after {within:?} waiting for {what}"))
}

/// Calls `probe` every 5 ms until it gives a value, and returns it; None once `within` has
/// passed without one, so the caller can fail with what it collected.
pub fn poll<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A channel end [`recv_until`] can wait on: std's and crossbeam's receivers.
pub trait Inbox<T> {
    /// The next item; None once `within` has passed or every sender is gone.
    fn recv_within(&self, within: Duration) -> Option<T>;
}

impl<T> Inbox<T> for mpsc::Receiver<T> {
    fn recv_within(&self, within: Duration) -> Option<T> {
        self.recv_timeout(within).ok()
    }
}

impl<T> Inbox<T> for crossbeam_channel::Receiver<T> {
    fn recv_within(&self, within: Duration) -> Option<T> {
        self.recv_timeout(within).ok()
    }
}

/// Hands every item `rx` receives to `take` until it gives a value, and returns that;
/// None once `within` has passed (or every sender is gone) without one, so the caller
/// fails naming what it saw.
pub fn recv_until<T, R>(
    rx: &impl Inbox<T>,
    within: Duration,
    mut take: impl FnMut(T) -> Option<R>,
) -> Option<R> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if let Some(v) = take(rx.recv_within(left)?) {
            return Some(v);
        }
    }
}

/// The API address a `netsnoop` start line announces (`… http://ADDR/ (dashboard) …`).
pub fn announced_addr(line: &str) -> Option<std::net::SocketAddr> {
    line.split_once("https://")
        .or_else(|| line.split_once("http://"))?
        .1
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// Reads netsnoop's output lines until one announces its API address, for at most
/// `within`; panics with every line seen before it.
pub fn await_announced_addr(rx: &mpsc::Receiver<String>, within: Duration) -> std::net::SocketAddr {
    let mut seen = Vec::new();
    let addr = recv_until(rx, within, |line| {
        let addr = announced_addr(&line);
        seen.push(line);
        addr
    });
    addr.unwrap_or_else(|| panic!("no API address announced within {within:?}: {seen:#?}"))
}

/// The lines `r` yields, read on a thread of their own (for a child's stdout or stderr).
pub fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A child process that is killed and reaped when this goes out of scope, even when an
/// assertion fails first.
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Kills the child now and waits for it.
    pub fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A shell loop burning one core (it makes no system calls), with its priority raised so
/// the scheduler gives it a full core even while the machine is busy compiling. Needs root.
///
/// With scheduler autogroups, nice only ranks tasks inside one session, so the burner gets
/// a session of its own (setsid, which execs in place here: the child is no group leader)
/// and that session's autogroup is raised too, once the child leads it (before setsid ran,
/// it would raise the test's own autogroup instead).
pub fn cpu_burner() -> KillOnDrop {
    require_root("the CPU burner's priority is raised with nice -n -20");
    let child = Command::new("setsid")
        .args(["nice", "-n", "-20", "sh", "-c", "while :; do :; done"])
        .spawn()
        .expect("spawn setsid nice sh");
    let burner = KillOnDrop(child);
    let pid = burner.id();
    wait_for(Duration::from_secs(5), "the burner's own session", || {
        (session_of(pid) == Some(pid)).then_some(())
    });
    let autogroup = format!("/proc/{pid}/autogroup");
    if std::path::Path::new(&autogroup).exists() {
        std::fs::write(&autogroup, "-20").expect("raise the burner's autogroup");
    }
    burner
}

/// The session id of `pid`, from /proc/PID/stat.
fn session_of(pid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    after.split_ascii_whitespace().nth(3)?.parse().ok()
}

/// One HTTP/1.1 request on a fresh loopback connection (`Connection: close`, a JSON
/// content type, the bearer `token` if given), waiting at most `wait` for the answer:
/// (status, body). Status 0 means no answer: the connection was refused or cut, or `wait`
/// passed (a server being killed is what some tests want to see).
pub fn http_request(
    addr: std::net::SocketAddr,
    (method, path, body): (&str, &str, &str),
    token: Option<&str>,
    wait: Duration,
) -> (u16, String) {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut out = String::new();
    if s.set_read_timeout(Some(wait)).is_err()
        || s.write_all(request.as_bytes()).is_err()
        || s.read_to_string(&mut out).is_err()
    {
        return (0, String::new());
    }
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// [`http_request`] with a 10 s wait.
pub fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    http_request(addr, (method, path, body), None, Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_for_returns_the_first_value_the_probe_gives() {
        let mut calls = 0;
        let got = wait_for(Duration::from_secs(5), "the third call", || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(got, 3);
    }

    #[test]
    #[should_panic(expected = "waiting for nothing")]
    fn wait_for_panics_naming_what_it_waited_for() {
        wait_for(Duration::from_millis(20), "nothing", || None::<()>);
    }

    #[test]
    fn recv_until_returns_what_take_makes_of_the_first_fitting_item() {
        let (tx, rx) = mpsc::channel();
        for n in [1, 2, 3, 4] {
            tx.send(n).unwrap();
        }
        let mut seen = Vec::new();
        let got = recv_until(&rx, Duration::from_secs(5), |n| {
            seen.push(n);
            (n % 3 == 0).then_some(n * 10)
        });
        assert_eq!((got, seen), (Some(30), vec![1, 2, 3]));
    }

    #[test]
    fn recv_until_gives_up_at_the_deadline_while_the_sender_lives() {
        let (tx, rx) = crossbeam_channel::unbounded::<u32>();
        let started = Instant::now();
        assert_eq!(recv_until(&rx, Duration::from_millis(50), Some), None);
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(tx);
    }

    #[test]
    fn recv_until_gives_up_once_every_sender_is_gone() {
        let (tx, rx) = mpsc::channel::<u32>();
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(
            recv_until(&rx, Duration::from_secs(60), |_| None::<()>),
            None
        );
    }

    #[test]
    fn lines_come_through_in_order() {
        let rx = lines(&b"one\ntwo\n"[..]);
        assert_eq!(rx.iter().collect::<Vec<_>>(), ["one", "two"]);
    }
}
