//! The subcommands and their dispatch; what they share at start is in `setup`.

mod alerts;
pub mod analyze;
mod banner;
mod hosts;
mod init;
mod manuals;
mod monitor;
mod serve;
mod silence;
pub mod wiring;

use crate::cli::{Cli, Command};
use std::fmt;

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

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(a) => init::run(&a),
        Command::Run(a) => monitor::run(&a),
        Command::Watch(a) => monitor::watch(&a),
        Command::Analyze(a) => analyze::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Alerts(a) => alerts::run(&a),
        Command::Agent(a) => monitor::agent(&a),
        Command::Hosts(a) => hosts::run(&a),
        Command::Completions(a) => manuals::completions(&a),
        Command::Man(a) => manuals::man(&a),
    }
}
