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
    /// "Monday to Friday, 09:00–17:00 (Europe/London)".
    pub support_hours: String,
    pub contact_name: String,
    pub contact_email: String,
    /// Empty when the sender belongs to no known company.
    pub company: String,
    pub support_address: String,
}

/// A warning before a target lapses, or its breach, for agents and the CRM.
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
    /// "first response" or "resolution".
    pub target: String,
    /// "warning (75% before the lapse)", "warning (15m before the lapse)" or "breached".
    pub level: String,
    /// When the target lapses, in the support calendar's zone.
    pub due: String,
    /// Business time left, e.g. "45 business minutes".
    pub time_left: String,
    /// Every level this email stands for, e.g. "respond 75%, respond 15m".
    pub levels: String,
    /// The company's reference notes (special handling instructions).
    pub reference_notes: String,
}

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
        target: "first response".into(),
        level: "warning (75% before the lapse)".into(),
        due: "Friday 20 November 2026, 11:00 GMT".into(),
        time_left: "60 business minutes".into(),
        levels: "respond 75%".into(),
        reference_notes: "Never restart production during US hours.".into(),
    };
    match kind {
        "ack" => serde_json::to_value(ack).ok(),
        "alert" => serde_json::to_value(alert).ok(),
        _ => None,
    }
}
