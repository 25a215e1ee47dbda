use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::cases::{Judge, Standing};
use crate::domain::CaseTag;
use crate::mail::ParsedMessage;
use crate::storage::Tx;
use crate::storage::entities::{case, message, outbox};

/// Where a message goes.
#[derive(Debug)]
pub enum Thread {
    Existing {
        case: Box<case::Model>,
        /// The sender's standing on it (a stranger only for a report about our own mail).
        standing: Standing,
    },
    /// A new case; `because` says why a tag or reference was not followed, and `linked` names
    /// the case it pointed at, for the agents.
    New { because: Option<String>, linked: Option<i64> },
}

impl Thread {
    fn new_case(because: String, linked: &case::Model) -> Thread {
        Thread::New { because: Some(because), linked: Some(linked.id) }
    }
}

/// Follows the case tag first, then In-Reply-To/References to a message supportd stored or
/// sent, in both cases only for a party to the case (`cases::Judge`). The one exception is
/// `automated` mail quoting mail we sent (a bounce of an acknowledgement from the customer's
/// mail server): it attaches to that case, and the caller lets it change nothing.
pub async fn resolve(db: &Tx, judge: &Judge<'_>, msg: &ParsedMessage, automated: bool) -> Result<Thread, DbErr> {
    let tag = &judge.config.intake.case_tag;
    let sender = &msg.from.address;
    if let Some(number) = tag.find(&msg.subject) {
        let Some(c) = case::Entity::find().filter(case::Column::Number.eq(number)).one(db).await? else {
            let because = format!("subject tag {} names no existing case", tag.render(number));
            return Ok(Thread::New { because: Some(because), linked: None });
        };
        let standing = judge.standing_of_mail(db, &c, msg).await?;
        if standing.is_party() {
            return Ok(Thread::Existing { case: Box::new(c), standing });
        }
        return Ok(Thread::new_case(format!("sender {sender} is not a party to case {}", tag.render(number)), &c));
    }
    let Some((c, ours)) = by_reference(db, msg).await? else { return Ok(Thread::New { because: None, linked: None }) };
    let standing = judge.standing_of_mail(db, &c, msg).await?;
    if standing.is_party() || automated && ours {
        return Ok(Thread::Existing { case: Box::new(c), standing });
    }
    let number = Some(c.number).map(|n| tag.render(n)).unwrap_or_default();
    Ok(Thread::new_case(format!("sender {sender} is not a party to case {number}, which the message refers to"), &c))
}

/// The case an agent's message is about: its tag names any case (agents work on every
/// company's cases), else the message it replies to.
pub async fn case_for_agent(db: &Tx, tag: &CaseTag, msg: &ParsedMessage) -> Result<Option<case::Model>, DbErr> {
    if let Some(number) = tag.find(&msg.subject)
        && let Some(c) = case::Entity::find().filter(case::Column::Number.eq(number)).one(db).await?
    {
        return Ok(Some(c));
    }
    Ok(by_reference(db, msg).await?.map(|(c, _)| c))
}

/// The case of the message this one refers to, and whether that was mail we sent.
async fn by_reference(tx: &Tx, msg: &ParsedMessage) -> Result<Option<(case::Model, bool)>, DbErr> {
    // The most recent reference is the likeliest parent; In-Reply-To comes first of all, and
    // the ids a bounce or read receipt quotes from our message come last.
    let ids: Vec<&String> = msg.in_reply_to.iter().chain(msg.references.iter().rev()).chain(&msg.quoted_ids).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    // The parent may be a message stored earlier in this transaction.
    tx.flush_for_message_ids(&ids.iter().map(|id| id.as_str()).collect::<Vec<_>>()).await?;
    for id in ids {
        let stored = message::Entity::find()
            .select_only()
            .column(message::Column::CaseId)
            .filter(message::Column::MessageId.eq(id.as_str()))
            .into_tuple::<i64>()
            .one(tx)
            .await?;
        let case_id = match stored {
            Some(case_id) => Some((case_id, false)),
            None => outbox::Entity::find()
                .select_only()
                .column(outbox::Column::CaseId)
                .filter(outbox::Column::MessageId.eq(id.as_str()))
                .into_tuple::<Option<i64>>()
                .one(tx)
                .await?
                .flatten()
                .map(|case_id| (case_id, true)),
        };
        if let Some((case_id, ours)) = case_id {
            return Ok(case::Entity::find_by_id(case_id).one(tx).await?.map(|c| (c, ours)));
        }
    }
    Ok(None)
}
