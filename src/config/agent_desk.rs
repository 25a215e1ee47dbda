//! `[agents]`: how agents hear of cases and how their replies are trusted. Kept apart from
//! `validate.rs` because its rules (a policy that cannot work with a team address, a policy
//! that needs a receiving server) are about agents only.

use super::model::{AgentDesk, MailboxConfig, Notify, Verify};
use super::raw::RawAgentDesk;
use super::{Problem, Problems};
use crate::domain::EmailAddress;

pub const DEFAULT_MARKER: &str = "##- Please type your reply above this line -##";

pub fn agent_desk(
    p: &mut Problems,
    warnings: &mut Vec<Problem>,
    raw: &RawAgentDesk,
    mailboxes: &[MailboxConfig],
) -> AgentDesk {
    p.unknown_keys("agents", &raw.unknown);
    let notify = match raw.notify.as_deref() {
        None | Some("each") => Notify::EachAgent,
        Some("none") => Notify::Nobody,
        Some(team) => match team.parse::<EmailAddress>() {
            Ok(a) => Notify::Team(a),
            Err(e) => {
                p.push("agents.notify", format!("expected \"each\", \"none\" or a team address, got {team:?} ({e})"));
                Notify::EachAgent
            }
        },
    };
    if let Notify::Team(team) = &notify
        && mailboxes.iter().any(|m| &m.address == team)
    {
        p.push("agents.notify", format!("{team} is a support mailbox: notifications would come back as new cases"));
    }
    let verify = p.parse("agents.verify", raw.verify.as_deref(), Verify::Token);
    if matches!(notify, Notify::Team(_)) && matches!(verify, Verify::Token | Verify::All) {
        p.push(
            "agents.notify",
            "a team address cannot carry each agent's reply token that agents.verify requires: \
             use notify = \"each\", or verify = \"auth-results or token\"",
        );
    }
    let authserv_id = raw.authserv_id.clone().filter(|s| !s.trim().is_empty());
    if verify.uses_auth_results() && authserv_id.is_none() {
        p.push("agents.authserv_id", "required by agents.verify: the authserv-id of your receiving mail server");
    }
    if verify == Verify::None {
        warnings.push(Problem {
            key: "agents.verify".into(),
            message: "\"none\": anyone who writes with an agent's From address can reply to customers \
                      and change cases"
                .into(),
        });
    }
    let received_above_results =
        p.in_range("agents.received_above_results", raw.received_above_results, 0, 10, 0) as usize;
    let reply_marker = raw.reply_marker.clone().unwrap_or_else(|| DEFAULT_MARKER.to_owned());
    if reply_marker.trim().len() < 8 {
        p.push("agents.reply_marker", "expected a distinctive line of at least 8 characters");
    }
    let relay_name = raw.relay_name.clone().unwrap_or_else(|| "{name} via Support".to_owned());
    if !relay_name.contains("{name}") {
        p.push("agents.relay_name", format!("expected {{name}} in it, got {relay_name:?}"));
    }
    let excerpt_bytes = match raw.excerpt_bytes.as_deref() {
        None => 64 * 1024,
        Some(text) => match super::validate::parse_size(text) {
            Ok(n) if n <= 10 * 1024 * 1024 => n as usize,
            _ => {
                p.push(
                    "agents.excerpt_bytes",
                    format!("expected a size from 1 byte to 10MB, such as 64KB, got {text:?}"),
                );
                0
            }
        },
    };
    let mail_limit_per_hour = p.in_range("agents.mail_limit_per_hour", raw.mail_limit_per_hour, 1, 10_000, 30) as u32;
    let relays = p.in_range("agents.relays_per_case_per_hour", raw.relays_per_case_per_hour, 1, 10_000, 20) as u32;
    let held_notify = held_notify(p, raw, mailboxes);
    AgentDesk {
        relays_per_case_per_hour: relays,
        held_notify,
        excerpt_bytes,
        mail_limit_per_hour,
        notify,
        verify,
        authserv_id,
        received_above_results,
        reply_marker,
        relay_name,
        expose_address: raw.expose_address.unwrap_or(false),
    }
}

/// `held_notify`: one address or a list; a support mailbox would read the digest as a new case.
fn held_notify(p: &mut Problems, raw: &RawAgentDesk, mailboxes: &[MailboxConfig]) -> Vec<EmailAddress> {
    let values = raw.held_notify.as_ref().map(|v| v.values()).unwrap_or_default();
    let mut out = Vec::new();
    for (i, text) in values.into_iter().enumerate() {
        let key = format!("agents.held_notify[{i}]");
        match text.parse::<EmailAddress>() {
            Ok(a) if mailboxes.iter().any(|m| m.address == a) => {
                p.push(key, format!("{a} is a support mailbox: the digest would come back as a new case"))
            }
            Ok(a) => out.push(a),
            Err(e) => p.push(key, format!("expected an email address, got {text:?} ({e})")),
        }
    }
    out
}

impl std::str::FromStr for Verify {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["none"] => Ok(Verify::None),
            ["token"] => Ok(Verify::Token),
            ["auth-results"] => Ok(Verify::AuthResults),
            ["auth-results", "and", "token"] | ["token", "and", "auth-results"] => Ok(Verify::All),
            ["auth-results", "or", "token"] | ["token", "or", "auth-results"] => Ok(Verify::Any),
            _ => Err(format!(
                "expected \"token\", \"auth-results\", \"auth-results and token\", \
                 \"auth-results or token\" or \"none\", got {s:?}"
            )),
        }
    }
}
