//! What the hourly digest of people's held mail gets (`templates/held_digest.*`). Every
//! field is documented in templates/README.md.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct HeldDigestContext {
    /// How many held messages of people are new since the last digest (listed, and `more`).
    pub count: usize,
    pub messages: Vec<HeldDigestLine>,
    /// "3 more are held: supportd held list", or "".
    pub more: String,
    pub support_address: String,
}

/// One held message. No display name: it is whatever the sender chose to write.
#[derive(Debug, Clone, Serialize)]
pub struct HeldDigestLine {
    pub id: i64,
    /// `not_member` or `report_request`.
    pub kind: String,
    /// The sender's address.
    pub from: String,
    /// The subject, on one line and at most 200 characters (`domain::text::phrase`).
    pub subject: String,
    /// When it arrived, in the support calendar's zone.
    pub received: String,
    /// The reason it was held, bounded as the subject.
    pub reason: String,
    /// What `held release ID` does with it: "Open a case", or "Send the report".
    pub release: String,
    /// Whether it can be added to a case (`--to-case`): not a `#report` request.
    pub to_case: bool,
}

pub fn sample() -> HeldDigestContext {
    HeldDigestContext {
        count: 1,
        messages: vec![HeldDigestLine {
            id: 42,
            kind: "not_member".into(),
            from: "sam@acme.example".into(),
            subject: "Exports fail".into(),
            received: "Monday 7 December 2026, 10:00 GMT".into(),
            reason: "sam@acme.example is not a key member of Acme".into(),
            release: "Open a case".into(),
            to_case: true,
        }],
        more: "3 more are held: supportd held list".into(),
        support_address: "support@example.com".into(),
    }
}
