//! Health alarms by mail, every `[health] check_interval`: `[health] notify` hears once when
//! a mailbox goes silent (naming its last error: authentication failed, TLS, a timeout), the
//! outbox is stuck, mail failed permanently, the quarantine or the held mail grows past its
//! limit, or the scheduler is late, and once when it recovers. The ledger (`health_alarms`,
//! one open row per subject) makes that once across restarts and instances; the mail goes
//! through the outbox in the same transaction.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::age;
use crate::desk::Desk;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::outbox::OutboxStatus;
use crate::storage::entities::{health_alarm, outbox as outbox_row};
use crate::templates::Rendered;

/// One thing that can be sick, and how it is now.
struct Check {
    subject: String,
    state: State,
    /// Said in the recovery mail, when being well is not the whole story.
    note: String,
}

impl Check {
    fn new(subject: impl Into<String>, state: State) -> Check {
        Check { subject: subject.into(), state, note: String::new() }
    }
}

enum State {
    /// What is wrong.
    Sick(String),
    /// Well since this instant: an open alarm raised before it clears.
    Well(DateTime<Utc>),
    /// Not known yet (a mailbox this process has not fetched yet, within its limit): a
    /// restart must not mail a recovery nobody saw.
    Unknown,
}

/// How far back mail that failed permanently keeps the `outbox:failed` alarm raised.
const FAILED_WITHIN_HOURS: i64 = 24;

/// Checks the desk every `[health] check_interval` until cancelled. Its own task, so a
/// scheduler stuck in a tick cannot silence the alarm about it.
pub async fn run_alarms(desk: Desk, cancel: CancellationToken) {
    if desk.config.health.notify.is_empty() {
        return cancel.cancelled().await;
    }
    let mut every = tokio::time::interval(desk.config.health.check_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = alarm_tick(&desk).await {
            warn!(error = %e, "health alarms could not be checked; the next check retries");
        }
    }
}

pub async fn alarm_tick(desk: &Desk) -> Result<(), MailError> {
    if desk.config.health.notify.is_empty() {
        return Ok(());
    }
    let now = desk.now();
    let mut checks: Vec<Check> = desk.config.mailboxes.iter().map(|m| mailbox(desk, m, now)).collect();
    checks.push(outbox(desk, now).await?);
    checks.push(failed(desk, now).await?);
    let (quarantined, held) = kept(desk, now).await?;
    checks.extend([quarantined, held]);
    checks.push(strangers(desk, now).await?);
    checks.push(scheduler(desk, now));
    checks.extend(oauth(desk, now).await?);
    for check in checks {
        settle(desk, check, now).await?;
    }
    Ok(())
}

fn mailbox(desk: &Desk, m: &crate::config::MailboxConfig, now: DateTime<Utc>) -> Check {
    let limit = super::silent_limit(&desk.config, m);
    let health = super::mailbox(&m.name);
    let quiet = health.quiet(now);
    let state = match health.last_ok {
        _ if quiet > limit => {
            let error = health.error.map(|e| format!("; the last error: {e}")).unwrap_or_default();
            let what = if health.last_ok.is_some() { "has not fetched successfully" } else { "has not fetched once" };
            State::Sick(format!(
                "the mailbox {} {what} for {} (the limit is {}){error}",
                m.name,
                age(quiet),
                age(limit)
            ))
        }
        Some(at) => State::Well(at),
        None => State::Unknown,
    };
    Check::new(format!("mailbox:{}", m.name), state)
}

async fn outbox(desk: &Desk, now: DateTime<Utc>) -> Result<Check, DbErr> {
    let limit = desk.config.health.outbox_stuck_after;
    let unsent = crate::outbound::outbox::unsent(&desk.db).await?;
    let sick = unsent.and_then(|u| {
        let waited = (now - u.oldest_at).to_std().unwrap_or_default();
        (waited > limit).then(|| {
            let error = u.oldest_error.map(|e| format!("; the last error: {e}")).unwrap_or_default();
            format!(
                "{} mail(s) unsent; the oldest has waited {} (the limit is {}){error}",
                u.count,
                age(waited),
                age(limit)
            )
        })
    });
    Ok(Check::new("outbox", sick.map_or(State::Well(now), State::Sick)))
}

/// Mail given up on within the last day: each one is a customer, agent or CRM who was not
/// told something. Well again once a day passes without one (or each is queued again).
async fn failed(desk: &Desk, now: DateTime<Utc>) -> Result<Check, DbErr> {
    let failed = || {
        outbox_row::Entity::find()
            .filter(outbox_row::Column::Status.eq(OutboxStatus::Failed))
            // An alarm that cannot reach ops must not keep its own alarm raised.
            .filter(outbox_row::Column::Kind.ne("health"))
    };
    let recent = || failed().filter(outbox_row::Column::FailedAt.gt(now - Duration::hours(FAILED_WITHIN_HOURS)));
    let count = recent().count(&desk.db).await?;
    let newest: Option<(i64, String, String, Option<String>)> = recent()
        .select_only()
        .columns([
            outbox_row::Column::Id,
            outbox_row::Column::Kind,
            outbox_row::Column::EnvelopeTo,
            outbox_row::Column::LastError,
        ])
        .order_by_desc(outbox_row::Column::FailedAt)
        .into_tuple()
        .one(&desk.db)
        .await?;
    let state = match newest {
        Some((id, kind, to, error)) if count > 0 => State::Sick(format!(
            "{count} mail(s) failed permanently in the last {FAILED_WITHIN_HOURS} h; the newest, outbox #{id} ({kind}) \
             to {to}, said: {} (supportd outbox list shows them, supportd outbox retry ID sends one again)",
            error.unwrap_or_default()
        )),
        _ => State::Well(now),
    };
    let mut check = Check::new("failed_mail", state);
    let left = failed().count(&desk.db).await?;
    if left > 0 {
        // Well means "no new failure for a day", not "delivered": say what is still undelivered.
        check.note = format!(
            "No mail has failed for good in the last {FAILED_WITHIN_HOURS} h, but {left} mail(s) that failed \
             earlier were never sent (supportd outbox list)."
        );
    }
    Ok(check)
}

/// The quarantine and the held mail against their limits: (quarantine, held).
async fn kept(desk: &Desk, now: DateTime<Utc>) -> Result<(Check, Check), DbErr> {
    let health = &desk.config.health;
    let quarantined = crate::ingest::quarantine::count(&desk.db).await?;
    let held = crate::ingest::held::count(&desk.db).await?;
    let judge = |subject: &str, n: u64, limit: u64, what: &str, see: &str| {
        let state =
            if n > limit { State::Sick(format!("{n} {what} (the limit is {limit}); {see}")) } else { State::Well(now) };
        Check::new(subject, state)
    };
    Ok((
        judge(
            "quarantine",
            quarantined,
            health.quarantine_limit,
            "messages are in quarantine",
            "supportd quarantine list shows why",
        ),
        judge(
            "held",
            held,
            health.held_limit,
            "messages are held for an agent (automated mail that threads to no case, mail from people who may not open cases)",
            "supportd held list shows them",
        ),
    ))
}

/// Mail to people not yet parties of a case held back by the caps within the hour
/// (`outbound::strangers`): forged senders, most likely, or a flood. Well again once an hour
/// passes without one.
async fn strangers(desk: &Desk, now: DateTime<Utc>) -> Result<Check, DbErr> {
    use crate::outbound::strangers::WINDOW;
    let (count, newest) = crate::outbound::outbox::strangers_held_back_since(&desk.db, now - WINDOW).await?;
    let caps = &desk.config.outbound;
    let state = match newest {
        Some((to, why)) if count > 0 => State::Sick(format!(
            "{count} mail(s) to people who are not parties of a case (acknowledgements, \"who may open cases\" \
             replies, #report how-tos) were held back in the last hour, over the caps of {} an hour and {} per \
             recipient domain, or {} per customer company domain ([outbound] stranger_mail_per_hour, \
             stranger_mail_per_domain_per_hour, company_domain_mail_per_hour): forged senders, or a flood. The \
             newest, to {to}: {why} (supportd outbox list shows them)",
            caps.stranger_mail_per_hour, caps.stranger_mail_per_domain_per_hour, caps.company_domain_mail_per_hour
        )),
        _ => State::Well(now),
    };
    Ok(Check::new("stranger_mail", state))
}

/// An OAuth2 account whose token a person must renew: consent revoked or expired
/// (`invalid_grant`), the client secret expired or wrong (`invalid_client`), a token that does
/// not open with the key, or no login yet. A network failure is no alarm of its own: the
/// mailbox's silence (or the stuck outbox) says it when it lasts.
async fn oauth(desk: &Desk, now: DateTime<Utc>) -> Result<Vec<Check>, DbErr> {
    use crate::oauth::tokens::login_name;
    let stored = crate::oauth::store::all(&desk.db).await?;
    let checks = desk.config.oauth_accounts().into_iter().map(|account| {
        let name = login_name(&account.account);
        let row = stored.iter().find(|r| r.account == account.account);
        let error = row.and_then(|r| r.last_error.clone()).unwrap_or_default();
        let login = format!("run `supportd oauth login {name}`");
        let state = match row.and_then(|r| r.last_error_kind.as_deref()) {
            None if row.is_none() && account.grant != crate::oauth::Grant::ClientCredentials => {
                State::Sick(format!("{name} has no OAuth2 token yet: {login}"))
            }
            Some("invalid_grant") => State::Sick(format!("{name}: {error}: {login}")),
            Some("invalid_client") => State::Sick(format!(
                "{name}: {error}: put the application's new secret in the config (client_secret_file) and restart"
            )),
            Some("key" | "no_token") => State::Sick(format!("{name}: {error}; {login}")),
            _ => State::Well(now),
        };
        Check::new(format!("oauth:{name}"), state)
    });
    Ok(checks.collect())
}

/// Late when the tick due after the last good one (or after the scheduler task started,
/// when that is later: a reload may bring another schedule) has not come
/// `scheduler_late_after` past its time: alerts and reports wait on it. Each host judges
/// its own scheduler (`scheduler@HOST`): one instance's good ticks say nothing of another's.
fn scheduler(desk: &Desk, now: DateTime<Utc>) -> Check {
    let board = super::scheduler();
    let late_after = desk.config.health.scheduler_late_after;
    let tz = desk.config.calendar.time_zone;
    let subject = format!("scheduler@{}", super::host());
    let state = match board.last_ok.max(board.started) {
        None => State::Unknown,
        Some(since) => {
            let due = desk.config.scheduler.escalations.after(&since.with_timezone(&tz)).next();
            let late = due.map(|d| (now - d.with_timezone(&Utc)).to_std().unwrap_or_default());
            match (late, board.last_ok) {
                (Some(late), _) if late > late_after => {
                    let error = board.error.map(|e| format!("; the last tick failed: {e}")).unwrap_or_default();
                    State::Sick(format!(
                        "the scheduler on {} is {} late for a tick (the limit is {}): warnings, breach alerts and \
                         reports wait{error}",
                        super::host(),
                        age(late),
                        age(late_after)
                    ))
                }
                (_, Some(at)) => State::Well(at),
                (_, None) => State::Unknown,
            }
        }
    };
    Check::new(subject, state)
}

/// Raises an incident not yet open, or clears one that is, with its mail; nothing else.
async fn settle(desk: &Desk, check: Check, now: DateTime<Utc>) -> Result<(), MailError> {
    let open = health_alarm::Entity::find()
        .filter(health_alarm::Column::Subject.eq(&check.subject))
        .filter(health_alarm::Column::ClearedAt.is_null())
        .one(&desk.db)
        .await?;
    let txn = Tx::begin(&desk.db).await?;
    let (subject, text) = match (check.state, open) {
        (State::Sick(detail), None) => {
            let row = health_alarm::ActiveModel {
                subject: Set(check.subject.clone()),
                detail: Set(detail.clone()),
                raised_at: Set(now),
                ..Default::default()
            };
            match health_alarm::Entity::insert(row).exec(&txn).await {
                Ok(_) => {}
                // Another instance raised it first: its mail is the one.
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            warn!(subject = %check.subject, %detail, "health alarm raised");
            (
                format!("supportd alarm: {}", check.subject),
                format!("{detail}.\n\nAnother mail follows when it recovers.\n"),
            )
        }
        (State::Well(well_since), Some(row)) if well_since > row.raised_at => {
            let (was, since) = (row.detail.clone(), row.raised_at);
            let cleared = health_alarm::Entity::update_many()
                .col_expr(health_alarm::Column::ClearedAt, Expr::value(now))
                .filter(health_alarm::Column::Id.eq(row.id))
                .filter(health_alarm::Column::ClearedAt.is_null())
                .exec(&txn)
                .await?;
            if cleared.rows_affected == 0 {
                // Another instance cleared it (and mailed the recovery).
                return Ok(());
            }
            info!(subject = %check.subject, "health alarm cleared");
            let lasted = age((now - since).to_std().unwrap_or_default());
            (
                format!("supportd recovered: {}", check.subject),
                format!("{} is well again after {lasted}.\n\nIt was: {was}.\n{}", check.subject, note(&check.note)),
            )
        }
        _ => return Ok(()),
    };
    queue(desk, &txn, subject, text, now).await?;
    txn.commit().await?;
    Ok(())
}

fn note(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!("\n{text}\n") }
}

async fn queue(desk: &Desk, txn: &Tx, subject: String, text: String, now: DateTime<Utc>) -> Result<(), MailError> {
    let from = &desk.config.outbound.from;
    let html = format!("<pre>{}</pre>", handlebars::html_escape(&text));
    let rendered = Rendered { subject, text, html };
    let message_id = new_message_id("health", None, from.domain());
    let to = desk.config.health.notify.iter().map(|a| (None, a)).collect();
    let mail = Composed::notice((desk.config.outbound.from_name.as_deref(), from), from, to, &message_id, &rendered);
    queue_mail(txn, "health", None, &mail, now).await
}
