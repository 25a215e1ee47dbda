use std::path::Path;

use super::load::{fail, open};
use super::output::{self, Format};
use super::output::{errln, outln};
use super::{CasesCommand, Exit};
use crate::app::AppError;
use crate::cases::{list_cases, show_case};
use crate::domain::CaseNumber;

pub async fn cases(config: &Path, command: CasesCommand) -> Exit {
    let desk = match open(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    match command {
        CasesCommand::List { format } => match list_cases(&desk.db).await {
            Err(e) => fail(&AppError::Database(e)),
            Ok(cases) => {
                let header =
                    ["CASE", "STATUS", "SEV", "TYPE", "COMPANY", "CONTACT", "CREATED", "RESPOND BY", "SUMMARY"];
                output::rows(format, &cases, &header, |c| {
                    vec![
                        c.number.to_string(),
                        c.status.clone(),
                        c.severity.clone(),
                        c.case_type.clone(),
                        c.company.clone().unwrap_or_else(|| "-".into()),
                        c.contact.clone().unwrap_or_else(|| "-".into()),
                        output::time(Some(c.created_at)),
                        output::time(c.first_response_due),
                        c.summary.clone(),
                    ]
                });
                Exit::Ok
            }
        },
        CasesCommand::Show { number, format } => {
            let number: CaseNumber = match number.parse() {
                Ok(n) => n,
                Err(e) => {
                    errln!("error: {e}");
                    return Exit::Usage;
                }
            };
            match show_case(&desk.db, &desk.config, number, desk.now()).await {
                Err(e) => fail(&AppError::Database(e)),
                Ok(None) => {
                    errln!("error: no case {number}");
                    Exit::Usage
                }
                Ok(Some(detail)) if format == Format::Json => {
                    output::json(&detail);
                    Exit::Ok
                }
                Ok(Some(d)) => {
                    let c = &d.case;
                    outln!("{} {}", c.number, c.summary);
                    outln!("  status {} · {} · {} · priority {}", c.status, c.severity, c.case_type, c.priority);
                    outln!(
                        "  company {} · contact {}",
                        c.company.as_deref().unwrap_or("-"),
                        c.contact.as_deref().unwrap_or("-")
                    );
                    outln!(
                        "  created {} · updated {}",
                        output::time(Some(c.created_at)),
                        output::time(Some(c.updated_at))
                    );
                    outln!(
                        "  respond by {} · resolve by {}",
                        output::time(c.first_response_due),
                        output::time(c.resolution_due)
                    );
                    outln!(
                        "  assigned {} · category {}{}",
                        c.assignee.as_deref().unwrap_or("-"),
                        c.error_category.as_deref().unwrap_or("-"),
                        if c.client_config { " · client-side configuration" } else { "" }
                    );
                    if let Some(notes) = &d.reference_notes {
                        outln!("\nReference notes: {notes}");
                    }
                    if let Some(solution) = &c.solution {
                        outln!("\nSolution: {solution}");
                    }
                    if !d.time.is_empty() {
                        outln!("\nTime:");
                        for t in &d.time {
                            let who = t.agent.as_deref().unwrap_or("-");
                            outln!(
                                "  {} {who} {}m {} ({:.2} budget hours)",
                                output::time(Some(t.at)),
                                t.minutes,
                                t.rate,
                                t.budget_hours
                            );
                        }
                    }
                    outln!("\nMessages:");
                    for m in &d.messages {
                        let mut note =
                            m.no_ack_reason.as_deref().map(|r| format!(" (no ack: {r})")).unwrap_or_default();
                        if m.internal {
                            note.push_str(" [internal]");
                        }
                        if let Some(flags) = &m.flags {
                            note.push_str(&format!(" [{flags}]"));
                        }
                        outln!(
                            "  {} {} {} {}{note}",
                            output::time(Some(m.received_at)),
                            m.direction,
                            m.from,
                            m.subject
                        );
                    }
                    outln!("\nEvents:");
                    for e in &d.events {
                        let change = match (&e.old_value, &e.new_value) {
                            (None, None) => String::new(),
                            (o, n) => format!(" {} -> {}", o.as_deref().unwrap_or("-"), n.as_deref().unwrap_or("-")),
                        };
                        outln!("  {} {} {}{change}", output::time(Some(e.at)), e.actor, e.kind);
                    }
                    Exit::Ok
                }
            }
        }
    }
}
