//! Deadlines for IMAP commands. A server that accepts the connection and then says nothing
//! (hung, or a half-open connection after a network change) would otherwise hold the mailbox
//! for ever: async-imap waits without end, and TCP notices nothing while we only read.

use std::future::Future;
use std::time::Duration;

use futures::{Stream, TryStreamExt};

use super::connect::ImapError;

/// Runs one command (or one step of the connection set-up) within `limit`.
pub async fn timed<T, E>(
    command: &'static str,
    limit: Duration,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError>
where
    ImapError: From<E>,
{
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result.map_err(ImapError::from),
        Err(_) => Err(ImapError::Timeout { command, after: limit }),
    }
}

/// Collects a command's responses, each within `limit` of the one before: a FETCH of a large
/// batch may take longer than `limit` as a whole while the server is plainly alive.
pub async fn collect<T>(
    command: &'static str,
    limit: Duration,
    responses: impl Stream<Item = Result<T, async_imap::error::Error>>,
) -> Result<Vec<T>, ImapError> {
    let mut responses = std::pin::pin!(responses);
    let mut out = Vec::new();
    while let Some(response) = timed(command, limit, responses.try_next()).await? {
        out.push(response);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    // Real time, short limits: tokio's paused clock needs its test-util feature, which would
    // build a second copy of every tokio-dependent crate for tests.
    #[tokio::test]
    async fn a_silent_server_is_a_timeout_naming_the_command() {
        let silent = std::future::pending::<Result<(), ImapError>>();
        let err = timed("SELECT", Duration::from_millis(20), silent).await.unwrap_err();
        assert!(matches!(err, ImapError::Timeout { command: "SELECT", .. }), "{err:?}");
        assert_eq!(err.to_string(), "IMAP command SELECT timed out after 20ms");
    }

    #[tokio::test]
    async fn each_response_has_its_own_deadline() {
        // Three responses 600 ms apart: 1.8 s in all, yet none waits past the 1 s limit.
        let slow = futures::stream::unfold(0, |n| async move {
            (n < 3).then_some(())?;
            tokio::time::sleep(Duration::from_millis(600)).await;
            Some((Ok::<_, async_imap::error::Error>(n), n + 1))
        });
        assert_eq!(collect("UID FETCH", Duration::from_secs(1), slow).await.unwrap(), [0, 1, 2]);

        let stalls = futures::stream::iter([Ok::<_, async_imap::error::Error>(1)]).chain(futures::stream::pending());
        let err = collect("UID FETCH", Duration::from_millis(20), stalls).await.unwrap_err();
        assert_eq!(err.to_string(), "IMAP command UID FETCH timed out after 20ms");
    }
}
