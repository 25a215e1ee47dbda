//! Everything supportd sends: composed once, queued in the outbox inside the transaction
//! that caused it, and delivered by the sender task exactly once.

mod ack;
mod compose;
pub mod loop_guard;
pub mod outbox;
mod sender;
mod transport;

pub use ack::{AckInput, format_due, queue_ack, recent_acks};
pub use compose::{ComposeError, Composed, compose, new_message_id};
pub use sender::{drain, run_sender};
pub use transport::{SendError, Transport};

/// Why a message could not be put in the outbox: rendering, composing or storing it.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Template(#[from] crate::templates::TemplateError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
}
