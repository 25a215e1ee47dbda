//! The support budget over time: top-ups after the first purchase (`[[company]]
//! budget_hours`), and the ledger of threshold alerts, so each goes once across restarts and
//! instances. An alert is keyed by the hours purchased when it went: a top-up re-arms them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BudgetPurchases {
    Table,
    Id,
    CompanyId,
    Hours,
    Note,
    At,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BudgetAlertsSent {
    Table,
    Id,
    CompanyId,
    Threshold,
    /// Hours purchased when it went, in hundredths.
    PurchasedCentihours,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let purchases = Table::create()
            .table(BudgetPurchases::Table)
            .if_not_exists()
            .col(big_pk_auto(BudgetPurchases::Id))
            .col(big_integer(BudgetPurchases::CompanyId))
            .col(double(BudgetPurchases::Hours))
            .col(text_null(BudgetPurchases::Note))
            .col(timestamp_with_time_zone(BudgetPurchases::At))
            .col(timestamp_with_time_zone(BudgetPurchases::CreatedAt))
            .to_owned();
        m.create_table(purchases).await?;
        let alerts = Table::create()
            .table(BudgetAlertsSent::Table)
            .if_not_exists()
            .col(big_pk_auto(BudgetAlertsSent::Id))
            .col(big_integer(BudgetAlertsSent::CompanyId))
            .col(string(BudgetAlertsSent::Threshold))
            .col(big_integer(BudgetAlertsSent::PurchasedCentihours))
            .col(timestamp_with_time_zone(BudgetAlertsSent::SentAt))
            .to_owned();
        m.create_table(alerts).await?;
        let once = Index::create()
            .if_not_exists()
            .name("idx_budget_alerts_once")
            .table(BudgetAlertsSent::Table)
            .col(BudgetAlertsSent::CompanyId)
            .col(BudgetAlertsSent::Threshold)
            .col(BudgetAlertsSent::PurchasedCentihours)
            .unique()
            .to_owned();
        m.create_index(once).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BudgetAlertsSent::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(BudgetPurchases::Table).to_owned()).await
    }
}
