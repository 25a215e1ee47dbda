//! `/api/cases`, `/api/cases/NNNNNN` and `/api/sla`: the same JSON as `cases list`,
//! `cases show` and `sla status` with `--format json`. The lists are read a page at a time
//! by case number (`?status=open,pending&after=000100&limit=100`; `[http] page_size` rows
//! unless `limit` says fewer, never more than `MAX_PAGE_SIZE`): the next page is named in a
//! `Link` header, and `X-Total-Count` and `X-Remaining-Count` say how many the list holds
//! and how many come after this page, so that years of cases are never one response.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;

use crate::cases::{CasesPage, count_cases, list_cases_page, show_case, sla_page};
use crate::config::MAX_PAGE_SIZE;
use crate::desk::Desk;
use crate::domain::{CaseNumber, Status};

const OPEN: [Status; 3] = [Status::New, Status::Open, Status::Pending];

pub async fn cases(State(desk): State<Desk>, RawQuery(query): RawQuery) -> Response {
    let page = match page(query.as_deref().unwrap_or_default(), desk.config.http.page_size, None) {
        Ok(page) => page,
        Err(why) => return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    };
    let cases = list_cases_page(&desk.db, &page).await;
    let last = |cases: &Vec<crate::cases::CaseView>| cases.last().map(|c| c.number);
    paged(&desk, "/api/cases", &page, cases.map(|c| (last(&c), c))).await
}

pub async fn sla(State(desk): State<Desk>, RawQuery(query): RawQuery) -> Response {
    let page = match page(query.as_deref().unwrap_or_default(), desk.config.http.page_size, Some(&OPEN)) {
        Ok(page) => page,
        Err(why) => return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    };
    let lines = sla_page(&desk.db, &desk.config, &page, desk.now()).await;
    let last = |lines: &Vec<crate::cases::SlaLine>| lines.last().map(|l| l.case.number);
    paged(&desk, "/api/sla", &page, lines.map(|l| (last(&l), l))).await
}

/// The page as JSON (`last`: its last case), with the list's size, what is left after the
/// page, and the next page's `Link` while something is.
async fn paged(
    desk: &Desk,
    path: &str,
    page: &CasesPage,
    rows: Result<(Option<CaseNumber>, impl Serialize), DbErr>,
) -> Response {
    let (last, rows) = match rows {
        Ok(rows) => rows,
        Err(e) => return json(Err::<(), _>(e)),
    };
    let counts = async {
        let total = count_cases(&desk.db, &CasesPage { after: None, ..page.clone() }).await?;
        let rest = match last {
            Some(last) => count_cases(&desk.db, &CasesPage { after: Some(last), ..page.clone() }).await?,
            None => 0,
        };
        Ok::<_, DbErr>((total, rest))
    };
    let (total, rest) = match counts.await {
        Ok(counts) => counts,
        Err(e) => return json(Err::<(), _>(e)),
    };
    let mut response = json(Ok::<_, DbErr>(&rows));
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(total));
    headers.insert("x-remaining-count", HeaderValue::from(rest));
    if let Some(last) = last.filter(|_| rest > 0) {
        let statuses: Vec<String> = page.statuses.iter().map(ToString::to_string).collect();
        let status = if statuses.is_empty() || path == "/api/sla" {
            String::new()
        } else {
            format!("status={}&", statuses.join(","))
        };
        // Only a query, resolved against the page asked (RFC 3986 5.2): right behind a proxy
        // that serves the desk under a path prefix, which an absolute path would leave out.
        let link = format!("<?{status}after={last}&limit={}>; rel=\"next\"", page.limit);
        if let Ok(value) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, value);
        }
    }
    response
}

/// `status=open,pending` (unless the list is of `fixed` statuses), `after=000100`,
/// `limit=100` (1 to `MAX_PAGE_SIZE`; `default` without it); anything else is refused.
fn page(query: &str, default: u64, fixed: Option<&[Status]>) -> Result<CasesPage, String> {
    let mut page = CasesPage { limit: default, statuses: fixed.unwrap_or_default().to_vec(), after: None };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "status" if fixed.is_none() => {
                for s in value.split(',').filter(|s| !s.is_empty()) {
                    page.statuses.push(s.parse::<Status>().map_err(|e| format!("status: {e}"))?);
                }
            }
            "after" => page.after = Some(value.parse().map_err(|_| format!("after: not a case number: {value:?}"))?),
            "limit" => match value.parse::<u64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => page.limit = n,
                _ => return Err(format!("limit: a number from 1 to {MAX_PAGE_SIZE}, not {value:?}")),
            },
            other if fixed.is_some() => return Err(format!("unknown parameter {other:?} (after, limit)")),
            other => return Err(format!("unknown parameter {other:?} (status, after, limit)")),
        }
    }
    Ok(page)
}

pub async fn case(State(desk): State<Desk>, Path(number): Path<String>) -> Response {
    let Ok(number) = number.parse::<CaseNumber>() else {
        return (StatusCode::BAD_REQUEST, "not a case number\n").into_response();
    };
    match show_case(&desk.db, &desk.config, number, desk.now(), super::pages::case::window(&desk)).await {
        Ok(None) => (StatusCode::NOT_FOUND, format!("no case {number}\n")).into_response(),
        Ok(Some(detail)) => json(Ok::<_, DbErr>(detail)),
        Err(e) => json(Err::<(), _>(e)),
    }
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
        let p = page("status=open%2Cpending&after=000100&limit=5", 200, None).unwrap();
        assert_eq!(
            (p.statuses, p.after.map(|n| n.to_string()), p.limit),
            (vec![Status::Open, Status::Pending], Some("000100".into()), 5)
        );
        assert_eq!(page("", 200, None).unwrap().limit, 200);
        assert_eq!(page("limit=1000", 200, None).unwrap().limit, 1000);
        for bad in ["limit=0", "limit=1001", "limit=5000", "after=abc", "status=done", "sort=number"] {
            assert!(page(bad, 200, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sla_list_is_of_open_cases_whatever_the_query() {
        let p = page("after=000007&limit=3", 200, Some(&OPEN)).unwrap();
        assert_eq!((p.statuses.as_slice(), p.limit), (OPEN.as_slice(), 3));
        assert!(page("status=closed", 200, Some(&OPEN)).is_err(), "sla status is of open cases");
    }
}
