//! Types that parse once: once you hold one, it is valid.

mod case_number;
mod case_tag;
mod case_type;
mod channel;
mod duration;
mod email_address;
mod priority;
mod severity;
mod status;
pub mod text;

pub use case_number::CaseNumber;
pub use case_tag::CaseTag;
pub use case_type::CaseType;
pub use channel::Channel;
pub use duration::{BusinessDuration, MAX_WORK_MINUTES, WorkTime};
pub use email_address::{AddressKey, EmailAddress, LocalPartCase, ascii_domain, same_domain};
pub use priority::Priority;
pub use severity::Severity;
pub use status::Status;

/// Why a piece of input could not become a domain value; the message names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Implements `FromStr` and `Display` for a closed set of names, matched case-insensitively.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::domain::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::domain::ParseError::new(format!(
                            "expected {} ({}), got {:?}", $what, names.join(", "), s
                        ))
                    })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;
