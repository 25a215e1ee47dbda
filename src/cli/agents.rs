use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use super::load::{fail, open, open_read_only};
use super::output::{self, Format, errln, outln};
use super::{AgentsCommand, Exit};
use crate::app::AppError;
use crate::desk::Desk;
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
    let result = match command {
        AgentsCommand::List { format } => {
            let desk = match open_read_only(config).await {
                Ok(d) => d,
                Err(code) => return code,
            };
            list(&desk.db, format).await
        }
        AgentsCommand::Add { email, name } => {
            let desk = match open(config).await {
                Ok(d) => d,
                Err(code) => return code,
            };
            add(&desk, &email, name).await
        }
        AgentsCommand::Disable { email } => {
            let desk = match open(config).await {
                Ok(d) => d,
                Err(code) => return code,
            };
            disable(&desk, &email).await
        }
    };
    result.unwrap_or_else(|e| fail(&AppError::Database(e)))
}

async fn list(db: &DatabaseConnection, format: Format) -> Result<Exit, DbErr> {
    let rows = agent::Entity::find().order_by_asc(agent::Column::Email).all(db).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|a| Row { email: a.email, name: a.name, aliases: a.aliases, active: a.active, updated_at: a.updated_at })
        .collect();
    output::rows(format, &rows, &["EMAIL", "NAME", "ACTIVE", "ALIASES"], |r| {
        vec![r.email.clone(), r.name.clone(), r.active.to_string(), r.aliases.clone()]
    });
    Ok(Exit::Ok)
}

/// Adds the agent, or makes it active again. Without `--name` an existing agent keeps its
/// name; a new one is named after the address's local part.
async fn add(desk: &Desk, address: &EmailAddress, name: Option<String>) -> Result<Exit, DbErr> {
    let now = desk.now();
    let mut update = vec![agent::Column::Active, agent::Column::UpdatedAt];
    if name.is_some() {
        update.push(agent::Column::Name);
    }
    let row = agent::ActiveModel {
        email: Set(address.to_string()),
        name: Set(name.unwrap_or_else(|| address.local_part().to_owned())),
        aliases: Set(String::new()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let on_conflict = OnConflict::column(agent::Column::Email).update_columns(update).to_owned();
    agent::Entity::insert(row).on_conflict(on_conflict).exec(&desk.db).await?;
    crate::agents::fill_missing_tokens(&desk.db).await?;
    let case = desk.config.intake.local_part_case;
    let others = agent::Entity::find().filter(agent::Column::Email.ne(address.as_str())).all(&desk.db).await?;
    for twin in others.iter().filter(|a| case.same_as(address, &a.email)) {
        errln!(
            "warning: {address} and the agent {} differ only in case, which mail servers treat as one mailbox",
            twin.email
        );
    }
    outln!("agent {address} is active");
    Ok(Exit::Ok)
}

async fn disable(desk: &Desk, address: &EmailAddress) -> Result<Exit, DbErr> {
    let Some(a) = agent::Entity::find().filter(agent::Column::Email.eq(address.as_str())).one(&desk.db).await? else {
        errln!("error: no agent {address}");
        return Ok(Exit::Usage);
    };
    let mut update: agent::ActiveModel = a.into();
    update.active = Set(false);
    update.updated_at = Set(desk.now());
    update.update(&desk.db).await?;
    outln!("agent {address} is disabled");
    Ok(Exit::Ok)
}
