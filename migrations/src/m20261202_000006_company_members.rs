//! Key members added at run time (`supportd members add`), beside those in `[[company]]
//! members`: who may open cases for a company when `who_may_open = "members"`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CompanyMembers {
    Table,
    Id,
    CompanyId,
    Email,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(CompanyMembers::Table)
            .if_not_exists()
            .col(big_pk_auto(CompanyMembers::Id))
            .col(big_integer(CompanyMembers::CompanyId))
            .col(string(CompanyMembers::Email))
            .col(timestamp_with_time_zone(CompanyMembers::CreatedAt))
            .to_owned();
        m.create_table(table).await?;
        // One row per person and company; the address is stored lower-case.
        let unique = Index::create()
            .if_not_exists()
            .name("idx_company_members_email")
            .table(CompanyMembers::Table)
            .col(CompanyMembers::Email)
            .col(CompanyMembers::CompanyId)
            .unique()
            .to_owned();
        m.create_index(unique).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CompanyMembers::Table).to_owned()).await
    }
}
