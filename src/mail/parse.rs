//! Raw bytes to `ParsedMessage`: everything later stages need, decoded once.

use std::collections::HashSet;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::domain::EmailAddress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: Option<String>,
    pub address: EmailAddress,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct ParsedMessage {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Party,
    /// Why `from` cannot be taken for the sender (two From headers, a From naming two
    /// mailboxes): such mail is a stranger's, whatever address it shows (`trusted_from`).
    pub from_doubt: Option<String>,
    pub to: Vec<Party>,
    pub cc: Vec<Party>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Top-level header fields as (lower-case name, unfolded raw value), for loop protection.
    pub headers: Vec<(String, String)>,
    /// `type/subtype; report-type=…` of the top-level part, lower-case.
    pub content_type: String,
    /// Same message, same key: Message-ID plus what the sender wrote, never trace headers.
    pub dedup_key: String,
    /// Message-IDs a report quotes from the message it reports on (a DSN's returned headers,
    /// an MDN's Original-Message-ID, an attached message), without angle brackets.
    pub quoted_ids: Vec<String>,
    /// It carries a delivery report or a returned message (`message/delivery-status`,
    /// `message/rfc822`, `text/rfc822-headers`): with a delivery-failure subject, a bounce.
    pub carries_report: bool,
    /// A delivery report's essentials, from its `message/delivery-status` part: for each
    /// recipient the address, action, status and the server's diagnostic, bounded in size.
    pub delivery_status: Option<String>,
    /// What went wrong decoding it (an unknown charset, a broken encoding); the text is
    /// mail-parser's lossy decode and the raw bytes are kept.
    pub flags: Vec<String>,
}

/// Why raw bytes could not become a message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("no header section could be parsed")]
    NoHeaders,
    #[error("no usable sender address (From: {0:?})")]
    NoSender(String),
    #[error("the MIME parser failed on this message: {0}")]
    ParserPanic(String),
}

impl ParsedMessage {
    /// A request that came by another channel (a phone call, a chat, a web form), written
    /// down by an agent: stored on its case like a message, under its own Message-ID.
    pub fn by_hand(from: Party, subject: &str, body: &str, message_id: String) -> ParsedMessage {
        ParsedMessage {
            dedup_key: format!("by-hand:{message_id}"),
            message_id: Some(message_id),
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from,
            from_doubt: None,
            to: Vec::new(),
            cc: Vec::new(),
            subject: crate::domain::text::one_line(subject),
            text_body: body.to_owned(),
            html_body: None,
            attachments: Vec::new(),
            headers: Vec::new(),
            content_type: "text/plain".into(),
            quoted_ids: Vec::new(),
            carries_report: false,
            delivery_status: None,
            flags: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The sender for a trust decision (an agent, a team, a CRM, a key member, a party of a
    /// case): `None` when the From cannot be taken for the sender (`from_doubt`).
    pub fn trusted_from(&self) -> Option<&EmailAddress> {
        self.from_doubt.is_none().then_some(&self.from.address)
    }
}

pub fn parse(raw: &[u8]) -> Result<ParsedMessage, ParseError> {
    // mail-parser 0.11 panics on some malformed MIME trees ("Invalid part ID"); a message
    // must never take intake down, so the panic becomes a quarantine reason.
    std::panic::catch_unwind(|| parse_unguarded(raw))
        .unwrap_or_else(|panic| Err(ParseError::ParserPanic(crate::panics::message_of(panic.as_ref()))))
}

fn parse_unguarded(raw: &[u8]) -> Result<ParsedMessage, ParseError> {
    let msg = MessageParser::default().parse(raw).ok_or(ParseError::NoHeaders)?;
    if msg.headers().is_empty() {
        return Err(ParseError::NoHeaders);
    }
    let headers: Vec<(String, String)> = msg
        .headers()
        .iter()
        .map(|h| {
            let bytes = raw.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
            (field_name(raw, h), unfold(&String::from_utf8_lossy(bytes)))
        })
        .collect();
    let (from, from_doubt) = match super::sender::sender(&msg, &headers) {
        Some(found) => found,
        None => (
            mail_system_sender(&msg, &headers).ok_or_else(|| ParseError::NoSender(header_text(&headers, "from")))?,
            None,
        ),
    };
    let message_id = msg.message_id().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let content_type = msg
        .content_type()
        .map(|ct| {
            let mut s = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
            if let Some(r) = ct.attribute("report-type") {
                s.push_str("; report-type=");
                s.push_str(r);
            }
            s.to_ascii_lowercase()
        })
        .unwrap_or_else(|| "text/plain".into());
    let dedup_key = dedup_key(raw, message_id.as_deref(), &headers);
    let flags = decoding_problems(&msg);
    let (to, cc) = (msg.to().and_then(|a| parties_of(a, None)), msg.cc().and_then(|a| parties_of(a, None)));
    let (in_reply_to, references) = (ids(msg.in_reply_to()), ids(msg.references()));
    let (subject, quoted_ids) = (subject(&msg, raw), quoted_ids(&msg));
    let (carries_report, delivery_status) = (carries_report(&msg), delivery_status(&msg));
    // Last: the bodies are moved out of mail-parser's message, which is spent after.
    let Bodies { text_body, html_body, attachments } = bodies(msg);
    let mut parsed = ParsedMessage {
        message_id,
        in_reply_to,
        references,
        from,
        from_doubt,
        to: to.unwrap_or_default(),
        cc: cc.unwrap_or_default(),
        subject,
        text_body,
        html_body,
        attachments,
        headers,
        content_type,
        dedup_key,
        quoted_ids,
        carries_report,
        delivery_status,
        flags,
    };
    parsed.references = bounded_references(std::mem::take(&mut parsed.references));
    parsed.quoted_ids.truncate(MAX_REFERENCES);
    parsed.in_reply_to.truncate(MAX_REFERENCES);
    without_nul(&mut parsed);
    Ok(parsed)
}

struct Bodies {
    text_body: String,
    html_body: Option<String>,
    attachments: Vec<Attachment>,
}

/// The text (text parts joined, an HTML-only body as text), the HTML body (the first real
/// HTML part: mail-parser would render a plain text as HTML, a copy no one reads) and the
/// attachments. A part's decoded content (quoted-printable, base64) is moved out of the
/// parsed message, not copied, unless a later use needs it: a large message is then held
/// once decoded, not twice.
fn bodies(mut msg: mail_parser::Message<'_>) -> Bodies {
    let attached: HashSet<u32> = msg.attachments.iter().copied().collect();
    let html_id = msg
        .html_body
        .iter()
        .copied()
        .find(|id| matches!(msg.parts.get(*id as usize).map(|p| &p.body), Some(PartType::Html(_))));
    let mut texts: Vec<String> = Vec::new();
    for id in msg.text_body.clone() {
        let keep = attached.contains(&id) || html_id == Some(id);
        let Some(part) = msg.parts.get_mut(id as usize) else { continue };
        match &mut part.body {
            PartType::Text(text) if keep => texts.push(text.to_string()),
            PartType::Text(text) => texts.push(std::mem::take(text).into_owned()),
            PartType::Html(html) => texts.push(mail_parser::decoders::html::html_to_text(html)),
            _ => {}
        }
    }
    let text_body = if texts.len() == 1 { texts.pop().unwrap_or_default() } else { texts.join("\n") };
    let html_body = html_id.and_then(|id| {
        let part = msg.parts.get_mut(id as usize)?;
        match &mut part.body {
            PartType::Html(html) if attached.contains(&id) => Some(html.to_string()),
            PartType::Html(html) => Some(std::mem::take(html).into_owned()),
            _ => None,
        }
    });
    let ids: Vec<u32> = msg.attachments.clone();
    // As mail-parser's own iterator: the list ends at the first id that names no part.
    let attachments = ids.into_iter().map_while(|id| msg.parts.get_mut(id as usize).map(attachment)).collect();
    Bodies { text_body, html_body, attachments }
}

/// An attachment, its content moved out of `part`.
fn attachment(part: &mut mail_parser::MessagePart<'_>) -> Attachment {
    let filename = part.attachment_name().map(crate::domain::text::phrase);
    let content_type = part
        .content_type()
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase();
    let data = match &mut part.body {
        PartType::Text(text) | PartType::Html(text) => std::mem::take(text).into_owned().into_bytes(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => std::mem::take(bytes).into_owned(),
        // An attached message's raw bytes, as written (a multipart has none).
        PartType::Message(_) | PartType::Multipart(_) => part.contents().to_vec(),
    };
    Attachment { filename, content_type, data }
}

/// References kept from a message: the thread's root and the latest ones, which are what
/// threading looks for. 100,000 ids would otherwise cost 100,000 look-ups.
const MAX_REFERENCES: usize = 50;

fn bounded_references(mut ids: Vec<String>) -> Vec<String> {
    if ids.len() > MAX_REFERENCES {
        ids.drain(1..ids.len() - (MAX_REFERENCES - 1));
    }
    ids
}

/// PostgreSQL cannot store U+0000 in text, so the decoded text loses its NULs (the raw bytes
/// are stored as they came); SQLite keeps the same text, so both backends agree.
fn without_nul(m: &mut ParsedMessage) {
    fn clean(s: &mut String) {
        if s.contains('\0') {
            s.retain(|c| c != '\0');
        }
    }
    let parties = std::iter::once(&mut m.from).chain(m.to.iter_mut()).chain(m.cc.iter_mut());
    for name in parties.filter_map(|p| p.name.as_mut()) {
        clean(name);
    }
    let ids = m.message_id.iter_mut().chain(&mut m.in_reply_to).chain(&mut m.references).chain(&mut m.quoted_ids);
    ids.chain([&mut m.subject, &mut m.text_body])
        .chain(m.html_body.as_mut())
        .chain(m.delivery_status.as_mut())
        .for_each(clean);
    m.attachments.iter_mut().filter_map(|a| a.filename.as_mut()).for_each(clean);
    m.headers.iter_mut().for_each(|(_, v)| clean(v));
    m.flags.iter_mut().for_each(clean);
}

fn carries_report(msg: &mail_parser::Message<'_>) -> bool {
    msg.parts.iter().skip(1).any(|part| {
        part.content_type().is_some_and(|ct| {
            let (kind, sub) = (ct.ctype(), ct.subtype().unwrap_or_default());
            kind.eq_ignore_ascii_case("message")
                && (sub.eq_ignore_ascii_case("delivery-status") || sub.eq_ignore_ascii_case("rfc822"))
                || kind.eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("rfc822-headers")
        })
    })
}

/// The most of a delivery report shown to an agent.
const MAX_DELIVERY_STATUS: usize = 1000;

fn delivery_status(msg: &mail_parser::Message<'_>) -> Option<String> {
    let part = msg.parts.iter().skip(1).find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|sub| sub.eq_ignore_ascii_case("delivery-status"))
        })
    })?;
    let text = match &part.body {
        PartType::Text(text) => text.to_string(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => return None,
    };
    let mut fields: Vec<String> = Vec::new();
    let mut keep = false;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded line continues the field above it.
            if keep && let Some(last) = fields.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
            continue;
        }
        let name = line.split_once(':').map(|(n, _)| n.trim().to_ascii_lowercase()).unwrap_or_default();
        keep = matches!(name.as_str(), "final-recipient" | "action" | "status" | "diagnostic-code");
        if keep {
            fields.push(line.trim().to_owned());
        }
    }
    let mut joined = fields.join("; ");
    if joined.is_empty() {
        return None;
    }
    if joined.len() > MAX_DELIVERY_STATUS {
        joined.truncate(joined.floor_char_boundary(MAX_DELIVERY_STATUS));
        joined.push('…');
    }
    Some(joined)
}

fn quoted_ids(msg: &mail_parser::Message<'_>) -> Vec<String> {
    let mut ids = Vec::new();
    for part in msg.parts.iter().skip(1) {
        let content_type = part.content_type().map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()));
        match (&part.body, content_type.as_deref().map(str::to_ascii_lowercase).as_deref()) {
            (PartType::Message(inner), _) => ids.extend(inner.message_id().map(str::to_owned)),
            (
                PartType::Text(text),
                Some("text/rfc822-headers" | "message/disposition-notification" | "message/delivery-status"),
            ) => ids.extend(header_ids(text)),
            (PartType::Binary(bytes) | PartType::InlineBinary(bytes), Some(ct))
                if ct.starts_with("message/") || ct == "text/rfc822-headers" =>
            {
                ids.extend(header_ids(&String::from_utf8_lossy(bytes)))
            }
            _ => {}
        }
    }
    ids
}

/// The ids of `Message-ID:` and `Original-Message-ID:` lines in a block of header text.
fn header_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim().to_ascii_lowercase();
            (name == "message-id" || name == "original-message-id")
                .then(|| value.trim().trim_matches(['<', '>']).to_owned())
        })
        .filter(|id| !id.is_empty())
        .collect()
}

fn decoding_problems(msg: &mail_parser::Message<'_>) -> Vec<String> {
    let mut flags = Vec::new();
    for (i, part) in msg.parts.iter().enumerate() {
        if part.is_encoding_problem {
            flags.push(format!("part {i}: content could not be decoded cleanly"));
        }
        let Some(ct) = part.content_type() else { continue };
        if !ct.ctype().eq_ignore_ascii_case("text") {
            continue;
        }
        if let Some(charset) = ct.attribute("charset") {
            let known = ["utf-8", "utf8", "us-ascii"].iter().any(|c| c.eq_ignore_ascii_case(charset))
                || mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_some();
            if !known {
                flags.push(format!("part {i}: unknown charset {charset:?}, decoded lossily"));
            }
        }
    }
    flags
}

/// The decoded subject. Raw 8-bit or ISO-2022-JP bytes outside encoded words (old Asian
/// mailers) are decoded with the message's own charset instead of becoming U+FFFD.
fn subject(msg: &mail_parser::Message<'_>, raw: &[u8]) -> String {
    let decoded = || msg.subject().map(|s| s.trim().to_owned()).unwrap_or_default();
    let Some(header) = msg.headers().iter().find(|h| h.name.as_str().eq_ignore_ascii_case("subject")) else {
        return decoded();
    };
    let bytes = raw.get(header.offset_start as usize..header.offset_end as usize).unwrap_or_default();
    let charset = if bytes.contains(&0x1b) {
        Some("iso-2022-jp".to_owned())
    } else if std::str::from_utf8(bytes).is_err() {
        body_charset(msg)
    } else {
        None
    };
    let has_encoded_words = bytes.windows(2).any(|w| w == b"=?");
    match charset.as_deref().and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c.as_bytes())) {
        Some(decode) if !has_encoded_words => unfold(&decode(bytes)).trim().to_owned(),
        _ => decoded(),
    }
}

/// The charset the sender declared for the first text part (or the whole message).
fn body_charset(msg: &mail_parser::Message<'_>) -> Option<String> {
    msg.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        ct.ctype().eq_ignore_ascii_case("text").then(|| ct.attribute("charset").map(str::to_owned)).flatten()
    })
}

/// A mail system's report often names no sender address (`From: MAILER-DAEMON <>`). Such a
/// message is given `mailer-daemon@` the domain of its Message-ID (`unknown.invalid` without
/// one), so that it joins the case it reports on, or is held, instead of being quarantined:
/// it is never answered. Other mail without a sender address is refused.
fn mail_system_sender(msg: &mail_parser::Message<'_>, headers: &[(String, String)]) -> Option<Party> {
    let from = header_text(headers, "from");
    let lower = from.to_ascii_lowercase();
    let return_path = header_text(headers, "return-path");
    let report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let mail_system = ["mailer-daemon", "postmaster", "mail delivery"].iter().any(|w| lower.contains(w));
    if !(lower.contains("<>") || mail_system || report || return_path.trim() == "<>") {
        return None;
    }
    let domain = msg
        .message_id()
        .and_then(|id| id.rsplit_once('@'))
        .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| d.contains('.') && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or_else(|| "unknown.invalid".into());
    let address = format!("mailer-daemon@{domain}").parse().ok()?;
    let name = from.replace("<>", "").trim().trim_matches('"').trim().to_owned();
    Some(Party { name: Some(name).filter(|n| !n.is_empty()), address })
}

/// A field's name in lower case. An `Authentication-Results` written with white space before
/// its colon (obsolete syntax, RFC 5322 §4.5) keeps a space in its name: an MX strips foreign
/// results by their exact name and lets this one through, so it must not read as results.
fn field_name(raw: &[u8], h: &mail_parser::Header<'_>) -> String {
    let name = h.name.as_str().to_ascii_lowercase();
    let written = raw.get(h.offset_field as usize..h.offset_start as usize).unwrap_or_default();
    let before_colon = written.strip_suffix(b":").unwrap_or(written);
    if name == "authentication-results" && before_colon.last().is_some_and(u8::is_ascii_whitespace) {
        return format!("{name} ");
    }
    name
}

pub(super) fn header_text(headers: &[(String, String)], name: &str) -> String {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

fn unfold(value: &str) -> String {
    value.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The parties of an address header; `raw` (the header as written) lets a bare quoted local
/// part be read back (`super::sender::quoted_local_part`).
pub(super) fn parties_of(address: &Address<'_>, raw: Option<&str>) -> Option<Vec<Party>> {
    let list: Vec<Party> = address
        .iter()
        .filter_map(|a| {
            if let Some(party) = raw.and_then(|raw| super::sender::quoted_local_part(a, raw)) {
                return Some(party);
            }
            let address = a.address()?.parse::<EmailAddress>().ok()?;
            // An encoded word may decode to CR LF: a name is one line from here on.
            let name = a.name().map(crate::domain::text::phrase).filter(|n| !n.is_empty());
            Some(Party { name, address })
        })
        .collect();
    (!list.is_empty()).then_some(list)
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.trim().to_owned()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// SHA-256 over the Message-ID and what the sender wrote (From, Date, Subject and the body),
/// with line endings normalised: IMAP gives CRLF where a Maildir file has LF, and trace
/// headers (Received, Delivered-To) differ between two mailboxes holding the same message.
fn dedup_key(raw: &[u8], message_id: Option<&str>, headers: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(message_id.unwrap_or_default().as_bytes());
    for name in ["from", "date", "subject"] {
        h.update([0]);
        h.update(header_text(headers, name).as_bytes());
    }
    h.update([0]);
    // Piece by piece between the CRs: a copy without them would be the size of the body.
    for piece in body_of(raw).split(|b| *b == b'\r') {
        h.update(piece);
    }
    let digest = h.finalize();
    super::hex(&digest)
}

fn body_of(raw: &[u8]) -> &[u8] {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2), (&b"\r\r"[..], 2)] {
        if let Some(i) = raw.windows(sep.len()).position(|w| w == sep) {
            return &raw[i + len..];
        }
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "From: Jane Doe <jane@acme.example>\r\nTo: support@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9_down?=\r\nMessage-ID: <abc@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello\r\n";

    #[test]
    fn decodes_subject_sender_and_body() {
        let m = parse(MSG.as_bytes()).unwrap();
        assert_eq!(m.subject, "Café down");
        assert_eq!(m.from.address.as_str(), "jane@acme.example");
        assert_eq!(m.from.name.as_deref(), Some("Jane Doe"));
        assert_eq!(m.message_id.as_deref(), Some("abc@acme.example"));
        assert!(m.text_body.contains("Hello"));
    }

    #[test]
    fn same_message_same_key_across_line_endings_and_trace_headers() {
        let lf = format!("Received: from a by b\n{}", MSG.replace("\r\n", "\n"));
        assert_eq!(parse(MSG.as_bytes()).unwrap().dedup_key, parse(lf.as_bytes()).unwrap().dedup_key);
        let other = MSG.replace("Hello", "Goodbye");
        assert_ne!(parse(MSG.as_bytes()).unwrap().dedup_key, parse(other.as_bytes()).unwrap().dedup_key);
    }

    #[test]
    fn unknown_charset_is_flagged_not_fatal() {
        let raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nh\xe9llo\r\n";
        let m = parse(raw).unwrap();
        assert!(m.flags.iter().any(|f| f.contains("x-martian")), "{:?}", m.flags);
        assert!(m.text_body.starts_with('h'));
        assert!(parse(MSG.as_bytes()).unwrap().flags.is_empty());
    }

    #[test]
    fn raw_8bit_subjects_use_the_declared_charset() {
        let mut raw = b"From: a@b.example\r\nSubject: NOTE: ".to_vec();
        raw.extend_from_slice(&[0xc7, 0xd1, 0xb1, 0xb9]); // "한국" in EUC-KR
        raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=euc-kr\r\n\r\nx\r\n");
        assert_eq!(parse(&raw).unwrap().subject, "NOTE: 한국");
        let jis = b"From: a@b.example\r\nSubject: TEST \x1b$B%F%9%H\x1b(B\r\n\r\nx\r\n";
        assert_eq!(parse(jis).unwrap().subject, "TEST テスト");
    }

    #[test]
    fn reports_yield_the_ids_they_quote() {
        let dsn = "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ack-1@example.com>\r\nSubject: x\r\n\r\n--b--\r\n";
        assert_eq!(parse(dsn.as_bytes()).unwrap().quoted_ids, ["ack-1@example.com"]);
        let mdn = dsn
            .replace("text/rfc822-headers", "message/disposition-notification")
            .replace("Message-ID", "Original-Message-ID");
        assert_eq!(parse(mdn.as_bytes()).unwrap().quoted_ids, ["ack-1@example.com"]);
        assert!(parse(MSG.as_bytes()).unwrap().quoted_ids.is_empty());
    }

    #[test]
    fn nul_bytes_leave_the_text_and_long_reference_lists_are_bounded() {
        let refs: Vec<String> = (0..1000).map(|i| format!("<r{i}@x>")).collect();
        let raw = format!(
            "From: \"Ja\0ne\" <jane@acme.example>\r\nSubject: a\0b\r\nReferences: {}\r\n\r\nbo\0dy\r\n",
            refs.join(" ")
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.subject, "ab");
        assert!(m.text_body.starts_with("body"), "{:?}", m.text_body);
        assert!(!m.headers.iter().any(|(_, v)| v.contains('\0')));
        assert_eq!(m.references.len(), MAX_REFERENCES);
        assert_eq!(m.references[0], "r0@x");
        assert_eq!(m.references.last().unwrap(), "r999@x");
    }

    #[test]
    fn a_mail_systems_report_without_a_sender_address_is_from_its_mailer_daemon() {
        let raw = b"From: MAILER-DAEMON <>\r\nSubject: Undeliverable\r\nMessage-ID: <x1@mx.acme.example>\r\n\r\nGone.";
        let msg = parse(raw).unwrap();
        assert_eq!(msg.from.address.as_str(), "mailer-daemon@mx.acme.example");
        assert_eq!(msg.from.name.as_deref(), Some("MAILER-DAEMON"));
        let msg = parse(b"From: <>\r\nSubject: Returned\r\n\r\nGone.").unwrap();
        assert_eq!(msg.from.address.as_str(), "mailer-daemon@unknown.invalid");
        // A person's mail without an address is still refused.
        assert!(matches!(parse(b"From: foo\r\nSubject: hi\r\n\r\nbody"), Err(ParseError::NoSender(_))));
    }

    #[test]
    fn bodies_are_the_same_moved_out_of_the_parser() {
        let head = "From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n";
        // A plain text keeps no HTML rendering of itself; quoted-printable is decoded.
        let qp = format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=\r\nsse\r\n"
        );
        let m = parse(qp.as_bytes()).unwrap();
        assert_eq!(m.text_body.trim_end(), "Grüsse");
        assert_eq!(m.html_body, None);
        // An HTML-only body: its text made from it, the HTML kept as written.
        let html = format!("{head}Content-Type: text/html\r\n\r\n<p>Hello <b>there</b></p>\r\n");
        let m = parse(html.as_bytes()).unwrap();
        assert!(m.text_body.contains("Hello there"), "{:?}", m.text_body);
        assert_eq!(m.html_body.as_deref().map(str::trim_end), Some("<p>Hello <b>there</b></p>"));
        // Alternative parts and a base64 attachment (decoded), a text attachment (as written).
        let mixed = format!(
            "{head}Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n\
--a\r\nContent-Type: text/plain\r\n\r\nplain words\r\n--a\r\nContent-Type: text/html\r\n\r\n<i>html words</i>\r\n--a--\r\n\
--m\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAEC/w==\r\n\
--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=b.log\r\n\r\nlog line\r\n--m--\r\n"
        );
        let m = parse(mixed.as_bytes()).unwrap();
        assert_eq!(m.text_body.trim_end(), "plain words");
        assert_eq!(m.html_body.as_deref().map(str::trim_end), Some("<i>html words</i>"));
        let files: Vec<_> = m.attachments.iter().map(|a| (a.filename.as_deref(), a.data.as_slice())).collect();
        assert_eq!(files, [(Some("a.bin"), &[0u8, 1, 2, 255][..]), (Some("b.log"), b"log line".as_slice())]);
    }

    #[test]
    fn no_sender_is_an_error_not_a_panic() {
        assert!(matches!(parse(b"Subject: hi\r\n\r\nbody"), Err(ParseError::NoSender(_))));
        assert!(parse(b"").is_err());
    }
}
