//! `/api/cases`, `/api/cases/NNNNNN` and `/api/sla`: the same JSON as `cases list`,
//! `cases show` and `sla status` with `--format json`. `/api/cases` is read a page at a
//! time (`?status=open,pending&after=000100&limit=100`), the next page named in a `Link`
//! header, so that years of cases are never one response.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;

use crate::cases::{CasesPage, list_cases_page, show_case, sla_status};
use crate::desk::Desk;
use crate::domain::{CaseNumber, Status};

/// Cases per page unless `limit` says otherwise, and the most it may say.
const PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

pub async fn cases(State(desk): State<Desk>, RawQuery(query): RawQuery) -> Response {
    let page = match page(query.as_deref().unwrap_or_default()) {
        Ok(page) => page,
        Err(why) => return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    };
    let cases = match list_cases_page(&desk.db, &page).await {
        Ok(cases) => cases,
        Err(e) => return json(Err::<(), _>(e)),
    };
    let next = (cases.len() as u64 == page.limit).then(|| cases.last().map(|c| c.number)).flatten();
    let mut response = json(Ok::<_, DbErr>(&cases));
    if let Some(last) = next {
        let statuses: Vec<String> = page.statuses.iter().map(ToString::to_string).collect();
        let status = if statuses.is_empty() { String::new() } else { format!("status={}&", statuses.join(",")) };
        let link = format!("</api/cases?{status}after={last}&limit={}>; rel=\"next\"", page.limit);
        if let Ok(value) = header::HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

/// `status=open,pending`, `after=000100`, `limit=100` (at most 1000); anything else is refused.
fn page(query: &str) -> Result<CasesPage, String> {
    let mut page = CasesPage { limit: PAGE, ..CasesPage::default() };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "status" => {
                for s in value.split(',').filter(|s| !s.is_empty()) {
                    page.statuses.push(s.parse::<Status>().map_err(|e| format!("status: {e}"))?);
                }
            }
            "after" => page.after = Some(value.parse().map_err(|_| format!("after: not a case number: {value:?}"))?),
            "limit" => match value.parse::<u64>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => page.limit = n,
                _ => return Err(format!("limit: a number from 1 to {MAX_PAGE}, not {value:?}")),
            },
            other => return Err(format!("unknown parameter {other:?} (status, after, limit)")),
        }
    }
    Ok(page)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_from_the_query_and_nothing_else_is_taken() {
        let p = page("status=open%2Cpending&after=000100&limit=5").unwrap();
        assert_eq!(
            (p.statuses, p.after.map(|n| n.to_string()), p.limit),
            (vec![Status::Open, Status::Pending], Some("000100".into()), 5)
        );
        assert_eq!(page("").unwrap().limit, PAGE);
        for bad in ["limit=0", "limit=5000", "after=abc", "status=done", "sort=number"] {
            assert!(page(bad).is_err(), "{bad}");
        }
    }
}
