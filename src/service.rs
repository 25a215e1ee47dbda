//! What the service manager hears (systemd's `Type=notify`, through `$NOTIFY_SOCKET`):
//! `READY=1` once migrations ran and every task started (again after a reload), `STATUS=`
//! lines while waiting and running (mailboxes fetching, the outbox's depth), `RELOADING=1` on a SIGHUP that will reload,
//! `STOPPING=1` when shutdown begins, and `WATCHDOG=1` at half the `WatchdogSec` interval
//! while the runtime is alive. Without `$NOTIFY_SOCKET` (a terminal,
//! a container, the tests) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Set once STOPPING=1 went: READY=1 after it would read as a service that came back.
static STOPPING: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// Start-up is done: `status` says what runs. Nothing once stopping began.
pub fn ready(status: &str) {
    let stopping = STOPPING.lock().unwrap_or_else(|e| e.into_inner());
    if !*stopping {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }
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
    let mut stopping = STOPPING.lock().unwrap_or_else(|e| e.into_inner());
    *stopping = true;
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

/// Tells the service manager how the desk stands, every `[health] check_interval`, for
/// `systemctl status`: "2 of 2 mailbox(es) fetching; outbox: 3 waiting, the oldest 4 min".
/// Nothing is read without `$NOTIFY_SOCKET`.
pub async fn report_status(desk: crate::desk::Desk, shutdown: CancellationToken) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return shutdown.cancelled().await;
    }
    let mut tick = tokio::time::interval(desk.config.health.check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is at once: READY's status stands until the next.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match crate::outbound::outbox::unsent(&desk.db).await {
            Ok(unsent) => status(&standing(&desk, unsent, desk.now())),
            Err(e) => status(&format!("the database cannot be read: {e}")),
        }
    }
}

fn standing(
    desk: &crate::desk::Desk,
    unsent: Option<crate::outbound::outbox::Unsent>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mailboxes = &desk.config.mailboxes;
    let fetching = mailboxes
        .iter()
        .filter(|m| {
            let h = crate::health::mailbox(&m.name);
            h.error.is_none() && h.last_ok.is_some()
        })
        .count();
    let outbox = match unsent {
        None => "0 waiting".to_owned(),
        Some(u) => {
            let age = crate::health::age((now - u.oldest_at).to_std().unwrap_or_default());
            format!("{} waiting, the oldest {age}", u.count)
        }
    };
    format!("{fetching} of {} mailbox(es) fetching; outbox: {outbox}", mailboxes.len())
}

/// A service manager that cannot be told is logged, never fatal: the desk works without.
fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify the service manager ($NOTIFY_SOCKET)");
    }
}
