//! Turning a `postgres://` URL into a connection pool: the password (URL, `PGPASSWORD` or
//! `~/.pgpass`), TLS with rustls by `sslmode`, and one-line errors that name the fix.

use super::tls;
use crate::{Result, StoreError};
use postgres::Config;
use postgres::config::{Host, SslMode};
use r2d2_postgres::PostgresConnectionManager;
use std::path::PathBuf;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The pool type every part of the PostgreSQL store shares.
pub(crate) type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;
/// One pooled connection.
pub(crate) type Conn = r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>;

/// What the URL says, parsed, plus how to describe the server in errors.
pub(crate) struct Target {
    pub(crate) config: Config,
    pub(crate) tls: MakeRustlsConnect,
    /// `user@host:port/db`, never the password.
    pub(crate) shown: String,
}

impl Target {
    pub(crate) fn user(&self) -> &str {
        self.config.get_user().unwrap_or("postgres")
    }
    pub(crate) fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or_else(|| self.user())
    }
}

/// Parses `url`, fills in the password and picks the TLS mode. libpq's `sslmode`
/// values are understood: `disable`, `prefer` (the default) and `require` encrypt
/// without checking the certificate, `verify-ca` and `verify-full` check it against
/// the system's trusted roots (and `verify-full` the host name too, as rustls always does).
pub(crate) fn target(url: &str) -> Result<Target> {
    let (url, verify) = take_verify_mode(url);
    let mut config: Config = url.parse().map_err(|e| StoreError::PgUrl {
        url: crate::redact_password(&url),
        reason: format!("{e}"),
    })?;
    if config.get_user().is_none() {
        let user = std::env::var("PGUSER")
            .ok()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_hosts().is_empty() {
        config.host("localhost");
    }
    if config.get_connect_timeout().is_none() {
        // An unreachable host must fail start-up in seconds, not minutes.
        config.connect_timeout(Duration::from_secs(5));
    }
    config.application_name("netsnoop");
    let (host, port) = first_host(&config);
    let dbname = config.get_dbname().map_or_else(
        || config.get_user().unwrap_or_default().to_string(),
        str::to_string,
    );
    let user = config.get_user().unwrap_or_default().to_string();
    if config.get_password().is_none() {
        if let Some(pw) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
            config.password(pw);
        } else if let Some(pw) = pgpass_lookup(&host, port, &dbname, &user) {
            config.password(pw);
        }
    }
    let tls = if verify {
        config.ssl_mode(SslMode::Require);
        tls::verifying()?
    } else {
        tls::encrypting_only()?
    };
    let shown = format!("{user}@{host}:{port}/{dbname}");
    Ok(Target { config, tls, shown })
}

/// Takes `sslmode=verify-ca|verify-full` out of the URL (the driver knows only
/// disable, prefer and require) and says whether it was there.
fn take_verify_mode(url: &str) -> (String, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), false);
    };
    let mut verify = false;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let drop = matches!(*kv, "sslmode=verify-full" | "sslmode=verify-ca");
            verify |= drop;
            !drop
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, verify)
}

fn first_host(config: &Config) -> (String, u16) {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

/// The password for this server from the password file (`PGPASSFILE` or `~/.pgpass`),
/// libpq's format: `host:port:database:user:password`, `*` matching anything, `\`
/// escaping `:` and `\`. Like libpq, a file others may read is ignored (with a warning).
fn pgpass_lookup(host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let meta = std::fs::metadata(&path).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "ignoring {}: others can read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let port = port.to_string();
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(split_pgpass_line)
        .find(|f| {
            f.len() == 5
                && [host, port.as_str(), db, user]
                    .iter()
                    .zip(f)
                    .all(|(want, got)| got == "*" || got == want)
        })
        .map(|mut f| f.swap_remove(4))
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// A pool of `size` connections; the first is opened now so a wrong password or an
/// unreachable server fails start-up with one line saying what to do.
pub(crate) fn pool(target: &Target, size: u32) -> Result<Pool> {
    // Connect once by hand: r2d2 would retry quietly until its timeout and then report
    // only "timed out".
    let client = target
        .config
        .connect(target.tls.clone())
        .map_err(|e| connect_error(target, &e))?;
    drop(client);
    let manager = PostgresConnectionManager::new(target.config.clone(), target.tls.clone());
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(2))
        .build(manager)
        .map_err(|e| StoreError::PgConnect {
            target: target.shown.clone(),
            problem: format!("{e}: check that the server is running and reachable"),
        })
}

/// One line for a failed connection: what is wrong and how to fix it.
pub(crate) fn connect_error(target: &Target, e: &postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let (user, db) = (target.user(), target.dbname());
    let problem = match e.code() {
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            format!(
                "the server refused the password of user {user:?}: put the right one in the URL (postgres://{user}:PASSWORD@…), in PGPASSWORD or in ~/.pgpass (mode 600)"
            )
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => format!(
            "database {db:?} does not exist: create it with `createdb -O {user} {db}` (or `CREATE DATABASE \"{db}\" OWNER \"{user}\"` in psql)"
        ),
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => format!(
            "user {user:?} may not connect to database {db:?}: `GRANT CONNECT ON DATABASE \"{db}\" TO \"{user}\"`"
        ),
        Some(_) => one_line(e),
        None => {
            let text = one_line(e);
            if text.contains("password missing") {
                format!(
                    "the server asks for a password for user {user:?} and none was given: put it in the URL, in PGPASSWORD or in ~/.pgpass (mode 600)"
                )
            } else if text.contains("certificate") || text.contains("TLS") || text.contains("tls") {
                format!(
                    "TLS failed ({text}): with sslmode=verify-full the server's certificate must be signed by a CA the system trusts (add it to /etc/ssl/certs) and name this host; sslmode=require encrypts without checking"
                )
            } else {
                format!(
                    "cannot reach the server ({text}): check that PostgreSQL runs there and listens on that address and port (listen_addresses, pg_hba.conf, firewall)"
                )
            }
        }
    };
    StoreError::PgConnect {
        target: target.shown.clone(),
        problem,
    }
}

/// The driver's message with its source chain, on one line.
pub(crate) fn one_line(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_are_taken_out_of_the_url_and_the_rest_kept() {
        assert_eq!(
            take_verify_mode("postgres://a@h/db?sslmode=verify-full&connect_timeout=3"),
            ("postgres://a@h/db?connect_timeout=3".to_string(), true)
        );
        assert_eq!(
            take_verify_mode("postgres://a@h/db?sslmode=require"),
            ("postgres://a@h/db?sslmode=require".to_string(), false)
        );
        assert_eq!(
            take_verify_mode("postgres://a@h/db?sslmode=verify-ca"),
            ("postgres://a@h/db".to_string(), true)
        );
    }

    #[test]
    fn pgpass_lines_split_on_unescaped_colons() {
        assert_eq!(
            split_pgpass_line(r"db.example:5432:*:ns:pa\:ss\\word"),
            vec!["db.example", "5432", "*", "ns", r"pa:ss\word"]
        );
        assert_eq!(
            split_pgpass_line("h:1:d:u:with:colons"),
            vec!["h", "1", "d", "u", "with:colons"]
        );
    }
}
