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
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult,
    Iterable, QueryFilter, QueryResult, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, Value};

use chrono::{DateTime, Utc};

use super::entities::{attachment, case, case_event, message, message_raw, outbox};

/// Rows per INSERT: well under SQLite's and PostgreSQL's limits on bound parameters, and a
/// bounded statement size whatever the batch.
const ROWS_PER_STATEMENT: usize = 100;

/// Bytes of values per INSERT, past its first row: small messages share a statement, a
/// large one has its own, so that a statement's copies below are of one message at most.
const BYTES_PER_STATEMENT: usize = 1024 * 1024;

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

/// A message's row, its raw bytes (written to `message_raw`) and its attachments.
struct StagedMessage {
    row: message::ActiveModel,
    raw: Vec<u8>,
    attachments: Vec<attachment::ActiveModel>,
}

#[derive(Default)]
struct Staged {
    messages: Vec<StagedMessage>,
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

    /// A stored message, its raw bytes and its attachments, written at the next flush.
    pub fn stage_message(&self, row: message::ActiveModel, raw: Vec<u8>, attachments: Vec<attachment::ActiveModel>) {
        self.staged().messages.push(StagedMessage { row, raw, attachments });
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
            s.messages.iter().any(|m| has(m.row.message_id.try_as_ref().and_then(|v| v.as_deref())))
                || s.mail.iter().any(|m| has(m.message_id.try_as_ref().map(String::as_str)))
        })
        .await
    }

    /// Writes the staged rows if any message or mail among them belongs to case `case_id`.
    pub async fn flush_for_case(&self, case_id: i64) -> Result<(), DbErr> {
        self.flush_if(|s| {
            s.messages.iter().any(|m| m.row.case_id.try_as_ref() == Some(&case_id))
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
        self.write_messages(staged.messages).await?;
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

    /// Writes messages, then their attachments, raw bytes and large bodies, in the order that
    /// holds the fewest copies of a large message at once: each statement's values are held
    /// four times over while it runs (the statement, sea-orm's copy for sqlx, SQLite's bound
    /// copy, the record). A message whose text and HTML are large has its row written
    /// without them and filled in last, when its raw bytes are gone.
    async fn write_messages(&self, messages: Vec<StagedMessage>) -> Result<(), DbErr> {
        let mut keys = Vec::with_capacity(messages.len());
        let mut rows = Vec::with_capacity(messages.len());
        let mut rest = Vec::with_capacity(messages.len());
        for StagedMessage { mut row, raw, attachments } in messages {
            let key = row.dedup_key.try_as_ref().cloned().flatten();
            keys.push(key.ok_or_else(|| DbErr::Custom("a stored message has no dedup key".into()))?);
            let bodies = large_bodies(&mut row);
            rows.push(row);
            rest.push((raw, attachments, bodies));
        }
        insert_all::<message::Entity>(&self.txn, rows).await?;
        let ids = self.message_ids(&keys).await?;
        let (mut raws, mut files, mut later) = (Vec::with_capacity(rest.len()), Vec::new(), Vec::new());
        for (key, (raw, attachments, bodies)) in keys.iter().zip(rest) {
            let id = *ids.get(key).ok_or_else(|| DbErr::RecordNotFound(format!("message {key} just written")))?;
            files.extend(attachments.into_iter().map(|mut f| {
                f.message_id = Set(id);
                f
            }));
            raws.push(message_raw::ActiveModel { message_id: Set(id), raw: Set(raw) });
            later.extend(bodies.map(|b| (id, b)));
        }
        insert_all::<attachment::Entity>(&self.txn, files).await?;
        insert_all::<message_raw::Entity>(&self.txn, raws).await?;
        for (id, (text, html)) in later {
            self.write_body(id, message::Column::TextBody, text).await?;
            if let Some(html) = html {
                self.write_body(id, message::Column::HtmlBody, html).await?;
            }
        }
        Ok(())
    }

    /// `UPDATE messages SET column = body`, the body moved into the statement. The text
    /// and the HTML go one at a time: SQLite reads the old row back and builds the new one,
    /// so the second statement holds the first body once more, not four times.
    async fn write_body(&self, id: i64, column: message::Column, body: String) -> Result<(), DbErr> {
        let update = message::Entity::update_many()
            .col_expr(column, Expr::value(Value::String(None)))
            .filter(message::Column::Id.eq(id));
        let statement = update.build(self.txn.get_database_backend());
        let statement = moved_into(statement, vec![Value::String(Some(body)), Value::BigInt(Some(id))])?;
        self.txn.execute_raw(statement).await.map(drop)
    }

    /// Raw bytes and attachments name their message by id, known only once the messages are
    /// written: one look-up by the (unique) dedup key finds them all.
    async fn message_ids(&self, keys: &[String]) -> Result<std::collections::HashMap<String, i64>, DbErr> {
        let mut ids = std::collections::HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let found: Vec<(String, i64)> = message::Entity::find()
                .select_only()
                .column(message::Column::DedupKey)
                .column(message::Column::Id)
                .filter(message::Column::DedupKey.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(&self.txn)
                .await?;
            ids.extend(found);
        }
        Ok(ids)
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

/// Writes `rows` with multi-row INSERTs, each value moved into its statement, never copied
/// on the way: every layer below makes its own copy (sea-orm's for sqlx, SQLite's bound
/// copy, the record), and sea-query's would be one more of each stored message at the peak.
/// So the query is built with typed NULLs in place of the values, and the values, taken from
/// the rows in the same order, replace its parameters (`moved_into`). Rows that set different
/// columns go in different statements.
async fn insert_all<E: EntityTrait>(txn: &DatabaseTransaction, rows: Vec<E::ActiveModel>) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().map(set_values::<E>).peekable();
    while let Some((set, first)) = rows.next() {
        let mut bytes = weight(&first);
        let mut chunk = vec![first];
        while let Some((next_set, next)) = rows.peek()
            && *next_set == set
            && chunk.len() < ROWS_PER_STATEMENT
            && bytes + weight(next) <= BYTES_PER_STATEMENT
        {
            bytes += weight(next);
            chunk.extend(rows.next().map(|(_, values)| values));
        }
        let mut insert = Query::insert();
        let columns = E::Column::iter().zip(&set).filter_map(|(c, set)| set.then_some(c));
        insert.into_table(E::default()).columns(columns);
        for values in &chunk {
            insert.values_panic(values.iter().map(|v| v.as_null().into()));
        }
        let statement = txn.get_database_backend().build(&insert);
        txn.execute_raw(moved_into(statement, chunk.into_iter().flatten().collect())?).await?;
    }
    Ok(())
}

/// `statement`, built with a typed NULL where each value we move in goes, with `values` bound
/// in their place. Each must be a NULL of the same type or the very value already bound (an
/// id in a WHERE): a statement that binds anything else, or in another order, is refused
/// rather than run with its parameters shifted.
fn moved_into(mut statement: Statement, values: Vec<Value>) -> Result<Statement, DbErr> {
    let fits = |bound: &[Value]| {
        bound.len() == values.len()
            && bound.iter().zip(&values).all(|(b, v)| b == v || (*b == b.as_null() && *b == v.as_null()))
    };
    match &mut statement.values {
        Some(bound) if fits(&bound.0) => bound.0 = values,
        _ => return Err(DbErr::Custom(format!("a statement bound other values than written: {}", statement.sql))),
    }
    Ok(statement)
}

/// Which of the entity's columns `row` sets, in their order, and the values it sets.
fn set_values<E: EntityTrait>(mut row: E::ActiveModel) -> (Vec<bool>, Vec<Value>) {
    let mut set = Vec::new();
    let mut values = Vec::new();
    for column in E::Column::iter() {
        let value = row.take(column).into_value();
        set.push(value.is_some());
        values.extend(value);
    }
    (set, values)
}

/// A message's text and HTML when, together, they are too large to be written with its row:
/// they are taken out of it (the row keeps an empty text and no HTML until they are written).
fn large_bodies(row: &mut message::ActiveModel) -> Option<(String, Option<String>)> {
    let len = |v: &sea_orm::ActiveValue<String>| v.try_as_ref().map_or(0, String::len);
    let html_len = row.html_body.try_as_ref().and_then(Option::as_ref).map_or(0, String::len);
    if len(&row.text_body) + html_len <= BYTES_PER_STATEMENT {
        return None;
    }
    let bodies = (row.text_body.take().unwrap_or_default(), row.html_body.take().flatten());
    (row.text_body, row.html_body) = (Set(String::new()), Set(None));
    Some(bodies)
}

/// About how many bytes a row's values bind.
fn weight(values: &[Value]) -> usize {
    values
        .iter()
        .map(|v| match v {
            Value::String(Some(s)) => s.len(),
            Value::Bytes(Some(b)) => b.len(),
            _ => 8,
        })
        .sum()
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
