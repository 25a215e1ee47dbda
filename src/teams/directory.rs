//! The configured teams with their reply tokens, read once per batch: whom a message
//! comes from, or whose token the address it was sent to carries.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::config::{Config, TeamConfig};
use crate::domain::LocalPartCase;
use crate::mail::ParsedMessage;
use crate::storage::entities::team;

#[derive(Debug, Clone)]
pub struct Team {
    pub config: TeamConfig,
    /// In the Reply-To of mail we send the team (`support+<token>@…`).
    pub token: String,
}

#[derive(Debug, Clone, Default)]
pub struct Teams {
    teams: Vec<Team>,
    /// `[intake] local_part_case`.
    case: LocalPartCase,
}

impl Teams {
    /// The configured teams; one removed from the config is no team any more.
    pub async fn load(db: &impl ConnectionTrait, config: &Config) -> Result<Teams, DbErr> {
        let case = config.intake.local_part_case;
        if config.teams.is_empty() {
            return Ok(Teams { teams: Vec::new(), case });
        }
        let rows = team::Entity::find().all(db).await?;
        let teams = config
            .teams
            .iter()
            .filter_map(|t| {
                let row = rows.iter().find(|r| r.name == t.name)?;
                Some(Team { config: t.clone(), token: row.token.clone() })
            })
            .collect();
        Ok(Teams { teams, case })
    }

    pub fn named(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.config.name == name)
    }

    /// The team a message's sender speaks for (the team's address or a member). A token
    /// alone makes no one a team: it is in a Reply-To that a customer Cc'd on the team's
    /// answer can reply to, so it only verifies the team's own people (`answer`). Mail whose
    /// From is in doubt is no team's.
    pub fn of_mail(&self, msg: &ParsedMessage) -> Option<&Team> {
        let sender = msg.trusted_from()?;
        self.teams.iter().find(|t| t.config.speaks_for(sender, self.case))
    }
}

/// Gives every configured team a row and a token, once: the token stays across restarts,
/// so answers to mail sent before still verify.
pub async fn sync_teams(db: &impl ConnectionTrait, config: &Config, now: DateTime<Utc>) -> Result<(), DbErr> {
    for t in &config.teams {
        let token = crate::agents::new_token().map_err(|e| DbErr::Custom(format!("cannot read /dev/urandom: {e}")))?;
        let row = team::ActiveModel {
            name: Set(t.name.clone()),
            token: Set(token),
            created_at: Set(now),
            ..Default::default()
        };
        team::Entity::insert(row).on_conflict_do_nothing_on([team::Column::Name]).exec(db).await?;
    }
    Ok(())
}
