//! The company a case belongs to, as configured: what its notifications show (name,
//! reference notes) and whose template overrides its mail uses, whoever wrote the message
//! at hand (a Cc'd partner's reply is still the case's company's case).

use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use crate::config::{CompanyConfig, Config};
use crate::storage::entities::{case, company};

/// `None` for a case of no known company, or of one no longer in `[[company]]`.
pub async fn company_of<'c>(
    db: &impl ConnectionTrait,
    config: &'c Config,
    c: &case::Model,
) -> Result<Option<&'c CompanyConfig>, DbErr> {
    let Some(id) = c.company_id else { return Ok(None) };
    let row = company::Entity::find_by_id(id).one(db).await?;
    Ok(row.and_then(|r| config.company(&r.slug)))
}
