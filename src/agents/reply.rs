//! An email from an agent's address: checked against the verification policy, its commands
//! applied all together or not at all, and its text relayed to the customer (or kept as an
//! internal note). Runs inside the ingest transaction, so the case change, the stored
//! message and the outgoing mail commit together.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::limit::Ledger;
use super::regrade::{Carrier, Regrade, queue_regrade};
use super::relay::{Refusal, Relay, ToCustomer, hold_back_relay, queue_refusal, queue_relay, relay_limit_reached};
use super::{Assignee, Command, Commands, Directory, Rate, parse_commands, verify};
use crate::cases::{
    self, Actor, AgentMark, Arrival, Classification, Companies, FieldChange, record_event, record_response, set_field,
};
use crate::config::{Config, MailboxConfig};
use crate::domain::{CaseNumber, Status};
use crate::mail::ParsedMessage;
use crate::outbound::MailError;
use crate::storage::Tx;
use crate::storage::entities::{agent, case, escalation};
use crate::teams::{self, Escalation, Target};
use crate::templates::Templates;

pub struct AgentMail<'a> {
    pub msg: &'a ParsedMessage,
    pub arrival: Arrival<'a>,
    pub mailbox: &'a MailboxConfig,
    pub agent: &'a agent::Model,
    /// Why the message is automated (an out-of-office), if it is: kept, never acted on.
    pub automated: Option<&'a str>,
}

#[derive(Debug)]
pub enum Handled {
    /// Stored on the case; `what` says what came of it, for the log.
    OnCase { case: CaseNumber, what: &'static str },
    /// Names no case; the caller quarantines it with this reason.
    NoCase(String),
}

/// What the desk needs to handle agents' mail.
pub struct Ctx<'a> {
    pub config: &'a Config,
    pub templates: &'a Templates,
    pub agents: &'a Directory,
    pub companies: &'a Companies,
    /// The hourly mail limit's view of this batch (`limit`).
    pub limits: &'a Ledger,
    pub now: DateTime<Utc>,
}

const NOTHING_DONE: &str = "Nothing was applied and nothing was sent to the customer.";

pub async fn handle_agent_mail(txn: &Tx, ctx: &Ctx<'_>, mail: AgentMail<'_>) -> Result<Handled, MailError> {
    let (config, msg, agent) = (ctx.config, mail.msg, mail.agent);
    let support = &mail.mailbox.address;
    let Some(case) = crate::threading::case_for_agent(txn, &config.intake.case_tag, msg).await? else {
        if mail.automated.is_none() {
            let problems =
                vec!["it names no case: keep the case tag in the subject, or reply to a notification".into()];
            let r = Refusal {
                case: None,
                agent,
                subject: &msg.subject,
                problems,
                outcome: "Nothing was applied.",
                support,
            };
            queue_refusal(txn, ctx, r).await?;
        }
        return Ok(Handled::NoCase(format!("from agent {} but names no case", agent.email)));
    };
    let number = case.number;
    let actor = Actor::Agent(msg.from.address.clone());
    if let Some(reason) = mail.automated {
        keep_note(txn, &case, &mail, Some(format!("automated: {reason}")));
        return Ok(Handled::OnCase { case: number, what: "automated mail from an agent kept as a note" });
    }
    if let Err(why) = verify(&config.agent_desk, agent.token.as_deref(), msg) {
        keep_note(txn, &case, &mail, Some(format!("unverified: {why}")));
        record_event(txn, case.id, ctx.now, &actor, "unverified_reply", (None, None), Some(why.to_string()));
        let problems = vec![format!("it could not be verified as yours: {}", why.to_sender())];
        let outcome = "Nothing was applied and nothing was sent to the customer. If you did not write it, \
                       someone else is writing with your address.";
        let r = Refusal { case: Some(&case), agent, subject: &msg.subject, problems, outcome, support };
        queue_refusal(txn, ctx, r).await?;
        return Ok(Handled::OnCase { case: number, what: "unverified agent reply kept as a note" });
    }
    let text = crate::threading::new_text(&msg.text_body, Some(&config.agent_desk.reply_marker));
    let cmds = parse_commands(text);
    let escalated = escalations_if_asked(txn, &cmds, case.id).await?;
    let plan = match plan(cmds, ctx, agent, &case, &escalated) {
        Ok(plan) => plan,
        Err(problems) => {
            keep_note(txn, &case, &mail, Some("commands rejected".into()));
            record_event(txn, case.id, ctx.now, &actor, "commands_rejected", (None, None), Some(problems.join("; ")));
            let r =
                Refusal { case: Some(&case), agent, subject: &msg.subject, problems, outcome: NOTHING_DONE, support };
            queue_refusal(txn, ctx, r).await?;
            return Ok(Handled::OnCase { case: number, what: "commands rejected; nothing applied" });
        }
    };
    apply(txn, ctx, &mail, case, plan, &actor).await.map(|what| Handled::OnCase { case: number, what })
}

/// Every command checked against the case and the agents before any is applied.
struct Plan<'a> {
    classification: Option<Classification>,
    fields: Vec<FieldChange<'a>>,
    time: Vec<(u32, Rate)>,
    status: Option<Status>,
    /// Teams to escalate to, each with the agent's reason.
    escalate: Vec<(Target<'a>, Option<String>)>,
    /// Current escalations `#deescalate` ends.
    deescalate: Vec<escalation::Model>,
    note: bool,
    text: String,
}

fn plan<'a>(
    cmds: Commands,
    ctx: &Ctx<'a>,
    me: &'a agent::Model,
    c: &case::Model,
    escalated: &[escalation::Model],
) -> Result<Plan<'a>, Vec<String>> {
    let mut problems = cmds.problems;
    let current = Classification { severity: c.severity, case_type: c.case_type, client_config: c.client_config };
    let mut class = current;
    let mut plan = Plan {
        classification: None,
        fields: Vec::new(),
        time: Vec::new(),
        status: None,
        escalate: Vec::new(),
        deescalate: Vec::new(),
        note: false,
        text: cmds.text,
    };
    // The case's company once the reply's `#company` is applied: `#escalate account` goes
    // to that company's CRM.
    let mut company = ctx.companies.of(ctx.config, c);
    let (mut escalate, mut deescalate) = (Vec::new(), Vec::new());
    for command in cmds.commands {
        match command {
            Command::Status(s) => plan.status = Some(s),
            Command::Severity(s) => class.severity = s,
            Command::Type(t) => class.case_type = t,
            Command::ClientConfig(on) => class.client_config = on,
            Command::Priority(p) => plan.fields.push(FieldChange::Priority(p)),
            Command::Category(text) => plan.fields.push(FieldChange::Category(known_category(ctx.config, text))),
            Command::Company(name) => match company_change(ctx, c, &name) {
                Ok(change) => {
                    if let FieldChange::Company { slug, .. } = &change {
                        company = ctx.config.company(slug);
                    }
                    plan.fields.push(change)
                }
                Err(why) => problems.push(format!("#company {name}: {why}")),
            },
            Command::Solution(text) => plan.fields.push(FieldChange::Solution(text)),
            Command::Assign(Assignee::Me) => plan.fields.push(FieldChange::Assignee(me)),
            Command::Assign(Assignee::Named(who)) => match ctx.agents.named(&who) {
                Ok(a) => plan.fields.push(FieldChange::Assignee(a)),
                Err(why) => problems.push(format!("#assign {who}: {why}")),
            },
            Command::Time { minutes, rate } => plan.time.push((minutes, rate)),
            Command::Note => plan.note = true,
            Command::Escalate { team, reason } => escalate.push((team, reason)),
            Command::Deescalate(team) => deescalate.push(team),
        }
    }
    let asked = teams::Asked { escalate, deescalate };
    let planned = teams::plan(ctx.config, company, escalated, asked, &mut problems);
    (plan.escalate, plan.deescalate) = (planned.escalate, planned.end);
    plan.classification = (class != current).then_some(class);
    if problems.is_empty() { Ok(plan) } else { Err(problems) }
}

/// The case's current escalations, read only when a command is about them: most replies
/// are not, and need no query.
async fn escalations_if_asked(txn: &Tx, cmds: &Commands, case_id: i64) -> Result<Vec<escalation::Model>, DbErr> {
    let asked = cmds.commands.iter().any(|c| matches!(c, Command::Escalate { .. } | Command::Deescalate(_)));
    if asked { teams::current(txn, case_id).await } else { Ok(Vec::new()) }
}

/// `#company acme` (a slug, or the name in any letter case).
fn company_change(ctx: &Ctx<'_>, c: &case::Model, name: &str) -> Result<FieldChange<'static>, String> {
    let companies = &ctx.config.companies;
    let found = companies.iter().find(|co| co.slug == name || co.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
        let slugs: Vec<&str> = companies.iter().map(|co| co.slug.as_str()).collect();
        format!("no [[company]] has that slug or name (known: {})", slugs.join(", "))
    })?;
    let id = ctx.companies.id_of(&found.slug).ok_or("the company is not stored yet; try again")?;
    let was = ctx.companies.of(ctx.config, c).map(|co| co.slug.clone());
    Ok(FieldChange::Company { id, slug: found.slug.clone(), was })
}

/// A category that matches a configured one but for case is written the configured way.
fn known_category(config: &Config, text: String) -> String {
    config.intake.error_categories.iter().find(|k| k.eq_ignore_ascii_case(&text)).cloned().unwrap_or(text)
}

async fn apply(
    txn: &Tx,
    ctx: &Ctx<'_>,
    mail: &AgentMail<'_>,
    c: case::Model,
    mut plan: Plan<'_>,
    actor: &Actor,
) -> Result<&'static str, MailError> {
    let changed = change_case(txn, ctx, mail, c, &mut plan, actor).await?;
    let told = tell_customer(txn, ctx, mail, &changed, &plan, actor).await?;
    let what = told.what(&plan);
    let c = &changed.case;
    let relayed = matches!(told, Told::Relayed { .. });
    let flag = match told {
        Told::HeldBack(why) => Some(why),
        _ => None,
    };
    let mark = AgentMark { agent_id: mail.agent.id, internal: !relayed, flag };
    cases::store_agent_message(txn, c.id, mail.msg, mail.arrival, mark);
    record_event(txn, c.id, ctx.now, actor, "agent_reply", (None, None), Some(what.to_owned()));
    Ok(what)
}

/// The case once a reply's commands are applied.
struct Changed {
    case: case::Model,
    /// The case before its re-classification, if the reply re-classified it.
    was: Option<case::Model>,
    /// The reply resolved the case (it was not resolved before).
    resolving: bool,
}

/// Applies the plan's changes to the case, in the order the commands depend on: the
/// classification, then the fields, time, status, and escalations.
async fn change_case(
    txn: &Tx,
    ctx: &Ctx<'_>,
    mail: &AgentMail<'_>,
    mut c: case::Model,
    plan: &mut Plan<'_>,
    actor: &Actor,
) -> Result<Changed, MailError> {
    let (config, now) = (ctx.config, ctx.now);
    let mut was = None;
    if let Some(class) = plan.classification {
        let reclassified = cases::reclassify(txn, config, &c, class, actor, now).await?;
        was = Some(std::mem::replace(&mut c, reclassified));
    }
    for change in std::mem::take(&mut plan.fields) {
        c = set_field(txn, &c, change, actor, now).await?;
    }
    for (minutes, rate) in std::mem::take(&mut plan.time) {
        cases::add_time(txn, config, &c, mail.agent, minutes, rate, now).await?;
    }
    let resolving = plan.status == Some(Status::Resolved) && c.status != Status::Resolved;
    if let Some(status) = plan.status.filter(|s| *s != c.status) {
        c = cases::set_status(txn, config, &c, status, actor, now).await?;
    }
    teams::deescalate(txn, std::mem::take(&mut plan.deescalate), &c, actor, now).await?;
    for (target, reason) in &plan.escalate {
        let by = mail.agent;
        let support = &mail.mailbox.address;
        let e = Escalation { case: &c, target: *target, reason: reason.as_deref(), by, actor, support };
        teams::escalate(txn, ctx, e).await?;
    }
    Ok(Changed { case: c, was, resolving })
}

/// What of the reply reached the customer.
enum Told {
    /// The reply, or the resolution notice, with the re-grade's line if there was one.
    Relayed {
        resolution: bool,
    },
    /// Only the re-grade notice: the reply had nothing for her.
    Regrade,
    /// The reply had words for her, but she has no address mail can be sent to.
    NoAddress,
    /// The reply had words for her, but the case's hourly relay limit held it back: why.
    HeldBack(String),
    Nothing,
}

impl Told {
    /// For the log, the event and `cases update`'s output.
    fn what(&self, plan: &Plan<'_>) -> &'static str {
        match self {
            Told::Regrade => "commands applied; the customer is told of the re-grade",
            Told::Relayed { resolution: true } => "resolution sent to the customer",
            Told::Relayed { resolution: false } => "reply relayed to the customer",
            Told::HeldBack(_) => "held back by the case's hourly relay limit; kept as a note",
            _ if plan.note => "internal note",
            Told::NoAddress => "no customer address that mail can be sent to; kept as a note",
            Told::Nothing if !plan.escalate.is_empty() => "escalated; nothing was sent to the customer",
            Told::Nothing => "commands applied; nothing to relay",
        }
    }
}

/// Relays the reply (recorded as the first response once queued) and tells of a re-grade:
/// once, as a line of the relay when one goes, else in a notice of its own. The line is
/// worded for what the customer is owed once she reads it, so a relay that is itself the
/// first response promises none.
async fn tell_customer(
    txn: &Tx,
    ctx: &Ctx<'_>,
    mail: &AgentMail<'_>,
    changed: &Changed,
    plan: &Plan<'_>,
    actor: &Actor,
) -> Result<Told, MailError> {
    let c = &changed.case;
    let solution = c.solution.as_deref().filter(|_| changed.resolving);
    let regrade = changed.was.as_ref().and_then(|was| Regrade::of(was, c));
    let public = !plan.note && (!plan.text.is_empty() || solution.is_some());
    if public && let Some(why) = relay_limit_reached(txn, ctx, c).await? {
        let (agent, support, subject) = (mail.agent, &mail.mailbox.address, &mail.msg.subject);
        let problems = vec![format!("it was not sent to the customer: {why}")];
        let outcome = "Any commands in it were applied; its text is kept on the case as a note. Later replies \
                       this hour are kept the same way, without another email like this one.";
        let r = Refusal { case: Some(c), agent, subject, problems, outcome, support };
        hold_back_relay(txn, ctx, r, &why).await?;
        return Ok(Told::HeldBack(why));
    }
    if public {
        let company = ctx.companies.of(ctx.config, c);
        let regraded =
            regrade.as_ref().map(|r| r.line(ctx.config, company, Carrier::Relay, ctx.now)).unwrap_or_default();
        let what = match solution {
            Some(solution) => ToCustomer::Resolution { text: &plan.text, solution },
            None => ToCustomer::Reply { text: &plan.text },
        };
        let (agent, support, attachments) = (mail.agent, &mail.mailbox.address, &mail.msg.attachments);
        let relay = Relay { case: c, agent, support, what, regraded: &regraded, attachments };
        if queue_relay(txn, ctx, relay).await? {
            record_response(txn, c, actor, mail.arrival.received_at).await?;
            return Ok(Told::Relayed { resolution: solution.is_some() });
        }
    }
    match &regrade {
        Some(regrade) if queue_regrade(txn, ctx, regrade, &mail.mailbox.address).await? => Ok(Told::Regrade),
        _ if public => Ok(Told::NoAddress),
        _ => Ok(Told::Nothing),
    }
}

/// `#commands` given another way than by email (`supportd cases update`): the same parsing,
/// validation, events and mail to the customer as a reply carrying them; `mail` is the
/// agent's change written down as a message of the case. `Err` lists what was refused, and
/// then nothing was applied.
pub async fn apply_commands(
    txn: &Tx,
    ctx: &Ctx<'_>,
    mail: AgentMail<'_>,
    c: case::Model,
    commands: &str,
) -> Result<Result<&'static str, Vec<String>>, MailError> {
    let cmds = parse_commands(commands);
    let escalated = escalations_if_asked(txn, &cmds, c.id).await?;
    let plan = match plan(cmds, ctx, mail.agent, &c, &escalated) {
        Ok(plan) => plan,
        Err(problems) => return Ok(Err(problems)),
    };
    let actor = Actor::Agent(mail.msg.from.address.clone());
    Ok(Ok(apply(txn, ctx, &mail, c, plan, &actor).await?))
}

fn keep_note(txn: &Tx, c: &case::Model, mail: &AgentMail<'_>, flag: Option<String>) {
    let mark = AgentMark { agent_id: mail.agent.id, internal: true, flag };
    cases::store_agent_message(txn, c.id, mail.msg, mail.arrival, mark);
}
