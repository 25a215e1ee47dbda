//! The acknowledgement of a new case: rendered from templates and queued in the outbox in
//! the transaction that opens the case.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::DbErr;

use super::MailError;
use super::compose::{Composed, new_message_id};
use super::{outbox, queue_mail, strangers};
use crate::cases::Choice;
use crate::config::{CompanyConfig, Config, MailboxConfig};
use crate::domain::text::quoted_subject;
use crate::domain::{CaseType, EmailAddress, Severity};
use crate::mail::ParsedMessage;
use crate::sla::BusinessCalendar;
use crate::storage::Tx;
use crate::storage::entities::case;
use crate::templates::{AckContext, Audience, Rendered, Templates};

pub struct AckInput<'a> {
    pub case: &'a case::Model,
    pub msg: &'a ParsedMessage,
    pub mailbox: &'a MailboxConfig,
    pub company: Option<&'a CompanyConfig>,
    /// What the customer chose for the case (`cases::read_choice`).
    pub choice: &'a Choice,
    /// The sender is no one we know (not a key member of a company): the ack counts toward
    /// the caps on mail to strangers (`strangers`) and quotes neither her display name nor
    /// more than a short clean subject, which a forger wrote.
    pub stranger: bool,
}

/// Acknowledgements queued in the last hour to each of `addresses` (a batch's senders), for
/// the per-sender limit: one query, keyed by `ack_key`; call it before the batch queues any mail.
pub async fn recent_acks_each(
    tx: &Tx,
    addresses: &[&EmailAddress],
    now: DateTime<Utc>,
) -> Result<HashMap<String, u64>, DbErr> {
    let strs: Vec<&str> = addresses.iter().map(|a| a.as_str()).collect();
    let counts: HashMap<String, u64> =
        outbox::acks_to_each_since(tx, &strs, now - chrono::Duration::hours(1)).await?.into_iter().collect();
    Ok(addresses.iter().map(|a| ack_key(a)).map(|k| (k.clone(), counts.get(&k).copied().unwrap_or(0))).collect())
}

/// One sender for the hourly limit, whatever the case of the address: `Rob@` is `rob@`.
pub fn ack_key(address: &EmailAddress) -> String {
    address.as_str().to_ascii_lowercase()
}

/// Queues the acknowledgement; returns `Some(reason)` instead when the sender already got
/// `recent` acknowledgements this hour and the per-sender limit says this would feed a loop,
/// or when the ack to a stranger is over the caps (`strangers`: then kept as `limited`).
pub async fn queue_ack(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    input: AckInput<'_>,
    recent: u64,
    now: DateTime<Utc>,
) -> Result<Option<String>, MailError> {
    let to = &input.msg.from.address;
    if let Err(why) = super::sendable(to) {
        return Ok(Some(why));
    }
    let limit = config.intake.ack_limit_per_hour;
    if recent >= u64::from(limit) {
        return Ok(Some(format!("{to} already got {limit} acknowledgements in the last hour")));
    }
    let ctx = context(config, &input);
    let who = Audience { company_slug: input.company.map(|c| c.slug.as_str()), mailbox: Some(&input.mailbox.name) };
    let message_id = new_message_id("ack", Some(input.case.number), input.mailbox.address.domain());
    let case_id = Some(input.case.id);
    if !input.stranger {
        let rendered = templates.render("ack", who, &ctx)?;
        queue_mail(txn, "ack", case_id, &composed(config, &input, &rendered, &message_id), now).await?;
        return Ok(None);
    }
    match strangers::admit(txn, config, to, now).await? {
        Ok(stranger) => {
            let rendered = templates.render("ack", who, &ctx)?;
            let mail = composed(config, &input, &rendered, &message_id);
            strangers::queue(txn, "ack", case_id, &mail, stranger, now)?;
            Ok(None)
        }
        Err(why) => {
            // Only the subject: what is never sent is not rendered.
            let subject = templates.render_subject("ack", who, &ctx)?;
            let rendered = Rendered { subject, text: String::new(), html: String::new() };
            strangers::hold_back(txn, "ack", case_id, &composed(config, &input, &rendered, &message_id), &why, now);
            Ok(Some(why))
        }
    }
}

/// The ack to the sender, threaded under her message; a stranger is addressed by address alone.
fn composed<'a>(
    config: &'a Config,
    input: &'a AckInput<'_>,
    rendered: &'a Rendered,
    message_id: &'a str,
) -> Composed<'a> {
    let parent = input.msg.message_id.as_deref();
    let mut references = input.msg.references.clone();
    references.extend(parent.map(str::to_owned));
    let name = input.msg.from.name.as_deref().filter(|_| !input.stranger);
    Composed {
        from: (config.outbound.from_name.as_deref(), &input.mailbox.address),
        reply_to: &input.mailbox.address,
        also_reply_to: None,
        to: vec![(name, &input.msg.from.address)],
        message_id,
        in_reply_to: parent,
        references,
        auto_submitted: Some("auto-replied"),
        rendered,
        cc: Vec::new(),
        attachments: &[],
        inline_images: &[],
    }
}

fn context(config: &Config, input: &AckInput<'_>) -> AckContext {
    let case = input.case;
    let number = case.number;
    let severity: Severity = case.severity;
    let tz = config.zone_of(input.company);
    let due = case.first_response_due.map(|d| format_due(d, tz)).unwrap_or_default();
    let resolve = case.resolution_due.and(config.sla.target(severity).resolve);
    AckContext {
        case_number: number.to_string(),
        case_tag: config.intake.case_tag.render(number),
        subject: if input.stranger { quoted_subject(&case.summary) } else { case.summary.clone() },
        case_type: case.case_type.to_string(),
        severity: severity.to_string(),
        severity_meaning: severity.meaning().to_owned(),
        response_target: format!("within {}", config.sla.target(severity).respond.in_words()),
        response_due: due,
        resolution_target: resolve.map(|r| format!("within {}", r.in_words())).unwrap_or_default(),
        chosen: chosen(input.choice, case.case_type.as_str(), severity),
        how_to_choose: how_to_choose(input.choice),
        support_hours: support_hours(&config.calendar),
        contact_name: match &input.msg.from.name {
            Some(name) if !input.stranger => name.clone(),
            _ => input.msg.from.address.to_string(),
        },
        contact_email: input.msg.from.address.to_string(),
        company: input.company.map(|c| c.name.clone()).unwrap_or_default(),
        support_address: input.mailbox.address.to_string(),
    }
}

/// What the customer (or the agent who opened the case for her) chose, and what the case
/// therefore is: a choice not given or not understood is the mailbox's default, and the ack
/// says so.
fn chosen(choice: &Choice, case_type: &str, severity: Severity) -> String {
    let sev = format!("severity {severity} ({})", severity.meaning());
    let kind = format!("type {case_type}");
    let quoted: Vec<String> = choice.invalid.iter().map(|i| format!("\"{i}\"")).collect();
    let not_understood = quoted.join(", ");
    let who = choice.chosen_by.as_deref().unwrap_or("You");
    let mut words = match (choice.severity.is_some(), choice.case_type.is_some()) {
        (true, true) => format!("{who} chose {sev} and {kind}."),
        (true, false) => format!("{who} chose {sev}; the {kind} is our default."),
        (false, true) => format!("{who} chose {kind}; the {sev} is our default."),
        (false, false) if choice.chosen_by.is_some() => format!("The case has our defaults: {sev}, {kind}."),
        (false, false) if quoted.is_empty() => {
            format!("You did not choose a severity or a type, so the case has our defaults: {sev}, {kind}.")
        }
        (false, false) => {
            return format!("We did not understand {not_understood}, so the case has our defaults: {sev}, {kind}.");
        }
    };
    if !quoted.is_empty() {
        words.push_str(&format!(" We did not understand {not_understood}, so our default applies there."));
    }
    words
}

fn how_to_choose(choice: &Choice) -> String {
    if choice.severity.is_some() && choice.case_type.is_some() && choice.invalid.is_empty() {
        return String::new();
    }
    let levels: Vec<String> = Severity::ALL.iter().map(|s| format!("{s} {}", s.level())).collect();
    let types: Vec<&str> = CaseType::ALL.iter().map(|t| t.as_str()).collect();
    format!(
        "To choose when you write to us, put them in brackets in the subject, e.g. [S1] or [S2 Request], or \
         start your message with lines such as \"Severity: S1\" and \"Type: Bug\". Severities: {}. Types: {}.",
        levels.join(", "),
        types.join(", ")
    )
}

/// "Tuesday 24 November 2026, 10:00 GMT" in the customer's zone.
pub fn format_due(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%A %-d %B %Y, %H:%M %Z").to_string()
}

/// "Monday to Friday, 09:00–17:00 (Europe/London)" when the days share their hours,
/// otherwise each open day listed.
pub fn support_hours(cal: &BusinessCalendar) -> String {
    const NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let ranges = |day: &[crate::sla::Opening]| {
        day.iter()
            .map(|o| format!("{}–{}", o.start.format("%H:%M"), o.end.format("%H:%M")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let open: Vec<usize> = (0..7).filter(|d| !cal.weekly[*d].is_empty()).collect();
    let zone = cal.time_zone.name();
    let contiguous = open.windows(2).all(|w| w[1] == w[0] + 1);
    match (open.first(), open.last()) {
        (Some(&a), Some(&b)) if contiguous && open.iter().all(|d| cal.weekly[*d] == cal.weekly[a]) => {
            let days = if a == b { NAMES[a].to_owned() } else { format!("{} to {}", NAMES[a], NAMES[b]) };
            format!("{days}, {} ({zone})", ranges(&cal.weekly[a]))
        }
        _ => {
            let days: Vec<String> = open.iter().map(|d| format!("{} {}", NAMES[*d], ranges(&cal.weekly[*d]))).collect();
            format!("{} ({zone})", days.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(severity: Option<Severity>, case_type: Option<CaseType>, invalid: &[&str]) -> Choice {
        Choice { severity, case_type, invalid: invalid.iter().map(|s| s.to_string()).collect(), chosen_by: None }
    }

    #[test]
    fn the_ack_says_what_was_chosen_what_is_a_default_and_what_was_not_understood() {
        let both = choice(Some(Severity::S1), Some(CaseType::Bug), &[]);
        assert_eq!(
            chosen(&both, "Bug", Severity::S1),
            "You chose severity S1 (Critical – site offline for all users) and type Bug."
        );
        assert_eq!(how_to_choose(&both), "");
        let half = choice(Some(Severity::S1), None, &["Type: Outage"]);
        assert_eq!(
            chosen(&half, "Query", Severity::S1),
            "You chose severity S1 (Critical – site offline for all users); the type Query is our default. We did \
             not understand \"Type: Outage\", so our default applies there."
        );
        assert!(how_to_choose(&half).contains("[S2 Request]"));
        let none = choice(None, None, &[]);
        assert!(chosen(&none, "Query", Severity::S3).starts_with("You did not choose a severity or a type"));
    }

    #[test]
    fn the_ack_of_a_case_an_agent_opened_says_the_agent_chose() {
        let by = |severity, case_type| Choice {
            chosen_by: Some("Alice Smith of our support team".into()),
            ..choice(severity, case_type, &[])
        };
        assert_eq!(
            chosen(&by(Some(Severity::S1), Some(CaseType::Bug)), "Bug", Severity::S1),
            "Alice Smith of our support team chose severity S1 (Critical – site offline for all users) and type Bug."
        );
        assert_eq!(
            chosen(&by(None, Some(CaseType::Bug)), "Bug", Severity::S3),
            "Alice Smith of our support team chose type Bug; the severity S3 (Medium – a subset of users affected) \
             is our default."
        );
        let defaults = chosen(&by(None, None), "Query", Severity::S3);
        assert_eq!(
            defaults,
            "The case has our defaults: severity S3 (Medium – a subset of users affected), type Query."
        );
    }
}
