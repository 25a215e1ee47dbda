use sea_orm::entity::prelude::*;

/// One account's OAuth2 tokens, sealed (see the migration `m20261208_000018_oauth_tokens`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub access_expires_at: Option<DateTimeUtc>,
    pub scopes: String,
    pub generation: i64,
    pub refreshing_until: Option<DateTimeUtc>,
    pub refreshing_by: Option<String>,
    pub last_refresh_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
