//! Budget alerts: when a company's remaining budget falls to a `[budget] warn_at` threshold,
//! its CRM and every active agent get one email. The ledger (`budget_alerts_sent`) keeps
//! each threshold to once per amount purchased, across restarts and instances; a top-up
//! changes the amount and so re-arms them. Several thresholds crossed at once make one
//! email, about the lowest.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

use super::{Standing, hours, standings};
use crate::agents::Directory;
use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::entities::{budget_alert_sent, company};
use crate::storage::{Tx, begin_write};
use crate::templates::{Audience, BudgetContext};

#[derive(Debug, Default, Clone, Copy)]
pub struct BudgetTick {
    pub alerts_queued: usize,
}

/// Queues the alerts for every threshold newly reached.
pub async fn budget_tick(desk: &Desk) -> Result<BudgetTick, MailError> {
    let thresholds = &desk.config.budget.warn_at;
    let mut tick = BudgetTick::default();
    if thresholds.is_empty() {
        return Ok(tick);
    }
    let standings = standings(&desk.db).await?;
    let reached: Vec<(i64, Standing, Vec<u8>)> = standings
        .into_iter()
        .filter_map(|(id, s)| {
            let pct = s.remaining_pct()?;
            let crossed: Vec<u8> = thresholds.iter().copied().filter(|t| pct <= f64::from(*t)).collect();
            (!crossed.is_empty()).then_some((id, s, crossed))
        })
        .collect();
    if reached.is_empty() {
        return Ok(tick);
    }
    let txn = begin_write(&desk.db).await?;
    let agents = Directory::load(&txn, desk.config.intake.local_part_case).await?;
    for (company_id, standing, crossed) in reached {
        if let Some(lowest) = newly_reached(&txn, company_id, &standing, &crossed, desk.now()).await? {
            let Some(c) = company::Entity::find_by_id(company_id).one(&txn).await? else { continue };
            tick.alerts_queued += queue(&txn, desk, &agents, &c, &standing, lowest).await?;
        }
    }
    txn.commit().await?;
    Ok(tick)
}

/// Records the thresholds of `crossed` not yet alerted for this purchase; the lowest of them
/// when there are any, and this instance recorded them (not another at the same moment).
async fn newly_reached(
    txn: &Tx,
    company_id: i64,
    s: &Standing,
    crossed: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<u8>, DbErr> {
    let key = (s.purchased * 100.0).round() as i64;
    let sent: HashSet<String> = budget_alert_sent::Entity::find()
        .select_only()
        .column(budget_alert_sent::Column::Threshold)
        .filter(budget_alert_sent::Column::CompanyId.eq(company_id))
        .filter(budget_alert_sent::Column::PurchasedCentihours.eq(key))
        .into_tuple::<String>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let new: Vec<u8> = crossed.iter().copied().filter(|t| !sent.contains(&format!("{t}%"))).collect();
    let Some(lowest) = new.iter().copied().min() else { return Ok(None) };
    let rows = new.iter().map(|t| budget_alert_sent::ActiveModel {
        company_id: Set(company_id),
        threshold: Set(format!("{t}%")),
        purchased_centihours: Set(key),
        sent_at: Set(now),
        ..Default::default()
    });
    let inserted = budget_alert_sent::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            budget_alert_sent::Column::CompanyId,
            budget_alert_sent::Column::Threshold,
            budget_alert_sent::Column::PurchasedCentihours,
        ])
        .exec_without_returning(txn)
        .await?;
    Ok(crate::storage::inserted(&inserted).then_some(lowest))
}

/// One email to the CRM and one to each active agent; how many were queued.
async fn queue(
    txn: &Tx,
    desk: &Desk,
    agents: &Directory,
    c: &company::Model,
    s: &Standing,
    threshold: u8,
) -> Result<usize, MailError> {
    let cfg = &desk.config;
    let (standard, _) = crate::cases::rates(cfg, Some(c));
    let support = cfg.support_address();
    let ctx = BudgetContext {
        company: c.name.clone(),
        threshold: format!("{threshold}%"),
        purchased_hours: hours(s.purchased),
        used_hours: hours(s.used),
        remaining_hours: hours(s.remaining()),
        remaining_pct: format!("{:.0}%", s.remaining_pct().unwrap_or(0.0)),
        remaining_money: money(&cfg.budget.currency, s.remaining() * standard),
        overdrawn_hours: if s.remaining() < 0.0 { hours(-s.remaining()) } else { String::new() },
        crm_name: c.crm_name.clone().unwrap_or_default(),
        support_address: support.to_string(),
        answer: String::new(),
        greeting: "Hello,".into(),
    };
    let crm: Option<EmailAddress> = c.crm_email.as_deref().and_then(|e| e.parse().ok());
    // The CRM's copy carries the company's token when tokens are used: a `#report` sent back is
    // verified as theirs, and any other reply reaches the agents as a note under every policy
    // (`reports::crm_reply` knows it by the Message-ID it answers).
    let token_reply = crate::reports::report_reply_to(cfg, c);
    let mut queued = 0;
    if let Some(crm) = &crm {
        let name = c.crm_name.as_deref().filter(|n| !n.trim().is_empty());
        let greeting = name.map_or_else(|| "Hello,".to_owned(), |n| format!("Hello {n},"));
        let ctx = BudgetContext { answer: ANSWER_CRM.into(), greeting, ..ctx.clone() };
        let reply_to = token_reply.as_ref().unwrap_or(support);
        queued += send(txn, desk, c, &ctx, reply_to, &[(name, crm)]).await?;
    }
    // An agent's reply names no case: it goes to the CRM, whom the mail asks to act, if any.
    let answer = match (&crm, c.crm_name.as_deref()) {
        (Some(_), Some(name)) => format!("A reply to this email goes to {name}, the Client Relationship Manager."),
        (Some(crm), None) => format!("A reply to this email goes to the Client Relationship Manager, {crm}."),
        (None, _) => "This email is about no case: a reply to it answers nothing.".into(),
    };
    let ctx = BudgetContext { answer, ..ctx };
    let to: Vec<(Option<&str>, EmailAddress)> =
        agents.active().filter_map(|a| Some((Some(a.name.as_str()), a.email.parse().ok()?))).collect();
    let to: Vec<(Option<&str>, &EmailAddress)> = to.iter().map(|(n, a)| (*n, a)).collect();
    queued += send(txn, desk, c, &ctx, crm.as_ref().unwrap_or(support), &to).await?;
    Ok(queued)
}

/// What a reply to the CRM's copy does, said in it.
const ANSWER_CRM: &str = "A reply to this email reaches the support team as a note; to have the company's \
                          support report sent to you, put #report and a month (#report 2026-11) on its first line.";

/// Renders `ctx` once and queues a mail to each of `to`; how many.
async fn send(
    txn: &Tx,
    desk: &Desk,
    c: &company::Model,
    ctx: &BudgetContext,
    reply_to: &EmailAddress,
    to: &[(Option<&str>, &EmailAddress)],
) -> Result<usize, MailError> {
    if to.is_empty() {
        return Ok(0);
    }
    let cfg = &desk.config;
    let support = cfg.support_address();
    let rendered = desk.templates.render("budget", Audience { company_slug: Some(&c.slug), mailbox: None }, ctx)?;
    for (name, address) in to {
        let message_id = new_message_id("budget", None, support.domain());
        let from = (cfg.outbound.from_name.as_deref(), support);
        let mail = Composed::notice(from, reply_to, vec![(*name, *address)], &message_id, &rendered);
        queue_mail(txn, "budget", None, &mail, desk.now()).await?;
    }
    Ok(to.len())
}

/// `EUR 1,250.00`.
pub fn money(currency: &str, amount: f64) -> String {
    let cents = (amount * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 { ("-", -cents) } else { ("", cents) };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{currency} {sign}{grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_is_grouped_and_rounded_to_cents() {
        assert_eq!(money("EUR", 1250.0), "EUR 1,250.00");
        assert_eq!(money("EUR", 1234567.891), "EUR 1,234,567.89");
        assert_eq!(money("USD", -75.5), "USD -75.50");
        assert_eq!(money("EUR", 0.0), "EUR 0.00");
    }
}
