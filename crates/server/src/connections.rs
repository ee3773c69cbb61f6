//! The HTTP accept loop and what it bounds: how long a client may take to send a
//! request's headers, how long a keep-alive connection may sit idle, and how many
//! connections may be open at once. When the cap is reached the oldest idle connection
//! is closed to make room, so a flood of half-open connections can never lock out a
//! health check; only when every connection is busy is a new one refused.

use axum::Router;
use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// The bounds on connections (`[server]` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A client must send a request's complete headers within this long of the
    /// connection becoming ready for one.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// How often a cap-hit warning may be logged; the counts in between are summed into it.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets
/// requests in progress finish and waits for every connection to close.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    metrics: Arc<dyn ConnectionMetrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (closing, closed) = watch::channel(false);
    let table = Arc::new(Mutex::new(Table::default()));
    let clock = Instant::now();
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of fds (EMFILE) or a peer that gave up: wait a moment so a
                        // persistent error does not spin.
                        tracing::warn!(error = %e, "accepting an HTTP connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let activity = Arc::new(Activity::new(clock));
                let Some(id) = make_room(&table, &limits, &*metrics, &activity) else {
                    continue; // refused: the stream is dropped, so closed
                };
                let _ = stream.set_nodelay(true);
                let conn = run_connection(
                    stream,
                    tls.clone(),
                    app.clone(),
                    limits,
                    activity.clone(),
                    closed.clone(),
                    Remove { table: table.clone(), id, metrics: metrics.clone() },
                );
                let abort = tasks.spawn(conn);
                let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
                // Unless it already ended (and so removed itself).
                if let Some(open) = t.open.get_mut(&id) {
                    open.abort = Some(abort);
                }
            }
        }
    }
    let _ = closing.send(true);
    let drained =
        tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            "{} HTTP connections were still busy {} s after shutdown began; closing them",
            tasks.len(),
            DRAIN.as_secs()
        );
        tasks.shutdown().await;
    }
}

/// How long requests in progress may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// Where the accept loop reports (the hub's metrics in the server).
pub trait ConnectionMetrics: Send + Sync + 'static {
    fn set_open(&self, n: usize);
    fn evicted(&self);
    fn refused(&self);
    fn tls_failed(&self);
}

impl ConnectionMetrics for crate::LiveHub {
    fn set_open(&self, n: usize) {
        self.metrics().connections_open.set(n as i64);
    }
    fn evicted(&self) {
        self.metrics().connections_evicted.inc();
    }
    fn refused(&self) {
        self.metrics().connections_refused.inc();
    }
    fn tls_failed(&self) {
        self.metrics().tls_handshakes_failed.inc();
    }
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// Open connections by id; ids grow with accept order, so the first idle one found
    /// is the oldest.
    open: BTreeMap<u64, Open>,
    warned: Option<Instant>,
    evicted_since: u64,
    refused_since: u64,
}

struct Open {
    activity: Arc<Activity>,
    /// Set as soon as the connection's task is spawned.
    abort: Option<AbortHandle>,
}

/// Enters a new connection in the table, closing the oldest idle one when the cap is
/// reached. `None` means every connection is busy and the new one is refused.
fn make_room(
    table: &Mutex<Table>,
    limits: &Limits,
    metrics: &dyn ConnectionMetrics,
    activity: &Arc<Activity>,
) -> Option<u64> {
    let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
    let mut accepted = true;
    if t.open.len() >= limits.max_connections.max(1) {
        let oldest_idle = t
            .open
            .iter()
            .find(|(_, o)| o.activity.is_idle())
            .map(|(id, _)| *id);
        match oldest_idle {
            Some(id) => {
                if let Some(abort) = t.open.remove(&id).and_then(|o| o.abort) {
                    abort.abort();
                }
                t.evicted_since += 1;
                metrics.evicted();
            }
            None => {
                t.refused_since += 1;
                metrics.refused();
                accepted = false;
            }
        }
        if t.warned.is_none_or(|w| w.elapsed() >= WARN_EVERY) {
            tracing::warn!(
                "connection limit reached: {} connections are open (server.max_connections); closed {} idle and refused {} new connections since the last warning. If this is real load, raise server.max_connections; otherwise a client is holding connections open",
                t.open.len(),
                t.evicted_since,
                t.refused_since
            );
            t.warned = Some(Instant::now());
            t.evicted_since = 0;
            t.refused_since = 0;
        }
    }
    if !accepted {
        return None;
    }
    t.next_id += 1;
    let id = t.next_id;
    t.open.insert(
        id,
        Open {
            activity: activity.clone(),
            abort: None,
        },
    );
    metrics.set_open(t.open.len());
    Some(id)
}

/// Takes a connection out of the table when its task ends, however it ends.
struct Remove {
    table: Arc<Mutex<Table>>,
    id: u64,
    metrics: Arc<dyn ConnectionMetrics>,
}

impl Drop for Remove {
    fn drop(&mut self) {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        t.open.remove(&self.id);
        self.metrics.set_open(t.open.len());
    }
}

/// Serves one connection, over TLS first when `tls` is set. A client must complete its
/// handshake within the header timeout, as it must send its headers.
async fn run_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    activity: Arc<Activity>,
    closing: watch::Receiver<bool>,
    remove: Remove,
) {
    let Some(tls) = tls else {
        return serve_http(stream, app, limits, activity, closing, remove).await;
    };
    match tokio::time::timeout(limits.header_read_timeout, tls.accept(stream)).await {
        Ok(Ok(stream)) => serve_http(stream, app, limits, activity, closing, remove).await,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            remove.metrics.tls_failed();
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            remove.metrics.tls_failed();
        }
    }
}

async fn serve_http<S>(
    stream: S,
    app: Router,
    limits: Limits,
    activity: Arc<Activity>,
    mut closing: watch::Receiver<bool>,
    _remove: Remove,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let tower = TowerToHyperService::new(app);
    let tracked = activity.clone();
    let service = service_fn(move |request| {
        let busy = Busy::start(tracked.clone());
        let response = tower.call(request);
        async move {
            let response = response.await?;
            Ok::<_, Infallible>(response.map(|body| Body::new(Tracked { body, _busy: busy })))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut ending = false;
    loop {
        let check = tokio::time::sleep(activity.until_idle_timeout(limits.idle_timeout));
        tokio::select! {
            _ = conn.as_mut() => return,
            Ok(()) = closing.changed(), if !ending => {
                // No request in progress (perhaps half a header): nothing to finish.
                if activity.is_idle() {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                ending = true;
            }
            () = check, if !ending => {
                if activity.idle_for() >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    ending = true;
                }
            }
        }
    }
}

/// Whether a connection has a request in progress (headers read, response not yet
/// fully sent: a live stream counts as busy), and since when it has had none.
struct Activity {
    clock: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `clock` when the connection last became idle.
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new(clock: Instant) -> Activity {
        let now = clock.elapsed().as_millis() as u64;
        Activity {
            clock,
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(now),
        }
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    fn idle_for(&self) -> Duration {
        if !self.is_idle() {
            return Duration::ZERO;
        }
        let now = self.clock.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.idle_since_ms.load(Ordering::Acquire)))
    }

    /// How long until the idle timeout could expire (at least a little, so a busy
    /// connection is looked at again without spinning).
    fn until_idle_timeout(&self, timeout: Duration) -> Duration {
        timeout
            .saturating_sub(self.idle_for())
            .max(Duration::from_millis(100))
    }
}

/// Marks a request in progress until its response body is done or dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Busy {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.clock.elapsed().as_millis() as u64;
        self.0.idle_since_ms.store(now, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy while it is being sent.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
