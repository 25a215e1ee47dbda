//! `/healthz`: the process answers. `/readyz`: the database answers and every mailbox
//! fetched without an error within its limit (`[health] mailbox_silent_after`, or two poll
//! intervals when longer); otherwise 503, saying what is wrong.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::config::{Config, MailboxConfig};
use crate::desk::Desk;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(desk): State<Desk>) -> (StatusCode, String) {
    let mut problems: Vec<String> = Vec::new();
    if let Err(e) = desk.db.ping().await {
        problems.push(format!("database: {e}"));
    }
    let now = desk.now();
    problems.extend(desk.config.mailboxes.iter().filter_map(|m| silent(&desk.config, m, now)));
    match cannot_authenticate(&desk).await {
        Ok(accounts) => problems.extend(accounts),
        Err(e) => problems.push(format!("database: {e}")),
    }
    match problems.is_empty() {
        true => (StatusCode::OK, "ready\n".into()),
        false => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready\n{}\n", problems.join("\n"))),
    }
}

/// The OAuth2 accounts whose token a person must renew (consent revoked, a bad client secret,
/// a key that does not open it), at once rather than when the mailbox has been silent.
async fn cannot_authenticate(desk: &Desk) -> Result<Vec<String>, sea_orm::DbErr> {
    let needs_a_person = |kind: &str| crate::oauth::tokens::NEEDS_A_PERSON.contains(&kind);
    Ok(crate::oauth::store::configured(&desk.db, &desk.config)
        .await?
        .into_iter()
        .filter_map(|(a, row)| {
            let name = crate::oauth::tokens::login_name(&a.account);
            let Some(row) = row else {
                let app_only = a.grant == crate::oauth::Grant::ClientCredentials;
                return (!app_only)
                    .then(|| format!("{name} cannot authenticate: no OAuth2 token yet (supportd oauth login {name})"));
            };
            let kind = row.last_error_kind.as_deref();
            let error = row.last_error.filter(|_| kind.is_some_and(needs_a_person))?;
            Some(format!("{name} cannot authenticate: {error}"))
        })
        .collect())
}

/// Why `mailbox` counts as silent at `now`, if it does.
fn silent(config: &Config, mailbox: &MailboxConfig, now: DateTime<Utc>) -> Option<String> {
    let limit = crate::health::silent_limit(config, mailbox);
    let health = crate::health::mailbox(&mailbox.name);
    let error = health.error.map(|e| format!(" (last error: {e})")).unwrap_or_default();
    let name = &mailbox.name;
    match health.last_ok {
        None => Some(format!("mailbox {name}: no successful fetch yet{error}")),
        Some(at) => {
            let quiet = (now - at).to_std().unwrap_or(Duration::ZERO);
            (quiet > limit).then(|| {
                format!(
                    "mailbox {name}: no successful fetch for {} s (limit {} s){error}",
                    quiet.as_secs(),
                    limit.as_secs()
                )
            })
        }
    }
}
