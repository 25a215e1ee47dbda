//! Who a sender is to a case: the one answer every way of joining a case uses (the subject
//! tag, In-Reply-To, References, the ids a delivery report quotes).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::{Companies, Membership};
use crate::agents::Directory;
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::mail::ParsedMessage;
use crate::storage::entities::{case, case_participant, contact};

/// A sender's standing on one case. Everyone but a stranger may add to it; whom they bring
/// in by copying is `intake::copied`'s to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The case's contact.
    Contact,
    /// A key member of the case's company by their own address (`members`, or added with
    /// `supportd members add`), not only by a `*@domain` entry.
    KeyMember,
    /// A customer-side address remembered on the case (a Cc of a party's message).
    Remembered,
    /// Someone of the case's company by one of its domains or a `*@domain` member entry. A
    /// mailbox's `default_company` makes no one a member: such a sender is a party only to
    /// the cases they opened.
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
    /// The standing of a message's sender: a stranger's when its From is in doubt
    /// (`ParsedMessage::from_doubt`), whatever address it shows.
    pub async fn standing_of_mail(
        &self,
        db: &impl ConnectionTrait,
        c: &case::Model,
        msg: &ParsedMessage,
    ) -> Result<Standing, DbErr> {
        match msg.trusted_from() {
            Some(sender) => self.standing(db, c, sender).await,
            None => Ok(Standing::Stranger),
        }
    }

    pub async fn standing(
        &self,
        db: &impl ConnectionTrait,
        c: &case::Model,
        sender: &EmailAddress,
    ) -> Result<Standing, DbErr> {
        // Every comparison is `EmailAddress::key`'s: an address without one (a domain that
        // does not map to ASCII cleanly) is a stranger to every case, its own included.
        let case = self.config.intake.local_part_case;
        if sender.key(case).is_none() {
            return Ok(Standing::Stranger);
        }
        if self.agents.by_address(sender).is_some() {
            return Ok(Standing::Agent);
        }
        let company = self.companies.of(self.config, c);
        let mut colleague = false;
        if let Some(company) = company {
            if company.crm_email.as_ref().is_some_and(|crm| case.same(crm, sender)) {
                return Ok(Standing::Crm);
            }
            // This company's own members: a sender may be another company's too.
            match super::membership_in(company, sender, case) {
                Some(Membership::Named) => return Ok(Standing::KeyMember),
                Some(Membership::Wildcard) => colleague = true,
                None => colleague = company.domains.iter().any(|d| sender.at_domain(d)),
            }
        }
        // The contact, a remembered address or a key member added at run time before a
        // colleague by domain: a key member vouches for whom they copy (`intake::copied`),
        // a colleague does not.
        if c.contact_id.is_some() && c.contact_id == self.sender_contact {
            return Ok(Standing::Contact);
        }
        if let Some(contact_id) = c.contact_id
            && let Some(ct) = contact::Entity::find_by_id(contact_id).one(db).await?
            && case.same_as(sender, &ct.email)
        {
            return Ok(Standing::Contact);
        }
        let remembered = case_participant::Entity::find()
            .filter(case_participant::Column::CaseId.eq(c.id))
            .all(db)
            .await?
            .iter()
            .any(|p| case.same_as(sender, &p.email));
        if remembered {
            return Ok(Standing::Remembered);
        }
        if let (Some(_), Some(company_id)) = (company, c.company_id)
            && super::is_stored_member(db, case, company_id, sender).await?
        {
            return Ok(Standing::KeyMember);
        }
        if colleague {
            return Ok(Standing::Colleague);
        }
        Ok(Standing::Stranger)
    }
}
