//! The held-mail digest's ledger: each digest sent to the agents, chained to the one before
//! (a unique `previous_id`, so two instances that saw the same last digest cannot both send
//! the next), and which held messages each listed, so none is listed twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HeldDigests {
    Table,
    Id,
    PreviousId,
    SentAt,
}

#[derive(DeriveIden)]
enum HeldDigestItems {
    Table,
    HeldId,
    DigestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let digests = Table::create()
            .table(HeldDigests::Table)
            .if_not_exists()
            .col(big_pk_auto(HeldDigests::Id))
            .col(big_integer_uniq(HeldDigests::PreviousId))
            .col(timestamp_with_time_zone(HeldDigests::SentAt))
            .to_owned();
        m.create_table(digests).await?;
        let items = Table::create()
            .table(HeldDigestItems::Table)
            .if_not_exists()
            .col(big_integer(HeldDigestItems::HeldId).primary_key())
            .col(big_integer(HeldDigestItems::DigestId))
            .to_owned();
        m.create_table(items).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(HeldDigestItems::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(HeldDigests::Table).to_owned()).await
    }
}
