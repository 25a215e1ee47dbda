use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use serde::Serialize;

use super::load::{fail, open, open_read_only};
use super::output;
use super::output::{errln, outln};
use super::{Exit, OutboxCommand};
use crate::app::AppError;
use crate::outbound::outbox;
use crate::storage::entities::outbox::{Column, Entity};

#[derive(Serialize)]
struct Row {
    id: i64,
    case_id: Option<i64>,
    kind: String,
    status: String,
    attempts: i32,
    to: String,
    subject: String,
    message_id: String,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

pub async fn outbox(config: &Path, command: OutboxCommand) -> Exit {
    match command {
        OutboxCommand::List { format } => {
            let desk = match open_read_only(config).await {
                Ok(d) => d,
                Err(code) => return code,
            };
            let zone = desk.zone();
            let rows = match outbox::list(&desk.db).await {
                Ok(r) => r,
                Err(e) => return fail(&AppError::Database(e)),
            };
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|r| Row {
                    id: r.id,
                    case_id: r.case_id,
                    kind: r.kind,
                    status: r.status.to_string(),
                    attempts: r.attempts,
                    to: r.envelope_to,
                    subject: r.subject,
                    message_id: r.message_id,
                    last_error: r.last_error,
                    created_at: r.created_at,
                    next_attempt_at: r.next_attempt_at,
                    sent_at: r.sent_at,
                })
                .collect();
            let header = ["ID", "KIND", "STATUS", "ATTEMPTS", "TO", "CREATED", "SENT", "SUBJECT", "LAST ERROR"];
            output::rows(format, &rows, &header, |r| {
                vec![
                    r.id.to_string(),
                    r.kind.clone(),
                    r.status.clone(),
                    r.attempts.to_string(),
                    r.to.clone(),
                    zone.time(Some(r.created_at)),
                    zone.time(r.sent_at),
                    r.subject.clone(),
                    r.last_error.clone().unwrap_or_default(),
                ]
            });
            Exit::Ok
        }
        OutboxCommand::Retry { id } => {
            let desk = match open(config).await {
                Ok(d) => d,
                Err(code) => return code,
            };
            let requeue = Query::update()
                .table(Entity)
                .value(Column::Status, outbox::QUEUED)
                .value(Column::Attempts, 0)
                .value(Column::NextAttemptAt, desk.now())
                .value(Column::FailedAt, Option::<DateTime<Utc>>::None)
                .value(Column::QueuedAt, desk.now())
                .and_where(Expr::col(Column::Id).eq(id))
                .and_where(Expr::col(Column::Status).eq(outbox::FAILED))
                .to_owned();
            match desk.db.execute(&requeue).await {
                Err(e) => fail(&AppError::Database(e)),
                Ok(r) if r.rows_affected() == 1 => {
                    outln!("outbox #{id} queued again");
                    Exit::Ok
                }
                Ok(_) => {
                    errln!("error: outbox #{id} does not exist or has not failed");
                    Exit::Usage
                }
            }
        }
    }
}
