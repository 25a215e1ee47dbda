//! What a request may cost once its head is read: a time limit (503 past
//! `[http] request_timeout`), a panic boundary (500, logged and counted, the connection and
//! the daemon go on), and a permit before a handler reads the database.
//!
//! The database pool is the mail's too: intake, the sender and the scheduler draw from it.
//! Pages queue for one of `PAGE_READERS` permits, so no number of page views holds more
//! than that many connections; `/metrics` and `/readyz` have a permit each, so a scraper or
//! a load balancer never waits behind a slow page (Prometheus gives up after 10 s), nor
//! the load balancer's one-row ping behind a slow scrape, and a flood of either holds one
//! connection at most.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use tokio::sync::Semaphore;
use tracing::{error, warn};

/// Pages and JSON reading the database at once.
const PAGE_READERS: usize = crate::config::WEB_DB_READERS as usize - 2;

/// The permits the web server's readers of the database queue for.
#[derive(Clone)]
pub struct Readers {
    pub pages: Arc<Semaphore>,
    pub metrics: Arc<Semaphore>,
    pub ready: Arc<Semaphore>,
}

impl Readers {
    pub fn new() -> Readers {
        Readers {
            pages: Arc::new(Semaphore::new(PAGE_READERS)),
            metrics: Arc::new(Semaphore::new(1)),
            ready: Arc::new(Semaphore::new(1)),
        }
    }
}

/// Holds one of `readers`' permits while the handler runs.
pub async fn permit(State(readers): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    match readers.acquire().await {
        Ok(_permit) => next.run(request).await,
        // Never closed; should it be, no handler runs unbounded.
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the web server is stopping\n").into_response(),
    }
}

/// The time limit and the panic boundary around every handler.
pub async fn bounded(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, AssertUnwindSafe(next.run(request)).catch_unwind()).await {
        Ok(Ok(response)) => response,
        Ok(Err(panic)) => {
            let message = crate::panics::message_of(panic.as_ref());
            error!(path, panic = message, "a web request's handler panicked; answered 500");
            crate::metrics::metrics().count_panic("web");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page failed: the log says why\n").into_response()
        }
        Err(_) => {
            warn!(path, limit = ?limit, "a web request took longer than [http] request_timeout; answered 503");
            (StatusCode::SERVICE_UNAVAILABLE, "the desk is busy: try again shortly\n").into_response()
        }
    }
}
