//! `supportd oauth login|status|logout NAME`: an OAuth2 account's tokens. NAME is a
//! mailbox's name, or `outbound` for the relay. `login` runs the device flow (prints the
//! address and the code, waits for the person) or, for client credentials, fetches the
//! application's token; `status` shows every account's expiry, last refresh and last error.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{open, open_read_only};
use super::output::{self, Format, errln, outln};
use super::{Exit, OAuthCommand};
use crate::config::Config;
use crate::oauth::endpoint::{self, EndpointError, Granted};
use crate::oauth::{Grant, OAuth2Config, store, tokens};

pub async fn oauth(config: &Path, command: OAuthCommand) -> Exit {
    match command {
        OAuthCommand::Login { name, redirect, port } => match open(config).await {
            Ok(desk) => login(&desk, &name, Redirect { asked: redirect, port }).await,
            Err(code) => code,
        },
        OAuthCommand::Status { format } => match open_read_only(config).await {
            Ok(desk) => status(&desk.config, &desk.db, format).await,
            Err(code) => code,
        },
        OAuthCommand::Logout { name } => match open(config).await {
            Ok(desk) => logout(&desk, &name).await,
            Err(code) => code,
        },
    }
}

fn named<'c>(config: &'c Config, name: &str) -> Result<&'c OAuth2Config, Exit> {
    let found = config.oauth_accounts().into_iter().find(|a| tokens::login_name(&a.account) == name);
    found.ok_or_else(|| {
        let names: Vec<&str> = config.oauth_accounts().iter().map(|a| tokens::login_name(&a.account)).collect();
        errln!("error: no account {name:?} logs in with OAuth2 (auth = \"oauth2\"); those that do: {}", list(&names));
        Exit::Usage
    })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// `--redirect` and `--port`: the authorization code flow whatever the grant, and the loopback
/// port it comes back to (0: any free one).
struct Redirect {
    asked: bool,
    port: u16,
}

async fn login(desk: &crate::desk::Desk, name: &str, redirect: Redirect) -> Exit {
    let account = match named(&desk.config, name) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // The key first: a person's consent is not to be asked for tokens that cannot be kept.
    let key = match desk.config.oauth_key.as_ref().map(crate::oauth::load_key) {
        Some(Ok(key)) => key,
        Some(Err(e)) => {
            errln!("error: {e}");
            return Exit::Config;
        }
        None => {
            errln!("error: no [oauth] key to seal the tokens with");
            return Exit::Config;
        }
    };
    let by_redirect = redirect.asked || account.grant == Grant::AuthorizationCode;
    let granted = if by_redirect {
        match super::oauth_redirect::flow(account, redirect.port).await {
            Ok(granted) => granted,
            Err(e) => {
                errln!("error: login of {name} failed: {e}");
                return match e {
                    super::oauth_redirect::RedirectError::Listen { .. } => Exit::OsErr,
                    super::oauth_redirect::RedirectError::NoAuthorizeUrl => Exit::Config,
                    _ => Exit::DataErr,
                };
            }
        }
    } else if account.grant == Grant::ClientCredentials {
        endpoint::client_credentials(account).await
    } else {
        device_flow(account).await
    };
    let granted = match granted {
        Ok(g) => g,
        Err(e) => return refused(name, &e),
    };
    let scopes = account.scopes.join(" ");
    if let Err(e) = store::save_login(&desk.db, &key, &account.account, &granted, &scopes, Utc::now()).await {
        errln!("error: the tokens could not be stored: {e}");
        return Exit::TempFail;
    }
    let expires = Utc::now() + chrono::Duration::seconds(granted.expires_in);
    outln!("Logged in: {} as {} (access token until {}).", name, account.user, expires.format("%Y-%m-%d %H:%M UTC"));
    if granted.refresh_token.is_none() && account.grant != Grant::ClientCredentials {
        outln!("The provider gave no refresh token: ask for offline_access, or this login lasts only an hour.");
    }
    Exit::Ok
}

/// The device flow: the address and code for the person, then polls at the interval the
/// provider asks until they answer, decline, or the code expires.
async fn device_flow(account: &OAuth2Config) -> Result<Granted, EndpointError> {
    let code = endpoint::device_start(account).await?;
    outln!(
        "To let supportd read and send mail as {}, open {} and enter the code {} (it expires in {} min).",
        account.user,
        code.verification_uri,
        code.user_code,
        code.expires_in / 60
    );
    let mut interval = Duration::from_secs(code.interval.max(1));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(code.expires_in.max(1) as u64);
    loop {
        match endpoint::device_poll(account, &code.device_code).await {
            Err(EndpointError::Pending) => {}
            Err(EndpointError::SlowDown) => interval += Duration::from_secs(5),
            // The person may be typing the code: a network hiccup is no reason to make them
            // start again.
            Err(EndpointError::Transient(e)) => {
                tracing::warn!(error = %e, "polling the device flow failed; polling on")
            }
            other => return other,
        }
        if tokio::time::Instant::now() + interval > deadline {
            return Err(EndpointError::Expired);
        }
        // The provider sets the pace: polling faster is refused (slow_down).
        tokio::time::sleep(interval).await;
    }
}

fn refused(name: &str, e: &EndpointError) -> Exit {
    errln!("error: login of {name} failed: {e}");
    match e {
        EndpointError::InvalidClient(_) => {
            errln!("Check client_id and the client secret (an expired secret needs a new one in the config).");
            Exit::Config
        }
        EndpointError::Transient(_) => Exit::TempFail,
        _ => Exit::DataErr,
    }
}

#[derive(Serialize)]
struct Row {
    account: String,
    user: String,
    grant: &'static str,
    logged_in: bool,
    scopes: String,
    access_expires_at: Option<DateTime<Utc>>,
    last_refresh_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

async fn status(config: &Config, db: &sea_orm::DatabaseConnection, format: Format) -> Exit {
    let accounts = match store::configured(db, config).await {
        Ok(accounts) => accounts,
        Err(e) => return super::load::fail(&crate::app::AppError::Database(e)),
    };
    let rows: Vec<Row> = accounts
        .into_iter()
        .map(|(a, row)| {
            let row = row.as_ref();
            Row {
                account: tokens::login_name(&a.account).to_owned(),
                user: a.user.clone(),
                grant: a.grant.as_str(),
                logged_in: row.is_some_and(|r| r.refresh_token.is_some() || r.access_token.is_some()),
                scopes: row.map(|r| r.scopes.clone()).unwrap_or_default(),
                access_expires_at: row.and_then(|r| r.access_expires_at),
                last_refresh_at: row.and_then(|r| r.last_refresh_at),
                last_error: row.and_then(|r| r.last_error.clone()),
            }
        })
        .collect();
    let when =
        |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    output::rows(
        format,
        &rows,
        &["ACCOUNT", "USER", "GRANT", "LOGGED IN", "ACCESS EXPIRES", "LAST REFRESH", "LAST ERROR"],
        |r| {
            vec![
                r.account.clone(),
                r.user.clone(),
                r.grant.into(),
                if r.logged_in { "yes".into() } else { format!("no: run supportd oauth login {}", r.account) },
                when(r.access_expires_at),
                when(r.last_refresh_at),
                r.last_error.clone().unwrap_or_else(|| "-".into()),
            ]
        },
    );
    Exit::Ok
}

async fn logout(desk: &crate::desk::Desk, name: &str) -> Exit {
    let account = match named(&desk.config, name) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match store::forget(&desk.db, &account.account).await {
        Ok(true) => outln!("Logged out: {name}'s tokens are forgotten."),
        Ok(false) => outln!("{name} had no tokens."),
        Err(e) => return super::load::fail(&crate::app::AppError::Database(e)),
    }
    Exit::Ok
}
