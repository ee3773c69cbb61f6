//! Where the config file and the data dir are when no flag says: system paths for root,
//! XDG base directories for everyone else.

use anyhow::bail;
use std::path::{Path, PathBuf};

/// The environment the defaults depend on, gathered once so tests can pass their own.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub root: bool,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl Env {
    pub fn current() -> Env {
        let var = |k| std::env::var_os(k).map(PathBuf::from);
        Env {
            root: nix::unistd::geteuid().is_root(),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_data_home: var("XDG_DATA_HOME"),
            home: var("HOME"),
        }
    }

    /// The XDG spec says relative base directories are invalid and must be ignored.
    fn base(&self, xdg: &Option<PathBuf>, fallback: &str) -> anyhow::Result<PathBuf> {
        if let Some(dir) = xdg.as_ref().filter(|d| d.is_absolute()) {
            return Ok(dir.clone());
        }
        match self.home.as_ref().filter(|h| h.is_absolute()) {
            Some(home) => Ok(home.join(fallback)),
            None => bail!(
                "cannot find a default location: HOME is not set; pass --config and --data-dir"
            ),
        }
    }
}

pub const SYSTEM_CONFIG: &str = "/etc/netsnoop/config.toml";
pub const SYSTEM_DATA: &str = "/var/lib/netsnoop";

pub fn config_path(env: &Env) -> anyhow::Result<PathBuf> {
    if env.root {
        return Ok(PathBuf::from(SYSTEM_CONFIG));
    }
    Ok(env
        .base(&env.xdg_config_home, ".config")?
        .join("netsnoop/config.toml"))
}

pub fn data_dir(env: &Env) -> anyhow::Result<PathBuf> {
    if env.root {
        return Ok(PathBuf::from(SYSTEM_DATA));
    }
    Ok(env
        .base(&env.xdg_data_home, ".local/share")?
        .join("netsnoop"))
}

/// The data dir in force: the flag, else the config's `paths.data_dir`, else the default.
pub fn resolve_data_dir(configured: Option<&Path>, env: &Env) -> anyhow::Result<PathBuf> {
    match configured {
        Some(dir) => Ok(dir.to_path_buf()),
        None => data_dir(env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_the_system_paths() {
        let env = Env {
            root: true,
            home: Some("/root".into()),
            ..Env::default()
        };
        assert_eq!(config_path(&env).unwrap(), Path::new(SYSTEM_CONFIG));
        assert_eq!(data_dir(&env).unwrap(), Path::new(SYSTEM_DATA));
    }

    #[test]
    fn a_user_gets_the_xdg_directories() {
        let env = Env {
            root: false,
            xdg_config_home: Some("/x/conf".into()),
            xdg_data_home: Some("/x/data".into()),
            home: Some("/home/u".into()),
        };
        assert_eq!(
            config_path(&env).unwrap(),
            Path::new("/x/conf/netsnoop/config.toml")
        );
        assert_eq!(data_dir(&env).unwrap(), Path::new("/x/data/netsnoop"));
    }

    #[test]
    fn without_xdg_variables_a_user_falls_back_to_home() {
        let env = Env {
            root: false,
            xdg_config_home: Some("relative/ignored".into()),
            xdg_data_home: None,
            home: Some("/home/u".into()),
        };
        assert_eq!(
            config_path(&env).unwrap(),
            Path::new("/home/u/.config/netsnoop/config.toml")
        );
        assert_eq!(
            data_dir(&env).unwrap(),
            Path::new("/home/u/.local/share/netsnoop")
        );
        assert!(data_dir(&Env::default()).is_err());
    }
}
