//! Commands whose capability other parts of the project are still building. They check
//! their config like every command, then say plainly what is missing.

use super::{NotBuiltYet, setup};
use crate::cli::{AgentArgs, ServeArgs};
use crate::config::Overrides;

pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let s = setup(
        &args.common,
        Overrides {
            listen: args.listen,
            ..Overrides::default()
        },
    )?;
    Err(NotBuiltYet(format!(
        "the HTTP API (would listen on {})",
        s.config.server.listen
    ))
    .into())
}

pub fn agent(_args: &AgentArgs) -> anyhow::Result<()> {
    Err(NotBuiltYet(
        "`netsnoop agent` (planned: run the monitors and report to a central `netsnoop serve`)"
            .into(),
    )
    .into())
}
