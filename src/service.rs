//! What the service manager hears (systemd's `Type=notify`, through `$NOTIFY_SOCKET`):
//! `READY=1` once migrations ran and every task started (again after a reload), `STATUS=`
//! lines while waiting and running, `RELOADING=1` on a SIGHUP that will reload,
//! `STOPPING=1` when shutdown begins, and `WATCHDOG=1` at half the `WatchdogSec` interval
//! while the runtime is alive. Without `$NOTIFY_SOCKET` (a terminal,
//! a container, the tests) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Start-up is done: `status` says what runs.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// A SIGHUP's reload began; `READY=1` follows when the tasks run again (systemd 253 and
/// later want the monotonic time with it).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("finishing the work in hand")]);
}

/// Pings the watchdog until shutdown, when `WatchdogSec` set one for this process. Like
/// every task of the daemon it ends only at shutdown (an ended task stops the daemon).
pub async fn watchdog(shutdown: CancellationToken) {
    let Some(interval) = sd_notify::watchdog_enabled() else { return shutdown.cancelled().await };
    let mut tick = tokio::time::interval((interval / 2).max(Duration::from_millis(100)));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => send(&[NotifyState::Watchdog]),
        }
    }
}

/// A service manager that cannot be told is logged, never fatal: the desk works without.
fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify the service manager ($NOTIFY_SOCKET)");
    }
}
