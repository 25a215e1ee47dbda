//! Cron-driven work: escalation ticks (warnings before a target lapses, breach alerts, a
//! support budget running low), each CRM's monthly report, the hourly digest of people's
//! held mail, and closing cases resolved without reply. (Health alarms run on their own, `health::run_alarms`: a stuck scheduler
//! must not silence the alarm about it.) A tick ends when its outbox rows are committed;
//! delivery is the sender's work.

mod alert_mail;
mod auto_close;
mod escalation;
mod held_digest;
mod monthly;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

pub use auto_close::auto_close;
pub use escalation::{TickError, TickStats, tick};
pub use held_digest::held_digest;
pub use monthly::monthly_reports;

use crate::desk::Desk;

/// Runs `tick` (and the budget alerts) at each time of `[scheduler] escalations`, in the
/// calendar's time zone.
pub async fn run_scheduler(desk: Desk, cancel: CancellationToken) {
    let schedule = desk.config.scheduler.escalations.clone();
    crate::health::scheduler_started(desk.now());
    on_schedule(&desk, &schedule, "escalations", &cancel, || async {
        let started = std::time::Instant::now();
        // Each job runs whatever the others did: a failing alert must not stop the reports.
        let failed: Vec<String> = [
            tick(&desk).await.err().map(|e| format!("escalations: {e}")),
            crate::budget::budget_tick(&desk).await.err().map(|e| format!("budget alerts: {e}")),
            monthly_reports(&desk).await.err().map(|e| format!("monthly reports: {e}")),
            held_digest(&desk).await.err().map(|e| format!("held-mail digest: {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        crate::metrics::metrics().tick_seconds.observe(started.elapsed().as_secs_f64());
        let failed = (!failed.is_empty()).then(|| failed.join("; "));
        crate::health::scheduler_ticked(desk.now(), failed.clone());
        failed.map_or(Ok(()), Err)
    })
    .await
}

/// Closes long-resolved cases at each time of `[scheduler] auto_close`.
pub async fn run_auto_close(desk: Desk, cancel: CancellationToken) {
    let schedule = desk.config.scheduler.auto_close.clone();
    on_schedule(&desk, &schedule, "auto_close", &cancel, || async {
        match auto_close(&desk).await {
            Ok(0) => Ok(()),
            Ok(n) => {
                tracing::info!(closed = n, "closed cases resolved without reply");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    })
    .await
}

/// Runs `job` at each time of `schedule` until cancelled; a failed run is logged and the next
/// time tries again.
async fn on_schedule<F, Fut>(desk: &Desk, schedule: &cron::Schedule, name: &str, cancel: &CancellationToken, job: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let tz = desk.config.calendar.time_zone;
    loop {
        let Some(next) = schedule.upcoming(tz).next() else {
            warn!(schedule = name, "the schedule has no future times; it will not run");
            // Returning would read as a crashed task and stop the daemon.
            return cancel.cancelled().await;
        };
        let wait = (next.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if let Err(e) = job().await {
            warn!(schedule = name, error = %e, "scheduled job failed; the next run retries");
        }
    }
}
