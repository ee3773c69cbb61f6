//! A full disk, for real: the data directory lives on a small tmpfs this test mounts
//! (root needed, as in CI) and fills. Ingest answers 503, `/health` shows the
//! `store_failing` degraded mode, the failure is logged once with counts, and writing
//! resumes by itself once space is freed.

use crate::proc::{Server, batch, get_json, http, identity, now_secs, read_db};
use nix::sys::signal::Signal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs at {} ({}): this test needs root (CI runs the tests as root)",
            at.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs(at.to_path_buf())
    }

    /// Writes a file until the file system is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk).and_then(|()| f.sync_all()) {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
        }
        // Whatever is left is smaller than a chunk: take it byte by byte.
        let byte = [0u8; 1];
        while f.write_all(&byte).and_then(|()| f.sync_all()).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn lines_with(server: &Server, needle: &str) -> usize {
    server
        .stderr
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .count()
}

#[test]
fn a_full_disk_is_a_degraded_mode_that_refuses_ingest_and_recovers_by_itself() {
    let mnt = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(mnt.path(), "24m");
    let data = mnt.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut server = Server::start(&data);
    let addr = server.addr;
    assert_eq!(
        http(addr, "POST", "/packets", &batch(1, 0, 100, now_secs())).0,
        200
    );
    let mut acked: Vec<(u8, u32)> = (0..100).map(|n| (1, n)).collect();
    assert_eq!(
        get_json(addr, "/health")["degraded"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    let filler = fs.fill();
    // Every batch needs new pages; the first may still fit in space SQLite already holds.
    let mut next = 100;
    let mut refused = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused < 20 {
        let (status, body) = http(addr, "POST", "/packets", &batch(1, next, 2000, now_secs()));
        match status {
            200 => acked.extend((next..next + 2000).map(|n| (1, n))),
            503 => {
                assert!(body.contains("full"), "{body}");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
        next += 2000;
        assert!(
            Instant::now() < deadline,
            "a full disk never refused a batch"
        );
    }
    let health = get_json(addr, "/health");
    assert_eq!(health["status"], "degraded", "{health}");
    let mode = health["degraded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mode"] == "store_failing")
        .unwrap_or_else(|| panic!("no store_failing mode: {health}"))
        .clone();
    assert!(
        mode["effect"].as_str().unwrap().contains("records lost"),
        "{mode}"
    );
    assert!(
        mode["fix"].as_str().unwrap().contains("free space"),
        "{mode}"
    );
    // Twenty refused batches of 2,000 records: one line when the failures began.
    let began = lines_with(&server, "store writes are failing");
    let ended = lines_with(&server, "store writes work again");
    assert!(
        began >= 1 && began <= ended + 1 && began <= 3,
        "{began} failure lines, {ended} recovery lines: {}",
        server.stderr_text()
    );

    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(addr, "POST", "/packets", &batch(1, next, 100, now_secs()));
        if status == 200 {
            acked.extend((next..next + 100).map(|n| (1, n)));
            break;
        }
        assert_eq!(status, 503, "{body}");
        next += 100;
        assert!(Instant::now() < deadline, "writing never resumed: {body}");
    }
    let health = get_json(addr, "/health");
    assert!(
        !health["degraded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mode"] == "store_failing"),
        "{health}"
    );
    // The line is logged as the first commit succeeds, so it may trail that commit's 200.
    let recovered = netsnoop_test_support::wait_for(
        Duration::from_secs(10),
        "the recovery line on stderr",
        || {
            let lines = server.stderr.lock().unwrap();
            let line = lines.iter().find(|l| l.contains("store writes work again"));
            line.cloned()
        },
    );
    assert!(recovered.contains("records in"), "{recovered}");

    server.signal(Signal::SIGTERM);
    server.wait(Duration::from_secs(15));
    let stored = read_db(&server.db());
    assert_eq!(stored.integrity, "ok");
    let lost = acked
        .iter()
        .filter(|(w, n)| !stored.packets.contains(&identity(*w, *n)))
        .count();
    assert_eq!(lost, 0, "acknowledged but lost");
}
