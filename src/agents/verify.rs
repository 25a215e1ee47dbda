//! Whether a message from an agent's address was written by that agent. A From address is
//! easy to forge, so authority comes from the configured policy: the agent's secret token in
//! the address replied to, and/or the receiving server's `Authentication-Results`.

use super::auth_results;
use crate::config::{AgentDesk, Verify};
use crate::domain::EmailAddress;
use crate::mail::ParsedMessage;

/// Why a message is not trusted (never the token). `Display` words it for the desk, who
/// read it in notes, events and `held list` about someone else's mail; `to_sender` words it
/// for the agent whose reply it refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("it was not sent to the sender's personal address (the Reply-To of the desk's mail to them)")]
    NotToPersonalAddress,
    /// What the receiving server's `Authentication-Results` did not show.
    #[error("{0}")]
    Authentication(String),
    /// `verify = "any"`: neither the personal address nor the server's results.
    #[error("{not_to}; and {0}", not_to = Unverified::NotToPersonalAddress)]
    Neither(String),
}

impl Unverified {
    /// The reason in words for the sender of a refused reply: what to do instead.
    pub fn to_sender(&self) -> String {
        const ADDRESS: &str = "it was not sent to your personal reply address (reply to a case notification or alert)";
        match self {
            Unverified::NotToPersonalAddress => ADDRESS.to_owned(),
            Unverified::Authentication(why) => why.clone(),
            Unverified::Neither(why) => format!("{ADDRESS}; and {why}"),
        }
    }
}

/// `Err` says why the message is not trusted. Mail whose sender is in doubt (two `From:`
/// headers, or two mailboxes in one) is never trusted, whatever it carries: a checker of
/// DKIM or DMARC may have read the other sender.
pub fn check(policy: &AgentDesk, token: Option<&str>, msg: &ParsedMessage) -> Result<(), Unverified> {
    if let Some(doubt) = &msg.from_doubt {
        return Err(Unverified::Authentication(format!("its sender cannot be told ({doubt})")));
    }
    let by_token = || token_check(token, msg);
    let auth = || auth_check(policy, &msg.from.address, msg);
    let by_auth = || auth().map_err(Unverified::Authentication);
    match policy.verify {
        Verify::None => Ok(()),
        Verify::Token => by_token(),
        Verify::AuthResults => by_auth(),
        Verify::All => by_token().and_then(|()| by_auth()),
        Verify::Any => by_token().or_else(|_| auth().map_err(Unverified::Neither)),
    }
}

/// The sender's token in `support+<token>@…` of any recipient: replying to mail from the
/// desk keeps its Reply-To.
fn token_check(token: Option<&str>, msg: &ParsedMessage) -> Result<(), Unverified> {
    match token {
        Some(token) if carries_token(msg, token) => Ok(()),
        _ => Err(Unverified::NotToPersonalAddress),
    }
}

/// Whether an address the message was sent to (To, Cc, Delivered-To, X-Original-To) is
/// `…+<token>@…`. An empty token is carried by nothing.
pub fn carries_token(msg: &ParsedMessage, token: &str) -> bool {
    let headers = ["delivered-to", "x-original-to"];
    let trace = msg.headers.iter().filter(|(n, _)| headers.contains(&n.as_str())).map(|(_, v)| v.as_str());
    let listed = msg.to.iter().chain(&msg.cc).map(|p| p.address.as_str());
    let carries = |addr: &str| {
        let local = addr.trim().trim_matches(['<', '>']).rsplit_once('@').map(|(l, _)| l).unwrap_or_default();
        local.split_once('+').is_some_and(|(_, t)| t == token)
    };
    !token.is_empty() && listed.chain(trace).any(carries)
}

/// Only the topmost `Authentication-Results` above the sender's first `Received:` counts,
/// and only from the trusted server: any below it were written before the message reached
/// that server (RFC 8601 §5).
fn auth_check(policy: &AgentDesk, from: &EmailAddress, msg: &ParsedMessage) -> Result<(), String> {
    let authserv_id = policy.authserv_id.as_deref().unwrap_or_default();
    let Some(header) = auth_results::topmost_above_received(&msg.headers, policy.received_above_results) else {
        return Err(
            "it carries no Authentication-Results from the receiving server (none above its Received: line)".into()
        );
    };
    let header = auth_results::parse(header)
        .map_err(|e| format!("its topmost Authentication-Results cannot be read ({e}), so nothing in it counts"))?;
    if !header.authserv_id.eq_ignore_ascii_case(authserv_id) {
        let id = &header.authserv_id;
        return Err(format!("its topmost Authentication-Results is from {id:?}, not the trusted server"));
    }
    let domain = from.domain();
    let of_domain = |d: &str| crate::domain::same_domain(d, domain);
    let passes = header.results.iter().filter(|r| r.result == "pass").any(|r| match r.method.as_str() {
        "dkim" => r.domains("header", "d").chain(r.domains("header", "i")).any(of_domain),
        "dmarc" => r.domains("header", "from").any(of_domain),
        _ => false,
    });
    if passes { Ok(()) } else { Err(format!("the receiving server found no dkim or dmarc pass for {domain}")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Notify;

    fn policy(verify: Verify) -> AgentDesk {
        AgentDesk {
            notify: Notify::EachAgent,
            verify,
            authserv_id: Some("mx.example.com".into()),
            received_above_results: 0,
            reply_marker: "##-".into(),
            relay_name: "{name}".into(),
            expose_address: false,
            excerpt_bytes: 65536,
            mail_limit_per_hour: 30,
            relays_per_case_per_hour: 20,
            held_notify: Vec::new(),
        }
    }

    fn msg(headers: &str) -> ParsedMessage {
        let raw = format!("{headers}From: Alice <alice@example.com>\r\nSubject: x\r\n\r\nbody\r\n");
        crate::mail::parse(raw.as_bytes()).unwrap()
    }

    const PASS: &str = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com; spf=pass\r\n";

    #[test]
    fn a_token_in_the_address_replied_to_is_accepted() {
        let m = msg("To: support+s3cret@example.com\r\n");
        assert_eq!(check(&policy(Verify::Token), Some("s3cret"), &m), Ok(()));
        assert!(check(&policy(Verify::Token), Some("other"), &m).is_err());
        assert!(check(&policy(Verify::Token), None, &m).is_err());
        let delivered = msg("Delivered-To: support+s3cret@example.com\r\nTo: support@example.com\r\n");
        assert_eq!(check(&policy(Verify::Token), Some("s3cret"), &delivered), Ok(()));
    }

    #[test]
    fn mail_with_two_senders_is_never_verified() {
        let both = format!("{PASS}To: support+s3cret@example.com\r\nFrom: mallory@evil.test\r\n");
        let m = msg(&both);
        assert!(m.from_doubt.is_some(), "two From headers are a doubt");
        for verify in [Verify::None, Verify::Token, Verify::AuthResults, Verify::All, Verify::Any] {
            assert!(check(&policy(verify), Some("s3cret"), &m).is_err(), "{verify:?}");
        }
        let one = msg(&format!("{PASS}To: support+s3cret@example.com\r\n"));
        assert_eq!(check(&policy(Verify::All), Some("s3cret"), &one), Ok(()));
    }

    #[test]
    fn only_the_topmost_authentication_results_of_the_trusted_server_counts() {
        assert_eq!(check(&policy(Verify::AuthResults), None, &msg(PASS)), Ok(()));
        let dmarc = "Authentication-Results: mx.example.com (x); dmarc=pass (p=reject) header.from=example.com\r\n";
        assert_eq!(check(&policy(Verify::AuthResults), None, &msg(dmarc)), Ok(()));
        // A forger's own header below the server's failing one does not help.
        let forged =
            format!("Authentication-Results: mx.example.com; dkim=fail header.d=example.com; dmarc=fail\r\n{PASS}");
        assert!(check(&policy(Verify::AuthResults), None, &msg(&forged)).is_err());
        let other_server = "Authentication-Results: mx.evil.test; dkim=pass header.d=example.com\r\n";
        let err = check(&policy(Verify::AuthResults), None, &msg(other_server)).unwrap_err();
        assert!(err.to_string().contains("mx.evil.test"), "{err}");
        let wrong_domain = "Authentication-Results: mx.example.com; dkim=pass header.d=evil.test\r\n";
        assert!(check(&policy(Verify::AuthResults), None, &msg(wrong_domain)).is_err());
        assert!(check(&policy(Verify::AuthResults), None, &msg("")).is_err());
    }

    /// What a forger can make the trusted server write (a quoted MAIL FROM local part, a
    /// comment) or write himself (a header below the server's, one from another server).
    #[test]
    fn quoted_values_comments_and_forged_headers_pass_nothing() {
        let forged = [
            "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=\"x@evil.test; dkim=pass header.d=example.com\"\r\n",
            "Authentication-Results: mx.example.com; dkim=fail (bad signature \\) ; dkim=pass header.d=example.com) header.d=example.com\r\n",
            "Authentication-Results: mx.example.com; dkim=fail (dkim=pass header.d=example.com) header.d=example.com\r\n",
            "Authentication-Results: mx.example.com; dkim=neutral header.d=\"evil.test; dmarc=pass header.from=example.com\"\r\n",
            "Authentication-Results: mx.example.com; dkim=\"pass\" header.d=example.com\r\n",
            "Authentication-Results: mx.example.com; dkim=pass header.d=(example.com) evil.test\r\n",
            "Authentication-Results: mx.example.com; dkim=pass header.d=\"example.com\r\n",
            "Authentication-Results: mx.evil.test; dkim=pass header.d=example.com; dmarc=pass header.from=example.com\r\n",
            "Authentication-Results: (mx.example.com) mx.evil.test; dkim=pass header.d=example.com\r\n",
            "Authentication-Results: mx.example.com; none\r\nAuthentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n",
        ];
        for header in forged {
            let verdict = check(&policy(Verify::AuthResults), None, &msg(header));
            assert!(verdict.is_err(), "passed: {header}");
        }
        let quoted_domain =
            "Authentication-Results: \"mx.example.com\" 1; dkim/1 = pass (good) header.d=\"example.com\"\r\n";
        assert_eq!(check(&policy(Verify::AuthResults), None, &msg(quoted_domain)), Ok(()));
    }

    /// RFC 8601 as an MX means it: its results stand above its own `Received:`, under the
    /// exact field name it strips from arriving mail.
    #[test]
    fn results_below_a_received_line_or_under_another_name_pass_nothing() {
        let received =
            "Received: from mail.evil.test by mx.example.com with ESMTPS; Mon, 7 Dec 2026 10:00:00 +0000\r\n";
        let verdict = |headers: &str| check(&policy(Verify::AuthResults), None, &msg(headers));
        assert_eq!(verdict(&format!("{PASS}{received}")), Ok(()), "the server's own, above its line");
        let ours_fail = "Authentication-Results: mx.example.com; dkim=fail header.d=example.com\r\n";
        for forged in [
            format!("{received}{PASS}"),
            format!("{ours_fail}{received}{PASS}"),
            format!("{received}Received: from a by b\r\n{PASS}"),
            PASS.replace("Authentication-Results:", "Authentication-Results :"),
            PASS.replace("Authentication-Results:", "Authentication-Results\t:"),
            received.replace("Received:", "X-Received:") + &PASS.replace("Results:", "Results :"),
            PASS.replace("header.d=example.com", "header.i=x@evil.test@example.com"),
            PASS.replace("header.d=example.com", "header.d=evil.test@example.com"),
            PASS.replace("header.d=example.com", "header.i=example.com"),
        ] {
            assert!(verdict(&forged).is_err(), "passed: {forged}");
        }
        let spaced_above = format!("{}{PASS}", PASS.replace("Results:", "Results :").replace("pass", "fail"));
        assert_eq!(verdict(&spaced_above), Ok(()), "a spaced name is no field of ours, so the next one is the topmost");
        assert_eq!(verdict(&PASS.replace("header.d=example.com", "header.i=alice@example.com")), Ok(()));
    }

    #[test]
    fn combined_policies() {
        let both = msg(&format!("{PASS}To: support+t@example.com\r\n"));
        let auth_only = msg(PASS);
        assert_eq!(check(&policy(Verify::All), Some("t"), &both), Ok(()));
        assert!(check(&policy(Verify::All), Some("t"), &auth_only).is_err());
        assert_eq!(check(&policy(Verify::Any), Some("t"), &auth_only), Ok(()));
        let neither = check(&policy(Verify::Any), Some("t"), &msg("")).unwrap_err();
        assert!(neither.to_string().starts_with("it was not sent to the sender's personal address"), "{neither}");
        assert!(neither.to_sender().starts_with("it was not sent to your personal reply address"), "{neither:?}");
        assert!(neither.to_string().ends_with(
            "; and it carries no Authentication-Results from the receiving server (none above its Received: line)"
        ));
        assert_eq!(check(&policy(Verify::None), None, &msg("")), Ok(()));
    }
}
