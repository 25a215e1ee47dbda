//! The health alarms' ledger: one row per incident (a mailbox gone silent, a stuck outbox),
//! open until it clears, so that each incident and each recovery is mailed once across
//! restarts and instances.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HealthAlarms {
    Table,
    Id,
    Subject,
    Detail,
    RaisedAt,
    ClearedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let alarms = Table::create()
            .table(HealthAlarms::Table)
            .if_not_exists()
            .col(big_pk_auto(HealthAlarms::Id))
            .col(string(HealthAlarms::Subject))
            .col(text(HealthAlarms::Detail))
            .col(timestamp_with_time_zone(HealthAlarms::RaisedAt))
            .col(timestamp_with_time_zone_null(HealthAlarms::ClearedAt))
            .to_owned();
        m.create_table(alarms).await?;
        // One open incident per subject, even with several daemons racing.
        let once = "CREATE UNIQUE INDEX IF NOT EXISTS idx_health_alarms_open \
                    ON health_alarms (subject) WHERE cleared_at IS NULL";
        m.get_connection().execute_unprepared(once).await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(HealthAlarms::Table).to_owned()).await
    }
}
