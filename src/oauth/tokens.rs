//! The one way a connection gets an access token: the stored one while it has more than
//! `AHEAD` to live, else a refresh — by one instance at a time (a lease on the row; the
//! others wait for the new generation and use it), its rotated refresh token committed
//! before the new access token is handed out.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::endpoint::{self, EndpointError};
use super::seal::{Key, SealError};
use super::store::{self, StoreError};
use super::{Grant, OAuth2Config};

/// An access token with less than this left is refreshed before it is used.
pub const AHEAD: Duration = Duration::minutes(5);
/// How long one instance may hold the refresh lease: past it, another takes over.
const LEASE: Duration = Duration::seconds(60);
/// How often an instance waiting for another's refresh looks again, and how many times.
const WAIT_STEP: StdDuration = StdDuration::from_millis(250);
const WAIT_STEPS: u32 = 280;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{account} has no OAuth2 token yet: run supportd oauth login {name}")]
    NotLoggedIn { account: String, name: String },
    #[error("refreshing the OAuth2 token of {account}: {source}")]
    Endpoint { account: String, source: EndpointError },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("no [oauth] key to open the OAuth2 tokens with")]
    NoKey,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("another instance has been refreshing the OAuth2 token of {account} for too long")]
    Busy { account: String },
    #[error("{account} needs a person: {said}")]
    NeedsAPerson { account: String, said: String },
    #[error("the token refresh failed unexpectedly: {0}")]
    Panicked(String),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => TokenError::Db(e),
            StoreError::Seal(e) => TokenError::Seal(e),
        }
    }
}

impl TokenError {
    /// Worth trying again later by itself (a network failure, another instance's refresh);
    /// the rest need a person (log in again, a new client secret, the key).
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Endpoint { source, .. } => source.kind() == "transient",
            TokenError::Db(_) | TokenError::Busy { .. } | TokenError::Panicked(_) => true,
            _ => false,
        }
    }
}

/// What `oauth login NAME` names: the mailbox's name, or `outbound`.
pub fn login_name(account: &str) -> &str {
    account.strip_prefix("mailbox:").unwrap_or(account)
}

/// A current access token for `cfg`'s account, with the key `[oauth]` names.
pub async fn desk_token(desk: &crate::desk::Desk, cfg: &OAuth2Config) -> Result<String, TokenError> {
    TokenStore::of(desk).ok_or(TokenError::NoKey)?.token(cfg).await
}

/// The desk's tokens, for a connection that outlives one call (the SMTP relay).
#[derive(Clone)]
pub struct TokenStore {
    db: sea_orm::DatabaseConnection,
    key: crate::config::KeySource,
}

impl TokenStore {
    /// `None` when no account uses OAuth2 (there is no key).
    pub fn of(desk: &crate::desk::Desk) -> Option<TokenStore> {
        let key = desk.config.oauth_key.clone()?;
        Some(TokenStore { db: desk.db.clone(), key })
    }

    pub async fn token(&self, cfg: &OAuth2Config) -> Result<String, TokenError> {
        let key = super::load_key(&self.key)?;
        access_token(&self.db, &key, cfg).await
    }

    /// The server refused the token: the next connection refreshes first.
    pub async fn refused(&self, cfg: &OAuth2Config) -> Result<(), TokenError> {
        Ok(store::expire_access(&self.db, &cfg.account).await?)
    }
}

/// A current access token for `cfg`'s account.
pub async fn access_token(db: &DatabaseConnection, key: &Key, cfg: &OAuth2Config) -> Result<String, TokenError> {
    let account = cfg.account.as_str();
    let who = format!("{}:{}", crate::health::host(), std::process::id());
    for _ in 0..WAIT_STEPS {
        let now = Utc::now();
        let Some(row) = store::load(db, account).await? else {
            if cfg.grant == Grant::ClientCredentials {
                store::ensure_row(db, account, now).await?;
                continue;
            }
            return Err(TokenError::NotLoggedIn { account: account.into(), name: login_name(account).into() });
        };
        if let (Some(sealed), Some(expires)) = (&row.access_token, row.access_expires_at)
            && expires - margin(&row) > now
        {
            return Ok(key.open(account, "access", sealed)?);
        }
        // Consent revoked or a bad secret: asking again soon changes nothing until a person
        // acts (a login, a new secret), and a provider throttles a client that keeps asking.
        let recent = now - row.updated_at < ASK_AGAIN_AFTER;
        if let Some(kind) = row.last_error_kind.as_deref().filter(|k| recent && NEEDS_A_PERSON.contains(k)) {
            let said = row.last_error.clone().unwrap_or_else(|| kind.to_owned());
            return Err(TokenError::NeedsAPerson { account: account.into(), said });
        }
        if store::take_lease(db, account, row.generation, &who, now, now + LEASE).await? {
            // Its own task: the provider rotates the refresh token as it answers, so the
            // answer must be stored even if the caller gives up meanwhile (a timeout, shutdown).
            let (db, key, cfg) = (db.clone(), key.clone(), cfg.clone());
            let refreshed = tokio::spawn(async move { refresh(&db, &key, &cfg, &row).await });
            return refreshed.await.unwrap_or_else(|e| Err(TokenError::Panicked(e.to_string())));
        }
        // Another instance is refreshing: its new generation is read on the next look.
        tokio::time::sleep(WAIT_STEP).await;
    }
    Err(TokenError::Busy { account: account.into() })
}

/// After a failure only a person can mend, the refresh is tried again this long after it.
const ASK_AGAIN_AFTER: Duration = Duration::minutes(5);

/// The errors only a person can mend: the refresh is not tried again soon.
pub const NEEDS_A_PERSON: [&str; 4] = ["invalid_grant", "invalid_client", "key", "no_token"];

/// How long before its expiry a token is refreshed: `AHEAD`, or half its life when it lives
/// shorter, so that a short-lived token is not refreshed on every use.
fn margin(row: &crate::storage::entities::oauth_token::Model) -> Duration {
    let life = match (row.access_expires_at, row.last_refresh_at) {
        (Some(expires), Some(issued)) => expires - issued,
        _ => AHEAD * 2,
    };
    AHEAD.min(life / 2)
}

/// Refreshes under the lease: the new tokens stored (committed) before the access token is
/// returned; a failure stored with its kind.
async fn refresh(
    db: &DatabaseConnection,
    key: &Key,
    cfg: &OAuth2Config,
    row: &crate::storage::entities::oauth_token::Model,
) -> Result<String, TokenError> {
    let account = cfg.account.as_str();
    let asked = match (cfg.grant, &row.refresh_token) {
        (Grant::ClientCredentials, _) => endpoint::client_credentials(cfg).await,
        (_, Some(sealed)) => match key.open(account, "refresh", sealed) {
            Ok(refresh_token) => endpoint::refresh(cfg, &refresh_token).await,
            Err(e) => {
                store::save_failure(db, account, "key", &e.to_string(), Utc::now()).await?;
                return Err(e.into());
            }
        },
        (_, None) => {
            store::save_failure(db, account, "no_token", "no refresh token: log in", Utc::now()).await?;
            return Err(TokenError::NotLoggedIn { account: account.into(), name: login_name(account).into() });
        }
    };
    let metrics = crate::metrics::metrics();
    match asked {
        Ok(granted) => {
            save_refreshed(db, key, account, &granted, row.generation).await?;
            metrics.count_oauth_refresh(login_name(account), "ok");
            Ok(granted.access_token)
        }
        Err(source) => {
            store::save_failure(db, account, source.kind(), &source.to_string(), Utc::now()).await?;
            metrics.count_oauth_refresh(login_name(account), source.kind());
            Err(TokenError::Endpoint { account: account.into(), source })
        }
    }
}

/// Stores a refresh's tokens, trying again a few times: the provider has already forgotten
/// the old refresh token. A row that moved on meanwhile (a new login, a logout) is left as it is.
async fn save_refreshed(
    db: &DatabaseConnection,
    key: &Key,
    account: &str,
    granted: &endpoint::Granted,
    generation: i64,
) -> Result<(), TokenError> {
    let mut tries = 0;
    loop {
        match store::save_refreshed(db, key, account, granted, generation, Utc::now()).await {
            Ok(true) => return Ok(()),
            Ok(false) => {
                tracing::warn!(account, "a login or logout came while refreshing: the refreshed token is not stored");
                return Ok(());
            }
            Err(StoreError::Db(e)) if tries < SAVE_TRIES => {
                tries += 1;
                tracing::warn!(account, error = %e, "storing a refreshed token failed; trying again");
                tokio::time::sleep(StdDuration::from_secs(1 << tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How many times a refreshed token's store is tried again (1, 2, 4, 8 s apart).
const SAVE_TRIES: u32 = 4;
