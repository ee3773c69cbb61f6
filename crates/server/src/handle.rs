//! Running the server from synchronous code: its own small runtime on its own thread,
//! stopped (gracefully) when the handle is dropped.

use crate::config::StartError;
use crate::state::AppState;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A running server. Dropping it shuts the server down and waits for it.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), StartError>>>,
}

impl ServerHandle {
    /// Checks the token rules and binds `state.config.listen` before returning, so a
    /// refused start or a busy port is reported here, then serves on a background thread.
    pub fn start(state: AppState) -> Result<ServerHandle, StartError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("netsnoop-http")
            .enable_all()
            .build()
            .map_err(StartError::Serve)?;
        let listener = runtime.block_on(crate::bind(&state.config))?;
        let addr = listener.local_addr().map_err(StartError::Serve)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("netsnoop-http".into())
            .spawn(move || {
                runtime.block_on(crate::serve(listener, state, async move {
                    let _ = stopped.await;
                }))
            })
            .map_err(StartError::Serve)?;
        Ok(ServerHandle {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and reports how it ended.
    pub fn stop(mut self) -> Result<(), StartError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(StartError::Serve(std::io::Error::other(
                "the HTTP thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(error = %e, "the HTTP server ended with an error");
        }
    }
}
