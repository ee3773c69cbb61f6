//! Crash safety: SIGKILL at random points during concurrent ingest, again and again over
//! the same data directory; every acknowledged packet is found afterwards, the rollups
//! count at least as many, and the database passes `PRAGMA integrity_check`.

use crate::proc::{Server, batch, http, identity, now_secs, read_db};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const RUNS: u8 = 6;
const WRITERS: u8 = 4;

/// xorshift64: the seed is printed, so a failing run can be told apart.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn acknowledged_packets_survive_sigkill_at_random_points_during_concurrent_ingest() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut acked_total = 0u64;
    let mut all_acked: Vec<(u8, u32)> = Vec::new();
    for run in 0..RUNS {
        // Restarting over the database the previous SIGKILL left must work.
        let mut server = Server::start(dir.path());
        let addr = server.addr;
        let first_ack = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let id = run * WRITERS + w;
                let first_ack = first_ack.clone();
                let mut rng = Rng(seed ^ (u64::from(id) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                std::thread::spawn(move || {
                    let mut acked = Vec::new();
                    let mut next = 0u32;
                    loop {
                        let n = 1 + rng.below(300) as u32;
                        let (status, body) =
                            http(addr, "POST", "/packets", &batch(id, next, n, now_secs()));
                        match status {
                            200 => {
                                acked.extend((next..next + n).map(|k| (id, k)));
                                first_ack.store(true, Ordering::SeqCst);
                            }
                            0 => return acked,
                            other => panic!("writer {id}: unexpected {other}: {body}"),
                        }
                        next += n;
                    }
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !first_ack.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "nothing acknowledged in run {run}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // A random point in the next 0.6 s of ingest.
        std::thread::sleep(Duration::from_millis(rng.below(600)));
        server.kill9();
        for w in writers {
            let acked = w.join().unwrap();
            acked_total += acked.len() as u64;
            all_acked.extend(acked);
        }

        let stored = read_db(&server.db());
        assert_eq!(stored.integrity, "ok", "run {run}, seed {seed}");
        let lost: Vec<_> = all_acked
            .iter()
            .filter(|(w, n)| !stored.packets.contains(&identity(*w, *n)))
            .take(10)
            .collect();
        assert!(
            lost.is_empty(),
            "run {run}, seed {seed}: acknowledged but not stored (first 10): {lost:?}"
        );
        assert!(
            stored.counted >= acked_total,
            "run {run}, seed {seed}: rollups count {} < {acked_total} acknowledged",
            stored.counted
        );
        eprintln!(
            "run {run}: {acked_total} acknowledged so far, {} stored, {} counted",
            stored.packets.len(),
            stored.counted
        );
    }
    assert!(acked_total > 0);
}
