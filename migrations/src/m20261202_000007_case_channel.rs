//! The channel a case came by (`email`, `phone`, `chat`, `web`): every case before this came
//! by email.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Channel,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let column = string(Cases::Channel).default("email").to_owned();
        m.alter_table(Table::alter().table(Cases::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Cases::Table).drop_column(Cases::Channel).to_owned()).await
    }
}
