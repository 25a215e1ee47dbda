//! The hourly acknowledgement limit counts per sender without case (`Rob@` and `rob@` are one
//! person): this index serves that count, as `idx_outbox_recipient` served the exact one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // An expression index: SQLite and PostgreSQL both take this statement as written.
        let sql = "CREATE INDEX IF NOT EXISTS idx_outbox_recipient_lower ON outbox (lower(envelope_to), created_at)";
        m.get_connection().execute_unprepared(sql).await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_outbox_recipient_lower").await.map(|_| ())
    }
}
