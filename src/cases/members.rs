//! Who may open a case. `[intake] who_may_open` (a mailbox may say otherwise) is `anyone`,
//! `companies` (a sender of a configured company: one of its domains, or a member) or
//! `members` (a company's key members only: `[[company]] members`, and those added with
//! `supportd members add`). A reply on a case from one of its parties is never asked.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::config::{CompanyConfig, Config, MailboxConfig, WhoMayOpen};
use crate::domain::EmailAddress;
use crate::storage::entities::{company, company_member};

/// Whether the sender may open a case through this mailbox.
pub enum Door<'c> {
    /// Yes; `member_of` is the company whose key member the sender is, if any.
    Open { member_of: Option<&'c CompanyConfig> },
    /// No: why, and the company the sender's domain belongs to (whose CRM they may ask).
    Closed { reason: String, company: Option<&'c CompanyConfig> },
}

pub async fn door<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    mailbox: &MailboxConfig,
    sender: &EmailAddress,
) -> Result<Door<'c>, DbErr> {
    let policy = mailbox.who_may_open.unwrap_or(config.intake.who_may_open);
    if policy == WhoMayOpen::Anyone {
        return Ok(Door::Open { member_of: None });
    }
    let member_of = key_member_of(db, config, sender).await?;
    let by_domain = config.companies.iter().find(|c| c.domains.iter().any(|d| d == sender.domain()));
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
pub async fn key_member_of<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    sender: &EmailAddress,
) -> Result<Option<&'c CompanyConfig>, DbErr> {
    match config_member(config, sender) {
        Some(c) => Ok(Some(c)),
        None => stored_member(db, config, sender).await,
    }
}

/// The company whose `members` in the config name the sender (an address or `*@domain`).
pub fn config_member<'c>(config: &'c Config, sender: &EmailAddress) -> Option<&'c CompanyConfig> {
    let address = sender.as_str().to_ascii_lowercase();
    let domain = sender.domain().to_ascii_lowercase();
    config
        .companies
        .iter()
        .find(|c| c.members.iter().any(|m| *m == address || m.strip_prefix("*@").is_some_and(|d| d == domain)))
}

/// The company the sender was added to at run time, if it is still configured.
async fn stored_member<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    sender: &EmailAddress,
) -> Result<Option<&'c CompanyConfig>, DbErr> {
    let rows = company_member::Entity::find()
        .filter(company_member::Column::Email.eq(sender.as_str().to_ascii_lowercase()))
        .order_by_asc(company_member::Column::Id)
        .all(db)
        .await?;
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

/// `false` when the address was a member already.
pub async fn add_member(
    db: &impl ConnectionTrait,
    company_id: i64,
    email: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let email = email.as_str().to_ascii_lowercase();
    let found = company_member::Entity::find()
        .filter(company_member::Column::CompanyId.eq(company_id))
        .filter(company_member::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    if found.is_some() {
        return Ok(false);
    }
    let row = company_member::ActiveModel {
        company_id: Set(company_id),
        email: Set(email),
        created_at: Set(now),
        ..Default::default()
    };
    company_member::Entity::insert(row).exec(db).await?;
    Ok(true)
}

/// `false` when the address was no member added at run time.
pub async fn remove_member(db: &impl ConnectionTrait, company_id: i64, email: &EmailAddress) -> Result<bool, DbErr> {
    let deleted = company_member::Entity::delete_many()
        .filter(company_member::Column::CompanyId.eq(company_id))
        .filter(company_member::Column::Email.eq(email.as_str().to_ascii_lowercase()))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
