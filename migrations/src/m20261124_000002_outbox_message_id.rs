//! Customers answer our acknowledgements and relays: threading looks their In-Reply-To up
//! among the Message-IDs supportd sent, which without this index read the whole outbox.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_outbox_message_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let index = Index::create().name(NAME).table(Alias::new("outbox")).col(Alias::new("message_id")).to_owned();
        m.create_index(index).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(Alias::new("outbox")).to_owned()).await
    }
}
