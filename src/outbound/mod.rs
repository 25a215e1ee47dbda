//! Everything supportd sends: composed once, queued in the outbox inside the transaction
//! that caused it, and delivered by the sender task exactly once.

mod ack;
mod compose;
pub mod headers;
pub mod loop_guard;
mod not_member;
pub mod outbox;
#[cfg(test)]
mod props;
#[doc(hidden)]
pub mod selfcheck;
mod sender;
mod smtp;
mod smtp_stream;
pub mod strangers;
pub mod tls;
mod transport;

pub use ack::{AckInput, ack_key, format_due, queue_ack, recent_acks_each, support_hours};
pub use compose::{ComposeError, Composed, InlineImage, compose, content_id, new_message_id, sendable};
pub use not_member::{NoReply, NotMemberInput, queue_not_member};
pub use sender::{drain, run_sender};
pub use transport::{SendError, Transport};

/// Composes `mail` and queues it in the outbox inside the caller's transaction: every email
/// supportd sends goes through here. The envelope is the From address and every To and Cc.
/// A Cc that cannot be sent to is left out (logged) rather than stopping the mail.
pub async fn queue_mail(
    txn: &crate::storage::Tx,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), MailError> {
    outbox::enqueue(txn, new_row(kind, case_id, mail)?, now);
    Ok(())
}

/// Keeps `mail` in the outbox as `limited`, never sent, with `reason`: a limit says it must
/// not go out, and the outbox is where it stays visible. It is kept with its recipients and
/// subject but not composed (its body is not even rendered, `Templates::render_subject`):
/// in a flood of thousands, composing what is never sent was a third of intake's time.
pub fn queue_limited_mail(
    txn: &crate::storage::Tx,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) {
    let row = row_of(kind, case_id, mail, Vec::new());
    outbox::enqueue_limited(txn, row, reason, now);
}

fn new_row(kind: &'static str, case_id: Option<i64>, mail: &Composed<'_>) -> Result<outbox::NewRow, MailError> {
    for (_, address) in &mail.cc {
        if let Err(why) = sendable(address) {
            tracing::warn!(kind, case_id, "{why}; left out of the Cc");
        }
    }
    Ok(row_of(kind, case_id, mail, compose(mail)?))
}

/// The outbox row of `mail`, with `raw` as its bytes (empty for mail that is never sent).
fn row_of(kind: &'static str, case_id: Option<i64>, mail: &Composed<'_>, raw: Vec<u8>) -> outbox::NewRow {
    outbox::NewRow {
        case_id,
        kind,
        message_id: mail.message_id.to_owned(),
        envelope_from: mail.from.1.to_string(),
        envelope_to: mail.to.iter().chain(mail.sendable_cc()).map(|(_, a)| a.to_string()).collect(),
        subject: mail.rendered.subject.clone(),
        raw,
        stranger: None,
    }
}

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
