//! Mail from a team: its answer on a case it was escalated to becomes an internal note for
//! the assigned agent (all agents when unassigned), never relayed to the customer, and
//! `#return [text]` on its first line ends the escalation. Mail that cannot be shown to be
//! the team's, or that is about a case never escalated to it, is kept and changes nothing.

use sea_orm::{DbErr, EntityTrait};

use super::{ACCOUNT, Team, record};
use crate::agents::{Ctx, Event, Handled, Notice, queue_notifications, verify};
use crate::cases::{self, Actor, Arrival, record_event};
use crate::config::MailboxConfig;
use crate::mail::ParsedMessage;
use crate::outbound::MailError;
use crate::storage::Tx;
use crate::storage::entities::{case, company, escalation};

pub struct TeamMail<'a> {
    pub msg: &'a ParsedMessage,
    pub arrival: Arrival<'a>,
    pub mailbox: &'a MailboxConfig,
    pub team: &'a Team,
    /// Why the message is automated (an out-of-office), if it is: kept, never acted on.
    pub automated: Option<&'a str>,
}

pub async fn handle_team_mail(txn: &Tx, ctx: &Ctx<'_>, mail: TeamMail<'_>) -> Result<Handled, MailError> {
    let (config, msg, team) = (ctx.config, mail.msg, &mail.team.config);
    let Some(case) = crate::threading::case_for_agent(txn, &config.intake.case_tag, msg).await? else {
        return Ok(Handled::NoCase(format!("from the {} team but names no case", team.name)));
    };
    let number = case.number;
    let keep = |flag: String| cases::store_team_note(txn, case.id, msg, mail.arrival, flag);
    if let Some(reason) = mail.automated {
        keep(format!("automated mail from {}: {reason}", team.in_sentence()));
        return Ok(Handled::OnCase { case: number, what: "automated mail from a team kept as a note" });
    }
    let actor = Actor::Team(msg.from.address.clone());
    // As for agents: the team's token in the address replied to, and/or the receiving
    // server's Authentication-Results, as `[agents] verify` says.
    if let Err(why) = verify(&config.agent_desk, Some(&mail.team.token), msg) {
        keep(format!("unverified mail claiming to be from {}: {why}", team.in_sentence()));
        record_event(txn, case.id, ctx.now, &actor, "unverified_team_reply", (None, None), Some(why.to_string()));
        return Ok(Handled::OnCase { case: number, what: "unverified team reply kept as a note" });
    }
    let all = record::of_case(txn, case.id, &[]).await?;
    if !all.iter().any(|e| e.team == team.name) {
        keep(format!("from {}, which this case was never escalated to", team.in_sentence()));
        return Ok(Handled::OnCase { case: number, what: "team mail on a case not escalated to it kept as a note" });
    }
    keep(format!("an answer from {}", team.in_sentence()));
    record_event(txn, case.id, ctx.now, &actor, "team_answer", (None, None), Some(team.name.clone()));
    let text = crate::threading::new_text(&msg.text_body, Some(&config.agent_desk.reply_marker));
    let mut what = "team answer kept as an internal note";
    if let Some(note) = returned(text) {
        let open = record::current(txn, case.id).await?.into_iter().find(|e| e.team == team.name);
        if let Some(open) = open {
            end(txn, ctx, case.id, open, &actor, note).await?;
            what = "team returned the case";
        }
    }
    let notice = Notice {
        event: Event::TeamAnswer,
        case: &case,
        msg,
        mailbox: mail.mailbox,
        ack_problem: None,
        undelivered: None,
    };
    queue_notifications(txn, ctx, notice).await?;
    Ok(Handled::OnCase { case: number, what })
}

/// The company's CRM answering an account escalation (`#escalate account` with no account
/// team): `#return [text]` on the first line ends it, verified as the CRM's `#report` is
/// (the company's token, or Authentication-Results). The answer itself is a CRM note
/// (`cases::intake`), whatever this says; `true` when an escalation ended.
pub async fn crm_answer(txn: &Tx, ctx: &Ctx<'_>, case: &case::Model, msg: &ParsedMessage) -> Result<bool, DbErr> {
    let text = crate::threading::new_text(&msg.text_body, Some(&ctx.config.agent_desk.reply_marker));
    let Some(note) = returned(text) else { return Ok(false) };
    let Some(open) = record::current(txn, case.id).await?.into_iter().find(|e| e.team == ACCOUNT) else {
        return Ok(false);
    };
    let actor = Actor::Customer(msg.from.address.clone());
    let company = match case.company_id {
        Some(id) => company::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let token = company.and_then(|co| co.report_token);
    if let Err(why) = verify(&ctx.config.agent_desk, token.as_deref(), msg) {
        record_event(txn, case.id, ctx.now, &actor, "unverified_team_reply", (None, None), Some(why.to_string()));
        return Ok(false);
    }
    end(txn, ctx, case.id, open, &actor, note).await?;
    Ok(true)
}

async fn end(
    txn: &Tx,
    ctx: &Ctx<'_>,
    case_id: i64,
    open: escalation::Model,
    actor: &Actor,
    note: &str,
) -> Result<(), DbErr> {
    if record::end(txn, &open, actor, Some(note), ctx.now).await? {
        let detail = Some(note.to_owned()).filter(|n| !n.is_empty());
        record_event(txn, case_id, ctx.now, actor, "escalation_ended", (Some(open.team), None), detail);
    }
    Ok(())
}

/// The text after `#return` when the answer's first line is one (`#return`, `#Return done`).
fn returned(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let (head, rest) = text.split_at_checked(7)?;
    let rest = rest.strip_prefix(|c: char| c.is_whitespace()).or_else(|| rest.is_empty().then_some(rest))?;
    head.eq_ignore_ascii_case("#return").then(|| rest.trim())
}

#[cfg(test)]
mod tests {
    use super::returned;

    #[test]
    fn return_is_a_first_line_command_with_optional_text() {
        assert_eq!(returned("#return"), Some(""));
        assert_eq!(returned("\n  #Return Fixed: the disk was full.\n\nJo"), Some("Fixed: the disk was full.\n\nJo"));
        assert_eq!(returned("#returned it"), None);
        assert_eq!(returned("We will #return later"), None);
        assert_eq!(returned("#retu"), None);
        assert_eq!(returned("#réturn x"), None);
    }
}
