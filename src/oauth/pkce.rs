//! The authorization code flow's pieces (RFC 6749 §4.1 with PKCE, RFC 7636): a verifier and
//! its S256 challenge, a state that ties the answer to this request, the address the person
//! opens, and the code read back from the redirect to this machine's loopback.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use super::{OAuth2Config, Provider};

/// One authorization request: what the redirect must carry back, and what the exchange needs.
/// Never printed: the verifier is a secret until the exchange.
#[derive(Clone)]
pub struct Request {
    pub verifier: String,
    pub state: String,
    pub redirect_uri: String,
}

impl Request {
    pub fn new(redirect_uri: String) -> Result<Request, super::SealError> {
        Ok(Request { verifier: random()?, state: random()?, redirect_uri })
    }

    /// The address the person opens to consent.
    pub fn url(&self, cfg: &OAuth2Config) -> Option<String> {
        let authorize = cfg.endpoints.authorize.as_deref()?;
        let scope = cfg.scopes.join(" ");
        let challenge = challenge(&self.verifier);
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs([
            ("client_id", cfg.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", scope.as_str()),
            ("state", self.state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", cfg.user.as_str()),
        ]);
        // Google gives a refresh token only when asked for offline access, and again only
        // with a fresh consent.
        if cfg.provider == Provider::Google {
            query.extend_pairs([("access_type", "offline"), ("prompt", "consent")]);
        }
        let join = if authorize.contains('?') { '&' } else { '?' };
        Some(format!("{authorize}{join}{}", query.finish()))
    }

    /// The code from the redirect's request target (`/?code=…&state=…`), once its state is
    /// this request's; else why not (the provider's error, a forged or stale redirect).
    pub fn code_from(&self, target: &str) -> Result<String, Refusal> {
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let mut code = None;
        let mut state = None;
        let mut error = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                "error_description" => error = Some(format!("{}: {value}", error.unwrap_or_default())),
                _ => {}
            }
        }
        // The state first: anything on this machine can call the loopback, only the provider
        // knows the state.
        if state.as_deref() != Some(self.state.as_str()) {
            return Err(Refusal::Stray);
        }
        if let Some(error) = error {
            return Err(Refusal::Provider(format!("the provider said {error}")));
        }
        code.ok_or_else(|| Refusal::Provider("the redirect carries no code".into()))
    }
}

/// Why a request to the loopback gave no code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not this login's redirect (another state, or none): answered and ignored.
    Stray,
    /// The provider's answer to this login, refusing.
    Provider(String),
}

/// The S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// 32 random bytes, base64url: a verifier of 43 characters, as RFC 7636 wants at least.
fn random() -> Result<String, super::SealError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| super::SealError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{Endpoints, Grant};

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let r = Request::new("http://127.0.0.1:1/".into()).unwrap();
        assert_eq!(r.verifier.len(), 43);
        assert_ne!(r.verifier, r.state);
    }

    fn google() -> OAuth2Config {
        OAuth2Config {
            account: "mailbox:gmail".into(),
            user: "help@kiwi.example".into(),
            provider: Provider::Google,
            client_id: "id-1".into(),
            client_secret: None,
            secret_expires: None,
            grant: Grant::AuthorizationCode,
            endpoints: Provider::Google.endpoints().unwrap(),
            scopes: vec!["https://mail.google.com/".into()],
        }
    }

    #[test]
    fn the_address_asks_for_the_scopes_with_the_challenge_and_google_for_offline_access() {
        let r = Request::new("http://127.0.0.1:8765/".into()).unwrap();
        let url = r.url(&google()).unwrap();
        assert!(
            url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?client_id=id-1&response_type=code&"),
            "{url}"
        );
        assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F"), "{url}");
        assert!(url.contains("scope=https%3A%2F%2Fmail.google.com%2F"), "{url}");
        assert!(
            url.contains(&format!("code_challenge={}&code_challenge_method=S256", challenge(&r.verifier))),
            "{url}"
        );
        assert!(url.contains("login_hint=help%40kiwi.example"), "{url}");
        assert!(url.ends_with("&access_type=offline&prompt=consent"), "{url}");
        let custom = OAuth2Config {
            provider: Provider::Custom,
            endpoints: Endpoints { token: "t".into(), device: None, authorize: None },
            ..google()
        };
        assert_eq!(r.url(&custom), None, "no authorize endpoint, no address");
    }

    #[test]
    fn only_a_redirect_with_this_requests_state_gives_its_code() {
        let r = Request::new("http://127.0.0.1:1/".into()).unwrap();
        let good = format!("/?code=abc&state={}", r.state);
        assert_eq!(r.code_from(&good), Ok("abc".into()));
        assert_eq!(r.code_from("/?code=abc&state=other"), Err(Refusal::Stray));
        assert_eq!(r.code_from("/?error=access_denied&error_description=no"), Err(Refusal::Stray), "state first");
        let denied = format!("/?error=access_denied&error_description=no&state={}", r.state);
        assert_eq!(r.code_from(&denied), Err(Refusal::Provider("the provider said access_denied: no".into())));
        assert!(matches!(r.code_from(&format!("/?state={}", r.state)), Err(Refusal::Provider(_))));
    }
}
