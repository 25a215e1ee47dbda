//! What every request passes: the `[http]` token when one is set (as a bearer token, or
//! as the password of basic auth so that a browser can ask for it; `/healthz` excepted),
//! and the headers that
//! keep a page of customers' mail from running or framing anything.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::desk::Desk;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'none'";

pub async fn guard(State(desk): State<Desk>, request: Request, next: Next) -> Response {
    // `/healthz` says only that the process answers: a load balancer or a container's
    // HEALTHCHECK asks it without the token.
    let open = request.uri().path() == "/healthz";
    let mut response = match desk.config.http.token.as_ref() {
        // Without a token only loopback serves, and only to a loopback name: a page elsewhere
        // whose name resolves to 127.0.0.1 (DNS rebinding) must not read the desk's mail.
        None if !open && !local_host(request.headers()) => {
            (StatusCode::MISDIRECTED_REQUEST, "ask for localhost, 127.0.0.1 or [::1]\n").into_response()
        }
        // A reverse proxy on this machine makes every request look local: a desk served
        // through one needs the token like any other that others can reach.
        None if !open && proxied(request.headers()) => {
            (StatusCode::FORBIDDEN, "a request through a proxy needs [http] token_env or token_file\n").into_response()
        }
        Some(token) if !open && !authorized(request.headers(), token.expose()) => {
            let mut denied = (StatusCode::UNAUTHORIZED, "a token is needed: Authorization: Bearer …\n").into_response();
            denied.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"supportd\""));
            denied
        }
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
    constant_time_eq(secret.as_bytes(), token.as_bytes())
}

/// Whether the request's Host is a loopback name (`localhost`, `127.0.0.1`, `[::1]`, with
/// any port).
fn local_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a proxy forwarded the request (it says so in one of these headers).
fn proxied(headers: &HeaderMap) -> bool {
    ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "via"]
        .iter()
        .any(|name| headers.contains_key(*name))
}

fn basic_password(encoded: &str) -> Option<String> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
        assert!(!local_host(&HeaderMap::new()), "no Host");
    }

    #[test]
    fn a_forwarded_request_reads_as_proxied() {
        assert!(!proxied(&HeaderMap::new()));
        for name in ["Forwarded", "X-Forwarded-For", "X-Real-IP", "Via"] {
            let mut h = HeaderMap::new();
            h.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_static("x"));
            assert!(proxied(&h), "{name}");
        }
    }
}
