//! The checkpointer thread: copies the WAL back into the database file off the write
//! path, so the writer never waits for a checkpoint's fsync.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on
//! the writer's thread; measured, that halved packet ingest (bench/store_ingest). Here
//! the writer has `wal_autocheckpoint = 0` and this thread, on its own connection,
//! checkpoints every `INTERVAL` in PASSIVE mode, which never blocks writers or readers.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use rusqlite::Connection;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(500);

/// WAL frames (pages) past which a PASSIVE checkpoint is not enough: readers keep old
/// frames pinned, so a TRUNCATE checkpoint (which waits for them, up to the busy
/// timeout) resets the log. 32,768 frames of 8 KiB is 256 MiB.
const FORCE_FRAMES: i64 = 32_768;

/// Stops and joins the thread when dropped.
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn spawn(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA busy_timeout = 5000")?;
        let (stop, stopped) = bounded(0);
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || run(conn, stopped))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: Connection, stopped: Receiver<()>) {
    // Failures in a row: a full disk fails every attempt, so it is logged when the
    // failures begin and when they end, not twice a second.
    let mut failures: u64 = 0;
    loop {
        match stopped.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        match checkpoint(&conn) {
            Ok(()) if failures > 0 => {
                tracing::info!(failures, "WAL checkpoints work again");
                failures = 0;
            }
            Ok(()) => {}
            Err(e) => {
                if failures == 0 {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying every 0.5 s, logged again when one succeeds");
                }
                failures += 1;
            }
        }
    }
}

fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    let (_busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if log > FORCE_FRAMES && done < log {
        tracing::info!(frames = log, "WAL large; forcing a truncating checkpoint");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}
