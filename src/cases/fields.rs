//! The case fields an agent sets that do not move SLA targets: priority, error category,
//! assignee, solution and company. Each change is an event with the old and new value.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DbErr, Set};

use super::{Actor, record_event};
use crate::domain::Priority;
use crate::storage::Tx;
use crate::storage::entities::{agent, case};

/// One field and its new value.
#[derive(Debug, Clone)]
pub enum FieldChange<'a> {
    Priority(Priority),
    Category(String),
    Assignee(&'a agent::Model),
    Solution(String),
    /// The company (its id and slug), for a case from an unknown sender: its reference notes
    /// then show in the case's notifications and views.
    Company {
        id: i64,
        slug: String,
        was: Option<String>,
    },
}

/// Sets one field; an unchanged value writes nothing and records nothing.
pub async fn set_field(
    txn: &Tx,
    c: &case::Model,
    change: FieldChange<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<case::Model, DbErr> {
    let mut update: case::ActiveModel = c.clone().into();
    let (kind, old, new) = match change {
        FieldChange::Priority(p) => {
            update.priority = Set(p);
            ("priority", Some(c.priority.to_string()), p.to_string())
        }
        FieldChange::Category(text) => {
            update.error_category = Set(Some(text.clone()));
            ("category", c.error_category.clone(), text)
        }
        FieldChange::Assignee(a) => {
            update.assignee_id = Set(Some(a.id));
            let old = c.assignee_id.map(|id| if id == a.id { a.email.clone() } else { format!("agent #{id}") });
            ("assignee", old, a.email.clone())
        }
        FieldChange::Solution(text) => {
            update.solution = Set(Some(text.clone()));
            ("solution", c.solution.clone(), text)
        }
        FieldChange::Company { id, slug, was } => {
            update.company_id = Set(Some(id));
            ("company", was, slug)
        }
    };
    if old.as_deref() == Some(new.as_str()) {
        return Ok(c.clone());
    }
    update.updated_at = Set(now);
    let updated = update.update(txn).await?;
    record_event(txn, c.id, now, actor, kind, (old, Some(new)), None);
    Ok(updated)
}
