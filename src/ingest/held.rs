//! Held mail under review: what reached the desk but opened no case (intake holds it:
//! `cases::intake`). An agent reviews it with `supportd held list`, and releases it (intake
//! runs again as if it had just arrived: the SLA clock starts at the release) or discards it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Incoming, IngestError, Outcome, Release, ingest};
use crate::desk::Desk;
use crate::storage::entities::case;
use crate::storage::entities::held_mail::{self, Kind, State};

#[derive(Debug, thiserror::Error)]
pub enum HeldError {
    #[error("no held message #{0}")]
    NotFound(i64),
    #[error("held message #{id} was already {}; nothing more was done", state.as_str())]
    Settled { id: i64, state: State },
    #[error("held message #{0} is stored on a case already: it was already released, or came again")]
    Stored(i64),
    #[error("held message #{id} is a #report request: releasing it sends the report, so {option} does not apply")]
    NotForReport { id: i64, option: &'static str },
    #[error(
        "{sender} is not of {company}, whose case {case} is: --to-case would send them that case's mail \
         from now on. If you vouch for them, add --make-party"
    )]
    NotOfCompany { sender: String, company: String, case: crate::domain::CaseNumber },
    #[error("held message #{id} names mailbox {mailbox:?}, which is not configured")]
    NoMailbox { id: i64, mailbox: String },
    #[error("no [[company]] has slug {0:?}")]
    NoCompany(String),
    #[error("no case {0}: the held message was left as it was")]
    NoCase(crate::domain::CaseNumber),
    #[error("--add-member needs a company: name one with --company, or the sender's domain must be a company's")]
    MemberOfNothing,
    #[error(transparent)]
    Member(#[from] crate::cases::MemberError),
    #[error("held message #{id} could not be released: {reason}")]
    StillFails { id: i64, reason: String },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// A held message without its bytes, which a listing has no use for.
#[derive(Debug, FromQueryResult)]
pub struct Listed {
    pub id: i64,
    pub mailbox: String,
    pub kind: Kind,
    pub reason: String,
    pub from_addr: String,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub state: State,
    pub settled_at: Option<DateTime<Utc>>,
    pub case_id: Option<i64>,
}

/// Every held message, oldest first; with `all`, released and discarded ones too.
pub async fn list(db: &impl ConnectionTrait, all: bool) -> Result<Vec<Listed>, DbErr> {
    let mut query = listed().order_by_asc(held_mail::Column::Id);
    if !all {
        query = query.filter(held_mail::Column::State.eq(State::Held));
    }
    query.into_model::<Listed>().all(db).await
}

/// The newest `n` messages still held (the live view's list).
pub async fn newest(db: &impl ConnectionTrait, n: u64) -> Result<Vec<Listed>, DbErr> {
    let query = listed().filter(held_mail::Column::State.eq(State::Held));
    query.order_by_desc(held_mail::Column::Id).limit(n).into_model::<Listed>().all(db).await
}

/// How many messages are held now.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    held_mail::Entity::find().filter(held_mail::Column::State.eq(State::Held)).count(db).await
}

/// The columns of `Listed`: never the raw bytes.
pub(crate) fn listed() -> sea_orm::Select<held_mail::Entity> {
    use held_mail::Column as C;
    held_mail::Entity::find()
        .select_only()
        .columns([C::Id, C::Mailbox, C::Kind, C::Reason, C::FromAddr, C::Subject, C::ReceivedAt, C::State])
        .columns([C::SettledAt, C::CaseId])
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<held_mail::Model>, DbErr> {
    held_mail::Entity::find_by_id(id).one(db).await
}

/// What `held release` was asked to do besides.
#[derive(Debug, Default)]
pub struct ReleaseOptions {
    /// The case is this company's (a slug), whatever the sender's address says.
    pub company: Option<String>,
    /// The sender becomes a key member of that company (or of their domain's).
    pub add_member: bool,
    /// The message joins this existing case instead of opening one.
    pub to_case: Option<crate::domain::CaseNumber>,
    /// The agent vouches for a sender who is not of the named case's company: they become a
    /// party of it (`--make-party`).
    pub make_party: bool,
}

/// Runs intake again on a held message, as if it had just arrived: it opens a case (or joins
/// the one it names) even though it is automated or its sender may not open cases, and its
/// SLA clock starts now. Automated mail still gets no acknowledgement.
pub async fn release(desk: &Desk, id: i64, options: ReleaseOptions) -> Result<Outcome, HeldError> {
    let row = unsettled(&desk.db, id).await?;
    if row.kind == Kind::ReportRequest {
        report_request_options(id, &options)?;
        return release_report_request(desk, row).await;
    }
    if let Some(slug) = &options.company
        && desk.config.company(slug).is_none()
    {
        return Err(HeldError::NoCompany(slug.clone()));
    }
    named_case_exists(&desk.db, options.to_case).await?;
    let sender: Option<crate::domain::EmailAddress> = row.from_addr.parse().ok();
    vouched_for(desk, &row, &options, sender.as_ref()).await?;
    let member_of = match (&options.company, &sender) {
        (Some(slug), _) => desk.config.company(slug),
        (None, Some(s)) => crate::cases::company_config_for(&desk.config, Some(s), None, false),
        (None, None) => None,
    };
    if options.add_member && (member_of.is_none() || sender.is_none()) {
        return Err(HeldError::MemberOfNothing);
    }
    // Checked before anything is released: a member who could never be matched is refused.
    if let Some(s) =
        sender.as_ref().filter(|s| options.add_member && s.key(desk.config.intake.local_part_case).is_none())
    {
        return Err(crate::cases::MemberError::NoKey(s.clone()).into());
    }
    let mailbox = desk
        .config
        .mailbox(&row.mailbox)
        .cloned()
        .ok_or_else(|| HeldError::NoMailbox { id, mailbox: row.mailbox.clone() })?;
    let incoming = Incoming {
        raw: &row.raw,
        mailbox: &mailbox,
        received_at: desk.now(),
        source_ref: format!("held:{id}"),
        declared_size: None,
        declared_sha256: None,
        released: Some(Release {
            company: options.company.clone(),
            to_case: options.to_case,
            make_party: options.make_party,
        }),
    };
    let outcome = ingest(desk, incoming).await?;
    let number = match &outcome {
        Outcome::Opened { case, .. }
        | Outcome::Appended { case }
        | Outcome::FromAgent { case, .. }
        | Outcome::FromTeam { case, .. } => *case,
        Outcome::Quarantined { reason, .. } | Outcome::Held { reason, .. } => {
            return Err(HeldError::StillFails { id, reason: reason.clone() });
        }
        Outcome::ReportSent { .. } | Outcome::CrmNote { .. } => {
            return Err(HeldError::StillFails { id, reason: "it opens no case".into() });
        }
        // Another release stored it first (the duplicate check makes a release once), or
        // another copy of it came in.
        Outcome::Duplicate => return Err(HeldError::Stored(id)),
    };
    let case_id = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Number.eq(number))
        .into_tuple::<i64>()
        .one(&desk.db)
        .await?;
    if options.add_member
        && let (Some(company), Some(sender)) = (member_of, &sender)
    {
        let company_id =
            crate::cases::company_for_sender(&desk.db, desk, Some(sender), Some(&company.slug), true, desk.now())
                .await?
                .map(|(id, _)| id)
                .ok_or(HeldError::MemberOfNothing)?;
        crate::cases::add_member(&desk.db, desk.config.intake.local_part_case, company_id, sender, desk.now()).await?;
    }
    settle(&desk.db, id, State::Released, case_id, desk.now()).await?;
    Ok(outcome)
}

/// A `#report` request released sends the report: it opens no case, so the options that
/// shape one are refused rather than silently ignored.
fn report_request_options(id: i64, options: &ReleaseOptions) -> Result<(), HeldError> {
    let option = match options {
        ReleaseOptions { to_case: Some(_), .. } => "--to-case",
        ReleaseOptions { company: Some(_), .. } => "--company",
        ReleaseOptions { add_member: true, .. } => "--add-member",
        ReleaseOptions { make_party: true, .. } => "--make-party",
        _ => return Ok(()),
    };
    Err(HeldError::NotForReport { id, option })
}

/// `--to-case` of a person's mail to a case of a company they are not of would make them (and
/// so the case's mail) theirs: refused unless the agent vouches for them. Automated mail
/// joins without making anyone a party (`intake::to_case`), so it needs no vouching.
async fn vouched_for(
    desk: &Desk,
    row: &held_mail::Model,
    options: &ReleaseOptions,
    sender: Option<&crate::domain::EmailAddress>,
) -> Result<(), HeldError> {
    let (Some(number), Some(sender)) = (options.to_case, sender) else { return Ok(()) };
    if options.make_party || !row.kind.is_a_persons() {
        return Ok(());
    }
    match crate::cases::intake::stranger_to_company(&desk.db, &desk.config, number, sender).await? {
        Some(company) => Err(HeldError::NotOfCompany { sender: sender.to_string(), company, case: number }),
        None => Ok(()),
    }
}

/// `--to-case` names a case that exists: checked before intake runs, so that a mistyped
/// number is a usage error and the message stays held.
async fn named_case_exists(
    db: &impl ConnectionTrait,
    to_case: Option<crate::domain::CaseNumber>,
) -> Result<(), HeldError> {
    let Some(number) = to_case else { return Ok(()) };
    match crate::cases::by_number(db, number).await? {
        Some(_) => Ok(()),
        None => Err(HeldError::NoCase(number)),
    }
}

/// Marks a held message discarded; its bytes stay for the record.
pub async fn discard(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), HeldError> {
    unsettled(db, id).await?;
    settle(db, id, State::Discarded, None, now).await
}

async fn unsettled(db: &impl ConnectionTrait, id: i64) -> Result<held_mail::Model, HeldError> {
    let row = find(db, id).await?.ok_or(HeldError::NotFound(id))?;
    match row.state {
        State::Held => Ok(row),
        state => Err(HeldError::Settled { id, state }),
    }
}

/// Settles a message still held: one row or none, so that of two releases (or a release and
/// a discard) racing, the second finds it settled and does nothing.
async fn settle(
    db: &impl ConnectionTrait,
    id: i64,
    state: State,
    case_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), HeldError> {
    use held_mail::Column as C;
    let done = held_mail::Entity::update_many()
        .col_expr(C::State, Expr::value(state))
        .col_expr(C::SettledAt, Expr::value(now))
        .col_expr(C::CaseId, Expr::value(case_id))
        .filter(C::Id.eq(id))
        .filter(C::State.eq(State::Held))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        return Ok(());
    }
    unsettled(db, id).await?;
    Err(HeldError::StillFails { id, reason: "it could not be settled".into() })
}

/// A held `#report` request released: the report goes to its sender (`reports::request`),
/// as a verified request's would, and no case is opened; a CRM's held reply to a report or
/// budget mail goes to the agents as a note.
async fn release_report_request(desk: &Desk, row: held_mail::Model) -> Result<Outcome, HeldError> {
    use crate::reports::request::Released;
    let (id, now, to) = (row.id, desk.now(), row.from_addr.clone());
    let support = desk.config.mailbox(&row.mailbox).map(|m| &m.address).unwrap_or(desk.config.support_address());
    let txn = crate::storage::begin_write(&desk.db).await?;
    // Settled first, in the transaction that queues the report: a second release waits here
    // and then finds it released.
    settle(&txn, id, State::Released, None, now).await?;
    let sent = crate::reports::request::release(&txn, desk, &row.raw, support, now).await.map_err(|e| match e {
        crate::reports::ReportError::Database(db) => HeldError::Database(db),
        other => HeldError::StillFails { id, reason: other.to_string() },
    })?;
    let released = sent.map_err(|reason| HeldError::StillFails { id, reason })?;
    txn.commit().await?;
    Ok(match released {
        Released::Report { company, period } => Outcome::ReportSent { company, period: period.key(), to },
        Released::Note { company } => Outcome::CrmNote { company },
    })
}

/// Who receives case `number`'s mail to the customer's side now (its contact, then the Cc's
/// every relay carries), for the agent who just added a message to it.
pub async fn readers_of(desk: &Desk, number: crate::domain::CaseNumber) -> Result<Vec<String>, DbErr> {
    let txn = crate::storage::begin_write(&desk.db).await?;
    let Some(c) = crate::cases::by_number(&txn, number).await? else { return Ok(Vec::new()) };
    let companies = crate::cases::Companies::load(&txn).await?;
    let own = desk.config.own_addresses();
    let readers = crate::cases::readers(&txn, &c, companies.of(&desk.config, &c), &own).await?;
    let addresses = readers.map(|r| std::iter::once(r.to).chain(r.cc).map(|r| r.address.to_string()).collect());
    Ok(addresses.unwrap_or_default())
}
