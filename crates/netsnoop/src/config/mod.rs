//! The config file: one struct per section, defaults, loading with precise errors, CLI
//! overrides and validation. The commented template lives in [`template`].
//!
//! Adding a section: add one field to [`Config`] (its type derives `Deserialize`,
//! `Serialize`, `Default`, `PartialEq`, with `#[serde(default, deny_unknown_fields)]`),
//! add its commented block to `template::SECTIONS`, and, if some values are out of range,
//! check them in [`Config::problems`].

mod load;
pub mod locate;
pub mod sections;
pub mod template;
mod validate;

pub use load::{ConfigError, Loaded, load, parse};
pub use sections::{Capture, DurationSetting, General, Logs, Paths, Server, Store};

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub general: General,
    pub paths: Paths,
    pub logs: Logs,
    pub store: Store,
    pub server: Server,
    pub capture: Capture,
}

/// Command-line values that take precedence over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    /// Replaces `capture.interfaces` when not empty.
    pub interfaces: Vec<String>,
    pub filter: Option<String>,
    pub no_capture: bool,
}

impl Config {
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(dir) = &o.data_dir {
            self.paths.data_dir = Some(dir.clone());
        }
        if let Some(listen) = o.listen {
            self.server.listen = listen;
        }
        if !o.interfaces.is_empty() {
            self.capture.interfaces = o.interfaces.clone();
        }
        if let Some(filter) = &o.filter {
            self.capture.filter = filter.clone();
        }
        if o.no_capture {
            self.capture.enabled = false;
        }
    }

    /// Every value out of its allowed range, as `(key, reason)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut p = validate::Problems::default();
        self.general.check(&mut p);
        self.paths.check(&mut p);
        self.logs.check(&mut p);
        self.store.check(&mut p);
        self.server.check(&mut p);
        self.capture.check(&mut p);
        p.into_vec()
    }
}

#[cfg(test)]
mod tests;
