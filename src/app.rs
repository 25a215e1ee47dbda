//! Wires the long-running tasks together and owns shutdown: one task per mailbox, the
//! outbox sender and the scheduler share a cancellation token; SIGTERM/SIGINT cancel it.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{DbErr, EntityTrait, Set};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::{Config, MailboxConfig, MailboxSource};
use crate::desk::{Desk, clock_from_env};
use crate::ingest::imap::{self, ImapError};
use crate::ingest::maildir::{self, MaildirError};
use crate::outbound::{self, MailError, SendError, Transport};
use crate::scheduler;
use crate::storage::{self, StorageError, entities::agent};
use crate::templates::Templates;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Transport(#[from] SendError),
    #[error(transparent)]
    Maildir(#[from] MaildirError),
    #[error("mailbox: {0}")]
    Imap(#[from] ImapError),
    #[error("scheduler: {0}")]
    Tick(scheduler::TickError),
    #[error("monthly report: {0}")]
    Monthly(#[from] crate::reports::ReportError),
    #[error("{0}")]
    Clock(String),
    /// A long-running task ended while the daemon was meant to be running: exit non-zero
    /// so the service manager restarts the whole daemon rather than leave it half-alive.
    #[error("a task stopped unexpectedly: {0}")]
    TaskDied(String),
    #[error("cannot listen on {addr} ([http] listen): {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

impl AppError {
    pub fn is_unavailable(&self) -> bool {
        match self {
            AppError::Storage(e) => e.is_unavailable(),
            AppError::Database(e) => storage::is_unavailable(e),
            AppError::Maildir(MaildirError::Unavailable(_)) => true,
            // Another process holds the port: perhaps the one this replaces, still stopping.
            AppError::Listen { .. } => true,
            // The server may be back on the next run.
            AppError::Imap(ImapError::Database(e)) => storage::is_unavailable(e),
            AppError::Imap(_) => true,
            AppError::Tick(scheduler::TickError::Database(e) | scheduler::TickError::Mail(MailError::Database(e))) => {
                storage::is_unavailable(e)
            }
            AppError::Monthly(
                crate::reports::ReportError::Database(e) | crate::reports::ReportError::Mail(MailError::Database(e)),
            ) => storage::is_unavailable(e),
            _ => false,
        }
    }
}

/// Opens the database (applying migrations) and builds the shared context.
pub async fn open_desk(config: Config, templates: Templates) -> Result<Desk, AppError> {
    let clock = clock_from_env().map_err(AppError::Clock)?;
    if std::env::var_os("SUPPORTD_NOW").is_some() {
        warn!(now = %clock.now(), "SUPPORTD_NOW pins the clock: for tests and replays only, never in production");
    }
    for w in &config.warnings {
        warn!(warning = %w, "configuration warning");
    }
    let db = storage::open(&config.database).await?;
    let company_ids = crate::cases::sync_companies(&db, &config, clock.now()).await?;
    let desk = Desk {
        config: Arc::new(config),
        db,
        templates: Arc::new(templates),
        clock,
        company_ids: Arc::new(company_ids),
    };
    seed_agents(&desk).await?;
    Ok(desk)
}

/// `[[agent]]` entries seed the agents table at start (upsert by email); a disable done with
/// `supportd agents disable` stays, across restarts and config reloads.
async fn seed_agents(desk: &Desk) -> Result<(), DbErr> {
    let now = desk.now();
    for a in &desk.config.agents {
        let row = agent::ActiveModel {
            email: Set(a.email.to_string()),
            name: Set(a.name.clone()),
            aliases: Set(a.aliases.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let on_conflict = OnConflict::column(agent::Column::Email)
            .update_columns([agent::Column::Name, agent::Column::Aliases, agent::Column::UpdatedAt])
            .to_owned();
        agent::Entity::insert(row).on_conflict(on_conflict).exec(&desk.db).await?;
    }
    crate::reports::fill_report_tokens(&desk.db).await?;
    crate::teams::sync_teams(&desk.db, &desk.config, now).await?;
    crate::agents::fill_missing_tokens(&desk.db).await
}

#[derive(Debug, Default)]
pub struct OnceSummary {
    pub processed: usize,
    pub left: usize,
    pub sent: usize,
}

/// `run --once`: every mailbox, one scheduler tick and auto-close, then the outbox.
pub async fn run_once(desk: &Desk) -> Result<OnceSummary, AppError> {
    let never = CancellationToken::new();
    let mut summary = OnceSummary::default();
    for mailbox in &desk.config.mailboxes {
        let stats = mailbox_pass(desk, mailbox, &never).await?;
        summary.processed += stats.processed;
        summary.left += stats.left;
    }
    let transport = Transport::from_config(&desk.config.outbound.transport, crate::oauth::TokenStore::of(desk))?;
    scheduler::tick(desk).await.map_err(AppError::Tick)?;
    crate::budget::budget_tick(desk).await.map_err(|e| AppError::Tick(scheduler::TickError::Mail(e)))?;
    scheduler::monthly_reports(desk).await?;
    scheduler::held_digest(desk).await.map_err(|e| AppError::Tick(scheduler::TickError::Mail(e)))?;
    scheduler::auto_close(desk).await?;
    summary.sent = outbound::drain(desk, &transport, &never).await?;
    Ok(summary)
}

async fn mailbox_pass(
    desk: &Desk,
    mailbox: &MailboxConfig,
    cancel: &CancellationToken,
) -> Result<maildir::PassStats, AppError> {
    match &mailbox.source {
        MailboxSource::Maildir { path } => Ok(maildir::pass(desk, mailbox, path, cancel).await?),
        MailboxSource::Imap(cfg) => Ok(imap::once(desk, mailbox, cfg).await?),
    }
}

/// Runs until `shutdown` is cancelled, then lets each task finish the unit in hand.
pub async fn run(desk: Desk, shutdown: CancellationToken) -> Result<(), AppError> {
    let transport =
        Arc::new(Transport::from_config(&desk.config.outbound.transport, crate::oauth::TokenStore::of(&desk))?);
    // Bound before any task starts: a port that cannot be had stops nothing half-begun.
    let listener = match desk.config.http.listen {
        Some(addr) => Some(crate::web::bind(addr).await.map_err(|source| AppError::Listen { addr, source })?),
        None => None,
    };
    let wake = Arc::new(Notify::new());
    let mut tasks = JoinSet::new();
    for mailbox in desk.config.mailboxes.clone() {
        match mailbox.source.clone() {
            MailboxSource::Imap(cfg) => {
                tasks.spawn(imap::run_mailbox(desk.clone(), mailbox, cfg, wake.clone(), shutdown.clone()))
            }
            MailboxSource::Maildir { .. } => {
                tasks.spawn(mailbox_loop(desk.clone(), mailbox, wake.clone(), shutdown.clone()))
            }
        };
    }
    tasks.spawn(outbound::run_sender(desk.clone(), transport, wake.clone(), shutdown.clone()));
    tasks.spawn(scheduler::run_scheduler(desk.clone(), shutdown.clone()));
    tasks.spawn(scheduler::run_auto_close(desk.clone(), shutdown.clone()));
    tasks.spawn(crate::health::run_alarms(desk.clone(), shutdown.clone()));
    tasks.spawn(crate::service::report_status(desk.clone(), shutdown.clone()));
    if let Some(listener) = listener {
        tasks.spawn(crate::web::serve(desk.clone(), listener, shutdown.clone()));
    }
    info!(mailboxes = desk.config.mailboxes.len(), config = %desk.config.path.display(), "supportd ready");
    // Not after STOPPING=1 (a SIGTERM during a reload's start): `ready` knows.
    crate::service::ready(&format!("reading {} mailbox(es)", desk.config.mailboxes.len()));
    let died = tokio::select! {
        biased;
        _ = shutdown.cancelled() => None,
        // A task that ends because shutdown began is not a death.
        Some(joined) = tasks.join_next() => (!shutdown.is_cancelled()).then(|| match joined {
            Err(e) => e.to_string(),
            Ok(()) => "it returned".to_owned(),
        }),
    };
    match &died {
        Some(why) => {
            error!(reason = %why, "a task stopped unexpectedly; stopping the others");
            shutdown.cancel();
        }
        None => info!("shutting down: finishing the work in hand"),
    }
    let limit = drain_limit(&desk.config);
    let drained = tokio::time::timeout(limit, async {
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                error!(error = %e, "a task ended abnormally");
            }
        }
    })
    .await;
    if drained.is_err() {
        warn!(limit = ?limit, "tasks did not finish in time; aborting them");
        tasks.shutdown().await;
    }
    info!("stopped");
    died.map_or(Ok(()), |why| Err(AppError::TaskDied(why)))
}

/// How long the tasks may take to finish the work in hand: 10 s, or an SMTP send's whole
/// timeout when longer (a send cut off after the server took the mail, but before it was
/// recorded as sent, would send it again), or a web request's (a page accepted is answered,
/// not reset).
fn drain_limit(config: &crate::config::Config) -> Duration {
    let send = match &config.outbound.transport {
        crate::config::Transport::Smtp(smtp) => smtp.timeout + Duration::from_secs(5),
        crate::config::Transport::File { .. } => Duration::ZERO,
    };
    let web =
        config.http.listen.map_or(Duration::ZERO, |_| config.http.limits.request_timeout + Duration::from_secs(2));
    send.max(web).max(Duration::from_secs(10))
}

/// The pause before the next pass: the poll interval, doubled per failure in a row, but never
/// more than 30 s (or the poll interval, when that is longer). The database is back after a
/// failover within seconds to minutes, and a longer pause would leave the mail waiting
/// after it is.
fn retry_pause(poll_interval: Duration, failures: u32) -> Duration {
    let ceiling = poll_interval.max(Duration::from_secs(30));
    poll_interval.saturating_mul(2u32.pow(failures.min(6))).min(ceiling)
}

/// Polls one mailbox until cancelled; errors are logged and retried with backoff, so the
/// task never silently ends.
async fn mailbox_loop(desk: Desk, mailbox: MailboxConfig, wake: Arc<Notify>, cancel: CancellationToken) {
    crate::health::watching(&mailbox.name, desk.now());
    let mut failures: u32 = 0;
    while !cancel.is_cancelled() {
        match mailbox_pass(&desk, &mailbox, &cancel).await {
            Ok(stats) => {
                failures = 0;
                crate::health::fetched(&mailbox.name, desk.now());
                if stats.processed > 0 {
                    wake.notify_one();
                }
            }
            Err(e) => {
                failures += 1;
                warn!(mailbox = %mailbox.name, error = %e, failures, "mailbox pass failed; retrying");
                crate::health::failed(&mailbox.name, &e.to_string());
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(retry_pause(mailbox.poll_interval, failures)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_passes_back_off_to_at_most_30_seconds() {
        let poll = Duration::from_secs(2);
        let pauses: Vec<u64> = (0..9).map(|f| retry_pause(poll, f).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 30, 30, 30, 30, 30]);
        // A mailbox polled less often than that is never polled more often for failing.
        assert_eq!(retry_pause(Duration::from_secs(60), 3), Duration::from_secs(60));
    }
}
