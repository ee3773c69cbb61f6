//! The config file: one struct per section, defaults, loading with precise errors, CLI
//! overrides and validation. The commented template lives in [`template`].
//!
//! Adding a section: add one field to [`Config`] (its type derives `Deserialize`,
//! `Serialize`, `Default`, `PartialEq`, with `#[serde(default, deny_unknown_fields)]`),
//! add its block to `template::sections`, and, if some values can be out of range, check
//! them in [`Config::problems`].

pub mod fleet;
mod load;
pub mod locate;
pub mod sections;
pub mod template;
mod validate;

pub use load::{ConfigError, Loaded, load, parse};
pub use sections::{Age, DurationSetting, General, Keep, Logs, Paths, Server, Store};

use netsnoop_core::net::config::NetworkConfig;
use netsnoop_core::process::config::ProcessConfig;
use netsnoop_core::redact::RedactConfig;
use netsnoop_core::resource::ResourceConfig;
use netsnoop_core::resource::config::ConfigError as ResourceConfigError;
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
    /// `[redact]`: secrets removed from process arguments before anything keeps them
    /// (netsnoop-core).
    pub redact: RedactConfig,
    /// `[process]`: exec events, process table, bursts, instigators (netsnoop-core).
    pub process: ProcessConfig,
    /// `[resources]`: sampling and CPU, memory and load alerts (netsnoop-core).
    pub resources: ResourceConfig,
    /// `[network]`: capture, flows, rollups, scans (netsnoop-core).
    pub network: NetworkConfig,
    /// `[[outputs]]`: where alerts are delivered (netsnoop-deliver), any number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<netsnoop_deliver::OutputConfig>,
    /// `[attribution]`: which process owns each connection (netsnoop-core `owner`).
    pub attribution: netsnoop_core::owner::OwnerConfig,
    /// `[fleet]`: agent enrolment on `serve`, host status thresholds, this host's identity.
    pub fleet: fleet::Fleet,
    /// `[agent]`: where `netsnoop agent` reports, its batches and its spool.
    pub agent: fleet::Agent,
}

/// Command-line values that take precedence over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    /// Replaces `network.capture.interfaces` when not empty.
    pub interfaces: Vec<String>,
    pub filter: Option<String>,
    pub no_capture: bool,
    /// Replaces `process.source.exec_source` (`--exec-source`).
    pub exec_source: Option<netsnoop_core::process::exec_source::ExecSourceChoice>,
}

impl Config {
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(dir) = &o.data_dir {
            self.paths.data_dir = Some(dir.clone());
        }
        if let Some(listen) = o.listen {
            self.server.listen = listen;
        }
        let capture = &mut self.network.capture;
        if !o.interfaces.is_empty() {
            capture.interfaces = o.interfaces.clone();
        }
        if let Some(filter) = &o.filter {
            capture.filter = Some(filter.clone()).filter(|f| !f.trim().is_empty());
        }
        if o.no_capture {
            capture.enabled = false;
        }
        if let Some(choice) = o.exec_source {
            self.process.source.exec_source = choice;
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
        self.fleet.check(&mut p);
        self.agent.check(&mut p);
        if let Err(ResourceConfigError::OutOfRange { field, value, fix }) =
            self.resources.validate()
        {
            p.add(
                &format!("resources.{field}"),
                format!("{value} is out of range: {fix}"),
            );
        }
        if let Err(e) = self.redact.validate() {
            p.add(&format!("redact.{}", e.key), e.problem);
        }
        if let Err(e) = self.network.validate() {
            p.add(&format!("network.{}", e.key), e.problem);
        }
        if let Err((key, problem)) = self.attribution.validate() {
            p.add(&format!("attribution.{key}"), problem);
        }
        sections::check_interfaces(&self.network.capture.interfaces, &mut p);
        let mut names = std::collections::HashSet::new();
        for (i, o) in self.outputs.iter().enumerate() {
            for (key, problem) in o.problems(i) {
                p.add(&key, problem);
            }
            if !names.insert(o.name.as_str()) {
                p.add(
                    &format!("outputs[{i}].name"),
                    format!("{:?} is used twice: give each output its own name", o.name),
                );
            }
        }
        p.into_vec()
    }
}

#[cfg(test)]
mod tests;
