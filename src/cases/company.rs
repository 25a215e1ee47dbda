//! The company a case belongs to, as configured: what its notifications show (name,
//! reference notes) and whose template overrides its mail uses, whoever wrote the message
//! at hand (a Cc'd partner's reply is still the case's company's case).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use crate::config::{CompanyConfig, Config, Route, Routed, route_for};
use crate::storage::entities::{case, company};

/// The stored companies' slugs by id. Companies are written from `[[company]]` at start-up
/// and never renamed, so one read serves a whole batch of mail (a read per notification and
/// per party check was a fifth of intake's time).
#[derive(Debug, Default)]
pub struct Companies {
    slugs: HashMap<i64, String>,
    /// Where each company's support budget stands, as the batch began.
    budgets: HashMap<i64, crate::budget::Standing>,
}

impl Companies {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Companies, DbErr> {
        let rows: Vec<(i64, String)> = company::Entity::find()
            .select_only()
            .column(company::Column::Id)
            .column(company::Column::Slug)
            .into_tuple()
            .all(db)
            .await?;
        Ok(Companies { slugs: rows.into_iter().collect(), budgets: crate::budget::standings(db).await? })
    }

    /// A company stored after the load (one added to the config while running).
    pub fn learn(&mut self, id: i64, slug: &str) {
        self.slugs.entry(id).or_insert_with(|| slug.to_owned());
    }

    /// The stored id of the company with `slug`.
    pub fn id_of(&self, slug: &str) -> Option<i64> {
        self.slugs.iter().find(|(_, s)| s.as_str() == slug).map(|(id, _)| *id)
    }

    /// The budget of the case's company, when it bought one.
    pub fn budget_of(&self, c: &case::Model) -> Option<crate::budget::Standing> {
        self.budgets.get(&c.company_id?).copied().filter(|s| s.purchased > 0.0)
    }

    /// `None` for a case of no known company, or of one no longer in `[[company]]`.
    pub fn of<'c>(&self, config: &'c Config, c: &case::Model) -> Option<&'c CompanyConfig> {
        let slug = self.slugs.get(&c.company_id?)?;
        config.company(slug)
    }
}

/// The first `[[route]]` that matches the case (its type, severity, company and mailbox).
pub fn route_of<'r>(config: &'r Config, c: &case::Model, company: Option<&CompanyConfig>) -> Option<&'r Route> {
    let routed = Routed {
        case_type: c.case_type,
        severity: c.severity,
        company: company.map(|co| co.slug.as_str()),
        mailbox: &c.mailbox,
    };
    route_for(&config.routes, &routed)
}

/// Gives a new case to the agent its `[[route]]` names, if any (an active agent).
pub async fn assign_by_route(
    txn: &crate::storage::Tx,
    config: &Config,
    agents: &crate::agents::Directory,
    c: &case::Model,
    company: Option<&CompanyConfig>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<case::Model, sea_orm::DbErr> {
    let named = route_of(config, c, company).and_then(|r| r.assign.as_ref());
    match named.and_then(|a| agents.by_address(a)) {
        Some(agent) => super::set_field(txn, c, super::FieldChange::Assignee(agent), &super::Actor::System, now).await,
        None => Ok(c.clone()),
    }
}
