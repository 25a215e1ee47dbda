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
    match problems.is_empty() {
        true => (StatusCode::OK, "ready\n".into()),
        false => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready\n{}\n", problems.join("\n"))),
    }
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
