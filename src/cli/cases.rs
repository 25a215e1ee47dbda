use std::path::Path;

use super::load::{ReadDesk, fail, open, open_read_only};
use super::output::{self, Format, Zone};
use super::output::{errln, outln};
use super::{CasesCommand, Exit};
use crate::app::AppError;
use crate::cases::{CaseDetail, CaseView, Window, list_cases, show_case};
use crate::domain::CaseNumber;
use crate::sla::{Outcome, TargetView, span};

pub async fn cases(config: &Path, command: CasesCommand) -> Exit {
    if !matches!(command, CasesCommand::List { .. } | CasesCommand::Show { .. }) {
        return match open(config).await {
            Ok(desk) => super::by_hand::by_hand(&desk, command).await,
            Err(code) => code,
        };
    }
    let desk = match open_read_only(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    match command {
        CasesCommand::List { format } => list(&desk, format).await,
        CasesCommand::Show { number, format } => show(&desk, number, format).await,
        _ => unreachable!("changes are handled above"),
    }
}

async fn list(desk: &ReadDesk, format: Format) -> Exit {
    let cases = match list_cases(&desk.db).await {
        Ok(c) => c,
        Err(e) => return fail(&AppError::Database(e)),
    };
    let (zone, now) = (desk.zone(), desk.now());
    let header = [
        "CASE",
        "STATUS",
        "SEV",
        "TYPE",
        "CHANNEL",
        "COMPANY",
        "CONTACT",
        "ASSIGNEE",
        "CREATED",
        "RESPOND BY",
        "SUMMARY",
    ];
    output::rows(format, &cases, &header, |c| {
        vec![
            c.number.to_string(),
            c.status.clone(),
            c.severity.clone(),
            c.case_type.clone(),
            c.channel.clone(),
            c.company.clone().unwrap_or_else(|| "-".into()),
            c.contact.clone().unwrap_or_else(|| "-".into()),
            c.assignee_name.clone().or_else(|| c.assignee.clone()).unwrap_or_else(|| "-".into()),
            zone.time(Some(c.created_at)),
            respond_by(c, zone, now),
            c.summary.clone(),
        ]
    });
    Exit::Ok
}

/// The response due time while it runs ("(breached)" once it has passed unanswered); once
/// answered or ended, how it ended ("met", "breached", "missed"), as `cases show` says.
fn respond_by(c: &CaseView, zone: Zone, now: chrono::DateTime<chrono::Utc>) -> String {
    match (c.response_settled, c.first_response_due) {
        (Some(outcome), _) => outcome.as_str().into(),
        (None, Some(due)) if due <= now => format!("{} (breached)", zone.time(Some(due))),
        (None, due) => zone.time(due),
    }
}

async fn show(desk: &ReadDesk, number: CaseNumber, format: Format) -> Exit {
    match show_case(&desk.db, &desk.config, number, desk.now(), Window::WHOLE).await {
        Err(e) => fail(&AppError::Database(e)),
        Ok(None) => {
            errln!("error: no case {number}");
            Exit::Usage
        }
        Ok(Some(detail)) if format == Format::Json => {
            output::json(&detail);
            Exit::Ok
        }
        Ok(Some(detail)) => {
            print_detail(&detail, desk.zone());
            Exit::Ok
        }
    }
}

fn print_detail(d: &CaseDetail, zone: Zone) {
    let c = &d.case;
    outln!("{} {}", c.number, c.summary);
    outln!("  status {} · {} · {} · priority {}", c.status, c.severity, c.case_type, c.priority);
    outln!("  company {} · contact {}", c.company.as_deref().unwrap_or("-"), c.contact.as_deref().unwrap_or("-"));
    if !d.cc.is_empty() {
        outln!("  cc {}", d.cc.join(", "));
    }
    outln!(
        "  by {} · created {} · updated {}",
        c.channel,
        zone.time(Some(c.created_at)),
        zone.time(Some(c.updated_at))
    );
    outln!(
        "  assigned {} · category {}{}",
        match (&c.assignee_name, &c.assignee) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (_, address) => address.clone().unwrap_or_else(|| "-".into()),
        },
        c.error_category.as_deref().unwrap_or("-"),
        if c.client_config { " · client-side configuration" } else { "" }
    );
    if let Some(because) = &c.opened_because {
        outln!("  opened because {because}");
    }
    if let Some(linked) = d.linked_case {
        outln!("  linked to case {linked}");
    }
    print_escalations(d, zone);
    if let Some(notes) = &d.reference_notes {
        outln!("\nReference notes: {notes}");
    }
    if let Some(budget) = &d.budget {
        outln!("\nSupport budget: {budget}");
    }
    if let Some(solution) = &c.solution {
        outln!("\nSolution: {solution}");
    }
    outln!("\nTargets (time left in business hours):");
    for t in &d.sla {
        outln!("  {:<8} due {} · {}", t.target, zone.time(Some(t.due)), standing(t));
    }
    if c.resolution_due.is_none() {
        outln!("  {:<8} none for this case", "resolve");
    }
    print_time(d, zone);
    print_messages(d, zone);
    print_sent(d, zone);
    outln!("\nEvents:");
    for e in &d.events {
        let change = match &e.shown_change {
            (None, None) => String::new(),
            (o, n) => format!(" {} -> {}", o.as_deref().unwrap_or("-"), n.as_deref().unwrap_or("-")),
        };
        let detail = e.detail.as_deref().map(|d| format!(" · {d}")).unwrap_or_default();
        outln!("  {} {} {}{change}{detail}", zone.time(Some(e.at)), e.actor_name, e.kind);
    }
}

/// "with hosting since …" for each current escalation, then the past ones.
fn print_escalations(d: &CaseDetail, zone: Zone) {
    for e in &d.escalations {
        let why = e.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        match e.until {
            None => outln!("  with {} since {} (by {}){why}", e.team, zone.time(Some(e.since)), e.by_name),
            Some(until) => outln!(
                "  was with {} from {} to {} (by {}, ended by {}){why}",
                e.team,
                zone.time(Some(e.since)),
                zone.time(Some(until)),
                e.by_name,
                e.ended_by_name.as_deref().unwrap_or("-")
            ),
        }
    }
}

/// Where a target stands: met or missed once settled, else the business time left (or past),
/// worded by `sla::span` as everywhere else ("7 h", "1 h 30 min"); the heading says these are
/// business hours.
pub fn standing(t: &TargetView) -> String {
    let minutes = t.business_minutes_left;
    match (t.state.outcome, t.settled_at) {
        (Outcome::Met, _) => "met".into(),
        (Outcome::ClosedWithoutResponse, _) => {
            format!("missed: closed without a response ({} before it was due)", span(minutes))
        }
        (Outcome::Breached, Some(_)) => format!("breached: missed by {}", span(-minutes)),
        (Outcome::Breached, None) => format!("breached, {} ago", span(-minutes)),
        (Outcome::Paused, _) => format!("paused (waiting on the customer), {} left", span(minutes)),
        (Outcome::Running, _) if t.state.warned => format!("warned, {} left", span(minutes)),
        (Outcome::Running, _) => format!("{} left", span(minutes)),
    }
}

fn print_time(d: &CaseDetail, zone: Zone) {
    if d.time.is_empty() {
        return;
    }
    outln!("\nTime:");
    for t in &d.time {
        let who = t.agent_name.as_deref().or(t.agent.as_deref()).unwrap_or("-");
        outln!("  {} {who} {}m {} ({:.2} budget hours)", zone.time(Some(t.at)), t.minutes, t.rate, t.budget_hours);
    }
}

fn print_messages(d: &CaseDetail, zone: Zone) {
    outln!("\nMessages:");
    for m in &d.messages {
        let mut note = m.no_ack_reason.as_deref().map(|r| format!(" (no ack: {r})")).unwrap_or_default();
        if m.internal {
            note.push_str(" [internal]");
        }
        if let Some(flags) = &m.flags {
            note.push_str(&format!(" [{flags}]"));
        }
        outln!("  {} {} {} {}{note}", zone.time(Some(m.received_at)), m.direction, m.from, m.subject);
    }
}

fn print_sent(d: &CaseDetail, zone: Zone) {
    outln!("\nMail sent:");
    if d.sent.is_empty() {
        outln!("  none");
    }
    for s in &d.sent {
        let state = match (s.status.as_str(), &s.last_error) {
            ("sent", _) => format!("sent {}", zone.time(s.sent_at)),
            (status, Some(error)) => format!("{status} after {} attempt(s): {error}", s.attempts),
            (status, None) => status.to_owned(),
        };
        outln!("  {} {} to {} · {state} · {}", zone.time(Some(s.created_at)), s.kind, s.to, s.subject);
    }
}
