//! What every request passes: the `[http]` token when one is set (as a bearer token, or
//! as the password of basic auth so that a browser can ask for it; `/healthz` excepted);
//! without one, the loopback rule (the TCP peer is this machine and no trusted proxy, the
//! Host a loopback name); and the headers that keep a page of customers' mail from running
//! or framing anything.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::HttpConfig;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'none'";

/// The headers every response carries, hyper's own 400/414/431 too (`wire` adds them there).
pub const HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
];

pub async fn guard(State(http): State<Arc<HttpConfig>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let mut response = match admit(&http, peer, &request) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Why a request is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoToken,
    UnknownPeer,
    Proxied,
    NotLocal,
    Rebinding,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            Refusal::NoToken => (StatusCode::UNAUTHORIZED, "a token is needed: Authorization: Bearer …\n"),
            Refusal::UnknownPeer => (StatusCode::FORBIDDEN, "the peer is unknown\n"),
            Refusal::Proxied => {
                (StatusCode::FORBIDDEN, "a request through a proxy needs [http] token_env or token_file\n")
            }
            Refusal::NotLocal => (StatusCode::FORBIDDEN, "only this machine is served without [http] token\n"),
            Refusal::Rebinding => (StatusCode::MISDIRECTED_REQUEST, "ask for localhost, 127.0.0.1 or [::1]\n"),
        };
        let mut response = (status, text).into_response();
        if self == Refusal::NoToken {
            let basic = HeaderValue::from_static("Basic realm=\"supportd\"");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, basic);
        }
        response
    }
}

/// Whether the request may be served.
fn admit(http: &HttpConfig, peer: Option<IpAddr>, request: &Request) -> Result<(), Refusal> {
    // `/healthz` says only that the process answers: a load balancer or a container's
    // HEALTHCHECK asks it without the token.
    if request.uri().path() == "/healthz" {
        return Ok(());
    }
    if let Some(token) = http.token.as_ref() {
        return match authorized(request.headers(), token.expose()) {
            true => Ok(()),
            false => Err(Refusal::NoToken),
        };
    }
    // Without a token only this machine is served, and only under a loopback name: a page
    // elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) must not read the desk.
    // Who is asking is the TCP peer's word, not a header's: a plain forwarder adds none.
    let peer = peer.map(|ip| ip.to_canonical()).ok_or(Refusal::UnknownPeer)?;
    if http.trusted_proxies.iter().any(|range| range.contains(peer)) {
        return Err(Refusal::Proxied);
    }
    if !peer.is_loopback() {
        return Err(Refusal::NotLocal);
    }
    if !local_host(request.headers()) {
        return Err(Refusal::Rebinding);
    }
    Ok(())
}

/// `Bearer TOKEN`, or `Basic base64(any-user:TOKEN)`; compared in constant time.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let secret = match given.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_owned(),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => match basic_password(rest.trim()) {
            Some(p) => p,
            None => return false,
        },
        _ => return false,
    };
    same_secret(secret.as_bytes(), token.as_bytes())
}

/// Whether the request has one Host and it is a loopback name (`localhost`, `127.0.0.1`,
/// `[::1]`), with or without a port of digits. Two Host headers, or a "port" such as
/// `80@evil.test`, are read differently by each proxy and browser: refused.
fn local_host(headers: &HeaderMap) -> bool {
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else { return false };
    let Ok(host) = host.to_str() else { return false };
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((name, "")) => (name, ""),
            Some((name, rest)) => match rest.strip_prefix(':') {
                Some(port) => (name, port),
                None => return false,
            },
            None => return false,
        },
        None => host.rsplit_once(':').unwrap_or((host, "")),
    };
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    let loopback =
        name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    loopback && port_ok
}

fn basic_password(encoded: &str) -> Option<String> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

/// Compares the SHA-256 digests, always 32 bytes, in constant time: neither the token's
/// length nor the place of the first wrong byte shows in the time the answer takes.
fn same_secret(given: &[u8], token: &[u8]) -> bool {
    Sha256::digest(given).ct_eq(&Sha256::digest(token)).into()
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_bearer_token_or_basic_auth_with_it_as_the_password() {
        assert!(authorized(&with("Bearer s3cret"), "s3cret"));
        assert!(authorized(&with("bearer  s3cret "), "s3cret"));
        // "lead:s3cret"
        assert!(authorized(&with("Basic bGVhZDpzM2NyZXQ="), "s3cret"));
        assert!(!authorized(&with("Bearer s3cre"), "s3cret"));
        assert!(!authorized(&with("Bearer "), "s3cret"));
        assert!(!authorized(&with("Basic !!!"), "s3cret"));
        assert!(!authorized(&with("s3cret"), "s3cret"));
        assert!(!authorized(&HeaderMap::new(), "s3cret"));
    }

    #[test]
    fn only_loopback_names_are_local() {
        let host = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(value).unwrap());
            local_host(&h)
        };
        for ok in ["localhost:8025", "127.0.0.1:8025", "[::1]:8025", "LOCALHOST", "127.0.0.2"] {
            assert!(host(ok), "{ok}");
        }
        for not in ["evil.example:8025", "evil.example", "127.0.0.1.evil.example", "[::2]:80", "localhost.evil"] {
            assert!(!host(not), "{not}");
        }
        for not in ["localhost:80@evil.test", "[::1]:80@evil.test", "[::1]x", "[::1]80", "[::1", "localhost:123456"] {
            assert!(!host(not), "a port that is no port: {not}");
        }
        let mut two = HeaderMap::new();
        two.append(header::HOST, HeaderValue::from_static("localhost"));
        two.append(header::HOST, HeaderValue::from_static("evil.example"));
        assert!(!local_host(&two), "two Host headers");
        assert!(!local_host(&HeaderMap::new()), "no Host");
    }

    #[test]
    fn secrets_of_any_length_compare_by_content() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        for other in [&b""[..], b"s", b"s3cre", b"s3cret ", b"S3cret", b"s3cret-and-more-than-the-token"] {
            assert!(!same_secret(other, b"s3cret"), "{other:?}");
        }
    }

    fn admitted(http: &HttpConfig, peer: &str, host: &str, path: &str) -> Result<(), u16> {
        let request = Request::builder().uri(path).header(header::HOST, host).body(axum::body::Body::empty()).unwrap();
        admit(http, Some(peer.parse().unwrap()), &request).map_err(|r| r.into_response().status().as_u16())
    }

    fn http_config(trusted: &[&str]) -> HttpConfig {
        HttpConfig {
            listen: None,
            token: None,
            public_url: None,
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            limits: crate::config::HttpLimits::default(),
            page_size: 200,
        }
    }

    #[test]
    fn without_a_token_the_peer_decides_and_a_trusted_proxy_is_not_local() {
        let plain = http_config(&[]);
        assert_eq!(admitted(&plain, "127.0.0.1", "localhost:8025", "/"), Ok(()));
        assert_eq!(admitted(&plain, "::1", "[::1]:8025", "/api/cases"), Ok(()));
        assert_eq!(admitted(&plain, "::ffff:127.0.0.1", "127.0.0.1", "/"), Ok(()));
        assert_eq!(admitted(&plain, "192.0.2.7", "localhost", "/"), Err(403), "another machine");
        assert_eq!(admitted(&plain, "127.0.0.1", "evil.example", "/"), Err(421), "DNS rebinding");
        let proxied = http_config(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(admitted(&proxied, "127.0.0.1", "localhost", "/"), Err(403));
        assert_eq!(admitted(&proxied, "::ffff:127.0.0.1", "localhost", "/"), Err(403));
        assert_eq!(admitted(&proxied, "::1", "localhost", "/"), Ok(()), "not listed");
        assert_eq!(admitted(&proxied, "127.0.0.1", "localhost", "/healthz"), Ok(()), "health is open");
    }
}
