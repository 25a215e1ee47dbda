use std::path::Path;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::Exit;
use super::load::{fail, open};
use crate::app;

pub async fn run(path: &Path, once: bool) -> Exit {
    let desk = match open(path).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    if once {
        return match app::run_once(&desk).await {
            Ok(s) => {
                info!(processed = s.processed, left = s.left, sent = s.sent, "run --once done");
                if s.left > 0 { Exit::TempFail } else { Exit::Ok }
            }
            Err(e) => fail(&e),
        };
    }
    let shutdown = CancellationToken::new();
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen for SIGTERM: {e}");
            return Exit::Software;
        }
    };
    let token = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
        }
        token.cancel();
    });
    match app::run(desk, shutdown).await {
        Ok(()) => Exit::Ok,
        Err(e) => fail(&e),
    }
}
