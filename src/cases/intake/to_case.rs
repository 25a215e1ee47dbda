//! A held message an agent adds to a case they name (`held release ID --to-case N`): it joins
//! that case as a follow-up from its sender would, whatever its subject or references say.

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{Email, IntakeError};
use crate::agents::Ctx;
use crate::cases::{Judge, Standing};
use crate::domain::CaseNumber;
use crate::storage::Tx;
use crate::storage::entities::{case, case_participant};
use crate::threading::Thread;

/// The named case, with the sender's standing on it. An agent who adds a stranger's message
/// to a case vouches for them: the sender is remembered on the case (role `added`), so their
/// next reply joins it too instead of being held again.
pub(super) async fn named_case(
    txn: &Tx,
    ctx: &Ctx<'_>,
    e: &Email<'_>,
    number: CaseNumber,
) -> Result<Thread, IntakeError> {
    let case = case::Entity::find()
        .filter(case::Column::Number.eq(number))
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("case {number}")))?;
    let judge = Judge {
        config: ctx.config,
        agents: ctx.agents,
        companies: ctx.companies,
        sender_contact: e.contact.as_ref().map(|c| c.id),
    };
    let mut standing = judge.standing(txn, &case, &e.msg.from.address).await?;
    if standing == Standing::Stranger {
        let row = case_participant::ActiveModel {
            case_id: sea_orm::Set(case.id),
            email: sea_orm::Set(e.msg.from.address.to_string()),
            name: sea_orm::Set(None),
            role: sea_orm::Set("added".into()),
            ..Default::default()
        };
        case_participant::Entity::insert(row)
            .on_conflict_do_nothing_on([case_participant::Column::CaseId, case_participant::Column::Email])
            .exec_without_returning(txn)
            .await?;
        standing = Standing::Remembered;
    }
    Ok(Thread::Existing { case: Box::new(case), standing })
}
