//! Panic boundaries for the tasks that talk to the network. A library that panics on what a
//! peer sent (lettre 0.11.23 on a blank EHLO line, RUSTSEC-2026-0562) must fail the unit of
//! work in hand, which is then retried, not end the daemon into a restart loop.
//!
//! Cargo's `panic` strategy stays `unwind` (the default; no profile sets `abort`): a boundary
//! catches nothing under `abort`.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// A unit of work that panicked, with the panic's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{task} panicked: {message}")]
pub struct Panicked {
    pub task: &'static str,
    pub message: String,
}

/// Runs `work`; a panic inside it is logged with its message, counted in
/// `supportd_panics_total{task}` and returned as `Panicked` for the caller to retry.
///
/// `AssertUnwindSafe` holds because a panicked unit leaves nothing half-changed that anyone
/// reads again: its connection and its uncommitted transaction are dropped with the future,
/// and what it committed is whole.
pub async fn guarded<F: Future>(task: &'static str, work: F) -> Result<F::Output, Panicked> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(output) => Ok(output),
        Err(payload) => {
            let message = message_of(payload.as_ref());
            crate::metrics::metrics().count_panic(task);
            tracing::error!(task, panic = %message, "a panic was caught; the work in hand will be retried");
            Err(Panicked { task, message })
        }
    }
}

/// What `panic!("…")` said: it carries a `&str` or a `String`; anything else has no words.
pub fn message_of(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_caught_with_its_message_and_counted() {
        let before = crate::metrics::metrics().panics.get_or_create(&crate::metrics::Task { task: "test" }).get();
        let caught = guarded("test", async {
            let index = 3;
            [1, 2][index % 4]
        })
        .await;
        let Err(panicked) = caught else { panic!("the panic was not caught: {caught:?}") };
        assert_eq!(panicked.task, "test");
        assert!(panicked.message.contains("index out of bounds"), "{}", panicked.message);
        let after = crate::metrics::metrics().panics.get_or_create(&crate::metrics::Task { task: "test" }).get();
        assert_eq!(after, before + 1);
        assert_eq!(guarded("test", async { 7 }).await, Ok(7));
        let formatted = guarded("test", async { panic!("peer said {}", "nothing") }).await;
        assert_eq!(formatted.unwrap_err().message, "peer said nothing");
        let wordless = guarded("test", async { std::panic::panic_any(7u8) }).await;
        assert_eq!(wordless.unwrap_err().message, "a panic without a message");
    }
}
