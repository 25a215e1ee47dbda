//! When an outbox mail was given up on: health alarms report mail that failed permanently
//! within a day, whenever it was first queued. Empty for rows that failed before this.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    FailedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let column =
            Table::alter().table(Outbox::Table).add_column(timestamp_with_time_zone_null(Outbox::FailedAt)).to_owned();
        m.alter_table(column).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::FailedAt).to_owned()).await
    }
}
