//! OAuth2 tokens, one row per account (`mailbox:NAME`, `outbound`), sealed at rest
//! (`oauth::seal`). `generation` counts refreshes, so that an instance that waited for
//! another's refresh knows it has a new token; `refreshing_until` is the lease one instance
//! holds while it asks the provider, so that several refresh once between them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthTokens {
    Table,
    Account,
    RefreshToken,
    AccessToken,
    AccessExpiresAt,
    Scopes,
    Generation,
    RefreshingUntil,
    RefreshingBy,
    LastRefreshAt,
    LastError,
    LastErrorKind,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use OauthTokens as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(string(T::Account).primary_key())
                .col(text_null(T::RefreshToken))
                .col(text_null(T::AccessToken))
                .col(timestamp_with_time_zone_null(T::AccessExpiresAt))
                .col(text(T::Scopes).default(""))
                .col(big_integer(T::Generation).default(0))
                .col(timestamp_with_time_zone_null(T::RefreshingUntil))
                .col(string_null(T::RefreshingBy))
                .col(timestamp_with_time_zone_null(T::LastRefreshAt))
                .col(text_null(T::LastError))
                .col(string_null(T::LastErrorKind))
                .col(timestamp_with_time_zone(T::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OauthTokens::Table).to_owned()).await
    }
}
