//! Who may open a case. `[intake] who_may_open` (a mailbox may say otherwise) is `anyone`,
//! `companies` (a sender of a configured company: one of its domains, or a member) or
//! `members` (a company's key members only: `[[company]] members`, and those added with
//! `supportd members add`). A reply on a case from one of its parties is never asked.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::config::{CompanyConfig, Config, MailboxConfig, WhoMayOpen};
use crate::domain::{AddressKey, EmailAddress, LocalPartCase};
use crate::storage::entities::{company, company_member};

/// Whether the sender may open a case through this mailbox.
pub enum Door<'c> {
    /// Yes; `member_of` is the company whose key member the sender is, if any.
    Open { member_of: Option<&'c CompanyConfig> },
    /// No: why, and the company the sender's domain belongs to (whose CRM they may ask).
    Closed { reason: String, company: Option<&'c CompanyConfig> },
}

/// `doubt` says why the message's From cannot be taken for the sender, if it cannot: then
/// the sender is a stranger, member of no company.
pub async fn door<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    mailbox: &MailboxConfig,
    sender: &EmailAddress,
    doubt: Option<&str>,
) -> Result<Door<'c>, DbErr> {
    let policy = mailbox.who_may_open.unwrap_or(config.intake.who_may_open);
    if policy == WhoMayOpen::Anyone {
        return Ok(Door::Open { member_of: None });
    }
    if let Some(doubt) = doubt {
        let reason = format!("the sender cannot be told from its From ({doubt}), so it is no one's member");
        return Ok(Door::Closed { reason, company: None });
    }
    let member_of = key_member_of(db, config, sender).await?;
    let by_domain = config.companies.iter().find(|c| c.domains.iter().any(|d| sender.at_domain(d)));
    let open = match policy {
        WhoMayOpen::Anyone => true,
        WhoMayOpen::Companies => member_of.is_some() || by_domain.is_some(),
        WhoMayOpen::Members => member_of.is_some(),
    };
    if open {
        return Ok(Door::Open { member_of });
    }
    let reason = match policy {
        WhoMayOpen::Members => {
            format!("{sender} is not a key member of a customer company (who_may_open = \"members\")")
        }
        _ => format!("{sender} belongs to no customer company (who_may_open = \"companies\")"),
    };
    Ok(Door::Closed { reason, company: by_domain })
}

/// The company the sender is a key member of: in the config, else added at run time.
async fn key_member_of<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    sender: &EmailAddress,
) -> Result<Option<&'c CompanyConfig>, DbErr> {
    match config_member(config, sender) {
        Some(c) => Ok(Some(c)),
        None => stored_member(db, config, sender).await,
    }
}

/// Whether the sender is a key member by their own address (in the config or added at run
/// time), not only by a `*@domain` entry: whom an acknowledgement may go to unasked. A
/// forger can write any address at a member domain, so `*@domain` vouches for no one's
/// mailbox, and mail to it counts toward the caps on mail to strangers.
pub async fn named_member(db: &impl ConnectionTrait, config: &Config, sender: &EmailAddress) -> Result<bool, DbErr> {
    if matches!(config_membership(config, sender), Some((_, Membership::Named))) {
        return Ok(true);
    }
    Ok(stored_member(db, config, sender).await?.is_some())
}

/// How a company's `members` name a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// By their own address.
    Named,
    /// By a `*@domain` entry, which anyone can write a From in.
    Wildcard,
}

/// The company whose `members` in the config name the sender (an address or `*@domain`),
/// compared as every address is (`EmailAddress::key`).
pub fn config_member<'c>(config: &'c Config, sender: &EmailAddress) -> Option<&'c CompanyConfig> {
    config_membership(config, sender).map(|(company, _)| company)
}

/// `config_member` with how it names the sender: a company naming the address itself comes
/// before one that takes its whole domain.
pub fn config_membership<'c>(config: &'c Config, sender: &EmailAddress) -> Option<(&'c CompanyConfig, Membership)> {
    let case = config.intake.local_part_case;
    let named = config.companies.iter().find(|c| membership_in(c, sender, case) == Some(Membership::Named));
    named
        .map(|c| (c, Membership::Named))
        .or_else(|| config.companies.iter().find_map(|c| membership_in(c, sender, case).map(|how| (c, how))))
}

/// How `company`'s own `members` name the sender, if they do: by address before by domain.
pub fn membership_in(company: &CompanyConfig, sender: &EmailAddress, case: LocalPartCase) -> Option<Membership> {
    let named = |m: &String| !m.starts_with("*@") && case.same_as(sender, m);
    let wildcard = |m: &String| m.strip_prefix("*@").is_some_and(|domain| sender.at_domain(domain));
    if company.members.iter().any(named) {
        Some(Membership::Named)
    } else {
        company.members.iter().any(wildcard).then_some(Membership::Wildcard)
    }
}

/// Whether the sender is a key member of this company by their own address: named in its
/// `members`, or added to it with `members add`.
pub async fn named_member_of(
    db: &impl ConnectionTrait,
    config: &Config,
    company: &CompanyConfig,
    company_id: i64,
    sender: &EmailAddress,
) -> Result<bool, DbErr> {
    let case = config.intake.local_part_case;
    if membership_in(company, sender, case) == Some(Membership::Named) {
        return Ok(true);
    }
    is_stored_member(db, case, company_id, sender).await
}

/// The company the sender was added to at run time, if it is still configured. Members are
/// stored as written and compared here, by key: a few rows per company, read whole.
async fn stored_member<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    sender: &EmailAddress,
) -> Result<Option<&'c CompanyConfig>, DbErr> {
    let Some(key) = sender.key(config.intake.local_part_case) else { return Ok(None) };
    let rows = matching(db, None, &key, config.intake.local_part_case).await?;
    for row in rows {
        if let Some(c) = company::Entity::find_by_id(row.company_id).one(db).await?
            && let Some(cfg) = config.company(&c.slug)
        {
            return Ok(Some(cfg));
        }
    }
    Ok(None)
}

/// A member added at run time, with the company's slug.
pub struct StoredMember {
    pub company: String,
    pub email: String,
    pub added_at: DateTime<Utc>,
}

pub async fn stored_members(db: &impl ConnectionTrait) -> Result<Vec<StoredMember>, DbErr> {
    let slugs: std::collections::HashMap<i64, String> =
        company::Entity::find().all(db).await?.into_iter().map(|c| (c.id, c.slug)).collect();
    let rows = company_member::Entity::find().order_by_asc(company_member::Column::Id).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredMember {
            company: slugs.get(&r.company_id).cloned().unwrap_or_default(),
            email: r.email,
            added_at: r.created_at,
        })
        .collect())
}

/// Whether `sender` was added to company `company_id` at run time.
pub async fn is_stored_member(
    db: &impl ConnectionTrait,
    case: LocalPartCase,
    company_id: i64,
    sender: &EmailAddress,
) -> Result<bool, DbErr> {
    let Some(key) = sender.key(case) else { return Ok(false) };
    Ok(!matching(db, Some(company_id), &key, case).await?.is_empty())
}

/// The stored members (of `company_id`, else of every company) whose address has `key`.
async fn matching(
    db: &impl ConnectionTrait,
    company_id: Option<i64>,
    key: &AddressKey,
    case: LocalPartCase,
) -> Result<Vec<company_member::Model>, DbErr> {
    let mut query = company_member::Entity::find().order_by_asc(company_member::Column::Id);
    if let Some(id) = company_id {
        query = query.filter(company_member::Column::CompanyId.eq(id));
    }
    let rows = query.all(db).await?;
    let has_key = |r: &company_member::Model| {
        r.email.parse::<EmailAddress>().ok().and_then(|a| a.key(case)).as_ref() == Some(key)
    };
    Ok(rows.into_iter().filter(has_key).collect())
}

/// Why an address cannot be a member: it has no key (its domain does not map to ASCII
/// cleanly), so it would match no one.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("{0}'s domain does not map to ASCII cleanly (IDNA UTS-46), so it could never be matched")]
    NoKey(EmailAddress),
    /// `*@domain` stored as an address would be one literal mailbox that anyone can write
    /// as a From, not the domain.
    #[error(
        "{0} reads as everyone at a domain: that belongs in [[company]] members in the config, where it is \
         reviewed; members add takes one person's address"
    )]
    Wildcard(EmailAddress),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// `false` when the address was a member already (in any letter case the rule ignores).
/// Stored as written.
pub async fn add_member(
    db: &impl ConnectionTrait,
    case: LocalPartCase,
    company_id: i64,
    email: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<bool, MemberError> {
    if email.local_part().trim_matches('"') == "*" {
        return Err(MemberError::Wildcard(email.clone()));
    }
    let key = email.key(case).ok_or_else(|| MemberError::NoKey(email.clone()))?;
    if !matching(db, Some(company_id), &key, case).await?.is_empty() {
        return Ok(false);
    }
    let row = company_member::ActiveModel {
        company_id: Set(company_id),
        email: Set(email.to_string()),
        created_at: Set(now),
        ..Default::default()
    };
    company_member::Entity::insert(row).exec(db).await?;
    Ok(true)
}

/// `false` when the address was no member added at run time.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    case: LocalPartCase,
    company_id: i64,
    email: &EmailAddress,
) -> Result<bool, DbErr> {
    let Some(key) = email.key(case) else { return Ok(false) };
    let ids: Vec<i64> = matching(db, Some(company_id), &key, case).await?.into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(false);
    }
    company_member::Entity::delete_many().filter(company_member::Column::Id.is_in(ids)).exec(db).await?;
    Ok(true)
}
