//! The one path from raw bytes to committed cases, shared by every source. Messages come in
//! batches: one transaction per batch (one fsync), a savepoint per message so that one bad
//! message cannot spoil the others, and one duplicate look-up for the whole batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr};
use tracing::{Instrument, Span, debug, info, warn};

use super::{held, quarantine};
use crate::agents::{
    AgentMail, Ctx as AgentCtx, Directory, Event, Handled, Ledger, Notice, handle_agent_mail, queue_notifications,
};
use crate::cases::{self, Actor, Arrival, Companies, Door, Judge, NewCase, Standing};
use crate::config::{CompanyConfig, MailboxConfig, WhoMayOpen};
use crate::desk::Desk;
use crate::domain::{CaseNumber, Channel, EmailAddress};
use crate::mail::{ParsedMessage, parse};
use crate::outbound::loop_guard::{self, Automated};
use crate::outbound::{AckInput, MailError, NotMemberInput, ack_key, queue_ack, queue_not_member, recent_acks_each};
use crate::storage::entities::held_mail::Kind as HeldKind;
use crate::storage::entities::{agent, case, contact, message};
use crate::storage::{Tx, begin_write, is_unavailable};
use crate::threading::{self, Thread};

/// A message as a source hands it over.
pub struct Incoming<'a> {
    pub raw: &'a [u8],
    pub mailbox: &'a MailboxConfig,
    /// The server's receipt time (IMAP INTERNALDATE, Maildir file time, pipe arrival).
    pub received_at: DateTime<Utc>,
    /// Where it came from, for the log and the quarantine: a file name, a UID, `stdin`.
    pub source_ref: String,
    /// The whole message's size when `raw` is only its first part (a source that would not
    /// read a message over the size limit whole; IMAP's RFC822.SIZE).
    pub declared_size: Option<u64>,
    /// The whole message's SHA-256 (hex) when `raw` is only its first part, if known.
    pub declared_sha256: Option<String>,
    /// Released by an agent from held mail: it opens a case even when it is automated or its
    /// sender may not open cases.
    pub released: Option<Release>,
}

/// How an agent released a held message (`supportd held release`).
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// The company (slug) the case is for, whatever the sender's address says.
    pub company: Option<String>,
}

impl Incoming<'_> {
    /// The whole message's size, even when `raw` holds only its first part.
    pub fn full_size(&self) -> u64 {
        self.declared_size.unwrap_or(0).max(self.raw.len() as u64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Opened {
        case: CaseNumber,
        acknowledged: bool,
    },
    Appended {
        case: CaseNumber,
    },
    /// An agent's email, stored on its case; `what` came of it (relayed, a note, refused).
    FromAgent {
        case: CaseNumber,
        what: &'static str,
    },
    /// Stored before (same Message-ID and content); nothing was written.
    Duplicate,
    Quarantined {
        id: i64,
        reason: String,
    },
    /// Automated mail that threads to no case, kept for an agent to release or discard.
    Held {
        id: i64,
        kind: HeldKind,
        reason: String,
    },
}

/// The message stays at its source for the next pass.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("could not store the message (failure {attempts} of {QUARANTINE_AFTER}): {reason}")]
    Failed { attempts: i32, reason: String },
}

/// The same failure this many times sends a message to quarantine.
pub const QUARANTINE_AFTER: i32 = 3;

#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Ack(MailError),
    /// A bug met by this message's input: it fails this message, never the daemon.
    #[error("processing panicked: {0}")]
    Panic(String),
}

/// Runs one message's work, turning a panic into that message's failure. The savepoint
/// (or the whole first attempt) is rolled back by the caller, so nothing half-done is kept.
async fn guarded<T>(work: impl std::future::Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(StoreError::Panic(crate::mail::panic_text(panic.as_ref()))))
}

impl From<MailError> for StoreError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Database(db) => StoreError::Db(db),
            other => StoreError::Ack(other),
        }
    }
}

/// One message: a batch of one.
pub async fn ingest(desk: &Desk, inc: Incoming<'_>) -> Result<Outcome, IngestError> {
    ingest_batch(desk, std::slice::from_ref(&inc)).await.pop().expect("one result per message")
}

/// What repeats across a batch's messages, looked up once per batch. Entries are added only
/// after a message's savepoint commits, and the memo dies with its transaction.
struct BatchMemo {
    agents: Directory,
    companies: Companies,
    limits: Ledger,
    /// Stored contacts of the batch's senders (absent: none at the start of the batch).
    contacts: HashMap<EmailAddress, contact::Model>,
    /// Acknowledgements to each sender (`ack_key`) in the last hour, counting this batch's.
    /// Every sender of the batch has an entry.
    recent_acks: HashMap<String, u64>,
}

impl BatchMemo {
    /// The agents, and the contacts and recent acknowledgements of the batch's senders: a few
    /// queries for the batch instead of several per message. The batch's new customers (mail a
    /// person wrote, to a mailbox anyone may write to) get their contacts here, in one
    /// statement.
    async fn load(desk: &Desk, txn: &Tx, batch: &[Incoming<'_>], prepared: &[Prepared]) -> Result<BatchMemo, DbErr> {
        let now = desk.now();
        let mut senders: Vec<&EmailAddress> = prepared
            .iter()
            .filter_map(|p| match p {
                Prepared::Parsed(m, _, _) => Some(&m.from.address),
                Prepared::Quarantine(_) => None,
            })
            .collect();
        senders.sort();
        senders.dedup();
        let agents = Directory::load(txn).await?;
        let mut contacts = cases::contacts_by_email(txn, &senders).await?;
        let new = new_customers(desk, &agents, &contacts, batch, prepared);
        contacts.extend(cases::add_contacts(txn, &new, now).await?);
        Ok(BatchMemo {
            agents,
            companies: Companies::load(txn).await?,
            limits: Ledger::default(),
            contacts,
            recent_acks: recent_acks_each(txn, &senders, now).await?,
        })
    }

    /// What the agents' side needs, for one message.
    fn ctx<'a>(&'a self, desk: &'a Desk) -> AgentCtx<'a> {
        AgentCtx {
            config: &desk.config,
            templates: &desk.templates,
            agents: &self.agents,
            companies: &self.companies,
            limits: &self.limits,
            now: desk.now(),
        }
    }

    fn learn(&mut self, sender: &EmailAddress, learnt: Learnt) {
        self.limits.keep();
        if let Some((id, slug)) = learnt.company {
            self.companies.learn(id, &slug);
        }
        if let Some(n) = learnt.recent_acks {
            self.recent_acks.insert(ack_key(sender), n);
        }
        if let Some(contact) = learnt.contact {
            self.contacts.insert(sender.clone(), contact);
        }
    }
}

/// The senders of the batch with no contact yet whose mail will open or join a case for sure
/// enough to add them ahead: not an agent, not automated, to a mailbox anyone may write to,
/// each once with the name and company of their first message.
fn new_customers(
    desk: &Desk,
    agents: &Directory,
    known: &HashMap<EmailAddress, contact::Model>,
    batch: &[Incoming<'_>],
    prepared: &[Prepared],
) -> Vec<cases::NewContact> {
    let cfg = &desk.config;
    let mut seen = HashSet::new();
    let mut new = Vec::new();
    for (inc, p) in batch.iter().zip(prepared) {
        let Prepared::Parsed(msg, _, automated) = p else { continue };
        let sender = &msg.from.address;
        let anyone = inc.mailbox.who_may_open.unwrap_or(cfg.intake.who_may_open) == WhoMayOpen::Anyone;
        if !anyone
            || known.contains_key(sender)
            || agents.by_address(sender).is_some()
            || automated.is_some()
            || !seen.insert(sender.clone())
        {
            continue;
        }
        let company = cases::company_config_for(cfg, sender, inc.mailbox.default_company.as_deref(), false);
        let company_id = match company {
            Some(c) => match desk.company_ids.get(&c.slug) {
                Some(id) => Some(*id),
                // Not stored yet: the message's own path adds company and contact.
                None => continue,
            },
            None => None,
        };
        new.push((sender.clone(), msg.from.name.clone(), company_id));
    }
    new
}

/// What storing one message learnt, for the memo.
struct Learnt {
    /// The sender's company (id, slug), which may have been stored just now.
    company: Option<(i64, String)>,
    contact: Option<contact::Model>,
    recent_acks: Option<u64>,
}

/// What the checks before the transaction made of a message.
enum Prepared {
    /// The message, its log span, and what kind of automated mail it is (if it is).
    Parsed(Box<ParsedMessage>, Span, Option<Automated>),
    Quarantine(String),
}

/// Stores a batch in one transaction; one result per message, in order. Nothing is
/// committed for any message unless the whole batch commits, so a source may mark a
/// message processed exactly when its result is `Ok`.
pub async fn ingest_batch(desk: &Desk, batch: &[Incoming<'_>]) -> Vec<Result<Outcome, IngestError>> {
    let own = own_addresses(desk);
    let prepared: Vec<Prepared> = batch.iter().map(|inc| prepare(desk, &own, inc)).collect();
    match store_batch(desk, batch, &prepared).await {
        Ok(results) => {
            log_outcomes(&prepared, &results);
            results
        }
        Err(e) => {
            warn!(error = %e, messages = batch.len(), "database unavailable; the batch is left for the next pass");
            batch.iter().map(|_| Err(IngestError::Unavailable(e.to_string()))).collect()
        }
    }
}

fn prepare(desk: &Desk, own: &[EmailAddress], inc: &Incoming<'_>) -> Prepared {
    let limit = desk.config.intake.max_message_size;
    let size = inc.full_size();
    if size > limit {
        return Prepared::Quarantine(format!("over the size limit ({size} bytes > {limit})"));
    }
    match parse(inc.raw) {
        Err(e) => Prepared::Quarantine(e.to_string()),
        Ok(msg) => {
            let span = tracing::info_span!(
                "message",
                message_id = msg.message_id.as_deref().unwrap_or("-"),
                source = %inc.source_ref,
                case = tracing::field::Empty,
            );
            let automated = loop_guard::automated(&msg, own, &desk.config.intake.no_reply_patterns);
            Prepared::Parsed(Box::new(msg), span, automated)
        }
    }
}

/// Logged after the commit, so the log never claims what the database does not hold.
fn log_outcomes(prepared: &[Prepared], results: &[Result<Outcome, IngestError>]) {
    for (p, result) in prepared.iter().zip(results) {
        let Prepared::Parsed(_, span, _) = p else { continue };
        let _enter = span.enter();
        match result {
            Ok(Outcome::Opened { case, acknowledged }) => {
                span.record("case", case.to_string());
                info!(acknowledged, "opened case");
            }
            Ok(Outcome::Appended { case }) => {
                span.record("case", case.to_string());
                info!("added to case");
            }
            Ok(Outcome::FromAgent { case, what }) => {
                span.record("case", case.to_string());
                info!(what, "agent's email handled");
            }
            Ok(Outcome::Duplicate) => info!("duplicate of a stored message; skipped"),
            Ok(Outcome::Held { id, kind, reason }) => {
                info!(held_id = id, kind = kind.as_str(), %reason, "automated mail held: it threads to no case")
            }
            Ok(Outcome::Quarantined { id, reason }) => warn!(quarantine_id = id, %reason, "message quarantined"),
            Err(e) => warn!(error = %e, "left for the next pass"),
        }
    }
}

/// `Err` only when the database itself failed: then nothing of the batch is committed.
/// A batch first runs without savepoints (two statements fewer per message); if any message
/// fails, that attempt is rolled back and the batch runs again with a savepoint per message.
async fn store_batch(
    desk: &Desk,
    batch: &[Incoming<'_>],
    prepared: &[Prepared],
) -> Result<Vec<Result<Outcome, IngestError>>, DbErr> {
    match store_batch_with(desk, batch, prepared, false).await? {
        Some(results) => Ok(results),
        None => Ok(store_batch_with(desk, batch, prepared, true).await?.expect("the careful path always finishes")),
    }
}

/// `None` when not `careful` and a message failed: nothing was committed.
async fn store_batch_with(
    desk: &Desk,
    batch: &[Incoming<'_>],
    prepared: &[Prepared],
    careful: bool,
) -> Result<Option<Vec<Result<Outcome, IngestError>>>, DbErr> {
    let t0 = std::time::Instant::now();
    let txn = begin_write(&desk.db).await?;
    let mut seen = stored_keys(&txn, prepared).await?;
    let mut memo = BatchMemo::load(desk, &txn, batch, prepared).await?;
    let mut results = Vec::with_capacity(batch.len());
    for (inc, p) in batch.iter().zip(prepared) {
        let result = match p {
            Prepared::Quarantine(reason) => quarantine_in(&txn, desk, inc, reason.clone(), None).await?,
            Prepared::Parsed(msg, _, _) if !seen.insert(msg.dedup_key.clone()) => Ok(Outcome::Duplicate),
            Prepared::Parsed(msg, span, automated) if careful => {
                one_message(&txn, desk, inc, msg, automated.as_ref(), &mut memo).instrument(span.clone()).await?
            }
            Prepared::Parsed(msg, span, automated) => {
                match guarded(store(&txn, desk, inc, msg, automated.as_ref(), &memo)).instrument(span.clone()).await {
                    Ok((outcome, learnt)) => {
                        memo.learn(&msg.from.address, learnt);
                        Ok(outcome)
                    }
                    Err(StoreError::Db(e)) if is_unavailable(&e) => return Err(e),
                    Err(e) => {
                        debug!(error = %e, "a message failed; the batch runs again with a savepoint per message");
                        return Ok(None);
                    }
                }
            }
        };
        results.push(result);
    }
    // The staged rows (messages, events, mail) are written here: a failure among them is a
    // failure of some message, found by the careful run.
    match txn.flush().await {
        Err(e) if is_unavailable(&e) => return Err(e),
        Err(e) => {
            debug!(error = %e, "writing the batch's rows failed; the batch runs again with a savepoint per message");
            return Ok(None);
        }
        Ok(()) => {}
    }
    txn.commit().await?;
    debug!(elapsed = ?t0.elapsed(), messages = batch.len(), careful, "batch committed");
    Ok(Some(results))
}

/// Which of the batch's messages are stored already: one query for the whole batch.
async fn stored_keys(txn: &Tx, prepared: &[Prepared]) -> Result<HashSet<String>, DbErr> {
    let keys: Vec<&str> = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::Parsed(m, _, _) => Some(m.dedup_key.as_str()),
            Prepared::Quarantine(_) => None,
        })
        .collect();
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<Option<String>> = message::Entity::find()
        .select_only()
        .column(message::Column::DedupKey)
        .filter(message::Column::DedupKey.is_in(keys))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Stores one message inside its own savepoint. A failure of this message rolls back only
/// its savepoint and is counted; three failures quarantine it. `Err` means the database is
/// gone, for the whole batch.
async fn one_message(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    automated: Option<&Automated>,
    memo: &mut BatchMemo,
) -> Result<Result<Outcome, IngestError>, DbErr> {
    let mut attempt = 0;
    let error = loop {
        attempt += 1;
        let savepoint = txn.savepoint().await?;
        let stored = guarded(async {
            let stored = store(&savepoint, desk, inc, msg, automated, memo).await?;
            savepoint.flush().await?;
            Ok::<_, StoreError>(stored)
        });
        match stored.await {
            Ok((outcome, learnt)) => {
                savepoint.commit().await?;
                memo.learn(&msg.from.address, learnt);
                return Ok(Ok(outcome));
            }
            Err(e) => {
                savepoint.rollback().await?;
                memo.limits.forget();
                match &e {
                    StoreError::Db(db) if is_unavailable(db) => return Err(DbErr::Custom(db.to_string())),
                    // Another process stored the same message first (PostgreSQL).
                    StoreError::Db(db) if is_unique_violation(db) && db.to_string().contains("dedup") => {
                        return Ok(Ok(Outcome::Duplicate));
                    }
                    // A race on another unique key (two processes adding one contact): retry.
                    StoreError::Db(db) if is_unique_violation(db) && attempt < 3 => continue,
                    _ => break e,
                }
            }
        }
    };
    let reason = error.to_string();
    let attempts = quarantine::count_failure(txn, &msg.dedup_key, &reason, desk.now()).await?;
    warn!(error = %reason, attempts, "could not store the message");
    if attempts >= QUARANTINE_AFTER {
        let reason = format!("failed {attempts} times: {reason}");
        return quarantine_in(txn, desk, inc, reason, Some(&msg.dedup_key)).await;
    }
    Ok(Err(IngestError::Failed { attempts, reason }))
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Keeps the message with the reason; `failure_key` is the counter of repeated failures to
/// clear, when that is why.
async fn quarantine_in(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    reason: String,
    failure_key: Option<&str>,
) -> Result<Result<Outcome, IngestError>, DbErr> {
    let outcome = keep_in_quarantine(txn, desk, inc, reason).await?;
    if let Some(key) = failure_key {
        quarantine::forget_failures(txn, key).await?;
    }
    Ok(Ok(outcome))
}

async fn keep_in_quarantine(txn: &Tx, desk: &Desk, inc: &Incoming<'_>, reason: String) -> Result<Outcome, DbErr> {
    // The reason may quote a header (a From with a NUL), and PostgreSQL text holds no NUL.
    let reason = reason.replace('\0', "");
    let id = quarantine::keep(txn, &desk.config.intake, inc, &reason, desk.now()).await?;
    Ok(Outcome::Quarantined { id, reason })
}

async fn store(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    automated: Option<&Automated>,
    memo: &BatchMemo,
) -> Result<(Outcome, Learnt), StoreError> {
    let cfg = &desk.config;
    let now = desk.now();
    let sender = &msg.from.address;
    test_trigger(msg);
    let own = own_addresses(desk);
    // Read once, before the transaction (`prepare`).
    let automated = automated.cloned();
    let no_ack = automated.as_ref().map(|a| a.reason.clone());
    if let Some(agent) = memo.agents.by_address(sender) {
        let outcome = from_agent(txn, desk, inc, msg, memo, agent, no_ack.as_deref()).await?;
        return Ok((outcome, Learnt { company: None, contact: None, recent_acks: None }));
    }
    let known = memo.contacts.get(sender).cloned();
    let tag = &cfg.intake.case_tag;
    let judge = Judge {
        config: cfg,
        agents: &memo.agents,
        companies: &memo.companies,
        sender_contact: known.as_ref().map(|c| c.id),
    };
    let mut thread = threading::resolve(txn, &judge, msg, automated.is_some()).await?;
    if let Thread::Existing { case, .. } = &thread {
        let window = cfg.intake.reopen_window_days;
        if cases::closed_too_long(case, window, now) {
            let because = format!("reply to case {} closed more than {window} days ago", tag.render(case.number));
            thread = Thread::New { because: Some(because), linked: Some(case.id) };
        }
    }
    // Automated mail that threads to no case opens none: it is held for an agent to review.
    if let (Thread::New { because, .. }, Some(why), None) = (&thread, &automated, &inc.released) {
        let because = because.as_ref().map_or(String::new(), |b| format!(" ({b})"));
        let why = Automated { kind: why.kind, reason: format!("{}; it threads to no case{because}", why.reason) };
        let outcome = held::hold(txn, inc, msg, &why, now).await?;
        return Ok((outcome, Learnt { company: None, contact: None, recent_acks: None }));
    }
    // So is a new case from someone who may not open one; they are told, politely.
    let mut chosen_company = inc.released.as_ref().and_then(|r| r.company.clone());
    if let (Thread::New { .. }, None) = (&thread, &inc.released) {
        match cases::door(txn, cfg, inc.mailbox, sender).await? {
            Door::Open { member_of } => chosen_company = member_of.map(|c| c.slug.clone()),
            Door::Closed { reason, company } => {
                let outcome = not_member(txn, desk, inc, msg, reason, company).await?;
                return Ok((outcome, Learnt { company: None, contact: None, recent_acks: None }));
            }
        }
    }
    let fallback = chosen_company.as_deref().or(inc.mailbox.default_company.as_deref());
    let company = cases::company_for_sender(txn, desk, sender, fallback, chosen_company.is_some(), now).await?;
    let company_id = company.as_ref().map(|(id, _)| *id);
    let contact = cases::settle_contact(txn, known, sender, msg.from.name.as_deref(), company_id, now).await?;
    let mut recent_acks = None;
    let actor = Actor::Customer(sender.clone());
    let outcome = match thread {
        Thread::Existing { case, standing: Standing::Crm } => crm_note(txn, desk, inc, msg, memo, &case).await?,
        Thread::Existing { case, standing } => {
            let on_case = OnCase { case: &case, by_party: standing.is_party(), automated };
            follow_up(txn, desk, inc, msg, memo, on_case).await?
        }
        Thread::New { because, linked } => {
            let (choice, summary) = cases::read_choice(&threading::clean_subject(&msg.subject, tag), &msg.text_body);
            let new = NewCase {
                mailbox: &inc.mailbox.name,
                channel: Channel::Email,
                company_id,
                contact_id: contact.id,
                summary: if summary.is_empty() { "(no subject)".into() } else { summary },
                case_type: choice.case_type.unwrap_or(inc.mailbox.default_type),
                severity: choice.severity.unwrap_or(inc.mailbox.default_severity),
                received_at: inc.received_at,
                opened_because: because,
                linked_case_id: linked,
                actor,
            };
            let case = cases::open_case(txn, cfg, new, now).await?;
            // A `[[route]]` may give the case to an agent as it opens.
            let routed_company = company.as_ref().map(|(_, c)| c);
            let case = cases::assign_by_route(txn, cfg, &memo.agents, &case, routed_company, now).await?;
            // Automated mail is never acknowledged; otherwise the ack may be refused (the
            // hourly limit, an address mail cannot be sent to), which the case records.
            let refused = match &no_ack {
                Some(_) => None,
                None => {
                    // `BatchMemo::load` counted every sender of the batch.
                    let recent = memo.recent_acks.get(&ack_key(sender)).copied().unwrap_or_default();
                    let company = company.as_ref().map(|(_, c)| c);
                    let input = AckInput { case: &case, msg, mailbox: inc.mailbox, company, choice: &choice };
                    let refused = queue_ack(txn, cfg, &desk.templates, input, recent, now).await?;
                    recent_acks = Some(recent + u64::from(refused.is_none()));
                    refused
                }
            };
            if let Some(why) = &refused {
                cases::record_event(txn, case.id, now, &Actor::System, "ack_skipped", (None, None), Some(why.clone()));
            }
            let reason = no_ack.or_else(|| refused.clone());
            let acknowledged = reason.is_none();
            // Mail from our own addresses (a notification come back) must not notify again.
            if !own.contains(sender) {
                let ack_problem = refused.as_deref();
                let notice = Notice {
                    event: Event::NewCase,
                    case: &case,
                    msg,
                    mailbox: inc.mailbox,
                    ack_problem,
                    undelivered: None,
                };
                queue_notifications(txn, &memo.ctx(desk), notice).await?;
            }
            cases::store_message(txn, case.id, msg, arrival(inc), reason, true).await?;
            Outcome::Opened { case: case.number, acknowledged }
        }
    };
    let company = company.map(|(id, c)| (id, c.slug));
    Ok((outcome, Learnt { company, contact: Some(contact), recent_acks }))
}

/// Holds a new case's first message from someone who may not open cases, and tells them
/// (once a day at most) who may, and whom to ask.
async fn not_member(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    reason: String,
    company: Option<&CompanyConfig>,
) -> Result<Outcome, StoreError> {
    let why = Automated { kind: HeldKind::NotMember, reason };
    let outcome = held::hold(txn, inc, msg, &why, desk.now()).await?;
    if matches!(outcome, Outcome::Held { .. }) {
        let input = NotMemberInput { msg, mailbox: inc.mailbox, company };
        if let Some(why) = queue_not_member(txn, &desk.config, &desk.templates, input, desk.now()).await? {
            info!(reason = %why, "no reply to a sender who may not open cases");
        }
    }
    Ok(outcome)
}

/// A message that joins an existing case, and what it is.
struct OnCase<'a> {
    case: &'a case::Model,
    /// False for a report about our own mail from a stranger's server: it adds no one.
    by_party: bool,
    /// Why it is automated mail (an out-of-office, a bounce), which changes nothing.
    automated: Option<Automated>,
}

/// A customer-side message on its case: stored, the case moved on, the agents told (the
/// case's company and notes, not the sender's).
async fn follow_up(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    memo: &BatchMemo,
    on: OnCase<'_>,
) -> Result<Outcome, StoreError> {
    let (cfg, now, case) = (&desk.config, desk.now(), on.case);
    let actor = Actor::Customer(msg.from.address.clone());
    let reason = on.automated.as_ref().map(|a| a.reason.clone());
    cases::append_message(txn, cfg, case, &actor, reason.as_deref(), inc.received_at, now).await?;
    cases::store_message(txn, case.id, msg, arrival(inc), reason, on.by_party).await?;
    // Automated mail changes nothing and tells no one, except that mail we sent bounced.
    let (event, undelivered) = match &on.automated {
        None => (Event::FollowUp, None),
        Some(a) if a.kind == HeldKind::Bounce => {
            let what = msg.delivery_status.as_deref().unwrap_or("see the bounce below");
            (Event::Undelivered, Some(what))
        }
        Some(_) => return Ok(Outcome::Appended { case: case.number }),
    };
    let notice = Notice { event, case, msg, mailbox: inc.mailbox, ack_problem: None, undelivered };
    queue_notifications(txn, &memo.ctx(desk), notice).await?;
    Ok(Outcome::Appended { case: case.number })
}

/// The company's CRM writing on a case (a reply to an alert or a report): an internal note
/// for the assigned agent (all agents when unassigned). No new case, no acknowledgement.
async fn crm_note(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    memo: &BatchMemo,
    case: &case::Model,
) -> Result<Outcome, StoreError> {
    let now = desk.now();
    cases::store_crm_note(txn, case.id, msg, arrival(inc));
    let actor = Actor::Customer(msg.from.address.clone());
    cases::record_event(txn, case.id, now, &actor, "crm_note", (None, None), None);
    let notice =
        Notice { event: Event::CrmNote, case, msg, mailbox: inc.mailbox, ack_problem: None, undelivered: None };
    queue_notifications(txn, &memo.ctx(desk), notice).await?;
    Ok(Outcome::Appended { case: case.number })
}

fn arrival<'a>(inc: &'a Incoming<'_>) -> Arrival<'a> {
    Arrival { raw: inc.raw, mailbox: &inc.mailbox.name, received_at: inc.received_at }
}

/// An email from an agent's address: see `agents::handle_agent_mail`. One that names no
/// case is quarantined (kept, visible, re-processable) and the agent is told.
async fn from_agent(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    memo: &BatchMemo,
    agent: &agent::Model,
    automated: Option<&str>,
) -> Result<Outcome, StoreError> {
    let ctx = memo.ctx(desk);
    let mail = AgentMail { msg, arrival: arrival(inc), mailbox: inc.mailbox, agent, automated };
    Ok(match handle_agent_mail(txn, &ctx, mail).await? {
        Handled::OnCase { case, what } => Outcome::FromAgent { case, what },
        Handled::NoCase(reason) => keep_in_quarantine(txn, desk, inc, reason).await?,
    })
}

/// Never answer ourselves: every support address and the outbound sender.
fn own_addresses(desk: &Desk) -> Vec<EmailAddress> {
    let cfg = &desk.config;
    cfg.mailboxes.iter().map(|m| m.address.clone()).chain(std::iter::once(cfg.outbound.from.clone())).collect()
}

/// Debug builds only: a message whose subject contains `$SUPPORTD_TEST_PANIC_ON` panics here,
/// so that the integration tests can show a panic fails one message and not the daemon.
fn test_trigger(msg: &ParsedMessage) {
    #[cfg(debug_assertions)]
    if let Ok(needle) = std::env::var("SUPPORTD_TEST_PANIC_ON")
        && !needle.is_empty()
        && msg.subject.contains(&needle)
    {
        panic!("test trigger {needle:?} in the subject");
    }
    #[cfg(not(debug_assertions))]
    let _ = msg;
}
