//! Server settings (listen address, token, limits, CORS) and the start-up safety check.

use jiff::tz::TimeZone;
use std::net::SocketAddr;
use std::time::Duration;

/// The default listen address: loopback only, NetWatch's port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// The shortest token accepted on an address beyond loopback (as `server.token` in the
/// config file must be everywhere).
pub const MIN_TOKEN_LEN: usize = 16;

/// `general.max_clock_skew`'s default: five minutes, as Kerberos allows.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// How the HTTP server behaves. The binary fills it from the config file, the command line
/// and `NETSNOOP_TOKEN`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen. Anything other than loopback requires [`ServerConfig::token`].
    pub listen: SocketAddr,
    /// Bearer token. Required for POST when set; required for every data endpoint when
    /// `listen` is not loopback.
    pub token: Option<String>,
    /// Largest request body accepted, in bytes. A batch of 1,000 NetWatch packets is about
    /// 130 kB, so the default leaves ample room while refusing runaway uploads.
    pub body_limit: usize,
    /// Origins allowed to call the API from a browser. Empty (the default) sends no CORS
    /// headers at all, so other sites cannot read the API through a visitor's browser.
    pub cors_origins: Vec<String>,
    /// Host names the server answers to besides IP addresses and `localhost`
    /// (`server.allowed_hosts`). Any other `Host:` is refused, which defeats DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Header-read and idle timeouts and the cap on open connections.
    pub limits: crate::connections::Limits,
    /// How far ahead of the server clock a POSTed packet's time may be
    /// (`general.max_clock_skew`); later ones are refused with 422 and counted.
    pub max_clock_skew: Duration,
    /// Zone used for times in responses (RFC 3339 with this zone's offset), and for naive
    /// times sent by NetWatch agents.
    pub timezone: TimeZone,
    /// Agents: enrolment and host status.
    pub fleet: crate::fleet::FleetConfig,
    /// Serve HTTPS with these PEM files; plain HTTP without.
    pub tls: Option<crate::tls::TlsFiles>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            token: None,
            body_limit: 8 * 1024 * 1024,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            limits: crate::connections::Limits::default(),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            timezone: TimeZone::UTC,
            fleet: crate::fleet::FleetConfig::default(),
            tls: None,
        }
    }
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "refusing to listen on {addr} without a token: anyone who can reach it could read and write your data. Set NETSNOOP_TOKEN (or `token` under [server] in the config), or listen on 127.0.0.1"
    )]
    NonLoopbackWithoutToken { addr: SocketAddr },
    #[error(
        "the token is empty: set NETSNOOP_TOKEN to a long random string (e.g. `openssl rand -hex 32`)"
    )]
    EmptyToken,
    #[error(
        "the token is {len} characters long; listening on {addr} needs at least {MIN_TOKEN_LEN} (no spaces), or anyone who can reach it could guess it: set NETSNOOP_TOKEN to e.g. `openssl rand -hex 24`"
    )]
    ShortToken { addr: SocketAddr, len: usize },
    #[error(
        "cannot listen on {addr}: {source}. Choose another port with --listen, or stop what is using it"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server stopped: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

impl ServerConfig {
    /// True when every request must carry the token (the address is reachable from
    /// other hosts).
    pub fn token_required_for_reads(&self) -> bool {
        !self.listen.ip().is_loopback()
    }

    /// Checks the settings before binding: a non-loopback address without a token, or an
    /// empty token, is refused.
    pub fn check(&self) -> Result<(), StartError> {
        match &self.token {
            Some(t) if t.trim().is_empty() => Err(StartError::EmptyToken),
            Some(t)
                if self.token_required_for_reads()
                    && (t.chars().count() < MIN_TOKEN_LEN
                        || t.chars().any(|c| c.is_whitespace() || c.is_control())) =>
            {
                Err(StartError::ShortToken {
                    addr: self.listen,
                    len: t.chars().count(),
                })
            }
            None if self.token_required_for_reads() => {
                Err(StartError::NonLoopbackWithoutToken { addr: self.listen })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str, token: Option<&str>) -> ServerConfig {
        ServerConfig {
            listen: listen.parse().unwrap(),
            token: token.map(str::to_string),
            ..ServerConfig::default()
        }
    }

    #[test]
    fn loopback_without_a_token_may_start() {
        assert!(config("127.0.0.1:8000", None).check().is_ok());
        assert!(config("[::1]:8000", None).check().is_ok());
    }

    #[test]
    fn a_public_address_without_a_token_is_refused_with_the_fix() {
        let err = config("0.0.0.0:8000", None).check().unwrap_err();
        assert!(err.to_string().contains("NETSNOOP_TOKEN"), "{err}");
        assert!(
            config("0.0.0.0:8000", Some("s3cret-long-enough"))
                .check()
                .is_ok()
        );
    }

    #[test]
    fn beyond_loopback_a_token_under_16_characters_is_refused_naming_the_fix() {
        let err = config("0.0.0.0:8000", Some("abc")).check().unwrap_err();
        assert!(
            matches!(err, StartError::ShortToken { len: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("openssl rand"), "{err}");
        assert!(
            config("0.0.0.0:8000", Some("sixteen chars ok"))
                .check()
                .is_err()
        );
        assert!(config("127.0.0.1:8000", Some("abc")).check().is_ok());
    }

    #[test]
    fn an_empty_token_is_refused() {
        assert!(matches!(
            config("127.0.0.1:8000", Some("  ")).check(),
            Err(StartError::EmptyToken)
        ));
    }
}
