//! This host's identity: a stable id from `/etc/machine-id` (or generated once and kept in
//! the data dir) and the hostname, with command-line overrides for hosts that share both.

use anyhow::Context;
use netsnoop_core::Host;
use std::path::Path;

/// The file in the data dir that keeps a generated id where `/etc/machine-id` is missing.
pub const HOST_ID_FILE: &str = "host-id";

/// This host: `id`/`name` when given, else `/etc/machine-id` (or the kept `host-id`) and
/// the kernel's hostname.
pub fn local_host(data_dir: &Path, id: Option<&str>, name: Option<&str>) -> anyhow::Result<Host> {
    let id = match id {
        Some(id) => id.to_string(),
        None => machine_id(Path::new("/etc/machine-id"), data_dir)?,
    };
    let name = match name {
        Some(n) => n.to_string(),
        None => hostname(),
    };
    Host::new(id, name)
        .context("this host's identity is not valid; set it with --host-id and --hostname")
}

/// The machine id, or one generated once into `data_dir/host-id` and read back after.
fn machine_id(machine_id_file: &Path, data_dir: &Path) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(machine_id_file) {
        let id = text.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let kept = data_dir.join(HOST_ID_FILE);
    if let Ok(text) = std::fs::read_to_string(&kept) {
        let id = text.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).context("no randomness for a host id")?;
    let id = hex::encode(bytes);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    std::fs::write(&kept, format!("{id}\n"))
        .with_context(|| format!("cannot keep the generated host id in {}", kept.display()))?;
    Ok(id)
}

/// The kernel's hostname, or `localhost` when it cannot be read.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_id_is_used_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let mid = dir.path().join("machine-id");
        std::fs::write(&mid, "abc123\n").unwrap();
        assert_eq!(machine_id(&mid, dir.path()).unwrap(), "abc123");
        assert!(!dir.path().join(HOST_ID_FILE).exists());
    }

    #[test]
    fn a_generated_id_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-machine-id");
        let first = machine_id(&missing, dir.path()).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(machine_id(&missing, dir.path()).unwrap(), first);
    }

    #[test]
    fn overrides_win_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let h = local_host(dir.path(), Some("agent-a"), Some("ns-a")).unwrap();
        assert_eq!((h.id.as_str(), h.name.as_str()), ("agent-a", "ns-a"));
        assert!(local_host(dir.path(), Some("bad id"), None).is_err());
    }
}
