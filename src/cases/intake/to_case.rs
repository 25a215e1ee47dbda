//! A held message an agent adds to a case they name (`held release ID --to-case N`): it joins
//! that case as a follow-up from its sender would, whatever its subject or references say.
//! Joining is not belonging: what the case's mail reaches from then on is decided here, once.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::{Email, IntakeError};
use crate::agents::{Ctx, Directory};
use crate::cases::{Companies, Judge, Standing};
use crate::config::Config;
use crate::domain::{CaseNumber, EmailAddress};
use crate::storage::Tx;
use crate::storage::entities::case_participant;
use crate::threading::Thread;

/// The named case, with the sender's standing on it. A person who is a stranger to it is
/// remembered on it (role `added`, so their next reply joins it) only when the case has no
/// company or the agent vouched for them (`--make-party`); `held::release` refuses the rest
/// before intake runs. A robot (a bounce, an auto-reply) is never remembered.
pub(super) async fn named_case(
    txn: &Tx,
    ctx: &Ctx<'_>,
    e: &Email<'_>,
    number: CaseNumber,
    vouched: bool,
) -> Result<Thread, IntakeError> {
    let case =
        crate::cases::by_number(txn, number).await?.ok_or_else(|| DbErr::RecordNotFound(format!("case {number}")))?;
    let judge = Judge {
        config: ctx.config,
        agents: ctx.agents,
        companies: ctx.companies,
        sender_contact: e.contact.as_ref().map(|c| c.id),
    };
    let standing = judge.standing_of_mail(txn, &case, e.msg).await?;
    let may_add = e.automated.is_none() && (case.company_id.is_none() || vouched);
    if standing != Standing::Stranger || !may_add {
        return Ok(Thread::Existing { case: Box::new(case), standing });
    }
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
    Ok(Thread::Existing { case: Box::new(case), standing: Standing::Remembered })
}

/// The company of case `number` when `sender` is a stranger to it (by the one party test,
/// `Judge::standing`): joining would make them a party of another company's case. None when
/// they are a party already, or the case has no company.
pub async fn stranger_to_company(
    db: &impl ConnectionTrait,
    config: &Config,
    number: CaseNumber,
    sender: &EmailAddress,
) -> Result<Option<String>, DbErr> {
    let Some(case) = crate::cases::by_number(db, number).await? else { return Ok(None) };
    let companies = Companies::load(db).await?;
    let Some(company) = companies.of(config, &case) else { return Ok(None) };
    let agents = Directory::load(db, config.intake.local_part_case).await?;
    let judge = Judge { config, agents: &agents, companies: &companies, sender_contact: None };
    let standing = judge.standing(db, &case, sender).await?;
    Ok((standing == Standing::Stranger).then(|| company.name.clone()))
}
