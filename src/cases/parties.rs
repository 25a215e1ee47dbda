use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, TryInsertResult};

use crate::config::{CompanyConfig, Config};
use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::storage::entities::{case, case_participant, company, contact};

/// The configured company the sender is a key member of, else the one that owns the sender's
/// domain, else `fallback` (the mailbox's default company); `fallback` first when `chosen`
/// (an agent's choice on release, or a membership stored at run time).
/// A `sender` of `None` (one whose From is in doubt) is of no company by address.
pub fn company_config_for<'c>(
    config: &'c Config,
    sender: Option<&EmailAddress>,
    fallback: Option<&str>,
    chosen: bool,
) -> Option<&'c CompanyConfig> {
    let fallback = || fallback.and_then(|slug| config.company(slug));
    if chosen && let Some(c) = fallback() {
        return Some(c);
    }
    let by_address = sender.and_then(|sender| {
        super::config_member(config, sender)
            .or_else(|| config.companies.iter().find(|c| c.domains.iter().any(|d| sender.at_domain(d))))
    });
    by_address.or_else(fallback)
}

/// The addresses case `c` already writes to: its contact and the remembered ones.
pub async fn party_addresses(db: &impl ConnectionTrait, c: &case::Model) -> Result<Vec<EmailAddress>, DbErr> {
    let contact = match c.contact_id {
        Some(id) => contact::Entity::find_by_id(id).one(db).await?.map(|ct| ct.email),
        None => None,
    };
    let remembered = case_participant::Entity::find().filter(case_participant::Column::CaseId.eq(c.id)).all(db).await?;
    Ok(contact.into_iter().chain(remembered.into_iter().map(|p| p.email)).filter_map(|e| e.parse().ok()).collect())
}

/// The company row for the sender, if any: from the ids synced at start-up, else created.
pub async fn company_for_sender(
    db: &impl ConnectionTrait,
    desk: &Desk,
    sender: Option<&EmailAddress>,
    fallback: Option<&str>,
    chosen: bool,
    now: DateTime<Utc>,
) -> Result<Option<(i64, CompanyConfig)>, DbErr> {
    let Some(cfg) = company_config_for(&desk.config, sender, fallback, chosen) else { return Ok(None) };
    let id = match desk.company_ids.get(&cfg.slug) {
        Some(id) => *id,
        None => ensure_company(db, cfg, now).await?,
    };
    Ok(Some((id, cfg.clone())))
}

/// Writes every `[[company]]` to the database (config is the source of truth for names,
/// domains, CRM, notes and budget) and returns their ids by slug.
pub async fn sync_companies(
    db: &impl ConnectionTrait,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    use company::Column as C;
    for cfg in &config.companies {
        let on_conflict = OnConflict::column(C::Slug)
            .update_columns([C::Name, C::Domains, C::TimeZone, C::CrmName, C::CrmEmail, C::Notes, C::BudgetHours])
            .update_columns([C::StandardRate, C::ConsultancyRate, C::UpdatedAt])
            .to_owned();
        company::Entity::insert(company_row(cfg, now)).on_conflict(on_conflict).exec(db).await?;
    }
    let rows = company::Entity::find().all(db).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.id)).collect())
}

fn company_row(cfg: &CompanyConfig, now: DateTime<Utc>) -> company::ActiveModel {
    company::ActiveModel {
        slug: Set(cfg.slug.clone()),
        name: Set(cfg.name.clone()),
        domains: Set(cfg.domains.join(",")),
        time_zone: Set(cfg.time_zone.map(|t| t.name().to_owned())),
        crm_name: Set(cfg.crm_name.clone()),
        crm_email: Set(cfg.crm_email.as_ref().map(|e| e.to_string())),
        notes: Set(cfg.notes.clone()),
        budget_hours: Set(cfg.budget_hours),
        standard_rate: Set(cfg.standard_rate),
        consultancy_rate: Set(cfg.consultancy_rate),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Inserts the company when missing; concurrent inserts by other processes are harmless.
async fn ensure_company(db: &impl ConnectionTrait, cfg: &CompanyConfig, now: DateTime<Utc>) -> Result<i64, DbErr> {
    if let Some(row) = company::Entity::find().filter(company::Column::Slug.eq(&cfg.slug)).one(db).await? {
        return Ok(row.id);
    }
    let row = company_row(cfg, now);
    company::Entity::insert(row).on_conflict_do_nothing_on([company::Column::Slug]).exec(db).await?;
    company::Entity::find()
        .filter(company::Column::Slug.eq(&cfg.slug))
        .one(db)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| DbErr::RecordNotFound(format!("company {}", cfg.slug)))
}

/// The stored contacts of `addresses`, in one query (a batch's senders).
pub async fn contacts_by_email(
    db: &impl ConnectionTrait,
    addresses: &[&EmailAddress],
) -> Result<HashMap<EmailAddress, contact::Model>, DbErr> {
    if addresses.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = contact::Entity::find()
        .filter(contact::Column::Email.is_in(addresses.iter().map(|a| a.as_str())))
        .all(db)
        .await?;
    let mut by_email: HashMap<String, contact::Model> = rows.into_iter().map(|r| (r.email.clone(), r)).collect();
    Ok(addresses.iter().filter_map(|a| Some(((*a).clone(), by_email.remove(a.as_str())?))).collect())
}

/// A new sender to add as a contact: address, display name, company id.
pub type NewContact = (EmailAddress, Option<String>, Option<i64>);

/// Adds the contacts of a batch's new senders in one statement and returns them by address
/// (a backlog of new customers would otherwise cost a statement each). A contact another
/// process added meanwhile is kept as it is and returned too.
pub async fn add_contacts(
    db: &impl ConnectionTrait,
    new: &[NewContact],
    now: DateTime<Utc>,
) -> Result<HashMap<EmailAddress, contact::Model>, DbErr> {
    if new.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = new.iter().map(|(address, name, company_id)| contact::ActiveModel {
        email: Set(address.to_string()),
        name: Set(name.clone()),
        company_id: Set(*company_id),
        created_at: Set(now),
        ..Default::default()
    });
    contact::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([contact::Column::Email])
        .exec_without_returning(db)
        .await?;
    let addresses: Vec<&EmailAddress> = new.iter().map(|(a, _, _)| a).collect();
    contacts_by_email(db, &addresses).await
}

/// The contact for an address, created on first contact; a newly learnt name is kept.
/// `found` is the stored row as the caller looked it up (`contacts_by_email`), `None` when
/// there was none. One statement at most.
pub async fn settle_contact(
    db: &impl ConnectionTrait,
    found: Option<contact::Model>,
    address: &EmailAddress,
    name: Option<&str>,
    company_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<contact::Model, DbErr> {
    if let Some(found) = found {
        if found.name.is_none() && name.is_some() || found.company_id.is_none() && company_id.is_some() {
            let mut update: contact::ActiveModel = found.clone().into();
            update.name = Set(found.name.clone().or(name.map(str::to_owned)));
            update.company_id = Set(found.company_id.or(company_id));
            return update.update(db).await;
        }
        return Ok(found);
    }
    let row = contact::ActiveModel {
        email: Set(address.to_string()),
        name: Set(name.map(str::to_owned)),
        company_id: Set(company_id),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = contact::Entity::insert(row)
        .on_conflict_do_nothing_on([contact::Column::Email])
        .exec_with_returning(db)
        .await?;
    match inserted {
        TryInsertResult::Inserted(contact) => Ok(contact),
        // Another process added the same contact at the same moment: both use the one row.
        TryInsertResult::Conflicted | TryInsertResult::Empty => contact::Entity::find()
            .filter(contact::Column::Email.eq(address.as_str()))
            .one(db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("contact {address}"))),
    }
}
