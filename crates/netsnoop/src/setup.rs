//! What every command resolves first: config, data dir and time zone, from the flags, the
//! file and the defaults.

use crate::cli::Common;
use crate::config::{self, Config, Overrides, locate};
use crate::time::TimeFmt;
use anyhow::Context;
use std::path::PathBuf;

/// Everything a command needs to know about where and how it runs.
#[derive(Clone, Debug)]
pub struct Setup {
    pub config: Config,
    pub config_path: PathBuf,
    /// False when the file is missing and the defaults are in use.
    pub config_found: bool,
    pub data_dir: PathBuf,
    pub tf: TimeFmt,
}

impl Setup {
    /// This host's identity (`[fleet]` host_id and hostname, else the machine's).
    pub fn host(&self) -> anyhow::Result<netsnoop_core::Host> {
        let f = &self.config.fleet;
        crate::identity::local_host(&self.data_dir, f.host_id.as_deref(), f.hostname.as_deref())
    }
}

/// Loads the config (missing file = defaults), applies the flags, resolves the data dir.
pub fn setup(common: &Common, mut overrides: Overrides) -> anyhow::Result<Setup> {
    let env = locate::Env::current();
    let config_path = match &common.config {
        Some(p) => p.clone(),
        None => locate::config_path(&env)?,
    };
    let loaded = config::load(&config_path)?;
    let mut config = loaded.config;
    if let Some(dir) = &common.data_dir {
        overrides.data_dir = Some(absolute(dir)?);
    }
    config.apply(&overrides);
    let data_dir = locate::resolve_data_dir(config.paths.data_dir.as_deref(), &env)?;
    let tf = TimeFmt::from_setting(&config.general.timezone)?;
    Ok(Setup {
        config,
        config_path,
        config_found: loaded.found,
        data_dir,
        tf,
    })
}

/// `p` made absolute against the current directory, for flags that take a path.
pub fn absolute(p: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
}
