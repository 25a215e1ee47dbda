//! What each provider wants, as data: its endpoints and, per use (IMAP, SMTP) and grant, the
//! scopes a token needs. `custom` names its endpoints and scopes in the config (a test
//! server, another provider).

use crate::config::Secret;

/// An account that logs in with OAuth2: a mailbox, or the outbound relay.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth2Config {
    /// The token's row: `mailbox:NAME` or `outbound`; what `supportd oauth login` names.
    pub account: String,
    /// The SASL user: the mailbox's address (a shared mailbox on Microsoft is allowed).
    pub user: String,
    pub provider: Provider,
    pub client_id: String,
    /// None for a public client (device code without a secret).
    pub client_secret: Option<Secret>,
    /// When the client secret expires, if the config says: the alarm warns ahead of it.
    pub secret_expires: Option<chrono::NaiveDate>,
    pub grant: Grant,
    pub endpoints: Endpoints,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Microsoft 365 (Exchange Online), in a tenant (`common`, `organizations`, a domain or id).
    Microsoft { tenant: String },
    /// Google Workspace and Gmail.
    Google,
    /// Any other provider, by the endpoints and scopes the config gives.
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// A person consents in a browser, on this machine's loopback (`oauth login --redirect`).
    AuthorizationCode,
    /// A person consents on any device with a code (`oauth login`).
    DeviceCode,
    /// The application itself, with no person (Microsoft's app-only IMAP/SMTP).
    ClientCredentials,
}

impl Grant {
    /// As the config writes it, `parse`'s inverse.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::DeviceCode => "device_code",
            Grant::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(text: &str) -> Result<Grant, String> {
        match text {
            "authorization_code" => Ok(Grant::AuthorizationCode),
            "device_code" => Ok(Grant::DeviceCode),
            "client_credentials" => Ok(Grant::ClientCredentials),
            other => Err(format!(
                "expected \"authorization_code\", \"device_code\" or \"client_credentials\", got {other:?}"
            )),
        }
    }
}

/// What the token is for: each asks its own scope of Microsoft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Imap,
    Smtp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub token: String,
    pub device: Option<String>,
    pub authorize: Option<String>,
}

impl Provider {
    /// The provider's own endpoints; `None` for `custom`, whose endpoints the config gives.
    pub fn endpoints(&self) -> Option<Endpoints> {
        match self {
            Provider::Microsoft { tenant } => {
                let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
                Some(Endpoints {
                    token: format!("{base}/token"),
                    device: Some(format!("{base}/devicecode")),
                    authorize: Some(format!("{base}/authorize")),
                })
            }
            Provider::Google => Some(Endpoints {
                token: "https://oauth2.googleapis.com/token".into(),
                device: Some("https://oauth2.googleapis.com/device/code".into()),
                authorize: Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
            }),
            Provider::Custom => None,
        }
    }

    /// The scopes a token for `used` by `grant` needs; `None` for `custom`.
    pub fn scopes(&self, used: Use, grant: Grant) -> Option<Vec<String>> {
        let scopes: &[&str] = match (self, grant, used) {
            // App-only: the application's permissions, granted in the tenant, all at once.
            (Provider::Microsoft { .. }, Grant::ClientCredentials, _) => &["https://outlook.office365.com/.default"],
            (Provider::Microsoft { .. }, _, Use::Imap) => {
                &["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]
            }
            (Provider::Microsoft { .. }, _, Use::Smtp) => &["https://outlook.office.com/SMTP.Send", "offline_access"],
            (Provider::Google, ..) => &["https://mail.google.com/"],
            (Provider::Custom, ..) => return None,
        };
        Some(scopes.iter().map(|s| (*s).to_owned()).collect())
    }

    /// The grant used when the config names none.
    pub fn default_grant(&self) -> Grant {
        match self {
            // Google's device flow does not allow the mail scope.
            Provider::Google => Grant::AuthorizationCode,
            _ => Grant::DeviceCode,
        }
    }

    /// Why this provider cannot use `grant`, if it cannot.
    pub fn refuses(&self, grant: Grant) -> Option<String> {
        match (self, grant) {
            (Provider::Google, Grant::DeviceCode) => Some(
                "Google's device flow does not allow the mail scope (https://mail.google.com/): use \
                 \"authorization_code\" (supportd oauth login --redirect)"
                    .into(),
            ),
            (Provider::Google, Grant::ClientCredentials) => Some(
                "Google has no client credentials for Gmail (it uses service accounts with domain-wide \
                 delegation): use \"authorization_code\""
                    .into(),
            ),
            (Provider::Microsoft { tenant }, Grant::ClientCredentials)
                if ["common", "organizations", "consumers"].contains(&tenant.as_str()) =>
            {
                Some(format!("client credentials need the tenant itself (its domain or id), not {tenant:?}"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_endpoints_and_scopes_are_the_tenants() {
        let ms = Provider::Microsoft { tenant: "contoso.onmicrosoft.com".into() };
        let e = ms.endpoints().unwrap();
        assert_eq!(e.token, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
        assert_eq!(
            e.device.unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        assert_eq!(
            e.authorize.unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
        );
        assert_eq!(
            ms.scopes(Use::Imap, Grant::DeviceCode).unwrap(),
            ["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]
        );
        assert_eq!(
            ms.scopes(Use::Smtp, Grant::AuthorizationCode).unwrap(),
            ["https://outlook.office.com/SMTP.Send", "offline_access"]
        );
        assert_eq!(ms.scopes(Use::Smtp, Grant::ClientCredentials).unwrap(), ["https://outlook.office365.com/.default"]);
        assert_eq!(ms.default_grant(), Grant::DeviceCode);
        assert!(ms.refuses(Grant::ClientCredentials).is_none());
        let common = Provider::Microsoft { tenant: "common".into() };
        assert!(common.refuses(Grant::ClientCredentials).unwrap().contains("tenant itself"));
    }

    #[test]
    fn google_wants_the_mail_scope_by_authorization_code() {
        let g = Provider::Google;
        let e = g.endpoints().unwrap();
        assert_eq!(e.token, "https://oauth2.googleapis.com/token");
        assert_eq!(e.authorize.unwrap(), "https://accounts.google.com/o/oauth2/v2/auth");
        assert_eq!(g.scopes(Use::Imap, Grant::AuthorizationCode).unwrap(), ["https://mail.google.com/"]);
        assert_eq!(g.default_grant(), Grant::AuthorizationCode);
        assert!(g.refuses(Grant::DeviceCode).unwrap().contains("mail scope"));
        assert!(g.refuses(Grant::ClientCredentials).is_some());
    }

    #[test]
    fn a_custom_provider_has_only_what_the_config_says() {
        assert_eq!(Provider::Custom.endpoints(), None);
        assert_eq!(Provider::Custom.scopes(Use::Imap, Grant::DeviceCode), None);
        assert_eq!(Grant::parse("device_code"), Ok(Grant::DeviceCode));
        assert!(Grant::parse("password").unwrap_err().contains("client_credentials"));
        for grant in [Grant::AuthorizationCode, Grant::DeviceCode, Grant::ClientCredentials] {
            assert_eq!(Grant::parse(grant.as_str()), Ok(grant));
        }
    }
}
