//! Which `Authentication-Results` field is our receiving server's, and what its identities
//! name. The header itself proves nothing about who wrote it: trust comes from where it
//! stands (above the server's own `Received:`) and from the MX stripping foreign ones (README).

use super::MethodResult;

/// The topmost `Authentication-Results` above the sender's first `Received:`, given the
/// message's header fields in order (lower-case names) and how many `Received:` lines our
/// own servers write above the receiving server's results (`ours`). An MX prepends its
/// results to the block it writes on receipt: Exim with `:at_start:` above its own
/// `Received:` (0), Postfix's milters just below it (1), and a delivery agent that writes its
/// own line (Dovecot's LMTP) adds one. Anything below the next `Received:` was in the message
/// before it arrived, whoever it claims to be from (RFC 8601 §5). A message with fewer
/// `Received:` lines never crossed our MX's SMTP (placed in the mailbox by hand), so all of
/// it is the block.
pub fn topmost_above_received(headers: &[(String, String)], ours: usize) -> Option<&str> {
    let mut received = 0;
    headers
        .iter()
        .take_while(|(name, _)| {
            received += usize::from(name == "received");
            received <= ours
        })
        .find(|(name, _)| name == "authentication-results")
        .map(|(_, value)| value.as_str())
}

impl MethodResult {
    /// The domains that `ptype.name` properties name, each value read by its own syntax:
    /// `header.i` is an identity, `[local-part] "@" domain` (RFC 6376 §3.5), the others a
    /// domain. A value off its syntax names nothing, so `x@evil.test@example.com` is not
    /// `example.com`.
    pub fn domains<'a>(&'a self, ptype: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let identity = ptype == "header" && name == "i";
        self.values(ptype, name).filter_map(move |v| if identity { identity_domain(v) } else { domain(v) })
    }
}

/// The domain of `local@domain` or `@domain`: exactly one `@`, a domain after it.
fn identity_domain(value: &str) -> Option<&str> {
    let (local, rest) = value.split_once('@')?;
    if local.contains('@') {
        return None;
    }
    domain(rest)
}

/// A domain name as a value: dot-separated labels of letters, digits and hyphens (UTF-8
/// letters too, RFC 8601 allows U-labels), no empty label, nothing else.
fn domain(value: &str) -> Option<&str> {
    let label_ok =
        |label: &str| !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    let name = value.strip_suffix('.').unwrap_or(value);
    name.split('.').all(label_ok).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::auth_results::parse;

    fn fields(names: &[(&str, &str)]) -> Vec<(String, String)> {
        names.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn only_a_field_above_the_first_received_is_ours() {
        let ours = fields(&[
            ("return-path", "<a@example.com>"),
            ("authentication-results", "mx; dkim=pass"),
            ("received", "from x by mx"),
            ("authentication-results", "mx; dkim=fail"),
        ]);
        assert_eq!(topmost_above_received(&ours, 0), Some("mx; dkim=pass"));
        let forged_below = fields(&[("received", "from x by mx"), ("authentication-results", "mx; dkim=pass")]);
        assert_eq!(topmost_above_received(&forged_below, 0), None);
        let spaced = fields(&[("authentication-results ", "mx; dkim=pass")]);
        assert_eq!(topmost_above_received(&spaced, 0), None, "a name with a space is another field");
        let by_hand = fields(&[("authentication-results", "mx; none"), ("authentication-results", "mx; dkim=pass")]);
        assert_eq!(topmost_above_received(&by_hand, 0), Some("mx; none"), "no Received: the topmost still");
    }

    /// Postfix with OpenDKIM, delivered by Dovecot's LMTP: two lines of ours above the results.
    #[test]
    fn our_own_received_lines_are_skipped_as_configured() {
        let delivered = fields(&[
            ("received", "from mx.example.com by imap.example.com (Dovecot) with LMTP"),
            ("received", "from mail.sender.test by mx.example.com (Postfix)"),
            ("authentication-results", "mx; dkim=pass"),
            ("received", "from a by mail.sender.test"),
            ("authentication-results", "mx; dmarc=pass"),
        ]);
        assert_eq!(topmost_above_received(&delivered, 0), None);
        assert_eq!(topmost_above_received(&delivered, 1), None);
        assert_eq!(topmost_above_received(&delivered, 2), Some("mx; dkim=pass"));
        let forged_only = [&delivered[..2], &delivered[3..]].concat();
        assert_eq!(topmost_above_received(&forged_only, 2), None, "the sender's own, below the next line");
    }

    #[test]
    fn identities_name_one_domain_after_one_at() {
        let r = parse(
            "mx; dkim=pass header.i=x@evil.test@example.com header.i=@example.com header.i=alice@Sub.Example.com \
             header.i=example.com header.i=alice@ header.d=evil.test@example.com header.d=example.com. \
             header.d=ex..ample.com header.d=b\u{fc}cher.example",
        )
        .unwrap();
        let dkim = &r.results[0];
        assert_eq!(dkim.domains("header", "i").collect::<Vec<_>>(), ["example.com", "Sub.Example.com"]);
        assert_eq!(dkim.domains("header", "d").collect::<Vec<_>>(), ["example.com", "b\u{fc}cher.example"]);
    }
}
