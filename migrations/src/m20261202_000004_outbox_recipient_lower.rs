//! Two look-ups by recipient. The hourly acknowledgement limit counts per sender without case
//! (`Rob@` and `rob@` are one person), served by `lower(envelope_to)`; the agents' hourly mail
//! limit counts what was not held back, served by (envelope_to, status, created_at) so that
//! thousands of held rows are not read for every new mail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // An expression index: SQLite and PostgreSQL both take this statement as written.
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_outbox_recipient_lower ON outbox (lower(envelope_to), created_at)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_outbox_recipient_status ON outbox (envelope_to, status, created_at)",
        )
        .await
        .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_outbox_recipient_status").await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_outbox_recipient_lower").await.map(|_| ())
    }
}
