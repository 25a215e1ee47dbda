//! `auth = "oauth2"` on a mailbox or `[outbound]`, with its `[mailbox.oauth2]` or
//! `[outbound.oauth2]` table, and `[oauth]`: the key tokens are sealed with at rest.
//!
//! ```toml
//! [[mailbox]]
//! kind = "imap"
//! host = "outlook.office365.com"
//! username = "support@contoso.com"
//! auth = "oauth2"
//! [mailbox.oauth2]
//! provider = "microsoft"
//! tenant = "contoso.onmicrosoft.com"
//! client_id = "…"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::raw::Unknown;
use super::{Problems, secret};
use crate::oauth::{Endpoints, Grant, OAuth2Config, Provider, Use};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawOAuth2 {
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<String>,
    /// The day the client secret expires (`2027-06-30`), for an alarm ahead of it.
    pub client_secret_expires: Option<String>,
    pub grant: Option<String>,
    pub token_url: Option<String>,
    pub device_url: Option<String>,
    pub authorize_url: Option<String>,
    pub scopes: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[oauth]`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawOAuthKeys {
    pub key_file: Option<String>,
    pub key_env: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// Where the sealing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Env(String),
    /// The embedded default's: made (mode 600) on first use, its path logged.
    Made(PathBuf),
}

/// How an account logs in, as `auth` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Password,
    OAuth2,
}

pub fn auth_kind(p: &mut Problems, key: &str, value: Option<&str>) -> AuthKind {
    match value {
        None | Some("password") => AuthKind::Password,
        Some("oauth2") => AuthKind::OAuth2,
        Some(other) => {
            p.push(format!("{key}.auth"), format!("expected \"password\" or \"oauth2\", got {other:?}"));
            AuthKind::Password
        }
    }
}

/// What an `auth = "oauth2"` account needs, checked; `key` is the account's table
/// (`mailbox[0]`, `outbound`), `account` its token's row, `user` the SASL user.
pub fn oauth2(
    p: &mut Problems,
    key: &str,
    raw: Option<&RawOAuth2>,
    account: String,
    user: &str,
    used: Use,
    base: &Path,
) -> Option<OAuth2Config> {
    let table = format!("{key}.oauth2");
    let Some(raw) = raw else {
        p.push(&table, "missing: auth = \"oauth2\" needs provider and client_id (see the README's OAuth2 guides)");
        return None;
    };
    p.unknown_keys(&table, &raw.unknown);
    let provider = provider(p, &table, raw)?;
    let grant = match raw.grant.as_deref() {
        None => provider.default_grant(),
        Some(g) => Grant::parse(g).map_err(|e| p.push(format!("{table}.grant"), e)).ok()?,
    };
    if let Some(why) = provider.refuses(grant) {
        p.push(format!("{table}.grant"), why);
    }
    let client_id = raw.client_id.clone().filter(|c| !c.trim().is_empty());
    if client_id.is_none() {
        p.push(format!("{table}.client_id"), "missing (required for auth = \"oauth2\"): the application's id");
    }
    let sources = secret::Sources {
        names: ["client_secret", "client_secret_env", "client_secret_file"],
        value: raw.client_secret.as_deref(),
        env: raw.client_secret_env.as_deref(),
        file: raw.client_secret_file.as_deref(),
    };
    let client_secret = secret::resolve_from(p, &table, sources, base);
    if grant == Grant::ClientCredentials && client_secret.is_none() {
        p.push(format!("{table}.client_secret_file"), "missing: client credentials need the application's secret");
    }
    let secret_expires = raw.client_secret_expires.as_deref().and_then(|d| {
        let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d");
        parsed
            .map_err(|_| {
                p.push(
                    format!("{table}.client_secret_expires"),
                    format!("expected a date such as 2027-06-30, got {d:?}"),
                )
            })
            .ok()
    });
    let endpoints = endpoints(p, &table, raw, &provider, grant)?;
    let scopes = match (&raw.scopes, provider.scopes(used, grant)) {
        (Some(scopes), _) => scopes.clone(),
        (None, Some(scopes)) => scopes,
        (None, None) => Vec::new(),
    };
    Some(OAuth2Config {
        account,
        user: user.to_owned(),
        provider,
        client_id: client_id?,
        client_secret,
        secret_expires,
        grant,
        endpoints,
        scopes,
    })
}

fn provider(p: &mut Problems, table: &str, raw: &RawOAuth2) -> Option<Provider> {
    match raw.provider.as_deref() {
        Some("microsoft") => {
            Some(Provider::Microsoft { tenant: raw.tenant.clone().unwrap_or_else(|| "organizations".into()) })
        }
        Some("google") => Some(Provider::Google),
        Some("custom") => Some(Provider::Custom),
        None => {
            p.push(format!("{table}.provider"), "missing: \"microsoft\", \"google\" or \"custom\"");
            None
        }
        Some(other) => {
            p.push(
                format!("{table}.provider"),
                format!("expected \"microsoft\", \"google\" or \"custom\", got {other:?}"),
            );
            None
        }
    }
}

/// The provider's endpoints, else (`custom`) the config's: `token_url` always, `device_url`
/// for the device flow, `authorize_url` for the authorization code.
fn endpoints(p: &mut Problems, table: &str, raw: &RawOAuth2, provider: &Provider, grant: Grant) -> Option<Endpoints> {
    if let Some(built_in) = provider.endpoints() {
        for (name, given) in [("token_url", &raw.token_url), ("device_url", &raw.device_url)] {
            if given.is_some() {
                p.push(format!("{table}.{name}"), "only for provider = \"custom\": this provider's are built in");
            }
        }
        return Some(built_in);
    }
    let url = |p: &mut Problems, name: &str, value: &Option<String>, needed: bool| {
        let Some(url) = value else {
            if needed {
                p.push(format!("{table}.{name}"), "missing (required for provider = \"custom\" with this grant)");
            }
            return None;
        };
        if !(url.starts_with("https://") || on_loopback(url)) {
            p.push(
                format!("{table}.{name}"),
                format!("expected an https:// address (http:// only on loopback), got {url:?}"),
            );
        }
        Some(url.clone())
    };
    let token = url(p, "token_url", &raw.token_url, true);
    let device = url(p, "device_url", &raw.device_url, grant == Grant::DeviceCode);
    let authorize = url(p, "authorize_url", &raw.authorize_url, grant == Grant::AuthorizationCode);
    Some(Endpoints { token: token?, device, authorize })
}

/// `http://` to this machine only: the host an IP address on loopback (`127.0.0.1`, `[::1]`),
/// never a name that merely starts like one (`127.evil.example`).
fn on_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `[oauth]`: where the key comes from, when any account uses OAuth2. Without one, the
/// embedded default (SQLite) makes `var/oauth.key`; with PostgreSQL one must be given, the
/// same on every instance.
pub fn keys(p: &mut Problems, raw: &RawOAuthKeys, used: bool, sqlite: bool, base: &Path) -> Option<KeySource> {
    p.unknown_keys("oauth", &raw.unknown);
    let source = match (&raw.key_file, &raw.key_env) {
        (Some(_), Some(_)) => {
            p.push("oauth", "give only one of key_file, key_env");
            return None;
        }
        (Some(file), None) => KeySource::File(base.join(file)),
        (None, Some(var)) => KeySource::Env(var.clone()),
        (None, None) if !used => return None,
        (None, None) if sqlite => KeySource::Made(base.join("var/oauth.key")),
        (None, None) => {
            p.push(
                "oauth.key_file",
                "missing: OAuth2 tokens are kept sealed with a key that every instance shares (make one with: head -c 32 \
                 /dev/urandom | base64 > oauth.key; chmod 600 oauth.key)",
            );
            return None;
        }
    };
    let checked = match &source {
        KeySource::File(path) => {
            crate::oauth::Key::read(path).map(|_| ()).map_err(|e| ("oauth.key_file", e.to_string()))
        }
        KeySource::Env(var) => match std::env::var(var) {
            Ok(text) => crate::oauth::Key::parse(&text).map(|_| ()).map_err(|e| ("oauth.key_env", e.to_string())),
            Err(_) => Err(("oauth.key_env", format!("environment variable {var} is not set"))),
        },
        KeySource::Made(_) => Ok(()),
    };
    if let Err((key, why)) = checked {
        p.push(key, why);
    }
    Some(source)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_loopback_address_may_be_plain_http() {
        assert!(super::on_loopback("http://127.0.0.1:8080/token"));
        assert!(super::on_loopback("http://[::1]:8080/token"));
        assert!(super::on_loopback("http://127.0.0.1/token"));
        assert!(!super::on_loopback("http://127.evil.example/token"));
        assert!(!super::on_loopback("http://localhost.evil.example/token"));
        assert!(!super::on_loopback("https://127.0.0.1/token"));
        assert!(!super::on_loopback("http://10.0.0.1/token"));
    }
}
