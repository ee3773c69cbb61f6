//! fleet_load: N synthetic agents against one running `netsnoop serve`. Each enrols with
//! NETSNOOP_ENROLL_SECRET, then once a second ships a gzip-compressed `IngestBatch` of
//! realistic records (see `records`) the way `netsnoop agent` does, one request in flight,
//! a refused batch retried before the next. Reports records/s stored, ingest latency,
//! lag from record time to queryable (polling the server's SQLite file), and the server's
//! CPU and peak RSS. Run by bench/fleet/run.sh (release build).
//!
//! Usage: fleet_load --server URL --agents N --rate RECORDS_PER_SEC --secs S
//!        [--warmup S] [--db PATH/netsnoop.db] [--pid SERVER_PID]

mod probe;
mod records;

use flate2::Compression;
use flate2::write::GzEncoder;
use netsnoop_core::fleet::{
    AGENT_KEY_HEADER, AgentStatus, ENROLL_PATH, EnrollReply, EnrollRequest, INGEST_PATH,
    IngestBatch, WIRE_VERSION,
};
use netsnoop_core::{Host, Record, Ts};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Args {
    server: String,
    agents: usize,
    rate: f64,
    secs: u64,
    warmup: u64,
    db: Option<std::path::PathBuf>,
    pid: Option<u32>,
    alert_every: u64,
}

fn args() -> Args {
    let mut a = Args {
        server: "http://127.0.0.1:18950".into(),
        agents: 50,
        rate: 2_000.0,
        secs: 60,
        warmup: 5,
        db: None,
        pid: None,
        alert_every: 60,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        let n = |v: &str| {
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("{} wants a number", pair[0]))
        };
        match pair[0].as_str() {
            "--server" => a.server = v,
            "--agents" => a.agents = n(&v) as usize,
            "--rate" => a.rate = n(&v),
            "--secs" => a.secs = n(&v) as u64,
            "--warmup" => a.warmup = n(&v) as u64,
            "--db" => a.db = Some(v.into()),
            "--pid" => a.pid = Some(n(&v) as u32),
            "--alert-every" => a.alert_every = n(&v) as u64,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// What one agent saw.
#[derive(Default)]
struct Seen {
    /// Request latencies (s) of the batches acknowledged inside the window.
    latency: Vec<f64>,
    /// Seconds from each record's time to its batch's acknowledgement (window only).
    ack_lag: Vec<f64>,
    records: u64,
    batches: u64,
    failures: u64,
    unsent: u64,
}

struct Window {
    start: Instant,
    end: Instant,
    drain: Instant,
}

impl Window {
    fn holds(&self, t: Instant) -> bool {
        t >= self.start && t <= self.end
    }
}

fn gzip_batch(batch: &IngestBatch) -> Vec<u8> {
    let json = serde_json::to_vec(batch).expect("a batch serialises");
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    gz.write_all(&json).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

async fn enroll(client: &reqwest::Client, a: &Args, host: &Host, secret: &str) -> String {
    let req = EnrollRequest {
        secret: secret.into(),
        host: host.clone(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
    };
    for _ in 0..50 {
        let resp = client
            .post(format!("{}{ENROLL_PATH}", a.server))
            .json(&req)
            .send()
            .await;
        if let Ok(r) = resp
            && r.status().is_success()
            && let Ok(reply) = r.json::<EnrollReply>().await
        {
            return reply.key;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("agent {} could not enrol", host.id);
}

async fn agent(i: usize, a: Arc<Args>, secret: Arc<String>, w: Arc<Window>) -> Seen {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let host = Host::new(format!("load-{i:04}"), format!("load-{i:04}.bench")).expect("host");
    let key = enroll(&client, &a, &host, &secret).await;
    let mut make = records::Agent::new(i as u64 + 1);
    let per_batch = a.rate / a.agents as f64;
    let mut owed = 0.0;
    let mut seen = Seen::default();
    let mut queue: VecDeque<(Vec<u8>, Vec<Ts>)> = VecDeque::new();
    // Agents tick once a second, spread evenly over the second.
    let phase = Duration::from_secs(1).mul_f64(i as f64 / a.agents as f64);
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + phase, Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = Ts::now();
    let mut seq = 0u64;
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now < w.end {
            let to = Ts::now();
            owed += per_batch;
            let n = owed.floor() as usize;
            owed -= n as f64;
            let recs: Vec<Record> = make.batch(last, to, n, a.alert_every);
            last = to;
            seq += 1;
            let times = recs.iter().map(Record::time).collect();
            let batch = IngestBatch {
                version: WIRE_VERSION,
                host: host.clone(),
                agent_version: env!("CARGO_PKG_VERSION").into(),
                seq,
                sent_at: Ts::now(),
                records: recs,
                status: AgentStatus {
                    spool_batches: queue.len() as u64 + 1,
                    ..AgentStatus::default()
                },
            };
            queue.push_back((gzip_batch(&batch), times));
        } else if queue.is_empty() || now > w.drain {
            seen.unsent = queue.iter().map(|(_, t)| t.len() as u64).sum();
            return seen;
        }
        while let Some((body, times)) = queue.front() {
            let sent = Instant::now();
            let resp = client
                .post(format!("{}{INGEST_PATH}", a.server))
                .header(AGENT_KEY_HEADER, &key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::CONTENT_ENCODING, "gzip")
                .body(body.clone())
                .send()
                .await;
            let ok = match resp {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            let done = Instant::now();
            if !ok {
                seen.failures += 1;
                break;
            }
            if w.holds(done) {
                let acked = Ts::now();
                seen.latency.push(done.duration_since(sent).as_secs_f64());
                seen.ack_lag.extend(times.iter().map(|t| acked.since(*t)));
                seen.records += times.len() as u64;
                seen.batches += 1;
            }
            queue.pop_front();
        }
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let a = Arc::new(args());
    let secret = Arc::new(std::env::var("NETSNOOP_ENROLL_SECRET").expect("NETSNOOP_ENROLL_SECRET"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let t0 = Instant::now();
    let start = t0 + Duration::from_secs(a.warmup);
    let end = start + Duration::from_secs(a.secs);
    let w = Arc::new(Window {
        start,
        end,
        drain: end + Duration::from_secs(15),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let poller = a.db.clone().map(|db| {
        let stop = stop.clone();
        std::thread::spawn(move || probe::poll_lags(db, Duration::from_millis(100), stop))
    });
    let tasks: Vec<_> = (0..a.agents)
        .map(|i| rt.spawn(agent(i, a.clone(), secret.clone(), w.clone())))
        .collect();
    let me = std::process::id();
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let (srv0, me0, ts0) = (a.pid.map(probe::cpu_secs), probe::cpu_secs(me), Ts::now());
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let (srv1, me1, ts1) = (a.pid.map(probe::cpu_secs), probe::cpu_secs(me), Ts::now());
    let window = a.secs as f64;
    let mut all = Seen::default();
    for t in tasks {
        let s = rt.block_on(t).expect("an agent task");
        all.latency.extend(s.latency);
        all.ack_lag.extend(s.ack_lag);
        all.records += s.records;
        all.batches += s.batches;
        all.failures += s.failures;
        all.unsent += s.unsent;
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let mut lags: Vec<f64> = poller
        .map(|p| p.join().expect("the poller"))
        .unwrap_or_default()
        .into_iter()
        .filter(|(t, _)| *t >= ts0 && *t <= ts1)
        .map(|(_, l)| l)
        .collect();
    let ms = |s: f64| s * 1000.0;
    let cpu = |c0: Option<f64>, c1: Option<f64>| match (c0, c1) {
        (Some(x), Some(y)) => (y - x) / window * 100.0,
        _ => f64::NAN,
    };
    println!(
        "agents={} offered={:.0} stored_rps={:.0} batches={} failures={} unsent={} \
         req_p50_ms={:.1} req_p99_ms={:.1} lag_n={} lag_p50_s={:.2} lag_p99_s={:.2} \
         ack_lag_p50_s={:.2} ack_lag_p99_s={:.2} server_cpu_pct={:.1} server_rss_mib={:.0} gen_cpu_pct={:.1}",
        a.agents,
        a.rate,
        all.records as f64 / window,
        all.batches,
        all.failures,
        all.unsent,
        ms(pct(&mut all.latency, 0.5)),
        ms(pct(&mut all.latency, 0.99)),
        lags.len(),
        pct(&mut lags, 0.5),
        pct(&mut lags, 0.99),
        pct(&mut all.ack_lag, 0.5),
        pct(&mut all.ack_lag, 0.99),
        cpu(srv0, srv1),
        a.pid.map_or(f64::NAN, probe::peak_rss_mib),
        cpu(Some(me0), Some(me1)),
    );
}
