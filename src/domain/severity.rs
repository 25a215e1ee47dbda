use super::named_enum;

/// How badly the customer is affected; drives the response and resolution targets.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    S1,
    S2,
    S3,
    S4,
}

named_enum!(Severity, "a severity", { S1 => "S1", S2 => "S2", S3 => "S3", S4 => "S4" });

impl Severity {
    /// `S1`..`S4`, or the level word of the SLA sheet (`Critical`, `High`, `Medium`, `Low`),
    /// in any letter case: what a customer may write.
    pub fn from_code_or_level(text: &str) -> Option<Severity> {
        let text = text.trim();
        text.parse().ok().or_else(|| {
            let levels =
                [("critical", Severity::S1), ("high", Severity::S2), ("medium", Severity::S3), ("low", Severity::S4)];
            levels.iter().find(|(word, _)| word.eq_ignore_ascii_case(text)).map(|(_, s)| *s)
        })
    }

    /// The level word: `Critical` for S1.
    pub fn level(self) -> &'static str {
        match self {
            Severity::S1 => "Critical",
            Severity::S2 => "High",
            Severity::S3 => "Medium",
            Severity::S4 => "Low",
        }
    }

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
    fn customers_may_write_the_code_or_the_level() {
        assert_eq!(Severity::from_code_or_level(" critical "), Some(Severity::S1));
        assert_eq!(Severity::from_code_or_level("s4"), Some(Severity::S4));
        assert_eq!(Severity::from_code_or_level("urgent"), None);
    }

    #[test]
    fn parses_any_case_and_rejects_unknown() {
        assert_eq!("s2".parse::<Severity>().unwrap(), Severity::S2);
        let err = "S5".parse::<Severity>().unwrap_err();
        assert!(err.0.contains("S1, S2, S3, S4"), "{err}");
    }
}
