//! Mail that must never be acknowledged: auto-replies, bounces, lists, spam verdicts and
//! supportd's own messages. Such mail joins the case it threads to and changes nothing; mail
//! that threads to no case is held (`cases::intake`). This says what it is and why.

use crate::domain::{EmailAddress, LocalPartCase};
use crate::mail::ParsedMessage;
pub use crate::storage::entities::held_mail::Kind;

/// Automated mail: what kind, and the header or phrase that gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Automated {
    pub kind: Kind,
    pub reason: String,
}

/// `None` for mail a person wrote, which may be acknowledged.
pub fn automated(msg: &ParsedMessage, own: &[EmailAddress], no_reply_patterns: &[String]) -> Option<Automated> {
    let reason = no_ack_reason(msg, own, no_reply_patterns)?;
    Some(Automated { kind: kind_of(msg, own), reason })
}

/// The kind of a message already found automated: the strongest sign wins, so a bounce that
/// also says `Auto-Submitted: auto-replied` is a bounce.
fn kind_of(msg: &ParsedMessage, own: &[EmailAddress]) -> Kind {
    let header = |name: &str| msg.header(name).map(|v| v.trim().to_ascii_lowercase());
    let content_type = msg.content_type.to_ascii_lowercase();
    let subject = msg.subject.to_lowercase();
    let return_path = header("return-path").map(|v| v.trim_matches(['<', '>', ' ']).to_owned());
    let mail_system = |address: &str| {
        let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
        MAIL_SYSTEMS.contains(&local)
    };
    let sender = msg.from.address.as_str().to_ascii_lowercase();
    let from_mail_system =
        mail_system(&sender) || return_path.as_deref().is_some_and(|p| p.is_empty() || mail_system(p));
    if content_type.contains("delivery-status")
        || msg.header("x-failed-recipients").is_some()
        || msg.carries_report && is_delivery_failure(&subject)
        || AUTOMATED_SUBJECT_PHRASES[..BOUNCE_PHRASES].iter().any(|p| subject.contains(p))
        || from_mail_system && !content_type.starts_with("multipart/report")
    {
        return Kind::Bounce;
    }
    if content_type.starts_with("multipart/report") || subject.contains("complaint about message from") {
        return Kind::Report;
    }
    let precedence = header("precedence").map(|v| v.trim_matches(['"', ' ']).to_owned()).unwrap_or_default();
    // Before the list signs: vacation responders send `Precedence: bulk` too.
    let auto_reply = header("auto-submitted").is_some_and(|v| v.starts_with("auto-replied"))
        || precedence.starts_with("auto_reply")
        || ["x-autoreply", "x-autorespond"].iter().any(|h| msg.header(h).is_some())
        || AUTO_REPLY_SUBJECTS.iter().any(|p| subject.starts_with(p))
        || AUTOMATED_SUBJECT_PHRASES[BOUNCE_PHRASES..].iter().any(|p| subject.contains(p));
    if auto_reply || msg.header("x-auto-response-suppress").is_some() && !from_mail_system {
        return Kind::AutoReply;
    }
    let list_headers = ["list-id", "list-unsubscribe", "list-post", "mailing-list"];
    if list_headers.iter().any(|h| msg.header(h).is_some())
        || ["bulk", "list", "junk"].iter().any(|p| precedence.starts_with(p))
    {
        return Kind::List;
    }
    if header("x-spam-flag").is_some_and(|v| v.starts_with("yes"))
        || header("x-spam-status").is_some_and(|v| v.starts_with("yes"))
    {
        return Kind::Spam;
    }
    if is_own(own, &msg.from.address) {
        return Kind::OwnMail;
    }
    Kind::NoReply
}

/// Why `msg` gets no acknowledgement, or `None` when it may get one.
pub fn no_ack_reason(msg: &ParsedMessage, own: &[EmailAddress], no_reply_patterns: &[String]) -> Option<String> {
    let header = |name: &str| msg.header(name).map(|v| v.trim().to_ascii_lowercase());
    if let Some(v) = header("auto-submitted")
        && !v.starts_with("no")
    {
        return Some(format!("Auto-Submitted: {v}"));
    }
    // `Precedence: "bulk"` is seen in the wild too.
    if let Some(v) = header("precedence").map(|v| v.trim_matches(['"', ' ']).to_owned())
        && ["bulk", "junk", "list", "auto_reply"].iter().any(|p| v.starts_with(p))
    {
        return Some(format!("Precedence: {v}"));
    }
    for name in [
        "list-id",
        "list-unsubscribe",
        "list-post",
        "mailing-list",
        "x-auto-response-suppress",
        "x-autoreply",
        "x-autorespond",
    ] {
        if msg.header(name).is_some() {
            return Some(format!("{name} header present"));
        }
    }
    if msg.content_type.starts_with("multipart/report") {
        return Some(format!("delivery or read report ({})", msg.content_type));
    }
    if let Some(v) = header("return-path") {
        let path = v.trim_matches(['<', '>', ' ']);
        if path.is_empty() {
            return Some("null return path (<>)".into());
        }
        // VERP: bulk senders route bounces to `bounces+<recipient>@…` addresses.
        let local = path.rsplit_once('@').map_or(path, |(l, _)| l);
        if MAIL_SYSTEMS.contains(&local) {
            return Some(format!("return path {path} is a mail system"));
        }
        if local.starts_with("bounce") || local.contains("-bounces") {
            return Some(format!("bulk sender (bounce-handling return path {path})"));
        }
    }
    if let Some(v) = header("x-spam-flag")
        .filter(|v| v.starts_with("yes"))
        .or_else(|| header("x-spam-status").filter(|v| v.starts_with("yes")))
    {
        return Some(format!("marked as spam by the mail server ({v})"));
    }
    let subject = msg.subject.to_lowercase();
    if let Some(phrase) = AUTO_REPLY_SUBJECTS.iter().find(|p| subject.starts_with(*p)) {
        return Some(format!("auto-reply subject ({phrase:?})"));
    }
    if let Some(phrase) = AUTOMATED_SUBJECT_PHRASES.iter().find(|p| subject.contains(*p)) {
        return Some(format!("bounce or auto-reply subject ({phrase:?})"));
    }
    if msg.carries_report && is_delivery_failure(&subject) {
        return Some(format!("returned message under a delivery-failure subject ({:?})", msg.subject));
    }
    if msg.header("x-failed-recipients").is_some() {
        return Some("X-Failed-Recipients header present".into());
    }
    let opening: String = msg.text_body.chars().take(2000).collect::<String>().to_lowercase();
    if let Some(phrase) = CHALLENGE_RESPONSE_PHRASES.iter().find(|p| opening.contains(*p)) {
        return Some(format!("challenge-response system ({phrase:?})"));
    }
    let sender = &msg.from.address;
    let local = sender.local_part().to_ascii_lowercase();
    if MAIL_SYSTEMS.contains(&local.as_str()) {
        return Some(format!("sender {sender} is a mail system"));
    }
    if is_own(own, sender) {
        return Some(format!("sender {sender} is supportd's own address"));
    }
    no_reply_patterns
        .iter()
        .find(|p| glob_match(&p.to_ascii_lowercase(), &sender.as_str().to_ascii_lowercase()))
        .map(|p| format!("sender {sender} matches no-reply pattern {p:?}"))
}

/// Whether `sender` is one of our own addresses, by `EmailAddress::key` with local parts
/// compared without case: taking a look-alike for ours would only hold back its ack.
fn is_own(own: &[EmailAddress], sender: &EmailAddress) -> bool {
    own.iter().any(|a| LocalPartCase::Insensitive.same(a, sender))
}

/// Local parts of the mail system's own senders (and of their return paths).
const MAIL_SYSTEMS: &[&str] = &["mailer-daemon", "postmaster", "post_master", "mail-daemon"];

/// A delivery-failure subject ("Message not delivered", "Delivery has failed", "Returned
/// mail"), asked only of a message that carries a report or a returned message: a customer
/// forwarding "Fwd: Delivery schedule" with the email attached is no bounce.
fn is_delivery_failure(subject: &str) -> bool {
    ["undeliver", "nondeliver", "non-deliver", "returned mail", "bounced"].iter().any(|w| subject.contains(w))
        || subject.contains("deliver")
            && ["fail", "not ", "status", "delayed", "error"].iter().any(|w| subject.contains(w))
}

/// Subjects that start like an auto-reply, in the languages seen in real out-of-office mail.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto:",
    "automatische antwort",
    "out of office",
    "autorespons",
    "réponse automatique",
    "abwesenheitsnotiz",
    "risposta automatica",
    "respuesta automática",
];

/// Phrases that mark a delivery report or an out-of-office wherever they stand (a bounce is
/// often forwarded, "Fwd: Returned mail: …"): the first `BOUNCE_PHRASES` are bounces'.
const AUTOMATED_SUBJECT_PHRASES: &[&str] = &[
    "returned mail",
    "undeliverable:",
    "undelivered mail",
    "delivery status notification",
    "delivery failure",
    "delivery has failed",
    "(delivery failed)",
    "mail delivery failed",
    "failure notice",
    "is out of the office",
    "automatiska atbilde",
    "loop alert",
    // Hotmail's abuse reports (ARF-like, but multipart/mixed).
    "complaint about message from",
];

const BOUNCE_PHRASES: usize = 9;

/// Spam-filter challenges ("click to be added to the allowed list"): answering one confirms
/// our address to a robot.
const CHALLENGE_RESPONSE_PHRASES: &[&str] = &[
    "have your address added to the recipient's allowed list",
    "this account is protected by bluebottle",
    "is protected by boxbe",
    "spamarrest",
    "please verify that you are a human",
    "to complete delivery of your message, please",
];

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| {
                    let rest = &text[head.len() + i..];
                    text.is_char_boundary(head.len() + i) && glob_match(tail, rest)
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse;

    fn reason(headers: &str) -> Option<String> {
        reason_from("Jane <jane@acme.example>", "Help", headers)
    }

    fn reason_from(from: &str, subject: &str, headers: &str) -> Option<String> {
        let raw = format!("From: {from}\r\nSubject: {subject}\r\n{headers}\r\nbody\r\n");
        let msg = parse(raw.as_bytes()).unwrap();
        no_ack_reason(&msg, &["support@example.com".parse().unwrap()], &["noreply@*".into()])
    }

    #[test]
    fn human_mail_gets_an_ack() {
        assert_eq!(reason(""), None);
        assert_eq!(reason("Auto-Submitted: no\r\n"), None);
    }

    #[test]
    fn automation_gets_none() {
        for h in [
            "Auto-Submitted: auto-replied\r\n",
            "Auto-Submitted: auto-generated\r\n",
            "Precedence: bulk\r\n",
            "Precedence: junk\r\n",
            "Precedence: list\r\n",
            "List-Id: <x.lists.example>\r\n",
            "List-Unsubscribe: <mailto:leave@lists.example>\r\n",
            "List-Post: <mailto:x@lists.example>\r\n",
            "X-Auto-Response-Suppress: All\r\n",
            "X-Autoreply: yes\r\n",
            "X-Autorespond: yes\r\n",
            "X-Failed-Recipients: gone@example.com\r\n",
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=x\r\n",
            "Return-Path: <bounces-main+jane=acme.example@news.example>\r\n",
            "Return-Path: <>\r\n",
            "X-Spam-Flag: YES\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n",
            "Precedence: \"bulk\"\r\n",
            "Return-Path: <MAILER-DAEMON@mx.example>\r\n",
            "Return-Path: <postmaster@mx.example>\r\n",
        ] {
            assert!(reason(h).is_some(), "{h}");
        }
    }

    #[test]
    fn senders_and_subjects() {
        assert!(reason_from("MAILER-DAEMON@mx.example", "Hi", "").is_some());
        assert!(reason_from("postmaster@mx.example", "Hi", "").is_some());
        assert!(reason_from("noreply@bank.example", "Hi", "").is_some(), "no-reply pattern");
        assert!(reason_from("Support <support@example.com>", "Hi", "").is_some(), "our own address");
        assert!(reason_from("a@b.example", "Automatic reply: Printer", "").is_some());
        assert!(reason_from("a@b.example", "Fwd: Returned mail: see transcript", "").is_some());
        assert!(reason_from("a@b.example", "Question about undelivered invoices", "").is_none());
        assert!(reason_from("Support <SUPPORT@Example.com>", "Hi", "").is_some(), "our own address in capitals");
    }

    /// A bounce from an ordinary-looking address: a returned message under a failure subject.
    #[test]
    fn a_returned_message_under_a_failure_subject_is_a_bounce() {
        let bounce = |subject: &str, part: &str| {
            let raw = format!(
                "From: Mail Gateway <gateway@mx.example>\r\nSubject: {subject}\r\n\
                 Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
                 Your message could not be delivered.\r\n--b\r\nContent-Type: {part}\r\n\r\n\
                 Message-ID: <ack-1@example.com>\r\nSubject: x\r\n\r\n--b--\r\n"
            );
            no_ack_reason(&parse(raw.as_bytes()).unwrap(), &[], &[])
        };
        for part in ["message/delivery-status", "message/rfc822", "text/rfc822-headers"] {
            assert!(bounce("Message not delivered", part).is_some(), "{part}");
        }
        assert!(bounce("Undeliverable: Printer", "message/rfc822").is_some());
        assert!(bounce("Our new price list", "message/rfc822").is_none(), "a forwarded email is no bounce");
        assert!(bounce("Fwd: Delivery schedule", "message/rfc822").is_none(), "nor one about deliveries");
        assert!(bounce("Message not delivered", "text/plain").is_none(), "no report, no bounce by subject alone");
    }

    #[test]
    fn globs() {
        assert!(glob_match("noreply@*", "noreply@bank.example"));
        assert!(glob_match("*@bounces.*", "x@bounces.example"));
        assert!(!glob_match("noreply@*", "jane@example.com"));
    }
}
