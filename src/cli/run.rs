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
                let peak_rss_kb = peak_rss_kb();
                info!(processed = s.processed, left = s.left, sent = s.sent, peak_rss_kb, "run --once done");
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

/// This process's peak resident memory (Linux's VmHWM), for the log of a one-off run: how
/// much memory a backlog took. `None` where /proc is missing.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
