//! Test harness: a real server on 127.0.0.1 port 0, a real SQLite store in a temp dir, the
//! real batching writer, and the real `Pipeline` (netsnoop-pipeline) running the real
//! network stages on a thread, so POSTed packets travel exactly as in `netsnoop run`:
//! ingest channel → stages → writer and live hub. Only its clock is scripted: `settle`
//! ticks it at a chosen event time.

#![allow(dead_code)]

use crossbeam_channel::{Receiver, Sender, bounded};
use netsnoop_core::net::config::NetworkConfig;
use netsnoop_core::net::stages::NetworkStages;
use netsnoop_core::{Event, Record, Stage, Ts};
use netsnoop_pipeline::{Clock, Pipeline, SessionEnd, Sink};
use netsnoop_server::{AppState, LiveHub, ServerConfig};
use netsnoop_store::{OpenOptions, Store, Writer, WriterOptions, spawn_writer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

pub enum Control {
    Batch(Vec<Event>),
    /// POSTed packets and agent batches: answered once committed, as `netsnoop run` does.
    Acked(netsnoop_store::AckedBatch),
    /// Tick the stages at `max event time + secs`, commit the writer, then answer.
    Settle(i64, Sender<()>),
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub hub: LiveHub,
    pub store: Arc<dyn Store>,
    control: Option<Sender<Control>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pipeline: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

pub struct Options {
    pub token: Option<String>,
    /// The address the token policy believes it listens on; the socket itself is always
    /// 127.0.0.1:0 so no test is reachable from outside.
    pub policy_listen: SocketAddr,
    pub body_limit: usize,
    pub network: NetworkConfig,
    pub allowed_hosts: Vec<String>,
    pub limits: netsnoop_server::connections::Limits,
    /// Socket owners joined into flows (`connection` events sent with `send_events`).
    pub attribution: Option<netsnoop_core::owner::OwnerConfig>,
    /// Agent enrolment and host states.
    pub fleet: netsnoop_server::fleet::FleetConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            policy_listen: "127.0.0.1:0".parse().unwrap(),
            body_limit: ServerConfig::default().body_limit,
            network: NetworkConfig::default(),
            allowed_hosts: Vec::new(),
            limits: Default::default(),
            attribution: None,
            fleet: Default::default(),
        }
    }
}

/// Forwards POSTed batches into the pipeline's control channel.
struct IngestInto(Sender<Control>);

impl netsnoop_server::PacketIngest for IngestInto {
    fn submit(
        &self,
        batch: netsnoop_store::AckedBatch,
        wait: Duration,
    ) -> Result<(), netsnoop_server::IngestError> {
        self.0
            .send_timeout(Control::Acked(batch), wait.max(Duration::from_millis(1)))
            .map_err(|_| netsnoop_server::IngestError::Closed)
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = netsnoop_store::open(
            dir.path().join("netsnoop.db").to_str().unwrap(),
            OpenOptions::default(),
        )
        .unwrap();
        let writer = spawn_writer(store.clone(), WriterOptions::default());
        let writer_handle = writer.handle();
        let hub = LiveHub::default();
        let (control, rx) = bounded::<Control>(64);
        let mut network = NetworkStages::new(&opts.network);
        if let Some(cfg) = opts.attribution.clone() {
            network = network.with_attribution(netsnoop_core::owner::Attribution::new(cfg));
        }
        let stages: Vec<Box<dyn Stage>> = vec![Box::new(network)];
        let pipeline = {
            let hub = hub.clone();
            std::thread::spawn(move || run_pipeline(rx, stages, writer, hub))
        };
        let config = ServerConfig {
            listen: opts.policy_listen,
            token: opts.token,
            body_limit: opts.body_limit,
            allowed_hosts: opts.allowed_hosts,
            limits: opts.limits,
            fleet: opts.fleet,
            ..ServerConfig::default()
        };
        let state = AppState::new(config, hub.clone())
            .with_ingest(IngestInto(control.clone()))
            .with_store(store.clone())
            .with_writer(writer_handle);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            netsnoop_server::serve(listener, state, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            hub,
            store,
            control: Some(control),
            stop: Some(stop),
            server: Some(server),
            pipeline: Some(pipeline),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends scripted events through the pipeline, as a source would.
    pub fn send_events(&self, events: Vec<Event>) {
        self.control
            .as_ref()
            .unwrap()
            .send(Control::Batch(events))
            .unwrap();
    }

    /// Closes the seconds and probe windows `secs` after the newest packet and waits until
    /// everything is committed to the store.
    pub async fn settle(&self, secs: i64) {
        let (tx, rx) = bounded(1);
        self.control
            .as_ref()
            .unwrap()
            .send(Control::Settle(secs, tx))
            .unwrap();
        tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)).unwrap())
            .await
            .unwrap();
    }

    /// One raw HTTP/1.1 request with exactly the headers given (plus Content-Length and
    /// Connection: close), so tests can forge what a browser or an attacker would send.
    pub async fn raw(&self, head: &str, body: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let req = format!(
            "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, out)
    }

    /// The `/metrics` exposition text (asserting a 200).
    pub async fn metrics(&self) -> String {
        let resp = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET /metrics");
        resp.text().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    pub async fn post(&self, body: &str) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .post(self.url("/packets"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Stops the server, then the pipeline (which commits what the writer holds).
    pub async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.take().unwrap().await.unwrap();
        self.control = None;
        let pipeline = self.pipeline.take().unwrap();
        tokio::task::spawn_blocking(move || pipeline.join().unwrap())
            .await
            .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A test that did not call shutdown (a failed assert): stop the server; the
        // pipeline thread ends when the last ingest sender goes with the server state.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The store writer as a pipeline sink: `flush` commits (the binary's store sink also runs
/// retention, which these tests do not need).
struct WriterSink(Option<Writer>);

impl Sink for WriterSink {
    fn name(&self) -> String {
        "store".into()
    }
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        let w = self.0.as_ref().expect("writer open");
        anyhow::ensure!(w.send(records.to_vec()), "writer queue full in a test");
        Ok(())
    }
    fn accept_durable(
        &mut self,
        records: &[Record],
        acks: &mut Vec<netsnoop_store::Ack>,
    ) -> anyhow::Result<()> {
        let w = self.0.as_ref().expect("writer open");
        w.send_durable(records.to_vec(), std::mem::take(acks));
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(self.0.as_ref().expect("writer open").flush()?)
    }
    fn close(&mut self, _: &SessionEnd) -> anyhow::Result<()> {
        if let Some(w) = self.0.take() {
            w.shutdown();
        }
        Ok(())
    }
}

/// The live hub as a pipeline sink, as the binary's `HubSink`.
struct HubSink(LiveHub);

impl Sink for HubSink {
    fn name(&self) -> String {
        "live api".into()
    }
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        self.0.publish(records);
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    fn close(&mut self, _: &SessionEnd) -> anyhow::Result<()> {
        Ok(())
    }
}

fn run_pipeline(rx: Receiver<Control>, stages: Vec<Box<dyn Stage>>, writer: Writer, hub: LiveHub) {
    let sinks: Vec<Box<dyn Sink>> =
        vec![Box::new(HubSink(hub)), Box::new(WriterSink(Some(writer)))];
    // Wall clock: `ingest` never ticks by itself; `settle` ticks at a scripted time.
    let mut pipeline = Pipeline::new(stages, sinks, Clock::Wall);
    let mut newest = Ts(0);
    for msg in rx {
        match msg {
            Control::Batch(batch) => {
                newest = batch.iter().map(Event::time).fold(newest, Ts::max);
                pipeline.ingest(batch);
            }
            Control::Acked(batch) => {
                newest = batch.events.iter().map(Event::time).fold(newest, Ts::max);
                pipeline.ingest_acked(vec![batch]);
            }
            Control::Settle(secs, reply) => {
                pipeline.tick(Ts(newest.micros() + secs * 1_000_000));
                pipeline.flush();
                let _ = reply.send(());
            }
        }
    }
    pipeline.finish("test over".into());
}

/// A NetWatch packet body at unix second `t`.
pub fn packet(t: f64, src: &str, dst: &str, proto: &str, size: i64) -> serde_json::Value {
    serde_json::json!({"timestamp": t, "src_ip": src, "dst_ip": dst, "protocol": proto, "packet_size": size})
}

/// Replaces every RFC 3339 time in a JSON value with a placeholder (for snapshots).
pub fn scrub_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if looks_like_time(s) => *s = "[time]".into(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(scrub_times),
        serde_json::Value::Object(o) => o.values_mut().for_each(scrub_times),
        _ => {}
    }
}

fn looks_like_time(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[10] == b'T'
        && s.parse::<jiff::Timestamp>().is_ok()
}
