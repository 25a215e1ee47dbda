//! Cron-driven work: escalation ticks (warnings before a target lapses, breach alerts).
//! A tick ends when its outbox rows are committed; delivery is the sender's work.

mod alert_mail;
mod escalation;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

pub use escalation::{TickError, TickStats, tick};

use crate::desk::Desk;

/// Runs `tick` at each time of `[scheduler] escalations`, in the calendar's time zone.
pub async fn run_scheduler(desk: Desk, cancel: CancellationToken) {
    let tz = desk.config.calendar.time_zone;
    loop {
        let Some(next) = desk.config.scheduler.escalations.upcoming(tz).next() else {
            warn!("the escalations schedule has no future times; no alerts will be sent");
            // Returning would read as a crashed task and stop the daemon.
            return cancel.cancelled().await;
        };
        let wait = (next.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if let Err(e) = tick(&desk).await {
            warn!(error = %e, "scheduler tick failed; the next tick retries");
        }
    }
}
