//! `/cases/NNNNNN`: one case as `cases show` knows it, for reading.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::words::{case_line, when};
use crate::cases::{CaseDetail, EventView, Window, show_case};
use crate::desk::Desk;
use crate::domain::CaseNumber;
use crate::teams::Escalated;
use crate::templates::{CasePage, PageEscalation, PageEvent, PageMessage, PageSent};

/// Characters of a message's text a case page shows: a page's size stays bounded whatever
/// customers send (a pasted 20 MB log, thousands of follow-ups).
pub const BODY_CHARS: u64 = 20_000;

/// What a case page and `/api/cases/N` read of a case: the latest `[http] page_size` messages,
/// events and mails sent, and the first `BODY_CHARS` of each text.
pub fn window(desk: &Desk) -> Window {
    Window { rows: Some(desk.config.http.page_size), body_chars: Some(BODY_CHARS) }
}

pub async fn page(desk: &Desk, number: CaseNumber, now: DateTime<Utc>) -> Result<Option<CasePage>, DbErr> {
    let Some(d) = show_case(&desk.db, &desk.config, number, now, window(desk)).await? else { return Ok(None) };
    Ok(Some(worded(desk.config.calendar.time_zone, d, now)))
}

/// "The latest 200 of 3,000 messages: `supportd cases show 000002` shows them all.", when
/// the page holds fewer than there are.
fn more(shown: usize, total: u64, what: &str, number: crate::domain::CaseNumber) -> String {
    if shown as u64 >= total {
        return String::new();
    }
    format!("The latest {shown} of {total} {what}: `supportd cases show {number}` shows them all.")
}

fn worded(zone: chrono_tz::Tz, d: CaseDetail, now: DateTime<Utc>) -> CasePage {
    let c = &d.case;
    CasePage {
        title: format!("Case {}: {}", c.number, c.summary),
        root: "../".into(),
        refresh_seconds: 0,
        generated: when(zone, now),
        case_type: c.case_type.clone(),
        priority: c.priority.clone(),
        channel: c.channel.clone(),
        created: when(zone, c.created_at),
        updated: when(zone, c.updated_at),
        error_category: c.error_category.clone().unwrap_or_default(),
        solution: c.solution.clone().unwrap_or_default(),
        opened_because: c.opened_because.clone().unwrap_or_default(),
        cc: d.cc.join(", "),
        reference_notes: d.reference_notes.clone().unwrap_or_default(),
        budget: d.budget.clone().unwrap_or_default(),
        case: case_line(zone, c, &d.sla),
        messages_more: more(d.messages.len(), d.messages_total, "messages", c.number),
        events_more: more(d.events.len(), d.events_total, "events", c.number),
        sent_more: more(d.sent.len(), d.sent_total, "mails sent", c.number),
        messages: d
            .messages
            .into_iter()
            .map(|m| PageMessage {
                direction: m.direction,
                from: m.from,
                subject: m.subject,
                received: when(zone, m.received_at),
                internal: m.internal,
                flags: [m.no_ack_reason.map(|r| format!("not acknowledged: {r}")), m.flags]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
                body: cut_note(m.text_body, m.body_chars, c.number),
            })
            .collect(),
        events: d.events.iter().map(|e| event(zone, e)).collect(),
        sent: d
            .sent
            .into_iter()
            .map(|s| PageSent {
                kind: s.kind,
                to: s.to,
                subject: s.subject,
                status: s.status,
                when: when(zone, s.sent_at.unwrap_or(s.created_at)),
                error: s.last_error.unwrap_or_default(),
            })
            .collect(),
        escalations: d.escalations.iter().map(|e| escalation(zone, e)).collect(),
    }
}

/// A text cut at `BODY_CHARS`, with what was left out and where to read it whole.
fn cut_note(mut text: String, chars: i64, number: crate::domain::CaseNumber) -> String {
    let shown = text.chars().count() as i64;
    if chars > shown {
        text.push_str(&format!(
            "\n\n[… {} more characters: `supportd cases show {number}` shows the whole message]",
            chars - shown
        ));
    }
    text
}

/// "status: new → open (customer replied)".
fn event(zone: chrono_tz::Tz, e: &EventView) -> PageEvent {
    let change = match &e.shown_change {
        (Some(old), Some(new)) => format!(": {old} → {new}"),
        (None, Some(new)) => format!(": {new}"),
        (Some(old), None) => format!(": {old} → (none)"),
        (None, None) => String::new(),
    };
    let detail = e.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default();
    PageEvent {
        at: when(zone, e.at),
        actor: e.actor_name.clone(),
        actor_address: e.named_address().unwrap_or_default().to_owned(),
        what: format!("{}{change}{detail}", e.kind),
    }
}

/// "hosting since Fri 20 Nov 2026 09:30 GMT, by Ann Lee: disk full; ended … by Bob Roe".
fn escalation(zone: chrono_tz::Tz, e: &Escalated) -> PageEscalation {
    PageEscalation {
        team: e.team.clone(),
        since: when(zone, e.since),
        by: e.by_name.clone(),
        by_address: e.by_address().unwrap_or_default().to_owned(),
        why: e.reason.clone().unwrap_or_default(),
        until: e.until.map(|t| when(zone, t)).unwrap_or_default(),
        ended_by: e.ended_by_name.clone().unwrap_or_default(),
        ended_by_address: e.ended_by_address().unwrap_or_default().to_owned(),
    }
}
