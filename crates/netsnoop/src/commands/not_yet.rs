//! Commands whose capability other parts of the project are still building. They check
//! their config like every command, then say plainly what is missing.

use super::{NotBuiltYet, setup};
use crate::cli::{AgentArgs, AnalyzeArgs};
use crate::config::Overrides;

pub fn analyze(args: &AnalyzeArgs) -> anyhow::Result<()> {
    setup(&args.common, Overrides::default())?;
    Err(NotBuiltYet(format!(
        "offline analysis (netsnoop analyze {})",
        args.file.display()
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
