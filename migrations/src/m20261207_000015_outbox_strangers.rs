//! Mail to people who are not parties of a case yet (acknowledgements to unknown senders,
//! "who may open cases" replies, #report how-tos) is capped per hour, in all and per recipient
//! domain, counted from the outbox so that the cap holds across restarts and instances. Such
//! a row carries its recipient folded (`name+tag@Domain` as `name@domain`) and that domain;
//! other mail leaves both empty. The partial index serves the count "in all": only these
//! rows, by time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    StrangerTo,
    StrangerDomain,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes no more.
        for column in [Outbox::StrangerTo, Outbox::StrangerDomain] {
            m.alter_table(Table::alter().table(Outbox::Table).add_column(text_null(column)).to_owned()).await?;
        }
        // Raw statements: a partial index, and both databases take them as written.
        let db = m.get_connection();
        for statement in [
            "CREATE INDEX IF NOT EXISTS idx_outbox_stranger_to ON outbox (stranger_to, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_outbox_stranger_domain ON outbox (stranger_domain, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_outbox_stranger_time ON outbox (created_at) \
             WHERE stranger_domain IS NOT NULL",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for index in ["idx_outbox_stranger_time", "idx_outbox_stranger_domain", "idx_outbox_stranger_to"] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}")).await?;
        }
        for column in [Outbox::StrangerDomain, Outbox::StrangerTo] {
            m.alter_table(Table::alter().table(Outbox::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
