//! Delivery to an SMTP server over a connection of our own, kept for the next mail.
//!
//! Not lettre's `AsyncSmtpTransport`: its socket has no `TCP_NODELAY`, and its connection
//! writes a mail's final "\r\n.\r\n" on its own after the body, so Nagle's algorithm held that
//! write until the server's delayed ACK, ~40 ms a mail. We open the socket (and an implicit
//! TLS session) ourselves and hand it to lettre's `AsyncSmtpConnection`.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use rustls::pki_types::ServerName;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use super::smtp_stream::{TlsStream, connect_tcp};
use super::tls::client_config;
use super::transport::SendError;
use crate::config::{Security, SmtpConfig};

/// A kept connection unused this long is not reused: the server or a NAT in between may have
/// dropped it meanwhile, and a new connection costs a handshake where a dead one could cost
/// the whole timeout. (Postfix keeps its own for 2 s.)
const IDLE_LIMIT: Duration = Duration::from_secs(5);

/// QUIT is a courtesy: a server that does not answer it soon is not waited for.
const QUIT_WAIT: Duration = Duration::from_secs(1);

/// The configured SMTP server, and the connection to it between mails.
pub struct Relay {
    host: String,
    port: u16,
    security: Secure,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    kept: Mutex<Option<Kept>>,
}

enum Secure {
    Plain,
    StartTls(TlsParameters),
    Tls(TlsConnector, ServerName<'static>),
}

struct Kept {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// Why one attempt failed, before it is judged worth retrying or not.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, #[source] io::Error),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, #[source] io::Error),
}

impl Relay {
    /// Reads the CA file and checks the host name now, so a mistake stops the start.
    pub fn new(cfg: &SmtpConfig) -> Result<Relay, SendError> {
        let security = match cfg.security {
            Security::Plain => Secure::Plain,
            Security::StartTls => Secure::StartTls(starttls_parameters(cfg)?),
            Security::Tls => {
                let config = client_config(cfg.ca_file.as_deref()).map_err(|e| SendError::Setup(e.to_string()))?;
                let name = ServerName::try_from(cfg.host.clone())
                    .map_err(|e| SendError::Setup(format!("{}: {e}", cfg.host)))?;
                Secure::Tls(TlsConnector::from(Arc::new(config)), name)
            }
        };
        let credentials = match (&cfg.username, &cfg.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.expose().to_owned())),
            _ => None,
        };
        Ok(Relay {
            host: cfg.host.clone(),
            port: cfg.port,
            security,
            credentials,
            // lettre's default: this machine's host name.
            hello: ClientId::default(),
            timeout: cfg.timeout,
            kept: Mutex::new(None),
        })
    }

    /// One mail, on the kept connection when there is a fresh one. lettre's connection has no
    /// deadlines of its own, so the whole exchange is bounded here; any failure drops the
    /// connection (lettre has already said QUIT after a refusal), so the next mail starts clean.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let mut kept = self.kept.lock().await;
        let reuse = kept.take().filter(|k| k.since.elapsed() < IDLE_LIMIT).map(|k| k.conn);
        match tokio::time::timeout(self.timeout, self.deliver(reuse, envelope, raw)).await {
            Err(_) => Err(SendError::Transient(format!("no answer from the SMTP server within {:?}", self.timeout))),
            Ok(Err(Failure::Smtp(e))) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
            Ok(Ok(conn)) => {
                *kept = Some(Kept { conn, since: Instant::now() });
                Ok(())
            }
        }
    }

    async fn deliver(
        &self,
        reuse: Option<AsyncSmtpConnection>,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<AsyncSmtpConnection, Failure> {
        if let Some(mut conn) = reuse {
            match conn.send(envelope, raw).await {
                Ok(_) => return Ok(conn),
                Err(e) if !closed_meanwhile(&e) => return Err(e.into()),
                Err(e) => tracing::debug!(error = %e, "the kept SMTP connection was closed; opening a new one"),
            }
        }
        let mut conn = self.open().await?;
        conn.send(envelope, raw).await?;
        Ok(conn)
    }

    /// Connects, secures the connection as configured, and logs in.
    async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let address = format!("{}:{}", self.host, self.port);
        let tcp = connect_tcp(&self.host, self.port).await.map_err(|e| Failure::Connect(address.clone(), e))?;
        // Without it Nagle's algorithm holds lettre's separate "\r\n.\r\n" (see the top).
        tcp.set_nodelay(true).map_err(|e| Failure::Connect(address.clone(), e))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Secure::Tls(connector, name) => {
                let tls = connector.connect(name.clone(), tcp).await.map_err(|e| Failure::Tls(address, e))?;
                Box::new(TlsStream(tls))
            }
            Secure::Plain | Secure::StartTls(_) => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Secure::StartTls(parameters) = &self.security {
            // Fails when the server does not offer STARTTLS: never fall back to cleartext.
            conn.starttls(parameters.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// Says QUIT on a connection unused for `IDLE_LIMIT`, rather than hold the server's slot
    /// until the next mail.
    pub async fn close_idle(&self) {
        let mut kept = self.kept.lock().await;
        if kept.as_ref().is_some_and(|k| k.since.elapsed() >= IDLE_LIMIT) {
            quit(kept.take()).await;
        }
    }

    pub async fn close(&self) {
        let kept = self.kept.lock().await.take();
        quit(kept).await;
    }
}

async fn quit(kept: Option<Kept>) {
    if let Some(mut kept) = kept {
        let _ = tokio::time::timeout(QUIT_WAIT, kept.conn.quit()).await;
    }
}

/// A kept connection that the server closed meanwhile fails before any reply (end of stream,
/// reset) or with 421, "closing transmission channel" (RFC 5321 §3.8); the mail is then tried
/// once more on a new connection. Had the connection died after the final dot was accepted,
/// the mail arrives twice: the same window as a retry from the outbox.
fn closed_meanwhile(e: &SmtpError) -> bool {
    match e.status() {
        Some(code) => u16::from(code) == 421,
        None => !e.is_client(),
    }
}

/// As lettre builds them for its own transport: the webpki roots plus `ca_file`.
fn starttls_parameters(cfg: &SmtpConfig) -> Result<TlsParameters, SendError> {
    let mut parameters = TlsParameters::builder(cfg.host.clone());
    if let Some(ca) = &cfg.ca_file {
        let setup = |e: &dyn std::fmt::Display| SendError::Setup(format!("{}: {e}", ca.display()));
        let pem = std::fs::read(ca).map_err(|e| setup(&e))?;
        parameters = parameters.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| setup(&e))?);
    }
    parameters.build_rustls().map_err(|e| SendError::Setup(e.to_string()))
}
