//! An address as written, and the one comparison every trust decision uses (agents, teams,
//! CRMs, key members, case parties): `EmailAddress::key`.
//!
//! The rule, as mail systems compare addresses: the domain is compared in its IDNA ASCII
//! form (UTS-46, lower case: `BÜCHER.example` is `xn--bcher-kva.example`); the local part
//! without regard to case unless `[intake] local_part_case = "exact"` (RFC 5321 lets a server
//! tell `Jane@` from `jane@`; almost none do). A domain that does not map to ASCII cleanly has
//! no key and equals nothing, itself included: the sender is still a customer, as a stranger.

use std::fmt;
use std::str::FromStr;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use super::ParseError;

/// A bare address (`local@domain`) as written, but for an ASCII domain's letter case (DNS
/// ignores it). Display names live beside it, not in it. Compare with [`EmailAddress::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Whether local parts are compared with their letter case (`[intake] local_part_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalPartCase {
    /// `Jane@` and `jane@` are one mailbox, as nearly every server has it.
    #[default]
    Insensitive,
    /// For servers that deliver `Jane@` and `jane@` to different people.
    Exact,
}

super::named_enum!(LocalPartCase, "a local part rule", { Insensitive => "insensitive", Exact => "exact" });

/// What two addresses are compared by: equal keys, one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey(String);

impl AddressKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EmailAddress {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or_default()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// What this address is compared by; `None` when its domain does not map to ASCII
    /// cleanly (see [`ascii_domain`]), so that it matches no one.
    pub fn key(&self, case: LocalPartCase) -> Option<AddressKey> {
        let domain = ascii_domain(self.domain())?;
        let local = unquoted(self.local_part());
        let local = match case {
            LocalPartCase::Insensitive => fold_case(&local),
            LocalPartCase::Exact => local,
        };
        Some(AddressKey(format!("{local}@{domain}")))
    }

    /// Whether this address is at `domain` (a company's domain as configured), both compared
    /// in IDNA ASCII; a domain that does not map cleanly is at no domain.
    pub fn at_domain(&self, domain: &str) -> bool {
        same_domain(self.domain(), domain)
    }
}

/// Whether two domains are one, in IDNA ASCII; never true for one that does not map cleanly.
pub fn same_domain(a: &str, b: &str) -> bool {
    matches!((ascii_domain(a), ascii_domain(b)), (Some(x), Some(y)) if x == y)
}

impl LocalPartCase {
    /// Whether `a` and `b` are one mailbox. Never true for an address without a key.
    pub fn same(self, a: &EmailAddress, b: &EmailAddress) -> bool {
        matches!((a.key(self), b.key(self)), (Some(x), Some(y)) if x == y)
    }

    /// `same` for an address stored as text (a database row); text that is no address is no one.
    pub fn same_as(self, a: &EmailAddress, stored: &str) -> bool {
        stored.parse::<EmailAddress>().is_ok_and(|b| self.same(a, &b))
    }
}

/// A domain in IDNA ASCII (UTS-46 with the STD3 rules and DNS lengths, lower case), or `None`
/// when it does not map cleanly. An ASCII label must come out as itself in lower case; a
/// non-ASCII label must come out as an A-label (`xn--…`) that reads back as the label
/// itself with only its letter case changed. UTS-46 also maps look-alikes to other letters
/// (U+212A KELVIN SIGN to `k`, fullwidth and mathematical letters, ligatures, `⒈` to `1.`),
/// which is how `Kiwi.example` with a Kelvin sign became `kiwi.example`: such a domain
/// is refused rather than taken for the one it imitates.
pub fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = Uts46::new()
        .to_ascii(domain.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow, DnsLength::Verify)
        .ok()?
        .into_owned();
    let written: Vec<&str> = domain.split('.').collect();
    let mapped: Vec<&str> = ascii.split('.').collect();
    let clean = written.len() == mapped.len() && written.iter().zip(&mapped).all(|(w, m)| label_maps_cleanly(w, m));
    clean.then_some(ascii)
}

fn label_maps_cleanly(written: &str, mapped: &str) -> bool {
    if written.is_ascii() {
        return mapped == written.to_ascii_lowercase();
    }
    if !mapped.starts_with("xn--") {
        return false;
    }
    let (read_back, errors) = idna::domain_to_unicode(mapped);
    errors.is_ok() && read_back == fold_case(written)
}

/// Lower case, except that a character whose lower case is (or holds) ASCII is kept as it
/// is: the Kelvin sign lower-cases to `k` and `İ` to `i` + U+0307 by Unicode's rules, and
/// neither is the letter it looks like.
fn fold_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let lower: String = c.to_lowercase().collect();
        if lower.chars().any(|l| l.is_ascii()) {
            out.push(c);
        } else {
            out.push_str(&lower);
        }
    }
    out
}

/// `"jane"` is `jane` (RFC 5321 §4.1.2: quoting that is not needed changes nothing); a
/// quoted local part that needs its quotes (`"a@b:c"`) keeps them.
fn unquoted(local: &str) -> String {
    let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')).filter(|_| local.len() >= 2) else {
        return local.to_owned();
    };
    let mut plain = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        plain.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    let atom = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c));
    match plain.split('.').all(atom) {
        true => plain,
        false => local.to_owned(),
    }
}

impl FromStr for EmailAddress {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || ParseError::new(format!("expected an email address such as name@example.com, got {s:?}"));
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = !domain.is_empty()
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-'));
        // An `@` belongs in a local part only quoted (`"a@b"@example.com`): unquoted, it is
        // two addresses run together, as a parser makes of `<x@evil.test> <boss@acme.example>`.
        let quoted = local.len() >= 2
            && local.starts_with('"')
            && local.ends_with('"')
            && one_quoted_string(&local[1..local.len() - 1]);
        let local_ok = !local.is_empty()
            && (quoted || !local.contains('@'))
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if !domain_ok || !local_ok {
            return Err(bad());
        }
        // Only an ASCII domain is lower-cased here: Unicode's lower case is no comparison
        // (it makes a Kelvin sign `k`); `key` compares the rest.
        let domain = if domain.is_ascii() { domain.to_ascii_lowercase() } else { domain.to_owned() };
        Ok(Self(format!("{local}@{domain}")))
    }
}

/// Whether `inner` (a quoted string without its outer quotes) holds no unescaped `"`: what
/// looks quoted at both ends may be two quoted strings with an `@` between (`"x"@evil"`).
fn one_quoted_string(inner: &str) -> bool {
    let mut escaped = false;
    for c in inner.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return false,
            _ => {}
        }
    }
    !escaped
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
#[path = "email_address_tests.rs"]
mod tests;
