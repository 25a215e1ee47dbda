//! An email from the customer's side (anyone who is not an agent), step by step: which case
//! it threads to, whether it is held (automated mail that threads to none, a sender who may
//! not open cases), the sender's company and contact, then a new case, a follow-up, or the
//! CRM's note.

use chrono::{DateTime, Utc};

use super::copied;
use super::held::{hold, not_member};
use super::new_case::{self, Ack, Request};
use super::on_case::{self, OnCase};
use super::{IntakeError, Outcome};
use crate::agents::Ctx;
use crate::cases::{self, Actor, Arrival, CcRule, Door, Judge, NewCase, Standing};
use crate::config::MailboxConfig;
use crate::desk::Desk;
use crate::domain::{CaseNumber, Channel};
use crate::mail::ParsedMessage;
use crate::outbound::loop_guard::Automated;
use crate::storage::Tx;
use crate::storage::entities::contact;
use crate::threading::{self, Thread};

/// An email as intake needs it, with what the batch already knows of its sender.
pub struct Email<'a> {
    pub msg: &'a ParsedMessage,
    pub arrival: Arrival<'a>,
    pub mailbox: &'a MailboxConfig,
    /// Where the source keeps it (a file name, an IMAP UID), for a held message.
    pub source_ref: &'a str,
    /// What kind of automated mail it is, when it is (`loop_guard::automated`).
    pub automated: Option<&'a Automated>,
    /// Set when an agent releases held mail: it is not held again.
    pub released: Option<&'a Release>,
    /// The sender's stored contact, when they have one.
    pub contact: Option<contact::Model>,
    /// Acknowledgements to the sender in the last hour.
    pub recent_acks: u64,
}

/// An agent's release of held mail (`supportd held release`).
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// The case is this company's (a slug), whatever the sender's address says.
    pub company: Option<String>,
    /// The message joins this existing case instead (`--to-case`); it opens none.
    pub to_case: Option<CaseNumber>,
    /// The agent vouches for the sender: they become a party of that case even though it
    /// is another company's (`--make-party`).
    pub make_party: bool,
}

/// What intake learnt of the sender, for the batch's memo.
#[derive(Debug, Default)]
pub struct Learnt {
    /// The sender's company (id, slug), which may have been stored just now.
    pub company: Option<(i64, String)>,
    pub contact: Option<contact::Model>,
    /// Acknowledgements to the sender in the last hour, now.
    pub recent_acks: Option<u64>,
}

pub async fn email(txn: &Tx, desk: &Desk, ctx: &Ctx<'_>, e: Email<'_>) -> Result<(Outcome, Learnt), IntakeError> {
    let (cfg, now, sender) = (&desk.config, desk.now(), &e.msg.from.address);
    let added_to = e.released.and_then(|r| r.to_case.map(|n| (n, r.make_party)));
    let thread = match added_to {
        Some((number, vouched)) => super::to_case::named_case(txn, ctx, &e, number, vouched).await?,
        None => thread_of(txn, ctx, &e, now).await?,
    };
    // Automated mail that threads to no case opens none: it is held for an agent to review.
    if let (Thread::New { because, .. }, Some(why), None) = (&thread, e.automated, e.released) {
        let because = because.as_ref().map_or(String::new(), |b| format!(" ({b})"));
        let why = Automated { kind: why.kind, reason: format!("{}; it threads to no case{because}", why.reason) };
        return Ok((hold(txn, &e, &why, now).await?, Learnt::default()));
    }
    // So is a new case from someone who may not open one; they are told, politely.
    let mut chosen_company = e.released.and_then(|r| r.company.clone());
    // Whom the ack of a new case may go to unasked: a key member named by their own address,
    // or a sender an agent vouched for by releasing the mail; anyone else is a stranger
    // (`strangers`), a member only by `*@domain` too (a forger writes any address there).
    let mut stranger = false;
    if let (Thread::New { .. }, None) = (&thread, e.released) {
        match cases::door(txn, cfg, e.mailbox, sender, e.msg.from_doubt.as_deref()).await? {
            Door::Open { member_of } => chosen_company = member_of.map(|c| c.slug.clone()),
            Door::Closed { reason, company } => {
                return Ok((not_member(txn, desk, &e, reason, company).await?, Learnt::default()));
            }
        }
        stranger = e.msg.from_doubt.is_some() || !cases::named_member(txn, cfg, sender).await?;
    }
    let fallback = chosen_company.as_deref().or(e.mailbox.default_company.as_deref());
    // A sender whose From is in doubt is of no company by address (a stranger's).
    let trusted = e.msg.trusted_from();
    let company = cases::company_for_sender(txn, desk, trusted, fallback, chosen_company.is_some(), now).await?;
    let company_id = company.as_ref().map(|(id, _)| *id);
    let known = e.contact.clone();
    let contact = cases::settle_contact(txn, known, sender, e.msg.from.name.as_deref(), company_id, now).await?;
    let mut recent_acks = None;
    let outcome = match thread {
        Thread::Existing { case, standing: Standing::Crm } => on_case::crm_note(txn, ctx, &e, &case).await?,
        Thread::Existing { case, standing } => {
            let cc = match (standing.is_party(), added_to) {
                // Vouched for by the case's own company only (a key member of another is
                // no more than a colleague here).
                (true, None) => {
                    let company = ctx.companies.of(cfg, &case);
                    copied::rule(company.is_none() || standing == Standing::KeyMember, company)
                }
                _ => CcRule::None,
            };
            let on = OnCase { case: &case, cc, automated: e.automated };
            on_case::follow_up(txn, ctx, &e, on).await?
        }
        Thread::New { because, linked } => {
            let tag = &cfg.intake.case_tag;
            let cc = new_case_cc(txn, cfg, &e, company.as_ref()).await?;
            let (choice, summary) =
                cases::read_choice(&threading::clean_subject(&e.msg.subject, tag), &e.msg.text_body);
            let new = NewCase {
                mailbox: &e.mailbox.name,
                channel: Channel::Email,
                company_id,
                contact_id: contact.id,
                summary: if summary.is_empty() { "(no subject)".into() } else { summary },
                case_type: choice.case_type.unwrap_or(e.mailbox.default_type),
                severity: choice.severity.unwrap_or(e.mailbox.default_severity),
                received_at: e.arrival.received_at,
                opened_because: with_doubt(because, e.msg.from_doubt.as_deref()),
                linked_case_id: linked,
                actor: Actor::Customer(sender.clone()),
            };
            // Automated mail (released by an agent) is never acknowledged.
            let ack = match e.automated {
                Some(a) => Ack::Never(a.reason.clone()),
                None => Ack::Send { recent: e.recent_acks, stranger },
            };
            let sent_ack = matches!(ack, Ack::Send { .. });
            let request = Request {
                new,
                msg: e.msg,
                arrival: e.arrival,
                mailbox: e.mailbox,
                company: company.as_ref().map(|(_, c)| c),
                choice: &choice,
                ack,
                notify: !cfg.own_addresses().contains(sender),
                taken_by: None,
                cc,
            };
            let (case, acknowledged) = new_case::open(txn, ctx, request).await?;
            if sent_ack {
                recent_acks = Some(e.recent_acks + u64::from(acknowledged));
            }
            Outcome::Opened { case: case.number, acknowledged }
        }
    };
    let company = company.map(|(id, c)| (id, c.slug));
    Ok((outcome, Learnt { company, contact: Some(contact), recent_acks }))
}

/// Whom of a new case's Cc's it takes in: none when its From is in doubt; everyone when an
/// agent released it (vouching for the sender) or the sender is a key member of the case's
/// company by address; else only the company's own people (`copied`).
async fn new_case_cc(
    txn: &Tx,
    cfg: &crate::config::Config,
    e: &Email<'_>,
    company: Option<&(i64, crate::config::CompanyConfig)>,
) -> Result<CcRule, IntakeError> {
    if e.msg.from_doubt.is_some() {
        return Ok(CcRule::None);
    }
    let vouched = match company {
        _ if e.released.is_some() => true,
        Some((id, c)) => cases::named_member_of(txn, cfg, c, *id, &e.msg.from.address).await?,
        None => true,
    };
    Ok(copied::rule(vouched, company.map(|(_, c)| c)))
}

/// Why the case was opened as it was, with why its sender is a stranger when its From is
/// in doubt: the agents see both on the case.
fn with_doubt(because: Option<String>, doubt: Option<&str>) -> Option<String> {
    let Some(doubt) = doubt else { return because };
    let doubt = format!("its sender is handled as a stranger: {doubt}");
    Some(match because {
        Some(because) => format!("{because}; {doubt}"),
        None => doubt,
    })
}

/// The case the mail threads to; a reply to a case closed too long ago opens a new one,
/// linked to it.
async fn thread_of(txn: &Tx, ctx: &Ctx<'_>, e: &Email<'_>, now: DateTime<Utc>) -> Result<Thread, IntakeError> {
    let cfg = ctx.config;
    let judge = Judge {
        config: cfg,
        agents: ctx.agents,
        companies: ctx.companies,
        sender_contact: e.contact.as_ref().map(|c| c.id),
    };
    let thread = threading::resolve(txn, &judge, e.msg, e.automated.is_some()).await?;
    if let Thread::Existing { case, .. } = &thread {
        let window = cfg.intake.reopen_window_days;
        if cases::closed_too_long(case, window, now) {
            let because =
                format!("reply to case {} closed more than {window} days ago", cfg.intake.case_tag.render(case.number));
            return Ok(Thread::New { because: Some(because), linked: Some(case.id) });
        }
    }
    Ok(thread)
}
