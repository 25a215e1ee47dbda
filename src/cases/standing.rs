//! Who a sender is to a case: the one answer every way of joining a case uses (the subject
//! tag, In-Reply-To, References, the ids a delivery report quotes).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::Companies;
use crate::agents::Directory;
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::storage::entities::{case, case_participant, contact};

/// A sender's standing on one case. Everyone but a stranger may add to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The case's contact.
    Contact,
    /// A customer-side address remembered on the case (a Cc of a party's message).
    Remembered,
    /// Someone of the case's company, by one of its domains. A mailbox's `default_company`
    /// makes no one a member: such a sender is a party only to the cases they opened.
    Colleague,
    /// The company's Client Relationship Manager (or customer success manager).
    Crm,
    Agent,
    Stranger,
}

impl Standing {
    pub fn is_party(self) -> bool {
        self != Standing::Stranger
    }
}

/// What the standing is judged from, besides the database.
pub struct Judge<'a> {
    pub config: &'a Config,
    pub agents: &'a Directory,
    pub companies: &'a Companies,
    /// The sender's stored contact: when it is the case's contact, that is known without a
    /// read (another row may still be the same person written in other letter case).
    pub sender_contact: Option<i64>,
}

impl Judge<'_> {
    pub async fn standing(
        &self,
        db: &impl ConnectionTrait,
        c: &case::Model,
        sender: &EmailAddress,
    ) -> Result<Standing, DbErr> {
        if self.agents.by_address(sender).is_some() {
            return Ok(Standing::Agent);
        }
        if let Some(company) = self.companies.of(self.config, c) {
            if company.crm_email.as_ref().is_some_and(|crm| same(crm, sender)) {
                return Ok(Standing::Crm);
            }
            let member = super::config_member(self.config, sender).is_some_and(|m| m.slug == company.slug);
            if member || company.domains.iter().any(|d| d.eq_ignore_ascii_case(sender.domain())) {
                return Ok(Standing::Colleague);
            }
        }
        if c.contact_id.is_some() && c.contact_id == self.sender_contact {
            return Ok(Standing::Contact);
        }
        if let Some(contact_id) = c.contact_id
            && let Some(ct) = contact::Entity::find_by_id(contact_id).one(db).await?
            && ct.email.eq_ignore_ascii_case(sender.as_str())
        {
            return Ok(Standing::Contact);
        }
        let remembered = case_participant::Entity::find()
            .filter(case_participant::Column::CaseId.eq(c.id))
            .all(db)
            .await?
            .iter()
            .any(|p| p.email.eq_ignore_ascii_case(sender.as_str()));
        Ok(if remembered { Standing::Remembered } else { Standing::Stranger })
    }
}

/// Addresses compared without case: `Rob@` and `rob@` are one person to a support desk.
fn same(a: &EmailAddress, b: &EmailAddress) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}
