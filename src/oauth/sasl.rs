//! SASL XOAUTH2, as IMAP and SMTP servers (Microsoft, Google, Dovecot) take it: the initial
//! response `user=U^Aauth=Bearer T^A^A`, and on refusal a challenge holding the server's
//! JSON error, which the client answers with an empty response so that the server ends
//! the exchange with its failure.

use std::sync::{Arc, Mutex};

/// The initial response for `user` with access token `token`.
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// async-imap's side of `AUTHENTICATE XOAUTH2`. What the server said when it refused the
/// token is kept in `refusal`, to be named in the error.
pub struct ImapXOAuth2 {
    initial: Option<Vec<u8>>,
    pub refusal: Arc<Mutex<Option<String>>>,
}

impl ImapXOAuth2 {
    pub fn new(user: &str, token: &str) -> ImapXOAuth2 {
        ImapXOAuth2 { initial: Some(xoauth2(user, token).into_bytes()), refusal: Arc::default() }
    }
}

impl async_imap::Authenticator for ImapXOAuth2 {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        match self.initial.take() {
            Some(initial) => initial,
            None => {
                let said = String::from_utf8_lossy(challenge).into_owned();
                *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(said);
                Vec::new()
            }
        }
    }
}

/// What a refused SMTP `AUTH` means to the operator, when the provider says: Microsoft's
/// enhanced codes name the fix.
pub fn smtp_refusal_advice(said: &str) -> Option<&'static str> {
    if said.contains("5.7.139") {
        Some(
            "SMTP AUTH is disabled for this mailbox or tenant: enable it for the mailbox (Exchange admin center, or \
             Set-CASMailbox -SmtpClientAuthenticationDisabled $false)",
        )
    } else if said.contains("5.7.3") {
        Some("the token lacks the SMTP.Send permission: grant it to the application and log in again")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator;

    #[test]
    fn microsofts_refusals_name_their_fix() {
        let disabled = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.";
        assert!(smtp_refusal_advice(disabled).unwrap().contains("SmtpClientAuthenticationDisabled"));
        assert!(smtp_refusal_advice("535 5.7.3 Authentication unsuccessful").unwrap().contains("SMTP.Send"));
        assert_eq!(smtp_refusal_advice("535 5.7.8 Error: authentication failed"), None);
    }

    #[test]
    fn the_first_answer_is_the_token_and_a_refusal_is_answered_empty_and_kept() {
        assert_eq!(xoauth2("support@contoso.com", "eyJ0"), "user=support@contoso.com\x01auth=Bearer eyJ0\x01\x01");
        let mut auth = ImapXOAuth2::new("a@b.example", "tok");
        assert_eq!(auth.process(b""), b"user=a@b.example\x01auth=Bearer tok\x01\x01");
        let refusal = auth.refusal.clone();
        assert_eq!(auth.process(br#"{"status":"401","schemes":"bearer"}"#), b"");
        assert_eq!(refusal.lock().unwrap().as_deref(), Some(r#"{"status":"401","schemes":"bearer"}"#));
    }
}
