//! The `oauth_tokens` rows. Every write here is one statement on its own connection — never
//! part of a batch's transaction — so that a rotated refresh token is committed the moment
//! it is known: the provider has already forgotten the old one, and no later failure may
//! roll the new one back.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::endpoint::Granted;
use super::seal::{Key, SealError};
use crate::storage::entities::oauth_token::{self, Column as C, Entity};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Seal(#[from] SealError),
}

pub async fn load(db: &impl ConnectionTrait, account: &str) -> Result<Option<oauth_token::Model>, DbErr> {
    Entity::find_by_id(account.to_owned()).one(db).await
}

/// Every configured OAuth2 account with its stored row (none before a login); nothing is read
/// when no account uses OAuth2.
pub async fn configured<'c>(
    db: &impl ConnectionTrait,
    config: &'c crate::config::Config,
) -> Result<Vec<(&'c super::OAuth2Config, Option<oauth_token::Model>)>, DbErr> {
    let accounts = config.oauth_accounts();
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let mut stored = Entity::find().all(db).await?;
    Ok(accounts
        .into_iter()
        .map(|a| {
            let row = stored.iter().position(|r| r.account == a.account).map(|i| stored.swap_remove(i));
            (a, row)
        })
        .collect())
}

/// The tokens a login granted, replacing whatever the account had.
pub async fn save_login(
    db: &impl ConnectionTrait,
    key: &Key,
    account: &str,
    granted: &Granted,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let refresh = granted.refresh_token.as_deref().map(|t| key.seal(account, "refresh", t)).transpose()?;
    let row = oauth_token::ActiveModel {
        account: Set(account.to_owned()),
        refresh_token: Set(refresh),
        access_token: Set(Some(key.seal(account, "access", &granted.access_token)?)),
        access_expires_at: Set(Some(now + Duration::seconds(granted.expires_in))),
        scopes: Set(granted.scope.clone().unwrap_or_else(|| scopes.to_owned())),
        generation: Set(0),
        refreshing_until: Set(None),
        refreshing_by: Set(None),
        last_refresh_at: Set(Some(now)),
        last_error: Set(None),
        last_error_kind: Set(None),
        updated_at: Set(now),
    };
    let replace = OnConflict::column(C::Account)
        .update_columns([C::RefreshToken, C::AccessToken, C::AccessExpiresAt, C::Scopes, C::RefreshingUntil])
        .update_columns([C::RefreshingBy, C::LastRefreshAt, C::LastError, C::LastErrorKind, C::UpdatedAt])
        .value(C::Generation, Expr::col((Entity, C::Generation)).add(1))
        .to_owned();
    Entity::insert(row).on_conflict(replace).exec_without_returning(db).await?;
    Ok(())
}

/// Takes the refresh lease of `account` at `generation` for `who` until `until`: false when
/// another holds it, or the token moved on meanwhile.
pub async fn take_lease(
    db: &impl ConnectionTrait,
    account: &str,
    generation: i64,
    who: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let taken = Entity::update_many()
        .col_expr(C::RefreshingUntil, Expr::value(until))
        .col_expr(C::RefreshingBy, Expr::value(who))
        .filter(C::Account.eq(account))
        .filter(C::Generation.eq(generation))
        .filter(C::RefreshingUntil.is_null().or(C::RefreshingUntil.lt(now)))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// A refresh's tokens, committed at once: the rotated refresh token (the old one kept when
/// the provider did not rotate it), the access token, its expiry; the lease given up. False
/// when the row is no longer at `generation` (a login or logout came meanwhile): it is left
/// as it is.
pub async fn save_refreshed(
    db: &impl ConnectionTrait,
    key: &Key,
    account: &str,
    granted: &Granted,
    generation: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = Entity::update_many()
        .col_expr(C::AccessToken, Expr::value(key.seal(account, "access", &granted.access_token)?))
        .col_expr(C::AccessExpiresAt, Expr::value(now + Duration::seconds(granted.expires_in)))
        .col_expr(C::Generation, Expr::col(C::Generation).add(1))
        .col_expr(C::RefreshingUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::RefreshingBy, Expr::value(Option::<String>::None))
        .col_expr(C::LastRefreshAt, Expr::value(now))
        .col_expr(C::LastError, Expr::value(Option::<String>::None))
        .col_expr(C::LastErrorKind, Expr::value(Option::<String>::None))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if let Some(rotated) = &granted.refresh_token {
        update = update.col_expr(C::RefreshToken, Expr::value(key.seal(account, "refresh", rotated)?));
    }
    let saved = update.filter(C::Account.eq(account)).filter(C::Generation.eq(generation)).exec(db).await?;
    Ok(saved.rows_affected == 1)
}

/// A failed refresh: why, and the lease given up.
pub async fn save_failure(
    db: &impl ConnectionTrait,
    account: &str,
    kind: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many();
    if kind == "transient" {
        // A network failure says nothing new about an account that needs a person: that stays.
        let person = super::tokens::NEEDS_A_PERSON;
        update = update.filter(C::LastErrorKind.is_null().or(C::LastErrorKind.is_not_in(person)));
    }
    update
        .col_expr(C::RefreshingUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::RefreshingBy, Expr::value(Option::<String>::None))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::LastErrorKind, Expr::value(kind))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Account.eq(account))
        .exec(db)
        .await?;
    Ok(())
}

/// The access token was refused by the server: the next connection refreshes first.
pub async fn expire_access(db: &impl ConnectionTrait, account: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(C::AccessExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Account.eq(account))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the account's tokens; false when it had none.
pub async fn forget(db: &impl ConnectionTrait, account: &str) -> Result<bool, DbErr> {
    Ok(Entity::delete_by_id(account.to_owned()).exec(db).await?.rows_affected == 1)
}

/// An account with only a client-credentials token has a row made on first use.
pub async fn ensure_row(db: &impl ConnectionTrait, account: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    let row = oauth_token::ActiveModel {
        account: Set(account.to_owned()),
        refresh_token: Set(None),
        access_token: Set(None),
        access_expires_at: Set(None),
        scopes: Set(String::new()),
        generation: Set(0),
        refreshing_until: Set(None),
        refreshing_by: Set(None),
        last_refresh_at: Set(None),
        last_error: Set(None),
        last_error_kind: Set(None),
        updated_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(OnConflict::column(C::Account).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
