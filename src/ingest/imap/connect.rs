use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::timed::timed;
use crate::config::{ImapConfig, MailAuth, Security};
use crate::desk::Desk;
use crate::oauth::OAuth2Config;
use crate::oauth::sasl::ImapXOAuth2;
use crate::outbound::tls::client_config;

/// One boxed stream type for plain and TLS connections (async-imap needs Debug + Send + Unpin).
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}
pub type Io = Box<dyn ImapIo>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect { host: String, port: u16, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("IMAP command {command} timed out after {after:?}")]
    Timeout { command: &'static str, after: Duration },
    #[error("the server sent no greeting")]
    NoGreeting,
    #[error("login as {user} failed: {source}")]
    Login { user: String, source: async_imap::error::Error },
    /// The server refused the OAuth2 access token: the next connection refreshes it first.
    #[error("the server refused the OAuth2 token of {user}: {said}")]
    TokenRefused { user: String, said: String },
    #[error(transparent)]
    OAuth(#[from] crate::oauth::TokenError),
    #[error("IMAP: {0}")]
    Protocol(#[from] async_imap::error::Error),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Unavailable(crate::ingest::IngestError),
    /// Treated as a lost connection: reconnect, and the unseen mail is fetched again.
    #[error(transparent)]
    Panicked(#[from] crate::panics::Panicked),
}

/// Connects, secures the connection as configured, and logs in (a password, or an OAuth2
/// token from the desk's store); each step within the mailbox's timeout.
pub async fn connect(desk: &Desk, cfg: &ImapConfig) -> Result<Session<Io>, ImapError> {
    // The token first: a provider that refuses it is told apart from a server that is down.
    let credential = match &cfg.auth {
        MailAuth::OAuth2(oauth) => Credential::Bearer(oauth, bearer(desk, oauth).await?),
        MailAuth::Password(password) => Credential::Password(password),
    };
    let limit = cfg.timeout;
    let tcp = timed("connect", limit, async {
        TcpStream::connect((cfg.host.as_str(), cfg.port)).await.map_err(|source| ImapError::Connect {
            host: cfg.host.clone(),
            port: cfg.port,
            source,
        })
    })
    .await?;
    tcp.set_nodelay(true).ok();
    let io: Io = match cfg.security {
        Security::Plain => greeted(Box::new(tcp), limit).await?,
        Security::Tls => greeted(Box::new(tls(cfg, tcp).await?), limit).await?,
        Security::StartTls => {
            let mut client = Client::new(tcp);
            timed("greeting", limit, client.read_response()).await?.ok_or(ImapError::NoGreeting)?;
            timed("STARTTLS", limit, client.run_command_and_check_ok("STARTTLS", None)).await?;
            // No second greeting after STARTTLS (RFC 3501 §6.2.1).
            Box::new(tls(cfg, client.into_inner()).await?)
        }
    };
    let client = Client::new(io);
    match credential {
        Credential::Bearer(oauth, token) => authenticate(desk, cfg, oauth, client, &token).await,
        Credential::Password(password) => {
            let login = client.login(&cfg.username, password.expose());
            timed("LOGIN", limit, async {
                login.await.map_err(|(source, _)| ImapError::Login { user: cfg.username.clone(), source })
            })
            .await
        }
    }
}

/// What a mailbox logs in with.
enum Credential<'a> {
    Password(&'a crate::config::Secret),
    Bearer(&'a OAuth2Config, String),
}

async fn bearer(desk: &Desk, oauth: &OAuth2Config) -> Result<String, ImapError> {
    Ok(crate::oauth::desk_token(desk, oauth).await?)
}

/// `AUTHENTICATE XOAUTH2`; a refused token is marked expired, so that the next connection
/// refreshes it rather than offering it again.
async fn authenticate(
    desk: &Desk,
    cfg: &ImapConfig,
    oauth: &OAuth2Config,
    client: Client<Io>,
    token: &str,
) -> Result<Session<Io>, ImapError> {
    let auth = ImapXOAuth2::new(&oauth.user, token);
    let refusal = auth.refusal.clone();
    let authenticated = timed("AUTHENTICATE", cfg.timeout, async {
        client
            .authenticate("XOAUTH2", auth)
            .await
            .map_err(|(source, _)| ImapError::Login { user: oauth.user.clone(), source })
    })
    .await;
    match authenticated {
        Ok(session) => Ok(session),
        // NO or BAD is the server's verdict on the token; a lost connection is none.
        Err(ImapError::Login {
            user,
            source: source @ (async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_)),
        }) => {
            crate::oauth::store::expire_access(&desk.db, &oauth.account).await?;
            let said = refusal.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_else(|| source.to_string());
            Err(ImapError::TokenRefused { user, said })
        }
        Err(other) => Err(other),
    }
}

/// async-imap does not read the greeting itself.
async fn greeted(io: Io, limit: Duration) -> Result<Io, ImapError> {
    let mut client = Client::new(io);
    timed("greeting", limit, client.read_response()).await?.ok_or(ImapError::NoGreeting)?;
    Ok(client.into_inner())
}

async fn tls(cfg: &ImapConfig, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let config = client_config(cfg.ca_file.as_deref()).map_err(|e| ImapError::Tls(e.to_string()))?;
    let name = ServerName::try_from(cfg.host.clone()).map_err(|e| ImapError::Tls(format!("{}: {e}", cfg.host)))?;
    let handshake = TlsConnector::from(Arc::new(config)).connect(name, tcp);
    timed("TLS handshake", cfg.timeout, async { handshake.await.map_err(|e| ImapError::Tls(e.to_string())) }).await
}
