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
