//! An email from an agent's address: checked against the verification policy, its commands
//! applied all together or not at all, and its text relayed to the customer (or kept as an
//! internal note). Runs inside the ingest transaction, so the case change, the stored
//! message and the outgoing mail commit together.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::limit::Ledger;
use super::regrade::{Regrade, queue_regrade};
use super::relay::{Refusal, Relay, ToCustomer, queue_refusal, queue_relay};
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
    mut c: case::Model,
    plan: Plan<'_>,
    actor: &Actor,
) -> Result<&'static str, MailError> {
    let (config, now) = (ctx.config, ctx.now);
    let mut was = None;
    if let Some(class) = plan.classification {
        let reclassified = cases::reclassify(txn, config, &c, class, actor, now).await?;
        was = Some(std::mem::replace(&mut c, reclassified));
    }
    for change in plan.fields {
        c = set_field(txn, &c, change, actor, now).await?;
    }
    for (minutes, rate) in plan.time {
        cases::add_time(txn, config, &c, mail.agent, minutes, rate, now).await?;
    }
    let resolving = plan.status == Some(Status::Resolved) && c.status != Status::Resolved;
    if let Some(status) = plan.status.filter(|s| *s != c.status) {
        c = cases::set_status(txn, config, &c, status, actor, now).await?;
    }
    teams::deescalate(txn, plan.deescalate, &c, actor, now).await?;
    for (target, reason) in &plan.escalate {
        let e = Escalation {
            case: &c,
            target: *target,
            reason: reason.as_deref(),
            by: mail.agent,
            actor,
            support: &mail.mailbox.address,
        };
        teams::escalate(txn, ctx, e).await?;
    }
    let solution = c.solution.clone().filter(|_| resolving);
    let public = !plan.note && (!plan.text.is_empty() || solution.is_some());
    let regrade = was.as_ref().and_then(|was| Regrade::of(was, &c));
    let regraded = regrade.as_ref().map(|r| r.line(config, ctx.companies.of(config, &c))).unwrap_or_default();
    let mut relayed = false;
    if public {
        let what = match &solution {
            Some(solution) => ToCustomer::Resolution { text: &plan.text, solution },
            None => ToCustomer::Reply { text: &plan.text },
        };
        let relay = Relay {
            case: &c,
            agent: mail.agent,
            support: &mail.mailbox.address,
            what,
            regraded: &regraded,
            attachments: &mail.msg.attachments,
        };
        relayed = queue_relay(txn, ctx, relay).await?;
        if relayed {
            record_response(txn, &c, actor, mail.arrival.received_at).await?;
        }
    }
    // The promise of the acknowledgement: told once, in the reply when one went, else apart.
    let told = match &regrade {
        Some(regrade) if !relayed => queue_regrade(txn, ctx, regrade, &mail.mailbox.address).await?,
        _ => false,
    };
    let what = match (relayed, plan.note) {
        (false, _) if told => "commands applied; the customer is told of the re-grade",
        (true, _) if solution.is_some() => "resolution sent to the customer",
        (true, _) => "reply relayed to the customer",
        (false, true) => "internal note",
        (false, false) if public => "no customer address that mail can be sent to; kept as a note",
        (false, false) if !plan.escalate.is_empty() => "escalated; nothing was sent to the customer",
        (false, false) => "commands applied; nothing to relay",
    };
    let mark = AgentMark { agent_id: mail.agent.id, internal: !relayed, flag: None };
    cases::store_agent_message(txn, c.id, mail.msg, mail.arrival, mark);
    record_event(txn, c.id, now, actor, "agent_reply", (None, None), Some(what.to_owned()));
    Ok(what)
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
