use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use super::load::{fail, open};
use super::output;
use super::output::{errln, outln};
use super::{AgentsCommand, Exit};
use crate::app::AppError;
use crate::domain::EmailAddress;
use crate::storage::entities::agent;

#[derive(Serialize)]
struct Row {
    email: String,
    name: String,
    aliases: String,
    active: bool,
    updated_at: DateTime<Utc>,
}

pub async fn agents(config: &Path, command: AgentsCommand) -> Exit {
    let desk = match open(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let result = match command {
        AgentsCommand::List { format } => {
            let rows = agent::Entity::find().order_by_asc(agent::Column::Email).all(&desk.db).await;
            rows.map(|rows| {
                let rows: Vec<Row> = rows
                    .into_iter()
                    .map(|a| Row {
                        email: a.email,
                        name: a.name,
                        aliases: a.aliases,
                        active: a.active,
                        updated_at: a.updated_at,
                    })
                    .collect();
                output::rows(format, &rows, &["EMAIL", "NAME", "ACTIVE", "ALIASES"], |r| {
                    vec![r.email.clone(), r.name.clone(), r.active.to_string(), r.aliases.clone()]
                });
                Exit::Ok
            })
        }
        AgentsCommand::Add { email, name } => {
            let Ok(address) = email.parse::<EmailAddress>() else {
                errln!("error: {email:?} is not an email address");
                return Exit::Usage;
            };
            let now = desk.now();
            let row = agent::ActiveModel {
                email: Set(address.to_string()),
                name: Set(name.unwrap_or_else(|| address.local_part().to_owned())),
                aliases: Set(String::new()),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            let on_conflict = OnConflict::column(agent::Column::Email)
                .update_columns([agent::Column::Name, agent::Column::Active, agent::Column::UpdatedAt])
                .to_owned();
            let added = agent::Entity::insert(row).on_conflict(on_conflict).exec(&desk.db).await;
            added.and(crate::agents::fill_missing_tokens(&desk.db).await).map(|_| {
                outln!("agent {address} is active");
                Exit::Ok
            })
        }
        AgentsCommand::Disable { email } => {
            let found = agent::Entity::find().filter(agent::Column::Email.eq(email.trim())).one(&desk.db).await;
            match found {
                Ok(None) => {
                    errln!("error: no agent {email}");
                    return Exit::Usage;
                }
                Ok(Some(a)) => {
                    let mut update: agent::ActiveModel = a.into();
                    update.active = Set(false);
                    update.updated_at = Set(desk.now());
                    update.update(&desk.db).await.map(|_| {
                        outln!("agent {email} is disabled");
                        Exit::Ok
                    })
                }
                Err(e) => Err(e),
            }
        }
    };
    result.unwrap_or_else(|e| fail(&AppError::Database(e)))
}
