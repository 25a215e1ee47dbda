//! The accept loop and each connection's task: hyper's HTTP/1 server with the limits
//! `axum::serve` lacks. A connection must send a whole request head within
//! `header_read_timeout` of its opening or of its previous response (hyper restarts that
//! timer when a kept-alive connection goes idle: `proto::h1::conn::State::idle`), and never
//! more than `max_header_bytes` of it; at most `max_connections` are open, and one more
//! closes the oldest that waits for a request with nothing of one in its socket. The descriptors the mail needs are never the
//! web's to take.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::{debug, warn};

use super::connections::{FIRST_REQUEST_GRACE, GRACE_WAIT, Registered, Registry};
use super::wire::{Tracked, Wire};
use crate::config::HttpLimits;

/// Serves `router` on `listener` until `shutdown`; then closes the connections between
/// requests at once and lets those with a request in hand finish it.
pub async fn run(listener: TcpListener, router: Router, limits: HttpLimits, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::new());
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors (EMFILE) or a connection reset before it was taken:
                // pause rather than spin; the connections open meanwhile may close.
                warn!(error = %e, "the web server could not accept a connection");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let Some(slot) = make_room(&slots, &registry, &limits, &shutdown).await else { break };
        let registered = registry.open(std::os::fd::AsRawFd::as_raw_fd(&stream));
        let task = connection(stream, peer, router.clone(), &limits, registered, shutdown.clone());
        connections.spawn(async move {
            task.await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// A free slot, made by closing a connection that waits for a request (or one stalled on
/// a client that does not read its answer) when none is free. `None` on shutdown.
async fn make_room(
    slots: &Arc<Semaphore>,
    registry: &Registry,
    limits: &HttpLimits,
    shutdown: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    let stalled_after = stalled_after(limits);
    let waiting = tokio::time::Instant::now();
    loop {
        if let Ok(slot) = slots.clone().try_acquire_owned() {
            return Some(slot);
        }
        // New connections get their grace until this one has waited long enough.
        let grace = if waiting.elapsed() < GRACE_WAIT { FIRST_REQUEST_GRACE } else { Duration::ZERO };
        let evicted = registry.evict_one(grace, stalled_after);
        debug!(evicted, "the web server is at [http] max_connections");
        // An evicted connection gives its slot up at once; with none to evict, the ones
        // serving become evictable when their response is out.
        tokio::select! {
            slot = slots.clone().acquire_owned() => return slot.ok(),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = shutdown.cancelled() => return None,
        }
    }
}

/// A handler has `request_timeout`; a response still unsent after twice that is a client
/// that does not read it.
fn stalled_after(limits: &HttpLimits) -> Duration {
    limits.request_timeout * 2
}

/// One connection, from its first byte to its close.
fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &HttpLimits,
    registered: Registered,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    let conn = registered.conn.clone();
    let io = TokioIo::new(Wire::new(stream, conn.clone()));
    let in_service = conn.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        in_service.begin();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let conn = in_service.clone();
        let answer = router.clone().oneshot(request);
        async move {
            let response = answer.await.unwrap_or_else(|never: Infallible| match never {});
            Ok::<_, Infallible>(response.map(|body| Tracked::new(body, conn)))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    let served = builder.serve_connection(io, service);
    let stalled_after = stalled_after(limits);
    async move {
        tokio::pin!(served);
        // Declared after `served`, so dropped before it: the registry forgets the socket
        // before it is closed and its number can be another connection's.
        let _registered = registered;
        let mut closing = false;
        loop {
            tokio::select! {
                done = served.as_mut() => {
                    if let Err(e) = done {
                        debug!(error = %e, %peer, "a web connection ended");
                    }
                    return;
                }
                // Nothing of ours is lost by closing a connection between requests, and a
                // stalled one would never finish; one that took a request meanwhile does.
                _ = conn.evicted.cancelled(), if !closing => {
                    if conn.between_requests() || conn.stalled(stalled_after) {
                        return;
                    }
                    served.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = shutdown.cancelled(), if !closing => {
                    if conn.between_requests() {
                        return;
                    }
                    served.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
