//! `supportd cases open|log|update|escalate|deescalate`: requests and conversations that
//! came by phone, chat or a web form, through the same door as mail (`cases::intake`), and
//! changes made from the command line as a reply's `#commands` would make them.

use std::io::Read;

use super::output::{errln, outln};
use super::{CasesCommand, Exit};
use crate::cases::intake::{ByHandError, Interaction, Logged, log_interaction, open_by_hand, update_by_hand};
use crate::desk::Desk;
use crate::domain::text::one_line;

pub async fn by_hand(desk: &Desk, command: CasesCommand) -> Exit {
    let result = match command {
        CasesCommand::Open {
            channel,
            company,
            contact,
            name,
            summary,
            case_type,
            severity,
            body_file,
            received_at,
            ack,
            no_ack: _,
            by,
        } => {
            let body = match body_file.as_deref().map(read_body).transpose() {
                Ok(body) => body.unwrap_or_default(),
                Err(e) => {
                    errln!("error: cannot read the body: {e}");
                    return Exit::NoInput;
                }
            };
            let interaction = Interaction {
                channel,
                company: &company,
                contact: &contact,
                name: name.as_deref(),
                summary: &summary,
                case_type,
                severity,
                body: &body,
                received_at: received_at.unwrap_or_else(|| desk.now()),
                ack,
                by: by.as_deref(),
            };
            open_by_hand(desk, interaction).await.map(|number| outln!("opened case {number} ({channel})"))
        }
        CasesCommand::Log { number, channel, by, text, minutes, rate } => {
            let logged = Logged { number, channel, by: &by, text: &text, minutes, rate };
            log_interaction(desk, logged).await.map(|()| outln!("logged a {} on case {number}", channel.exchange()))
        }
        CasesCommand::Update {
            number,
            by,
            status,
            severity,
            case_type,
            priority,
            assign,
            category,
            solution,
            client_config,
            company,
        } => {
            // The command lines a reply would carry, checked and applied the same way.
            let fields = [
                ("status", status),
                ("severity", severity),
                ("type", case_type),
                ("priority", priority),
                ("assign", assign),
                ("category", category),
                ("company", company),
                ("client-config", client_config),
                ("solution", solution),
            ];
            let commands: Vec<String> = fields
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| format!("#{name} {}", one_line(&v))))
                .collect();
            if commands.is_empty() {
                errln!(
                    "error: nothing to change: give --status, --severity, --type, --priority, --assign, --category, --company, --client-config or --solution"
                );
                return Exit::Usage;
            }
            update_by_hand(desk, number, &by, &commands.join("\n")).await.map(|what| outln!("case {number}: {what}"))
        }
        CasesCommand::Escalate { number, team, by, reason } => {
            let line = format!("#escalate {team} {}", reason.as_deref().map(one_line).unwrap_or_default());
            update_by_hand(desk, number, &by, line.trim_end()).await.map(|what| outln!("case {number}: {what}"))
        }
        CasesCommand::Deescalate { number, team, by } => {
            let line = format!("#deescalate {}", team.unwrap_or_default());
            update_by_hand(desk, number, &by, line.trim_end()).await.map(|what| outln!("case {number}: {what}"))
        }
        CasesCommand::List { .. } | CasesCommand::Show { .. } => unreachable!("read-only commands"),
    };
    match result {
        Ok(()) => Exit::Ok,
        Err(e @ (ByHandError::NoCompany(_) | ByHandError::NoAgent(..) | ByHandError::NoCase(_))) => {
            errln!("error: {e}");
            Exit::Usage
        }
        Err(e @ ByHandError::Refused(_)) => {
            errln!("error: {e}");
            Exit::DataErr
        }
        Err(e @ ByHandError::NoMailbox) => {
            errln!("error: {e}");
            Exit::Config
        }
        Err(e) => {
            errln!("error: {e}");
            Exit::TempFail
        }
    }
}

fn read_body(path: &std::path::Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut body = String::new();
        std::io::stdin().read_to_string(&mut body)?;
        return Ok(body);
    }
    std::fs::read_to_string(path)
}
