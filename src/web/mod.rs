//! The read-only web server (`[http]`): health for the service manager and load balancers,
//! `/metrics` for Prometheus, the live view and case pages, and the cases as JSON. Nothing it serves writes anything.
//! Every response forbids scripts and framing (Content-Security-Policy), and off loopback
//! every request needs the `[http]` token. No client can take what the mail needs: see
//! `server` (connections and their timeouts) and `limits` (time, panics, database permits).

mod api;
mod connections;
mod exposition;
mod guard;
mod health;
mod limits;
mod metrics;
mod pages;
mod server;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::HttpConfig;
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
    let limits = desk.config.http.limits.clone();
    server::run(listener, router(desk), limits, shutdown).await;
}

fn router(desk: Desk) -> Router {
    let readers = limits::Readers::new();
    let pages = Router::new()
        .route("/", get(pages::live))
        .route("/cases/{number}", get(pages::case))
        .route("/api/cases", get(api::cases))
        .route("/api/cases/{number}", get(api::case))
        .route("/api/sla", get(api::sla))
        .route_layer(from_fn_with_state(readers.pages, limits::permit));
    let scrape = Router::new()
        .route("/metrics", get(metrics::metrics))
        .route_layer(from_fn_with_state(readers.metrics, limits::permit));
    let ready = Router::new()
        .route("/readyz", get(health::readyz))
        .route_layer(from_fn_with_state(readers.ready, limits::permit));
    let routes = Router::new()
        .merge(pages)
        .merge(scrape)
        .merge(ready)
        .route("/style.css", get(pages::stylesheet))
        .route("/healthz", get(health::healthz))
        .fallback(guard::not_found)
        .with_state(desk.clone());
    bounded(routes, &desk.config.http)
}

/// Every route runs inside the guard (so that every answer, a panic's and a timeout's too,
/// carries its headers), then the time limit and the panic boundary.
fn bounded(routes: Router, http: &HttpConfig) -> Router {
    routes
        .layer(from_fn_with_state(http.limits.request_timeout, limits::bounded))
        .layer(from_fn_with_state(Arc::new(http.clone()), guard::guard))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    use super::*;

    async fn ask(router: &Router, path: &str) -> axum::response::Response {
        let mut request = Request::builder().uri(path).header(header::HOST, "localhost").body(Body::empty()).unwrap();
        request.extensions_mut().insert(ConnectInfo("127.0.0.1:40000".parse::<SocketAddr>().unwrap()));
        router.clone().oneshot(request).await.unwrap()
    }

    fn config(timeout: Duration) -> HttpConfig {
        let limits = crate::config::HttpLimits { request_timeout: timeout, ..Default::default() };
        HttpConfig { listen: None, token: None, public_url: None, trusted_proxies: Vec::new(), limits, page_size: 200 }
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_with_the_guard_headers_and_is_counted() {
        async fn boom() -> &'static str {
            panic!("the page broke")
        }
        let routes = Router::new().route("/boom", get(boom));
        let router = bounded(routes, &config(Duration::from_secs(30)));
        let before = crate::metrics::metrics().panics.get_or_create(&crate::metrics::Task { task: "web" }).get();
        let response = ask(&router, "/boom").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(header::CONTENT_SECURITY_POLICY).is_some());
        assert!(crate::metrics::metrics().panics.get_or_create(&crate::metrics::Task { task: "web" }).get() > before);
        assert_eq!(ask(&router, "/boom").await.status(), StatusCode::INTERNAL_SERVER_ERROR, "and again");
    }

    #[tokio::test]
    async fn a_handler_past_the_request_timeout_is_a_503_with_the_guard_headers() {
        let routes = Router::new().route("/never", get(std::future::pending::<&'static str>));
        let router = bounded(routes, &config(Duration::from_millis(50)));
        let response = ask(&router, "/never").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::CONTENT_SECURITY_POLICY).is_some());
    }
}
