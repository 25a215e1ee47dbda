//! A secret per company for its CRM's `#report` requests: mail supportd sends the CRM
//! carries it in its Reply-To (`support+<token>@…`), and a request sent there is theirs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    ReportToken,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter().table(Companies::Table).add_column(string_null(Companies::ReportToken)).to_owned();
        m.alter_table(add).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Companies::Table).drop_column(Companies::ReportToken).to_owned()).await
    }
}
