//! Requests that reach the desk by another channel than email (a phone call, a chat, a web
//! form), opened or logged by an agent on the command line: the same door as mail
//! (`new_case::open`: numbering, SLA, routing, notifications and, when asked, the
//! acknowledgement).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::IntakeError;
use super::new_case::{self, Ack, Request};
use crate::agents::{AgentMail, Ctx, Directory, Ledger, apply_commands};
use crate::cases::{self, Actor, AgentMark, Arrival, Choice, Companies, NewCase};
use crate::config::{Config, MailboxConfig};
use crate::desk::Desk;
use crate::domain::{CaseNumber, CaseType, Channel, EmailAddress, Severity, WorkTime};
use crate::mail::{ParsedMessage, Party};
use crate::outbound::{MailError, new_message_id, recent_acks_each};
use crate::storage::begin_write;
use crate::storage::entities::{agent, case};

#[derive(Debug, thiserror::Error)]
pub enum ByHandError {
    #[error("no [[company]] has slug {0:?}")]
    NoCompany(String),
    #[error("--as {0}: {1}")]
    NoAgent(String, String),
    #[error("no case {0}")]
    NoCase(CaseNumber),
    #[error("nothing was applied: {}", .0.join("; "))]
    Refused(Vec<String>),
    #[error("no mailbox is configured, and a case needs one (its address answers the customer)")]
    NoMailbox,
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<IntakeError> for ByHandError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Db(db) => ByHandError::Database(db),
            IntakeError::Mail(mail) => ByHandError::Mail(mail),
        }
    }
}

/// A request an agent opens a case for.
pub struct Interaction<'a> {
    pub channel: Channel,
    pub company: &'a str,
    pub contact: &'a EmailAddress,
    pub name: Option<&'a str>,
    pub summary: &'a str,
    pub case_type: Option<CaseType>,
    pub severity: Option<Severity>,
    pub body: &'a str,
    /// When the customer called or wrote: the SLA clock starts here.
    pub received_at: DateTime<Utc>,
    /// Acknowledge by email too (a caller usually needs no email).
    pub ack: bool,
    /// The agent who took it (a name or an address).
    pub by: Option<&'a str>,
}

pub async fn open_by_hand(desk: &Desk, i: Interaction<'_>) -> Result<CaseNumber, ByHandError> {
    let (cfg, now) = (&desk.config, desk.now());
    let company_cfg = cfg.company(i.company).ok_or_else(|| ByHandError::NoCompany(i.company.to_owned()))?;
    let mailbox = cfg.mailboxes.first().ok_or(ByHandError::NoMailbox)?;
    let txn = begin_write(&desk.db).await?;
    let agents = Directory::load(&txn, cfg.intake.local_part_case).await?;
    let by = match i.by {
        Some(who) => Some(agents.named(who).map_err(|e| ByHandError::NoAgent(who.to_owned(), e))?.clone()),
        None => None,
    };
    let company = cases::company_for_sender(&txn, desk, Some(i.contact), Some(&company_cfg.slug), true, now).await?;
    let company_id = company.as_ref().map(|(id, _)| *id);
    let known = cases::contacts_by_email(&txn, &[i.contact]).await?.remove(i.contact);
    let contact = cases::settle_contact(&txn, known, i.contact, i.name, company_id, now).await?;
    let party = Party { name: i.name.map(str::to_owned), address: i.contact.clone() };
    let message_id = new_message_id(i.channel.as_str(), None, mailbox.address.domain());
    let msg = ParsedMessage::by_hand(party, i.summary, i.body, message_id);
    let actor = by.as_ref().and_then(|a| a.email.parse().ok()).map_or(Actor::System, Actor::Agent);
    let new = NewCase {
        mailbox: &mailbox.name,
        channel: i.channel,
        company_id,
        contact_id: contact.id,
        summary: msg.subject.clone(),
        case_type: i.case_type.unwrap_or(mailbox.default_type),
        severity: i.severity.unwrap_or(mailbox.default_severity),
        received_at: i.received_at,
        opened_because: Some(format!("opened by hand from a {} request", i.channel)),
        linked_case_id: None,
        actor,
    };
    let ack = match i.ack {
        true => {
            // An agent opened it for the contact: no stranger's flood.
            let recent = recent_acks_each(&txn, &[i.contact], now).await?.into_values().next().unwrap_or(0);
            Ack::Send { recent, stranger: false }
        }
        false => Ack::NotAsked,
    };
    let chosen_by =
        by.as_ref().map_or_else(|| "Our support team".to_owned(), |a| format!("{} of our support team", a.name));
    let choice =
        Choice { severity: i.severity, case_type: i.case_type, invalid: Vec::new(), chosen_by: Some(chosen_by) };
    let request = Request {
        new,
        msg: &msg,
        arrival: Arrival { raw: i.body.as_bytes(), mailbox: &mailbox.name, received_at: i.received_at },
        mailbox,
        company: company.as_ref().map(|(_, c)| c),
        choice: &choice,
        ack,
        notify: true,
        taken_by: by.as_ref(),
        cc: crate::cases::CcRule::All,
    };
    let (companies, limits) = (Companies::load(&txn).await?, Ledger::default());
    let ctx =
        Ctx { config: cfg, templates: &desk.templates, agents: &agents, companies: &companies, limits: &limits, now };
    let (case, _) = new_case::open(&txn, &ctx, request).await?;
    txn.commit().await?;
    Ok(case.number)
}

/// A call or chat on a case, logged by the agent who had it: kept on the case (never sent),
/// a first response when the case had none, and with `minutes` a time entry.
pub struct Logged<'a> {
    pub number: CaseNumber,
    pub channel: Channel,
    pub by: &'a str,
    pub text: &'a str,
    pub minutes: Option<WorkTime>,
    pub rate: crate::agents::Rate,
}

pub async fn log_interaction(desk: &Desk, l: Logged<'_>) -> Result<(), ByHandError> {
    let (cfg, now) = (&desk.config, desk.now());
    let txn = begin_write(&desk.db).await?;
    let agents = Directory::load(&txn, cfg.intake.local_part_case).await?;
    let subject = format!("A {} with the customer", l.channel.exchange());
    let written = Written { by: l.by, number: l.number, kind: l.channel.as_str(), subject: &subject, text: l.text };
    let OnCase { agent, case: c, mailbox, msg } = on_case(&txn, cfg, &agents, written).await?;
    let arrival = Arrival { raw: l.text.as_bytes(), mailbox: &mailbox.name, received_at: now };
    let flag = Some(format!("a {} logged by {}", l.channel.exchange(), agent.name));
    cases::store_agent_message(&txn, c.id, &msg, arrival, AgentMark { agent_id: agent.id, internal: false, flag });
    let actor = Actor::Agent(msg.from.address.clone());
    cases::record_event(&txn, c.id, now, &actor, "interaction", (None, Some(l.channel.to_string())), None);
    // Talking to the customer answers them, as a relayed reply does.
    cases::record_response(&txn, &c, &actor, now).await?;
    if let Some(minutes) = l.minutes {
        cases::add_time(&txn, cfg, &c, &agent, minutes.minutes(), l.rate, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// `supportd cases update`: `#commands` from the command line (`commands` is their text, one
/// per line), applied as the agent's reply carrying them would be. What it did, for the agent.
pub async fn update_by_hand(
    desk: &Desk,
    number: CaseNumber,
    by: &str,
    commands: &str,
) -> Result<&'static str, ByHandError> {
    let (cfg, now) = (&desk.config, desk.now());
    let txn = begin_write(&desk.db).await?;
    let agents = Directory::load(&txn, cfg.intake.local_part_case).await?;
    let written = Written { by, number, kind: "update", subject: "cases update", text: commands };
    let OnCase { agent, case: c, mailbox, msg } = on_case(&txn, cfg, &agents, written).await?;
    let arrival = Arrival { raw: commands.as_bytes(), mailbox: &mailbox.name, received_at: now };
    let companies = Companies::load(&txn).await?;
    let limits = Ledger::default();
    let ctx =
        Ctx { config: cfg, templates: &desk.templates, agents: &agents, companies: &companies, limits: &limits, now };
    let mail = AgentMail { msg: &msg, arrival, mailbox, agent: &agent, automated: None };
    let what = apply_commands(&txn, &ctx, mail, c, commands).await?.map_err(ByHandError::Refused)?;
    txn.commit().await?;
    Ok(what)
}

/// What an agent did on a case, written down as a message of the case.
struct Written<'a> {
    /// The agent (a name or an address).
    by: &'a str,
    number: CaseNumber,
    /// Names the message in its Message-ID.
    kind: &'a str,
    subject: &'a str,
    text: &'a str,
}

struct OnCase<'c> {
    agent: agent::Model,
    case: case::Model,
    mailbox: &'c MailboxConfig,
    msg: ParsedMessage,
}

/// The agent, the case and its mailbox that `w` names, and `w` as the agent's message.
async fn on_case<'c>(
    txn: &crate::storage::Tx,
    cfg: &'c Config,
    agents: &Directory,
    w: Written<'_>,
) -> Result<OnCase<'c>, ByHandError> {
    let agent = agents.named(w.by).map_err(|e| ByHandError::NoAgent(w.by.to_owned(), e))?.clone();
    let c = case::Entity::find()
        .filter(case::Column::Number.eq(w.number))
        .one(txn)
        .await?
        .ok_or(ByHandError::NoCase(w.number))?;
    let address: EmailAddress =
        agent.email.parse().map_err(|_| ByHandError::NoAgent(w.by.to_owned(), "no address".into()))?;
    let mailbox = cfg.mailbox(&c.mailbox).or(cfg.mailboxes.first()).ok_or(ByHandError::NoMailbox)?;
    let message_id = new_message_id(w.kind, Some(c.number), mailbox.address.domain());
    let party = Party { name: Some(agent.name.clone()), address };
    let msg = ParsedMessage::by_hand(party, w.subject, w.text, message_id);
    Ok(OnCase { agent, case: c, mailbox, msg })
}
