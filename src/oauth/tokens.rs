//! The one way a connection gets an access token: the stored one while it has more than
//! `AHEAD` to live, else a refresh — by one instance at a time (a lease on the row; the
//! others wait for the new generation and use it), its rotated refresh token committed
//! before the new access token is handed out.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

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
            TokenError::Db(_) | TokenError::Busy { .. } => true,
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
pub async fn access_token(db: &impl ConnectionTrait, key: &Key, cfg: &OAuth2Config) -> Result<String, TokenError> {
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
            && expires - AHEAD > now
        {
            return Ok(key.open(account, "access", sealed)?);
        }
        if store::take_lease(db, account, row.generation, &who, now, now + LEASE).await? {
            return refresh(db, key, cfg, &row).await;
        }
        // Another instance is refreshing: its new generation is read on the next look.
        tokio::time::sleep(WAIT_STEP).await;
    }
    Err(TokenError::Busy { account: account.into() })
}

/// Refreshes under the lease: the new tokens stored (committed) before the access token is
/// returned; a failure stored with its kind.
async fn refresh(
    db: &impl ConnectionTrait,
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
    match asked {
        Ok(granted) => {
            store::save_refreshed(db, key, account, &granted, Utc::now()).await?;
            crate::metrics::metrics().count_oauth_refresh(login_name(account), "ok");
            Ok(granted.access_token)
        }
        Err(source) => {
            store::save_failure(db, account, source.kind(), &source.to_string(), Utc::now()).await?;
            crate::metrics::metrics().count_oauth_refresh(login_name(account), source.kind());
            Err(TokenError::Endpoint { account: account.into(), source })
        }
    }
}
