//! `/api/cases`, `/api/cases/NNNNNN` and `/api/sla`: the same JSON as `cases list`,
//! `cases show` and `sla status` with `--format json`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;

use crate::cases::{list_cases, show_case, sla_status};
use crate::desk::Desk;
use crate::domain::CaseNumber;

pub async fn cases(State(desk): State<Desk>) -> Response {
    json(list_cases(&desk.db).await)
}

pub async fn case(State(desk): State<Desk>, Path(number): Path<String>) -> Response {
    let Ok(number) = number.parse::<CaseNumber>() else {
        return (StatusCode::BAD_REQUEST, "not a case number\n").into_response();
    };
    match show_case(&desk.db, &desk.config, number, desk.now()).await {
        Ok(None) => (StatusCode::NOT_FOUND, format!("no case {number}\n")).into_response(),
        Ok(Some(detail)) => json(Ok::<_, DbErr>(detail)),
        Err(e) => json(Err::<(), _>(e)),
    }
}

pub async fn sla(State(desk): State<Desk>) -> Response {
    json(sla_status(&desk.db, &desk.config, desk.now()).await)
}

fn json(value: Result<impl Serialize, DbErr>) -> Response {
    let body =
        value.map_err(|e| e.to_string()).and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string()));
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "a JSON page could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "the database cannot be read now: the log says why\n").into_response()
        }
    }
}
