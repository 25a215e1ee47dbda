use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// A bare address (`local@domain`), compared case-insensitively on the domain and stored
/// with the domain lower-cased. Display names live beside it, not in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

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
        let local_ok = !local.is_empty()
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if !domain_ok || !local_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
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
mod tests {
    use super::*;

    #[test]
    fn lowercases_domain_only() {
        let a: EmailAddress = "Jane.Doe@Example.COM".parse().unwrap();
        assert_eq!(a.as_str(), "Jane.Doe@example.com");
        assert_eq!(a.domain(), "example.com");
        assert_eq!(a.local_part(), "Jane.Doe");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "nobody", "@example.com", "a@", "a b@example.com", "a@exa mple.com", "a@.com"] {
            assert!(bad.parse::<EmailAddress>().is_err(), "{bad}");
        }
    }
}
