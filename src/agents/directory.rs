//! The agents as the database knows them (seeded from `[[agent]]`, changed by `supportd
//! agents`), read once per batch: who an address belongs to, and whom `#assign` names.

use std::io::Read;

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::domain::{EmailAddress, LocalPartCase};
use crate::storage::entities::agent;

#[derive(Debug, Clone, Default)]
pub struct Directory {
    agents: Vec<agent::Model>,
    /// `[intake] local_part_case`.
    case: LocalPartCase,
}

impl Directory {
    pub async fn load(db: &impl ConnectionTrait, case: LocalPartCase) -> Result<Directory, DbErr> {
        Ok(Directory { agents: agent::Entity::find().all(db).await?, case })
    }

    /// The active agent who owns `address` (their email or an alias), compared as every
    /// address is (`EmailAddress::key`). A disabled agent is nobody: their mail is handled
    /// like anyone else's.
    pub fn by_address(&self, address: &EmailAddress) -> Option<&agent::Model> {
        let owns = |stored: &str| self.case.same_as(address, stored.trim());
        self.active().find(|a| owns(&a.email) || a.aliases.split(',').any(owns))
    }

    pub fn by_id(&self, id: i64) -> Option<&agent::Model> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn active(&self) -> impl Iterator<Item = &agent::Model> {
        self.agents.iter().filter(|a| a.active)
    }

    /// The one active agent `who` names: an address, a full name, or an address's local part.
    pub fn named(&self, who: &str) -> Result<&agent::Model, String> {
        let who = who.trim();
        if let Ok(address) = who.parse::<EmailAddress>()
            && let Some(a) = self.by_address(&address)
        {
            return Ok(a);
        }
        let matches: Vec<&agent::Model> = self
            .active()
            .filter(|a| {
                a.name.eq_ignore_ascii_case(who)
                    || a.email.rsplit_once('@').is_some_and(|(local, _)| local.eq_ignore_ascii_case(who))
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => {
                let names: Vec<&str> = self.active().map(|a| a.name.as_str()).collect();
                Err(format!("no active agent is called {who:?} (agents: {})", names.join(", ")))
            }
            _ => Err(format!("{who:?} names more than one agent; use an email address")),
        }
    }
}

/// A new secret for an agent's reply address: 20 hex digits from the kernel's generator.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 10];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(crate::mail::hex(&bytes))
}

/// Gives every agent without a reply token one (agents added before tokens existed).
pub async fn fill_missing_tokens(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let missing = agent::Entity::find().filter(agent::Column::Token.is_null()).all(db).await?;
    for a in missing {
        let token = new_token().map_err(|e| DbErr::Custom(format!("cannot read /dev/urandom: {e}")))?;
        let mut update: agent::ActiveModel = a.into();
        update.token = Set(Some(token));
        update.update(db).await?;
    }
    Ok(())
}
