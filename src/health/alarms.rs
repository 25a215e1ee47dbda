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
    let accounts = crate::oauth::store::configured(&desk.db, &desk.config).await?;
    let checks = accounts.into_iter().map(|(account, row)| {
        let state = oauth_state(account, row.as_ref(), now).map_or(State::Well(now), State::Sick);
        Check::new(format!("oauth:{}", crate::oauth::tokens::login_name(&account.account)), state)
    });
    Ok(checks.collect())
}

/// How long before a configured client secret expiry the alarm warns.
const SECRET_WARN_DAYS: i64 = 14;
/// Microsoft drops a refresh token unused for 90 days: warn at 80.
const UNUSED_WARN_DAYS: i64 = 80;

/// What a person must do about an OAuth2 account, if anything.
fn oauth_state(
    account: &crate::oauth::OAuth2Config,
    row: Option<&crate::storage::entities::oauth_token::Model>,
    now: DateTime<Utc>,
) -> Option<String> {
    let name = crate::oauth::tokens::login_name(&account.account);
    let login = format!("run `supportd oauth login {name}`");
    let error = row.and_then(|r| r.last_error.clone()).unwrap_or_default();
    let kind = row.and_then(|r| r.last_error_kind.as_deref());
    let new_secret = "put the application's new secret in the config (client_secret_file) and restart";
    match kind {
        None if row.is_none() && account.grant != crate::oauth::Grant::ClientCredentials => {
            return Some(format!("{name} has no OAuth2 token yet: {login}"));
        }
        Some("invalid_grant") => return Some(format!("{name}: {error}: {login}")),
        Some("invalid_client") => return Some(format!("{name}: {error}: {new_secret}")),
        Some("key" | "no_token") => return Some(format!("{name}: {error}; {login}")),
        _ => {}
    }
    if let Some(expires) = account.secret_expires {
        let left = (expires - now.date_naive()).num_days();
        if left <= SECRET_WARN_DAYS {
            return Some(format!("the client secret of {name} expires on {expires} ({left} days): {new_secret}"));
        }
    }
    let microsoft = matches!(account.provider, crate::oauth::Provider::Microsoft { .. });
    let last = row.and_then(|r| r.last_refresh_at);
    if let Some(last) = last.filter(|t| {
        microsoft
            && account.grant != crate::oauth::Grant::ClientCredentials
            && now - *t > Duration::days(UNUSED_WARN_DAYS)
    }) {
        return Some(format!(
            "{name}'s refresh token has not been used since {} and Microsoft drops it after 90 days unused: start the \
             daemon, or {login}",
            last.format("%Y-%m-%d")
        ));
    }
    None
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

#[cfg(test)]
mod oauth_tests {
    use chrono::TimeZone;

    use super::*;
    use crate::oauth::{Grant, OAuth2Config, Provider};
    use crate::storage::entities::oauth_token;

    fn microsoft(secret_expires: Option<&str>) -> OAuth2Config {
        let provider = Provider::Microsoft { tenant: "contoso.example".into() };
        OAuth2Config {
            account: "mailbox:m365".into(),
            user: "support@contoso.example".into(),
            endpoints: provider.endpoints().unwrap(),
            provider,
            client_id: "app".into(),
            client_secret: None,
            secret_expires: secret_expires.map(|d| d.parse().unwrap()),
            grant: Grant::DeviceCode,
            scopes: Vec::new(),
        }
    }

    fn row(last_refresh: DateTime<Utc>, kind: Option<&str>) -> oauth_token::Model {
        oauth_token::Model {
            account: "mailbox:m365".into(),
            refresh_token: Some("v1:x".into()),
            access_token: Some("v1:y".into()),
            access_expires_at: None,
            scopes: String::new(),
            generation: 3,
            refreshing_until: None,
            refreshing_by: None,
            last_refresh_at: Some(last_refresh),
            last_error: kind.map(|k| format!("consent revoked or expired ({k}: AADSTS50173)")),
            last_error_kind: kind.map(str::to_owned),
            updated_at: last_refresh,
        }
    }

    #[test]
    fn an_alarm_warns_ahead_of_a_secrets_expiry_and_of_microsofts_90_days() {
        let now = Utc.with_ymd_and_hms(2027, 6, 20, 9, 0, 0).unwrap();
        let fresh = row(now - Duration::hours(1), None);
        assert_eq!(oauth_state(&microsoft(None), Some(&fresh), now), None, "nothing to do");
        assert_eq!(oauth_state(&microsoft(Some("2027-07-31")), Some(&fresh), now), None, "41 days ahead");
        let soon = oauth_state(&microsoft(Some("2027-06-30")), Some(&fresh), now).unwrap();
        assert!(soon.starts_with("the client secret of m365 expires on 2027-06-30 (10 days)"), "{soon}");
        let unused = oauth_state(&microsoft(None), Some(&row(now - Duration::days(81), None)), now).unwrap();
        assert!(unused.contains("has not been used since 2027-03-31") && unused.contains("90 days"), "{unused}");
        let revoked = oauth_state(&microsoft(None), Some(&row(now, Some("invalid_grant"))), now).unwrap();
        assert!(revoked.starts_with("m365: consent revoked") && revoked.ends_with("run `supportd oauth login m365`"));
        let never = oauth_state(&microsoft(None), None, now).unwrap();
        assert_eq!(never, "m365 has no OAuth2 token yet: run `supportd oauth login m365`");
    }
}
