//! What shipping alone costs an agent: the real `ShipSink`, spool and shipper thread of
//! `netsnoop agent`, fed synthetic records (made before the clock starts) at a fixed rate
//! and shipping to a running `netsnoop serve`. The process's CPU from the first record
//! until the spool is empty is the shipping cost: batching and JSON, the SQLite spool,
//! gzip and HTTP. No monitor runs. `bench/fleet/ship_cost.sh` starts the server.
//!
//! Usage: ship_cost SERVER_URL DATA_DIR [RATE records/s] [SECS]

#[path = "../fleet_load/records.rs"]
#[allow(dead_code)]
mod records;

use netsnoop::agent;
use netsnoop::config::Config;
use netsnoop::setup::Setup;
use netsnoop::sinks::{SessionEnd, Sink};
use netsnoop::time::TimeFmt;
use netsnoop_core::{Record, Ts};
use std::time::{Duration, Instant};

/// Ticks per second the records are handed over in, as the pipeline does.
const TICKS: u64 = 10;

fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (server, dir) = match &args[..] {
        [_, s, d, ..] => (s.clone(), std::path::PathBuf::from(d)),
        _ => anyhow::bail!("usage: ship_cost SERVER_URL DATA_DIR [RATE] [SECS]"),
    };
    let rate: u64 = args.get(3).map_or(Ok(1000), |a| a.parse())?;
    let secs: u64 = args.get(4).map_or(Ok(30), |a| a.parse())?;
    std::fs::create_dir_all(&dir)?;
    let mut config = Config::default();
    config.fleet.host_id = Some(format!("ship-cost-{}", std::process::id()));
    config.fleet.hostname = Some("ship-cost.bench".into());
    let setup = Setup {
        config,
        config_path: dir.join("none.toml"),
        config_found: false,
        data_dir: dir.clone(),
        tf: TimeFmt::utc(),
    };

    // Every second's records, made first: what the monitors would hand the sink.
    let start = Ts::now().secs();
    let mut make = records::Agent::new(7);
    let seconds: Vec<Vec<Record>> = (0..secs as i64)
        .map(|s| {
            let (from, to) = (Ts::from_secs(start + s), Ts::from_secs(start + s + 1));
            make.batch(from, to, rate as usize, 600)
        })
        .collect();
    let total: usize = seconds.iter().map(Vec::len).sum();

    let parts = agent::start(&setup, &server, &[])?;
    let mut sink = parts.sink;
    let spool = agent::spool::Spool::open(
        &dir.join(agent::spool::SPOOL_FILE),
        agent::spool::Bounds {
            max_bytes: u64::MAX,
            max_age: Duration::from_secs(86_400),
        },
    )?;
    // Enrolment first, outside the measurement.
    let enrolled = Instant::now();
    while !dir.join(agent::shipper::KEY_FILE).exists() {
        anyhow::ensure!(
            enrolled.elapsed() < Duration::from_secs(20),
            "not enrolled in 20 s (is serve running, with NETSNOOP_ENROLL_SECRET?)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let tick = Duration::from_secs(1) / TICKS as u32;
    for (s, second) in seconds.iter().enumerate() {
        let per_tick = second.len().div_ceil(TICKS as usize);
        for (k, chunk) in second.chunks(per_tick).enumerate() {
            sink.accept(chunk)?;
            sink.flush()?;
            let due = tick * (s as u32 * TICKS as u32 + k as u32 + 1);
            std::thread::sleep(due.saturating_sub(t0.elapsed()));
        }
    }
    sink.close(&SessionEnd {
        time: Ts::now(),
        reason: "end of input".into(),
        events: total as u64,
        alerts: 0,
        lost: 0,
        sink_errors: 0,
    })?;
    let fed = t0.elapsed();
    while spool.stats()?.batches > 0 {
        anyhow::ensure!(
            t0.elapsed() < fed + Duration::from_secs(60),
            "the spool did not drain within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu = cpu_secs() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    parts.shipper.stop();
    let dropped = spool.stats()?.dropped_records;
    println!(
        "records={total} rate={rate}/s wall={wall:.1}s cpu={cpu:.2}s ms_per_1000={:.2} core_pct_at_rate={:.2} dropped={dropped}",
        cpu * 1e6 / total as f64,
        cpu / wall * 100.0,
    );
    Ok(())
}
