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

use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::domain::text::phrase;
use crate::ingest::held::{Listed, listed};
use crate::outbound::{Composed, MailError, format_due, new_message_id, queue_mail};
use crate::storage::entities::held_mail::{self, Kind, State};
use crate::storage::entities::{held_digest, held_digest_item};
use crate::storage::{Tx, begin_write};
use crate::templates::{Audience, HeldDigestContext, HeldDigestLine};

const INTERVAL: Duration = Duration::hours(1);
/// A backlog of thousands is not one mail of thousands of lines: the rest come next hour.
const MAX_LISTED: u64 = 50;

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
    // Replying does nothing (the mail says what to do instead), so no agent's token: the
    // Reply-To is the desk itself.
    let from = &desk.config.outbound.from;
    for to in &recipients {
        let message_id = new_message_id("held-digest", None, from.domain());
        let to = to.iter().map(|(name, a)| (name.as_deref(), a)).collect();
        let mail =
            Composed::notice((desk.config.outbound.from_name.as_deref(), from), from, to, &message_id, &rendered);
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
        .filter(held_mail::Column::Kind.is_in(Kind::PEOPLE))
        .filter(held_mail::Column::Id.not_in_subquery(listed_ids))
}

async fn unlisted(db: &impl ConnectionTrait, n: u64) -> Result<Vec<Listed>, DbErr> {
    unlisted_query().order_by_asc(held_mail::Column::Id).limit(n).into_model::<Listed>().all(db).await
}

async fn unlisted_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    unlisted_query().count(db).await
}

/// `[agents] held_notify` when set, in one mail; else who hears of the whole desk's news
/// (`agents::listeners`), each in a mail of their own.
async fn recipients(desk: &Desk) -> Result<Vec<Vec<(Option<String>, EmailAddress)>>, DbErr> {
    let cfg = &desk.config.agent_desk;
    if !cfg.held_notify.is_empty() {
        return Ok(vec![cfg.held_notify.iter().map(|a| (None, a.clone())).collect()]);
    }
    let agents = crate::agents::Directory::load(&desk.db, desk.config.intake.local_part_case).await?;
    Ok(crate::agents::listeners(&cfg.notify, &agents).iter().filter_map(|l| Some(vec![l.to()?])).collect())
}

fn context(desk: &Desk, rows: &[Listed], more: u64) -> HeldDigestContext {
    let zone = desk.config.calendar.time_zone;
    let messages = rows
        .iter()
        .map(|r| HeldDigestLine {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            from: phrase(&r.from_addr),
            subject: phrase(&r.subject),
            received: format_due(r.received_at, zone),
            reason: phrase(&r.reason),
            // Releasing a `#report` request sends the report: it opens no case, joins none.
            release: match r.kind {
                Kind::ReportRequest => "Send the report".into(),
                _ => "Open a case".into(),
            },
            to_case: r.kind != Kind::ReportRequest,
        })
        .collect();
    HeldDigestContext {
        count: rows.len() + more as usize,
        messages,
        more: match more {
            0 => String::new(),
            n => format!("{n} more are held: supportd held list"),
        },
        support_address: desk.config.outbound.from.to_string(),
    }
}
