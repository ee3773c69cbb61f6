//! The `netsnoop` binary: parses the command line and runs the command.

#![forbid(unsafe_code)]

use clap::{CommandFactory, FromArgMatches};
use netsnoop::cli::Cli;
use netsnoop::commands;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let matches = Cli::command()
        .long_version(netsnoop::version::long_version())
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match commands::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netsnoop: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
