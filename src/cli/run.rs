use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Exit;
use super::load::{fail, load_checked, open};
use super::output::errln;
use crate::app;
use crate::desk::Desk;

pub async fn run(path: &Path, once: bool) -> Exit {
    if once {
        return run_once(path).await;
    }
    let shutdown = CancellationToken::new();
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            errln!("error: cannot listen for SIGTERM: {e}");
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
    let desk = match open_retrying(path, &shutdown).await {
        Ok(Some(d)) => d,
        Ok(None) => return Exit::Ok,
        Err(code) => return code,
    };
    match app::run(desk, shutdown).await {
        Ok(()) => Exit::Ok,
        Err(e) => fail(&e),
    }
}

/// One pass; a database that cannot be written now is a temporary failure (75), for the
/// timer that runs `--once` to retry.
async fn run_once(path: &Path) -> Exit {
    let desk = match open(path).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    match app::run_once(&desk).await {
        Ok(s) => {
            let peak_rss_kb = peak_rss_kb();
            info!(processed = s.processed, left = s.left, sent = s.sent, peak_rss_kb, "run --once done");
            if s.left > 0 { Exit::TempFail } else { Exit::Ok }
        }
        Err(e) => fail(&e),
    }
}

/// Opens the desk, waiting out a database that cannot be used now (down, read-only, full)
/// the way the mailbox tasks wait once running: a daemon that exited instead would leave
/// the mail to its service manager's restart policy. `None` when shutdown came first; a
/// configuration or other permanent error ends the daemon with its code.
async fn open_retrying(path: &Path, shutdown: &CancellationToken) -> Result<Option<Desk>, Exit> {
    let mut pause = Duration::from_secs(1);
    loop {
        let (config, templates) = load_checked(path)?;
        match app::open_desk(config, templates).await {
            Ok(desk) => return Ok(Some(desk)),
            Err(e) if e.is_unavailable() => {
                warn!(error = %e, retry_in = ?pause, "the database cannot be used now; retrying");
                crate::service::status(&format!("waiting for the database: {e}"));
            }
            Err(e) => return Err(fail(&e)),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

/// This process's peak resident memory (Linux's VmHWM), for the log of a one-off run: how
/// much memory a backlog took. `None` where /proc is missing.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
