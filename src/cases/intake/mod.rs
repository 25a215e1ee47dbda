//! The one door. Every request that reaches the desk comes through here, whatever its
//! channel: an email a source handed over (`email`), or a call, chat or web form an agent
//! opens by hand (`open_by_hand`). Intake decides what comes of it: a new case (numbered,
//! routed, acknowledged, the agents told: `new_case`), a message on its case (`on_case`),
//! or mail held for an agent to review (`held`). Ingest keeps the sources, batching,
//! duplicates and quarantine; an agent's own mail goes to `agents`.

mod by_hand;
mod copied;
mod email;
mod held;
mod new_case;
mod on_case;
mod to_case;

use sea_orm::DbErr;

pub use by_hand::{ByHandError, Interaction, Logged, log_interaction, open_by_hand, update_by_hand};
pub use email::{Email, Learnt, Release, email};
pub use held::{add_to_reason, hold};
pub use to_case::stranger_to_company;

use crate::domain::CaseNumber;
use crate::outbound::MailError;
use crate::storage::entities::held_mail::Kind as HeldKind;

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Opened {
        case: CaseNumber,
        acknowledged: bool,
    },
    Appended {
        case: CaseNumber,
    },
    /// Kept for an agent to release or discard (automated mail that threads to no case, a
    /// sender who may not open cases).
    Held {
        id: i64,
        kind: HeldKind,
        reason: String,
    },
    /// Held before: the same message came again.
    HeldBefore,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Db(#[from] DbErr),
    /// An outgoing mail could not be written (a template failed, say).
    #[error(transparent)]
    Mail(MailError),
}

impl From<MailError> for IntakeError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Database(db) => IntakeError::Db(db),
            other => IntakeError::Mail(other),
        }
    }
}
