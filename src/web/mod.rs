//! The read-only web server (`[http]`): health for the service manager and load balancers,
//! `/metrics` for Prometheus, the live view and case pages, and the cases as JSON. Nothing it serves writes anything.
//! Every response forbids scripts and framing (Content-Security-Policy), and off loopback
//! every request needs the `[http]` token.

mod api;
mod exposition;
mod guard;
mod health;
mod metrics;
mod pages;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::desk::Desk;

/// The web server's socket, bound before the daemon reports ready: a port another process
/// holds fails the start instead of leaving the desk without its pages.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "web server listening");
    Ok(listener)
}

/// Serves until shutdown, then finishes the requests in hand.
pub async fn serve(desk: Desk, listener: TcpListener, shutdown: CancellationToken) {
    let app = router(desk);
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await {
        warn!(error = %e, "the web server stopped");
    }
}

fn router(desk: Desk) -> Router {
    Router::new()
        .route("/", get(pages::live))
        .route("/cases/{number}", get(pages::case))
        .route("/style.css", get(pages::stylesheet))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/cases", get(api::cases))
        .route("/api/cases/{number}", get(api::case))
        .route("/api/sla", get(api::sla))
        .fallback(guard::not_found)
        .layer(axum::middleware::from_fn_with_state(desk.clone(), guard::guard))
        .with_state(desk)
}
