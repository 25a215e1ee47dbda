//! The sender task: takes due outbox rows one at a time and delivers them.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::DbErr;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, warn};

use super::outbox;
use super::transport::{SendError, Transport};
use crate::desk::Desk;
use crate::storage::entities::outbox::Model as OutboxRow;

/// Sends every row that is due now; returns how many were handled. Stops early (after the
/// row in hand) when `cancel` fires.
pub async fn drain(desk: &Desk, transport: &Transport, cancel: &CancellationToken) -> Result<usize, DbErr> {
    let mut handled = 0;
    while !cancel.is_cancelled() {
        let now = desk.now();
        let lease = Duration::from_std(desk.config.outbound.lease).unwrap_or(Duration::seconds(120));
        let Some(row) = outbox::claim_next(&desk.db, now, lease).await? else { break };
        let span = tracing::info_span!("outbox", id = row.id, message_id = %row.message_id, kind = %row.kind);
        // `instrument`, not `span.enter()`: a guard held across an await leaks the span into
        // whatever else runs on this worker thread, and tracing panics when it closes.
        deliver(desk, transport, &row).instrument(span).await?;
        handled += 1;
    }
    Ok(handled)
}

/// One delivery attempt for a claimed row, and its outcome recorded.
/// A panic in the SMTP client is a failed attempt like a dropped connection: the row stays
/// queued with a retry time (see `panics`).
async fn deliver(desk: &Desk, transport: &Transport, row: &OutboxRow) -> Result<(), DbErr> {
    let attempt = crate::panics::guarded("send", transport.send(row)).await;
    match attempt.unwrap_or_else(|panicked| Err(SendError::Transient(panicked.to_string()))) {
        Ok(()) => {
            outbox::mark_sent(&desk.db, row.id, desk.now()).await?;
            crate::metrics::metrics().count_sent(&row.kind);
            info!(to = %row.envelope_to, subject = %row.subject, "sent");
        }
        Err(SendError::Permanent(e)) => {
            crate::metrics::metrics().count_send_failure(&row.kind);
            outbox::mark_failed(&desk.db, row.id, &e, desk.now()).await?;
            warn!(error = %e, "delivery failed for good");
        }
        Err(SendError::Waiting(e)) => {
            let next = desk.now() + Duration::from_std(WAITING_RETRY).unwrap_or(Duration::minutes(5));
            outbox::mark_waiting(&desk.db, row.id, &e, next).await?;
            warn!(error = %e, retry_at = %next, "delivery waits for a person");
        }
        Err(e) if row.attempts >= desk.config.outbound.max_attempts as i32 => {
            crate::metrics::metrics().count_send_failure(&row.kind);
            let e = format!("gave up after {} attempts: {e}", row.attempts);
            outbox::mark_failed(&desk.db, row.id, &e, desk.now()).await?;
            warn!(error = %e, "delivery failed");
        }
        Err(e) => {
            crate::metrics::metrics().count_send_failure(&row.kind);
            let out = &desk.config.outbound;
            let next = desk.now() + backoff(row.attempts, out.retry_initial, out.retry_max);
            outbox::mark_retry(&desk.db, row.id, &e.to_string(), next).await?;
            warn!(error = %e, attempt = row.attempts, retry_at = %next, "delivery will be retried");
        }
    }
    Ok(())
}

/// How often mail waiting for a person (the relay's OAuth2 login) is tried again.
const WAITING_RETRY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// `initial`, twice that, four times … capped at `max` (10 s … 30 min by default).
fn backoff(attempts: i32, initial: std::time::Duration, max: std::time::Duration) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let wait = initial.saturating_mul(1u32 << exp).min(max);
    Duration::from_std(wait).unwrap_or(Duration::minutes(30))
}

/// Runs until cancelled: drains when woken (new rows committed) or every poll interval.
pub async fn run_sender(desk: Desk, transport: Arc<Transport>, wake: Arc<Notify>, cancel: CancellationToken) {
    let poll = desk.config.outbound.poll_interval;
    let mut failures = 0u32;
    loop {
        match drain(&desk, &transport, &cancel).await {
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                warn!(error = %e, "outbox: database error; will retry");
            }
        }
        transport.close_idle().await;
        let pause = if failures > 0 { poll * failures.min(12) } else { poll };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
    transport.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let (initial, max) = (std::time::Duration::from_secs(10), std::time::Duration::from_secs(1800));
        assert_eq!(backoff(1, initial, max), Duration::seconds(10));
        assert_eq!(backoff(2, initial, max), Duration::seconds(20));
        assert_eq!(backoff(12, initial, max), Duration::seconds(30 * 60));
        assert_eq!(backoff(40, initial, max), Duration::seconds(30 * 60));
    }
}
