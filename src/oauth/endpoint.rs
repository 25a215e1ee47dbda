//! The provider's token endpoint: refreshing, the application's own token, the device flow.
//! Its refusals are told apart, because each needs another fix: `invalid_grant` (consent
//! revoked or expired: log in again), `invalid_client` (the client secret expired or is
//! wrong: a new secret in the config), a server or network failure (try again later).

use serde::Deserialize;

use super::OAuth2Config;
use super::http::{self, HttpError};

/// What the endpoint granted. Never printed whole: `Debug` leaves the tokens out.
#[derive(Clone)]
pub struct Granted {
    pub access_token: String,
    /// A new refresh token, when the provider rotates it (Microsoft does on every refresh).
    pub refresh_token: Option<String>,
    /// Seconds the access token lives.
    pub expires_in: i64,
    pub scope: Option<String>,
}

impl std::fmt::Debug for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Granted").field("expires_in", &self.expires_in).field("scope", &self.scope).finish()
    }
}

/// A device flow begun: what the person is to open and type.
#[derive(Clone, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    /// Google calls it `verification_url`.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    #[serde(default = "five")]
    pub interval: u64,
    pub expires_in: i64,
}

fn five() -> u64 {
    5
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode").field("verification_uri", &self.verification_uri).finish()
    }
}

/// The shortest and longest life a token is taken to have, whatever the provider says: a
/// hostile or broken `expires_in` neither overflows a date nor makes every use a refresh.
const SHORTEST: i64 = 60;
const LONGEST: i64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("consent revoked or expired (invalid_grant: {0})")]
    InvalidGrant(String),
    #[error("the client secret is expired or wrong, or the client id unknown (invalid_client: {0})")]
    InvalidClient(String),
    /// The device flow: the person has not answered yet.
    #[error("authorization pending")]
    Pending,
    /// The device flow: poll less often.
    #[error("slow down")]
    SlowDown,
    #[error("the person declined ({0})")]
    Denied(String),
    #[error("the code expired before the person answered")]
    Expired,
    /// Worth trying again: the network, a 5xx, a 429.
    #[error("{0}")]
    Transient(String),
    #[error("the token endpoint refused: {0}")]
    Refused(String),
}

impl EndpointError {
    /// The kind stored with the token's last error (`oauth status`, the health alarm).
    pub fn kind(&self) -> &'static str {
        match self {
            EndpointError::InvalidGrant(_) => "invalid_grant",
            EndpointError::InvalidClient(_) => "invalid_client",
            EndpointError::Transient(_) => "transient",
            _ => "refused",
        }
    }
}

impl From<HttpError> for EndpointError {
    fn from(e: HttpError) -> Self {
        EndpointError::Transient(e.to_string())
    }
}

#[derive(Deserialize)]
struct Success {
    access_token: String,
    refresh_token: Option<String>,
    /// A number, or (Azure AD v1) a number in a string.
    expires_in: Option<serde_json::Value>,
    scope: Option<String>,
}

/// Seconds a token lives, as `expires_in` says (1 hour when it says nothing readable).
fn lifetime(expires_in: Option<&serde_json::Value>) -> i64 {
    let said = match expires_in {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    said.unwrap_or(3600).clamp(SHORTEST, LONGEST)
}

#[derive(Deserialize, Default)]
struct Failure {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A new access token (and perhaps a rotated refresh token) for `refresh_token`.
pub async fn refresh(cfg: &OAuth2Config, refresh_token: &str) -> Result<Granted, EndpointError> {
    let scope = cfg.scopes.join(" ");
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("scope", &scope)];
    granted(cfg, &cfg.endpoints.token, &mut form).await
}

/// The application's own token (client credentials): no person, no refresh token.
pub async fn client_credentials(cfg: &OAuth2Config) -> Result<Granted, EndpointError> {
    let scope = cfg.scopes.join(" ");
    let mut form = vec![("grant_type", "client_credentials"), ("scope", &scope)];
    granted(cfg, &cfg.endpoints.token, &mut form).await
}

/// Begins a device flow.
pub async fn device_start(cfg: &OAuth2Config) -> Result<DeviceCode, EndpointError> {
    let url = cfg.endpoints.device.as_deref().ok_or_else(|| EndpointError::Refused("no device endpoint".into()))?;
    let scope = cfg.scopes.join(" ");
    let mut form = vec![("client_id", cfg.client_id.as_str()), ("scope", &scope)];
    let answer = http::post_form(url, &form_with_secret(cfg, &mut form)).await?;
    if (200..300).contains(&answer.status) {
        return serde_json::from_slice(&answer.body)
            .map_err(|e| EndpointError::Refused(format!("an answer that is no device code: {e}")));
    }
    Err(failure(answer.status, &answer.body))
}

/// Asks once whether the person answered the device flow.
pub async fn device_poll(cfg: &OAuth2Config, device_code: &str) -> Result<Granted, EndpointError> {
    let mut form = vec![("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", device_code)];
    granted(cfg, &cfg.endpoints.token, &mut form).await
}

/// Exchanges an authorization code (with its PKCE verifier).
pub async fn authorization_code(
    cfg: &OAuth2Config,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Granted, EndpointError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    granted(cfg, &cfg.endpoints.token, &mut form).await
}

fn form_with_secret<'a>(cfg: &'a OAuth2Config, form: &mut Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    if let Some(secret) = &cfg.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    form.clone()
}

async fn granted<'a>(
    cfg: &'a OAuth2Config,
    url: &str,
    form: &mut Vec<(&'a str, &'a str)>,
) -> Result<Granted, EndpointError> {
    form.push(("client_id", cfg.client_id.as_str()));
    let answer = http::post_form(url, &form_with_secret(cfg, form)).await?;
    if !(200..300).contains(&answer.status) {
        return Err(failure(answer.status, &answer.body));
    }
    let s: Success = serde_json::from_slice(&answer.body)
        .map_err(|e| EndpointError::Refused(format!("an answer without an access token: {e}")))?;
    Ok(Granted {
        access_token: s.access_token,
        refresh_token: s.refresh_token,
        expires_in: lifetime(s.expires_in.as_ref()),
        scope: s.scope,
    })
}

/// What a refusal means, by its `error` code, else its status.
fn failure(status: u16, body: &[u8]) -> EndpointError {
    let f: Failure = serde_json::from_slice(body).unwrap_or_default();
    // What the provider said goes into the database, /readyz and alarm mail: one line, short,
    // without control characters.
    let described = || {
        let first = f.error_description.lines().next().unwrap_or_default().trim();
        let clean: String = first.chars().filter(|c| !c.is_control()).take(300).collect();
        if clean.is_empty() { format!("HTTP {status}") } else { clean }
    };
    match f.error.as_str() {
        "invalid_grant" => EndpointError::InvalidGrant(described()),
        "invalid_client" | "unauthorized_client" => EndpointError::InvalidClient(described()),
        "authorization_pending" => EndpointError::Pending,
        "slow_down" => EndpointError::SlowDown,
        "access_denied" | "authorization_declined" => EndpointError::Denied(described()),
        "expired_token" => EndpointError::Expired,
        _ if status >= 500 || status == 429 => EndpointError::Transient(format!("HTTP {status}: {}", described())),
        "" => EndpointError::Refused(format!("HTTP {status}")),
        code => EndpointError::Refused(format!("{code}: {}", described())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart_by_their_code() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired.\r\nTrace ID: 1"}"#;
        assert_eq!(
            failure(400, body),
            EndpointError::InvalidGrant("AADSTS50173: The provided grant has expired.".into())
        );
        let secret = br#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired."}"#;
        assert_eq!(failure(401, secret).kind(), "invalid_client");
        assert_eq!(failure(400, br#"{"error":"authorization_pending"}"#), EndpointError::Pending);
        assert_eq!(failure(400, br#"{"error":"slow_down"}"#), EndpointError::SlowDown);
        assert_eq!(failure(400, br#"{"error":"expired_token"}"#), EndpointError::Expired);
        assert_eq!(failure(500, br#"{"error":"server_error"}"#).kind(), "transient");
        assert_eq!(failure(503, b"<html>down</html>").kind(), "transient");
        assert_eq!(failure(429, b"").kind(), "transient");
        assert_eq!(
            failure(400, br#"{"error":"invalid_scope","error_description":"no"}"#).to_string(),
            "the token endpoint refused: invalid_scope: no"
        );
    }

    #[test]
    fn a_lifetime_is_read_as_a_number_or_a_string_and_kept_within_bounds() {
        let n = |v: serde_json::Value| lifetime(Some(&v));
        assert_eq!(n(serde_json::json!(3599)), 3599);
        assert_eq!(n(serde_json::json!("3599")), 3599, "Azure AD v1 sends a string");
        assert_eq!(n(serde_json::json!(9_000_000_000_000_i64)), LONGEST, "no date overflows");
        assert_eq!(n(serde_json::json!(-5)), SHORTEST);
        assert_eq!(n(serde_json::json!(1)), SHORTEST);
        assert_eq!(lifetime(None), 3600);
        let long = format!(r#"{{"error":"invalid_grant","error_description":"{}\u0007end"}}"#, "x".repeat(500));
        let EndpointError::InvalidGrant(said) = failure(400, long.as_bytes()) else { panic!() };
        assert_eq!(said.len(), 300, "cut short, control characters out");
    }

    #[test]
    fn google_names_its_device_address_otherwise() {
        let google = r#"{"device_code":"d","user_code":"ABC-DEF","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#;
        let d: DeviceCode = serde_json::from_str(google).unwrap();
        assert_eq!(d.verification_uri, "https://www.google.com/device");
        let microsoft = r#"{"device_code":"d","user_code":"X","verification_uri":"https://microsoft.com/devicelogin","expires_in":900}"#;
        assert_eq!(serde_json::from_str::<DeviceCode>(microsoft).unwrap().interval, 5);
    }
}
