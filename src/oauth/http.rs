//! The token endpoint's requests: one HTTP/1.1 POST of a form (or a GET) over TCP, or TLS
//! with the system's web roots, read whole within a time limit. hyper's own client, as the
//! server uses hyper: no second HTTP stack for four requests.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long a whole request may take: connecting, asking and reading the answer.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer read: a token answer is a few KB.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url} is not an http:// or https:// address")]
    Url { url: String },
    #[error("{url}: {why}")]
    Network { url: String, why: String },
    #[error("{url}: no answer within {:?}", TIMEOUT)]
    Timeout { url: String },
}

/// An answer: its status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// POSTs `form` (`application/x-www-form-urlencoded`) to `url`.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> Result<Answer, HttpError> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let timed = tokio::time::timeout(TIMEOUT, send(url, body));
    timed.await.map_err(|_| HttpError::Timeout { url: url.into() })?
}

/// Where a URL leads: TLS or not, host, port, and the path with its query.
struct Target<'a> {
    tls: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
}

fn target(url: &str) -> Option<Target<'_>> {
    let (tls, rest) = match url.split_once("://")? {
        ("https", rest) => (true, rest),
        ("http", rest) => (false, rest),
        _ => return None,
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, port.parse().ok()?),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then_some(Target { tls, host, port, path })
}

async fn send(url: &str, body: String) -> Result<Answer, HttpError> {
    let t = target(url).ok_or_else(|| HttpError::Url { url: url.into() })?;
    let net = |why: String| HttpError::Network { url: url.into(), why };
    let tcp = TcpStream::connect((t.host, t.port)).await.map_err(|e| net(e.to_string()))?;
    let host = if t.host.contains(':') { format!("[{}]", t.host) } else { t.host.to_owned() };
    let authority =
        if (t.tls && t.port == 443) || (!t.tls && t.port == 80) { host } else { format!("{host}:{}", t.port) };
    let request = Request::post(t.path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, concat!("supportd/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| net(e.to_string()))?;
    if t.tls {
        let config = crate::outbound::tls::client_config(None).map_err(|e| net(e.to_string()))?;
        let name = ServerName::try_from(t.host.to_owned()).map_err(|e| net(e.to_string()))?;
        let tls = TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| net(e.to_string()))?;
        exchange(TokioIo::new(tls), request).await.map_err(net)
    } else {
        exchange(TokioIo::new(tcp), request).await.map_err(net)
    }
}

async fn exchange<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<Answer, String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    // The connection is driven beside the request and ends with it.
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| e.to_string());
    let answer = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let limited = http_body_util::Limited::new(response.into_body(), MAX_BODY);
            let body = limited.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok(Answer { status, body })
        }
        Err(e) => Err(e),
    };
    driver.abort();
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_into_their_parts() {
        let t = target("https://login.microsoftonline.com/common/oauth2/v2.0/token").unwrap();
        assert_eq!(
            (t.tls, t.host, t.port, t.path),
            (true, "login.microsoftonline.com", 443, "/common/oauth2/v2.0/token")
        );
        let t = target("http://127.0.0.1:40485/token").unwrap();
        assert_eq!((t.tls, t.host, t.port, t.path), (false, "127.0.0.1", 40485, "/token"));
        let t = target("http://[::1]:8080/x?y=1").unwrap();
        assert_eq!((t.host, t.port, t.path), ("::1", 8080, "/x?y=1"));
        assert_eq!(target("http://host").unwrap().path, "/");
        assert!(target("ftp://host/x").is_none());
        assert!(target("http://:80/x").is_none());
        assert!(target("http://host:port/x").is_none());
    }
}
