//! `netsnoop init`: writes the commented default config and creates the data dir with the
//! log files' headers.

use crate::cli::InitArgs;
use crate::config::{Logs, locate, template};
use crate::sinks::logs;
use anyhow::{Context, bail};

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let env = locate::Env::current();
    let config_path = match &args.common.config {
        Some(p) => p.clone(),
        None => locate::config_path(&env)?,
    };
    let flag_dir = match &args.common.data_dir {
        Some(d) => Some(crate::setup::absolute(d)?),
        None => None,
    };
    if config_path.exists() && !args.force {
        bail!(
            "{} already exists; keep it, or pass --force to replace it with the template",
            config_path.display()
        );
    }
    if let Some(parent) = config_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // 0600: the config may hold the API token.
    crate::fsmode::write_private(&config_path, &template::render(flag_dir.as_deref()))
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let data_dir = match flag_dir {
        Some(d) => d,
        None => locate::data_dir(&env)?,
    };
    crate::fsmode::prepare_data_dir(&data_dir, None)?;
    logs::create_headers(&data_dir, &Logs::default())?;
    println!("wrote config    {}", config_path.display());
    println!("created data in {}", data_dir.display());
    println!(
        "next: edit the config if you like, then `netsnoop run{}`",
        match &args.common.config {
            Some(p) => format!(" --config {}", p.display()),
            None => String::new(),
        }
    );
    Ok(())
}
