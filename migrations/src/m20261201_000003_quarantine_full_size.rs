//! A message over the size limit is quarantined with only its first part (`raw`); the
//! message's full size and SHA-256 say what it was, so that an operator can find the original
//! and tell a truncated copy from the whole. Both are empty for rows kept whole before this.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Quarantine {
    Table,
    FullSize,
    Sha256,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let size =
            Table::alter().table(Quarantine::Table).add_column(big_integer_null(Quarantine::FullSize)).to_owned();
        m.alter_table(size).await?;
        let sha = Table::alter().table(Quarantine::Table).add_column(string_null(Quarantine::Sha256)).to_owned();
        m.alter_table(sha).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Quarantine::Sha256, Quarantine::FullSize] {
            m.alter_table(Table::alter().table(Quarantine::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
