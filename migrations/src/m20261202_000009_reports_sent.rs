//! Reports mailed by the scheduler (the ledger): one per company, kind and period, so each
//! CRM's monthly report goes once across restarts and instances.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportsSent {
    Table,
    Id,
    CompanyId,
    Kind,
    Period,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let reports = Table::create()
            .table(ReportsSent::Table)
            .if_not_exists()
            .col(big_pk_auto(ReportsSent::Id))
            .col(big_integer(ReportsSent::CompanyId))
            .col(string(ReportsSent::Kind))
            .col(string(ReportsSent::Period))
            .col(timestamp_with_time_zone(ReportsSent::SentAt))
            .to_owned();
        m.create_table(reports).await?;
        let once = Index::create()
            .if_not_exists()
            .name("idx_reports_sent_once")
            .table(ReportsSent::Table)
            .col(ReportsSent::CompanyId)
            .col(ReportsSent::Kind)
            .col(ReportsSent::Period)
            .unique()
            .to_owned();
        m.create_index(once).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReportsSent::Table).to_owned()).await
    }
}
