//! Builds the complete RFC 5322 message once, so that every delivery attempt sends the same
//! bytes with the same Message-ID.

use std::sync::atomic::{AtomicU64, Ordering};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use super::headers::{AutoSubmitted, Subject, capped_references, one_line, phrase, usable_id};
use crate::domain::EmailAddress;
use crate::mail::Attachment;
use crate::templates::Rendered;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address {0:?}: {1}")]
    Address(String, String),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("bad content type: {0}")]
    ContentType(#[from] lettre::message::header::ContentTypeErr),
    #[error("unusable Content-ID {0:?}")]
    ContentId(String),
}

/// One outgoing message, ready for the outbox.
pub struct Composed<'a> {
    pub from: (Option<&'a str>, &'a EmailAddress),
    pub reply_to: &'a EmailAddress,
    /// Besides `reply_to` (an agent's own address, when the desk exposes it).
    pub also_reply_to: Option<&'a EmailAddress>,
    pub to: Vec<(Option<&'a str>, &'a EmailAddress)>,
    pub cc: Vec<(Option<&'a str>, &'a EmailAddress)>,
    /// Without angle brackets.
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: Vec<String>,
    /// `Some("auto-replied")` on acknowledgements.
    pub auto_submitted: Option<&'a str>,
    pub rendered: &'a Rendered,
    /// Files carried along (an agent's attachments, relayed).
    pub attachments: &'a [Attachment],
    /// Images the HTML part shows in place; none in most mail.
    pub inline_images: &'a [InlineImage<'a>],
}

/// An image the HTML part shows where it says `<img src="cid:…">`: sent beside the HTML in a
/// `multipart/related` (RFC 2387), so that mail clients draw it in place instead of listing it
/// below the text as a file.
pub struct InlineImage<'a> {
    /// Without angle brackets; made by [`content_id`], never taken from input.
    pub content_id: &'a str,
    /// Its name where a client lists or saves it, and its bytes.
    pub file: &'a Attachment,
}

/// A Content-ID (RFC 2392) for the image `label` of the mail `message_id`: unique as the
/// Message-ID is, and in our own domain. `label` is ours too, a word such as `chart`.
pub fn content_id(label: &str, message_id: &str) -> String {
    format!("{label}.{message_id}")
}

impl<'a> Composed<'a> {
    /// Mail the desk writes of itself (a notification, an alert, a report, a brief): marked
    /// `Auto-Submitted: auto-generated`, threading nothing, with no Cc and no attachments.
    pub fn notice(
        from: (Option<&'a str>, &'a EmailAddress),
        reply_to: &'a EmailAddress,
        to: Vec<(Option<&'a str>, &'a EmailAddress)>,
        message_id: &'a str,
        rendered: &'a Rendered,
    ) -> Composed<'a> {
        Composed {
            from,
            reply_to,
            also_reply_to: None,
            to,
            cc: Vec::new(),
            message_id,
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
            rendered,
            attachments: &[],
            inline_images: &[],
        }
    }

    /// The Cc's lettre can send to; `queue_mail` logs the others.
    pub fn sendable_cc(&self) -> impl Iterator<Item = &(Option<&str>, &EmailAddress)> {
        self.cc.iter().filter(|(_, a)| sendable(a).is_ok())
    }
}

fn mailbox(name: Option<&str>, address: &EmailAddress) -> Result<Mailbox, ComposeError> {
    let addr = address
        .as_str()
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError::Address(address.to_string(), e.to_string()))?;
    let name = name.map(phrase).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, addr))
}

/// `Ok` when lettre can put `address` in a header: our parser accepts some addresses that
/// RFC 5321 does not (`jane.@acme.example`, a 300-character local part), and mail to those
/// is skipped with this reason rather than failing the message that caused it.
pub fn sendable(address: &EmailAddress) -> Result<(), String> {
    // Read back as we read any address, it must be itself.
    if address.as_str().parse::<EmailAddress>().is_err() {
        return Err(format!("the address {address} cannot be sent to (it does not read back as an address)"));
    }
    // A domain that does not map to ASCII cleanly (a Kelvin sign for a `k`, `İ`) is refused
    // for every trust decision, and mail to it too: a relay that maps it would deliver to the
    // very domain it imitates.
    if crate::domain::ascii_domain(address.domain()).is_none() {
        return Err(format!("the address {address} cannot be sent to (its domain does not map to ASCII cleanly)"));
    }
    let parsed = address
        .as_str()
        .parse::<lettre::Address>()
        .map_err(|e| format!("the address {address} cannot be sent to ({e})"))?;
    // lettre takes a quoted local part holding `@ : [ ]` (`"a@b:c"@example.com`) but cannot
    // read it back from the header it writes, and then builds no envelope: the message
    // would fail to compose, and with it whatever caused it.
    Mailbox::new(None, parsed)
        .to_string()
        .parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("the address {address} cannot be sent to (its quoted local part cannot be carried: {e})"))
}

/// Text for a body part: line ends made CRLF and control characters other than tab dropped,
/// in one pass (lettre's own conversion inserts one byte at a time, and leaves a bare CR).
fn body_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The message's bytes as they go on the wire.
pub fn compose(c: &Composed<'_>) -> Result<Vec<u8>, ComposeError> {
    let mut b = lettre::Message::builder()
        .from(mailbox(c.from.0, c.from.1)?)
        .reply_to(mailbox(None, c.reply_to)?)
        .header(Subject(one_line(&c.rendered.subject)))
        .message_id(Some(format!("<{}>", c.message_id)));
    if let Some(also) = c.also_reply_to {
        b = b.reply_to(mailbox(None, also)?);
    }
    for (name, addr) in &c.to {
        b = b.to(mailbox(*name, addr)?);
    }
    for (name, addr) in c.sendable_cc() {
        b = b.cc(mailbox(*name, addr)?);
    }
    if let Some(parent) = c.in_reply_to.filter(|id| usable_id(id)) {
        b = b.in_reply_to(format!("<{parent}>"));
    }
    let references = capped_references(&c.references);
    if !references.is_empty() {
        b = b.references(references.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    if let Some(v) = c.auto_submitted {
        b = b.header(AutoSubmitted(v.to_owned()));
    }
    let body = alternative(c)?;
    if c.attachments.is_empty() {
        return Ok(b.multipart(body)?.formatted());
    }
    let mut mixed = MultiPart::mixed().multipart(body);
    for a in c.attachments {
        let (name, kind, body) = file_part(a, "attachment")?;
        mixed = mixed.singlepart(lettre::message::Attachment::new(name).body(body, kind));
    }
    Ok(b.multipart(mixed)?.formatted())
}

/// The text and the HTML as alternatives; the HTML with its inline images, when it has any,
/// as one `multipart/related` whose first part (the root) is the HTML.
fn alternative(c: &Composed<'_>) -> Result<MultiPart, ComposeError> {
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body_text(&c.rendered.text));
    let html = SinglePart::builder().header(ContentType::TEXT_HTML).body(body_text(&c.rendered.html));
    let alternative = MultiPart::alternative().singlepart(text);
    if c.inline_images.is_empty() {
        return Ok(alternative.singlepart(html));
    }
    let mut related = MultiPart::related().singlepart(html);
    for image in c.inline_images {
        if !usable_id(image.content_id) {
            return Err(ComposeError::ContentId(image.content_id.to_owned()));
        }
        let (name, kind, body) = file_part(image.file, "image")?;
        // Inline, yet named: clients that list the image as a file still call it by its name.
        let part = lettre::message::Attachment::new_inline_with_name(image.content_id.to_owned(), name);
        related = related.singlepart(part.body(body, kind));
    }
    Ok(alternative.multipart(related))
}

/// A file's name (sanitised, `fallback` when it has none), content type and body.
fn file_part(a: &Attachment, fallback: &str) -> Result<(String, ContentType, Body), ComposeError> {
    let kind = ContentType::parse(&a.content_type).unwrap_or(ContentType::parse("application/octet-stream")?);
    let name = a.filename.as_deref().map(phrase).filter(|n| !n.is_empty()).unwrap_or_else(|| fallback.into());
    // Always base64: a relayed file may hold bare LFs or lone dots, which 7bit would
    // send as they are (RUSTSEC-2026-0561).
    let body =
        Body::new_with_encoding(a.data.clone(), ContentTransferEncoding::Base64).expect("base64 can encode any bytes");
    Ok((name, kind, body))
}

/// A Message-ID unique across processes and restarts: time, process and a counter.
pub fn new_message_id(kind: &str, case_number: Option<crate::domain::CaseNumber>, domain: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now();
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let case = case_number.map(|n| format!("{n}.")).unwrap_or_default();
    format!("supportd.{case}{kind}.{}.{}.{seq}@{domain}", now.format("%Y%m%d%H%M%S%f"), std::process::id())
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
