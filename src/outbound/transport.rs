//! Where outgoing mail goes: an SMTP server, or files in a folder (the embedded default).

use std::path::PathBuf;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Security, SmtpConfig, Transport as TransportConfig};
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
}

pub enum Transport {
    File(PathBuf),
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, timeout: Duration },
}

impl Transport {
    pub fn from_config(cfg: &TransportConfig) -> Result<Transport, SendError> {
        match cfg {
            TransportConfig::File { path } => Ok(Transport::File(path.clone())),
            TransportConfig::Smtp(smtp) => {
                Ok(Transport::Smtp { transport: smtp_transport(smtp)?, timeout: smtp.timeout })
            }
        }
    }

    pub async fn send(&self, row: &outbox::Model) -> Result<(), SendError> {
        match self {
            Transport::File(dir) => write_file(dir, row).await,
            Transport::Smtp { transport, timeout } => send_smtp(transport, *timeout, row).await,
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

fn smtp_transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host).port(cfg.port).timeout(Some(cfg.timeout));
    if cfg.security != Security::Plain {
        let mut params = TlsParameters::builder(cfg.host.clone());
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| SendError::Setup(format!("{}: {e}", ca.display())))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| SendError::Setup(format!("{}: {e}", ca.display())))?;
            params = params.add_root_certificate(cert);
        }
        let params = params.build_rustls().map_err(|e| SendError::Setup(e.to_string()))?;
        builder = builder.tls(if cfg.security == Security::Tls { Tls::Wrapper(params) } else { Tls::Required(params) });
    }
    if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// lettre's own timeout bounds only the connect, so the whole exchange is bounded here.
async fn send_smtp(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
    row: &outbox::Model,
) -> Result<(), SendError> {
    let parse = |a: &str| a.trim().parse().map_err(|e| SendError::Permanent(format!("bad address {a:?}: {e}")));
    let to = row.envelope_to.split(',').filter(|s| !s.trim().is_empty()).map(parse).collect::<Result<Vec<_>, _>>()?;
    let envelope =
        Envelope::new(Some(parse(&row.envelope_from)?), to).map_err(|e| SendError::Permanent(e.to_string()))?;
    match tokio::time::timeout(timeout, t.send_raw(&envelope, &row.raw)).await {
        Err(_) => Err(SendError::Transient(format!("no answer from the SMTP server within {timeout:?}"))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
    }
}
