//! A write transaction that holds back its append-only rows (case events, outgoing mail,
//! stored messages with their attachments) and writes each table's rows with a few
//! multi-row statements when it is flushed or committed.
//!
//! Why: every statement is a round trip to the database (a thread hand-off for SQLite, a
//! network exchange for PostgreSQL), and those round trips, not the writing, were most of
//! the cost of ingesting a message. Nothing reads these rows back in the transaction except
//! through [`Tx::flush`] (threading by reference, the relay's parent message) or the staged
//! rows themselves (the per-sender acknowledgement count), so holding them changes no result.

use std::sync::Mutex;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, QueryFilter,
    QueryResult, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use chrono::{DateTime, Utc};

use super::entities::{attachment, case, case_event, message, outbox};

/// Rows per INSERT: well under SQLite's and PostgreSQL's limits on bound parameters, and a
/// bounded statement size whatever the batch.
const ROWS_PER_STATEMENT: usize = 100;

/// A message's raw bytes over this size are written by an UPDATE of their own after its row.
/// Every layer below copies each value of a statement (sea-query's statement, sea-orm's copy
/// for sqlx, SQLite's bound copy, the record): with the text and the raw bytes of a 24 MB
/// message in one statement that is 4 × 48 MB at once; apart, at most 4 × 24 MB and the text.
const RAW_APART: usize = 1024 * 1024;

pub struct Tx {
    txn: DatabaseTransaction,
    staged: Mutex<Staged>,
    numbers: Mutex<Option<Numbers>>,
}

/// Case numbers handed out by this transaction. After its first increment the counter row
/// is held until commit (SQLite's write lock, PostgreSQL's row lock), so the next numbers
/// are counted here and the row is written once, at the flush: one statement fewer per case.
#[derive(Clone, Copy)]
struct Numbers {
    last: i64,
    written: i64,
}

#[derive(Default)]
struct Staged {
    messages: Vec<(message::ActiveModel, Vec<attachment::ActiveModel>)>,
    events: Vec<case_event::ActiveModel>,
    mail: Vec<outbox::ActiveModel>,
    /// Cases whose last update moves to this time unless it is later already.
    touched: std::collections::BTreeMap<i64, DateTime<Utc>>,
}

impl Staged {
    fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.events.is_empty() && self.mail.is_empty() && self.touched.is_empty()
    }
}

impl Tx {
    pub async fn begin(db: &impl TransactionTrait<Transaction = DatabaseTransaction>) -> Result<Tx, DbErr> {
        Ok(Tx { txn: db.begin().await?, staged: Mutex::default(), numbers: Mutex::default() })
    }

    /// A savepoint inside this transaction, with its own staged rows and case numbers: they
    /// are written when it commits, so a rolled-back savepoint leaves nothing behind. This
    /// transaction's rows are written first, and its next case number is read afresh.
    pub async fn savepoint(&self) -> Result<Tx, DbErr> {
        self.flush().await?;
        *self.numbers() = None;
        Ok(Tx { txn: self.txn.begin().await?, staged: Mutex::default(), numbers: Mutex::default() })
    }

    /// The next case number, without gaps: the increment is part of this transaction, so a
    /// rollback gives the number back, and the counter row's lock serialises writers.
    pub async fn next_case_number(&self) -> Result<i64, DbErr> {
        if let Some(n) = self.numbers().as_mut() {
            n.last += 1;
            return Ok(n.last);
        }
        let sql = "UPDATE counters SET value = value + 1 WHERE name = 'case_number' RETURNING value";
        let row = self
            .txn
            .query_one_raw(Statement::from_string(self.get_database_backend(), sql))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the case_number counter row is missing".into()))?;
        let value = row.try_get::<i64>("", "value")?;
        *self.numbers() = Some(Numbers { last: value, written: value });
        Ok(value)
    }

    /// Writes the staged rows, then commits.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.flush().await?;
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// A stored message and its attachments, written at the next flush.
    pub fn stage_message(&self, row: message::ActiveModel, attachments: Vec<attachment::ActiveModel>) {
        self.staged().messages.push((row, attachments));
    }

    pub fn stage_event(&self, row: case_event::ActiveModel) {
        self.staged().events.push(row);
    }

    /// Moves case `case_id`'s last update to `at` (never back) at the next flush: for what
    /// changes a case without writing its row, an agent's note or a time entry.
    pub fn stage_touch(&self, case_id: i64, at: DateTime<Utc>) {
        let mut staged = self.staged();
        let latest = staged.touched.entry(case_id).or_insert(at);
        *latest = Ord::max(*latest, at);
    }

    pub fn stage_mail(&self, row: outbox::ActiveModel) {
        self.staged().mail.push(row);
    }

    /// Staged outgoing mail that `matches`, for counts that must include it.
    pub fn count_staged_mail(&self, matches: impl Fn(&outbox::ActiveModel) -> bool) -> u64 {
        self.staged().mail.iter().filter(|row| matches(row)).count() as u64
    }

    /// Writes the staged rows if a message or mail among them has one of `ids` as its
    /// Message-ID, so that a look-up by those ids sees it. Most replies answer older mail:
    /// then nothing is written early, and the batch keeps its few multi-row statements.
    pub async fn flush_for_message_ids(&self, ids: &[&str]) -> Result<(), DbErr> {
        let has = |id: Option<&str>| id.is_some_and(|id| ids.contains(&id));
        self.flush_if(|s| {
            s.messages.iter().any(|(m, _)| has(m.message_id.try_as_ref().and_then(|v| v.as_deref())))
                || s.mail.iter().any(|m| has(m.message_id.try_as_ref().map(String::as_str)))
        })
        .await
    }

    /// Writes the staged rows if any message or mail among them belongs to case `case_id`.
    pub async fn flush_for_case(&self, case_id: i64) -> Result<(), DbErr> {
        self.flush_if(|s| {
            s.messages.iter().any(|(m, _)| m.case_id.try_as_ref() == Some(&case_id))
                || s.mail.iter().any(|m| m.case_id.try_as_ref() == Some(&Some(case_id)))
        })
        .await
    }

    async fn flush_if(&self, needed: impl Fn(&Staged) -> bool) -> Result<(), DbErr> {
        let needed = needed(&self.staged());
        if needed { self.flush().await } else { Ok(()) }
    }

    /// Writes the staged rows, so that the queries after it see them.
    pub async fn flush(&self) -> Result<(), DbErr> {
        self.write_case_number().await?;
        let staged = std::mem::take(&mut *self.staged());
        if staged.is_empty() {
            return Ok(());
        }
        let mut attachments = Vec::new();
        let mut raw_apart = Vec::new();
        let mut messages = Vec::with_capacity(staged.messages.len());
        for (mut row, files) in staged.messages {
            let key = row.dedup_key.try_as_ref().cloned().flatten();
            if let (Some(key), Set(raw)) = (&key, &mut row.raw)
                && raw.len() > RAW_APART
            {
                raw_apart.push((key.clone(), std::mem::take(raw)));
            }
            if !files.is_empty() {
                let key = key.ok_or_else(|| DbErr::Custom("a message with attachments has no dedup key".into()))?;
                attachments.push((key, files));
            }
            messages.push(row);
        }
        insert_all::<message::Entity>(&self.txn, messages).await?;
        // Before the raw bytes: the attachments' copies are gone when those are written.
        self.insert_attachments(attachments).await?;
        for (key, raw) in raw_apart {
            let update = message::Entity::update_many()
                .col_expr(message::Column::Raw, Expr::value(raw))
                .filter(message::Column::DedupKey.eq(key))
                .build(self.txn.get_database_backend());
            self.txn.execute_raw(update).await?;
        }
        insert_all::<case_event::Entity>(&self.txn, staged.events).await?;
        insert_all::<outbox::Entity>(&self.txn, staged.mail).await?;
        for (id, at) in staged.touched {
            case::Entity::update_many()
                .col_expr(case::Column::UpdatedAt, Expr::value(at))
                .filter(case::Column::Id.eq(id))
                .filter(case::Column::UpdatedAt.lt(at))
                .exec(&self.txn)
                .await?;
        }
        Ok(())
    }

    /// Attachments name their message by id, known only once the messages are written: one
    /// look-up by the (unique) dedup key finds them all.
    async fn insert_attachments(&self, by_key: Vec<(String, Vec<attachment::ActiveModel>)>) -> Result<(), DbErr> {
        if by_key.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = by_key.iter().map(|(k, _)| k.as_str()).collect();
        let ids: std::collections::HashMap<String, i64> = message::Entity::find()
            .select_only()
            .column(message::Column::DedupKey)
            .column(message::Column::Id)
            .filter(message::Column::DedupKey.is_in(keys))
            .into_tuple::<(String, i64)>()
            .all(&self.txn)
            .await?
            .into_iter()
            .collect();
        let mut rows = Vec::new();
        for (key, files) in by_key {
            let id = *ids.get(&key).ok_or_else(|| DbErr::RecordNotFound(format!("message {key} just written")))?;
            rows.extend(files.into_iter().map(|mut f| {
                f.message_id = Set(id);
                f
            }));
        }
        insert_all::<attachment::Entity>(&self.txn, rows).await
    }

    async fn write_case_number(&self) -> Result<(), DbErr> {
        let Some(n) = *self.numbers() else { return Ok(()) };
        if n.last == n.written {
            return Ok(());
        }
        let update = Query::update()
            .table(Alias::new("counters"))
            .value(Alias::new("value"), n.last)
            .and_where(Expr::col(Alias::new("name")).eq("case_number"))
            .to_owned();
        self.txn.execute(&update).await?;
        *self.numbers() = Some(Numbers { last: n.last, written: n.last });
        Ok(())
    }

    // The locks are never held across an await, so never poisoned by a cancelled future.
    fn staged(&self) -> std::sync::MutexGuard<'_, Staged> {
        self.staged.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn numbers(&self) -> std::sync::MutexGuard<'_, Option<Numbers>> {
        self.numbers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn insert_all<E: EntityTrait>(txn: &DatabaseTransaction, rows: Vec<E::ActiveModel>) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        // Built here so that the query, whose values are copied into the statement, is gone
        // before it runs: one copy fewer of every stored message held while the driver and
        // the database make theirs (a 24 MB message is that much less at the peak).
        let query = E::insert_many(chunk).into_query();
        let statement = txn.get_database_backend().build(&query);
        drop(query);
        txn.execute_raw(statement).await?;
    }
    Ok(())
}

/// Every other statement goes straight to the transaction.
#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}
