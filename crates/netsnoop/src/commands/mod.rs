//! The subcommands, and what they share: resolving config, data dir and time zone from the
//! flags, the file and the defaults.

mod alerts;
pub mod analyze;
mod banner;
mod init;
mod monitor;
mod not_yet;
mod serve;
pub mod wiring;

use crate::cli::{Cli, Command, Common};
use crate::config::{self, Config, Overrides, locate};
use crate::time::TimeFmt;
use anyhow::Context;
use std::fmt;
use std::path::PathBuf;

/// A capability another part of the project is still building. Exits with code 3 so
/// scripts can tell "not there yet" from a failure.
#[derive(Debug)]
pub struct NotBuiltYet(pub String);

impl fmt::Display for NotBuiltYet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not built yet", self.0)
    }
}

impl std::error::Error for NotBuiltYet {}

pub const NOT_BUILT_EXIT: u8 = 3;

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

fn absolute(p: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
}

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(a) => init::run(&a),
        Command::Run(a) => monitor::run(&a),
        Command::Watch(a) => monitor::watch(&a),
        Command::Analyze(a) => analyze::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Alerts(a) => alerts::run(&a),
        Command::Agent(a) => not_yet::agent(&a),
    }
}
