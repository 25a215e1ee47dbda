//! The one path from raw bytes to committed cases, shared by every source. Messages come in
//! batches: one transaction per batch (one fsync), a savepoint per message so that one bad
//! message cannot spoil the others, and one duplicate look-up for the whole batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr};
use tracing::{Instrument, Span, debug, info, warn};

use super::quarantine;
use crate::agents::{AgentMail, Ctx as AgentCtx, Directory, Handled, Ledger, handle_agent_mail};
use crate::cases::intake::{self, IntakeError, Learnt, Release};
use crate::cases::{self, Arrival, Companies};
use crate::config::{MailboxConfig, WhoMayOpen};
use crate::desk::Desk;
use crate::domain::{CaseNumber, EmailAddress};
use crate::mail::{ParsedMessage, parse};
use crate::outbound::loop_guard::{self, Automated};
use crate::outbound::{MailError, ack_key, recent_acks_each};
use crate::storage::entities::held_mail::Kind as HeldKind;
use crate::storage::entities::{agent, contact, message};
use crate::storage::{Tx, begin_write, is_unavailable};
use crate::teams::{TeamMail, Teams, handle_team_mail};

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
    /// Mail from a team a case was escalated to, kept on its case as an internal note.
    FromTeam {
        case: CaseNumber,
        what: &'static str,
    },
    /// Stored before (same Message-ID and content); nothing was written.
    Duplicate,
    Quarantined {
        id: i64,
        reason: String,
    },
    /// A company's report, sent to its CRM or CSM who asked for it by `#report`.
    ReportSent {
        company: String,
        period: String,
        /// Whom it was queued to: the request's sender.
        to: String,
    },
    /// A company's CRM answering a report or budget mail: passed on to the agents, no case.
    CrmNote {
        company: String,
    },
    /// Mail that opens no case (automated mail threading to none, a person who may not open
    /// one), kept for an agent to release or discard.
    Held {
        id: i64,
        kind: HeldKind,
        reason: String,
    },
}

impl Outcome {
    /// As `/metrics` labels it.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Opened { .. } => "opened",
            Outcome::Appended { .. } => "appended",
            Outcome::FromAgent { .. } => "from_agent",
            Outcome::FromTeam { .. } => "from_team",
            Outcome::Duplicate => "duplicate",
            Outcome::Quarantined { .. } => "quarantined",
            Outcome::ReportSent { .. } => "report_sent",
            Outcome::CrmNote { .. } => "crm_note",
            Outcome::Held { .. } => "held",
        }
    }
}

impl From<intake::Outcome> for Outcome {
    fn from(o: intake::Outcome) -> Self {
        match o {
            intake::Outcome::Opened { case, acknowledged } => Outcome::Opened { case, acknowledged },
            intake::Outcome::Appended { case } => Outcome::Appended { case },
            intake::Outcome::Held { id, kind, reason } => Outcome::Held { id, kind, reason },
            intake::Outcome::HeldBefore => Outcome::Duplicate,
        }
    }
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
    /// A `#report` request could not be answered.
    #[error(transparent)]
    Report(crate::reports::ReportError),
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
        .unwrap_or_else(|panic| Err(StoreError::Panic(crate::panics::message_of(panic.as_ref()))))
}

impl From<crate::reports::ReportError> for StoreError {
    fn from(e: crate::reports::ReportError) -> Self {
        use crate::reports::ReportError as R;
        match e {
            R::Database(db) | R::Mail(MailError::Database(db)) => StoreError::Db(db),
            other => StoreError::Report(other),
        }
    }
}

impl From<IntakeError> for StoreError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Db(db) => StoreError::Db(db),
            IntakeError::Mail(mail) => StoreError::Ack(mail),
        }
    }
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
    teams: Teams,
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
        let agents = Directory::load(txn, desk.config.intake.local_part_case).await?;
        let mut contacts = cases::contacts_by_email(txn, &senders).await?;
        let new = new_customers(desk, &agents, &contacts, batch, prepared);
        contacts.extend(cases::add_contacts(txn, &new, now).await?);
        Ok(BatchMemo {
            agents,
            teams: Teams::load(txn, &desk.config).await?,
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
        // Mail whose From is in doubt takes its own path (a stranger's, with no company).
        let Some(sender) = msg.trusted_from() else { continue };
        let anyone = inc.mailbox.who_may_open.unwrap_or(cfg.intake.who_may_open) == WhoMayOpen::Anyone;
        if !anyone
            || known.contains_key(sender)
            || agents.by_address(sender).is_some()
            || cfg.teams.iter().any(|t| t.speaks_for(sender, cfg.intake.local_part_case))
            || automated.is_some()
            || !seen.insert(sender.clone())
        {
            continue;
        }
        let company = cases::company_config_for(cfg, Some(sender), inc.mailbox.default_company.as_deref(), false);
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
    let own = desk.config.own_addresses();
    let mut prepared: Vec<Prepared> = batch.iter().map(|inc| prepare(desk, &own, inc)).collect();
    match store_batch(desk, &own, batch, &mut prepared).await {
        Ok(results) => {
            log_outcomes(&prepared, &results);
            count_outcomes(desk, batch, &results);
            results
        }
        Err(e) => {
            warn!(error = %e, messages = batch.len(), "database unavailable; the batch is left for the next pass");
            let failed: Vec<_> = batch.iter().map(|_| Err(IngestError::Unavailable(e.to_string()))).collect();
            count_outcomes(desk, batch, &failed);
            failed
        }
    }
}

/// For `/metrics`, after the commit: each message's outcome, and how long it waited.
fn count_outcomes(desk: &Desk, batch: &[Incoming<'_>], results: &[Result<Outcome, IngestError>]) {
    let m = crate::metrics::metrics();
    let now = desk.now();
    for (inc, result) in batch.iter().zip(results) {
        m.count_ingested(&inc.mailbox.name, result.as_ref().map_or("failed", Outcome::name));
        if result.is_ok() {
            m.ingest_lag.observe((now - inc.received_at).num_milliseconds().max(0) as f64 / 1000.0);
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
            Ok(Outcome::FromTeam { case, what }) => {
                span.record("case", case.to_string());
                info!(what, "a team's email handled");
            }
            Ok(Outcome::Duplicate) => info!("duplicate of a stored message; skipped"),
            Ok(Outcome::ReportSent { company, period, to }) => info!(%company, %period, %to, "report sent on request"),
            Ok(Outcome::CrmNote { company }) => info!(%company, "a CRM's reply passed on to the agents"),
            Ok(Outcome::Held { id, kind, reason }) => {
                info!(held_id = id, kind = kind.as_str(), %reason, "mail held for an agent: it opens no case")
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
    own: &[EmailAddress],
    batch: &[Incoming<'_>],
    prepared: &mut Vec<Prepared>,
) -> Result<Vec<Result<Outcome, IngestError>>, DbErr> {
    match store_batch_with(desk, batch, prepared, false).await? {
        Some(results) => Ok(results),
        None => {
            // The first run may have let go of the bodies (see `let_go_of_bodies`): parsed
            // again, from the raw bytes the batch still holds.
            *prepared = batch.iter().map(|inc| prepare(desk, own, inc)).collect();
            Ok(store_batch_with(desk, batch, prepared, true).await?.expect("the careful path always finishes"))
        }
    }
}

/// The staged rows hold their own copies of each message's text, HTML and attachments; the
/// parsed ones are let go of before the rows are written, when the driver and the database
/// make their copies: a 24 MB body is held that much less at the peak.
fn let_go_of_bodies(prepared: &mut [Prepared]) {
    for p in prepared {
        if let Prepared::Parsed(msg, _, _) = p {
            msg.text_body = String::new();
            msg.html_body = None;
            msg.attachments = Vec::new();
        }
    }
}

/// `None` when not `careful` and a message failed: nothing was committed.
async fn store_batch_with(
    desk: &Desk,
    batch: &[Incoming<'_>],
    prepared: &mut [Prepared],
    careful: bool,
) -> Result<Option<Vec<Result<Outcome, IngestError>>>, DbErr> {
    let t0 = std::time::Instant::now();
    let txn = begin_write(&desk.db).await?;
    let mut seen = stored_keys(&txn, prepared).await?;
    let mut memo = BatchMemo::load(desk, &txn, batch, prepared).await?;
    let mut results = Vec::with_capacity(batch.len());
    for (inc, p) in batch.iter().zip(prepared.iter()) {
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
    if !careful {
        let_go_of_bodies(prepared);
    }
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

/// One message: a `#report` request goes to `reports`, an agent's mail to `agents`, a
/// team's to `teams`, anyone else's through the cases service's door.
async fn store(
    txn: &Tx,
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    automated: Option<&Automated>,
    memo: &BatchMemo,
) -> Result<(Outcome, Learnt), StoreError> {
    let sender = &msg.from.address;
    test_trigger(msg);
    let email = intake::Email {
        msg,
        arrival: arrival(inc),
        mailbox: inc.mailbox,
        source_ref: &inc.source_ref,
        automated,
        released: inc.released.as_ref(),
        contact: memo.contacts.get(sender).cloned(),
        // `BatchMemo::load` counted every sender of the batch.
        recent_acks: memo.recent_acks.get(&ack_key(sender)).copied().unwrap_or_default(),
    };
    // The trust decisions: who the sender is (an agent, a team, a CRM) is read only from a
    // From that can be believed; any other mail is a stranger's (`ParsedMessage::from_doubt`).
    let agent = msg.trusted_from().and_then(|s| memo.agents.by_address(s));
    if let Some(request) = report_request_in(desk, inc, msg, automated, agent.is_some()) {
        return Ok((report_request(txn, desk, &email, request).await?, Learnt::default()));
    }
    if agent.is_none()
        && automated.is_none()
        && inc.released.is_none()
        && let Some(outcome) = crm_reply(txn, desk, &email).await?
    {
        return Ok((outcome, Learnt::default()));
    }
    if let Some(agent) = agent {
        let outcome = from_agent(txn, desk, inc, msg, memo, agent, automated.map(|a| a.reason.as_str())).await?;
        return Ok((outcome, Learnt::default()));
    }
    if let Some(team) = memo.teams.of_mail(msg) {
        let mail = TeamMail {
            msg,
            arrival: arrival(inc),
            mailbox: inc.mailbox,
            team,
            automated: automated.map(|a| a.reason.as_str()),
        };
        let outcome = match handle_team_mail(txn, &memo.ctx(desk), mail).await? {
            Handled::OnCase { case, what } => Outcome::FromTeam { case, what },
            Handled::NoCase(reason) => keep_in_quarantine(txn, desk, inc, reason).await?,
        };
        return Ok((outcome, Learnt::default()));
    }
    let (outcome, learnt) = intake::email(txn, desk, &memo.ctx(desk), email).await?;
    Ok((outcome.into(), learnt))
}

/// The `#report` request the message is, if it is one: a first line a company's CRM or CSM
/// wrote (an agent too may be one), or a well-formed `#report` line from anyone else but an
/// agent (refused and held; an agent's goes to `agents`, which answers it). A customer's
/// "#report is broken" is an ordinary message; automated mail and a release from held mail
/// are never requests.
fn report_request_in(
    desk: &Desk,
    inc: &Incoming<'_>,
    msg: &ParsedMessage,
    automated: Option<&Automated>,
    agent: bool,
) -> Option<Result<crate::reports::request::Request, String>> {
    use crate::reports::request::{is_reporter, parse};
    if automated.is_some() || inc.released.is_some() {
        return None;
    }
    let reporter = msg.trusted_from().is_some_and(|s| is_reporter(&desk.config, s));
    parse(&msg.text_body).filter(|r| reporter || (r.is_ok() && !agent))
}

/// A `#report` request: the report goes to the CRM who asked, or nothing does and the
/// request is held with the reason.
async fn report_request(
    txn: &Tx,
    desk: &Desk,
    email: &intake::Email<'_>,
    request: Result<crate::reports::request::Request, String>,
) -> Result<Outcome, StoreError> {
    use crate::reports::request::{Answer, answer, log_refusal};
    match answer(txn, desk, email.msg, request, desk.now()).await? {
        Answer::Sent { company, period } => {
            Ok(Outcome::ReportSent { company, period: period.key(), to: email.msg.from.address.to_string() })
        }
        Answer::AnsweredBefore => Ok(Outcome::Duplicate),
        Answer::Refused(why) => {
            log_refusal(&email.msg.from.address, &why);
            let held = Automated { kind: HeldKind::ReportRequest, reason: why };
            Ok(intake::hold(txn, email, &held, desk.now()).await?.into())
        }
        // The company's own CRM or CSM, writing so that it cannot be verified: held, and told
        // how to ask (once a day), in the transaction that holds it.
        Answer::Unverified { why, company, example } => {
            log_refusal(&email.msg.from.address, &why);
            let held = Automated { kind: HeldKind::ReportRequest, reason: why };
            let outcome = intake::hold(txn, email, &held, desk.now()).await?;
            if let intake::Outcome::Held { id, .. } = outcome {
                use crate::reports::howto::{Howto, queue_howto};
                let (msg, support) = (email.msg, &email.mailbox.address);
                let with = (&*desk.config, &*desk.templates);
                if let Howto::HeldBack(why) =
                    queue_howto(txn, with, msg, support, &company, example, desk.now()).await?
                {
                    intake::add_to_reason(txn, id, &format!("the how-to was {why}")).await?;
                }
            }
            Ok(outcome.into())
        }
    }
}

/// A company's CRM or CSM answering mail the desk sent them that names no case (a report, a
/// budget email): a note for the agents (`reports::crm_reply`), or held when it cannot be
/// verified; never a case.
async fn crm_reply(txn: &Tx, desk: &Desk, email: &intake::Email<'_>) -> Result<Option<Outcome>, StoreError> {
    use crate::reports::crm_reply::{CrmMail, classify, pass_on};
    let msg = email.msg;
    if !msg.trusted_from().is_some_and(|s| crate::reports::request::is_reporter(&desk.config, s)) {
        return Ok(None);
    }
    // A reply on a case (an alert, an account escalation's brief) belongs to the case.
    if crate::threading::case_for_agent(txn, &desk.config.intake.case_tag, msg).await?.is_some() {
        return Ok(None);
    }
    match classify(txn, &desk.config, msg, false).await? {
        None => Ok(None),
        Some(CrmMail::Note(company)) => {
            Ok(Some(match pass_on(txn, desk, msg, &email.mailbox.address, &company, desk.now()).await? {
                true => Outcome::CrmNote { company: company.slug },
                false => Outcome::Duplicate,
            }))
        }
        Some(CrmMail::Unverified { why }) => {
            crate::reports::request::log_refusal(&msg.from.address, &why);
            let held = Automated { kind: HeldKind::ReportRequest, reason: why };
            Ok(Some(intake::hold(txn, email, &held, desk.now()).await?.into()))
        }
    }
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
