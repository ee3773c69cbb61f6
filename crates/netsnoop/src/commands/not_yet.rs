//! Commands whose capability other parts of the project are still building. They check
//! their config like every command, then say plainly what is missing.

use super::NotBuiltYet;
use crate::cli::AgentArgs;

pub fn agent(_args: &AgentArgs) -> anyhow::Result<()> {
    Err(NotBuiltYet(
        "`netsnoop agent` (planned: run the monitors and report to a central `netsnoop serve`)"
            .into(),
    )
    .into())
}
