//! Mail that opens no case is held: kept with its kind and reason for an agent to review
//! (`supportd held`, in `ingest::held`). Automated mail that threads to no case is held
//! rather than opening an SLA case that would notify and alert people for nothing; so is a
//! new request from someone who may not open cases, who is told so, politely.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use tracing::info;

use super::{Email, IntakeError, Outcome};
use crate::config::CompanyConfig;
use crate::desk::Desk;
use crate::outbound::loop_guard::Automated;
use crate::outbound::{NotMemberInput, queue_not_member};
use crate::storage::entities::held_mail::{self, Kind, State};

/// Keeps the mail with why it was held. The same message delivered again is held once.
pub async fn hold(
    db: &impl ConnectionTrait,
    e: &Email<'_>,
    why: &Automated,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    // PostgreSQL text holds no NUL; a hostile subject may carry one.
    let clean = |s: &str| s.replace('\0', "");
    let msg = e.msg;
    let row = held_mail::ActiveModel {
        mailbox: Set(e.mailbox.name.clone()),
        source_ref: Set(Some(e.source_ref.to_owned())),
        kind: Set(why.kind),
        reason: Set(clean(&why.reason)),
        from_addr: Set(msg.from.address.to_string()),
        subject: Set(clean(&msg.subject)),
        message_id: Set(msg.message_id.as_deref().map(clean)),
        dedup_key: Set(msg.dedup_key.clone()),
        raw: Set(e.arrival.raw.to_vec()),
        received_at: Set(e.arrival.received_at),
        created_at: Set(now),
        state: Set(State::Held),
        ..Default::default()
    };
    // Not RETURNING the row, which would read the stored bytes back.
    let insert = held_mail::Entity::insert(row)
        .on_conflict_do_nothing_on([held_mail::Column::DedupKey])
        .exec_without_returning(db)
        .await?;
    Ok(match crate::storage::inserted(&insert) {
        true => {
            let id = held_mail::Entity::find()
                .select_only()
                .column(held_mail::Column::Id)
                .filter(held_mail::Column::DedupKey.eq(msg.dedup_key.as_str()))
                .into_tuple::<i64>()
                .one(db)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("the held message just written".into()))?;
            Outcome::Held { id, kind: why.kind, reason: why.reason.clone() }
        }
        false => Outcome::HeldBefore,
    })
}

/// Holds a new case's first message from someone who may not open cases, and tells them
/// (once a day at most) who may, and whom to ask.
pub(super) async fn not_member(
    txn: &crate::storage::Tx,
    desk: &Desk,
    e: &Email<'_>,
    reason: String,
    company: Option<&CompanyConfig>,
) -> Result<Outcome, IntakeError> {
    let why = Automated { kind: Kind::NotMember, reason };
    let outcome = hold(txn, e, &why, desk.now()).await?;
    if let Outcome::Held { id, .. } = outcome {
        let input = NotMemberInput { msg: e.msg, mailbox: e.mailbox, company };
        if let Some(no) = queue_not_member(txn, &desk.config, &desk.templates, input, desk.now()).await? {
            info!(reason = %no.reason, "no reply to a sender who may not open cases");
            if no.held_back {
                add_to_reason(txn, id, &format!("the reply was {}", no.reason)).await?;
            }
        }
    }
    Ok(outcome)
}

/// Adds `what` to held message `id`'s reason ("…; the reply was held back: …"), for the
/// agent who reviews it (`held list`, `held show`).
pub async fn add_to_reason(db: &impl ConnectionTrait, id: i64, what: &str) -> Result<(), DbErr> {
    let reason: Option<String> =
        held_mail::Entity::find_by_id(id).select_only().column(held_mail::Column::Reason).into_tuple().one(db).await?;
    let Some(reason) = reason else { return Ok(()) };
    let reason = format!("{reason}; {}", what.replace('\0', ""));
    held_mail::Entity::update_many()
        .col_expr(held_mail::Column::Reason, sea_orm::sea_query::Expr::value(reason))
        .filter(held_mail::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
