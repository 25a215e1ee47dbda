//! The check behind the hostile-input property tests and the fuzz target (`fuzz/`): the mail
//! supportd would send about a message — its acknowledgement, a notification, a relay with
//! its Cc's and attachments — composes without panicking, is valid RFC 5322 and keeps its
//! recipients. Public so the fuzz target (a separate crate) can call it; not used at run time.

use super::headers::line_problems;
use super::{Composed, compose, sendable};
use crate::domain::{CaseTag, EmailAddress};
use crate::mail::{ParsedMessage, parse};
use crate::templates::{Audience, Rendered, Templates, sample_context};

/// Renders `kind` with its sample context, the customer's own text put in `fields`.
fn render(templates: &Templates, kind: &str, fields: &[(&str, &str)]) -> Result<Rendered, String> {
    let mut ctx = sample_context(kind).ok_or_else(|| format!("no sample context for {kind}"))?;
    for (key, value) in fields {
        ctx[*key] = serde_json::Value::String((*value).to_owned());
    }
    templates.render(kind, Audience::default(), &ctx).map_err(|e| format!("{kind} does not render: {e}"))
}

/// Composes `mail`; a failure is allowed only for a recipient lettre cannot address. Mail to
/// a recipient that is not `sendable` is never composed: every sender checks first.
fn check(mail: &Composed<'_>, what: &str) -> Result<(), String> {
    if mail.to.iter().any(|(_, a)| sendable(a).is_err()) {
        return Ok(());
    }
    let raw = match compose(mail) {
        Ok(raw) => raw,
        Err(_) if mail.to.iter().any(|(_, a)| sendable(a).is_err()) => return Ok(()),
        Err(e) => return Err(format!("{what}: {e}")),
    };
    let problems = line_problems(&raw);
    if !problems.is_empty() {
        return Err(format!("{what}: {problems:?}"));
    }
    let back = parse(&raw).map_err(|e| format!("{what} does not parse back: {e}"))?;
    let to: Vec<&EmailAddress> = back.to.iter().map(|p| &p.address).collect();
    let cc: Vec<&EmailAddress> = back.cc.iter().map(|p| &p.address).collect();
    let sent_to: Vec<&EmailAddress> = mail.to.iter().map(|(_, a)| *a).collect();
    let sent_cc: Vec<&EmailAddress> = mail.sendable_cc().map(|(_, a)| *a).collect();
    if to != sent_to || cc != sent_cc {
        return Err(format!("{what}: sent to {sent_to:?} cc {sent_cc:?}, parsed back {to:?} cc {cc:?}"));
    }
    Ok(())
}

/// `Err` says which mail broke which rule.
pub fn replies_hold(m: &ParsedMessage, templates: &Templates) -> Result<(), String> {
    let tag = CaseTag::default();
    let _ = tag.find(&m.subject);
    let summary = crate::threading::clean_subject(&m.subject, &tag);
    let new_text = crate::threading::new_text(&m.text_body, Some("##-"));
    let name = m.from.name.clone().unwrap_or_default();
    let support: EmailAddress = "support@example.com".parse().map_err(|e| format!("{e}"))?;
    let alice: EmailAddress = "alice@example.com".parse().map_err(|e| format!("{e}"))?;
    let ack = render(templates, "ack", &[("subject", &summary), ("contact_name", &name)])?;
    let notify = render(templates, "notify", &[("subject", &summary), ("customer", &name), ("message", &m.text_body)])?;
    let relay = render(templates, "relay", &[("subject", &summary), ("message", new_text), ("contact_name", &name)])?;
    let mut references = m.references.clone();
    references.extend(m.message_id.clone());
    let base = |rendered, to, cc| Composed {
        from: (Some(name.as_str()), &support),
        reply_to: &support,
        also_reply_to: None,
        to,
        cc,
        message_id: "supportd.test@example.com",
        in_reply_to: m.message_id.as_deref(),
        references: references.clone(),
        auto_submitted: Some("auto-replied"),
        rendered,
        attachments: &[],
        inline_images: &[],
    };
    let customer = vec![(m.from.name.as_deref(), &m.from.address)];
    check(&base(&ack, customer.clone(), Vec::new()), "ack")?;
    check(&base(&notify, vec![(Some("Alice"), &alice)], Vec::new()), "notification")?;
    let cc: Vec<_> = m.cc.iter().map(|p| (p.name.as_deref(), &p.address)).collect();
    check(&Composed { attachments: &m.attachments, ..base(&relay, customer, cc) }, "relay")
}
