use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::CaseTag;
use crate::ingest::ParsedMessage;
use crate::storage::Tx;
use crate::storage::entities::{case, case_participant, contact, message, outbox};

/// Where a message goes.
#[derive(Debug)]
pub enum Thread {
    Existing(Box<case::Model>),
    /// A new case; `because` says why a tag or reference was not followed.
    New {
        because: Option<String>,
    },
}

/// Follows the case tag first, then In-Reply-To/References to a message supportd stored or sent.
pub async fn resolve(
    db: &Tx,
    tag: &CaseTag,
    msg: &ParsedMessage,
    sender_company: Option<i64>,
) -> Result<Thread, DbErr> {
    let mut because = None;
    if let Some(number) = tag.find(&msg.subject) {
        match case::Entity::find().filter(case::Column::Number.eq(number.get() as i64)).one(db).await? {
            None => because = Some(format!("subject tag {} names no existing case", tag.render(number))),
            Some(c) if may_join(db, &c, msg, sender_company).await? => return Ok(Thread::Existing(Box::new(c))),
            Some(_) => {
                because = Some(format!("sender {} is not a party to case {}", msg.from.address, tag.render(number)))
            }
        }
    }
    if because.is_none()
        && let Some(c) = by_reference(db, msg).await?
    {
        return Ok(Thread::Existing(Box::new(c)));
    }
    Ok(Thread::New { because })
}

/// The case an agent's message is about: its tag names any case (agents work on every
/// company's cases), else the message it replies to.
pub async fn case_for_agent(db: &Tx, tag: &CaseTag, msg: &ParsedMessage) -> Result<Option<case::Model>, DbErr> {
    if let Some(number) = tag.find(&msg.subject)
        && let Some(c) = case::Entity::find().filter(case::Column::Number.eq(number.get() as i64)).one(db).await?
    {
        return Ok(Some(c));
    }
    by_reference(db, msg).await
}

/// A tag is honoured from the case's contact, its remembered Cc's, or anyone of its company.
async fn may_join(
    db: &impl ConnectionTrait,
    c: &case::Model,
    msg: &ParsedMessage,
    sender_company: Option<i64>,
) -> Result<bool, DbErr> {
    if c.company_id.is_some() && c.company_id == sender_company {
        return Ok(true);
    }
    let sender = msg.from.address.as_str();
    if let Some(contact_id) = c.contact_id
        && let Some(ct) = contact::Entity::find_by_id(contact_id).one(db).await?
        && ct.email.eq_ignore_ascii_case(sender)
    {
        return Ok(true);
    }
    let cc = case_participant::Entity::find()
        .filter(case_participant::Column::CaseId.eq(c.id))
        .filter(case_participant::Column::Email.eq(sender))
        .one(db)
        .await?;
    Ok(cc.is_some())
}

async fn by_reference(tx: &Tx, msg: &ParsedMessage) -> Result<Option<case::Model>, DbErr> {
    // The most recent reference is the likeliest parent; In-Reply-To comes first of all, and
    // the ids a bounce or read receipt quotes from our message come last.
    let ids: Vec<&String> = msg.in_reply_to.iter().chain(msg.references.iter().rev()).chain(&msg.quoted_ids).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    // The parent may be a message stored earlier in this transaction.
    tx.flush().await?;
    for id in ids {
        let stored = message::Entity::find()
            .select_only()
            .column(message::Column::CaseId)
            .filter(message::Column::MessageId.eq(id.as_str()))
            .into_tuple::<i64>()
            .one(tx)
            .await?;
        let case_id = match stored {
            Some(case_id) => Some(case_id),
            None => outbox::Entity::find()
                .select_only()
                .column(outbox::Column::CaseId)
                .filter(outbox::Column::MessageId.eq(id.as_str()))
                .into_tuple::<Option<i64>>()
                .one(tx)
                .await?
                .flatten(),
        };
        if let Some(case_id) = case_id {
            return case::Entity::find_by_id(case_id).one(tx).await;
        }
    }
    Ok(None)
}
