//! What the web pages' templates (`templates/web/*.html.hbs`) get: text already worded and
//! formatted, so a template only lays it out. Every field is documented in templates/README.md.

use serde::Serialize;

/// The pages, each `templates/web/<name>.html.hbs`.
pub const PAGES: &[&str] = &["live", "list", "case"];

/// A case in a list: its row on the live view.
#[derive(Debug, Clone, Serialize)]
pub struct CaseLine {
    pub number: String,
    /// The case page's address, relative to the live view (`cases/000123`).
    pub link: String,
    pub summary: String,
    pub company: String,
    pub contact: String,
    pub severity: String,
    pub status: String,
    /// The assigned agent's name, or "".
    pub assignee: String,
    /// Their address (for a `title`), or "".
    pub assignee_address: String,
    /// The teams it is escalated to now, or "".
    pub teams: String,
    pub clocks: Vec<Clock>,
    /// The worst of its clocks: `breached`, `warned`, `soon`, `ok`, `paused`, `missed`, `met`
    /// or `none`.
    pub state: String,
}

/// One SLA target of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Clock {
    /// `first response` or `resolution`.
    pub target: String,
    /// `breached`, `warned`, `soon` (within an hour of business time, not warned), `ok`,
    /// `paused`, `missed` (settled late, or closed without a response) or `met`: for a CSS class.
    pub state: String,
    /// The state in words, so it does not rest on colour: `Breached`, `Warning`, `Due soon`,
    /// `On track`, `Paused`, `Missed`, `Met`.
    pub label: String,
    /// Business time: `2 h 15 min left`, `45 min over`; "" once met.
    pub left: String,
    /// The due time in the support time zone; "" once met or while paused.
    pub due: String,
}

/// A count with its name: a status, a severity, a company.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// An agent's open cases (agent "Unassigned" for those without one): how many, and where
/// they are listed.
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    /// The agent's name.
    pub agent: String,
    /// Their address (for a `title`); "" for the unassigned.
    pub address: String,
    pub count: u64,
    /// The queue's first page, relative to the live view (`?section=queue&agent=3`).
    pub link: String,
}

/// A page of a list of cases: one of the live view's sections, or all of one on its own page.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSection {
    /// How many cases the whole list holds.
    pub count: u64,
    /// At most `[http] page_size` of them, most urgent first.
    pub cases: Vec<CaseLine>,
    /// The next page, relative to the live view (`?section=open&after=…`); "" on the last.
    pub more: String,
}

/// Held or quarantined mail.
#[derive(Debug, Clone, Serialize)]
pub struct KeptMail {
    pub id: i64,
    pub mailbox: String,
    /// "" for quarantined mail: what could not be read is not shown.
    pub from: String,
    pub subject: String,
    pub reason: String,
    pub received: String,
}

/// A mail the outbox has not delivered yet (or gave up on).
#[derive(Debug, Clone, Serialize)]
pub struct OutboxLine {
    pub id: i64,
    pub status: String,
    pub to: String,
    pub subject: String,
    pub attempts: i32,
    pub error: String,
    pub queued: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxHealth {
    pub by_status: Vec<Count>,
    /// "12 min", or "" when every mail went.
    pub oldest_unsent: String,
    /// Mail not sent yet, oldest first (at most 20).
    pub waiting: Vec<OutboxLine>,
    /// Mail given up on, newest first (at most 10).
    pub failed: Vec<OutboxLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub company: String,
    pub purchased: String,
    pub used: String,
    pub remaining: String,
    pub remaining_pct: String,
    /// `ok`, `low` (a `[budget] warn_at` threshold reached) or `overdrawn`.
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    pub name: String,
    /// `ok`; `silent` (no good fetch within its limit, as `/readyz` and the alarms judge);
    /// `failing` (its last pass failed); `waiting` (no pass yet).
    pub state: String,
    pub last_fetch: String,
    pub error: String,
}

/// `/`: the support lead's view of the desk.
#[derive(Debug, Clone, Serialize)]
pub struct LivePage {
    pub title: String,
    /// The site's root relative to this page (`""`), for the stylesheet and links.
    pub root: String,
    /// When the page was made, in the support time zone.
    pub generated: String,
    pub refresh_seconds: u32,
    pub support_hours: String,
    pub open_count: u64,
    pub by_status: Vec<Count>,
    pub by_severity: Vec<Count>,
    /// The companies with the most open cases, at most `[http] page_size` of them.
    pub by_company: Vec<Count>,
    /// Companies with open cases not in `by_company`.
    pub more_companies: u64,
    /// Open cases, most urgent first.
    pub open: CaseSection,
    pub breached: CaseSection,
    /// Not breached, but warned of or within an hour of business time of a target.
    pub at_risk: CaseSection,
    pub queues: Vec<Queue>,
    pub held_count: u64,
    /// The newest 20.
    pub held: Vec<KeptMail>,
    pub quarantined_count: u64,
    pub quarantined: Vec<KeptMail>,
    pub outbox: OutboxHealth,
    pub budgets: Vec<Budget>,
    pub mailboxes: Vec<Mailbox>,
}

/// `/?section=…`: one list of the live view, a page at a time.
#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub title: String,
    pub root: String,
    /// 0: a page further down a list does not reload itself.
    pub refresh_seconds: u32,
    pub generated: String,
    /// `Breached`, `At risk`, `Open cases`, `Ann Lee's queue`.
    pub heading: String,
    /// The list's first page (`?section=open`), or "" when this is it.
    pub first: String,
    pub list: CaseSection,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageMessage {
    /// `in` (from the customer's side) or `out`.
    pub direction: String,
    pub from: String,
    pub subject: String,
    pub received: String,
    /// An agent's note, or a reply the customer never saw.
    pub internal: bool,
    /// Why it was not acknowledged, decoding problems: "" when none.
    pub flags: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageEvent {
    pub at: String,
    /// An agent's name, else the address (a customer's, a team's), or `system`.
    pub actor: String,
    /// The agent's address, shown on hover, when `actor` is their name; else empty.
    pub actor_address: String,
    /// "status: new → open", "assignee: Ann Lee".
    pub what: String,
}

/// "hosting since …, by Ann Lee: why; ended … by Bob Roe", people named with their address
/// on hover as events name theirs.
#[derive(Debug, Clone, Serialize)]
pub struct PageEscalation {
    pub team: String,
    pub since: String,
    /// An agent's name, else the address; `by_address` the named agent's address, else empty.
    pub by: String,
    pub by_address: String,
    pub why: String,
    /// When it ended; empty while the case is with the team.
    pub until: String,
    pub ended_by: String,
    pub ended_by_address: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageSent {
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub when: String,
    pub error: String,
}

/// `/cases/NNNNNN`: one case, read-only.
#[derive(Debug, Clone, Serialize)]
pub struct CasePage {
    pub title: String,
    /// The site's root relative to this page (`../`).
    pub root: String,
    /// 0: the page does not reload itself.
    pub refresh_seconds: u32,
    pub generated: String,
    #[serde(flatten)]
    pub case: CaseLine,
    pub case_type: String,
    pub priority: String,
    pub channel: String,
    pub created: String,
    pub updated: String,
    pub error_category: String,
    pub solution: String,
    pub opened_because: String,
    pub cc: String,
    pub reference_notes: String,
    pub budget: String,
    pub messages: Vec<PageMessage>,
    /// "The latest 200 of 3,000 messages: …", when the page holds only those.
    pub messages_more: String,
    pub events: Vec<PageEvent>,
    pub events_more: String,
    pub sent: Vec<PageSent>,
    pub sent_more: String,
    pub escalations: Vec<PageEscalation>,
}

/// A sample holding every field, for checking the page templates.
pub fn sample_page(name: &str) -> Option<serde_json::Value> {
    let clock = Clock {
        target: "first response".into(),
        state: "breached".into(),
        label: "Breached".into(),
        left: "45 min over".into(),
        due: "Fri 20 Nov 10:00 GMT".into(),
    };
    let line = CaseLine {
        number: "000123".into(),
        link: "cases/000123".into(),
        summary: "Printer offline".into(),
        company: "Acme".into(),
        contact: "jane@acme.example".into(),
        severity: "S2".into(),
        status: "open".into(),
        assignee: "Ann Agent".into(),
        assignee_address: "ann@example.com".into(),
        teams: "hosting".into(),
        clocks: vec![clock],
        state: "breached".into(),
    };
    let count = || vec![Count { name: "open".into(), count: 1 }];
    let section = || CaseSection { count: 2, cases: vec![line.clone()], more: "?section=open&after=x".into() };
    let kept = || {
        vec![KeptMail {
            id: 1,
            mailbox: "support".into(),
            from: "x@y.example".into(),
            subject: "s".into(),
            reason: "r".into(),
            received: "t".into(),
        }]
    };
    let value = match name {
        "list" => serde_json::to_value(ListPage {
            title: "supportd: breached".into(),
            root: "".into(),
            refresh_seconds: 0,
            generated: "t".into(),
            heading: "Breached".into(),
            first: "?section=breached".into(),
            list: CaseSection { count: 1, cases: vec![line.clone()], more: "?section=breached&after=x".into() },
        }),
        "live" => serde_json::to_value(LivePage {
            title: "supportd".into(),
            root: "".into(),
            generated: "Fri 20 Nov 10:45 GMT".into(),
            refresh_seconds: 30,
            support_hours: "Monday to Friday, 09:00–17:00 (Europe/London)".into(),
            open_count: 1,
            by_status: count(),
            by_severity: count(),
            by_company: count(),
            more_companies: 1,
            open: section(),
            breached: section(),
            at_risk: section(),
            queues: vec![Queue {
                agent: "Ann Agent".into(),
                address: "ann@example.com".into(),
                count: 1,
                link: "?section=queue&agent=1".into(),
            }],
            held_count: 1,
            held: kept(),
            quarantined_count: 1,
            quarantined: kept(),
            outbox: OutboxHealth {
                by_status: count(),
                oldest_unsent: "12 min".into(),
                waiting: vec![OutboxLine {
                    id: 1,
                    status: "queued".into(),
                    to: "jane@acme.example".into(),
                    subject: "s".into(),
                    attempts: 2,
                    error: "421".into(),
                    queued: "t".into(),
                }],
                failed: vec![OutboxLine {
                    id: 2,
                    status: "failed".into(),
                    to: "gone@acme.example".into(),
                    subject: "s".into(),
                    attempts: 1,
                    error: "550 5.1.1 user unknown".into(),
                    queued: "t".into(),
                }],
            },
            budgets: vec![Budget {
                company: "Acme".into(),
                purchased: "40".into(),
                used: "30".into(),
                remaining: "10".into(),
                remaining_pct: "25%".into(),
                state: "low".into(),
            }],
            mailboxes: vec![Mailbox {
                name: "support".into(),
                state: "failing".into(),
                last_fetch: "t".into(),
                error: "authentication failed".into(),
            }],
        }),
        "case" => serde_json::to_value(CasePage {
            title: "[Case #000123] Printer offline".into(),
            root: "../".into(),
            refresh_seconds: 0,
            generated: "t".into(),
            case: line,
            case_type: "Query".into(),
            priority: "normal".into(),
            channel: "email".into(),
            created: "t".into(),
            updated: "t".into(),
            error_category: "network".into(),
            solution: "s".into(),
            opened_because: "r".into(),
            cc: "bob@acme.example".into(),
            reference_notes: "n".into(),
            budget: "12 of 40 h left (30%)".into(),
            messages: vec![PageMessage {
                direction: "in".into(),
                from: "jane@acme.example".into(),
                subject: "s".into(),
                received: "t".into(),
                internal: true,
                flags: "f".into(),
                body: "b".into(),
            }],
            messages_more: "The latest 200 of 3000 messages.".into(),
            events_more: "The latest 200 of 3000 events.".into(),
            sent_more: "The latest 200 of 3000 mails sent.".into(),
            events: vec![PageEvent {
                at: "t".into(),
                actor: "Alice Smith".into(),
                actor_address: "alice@example.com".into(),
                what: "w".into(),
            }],
            sent: vec![PageSent {
                kind: "ack".into(),
                to: "jane@acme.example".into(),
                subject: "s".into(),
                status: "sent".into(),
                when: "t".into(),
                error: "421 try later".into(),
            }],
            escalations: vec![PageEscalation {
                team: "hosting".into(),
                since: "t".into(),
                by: "Alice Smith".into(),
                by_address: "alice@example.com".into(),
                why: "disk full".into(),
                until: "t".into(),
                ended_by: "Bob Roe".into(),
                ended_by_address: "bob@example.com".into(),
            }],
        }),
        _ => return None,
    };
    value.ok()
}
