//! GET /stream: Server-Sent Events from the live hub. A client that falls more than the
//! buffer behind is disconnected (and counted) instead of slowing anyone else down.

use crate::hub::{LiveHub, LiveMessage};
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;

/// Live alerts, 1 s metric ticks and process events
///
/// Events: `alert`, `process`, `system`, `traffic`, `tick` (see the crate docs for shapes).
#[utoipa::path(get, path = "/stream", tag = "live",
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream")))]
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hub = state.hub.clone();
    let rx = hub.subscribe();
    let guard = ClientGuard::new(hub.clone());
    let closing = state.closing.subscribe();
    let events = futures_util::stream::unfold(
        (rx, guard, closing),
        |(mut rx, guard, mut closing)| async move {
            let next = tokio::select! {
                msg = rx.recv() => msg,
                _ = closing.wait_for(|c| *c) => return None,
            };
            // None: the hub dropped this client for falling behind, or is gone.
            next.map(|msg| (Ok(to_sse(&msg)), (rx, guard, closing)))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn to_sse(m: &LiveMessage) -> Event {
    Event::default().event(m.event).data(&*m.data)
}

/// Keeps the connected-clients gauge right however the stream ends.
struct ClientGuard {
    hub: LiveHub,
}

impl ClientGuard {
    fn new(hub: LiveHub) -> ClientGuard {
        hub.metrics().sse_clients.inc();
        ClientGuard { hub }
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.hub.metrics().sse_clients.dec();
    }
}
