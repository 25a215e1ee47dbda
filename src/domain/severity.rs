use super::named_enum;

/// How badly the customer is affected; drives the response and resolution targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    S1,
    S2,
    S3,
    S4,
}

named_enum!(Severity, "a severity", { S1 => "S1", S2 => "S2", S3 => "S3", S4 => "S4" });

impl Severity {
    /// The meaning from the support team's published SLA sheet.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::S1 => "Critical – site offline for all users",
            Severity::S2 => "High – many users blocked, no workaround",
            Severity::S3 => "Medium – a subset of users affected",
            Severity::S4 => "Low – few users, investigation, suggestions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_rejects_unknown() {
        assert_eq!("s2".parse::<Severity>().unwrap(), Severity::S2);
        let err = "S5".parse::<Severity>().unwrap_err();
        assert!(err.0.contains("S1, S2, S3, S4"), "{err}");
    }
}
