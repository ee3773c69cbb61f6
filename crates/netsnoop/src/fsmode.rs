//! Who may read what NetSnoop writes: the data dir is created 0700 and every file in it
//! 0600 (argv of every user, alerts, the store), or 2750/0640 when `paths.group` shares
//! them with a group. The config (it may hold the API token) is written 0600.
//!
//! The data dir decides: a file created in it gets 0640 only when the dir is group-readable
//! (its setgid bit also gives the file the dir's group), so writers need no setting.

use anyhow::Context;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Data dir without a group: only the owner.
pub const DIR_MODE: u32 = 0o700;
/// Data dir shared with `paths.group`: setgid, so files inside take its group.
pub const GROUP_DIR_MODE: u32 = 0o2750;
pub const FILE_MODE: u32 = 0o600;
pub const GROUP_FILE_MODE: u32 = 0o640;

/// Creates `dir` (and missing parents) 0700 if it does not exist; an existing dir is left
/// as it is (see [`prepare_data_dir`] for the data dir itself).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates the data dir if needed and gives it its mode: 0700, or 2750 owned by `group`.
/// A dir made world-readable by an older version is tightened too, when it is ours.
pub fn prepare_data_dir(dir: &Path, group: Option<&str>) -> anyhow::Result<()> {
    create_dir(dir).with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        // Not ours to change (e.g. a shared dir set up by an administrator).
        return Ok(());
    }
    let mode = match group {
        Some(name) => {
            let gid = group_id(name)?;
            std::os::unix::fs::chown(dir, None, Some(gid)).with_context(|| {
                format!(
                    "cannot give {} to group {name:?}: run as root or as a member of it",
                    dir.display()
                )
            })?;
            GROUP_DIR_MODE
        }
        None => DIR_MODE,
    };
    if meta.mode() & 0o7777 != mode {
        std::fs::set_permissions(dir, Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", dir.display()))?;
    }
    Ok(())
}

fn group_id(name: &str) -> anyhow::Result<u32> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        Ok(None) => anyhow::bail!(
            "paths.group: no group {name:?} on this host; create it (groupadd {name}) or remove the setting"
        ),
        Err(e) => Err(e).with_context(|| format!("cannot look up group {name:?}")),
    }
}

/// The mode for a new file in `dir`: 0640 when the dir is shared with its group, else 0600.
pub fn file_mode_in(dir: &Path) -> u32 {
    match std::fs::metadata(dir) {
        Ok(m) if m.mode() & 0o040 != 0 => GROUP_FILE_MODE,
        _ => FILE_MODE,
    }
}

/// Opens `path` for appending, creating it with [`file_mode_in`] its dir.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(file_mode_in(dir))
        .open(path)
}

/// Writes a file only its owner can read (0600), also when it already existed.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)?;
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    f.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_new_data_dir_is_private_and_files_in_it_are_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/data");
        prepare_data_dir(&dir, None).unwrap();
        assert_eq!(mode(&dir), 0o700);
        open_append(&dir.join("x.log")).unwrap();
        assert_eq!(mode(&dir.join("x.log")), 0o600);
    }

    #[test]
    fn a_world_readable_data_dir_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), Permissions::from_mode(0o755)).unwrap();
        prepare_data_dir(tmp.path(), None).unwrap();
        assert_eq!(mode(tmp.path()), 0o700);
    }

    #[test]
    fn a_group_shares_the_dir_and_its_new_files_read_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        // Group "daemon" exists on every Debian system; root may give files to it.
        prepare_data_dir(&dir, Some("daemon")).unwrap();
        let daemon = nix::unistd::Group::from_name("daemon").unwrap().unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o2750);
        assert_eq!(meta.gid(), daemon.gid.as_raw());
        let f = dir.join("anomalies.csv");
        open_append(&f).unwrap();
        assert_eq!(mode(&f), 0o640);
        assert_eq!(std::fs::metadata(&f).unwrap().gid(), daemon.gid.as_raw());
    }

    #[test]
    fn an_unknown_group_is_refused_naming_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let err = prepare_data_dir(tmp.path(), Some("no-such-group-xyz")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("groupadd no-such-group-xyz"), "{msg}");
    }

    #[test]
    fn a_private_file_is_owner_only_even_when_it_existed_world_readable() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("config.toml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, Permissions::from_mode(0o644)).unwrap();
        write_private(&p, "new").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }
}
