//! Where outgoing mail goes: an SMTP server, or files in a folder (the embedded default).

use std::path::PathBuf;

use lettre::address::Envelope;

use super::smtp::Relay;
use crate::config::Transport as TransportConfig;
use crate::storage::entities::outbox;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: 4xx, connection refused or dropped, timeouts, a full disk.
    #[error("{0}")]
    Transient(String),
    /// The server refused for good (5xx): retrying would only repeat it.
    #[error("{0}")]
    Permanent(String),
    #[error("transport setup failed: {0}")]
    Setup(String),
    /// Nothing can go until a person acts (the relay's OAuth2 login): retried, but not
    /// counted against `max_attempts`, so that a weekend without consent fails no mail.
    #[error("{0}")]
    Waiting(String),
}

pub enum Transport {
    File(PathBuf),
    // Boxed: TLS parameters and the hello name make it ~1.4 kB.
    Smtp(Box<Relay>),
}

impl Transport {
    /// `tokens`: the desk's OAuth2 tokens, for a relay with `auth = "oauth2"`.
    pub fn from_config(
        cfg: &TransportConfig,
        tokens: Option<crate::oauth::TokenStore>,
    ) -> Result<Transport, SendError> {
        match cfg {
            TransportConfig::File { path } => Ok(Transport::File(path.clone())),
            TransportConfig::Smtp(smtp) => Ok(Transport::Smtp(Box::new(Relay::new(smtp, tokens)?))),
        }
    }

    pub async fn send(&self, row: &outbox::Model) -> Result<(), SendError> {
        match self {
            Transport::File(dir) => write_file(dir, row).await,
            Transport::Smtp(relay) => relay.send(&envelope(row)?, &row.raw).await,
        }
    }

    /// Between drains: lets go of an SMTP connection that has not been used for a while.
    pub async fn close_idle(&self) {
        if let Transport::Smtp(relay) = self {
            relay.close_idle().await;
        }
    }

    /// On shutdown: says QUIT on the SMTP connection, if one is open.
    pub async fn close(&self) {
        if let Transport::Smtp(relay) = self {
            relay.close().await;
        }
    }
}

/// Named after the row, so a repeated attempt overwrites rather than adds; written to a
/// temporary name first so no reader ever sees half a message.
async fn write_file(dir: &std::path::Path, row: &outbox::Model) -> Result<(), SendError> {
    let io = |e: std::io::Error| SendError::Transient(format!("{}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let name = format!("{:08}.eml", row.id);
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, &row.raw).await.map_err(io)?;
    let file = tokio::fs::File::open(&tmp).await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    tokio::fs::rename(&tmp, dir.join(name)).await.map_err(io)
}

/// The row's sender and recipients; one that does not parse fails the row for good.
fn envelope(row: &outbox::Model) -> Result<Envelope, SendError> {
    let parse = |a: &str| a.trim().parse().map_err(|e| SendError::Permanent(format!("bad address {a:?}: {e}")));
    let to = row.envelope_to.split(',').filter(|s| !s.trim().is_empty()).map(parse).collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(parse(&row.envelope_from)?), to).map_err(|e| SendError::Permanent(e.to_string()))
}
