//! Escalation to other teams (`[[team]]`): a secret per team for the Reply-To of mail we send
//! it (`support+<token>@…`, so its answers prove they answer our mail), and each case's
//! escalations, current (no `ended_at`) and past.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    Token,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Escalations {
    Table,
    Id,
    CaseId,
    Team,
    EscalatedBy,
    Reason,
    StartedAt,
    EndedAt,
    EndedBy,
    EndNote,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let teams = Table::create()
            .table(Teams::Table)
            .if_not_exists()
            .col(big_pk_auto(Teams::Id))
            .col(string_uniq(Teams::Name))
            .col(string(Teams::Token))
            .col(timestamp_with_time_zone(Teams::CreatedAt))
            .to_owned();
        m.create_table(teams).await?;
        let escalations = Table::create()
            .table(Escalations::Table)
            .if_not_exists()
            .col(big_pk_auto(Escalations::Id))
            .col(big_integer(Escalations::CaseId))
            .col(string(Escalations::Team))
            .col(string(Escalations::EscalatedBy))
            .col(text_null(Escalations::Reason))
            .col(timestamp_with_time_zone(Escalations::StartedAt))
            .col(timestamp_with_time_zone_null(Escalations::EndedAt))
            .col(string_null(Escalations::EndedBy))
            .col(text_null(Escalations::EndNote))
            .to_owned();
        m.create_table(escalations).await?;
        let by_case = Index::create()
            .if_not_exists()
            .name("idx_escalations_case")
            .table(Escalations::Table)
            .col(Escalations::CaseId)
            .to_owned();
        m.create_index(by_case).await?;
        // One current escalation per case and team, even with several daemons racing.
        let once = "CREATE UNIQUE INDEX IF NOT EXISTS idx_escalations_current \
                    ON escalations (case_id, team) WHERE ended_at IS NULL";
        m.get_connection().execute_unprepared(once).await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Escalations::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Teams::Table).to_owned()).await
    }
}
