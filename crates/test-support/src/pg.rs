//! A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` in a temp dir, on a
//! free loopback port, one per test binary (started on first use), a fresh database per
//! test. A watchdog process stops the server and removes the directory when the test
//! binary exits, however it exits. Without PostgreSQL's server binaries the test fails
//! naming the fix; it never skips.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The superuser every test cluster has, and its password.
pub const SUPERUSER: &str = "netsnoop_test";
/// The superuser's password (the cluster accepts only password logins over TCP).
pub const PASSWORD: &str = "netsnoop-test-password";

/// A running cluster.
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// The watchdog's stdin: closed when this process exits, which stops the server.
    _watchdog: Mutex<(Child, ChildStdin)>,
    next_db: AtomicU64,
}

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static PgCluster {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| PgCluster::start(&[]))
}

/// Where PostgreSQL's server binaries are: `NETSNOOP_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout), else `pg_ctl` on the PATH. Panics
/// naming the fix when there are none.
pub fn bin_dir() -> PathBuf {
    find_bin(
        std::env::var_os("NETSNOOP_PG_BIN").map(PathBuf::from),
        Path::new("/usr/lib/postgresql"),
        std::env::var_os("PATH"),
    )
    .unwrap_or_else(|fix| panic!("{fix}"))
}

fn has_server(dir: &Path) -> bool {
    dir.join("pg_ctl").exists() && dir.join("initdb").exists()
}

fn find_bin(
    explicit: Option<PathBuf>,
    debian: &Path,
    path: Option<std::ffi::OsString>,
) -> Result<PathBuf, String> {
    let missing = "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in \
         /usr/lib/postgresql/*/bin or on the PATH: run `scripts/setup.sh test` (it installs \
         Debian's postgresql), `apt-get install postgresql`, or set NETSNOOP_PG_BIN";
    if let Some(dir) = explicit {
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "NETSNOOP_PG_BIN={} holds no initdb and pg_ctl. {missing}",
                dir.display()
            ))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    path.map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| has_server(d))
        .ok_or_else(|| missing.to_string())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// PostgreSQL refuses to run as root: as root, run its programs as `postgres` (or
/// `nobody` where that user does not exist).
fn run_as() -> Option<nix::unistd::User> {
    if !is_root() {
        return None;
    }
    ["postgres", "nobody"]
        .iter()
        .find_map(|n| nix::unistd::User::from_name(n).ok().flatten())
}

/// Hands `paths` to the user the server runs as (when tests run as root), so it can
/// read files a test made for it, such as a TLS certificate and key.
pub fn give_to_server_user(paths: &[&Path]) {
    if let Some(user) = run_as() {
        for p in paths {
            nix::unistd::chown(*p, Some(user.uid), Some(user.gid))
                .unwrap_or_else(|e| panic!("chown {} to {}: {e}", p.display(), user.name));
        }
    }
}

fn command(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    match run_as() {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &user.name, "--"]).arg(path);
            c
        }
        None => Command::new(path),
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgCluster {
    /// Initialises and starts a cluster with extra `-c name=value` server settings.
    /// Tests use [`cluster`]; benchmarks start their own with durable settings.
    pub fn start(settings: &[&str]) -> PgCluster {
        let bin = bin_dir();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("netsnoop-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the cluster's temp dir");
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).expect("writing the password file");
        if let Some(user) = run_as() {
            for p in [&dir, &pwfile] {
                nix::unistd::chown(p.as_path(), Some(user.uid), Some(user.gid))
                    .expect("handing the cluster's dir to the postgres user");
            }
        }
        let data = dir.join("data");
        let mut init = command(&bin, "initdb");
        init.arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync"])
            .args(["--auth-host=scram-sha-256", "--auth-local=trust"])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(init, "initdb");
        let port = free_port();
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            dir.display()
        );
        for s in settings {
            options.push_str(" -c ");
            options.push_str(s);
        }
        std::fs::write(data.join("netsnoop.opts"), &options).expect("writing the options");
        let cluster_dir = dir.clone();
        let watchdog = spawn_watchdog(&bin, &cluster_dir);
        let cluster = PgCluster {
            bin,
            dir,
            port,
            _watchdog: Mutex::new(watchdog),
            next_db: AtomicU64::new(0),
        };
        cluster.pg_ctl(&["start"]);
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, action: &[&str]) {
        let options = std::fs::read_to_string(self.data().join("netsnoop.opts"))
            .expect("reading the options");
        let mut c = command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options])
            .args(action);
        run(c, &format!("pg_ctl {}", action.join(" ")));
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server back when it returns.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-m", "fast"]);
    }

    /// Stops the server (fast shutdown); [`PgCluster::start_again`] brings it back.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// Starts the server after [`PgCluster::stop`].
    pub fn start_again(&self) {
        self.pg_ctl(&["start"]);
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `user:password` to database `db`.
    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    /// The superuser's URL to database `db`.
    pub fn url(&self, db: &str) -> String {
        self.url_as(SUPERUSER, PASSWORD, db)
    }

    /// A connection as the superuser to the `postgres` database, for setting up roles
    /// and databases.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to the test cluster: {e}"))
    }

    /// Creates an empty database with a name no other test uses; returns its URL.
    pub fn fresh_database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        self.admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        self.url(&name)
    }

    /// The postmaster's process id (from `postmaster.pid`), so a benchmark can count the
    /// server's CPU time: the postmaster and its children.
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The server log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

/// A shell that waits for its stdin to close (this process exiting), then stops the
/// server at once and removes the cluster's directory.
fn spawn_watchdog(bin: &Path, dir: &Path) -> (Child, ChildStdin) {
    let pg_ctl = bin.join("pg_ctl");
    let stop = match run_as() {
        Some(user) => format!("runuser -u {} -- ", user.name),
        None => String::new(),
    };
    let script = format!(
        "cat >/dev/null; {stop}'{}' -D '{}/data' stop -m immediate >/dev/null 2>&1; rm -rf '{}'",
        pg_ctl.display(),
        dir.display(),
        dir.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the cluster's watchdog");
    let mut stdin = child.stdin.take().expect("the watchdog's stdin");
    // Nothing is ever written; the pipe only has to stay open while we live.
    let _ = stdin.flush();
    (child, stdin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_binaries_fail_naming_the_setup_script() {
        let empty = std::env::temp_dir().join("netsnoop-no-postgres-here");
        let err = find_bin(None, &empty, Some(empty.clone().into_os_string()))
            .expect_err("no binaries anywhere");
        assert!(err.contains("scripts/setup.sh test"), "{err}");
        let err = find_bin(Some(empty.clone()), &empty, None).expect_err("empty override");
        assert!(
            err.contains("NETSNOOP_PG_BIN") && err.contains("setup.sh"),
            "{err}"
        );
    }
}
