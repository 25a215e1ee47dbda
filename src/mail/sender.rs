//! Who a message says it is from, and whether that can be believed. RFC 5322 allows one
//! From header; with two, mail-parser takes the last and a DMARC checker the first, so a
//! forger can have one checked and the other read. Such mail, and a From naming several
//! mailboxes, is kept with its first sender as written and a doubt that makes it a
//! stranger's for every trust decision (`ParsedMessage::trusted_from`).

use mail_parser::{Addr, HeaderName};

use super::Party;
use super::parse::{header_text, parties_of};
use crate::domain::EmailAddress;

/// The first mailbox of the first From header and, when there is more than one of either,
/// why it cannot be taken for the sender. `None` when no From names a usable address.
pub(super) fn sender(msg: &mail_parser::Message<'_>, headers: &[(String, String)]) -> Option<(Party, Option<String>)> {
    let first = msg.header_values(HeaderName::From).find_map(|v| v.as_address())?;
    let raw = header_text(headers, "from");
    let from = parties_of(first, Some(&raw))?.into_iter().next()?;
    let fields = headers.iter().filter(|(name, _)| name == "from").count();
    let mailboxes = first.iter().count();
    let doubt = if fields > 1 {
        Some(format!("it has {fields} From headers (only one is allowed, and each reader may take another)"))
    } else if mailboxes > 1 {
        Some(format!("its From names {mailboxes} mailboxes (a reader may take any of them for the sender)"))
    } else {
        None
    };
    Some((from, doubt))
}

/// mail-parser reads a bare quoted local part (`"a@b:c"@example.com`, no angle brackets) as
/// a display name `a@b:c` and an address `@example.com`. When the header as written holds
/// exactly that quoted string before that domain, it is the address; the message then opens
/// a case like any other, and mail to the address is skipped where it cannot be carried.
pub(super) fn quoted_local_part(a: &Addr<'_>, raw: &str) -> Option<Party> {
    let domain = a.address()?.strip_prefix('@')?;
    let name = a.name()?;
    let escaped: String =
        name.chars().flat_map(|c| matches!(c, '"' | '\\').then_some('\\').into_iter().chain([c])).collect();
    let written = format!("\"{escaped}\"@{domain}");
    if !raw.contains(&written) {
        return None;
    }
    let address = written.parse::<EmailAddress>().ok()?;
    Some(Party { name: None, address })
}

#[cfg(test)]
mod tests {
    use crate::mail::parse;

    fn from(headers: &str) -> crate::mail::ParsedMessage {
        parse(format!("{headers}Subject: s\r\n\r\nhi\r\n").as_bytes()).unwrap()
    }

    #[test]
    fn two_from_headers_or_two_mailboxes_are_doubted_and_the_first_is_kept() {
        let two = from("From: jane@acme.example\r\nFrom: eve@evil.example\r\n");
        assert_eq!(two.from.address.as_str(), "jane@acme.example", "the one a DMARC checker reads");
        assert!(two.from_doubt.as_deref().unwrap().contains("2 From headers"), "{:?}", two.from_doubt);
        assert_eq!(two.trusted_from(), None);
        let list = from("From: jane@acme.example, eve@evil.example\r\n");
        assert!(list.from_doubt.as_deref().unwrap().contains("2 mailboxes"), "{:?}", list.from_doubt);
        let one = from("From: Jane <jane@acme.example>\r\n");
        assert_eq!(one.from_doubt, None);
        assert_eq!(one.trusted_from().map(|a| a.as_str()), Some("jane@acme.example"));
    }

    #[test]
    fn a_bare_quoted_local_part_is_an_address() {
        for (header, want) in [
            ("\"a@b:c\"@example.org", "\"a@b:c\"@example.org"),
            ("\"x[y]\"@example.org", "\"x[y]\"@example.org"),
            ("Q <\"a@b:c\"@example.org>", "\"a@b:c\"@example.org"),
        ] {
            let m = from(&format!("From: {header}\r\n"));
            assert_eq!(m.from.address.as_str(), want, "{header}");
        }
        // A display name before an empty local part is no quoted local part.
        assert!(parse(b"From: \"Jane\" <@example.org>\r\nSubject: s\r\n\r\nhi\r\n").is_err());
    }

    #[test]
    fn two_angle_addresses_run_together_are_no_sender() {
        // mail-parser reads this as one address, `x@evil.testboss@kiwi.example`: whoever
        // it is, it is not boss@kiwi.example.
        let two = parse(b"From: <x@evil.test> <boss@kiwi.example>\r\nSubject: s\r\n\r\nhi\r\n");
        assert!(two.as_ref().map_or(true, |m| m.trusted_from().is_none()), "{:?}", two.map(|m| m.from));
    }
}
