//! When an outbox mail was given up on, and when it was last queued: health alarms report
//! mail that failed permanently within a day (`failed_at`, empty for rows that failed before
//! this), and measure how long mail has waited from its last queueing (`queued_at`: its
//! creation, or `supportd outbox retry`), so a mail sent again is not "stuck" from its birth.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    FailedAt,
    QueuedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let column =
            Table::alter().table(Outbox::Table).add_column(timestamp_with_time_zone_null(Outbox::FailedAt)).to_owned();
        m.alter_table(column).await?;
        let column =
            Table::alter().table(Outbox::Table).add_column(timestamp_with_time_zone_null(Outbox::QueuedAt)).to_owned();
        m.alter_table(column).await?;
        let backfill =
            Query::update().table(Outbox::Table).value(Outbox::QueuedAt, Expr::col(Outbox::CreatedAt)).to_owned();
        m.exec_stmt(backfill).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Outbox::QueuedAt, Outbox::FailedAt] {
            m.alter_table(Table::alter().table(Outbox::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
