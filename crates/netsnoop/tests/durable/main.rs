//! End to end, on a real `netsnoop serve` process: `{"status":"stored"}` means durable.
//! An acknowledged batch survives SIGKILL at any point, is counted by `/stats/*` at
//! once, is never lost to SIGTERM (which refuses new batches with 503), and a store that
//! cannot write (a real full file system) is a degraded mode that answers 503.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod crash;
mod full_disk;
mod proc;

use nix::sys::signal::Signal;
use proc::{Server, batch, http, identity, now_secs, read_db, request};
use std::time::{Duration, Instant};

#[test]
fn a_batch_answered_stored_survives_an_immediate_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let (status, body) = http(
        server.addr,
        "POST",
        "/packets",
        &batch(1, 0, 50, now_secs()),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"stored""#), "{body}");
    server.kill9();

    let stored = read_db(&server.db());
    let missing: Vec<_> = (0..50)
        .map(|n| identity(1, n))
        .filter(|id| !stored.packets.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert_eq!(
        stored.counted, 50,
        "the rollups count what was acknowledged"
    );
    assert_eq!(stored.integrity, "ok");
}

#[test]
fn an_acknowledged_packet_is_counted_by_the_statistics_within_200_ms() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let (status, body) = http(server.addr, "POST", "/packets", &batch(2, 0, 3, now_secs()));
    assert_eq!(status, 200, "{body}");
    let acked = Instant::now();
    let deadline = acked + Duration::from_millis(200);
    loop {
        let summary = proc::get_json(server.addr, "/stats/summary");
        if summary["total_packets"] == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not counted 200 ms after the acknowledgement: {summary}"
        );
    }
    let talkers = proc::get_json(server.addr, "/stats/top-talkers");
    assert_eq!(talkers.as_array().map(Vec::len), Some(3), "{talkers}");
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(10)).code(), Some(0));
}

#[test]
fn sigterm_answers_503_to_new_batches_and_keeps_every_acknowledged_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let addr = server.addr;
    // Warm up: the database exists and the first commit is done.
    assert_eq!(
        http(addr, "POST", "/packets", &batch(9, 0, 1, now_secs())).0,
        200
    );

    // Writers post until the server is gone, each remembering what was acknowledged.
    let writers: Vec<_> = (0..4u8)
        .map(|w| {
            std::thread::spawn(move || {
                let (mut acked, mut refused, mut next) = (Vec::new(), 0u32, 0u32);
                loop {
                    let (status, body) =
                        http(addr, "POST", "/packets", &batch(w, next, 20, now_secs()));
                    match status {
                        200 => acked.extend(next..next + 20),
                        // Shutting down, or a commit that timed out on the held lock.
                        503 => refused += 1,
                        0 => return (w, acked, refused),
                        other => panic!("unexpected {other}: {body}"),
                    }
                    next += 20;
                }
            })
        })
        .collect();
    // Hold SQLite's write lock so the stop cannot finish before a late request arrives:
    // the server must still answer, with 503, while it drains.
    let lock = rusqlite::Connection::open(server.db()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc::get_json(addr, "/health")["writer"]["records_written"].as_u64() < Some(200) {
        assert!(Instant::now() < deadline, "the writers never got going");
        std::thread::sleep(Duration::from_millis(10));
    }
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    server.signal(Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // A request taken just before the signal was handled waits for the lock: it is
        // left waiting. Once the signal is handled, every new one is refused at once.
        let body = batch(8, 0, 1, now_secs());
        let (status, body) = request(addr, "POST", "/packets", &body, Duration::from_millis(300));
        if status == 503 && body.contains("shutting down") {
            break;
        }
        assert!(matches!(status, 0 | 503), "{status} {body}");
        assert!(
            Instant::now() < deadline,
            "new batches were still taken: {body}\n{}",
            server.stderr_text()
        );
    }
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    assert_eq!(server.wait(Duration::from_secs(15)).code(), Some(0));

    let stored = read_db(&server.db());
    assert_eq!(stored.integrity, "ok");
    let mut total = 1;
    for writer in writers {
        let (w, acked, _refused) = writer.join().unwrap();
        total += acked.len() as u64;
        let lost: Vec<u32> = acked
            .into_iter()
            .filter(|n| !stored.packets.contains(&identity(w, *n)))
            .collect();
        assert!(
            lost.is_empty(),
            "writer {w}: acknowledged but lost: {lost:?}"
        );
    }
    assert!(
        stored.counted >= total,
        "{} counted < {total} acknowledged",
        stored.counted
    );
}
