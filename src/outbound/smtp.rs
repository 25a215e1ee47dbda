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
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS, Mechanism};
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
    /// Set when the relay logs in with OAuth2: a current token for each new connection.
    oauth: Option<(crate::oauth::OAuth2Config, crate::oauth::TokenStore)>,
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
    #[error(transparent)]
    Token(#[from] crate::oauth::TokenError),
    /// The server refused the OAuth2 token: the next connection refreshes it first.
    #[error("the SMTP server refused the OAuth2 token of {user}: {said}")]
    TokenRefused { user: String, said: String },
    #[error("{0}")]
    Unexpected(String),
}

impl Relay {
    /// Reads the CA file and checks the host name now, so a mistake stops the start.
    pub fn new(cfg: &SmtpConfig, tokens: Option<crate::oauth::TokenStore>) -> Result<Relay, SendError> {
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
        let oauth = match (&cfg.oauth2, tokens) {
            (Some(account), Some(tokens)) => Some((account.as_ref().clone(), tokens)),
            (Some(account), None) => return Err(SendError::Setup(format!("no [oauth] key for {}", account.account))),
            (None, _) => None,
        };
        Ok(Relay {
            host: cfg.host.clone(),
            port: cfg.port,
            security,
            credentials,
            oauth,
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
            // The relay cannot log in until a person acts: the mail waits, its attempts uncounted.
            Ok(Err(Failure::Token(e))) if !e.is_transient() => Err(SendError::Waiting(e.to_string())),
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
        if let Some((account, tokens)) = &self.oauth {
            let token = tokens.token(account).await?;
            if let Err(refused) = xoauth2(&mut conn, &account.user, &token).await {
                if let Failure::TokenRefused { .. } = refused {
                    tokens.refused(account).await?;
                }
                return Err(refused);
            }
        } else if let Some(credentials) = &self.credentials {
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

/// `AUTH XOAUTH2` with the initial response sent after the server's `334`, not on the
/// `AUTH` line as lettre sends it: a server that caps its command line (Dovecot at about 1 KB)
/// refuses a Microsoft token of 1.5–2.5 KB there, while a continuation line may be long (RFC
/// 4954 §4). A refusal comes as a `334` holding the server's JSON error, answered with an
/// empty line so that the server ends the exchange with its code.
async fn xoauth2(conn: &mut AsyncSmtpConnection, user: &str, token: &str) -> Result<(), Failure> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    if !conn.server_info().supports_auth_mechanism(Mechanism::Xoauth2) {
        return Err(Failure::Unexpected("the SMTP server does not offer AUTH XOAUTH2".into()));
    }
    let refused = |said: String| {
        let advice = crate::oauth::sasl::smtp_refusal_advice(&said).map(|a| format!(" ({a})")).unwrap_or_default();
        Failure::TokenRefused { user: user.to_owned(), said: format!("{said}{advice}") }
    };
    let started = conn.command(Line("AUTH XOAUTH2")).await?;
    if !started.has_code(334) {
        return Err(Failure::Unexpected(format!("AUTH XOAUTH2 answered {}", started.code())));
    }
    let initial = STANDARD.encode(crate::oauth::sasl::xoauth2(user, token));
    match conn.command(Line(&initial)).await {
        Ok(done) if done.has_code(235) => Ok(()),
        Ok(challenge) if challenge.has_code(334) => {
            // The server's JSON error, base64; its words as they came when they are not.
            let line = challenge.first_line().unwrap_or_default().trim().to_owned();
            let said = STANDARD.decode(&line).map_or(line, |json| String::from_utf8_lossy(&json).into_owned());
            let end = conn.command(Line("")).await.err().map_or_else(String::new, |e| format!("{e}: "));
            Err(refused(format!("{end}{said}")))
        }
        Ok(other) => Err(Failure::Unexpected(format!("the token answered {}", other.code()))),
        // 534 and 535: the credentials refused (RFC 4954 §6); anything else is no verdict on them.
        Err(e) if e.status().is_some_and(|c| [534, 535].contains(&u16::from(c))) => Err(refused(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// One command line, ended as SMTP wants.
struct Line<'a>(&'a str);

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0)
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
