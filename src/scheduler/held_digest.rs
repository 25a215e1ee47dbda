//! People are not forgotten: when mail from a person is held (a sender who may not open cases,
//! a refused `#report`), the agents get a digest at most once an hour listing who wrote, the
//! subject and how to act. Automated mail is never listed. The ledger (`held_digests` and the
//! held ids each listed) is written in the transaction that queues the mail, so a crash or a
//! second instance on the same database neither loses a digest nor sends one twice.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tracing::info;

use crate::config::Notify;
use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::ingest::held::{Listed, listed};
use crate::outbound::{Composed, MailError, format_due, new_message_id, queue_mail};
use crate::storage::entities::held_mail::{self, Kind, State};
use crate::storage::entities::{agent, held_digest, held_digest_item};
use crate::storage::{Tx, begin_write};
use crate::templates::{Audience, HeldDigestContext, HeldDigestLine};

/// Held kinds that are a person's mail; every other kind is automated.
const PEOPLE: [Kind; 2] = [Kind::NotMember, Kind::ReportRequest];
const INTERVAL: Duration = Duration::hours(1);
/// A backlog of thousands is not one mail of thousands of lines: the rest come next hour.
const MAX_LISTED: u64 = 50;
const SUBJECT_CHARS: usize = 100;

/// One recipient of the digest and where their reply would go.
struct Recipient {
    to: Vec<EmailAddress>,
    reply_to: EmailAddress,
}

/// Queues the digest when one is due; how many mails.
pub async fn held_digest(desk: &Desk) -> Result<usize, MailError> {
    let now = desk.now();
    // Read first without the write lock: almost every tick has nothing to send.
    if !due(&desk.db, now).await? || unlisted(&desk.db, 1).await?.is_empty() {
        return Ok(0);
    }
    let recipients = recipients(desk).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let txn = begin_write(&desk.db).await?;
    let Some(digest_id) = claim(&txn, now).await? else { return Ok(0) };
    let mut rows = unlisted(&txn, MAX_LISTED + 1).await?;
    let more = match rows.len() as u64 > MAX_LISTED {
        true => unlisted_count(&txn).await? - MAX_LISTED,
        false => 0,
    };
    rows.truncate(MAX_LISTED as usize);
    if rows.is_empty() {
        return Ok(0);
    }
    for r in &rows {
        let item = held_digest_item::ActiveModel { held_id: Set(r.id), digest_id: Set(digest_id) };
        held_digest_item::Entity::insert(item).exec_without_returning(&txn).await?;
    }
    let ctx = context(desk, &rows, more);
    let rendered = desk.templates.render("held_digest", Audience::default(), &ctx)?;
    let from = &desk.config.outbound.from;
    for r in &recipients {
        let message_id = new_message_id("held-digest", None, from.domain());
        let to = r.to.iter().map(|a| (None, a)).collect();
        let mail = Composed::notice(
            (desk.config.outbound.from_name.as_deref(), from),
            &r.reply_to,
            to,
            &message_id,
            &rendered,
        );
        queue_mail(&txn, "held_digest", None, &mail, now).await?;
    }
    txn.commit().await?;
    info!(listed = rows.len(), more, mails = recipients.len(), "held-mail digest");
    Ok(recipients.len())
}

/// No digest in the last hour.
async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, DbErr> {
    Ok(last(db).await?.is_none_or(|d| d.sent_at <= now - INTERVAL))
}

async fn last(db: &impl ConnectionTrait) -> Result<Option<held_digest::Model>, DbErr> {
    held_digest::Entity::find().order_by_desc(held_digest::Column::Id).one(db).await
}

/// Writes the next digest's ledger row, chained to the last one; None when a digest went out
/// within the hour, or another instance wrote the next one first (its `previous_id` is taken).
async fn claim(txn: &Tx, now: DateTime<Utc>) -> Result<Option<i64>, DbErr> {
    let previous = last(txn).await?;
    if previous.as_ref().is_some_and(|d| d.sent_at > now - INTERVAL) {
        return Ok(None);
    }
    let previous_id = previous.map_or(0, |d| d.id);
    let row = held_digest::ActiveModel { previous_id: Set(previous_id), sent_at: Set(now), ..Default::default() };
    let insert = held_digest::Entity::insert(row)
        .on_conflict_do_nothing_on([held_digest::Column::PreviousId])
        .exec_without_returning(txn)
        .await?;
    if !crate::storage::inserted(&insert) {
        return Ok(None);
    }
    let id = held_digest::Entity::find()
        .select_only()
        .column(held_digest::Column::Id)
        .filter(held_digest::Column::PreviousId.eq(previous_id))
        .into_tuple::<i64>()
        .one(txn)
        .await?;
    Ok(id)
}

/// People's mail still held that no digest listed, oldest first.
fn unlisted_query() -> sea_orm::Select<held_mail::Entity> {
    let listed_ids = Query::select().column(held_digest_item::Column::HeldId).from(held_digest_item::Entity).to_owned();
    listed()
        .filter(held_mail::Column::State.eq(State::Held))
        .filter(held_mail::Column::Kind.is_in(PEOPLE))
        .filter(held_mail::Column::Id.not_in_subquery(listed_ids))
}

async fn unlisted(db: &impl ConnectionTrait, n: u64) -> Result<Vec<Listed>, DbErr> {
    unlisted_query().order_by_asc(held_mail::Column::Id).limit(n).into_model::<Listed>().all(db).await
}

async fn unlisted_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    unlisted_query().count(db).await
}

/// `[agents] held_notify` when set; else as `[agents] notify` says: each active agent in a
/// mail of their own (its Reply-To carrying their token, as their notifications do), the team
/// address, or nobody.
async fn recipients(desk: &Desk) -> Result<Vec<Recipient>, DbErr> {
    let cfg = &desk.config.agent_desk;
    let support = &desk.config.outbound.from;
    if !cfg.held_notify.is_empty() {
        return Ok(vec![Recipient { to: cfg.held_notify.clone(), reply_to: support.clone() }]);
    }
    Ok(match &cfg.notify {
        Notify::Nobody => Vec::new(),
        Notify::Team(team) => vec![Recipient { to: vec![team.clone()], reply_to: support.clone() }],
        Notify::EachAgent => agent::Entity::find()
            .filter(agent::Column::Active.eq(true))
            .order_by_asc(agent::Column::Id)
            .all(&desk.db)
            .await?
            .into_iter()
            .filter_map(|a| {
                let to = a.email.parse::<EmailAddress>().ok()?;
                let reply_to = match (&a.token, cfg.verify.uses_token()) {
                    (Some(token), true) => crate::agents::reply_address(support, token),
                    _ => support.clone(),
                };
                Some(Recipient { to: vec![to], reply_to })
            })
            .collect(),
    })
}

fn context(desk: &Desk, rows: &[Listed], more: u64) -> HeldDigestContext {
    let zone = desk.config.calendar.time_zone;
    let messages = rows
        .iter()
        .map(|r| HeldDigestLine {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            from: bounded(&r.from_addr),
            subject: bounded(&r.subject),
            received: format_due(r.received_at, zone),
            reason: bounded(&r.reason),
        })
        .collect();
    HeldDigestContext {
        count: rows.len(),
        messages,
        more: match more {
            0 => String::new(),
            n => format!("{n} more are held: supportd held list"),
        },
        support_address: desk.config.outbound.from.to_string(),
    }
}

/// A sender's words on one line: no control characters (a newline would forge lines of the
/// digest), at most `SUBJECT_CHARS` characters.
fn bounded(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.trim();
    match clean.char_indices().nth(SUBJECT_CHARS) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_one_bounded_line() {
        assert_eq!(bounded("Exports\r\nFrom: ceo@example.com"), "Exports  From: ceo@example.com");
        let long = "é".repeat(300);
        assert_eq!(bounded(&long).chars().count(), SUBJECT_CHARS + 1);
        assert!(bounded(&long).ends_with('…'));
        assert_eq!(bounded("  short  "), "short");
    }
}
