//! The web pages: `/`, the live view of the desk, its lists a page at a time
//! (`/?section=open&after=…`), and `/cases/NNNNNN`, one case. Rendered on the server from
//! `templates/web/`, HTML-escaped, no script: the live view reloads itself with a meta
//! refresh, so it works without JavaScript and on a phone.

pub(super) mod case;
mod list;
mod live;
mod sections;
mod words;

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;

use crate::desk::Desk;
use crate::domain::CaseNumber;

pub async fn live(State(desk): State<Desk>, RawQuery(query): RawQuery) -> Response {
    let request = match sections::request(query.as_deref().unwrap_or_default()) {
        Ok(request) => request,
        Err(why) => return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    };
    let Some(request) = request else {
        return match live::page(&desk, desk.now()).await {
            Ok(page) => html(&desk, "live", &page),
            Err(e) => unavailable(e),
        };
    };
    match list::page(&desk, request, desk.now()).await {
        Ok(Some(page)) => html(&desk, "list", &page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such agent\n").into_response(),
        Err(e) => unavailable(e),
    }
}

pub async fn case(State(desk): State<Desk>, Path(number): Path<String>) -> Response {
    let Ok(number) = number.parse::<CaseNumber>() else {
        return (StatusCode::BAD_REQUEST, "not a case number\n").into_response();
    };
    match case::page(&desk, number, desk.now()).await {
        Ok(Some(page)) => html(&desk, "case", &page),
        Ok(None) => (StatusCode::NOT_FOUND, format!("no case {number}\n")).into_response(),
        Err(e) => unavailable(e),
    }
}

pub async fn stylesheet(State(desk): State<Desk>) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], desk.templates.stylesheet().to_owned()).into_response()
}

fn html(desk: &Desk, name: &str, page: &impl serde::Serialize) -> Response {
    match desk.templates.render_page(name, page) {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            // check-config renders every page with a sample, so this is a template that
            // needs a value the sample lacks: say so rather than serve half a page.
            tracing::warn!(error = %e, "a web page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered: the log says why\n").into_response()
        }
    }
}

fn unavailable(e: DbErr) -> Response {
    // The details (a database's host, user or path) go to the log, not to the browser.
    tracing::warn!(error = %e, "a web page could not be read");
    (StatusCode::SERVICE_UNAVAILABLE, "the database cannot be read now: the log says why\n").into_response()
}
