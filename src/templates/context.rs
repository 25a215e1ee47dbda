//! What each template gets. Every field here is documented in templates/README.md.

use serde::Serialize;

/// The acknowledgement of a new case.
#[derive(Debug, Clone, Serialize)]
pub struct AckContext {
    /// `000123`.
    pub case_number: String,
    /// `[Case #000123]`.
    pub case_tag: String,
    /// The customer's subject without reply prefixes or tag.
    pub subject: String,
    pub case_type: String,
    pub severity: String,
    pub severity_meaning: String,
    /// "within 4 business hours".
    pub response_target: String,
    /// When the response is due, in the customer company's time zone.
    pub response_due: String,
    /// "within 2 business days", or "" when no resolution target applies (a Bug, a Request).
    pub resolution_target: String,
    /// What the customer chose and what the case therefore is, with anything not understood.
    pub chosen: String,
    /// "" when the customer chose both severity and type; else how to choose them.
    pub how_to_choose: String,
    /// "Monday to Friday, 09:00–17:00 (Europe/London)".
    pub support_hours: String,
    pub contact_name: String,
    pub contact_email: String,
    /// Empty when the sender belongs to no known company.
    pub company: String,
    pub support_address: String,
}

/// A company's support budget reached a `[budget] warn_at` threshold: for its CRM and the agents.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetContext {
    pub company: String,
    /// The threshold reached: `10%`.
    pub threshold: String,
    pub purchased_hours: String,
    pub used_hours: String,
    pub remaining_hours: String,
    /// What is left, as a share of what was bought: `8%`.
    pub remaining_pct: String,
    /// The remaining hours at the standard rate: `EUR 1,250.00`.
    pub remaining_money: String,
    /// How far the budget is overdrawn, `2.5` (hours); empty while some is left.
    pub overdrawn_hours: String,
    pub crm_name: String,
    pub support_address: String,
    /// What a reply to this copy does: a note to the support team (the CRM's), or where it
    /// goes instead (the agents').
    pub answer: String,
    /// "Hello Carol Jones," in the CRM's copy (her `crm_name`); "Hello," in the agents'.
    pub greeting: String,
}

/// A company's report for a period (monthly, or on request), for its CRM.
#[derive(Debug, Clone, Serialize)]
pub struct ReportContext {
    pub company: String,
    /// `November 2026`.
    pub period: String,
    /// Cases created in the period.
    pub cases: u64,
    /// `12 by email, 3 by phone`; empty without cases.
    pub by_channel: String,
    /// Of those, resolved or closed now, and still open.
    pub resolved: u64,
    pub open: u64,
    /// One line per severity with cases.
    pub sla: Vec<ReportSlaLine>,
    /// `12.5 of 40 h left, EUR 1,250.00`; empty when the company bought no budget.
    pub budget: String,
    /// The period's time: `6.5 h (EUR 650.00)`.
    pub budget_used: String,
    /// The chart's file name among the attachments.
    pub chart: String,
    /// The chart's Content-ID in this mail: `<img src="cid:{{chart_cid}}">` shows it in place.
    pub chart_cid: String,
    /// The chart's size in pixels, for the `<img>`'s `width` and `height`.
    pub chart_width: u32,
    pub chart_height: u32,
    pub crm_name: String,
    pub support_address: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportSlaLine {
    pub severity: String,
    pub cases: u64,
    /// `9 of 10 (90%)`, or `none decided`.
    pub responses: String,
    pub resolutions: String,
    /// Cases without a resolution target (exempt type, client-side configuration, S4).
    pub exempt: u64,
    /// `1.5 h`, or `-`.
    pub median_response: String,
    pub median_resolution: String,
    /// Targets reached late, or not reached by their due time.
    pub breaches: u64,
    /// Response targets missed by a case closed early without a response (not breaches).
    pub closed_unanswered: u64,
}

/// The reply to someone who may not open a case: their message is held for the agents.
#[derive(Debug, Clone, Serialize)]
pub struct NotMemberContext {
    /// Their address: never the display name, which a stranger writes.
    pub contact_name: String,
    /// The subject of their message: one line, bidi controls removed, at most 100 characters.
    pub subject: String,
    /// "key members of our customers' teams" or "our customers' teams".
    pub who_may_open: String,
    /// The company the sender's domain belongs to; empty when none.
    pub company: String,
    /// That company's Client Relationship Manager, to ask for access; empty when none.
    pub crm_name: String,
    pub crm_email: String,
    pub support_address: String,
}

/// The reply to a company's CRM or CSM whose `#report` could not be verified: how to ask so
/// that it can be.
#[derive(Debug, Clone, Serialize)]
pub struct ReportHowtoContext {
    pub contact_name: String,
    /// The subject of their request, on one line.
    pub subject: String,
    pub company: String,
    /// `#report 2026-11`: the request as it would be verified (the month before by default).
    pub example: String,
    pub support_address: String,
    /// A reply to this mail is verified: its Reply-To is their personal (token) address.
    pub by_reply: bool,
    /// The receiving server's DKIM or DMARC pass is checked (as well, or alone).
    pub signed: bool,
}

/// A CRM's reply to a report or budget mail, which names no case, passed on to the agents.
#[derive(Debug, Clone, Serialize)]
pub struct CrmReplyContext {
    /// The CRM's name, or their address when none is configured.
    pub crm_name: String,
    pub crm_email: String,
    pub company: String,
    pub subject: String,
    /// What they replied to: `support report` or `budget email`.
    pub replied_to: String,
    /// The new text of the reply (the quote cut), at most `[agents] excerpt_bytes`.
    pub message: String,
    pub message_cut: String,
    pub attachments: String,
    pub support_address: String,
}

/// A warning before a target lapses, or its breach, for the desk (agents, escalation) or,
/// in a mail of its own, the company's CRM.
#[derive(Debug, Clone, Serialize)]
pub struct AlertContext {
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    pub severity: String,
    pub severity_meaning: String,
    pub company: String,
    /// The customer's address.
    pub contact: String,
    /// "S2: first response due in 1 h 30 min (75% of the target used)", "S2: first response
    /// due in 15 min", "S2: first response target breached[, overdue by 30 min]".
    pub headline: String,
    /// "first response" or "resolution".
    pub target: String,
    /// "75% of the target used", "15 min left" or "breached".
    pub level: String,
    /// When the target lapses, in the support calendar's zone (the CRM's copy: her company's).
    pub due: String,
    /// Business time left, e.g. "1 h 30 min"; "none: the target has lapsed".
    pub time_left: String,
    /// Every level this email stands for, e.g. "first response 75% of the target used, first
    /// response 15 min left".
    pub levels: String,
    /// The company's reference notes (special handling instructions); empty in the CRM's alert.
    pub reference_notes: String,
    /// Whom the case is escalated to now: "the Hosting team (since Monday 30 November 2026,
    /// 10:00 GMT)"; empty when it is with no team.
    pub escalated: String,
    /// The case page (`[http] public_url`), or "" without one.
    pub case_url: String,
    /// The agents' first line (their reply is cut above it); empty in the other copies.
    pub reply_marker: String,
    /// What a reply to this copy does: answers on the case (an agent's), a note to the
    /// support team (the CRM's), or nothing, and what to do instead (the other addresses').
    pub answer: String,
    /// "Hello Carol Jones," in the CRM's copy (her configured `crm_name`); empty in the desk's.
    pub greeting: String,
}

/// What an email to an agent says about `[agents] mail_limit_per_hour`; all empty as a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LimitNotes {
    /// "" or: this email reaches the hourly limit, and until when later ones are held back.
    pub limit_note: String,
    /// "" or: how many emails to this agent were held back since when (then `held`).
    pub held_note: String,
    /// "Mon 10:02 GMT [Case #000004] New case (S3, Acme Corporation): Printer offline", the
    /// first held-back ones.
    pub held: Vec<String>,
}

/// A case for the agents: a new case, or a customer's follow-up on one.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyContext {
    /// The first line: an agent's reply is cut above it.
    pub reply_marker: String,
    /// "New case" or "Customer reply".
    pub event: String,
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    /// "Jane Doe <jane@acme.example>".
    pub customer: String,
    pub company: String,
    pub case_type: String,
    pub severity: String,
    pub severity_meaning: String,
    pub priority: String,
    pub status: String,
    /// The assigned agent's name, or "unassigned".
    pub assignee: String,
    /// "within 8 business hours".
    pub response_target: String,
    /// In the support calendar's zone, with "(met)" or "(missed)" once settled.
    pub response_due: String,
    /// The company's reference notes (special handling instructions).
    pub reference_notes: String,
    /// Its support budget: "12.5 of 40 h left (31%)"; empty when it bought none.
    pub budget: String,
    /// The customer's message (for a follow-up, its new text only), cut at
    /// `[agents] excerpt_bytes`.
    pub message: String,
    /// "" when `message` is whole, else e.g. "(first 64 kB of 24 MB shown; the whole message
    /// is kept on the case)".
    pub message_cut: String,
    /// "" when the customer was acknowledged (or was not meant to be), else why they could
    /// not be, e.g. "the address jane.@acme.example cannot be sent to (...)".
    pub ack_problem: String,
    /// "" unless mail we sent on the case bounced: then what the bounce says (the recipient,
    /// the status and the server's diagnostic), or that the message below has the details.
    pub undelivered: String,
    /// What `message` is: "Customer's message", "The bounce", "The CRM's note", "The team's
    /// answer".
    pub message_heading: String,
    /// Names of the customer's attachments, comma-separated; empty when none.
    pub attachments: String,
    #[serde(flatten)]
    pub limit: LimitNotes,
    /// The case page (`[http] public_url`), or "" without one.
    pub case_url: String,
}

/// An agent's reply as the customer receives it.
#[derive(Debug, Clone, Serialize)]
pub struct RelayContext {
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    /// What the agent wrote, without commands, quoted history or her sign-off.
    pub message: String,
    /// Her own closing lines ("Kind regards,\nAlice"), or "" when she wrote none.
    pub sign_off: String,
    pub agent_name: String,
    pub contact_name: String,
    pub support_address: String,
    /// "" or the re-grade the same reply made: "We have re-graded this case to …".
    pub regraded: String,
}

/// The customer's notice that an agent re-graded her case (when no reply of theirs told her).
#[derive(Debug, Clone, Serialize)]
pub struct RegradeContext {
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    pub severity: String,
    pub severity_meaning: String,
    pub case_type: String,
    /// What changed, as it was: "severity S3 (Medium – a subset of users affected)".
    pub was: String,
    /// "We have re-graded this case to severity S1 (…); we will respond by …".
    pub regraded: String,
    /// In the customer company's zone; "" once answered, or once the case is resolved or closed.
    pub response_due: String,
    /// Likewise; "" when no resolution target applies, or the case is resolved or closed.
    pub resolution_due: String,
    pub contact_name: String,
    pub support_address: String,
}

/// The customer's notice that their case is resolved, with the solution.
#[derive(Debug, Clone, Serialize)]
pub struct ResolutionContext {
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    pub solution: String,
    /// Her own greeting line ("Hi Jane,"), or "" when she wrote none.
    pub greeting: String,
    /// What the agent wrote with the resolution, without greeting and sign-off; may be empty.
    pub message: String,
    /// Her own closing lines, or "" when she wrote none.
    pub sign_off: String,
    pub agent_name: String,
    pub contact_name: String,
    pub support_address: String,
    /// Days after which a resolved case closes without a reply.
    pub close_after_days: u32,
    /// As in `RelayContext`.
    pub regraded: String,
}

/// Why an agent's reply did nothing: bad commands, or a failed authenticity check.
#[derive(Debug, Clone, Serialize)]
pub struct AgentErrorContext {
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    pub agent_name: String,
    /// One line each.
    pub problems: Vec<String>,
    /// "Nothing was applied and nothing was sent to the customer."
    pub outcome: String,
    pub support_address: String,
    #[serde(flatten)]
    pub limit: LimitNotes,
}

/// A case escalated to a team (or, for account matters, to the company's CRM).
#[derive(Debug, Clone, Serialize)]
pub struct EscalationContext {
    /// The first line: the team's reply is cut above it.
    pub reply_marker: String,
    /// "the Hosting team", "Engineering": as a sentence names it; the CRM's name for account matters.
    pub team: String,
    pub case_number: String,
    pub case_tag: String,
    pub subject: String,
    pub company: String,
    /// "Jane Doe <jane@acme.example>".
    pub customer: String,
    pub case_type: String,
    pub severity: String,
    pub severity_meaning: String,
    pub priority: String,
    pub status: String,
    pub assignee: String,
    /// The agent who escalated.
    pub escalated_by: String,
    /// Why, in the agent's words; empty when they gave none.
    pub reason: String,
    /// "due Tuesday 1 December 2026, 10:00 CET (within 4 business hours)", "met …" or "missed: …".
    pub response: String,
    /// Likewise, or "none: Bugs have no resolution target".
    pub resolution: String,
    pub reference_notes: String,
    /// The customer's messages so far, oldest first, within `[agents] excerpt_bytes`.
    pub messages: Vec<BriefMessage>,
    /// "" when every message is whole, else what was left out.
    pub messages_cut: String,
    /// "report.pdf (120 kB), screen.png (2 MB)"; empty when none.
    pub attachments: String,
    pub support_address: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BriefMessage {
    pub from: String,
    /// In the support calendar's zone.
    pub at: String,
    pub text: String,
}

fn sample_escalation() -> EscalationContext {
    EscalationContext {
        reply_marker: "##- Please type your reply above this line -##".into(),
        team: "the Hosting team".into(),
        case_number: "000123".into(),
        case_tag: "[Case #000123]".into(),
        subject: "Site down".into(),
        company: "Acme Corporation".into(),
        customer: "Jane Doe <jane@acme.example>".into(),
        case_type: "Query".into(),
        severity: "S1".into(),
        severity_meaning: "Critical – site offline for all users".into(),
        priority: "urgent".into(),
        status: "open".into(),
        assignee: "Jo Agent".into(),
        escalated_by: "Jo Agent".into(),
        reason: "Database server unreachable".into(),
        response: "met".into(),
        resolution: "due Tuesday 1 December 2026, 10:00 CET".into(),
        reference_notes: "Hosted on the EU cluster.".into(),
        messages: vec![BriefMessage {
            from: "Jane Doe <jane@acme.example>".into(),
            at: "Monday 30 November 2026, 09:12 CET".into(),
            text: "The site shows a database error.".into(),
        }],
        messages_cut: String::new(),
        attachments: "error.png (12 kB)".into(),
        support_address: "support@example.com".into(),
    }
}

fn sample_limit_notes() -> LimitNotes {
    LimitNotes {
        limit_note: "You have now had 30 emails from the desk within an hour, the most agents.mail_limit_per_hour \
                     allows. Until Mon 11:42 GMT, further notifications and refusals are not sent to you."
            .into(),
        held_note: "2 emails to you were not sent since Mon 10:02 GMT because of the hourly limit (30):".into(),
        held: vec![
            "Mon 10:02 GMT [Case #000124] New case (S3, Acme Corporation): Printer offline".into(),
            "Mon 10:03 GMT [Case #000125] New case (S3, Acme Corporation): Printer still offline".into(),
        ],
    }
}

const REGRADED: &str = "We have re-graded this case to severity S1 (Critical – site offline for all users); we will \
                        respond by Monday 7 December 2026, 10:00 EST and aim to resolve it by Tuesday 8 December 2026, \
                        10:00 EST.";

/// A sample of `kind`'s context holding every variable, for checking templates at start-up.
pub fn sample_context(kind: &str) -> Option<serde_json::Value> {
    let ack = AckContext {
        case_number: "000123".into(),
        case_tag: "[Case #000123]".into(),
        subject: "Printer offline".into(),
        case_type: "Query".into(),
        severity: "S3".into(),
        severity_meaning: "Medium – a subset of users affected".into(),
        response_target: "within 8 business hours".into(),
        response_due: "Tuesday 24 November 2026, 10:00 GMT".into(),
        resolution_target: "within 3 business days".into(),
        chosen: "You did not choose a severity or a type, so the case has our defaults: severity S3 (Medium – a \
                 subset of users affected), type Query."
            .into(),
        how_to_choose: "To choose, put them in brackets in the subject, e.g. [S1] or [S2 Request].".into(),
        support_hours: "Monday to Friday, 09:00–17:00 (Europe/London)".into(),
        contact_name: "Jane Doe".into(),
        contact_email: "jane@acme.example".into(),
        company: "Acme".into(),
        support_address: "support@example.com".into(),
    };
    let alert = AlertContext {
        case_number: "000123".into(),
        case_tag: "[Case #000123]".into(),
        subject: "Printer offline".into(),
        severity: "S2".into(),
        severity_meaning: "High – many users blocked, no workaround".into(),
        company: "Acme".into(),
        contact: "jane@acme.example".into(),
        headline: "S2: first response due in 1 h (75% of the target used)".into(),
        target: "first response".into(),
        level: "75% of the target used".into(),
        due: "Friday 20 November 2026, 11:00 GMT".into(),
        time_left: "1 h".into(),
        levels: "first response 75% of the target used".into(),
        reference_notes: "Never restart production during US hours.".into(),
        escalated: "the Hosting team (since Friday 20 November 2026, 09:30 GMT)".into(),
        case_url: "https://desk.example.com/cases/000123".into(),
        reply_marker: "##- Please type your reply above this line -##".into(),
        answer: "Reply above the marker line to answer the customer on this case.".into(),
        greeting: "Hello Carol Jones,".into(),
    };
    let tag = || "[Case #000123]".to_owned();
    let notify = NotifyContext {
        reply_marker: "##- Please type your reply above this line -##".into(),
        event: "New case".into(),
        case_number: "000123".into(),
        case_tag: tag(),
        subject: "Printer offline".into(),
        customer: "Jane Doe <jane@acme.example>".into(),
        company: "Acme".into(),
        case_type: "Query".into(),
        severity: "S3".into(),
        severity_meaning: "Medium – a subset of users affected".into(),
        priority: "normal".into(),
        status: "new".into(),
        assignee: "unassigned".into(),
        response_target: "within 8 business hours".into(),
        response_due: "Tuesday 24 November 2026, 10:00 GMT".into(),
        reference_notes: "Never restart production during US hours.".into(),
        budget: "12.5 of 40 h left (31%)".into(),
        message: "The printer on floor 2 is offline.".into(),
        message_cut: "(first 64 kB of 24 MB shown; the whole message is kept on the case)".into(),
        ack_problem: "the address jane.@acme.example cannot be sent to".into(),
        undelivered: "Final-Recipient: rfc822; jane@acme.example; Status: 5.1.1; Diagnostic-Code: smtp; 550 5.1.1 \
                      User unknown"
            .into(),
        message_heading: "Customer's message".into(),
        attachments: "screenshot.png".into(),
        limit: sample_limit_notes(),
        case_url: "https://desk.example.com/cases/000123".into(),
    };
    let relay = RelayContext {
        case_number: "000123".into(),
        case_tag: tag(),
        subject: "Printer offline".into(),
        message: "Please restart the spooler.".into(),
        sign_off: "Kind regards,\nAlice".into(),
        agent_name: "Alice Smith".into(),
        contact_name: "Jane Doe".into(),
        support_address: "support@example.com".into(),
        regraded: REGRADED.into(),
    };
    let regrade = RegradeContext {
        case_number: "000123".into(),
        case_tag: tag(),
        subject: "Printer offline".into(),
        severity: "S1".into(),
        severity_meaning: "Critical – site offline for all users".into(),
        case_type: "Query".into(),
        was: "severity S3 (Medium – a subset of users affected)".into(),
        regraded: REGRADED.into(),
        response_due: "Monday 7 December 2026, 10:00 EST".into(),
        resolution_due: "Tuesday 8 December 2026, 10:00 EST".into(),
        contact_name: "Jane Doe".into(),
        support_address: "support@example.com".into(),
    };
    let resolution = ResolutionContext {
        case_number: "000123".into(),
        case_tag: tag(),
        subject: "Printer offline".into(),
        solution: "Replaced the print server's certificate.".into(),
        greeting: "Hi Jane,".into(),
        message: "All done.".into(),
        sign_off: "Kind regards,\nAlice".into(),
        agent_name: "Alice Smith".into(),
        contact_name: "Jane Doe".into(),
        support_address: "support@example.com".into(),
        close_after_days: 7,
        regraded: REGRADED.into(),
    };
    let agent_error = AgentErrorContext {
        case_number: "000123".into(),
        case_tag: tag(),
        subject: "Printer offline".into(),
        agent_name: "Alice Smith".into(),
        problems: vec!["#status sleeping: expected a status (new, open, pending, resolved, closed)".into()],
        outcome: "Nothing was applied and nothing was sent to the customer.".into(),
        support_address: "support@example.com".into(),
        limit: sample_limit_notes(),
    };
    match kind {
        "ack" => serde_json::to_value(ack).ok(),
        "report_howto" => serde_json::to_value(ReportHowtoContext {
            contact_name: "Carol CRM".into(),
            subject: "#report 2026-11".into(),
            company: "Acme Corporation".into(),
            example: "#report 2026-11".into(),
            support_address: "support@example.com".into(),
            by_reply: true,
            signed: false,
        })
        .ok(),
        "crm_reply" => serde_json::to_value(CrmReplyContext {
            crm_name: "Carol CRM".into(),
            crm_email: "carol@example.com".into(),
            company: "Acme Corporation".into(),
            subject: "Re: Support report for Acme Corporation, November 2026".into(),
            replied_to: "support report".into(),
            message: "Thanks! Can we discuss the S2 breaches on Monday?".into(),
            message_cut: String::new(),
            attachments: "notes.pdf".into(),
            support_address: "support@example.com".into(),
        })
        .ok(),
        "not_member" => serde_json::to_value(NotMemberContext {
            contact_name: "sam@acme.example".into(),
            subject: "Printer offline".into(),
            who_may_open: "key members of our customers' teams".into(),
            company: "Acme".into(),
            crm_name: "Carol CRM".into(),
            crm_email: "carol@example.com".into(),
            support_address: "support@example.com".into(),
        })
        .ok(),
        "budget" => serde_json::to_value(BudgetContext {
            company: "Acme Corporation".into(),
            threshold: "10%".into(),
            purchased_hours: "40".into(),
            used_hours: "36.5".into(),
            remaining_hours: "3.5".into(),
            remaining_pct: "9%".into(),
            remaining_money: "EUR 350.00".into(),
            overdrawn_hours: String::new(),
            crm_name: "Carol CRM".into(),
            support_address: "support@example.com".into(),
            answer: "A reply to this email goes to Carol CRM, the Client Relationship Manager.".into(),
            greeting: "Hello Carol CRM,".into(),
        })
        .ok(),
        "report" => serde_json::to_value(ReportContext {
            company: "Acme Corporation".into(),
            period: "November 2026".into(),
            cases: 15,
            by_channel: "12 by email, 3 by phone".into(),
            resolved: 11,
            open: 4,
            sla: vec![ReportSlaLine {
                severity: "S2".into(),
                cases: 5,
                responses: "4 of 5 (80%)".into(),
                resolutions: "3 of 3 (100%)".into(),
                exempt: 1,
                median_response: "1.5 h".into(),
                median_resolution: "9 h".into(),
                breaches: 1,
                closed_unanswered: 1,
            }],
            budget: "12.5 of 40 h left, EUR 1,250.00".into(),
            budget_used: "6.5 h (EUR 650.00)".into(),
            chart: "sla-2026-11.png".into(),
            chart_cid: "chart.supportd.report.20261201080000.4242.0@example.com".into(),
            chart_width: 800,
            chart_height: 440,
            crm_name: "Carol CRM".into(),
            support_address: "support@example.com".into(),
        })
        .ok(),
        "alert" => serde_json::to_value(alert).ok(),
        "notify" => serde_json::to_value(notify).ok(),
        "relay" => serde_json::to_value(relay).ok(),
        "resolution" => serde_json::to_value(resolution).ok(),
        "regrade" => serde_json::to_value(regrade).ok(),
        "agent_error" => serde_json::to_value(agent_error).ok(),
        "escalation" => serde_json::to_value(sample_escalation()).ok(),
        "held_digest" => serde_json::to_value(super::held_digest::sample()).ok(),
        _ => None,
    }
}
