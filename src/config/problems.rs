use std::fmt;

/// One thing wrong with the configuration, named by its key path
/// (`mailbox[1].port: expected 1..65535, got 0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found in one pass; validation keeps going after the first.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { key: key.into(), message: message.into() });
    }

    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Parses an optional string field, recording a problem under `key` when it is bad.
    pub fn parse<T>(&mut self, key: &str, value: Option<&str>, default: T) -> T
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        match value {
            None => default,
            Some(text) => text.parse().unwrap_or_else(|e: T::Err| {
                self.push(key, e.to_string());
                default
            }),
        }
    }

    /// Parses a required string field; `None` (after recording) when missing or bad.
    pub fn require<T>(&mut self, key: &str, value: Option<&str>) -> Option<T>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        let Some(text) = value else {
            self.push(key, "missing (required)");
            return None;
        };
        text.parse().map_err(|e: T::Err| self.push(key, e.to_string())).ok()
    }

    /// An address that trust decisions compare (an agent's, a team's, a CRM's): one whose
    /// domain does not map to ASCII cleanly would match no one (`EmailAddress::key`).
    pub fn address(&mut self, key: &str, value: Option<&str>) -> Option<crate::domain::EmailAddress> {
        let address: crate::domain::EmailAddress = self.require(key, value)?;
        if crate::domain::ascii_domain(address.domain()).is_none() {
            let why = format!(
                "the domain of {address} does not map to ASCII cleanly (IDNA UTS-46), so it would match no one"
            );
            self.push(key, why);
            return None;
        }
        Some(address)
    }

    /// An integer that must lie in `lo..=hi`.
    pub fn in_range(&mut self, key: &str, value: Option<i64>, lo: i64, hi: i64, default: i64) -> i64 {
        match value {
            None => default,
            Some(v) if (lo..=hi).contains(&v) => v,
            Some(v) => {
                self.push(key, format!("expected {lo}..{hi}, got {v}"));
                default
            }
        }
    }

    pub fn unknown_keys(&mut self, prefix: &str, unknown: &super::raw::Unknown) {
        for key in unknown.keys() {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            self.push(path, "unknown key");
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}
