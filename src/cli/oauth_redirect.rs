//! `oauth login --redirect`: the authorization code flow with PKCE. The person opens the
//! printed address in any browser; the provider sends the browser back to this machine's
//! loopback, where one request is read for its code, answered with a page saying it can be
//! closed, and the code exchanged for tokens.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::output::outln;
use crate::oauth::OAuth2Config;
use crate::oauth::endpoint::{self, EndpointError, Granted};
use crate::oauth::pkce::{Refusal, Request};

/// How long the person has to consent.
const WAIT: Duration = Duration::from_secs(10 * 60);
/// The largest redirect request read: its target carries the code and the state.
const MAX_REQUEST: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RedirectError {
    #[error("cannot listen on 127.0.0.1:{port} for the redirect: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("the provider has no authorization address configured (authorize_url)")]
    NoAuthorizeUrl,
    #[error("no consent came back within {} minutes", WAIT.as_secs() / 60)]
    Timeout,
    #[error("{0}")]
    Redirect(String),
    #[error("the system's random source failed")]
    Random,
}

/// The tokens the consent granted; an `Err` inside is the token endpoint's refusal.
pub async fn flow(cfg: &OAuth2Config, port: u16) -> Result<Result<Granted, EndpointError>, RedirectError> {
    let listener =
        TcpListener::bind(("127.0.0.1", port)).await.map_err(|source| RedirectError::Listen { port, source })?;
    let port = listener.local_addr().map_err(|source| RedirectError::Listen { port, source })?.port();
    let request = Request::new(format!("http://127.0.0.1:{port}/")).map_err(|_| RedirectError::Random)?;
    let url = request.url(cfg).ok_or(RedirectError::NoAuthorizeUrl)?;
    outln!("To let supportd read and send mail as {}, open this address in a browser and consent:", cfg.user);
    outln!("{url}");
    outln!(
        "(The browser comes back to 127.0.0.1:{port} on this machine; from another machine, tunnel it: ssh -L {port}:127.0.0.1:{port} …)"
    );
    let code = tokio::time::timeout(WAIT, code(&listener, &request)).await.map_err(|_| RedirectError::Timeout)??;
    Ok(endpoint::authorization_code(cfg, &code, &request.redirect_uri, &request.verifier).await)
}

/// Reads redirects until one carries this request's code; a stray request (a favicon) is
/// answered and skipped.
async fn code(listener: &TcpListener, request: &Request) -> Result<String, RedirectError> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| RedirectError::Redirect(e.to_string()))?;
        let target = match read_target(&mut stream).await {
            Some(target) => target,
            None => continue,
        };
        let (page, outcome) = match request.code_from(&target) {
            Err(Refusal::Stray) => {
                let _ = answer(&mut stream, "400 Bad Request", "Not the redirect of this supportd login.").await;
                continue;
            }
            Ok(code) => ("supportd is logged in: you can close this window.".to_owned(), Ok(code)),
            Err(Refusal::Provider(why)) => {
                (format!("supportd was not logged in: {}.", escape(&why)), Err(RedirectError::Redirect(why)))
            }
        };
        let _ = answer(&mut stream, "200 OK", &page).await;
        return outcome;
    }
}

/// The request target of an HTTP GET, once its head is read whole.
async fn read_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    // One deadline for the whole head: a client that dribbles cannot hold the browser off.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
    let mut parts = line.split_whitespace();
    (parts.next() == Some("GET")).then(|| parts.next().map(str::to_owned)).flatten()
}

/// Text made safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn answer(stream: &mut tokio::net::TcpStream, status: &str, text: &str) -> std::io::Result<()> {
    let body = format!("<!doctype html><meta charset=utf-8><title>supportd</title><p>{text}</p>\n");
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
