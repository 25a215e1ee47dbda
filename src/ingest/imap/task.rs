//! The long-running task of one IMAP mailbox: connect, pass, wait (IDLE or poll), and on
//! any network or server error reconnect with exponential backoff and jitter.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::connect::{ImapError, Io, connect};
use super::pass::{Capabilities, capabilities, pass};
use super::timed::timed;
use crate::config::{ImapConfig, MailboxConfig};
use crate::desk::Desk;
use crate::ingest::maildir::PassStats;
use crate::panics::guarded;

/// `run --once`: one connection, one pass, logout.
pub async fn once(desk: &Desk, mailbox: &MailboxConfig, cfg: &ImapConfig) -> Result<PassStats, ImapError> {
    guarded("imap", once_unguarded(desk, mailbox, cfg)).await?
}

async fn once_unguarded(desk: &Desk, mailbox: &MailboxConfig, cfg: &ImapConfig) -> Result<PassStats, ImapError> {
    let mut session = connect(desk, cfg).await?;
    let caps = capabilities(&mut session, cfg).await?;
    let stats = pass(desk, mailbox, cfg, caps, &mut session, &CancellationToken::new()).await?;
    logout(session, cfg).await;
    Ok(stats)
}

pub async fn run_mailbox(
    desk: Desk,
    mailbox: MailboxConfig,
    cfg: ImapConfig,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    crate::health::watching(&mailbox.name, desk.now());
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        let connected = &mut false;
        // A panic (a library's, on what the server sent) is one more failed connection: the
        // pass commits before it marks \Seen, so what it did not finish is fetched again.
        let served = guarded("imap", serve(&desk, &mailbox, &cfg, &wake, &cancel, connected)).await;
        match served.unwrap_or_else(|p| Err(p.into())) {
            Ok(()) => return,
            Err(e) => {
                failures = if *connected { 1 } else { failures + 1 };
                let delay = backoff(failures);
                warn!(mailbox = %mailbox.name, error = %e, retry_in = ?delay, "IMAP connection failed; reconnecting");
                crate::health::failed(&mailbox.name, &e.to_string());
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// One connection's life: passes separated by IDLE (or a poll interval) until cancelled.
async fn serve(
    desk: &Desk,
    mailbox: &MailboxConfig,
    cfg: &ImapConfig,
    wake: &Notify,
    cancel: &CancellationToken,
    connected: &mut bool,
) -> Result<(), ImapError> {
    let mut session = connect(desk, cfg).await?;
    let caps = capabilities(&mut session, cfg).await?;
    *connected = true;
    info!(mailbox = %mailbox.name, idle = caps.idle, "IMAP connected");
    loop {
        let stats = pass(desk, mailbox, cfg, caps, &mut session, cancel).await?;
        crate::health::fetched(&mailbox.name, desk.now());
        if stats.processed > 0 {
            wake.notify_one();
        }
        if cancel.is_cancelled() {
            logout(session, cfg).await;
            return Ok(());
        }
        session = match wait(session, cfg, caps, mailbox.poll_interval, cancel).await? {
            Some(s) => s,
            None => return Ok(()),
        };
    }
}

/// Waits for new mail: IDLE when offered, otherwise the poll interval. `None` when cancelled.
/// IDLE ends after the poll interval (at most 29 minutes, RFC 2177) whatever the server says
/// meanwhile: async-imap's own timeout restarts with every `* OK Still here`, so without this
/// bound a connection that only keeps alive would never be renewed. Renewing (DONE, then the
/// pass's SELECT) is also what finds a dead connection: each has the command timeout.
async fn wait(
    session: Session<Io>,
    cfg: &ImapConfig,
    caps: Capabilities,
    poll: Duration,
    cancel: &CancellationToken,
) -> Result<Option<Session<Io>>, ImapError> {
    if !caps.idle {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(None),
            _ = tokio::time::sleep(poll) => return Ok(Some(session)),
        }
    }
    let renew = poll.min(IDLE_RENEW);
    let mut idle = session.idle();
    timed("IDLE", cfg.timeout, idle.init()).await?;
    let (response, _stop) = idle.wait_with_timeout(renew);
    let response = tokio::select! {
        r = tokio::time::timeout(renew, response) => r.unwrap_or(Ok(IdleResponse::Timeout))?,
        _ = cancel.cancelled() => return Ok(None),
    };
    if let IdleResponse::NewData(_) = response {
        tracing::debug!("IDLE: new data");
    }
    Ok(Some(timed("DONE", cfg.timeout, idle.done()).await?))
}

/// RFC 2177: a server may log an idle client out after 30 minutes.
const IDLE_RENEW: Duration = Duration::from_secs(29 * 60);

/// Best effort: the work is done; a server that does not answer must not hold up shutdown.
async fn logout(mut session: Session<Io>, cfg: &ImapConfig) {
    if let Err(e) = timed("LOGOUT", cfg.timeout, session.logout()).await {
        tracing::debug!(error = %e, "LOGOUT failed");
    }
}

/// The documented ceiling of a reconnect wait, jitter included.
const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// 1 s, 2 s, 4 s … up to 60 s, each with up to 25% random jitter so that many instances do
/// not reconnect in step.
fn backoff(failures: u32) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    backoff_with(failures, f64::from(nanos % 1000) / 1000.0)
}

/// `jitter` in [0, 1) adds up to a quarter. The cap applies after the jitter: capping the
/// base alone let 60 s plus its quarter wait 75 s.
fn backoff_with(failures: u32, jitter: f64) -> Duration {
    let base = Duration::from_secs(1u64 << failures.saturating_sub(1).min(6));
    (base + base.mul_f64(jitter.clamp(0.0, 1.0) / 4.0)).min(BACKOFF_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        for (failures, lo) in [(1, 1), (2, 2), (3, 4), (5, 16)] {
            let d = backoff(failures);
            assert!(d >= Duration::from_secs(lo) && d <= Duration::from_secs(lo).mul_f64(1.25), "{failures}: {d:?}");
        }
    }

    /// Whatever the jitter and however many failures, no wait exceeds the documented 60 s.
    #[test]
    fn backoff_never_exceeds_the_cap_with_jitter() {
        for failures in 0..=200 {
            for jitter in [0.0, 0.5, 0.999, 1.0] {
                let d = backoff_with(failures, jitter);
                assert!(d <= BACKOFF_CAP, "{failures} failures, jitter {jitter}: {d:?}");
            }
        }
        assert_eq!(backoff_with(7, 0.999), BACKOFF_CAP);
        assert_eq!(backoff_with(6, 0.0), Duration::from_secs(32));
        assert_eq!(backoff_with(6, 1.0), Duration::from_secs(40));
        assert_eq!(backoff_with(7, 0.0), Duration::from_secs(60));
    }
}
