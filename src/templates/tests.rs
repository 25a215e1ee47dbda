//! The shipped templates, rendered as the customer and the agents read them.

use super::*;

fn shipped() -> Templates {
    Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).expect("the shipped templates load")
}

fn render(kind: &str, ctx: &serde_json::Value) -> Rendered {
    shipped().render(kind, Audience::default(), ctx).expect("renders")
}

fn sample(kind: &str, changes: &[(&str, &str)]) -> serde_json::Value {
    let mut ctx = sample_context(kind).expect("a known kind");
    for (key, value) in changes {
        ctx[*key] = (*value).into();
    }
    ctx
}

#[test]
fn the_relay_is_signed_once() {
    let signed = render("relay", &sample("relay", &[("sign_off", "Kind regards,\nAlice"), ("regraded", "")])).text;
    assert!(signed.starts_with("Please restart the spooler.\n\nKind regards,\nAlice\n-- \n"), "{signed}");
    assert!(!signed.contains("Alice Smith"), "her sign-off, not her name again: {signed}");
    let unsigned = render("relay", &sample("relay", &[("sign_off", ""), ("regraded", "")]));
    assert!(unsigned.text.starts_with("Please restart the spooler.\n\nAlice Smith\n-- \n"), "{}", unsigned.text);
    assert_eq!(unsigned.html.matches("Alice Smith").count(), 1, "{}", unsigned.html);
}

#[test]
fn the_resolution_greets_and_signs_once() {
    let hers = render("resolution", &sample("resolution", &[("regraded", "")]));
    assert!(hers.text.starts_with("Hi Jane,\n\nAll done.\n\nYour case 000123 is resolved."), "{}", hers.text);
    assert!(!hers.text.contains("Hello") && !hers.html.contains("Hello"), "{}", hers.text);
    assert!(
        hers.text.contains("opens again; after that it is closed.\n\nKind regards,\nAlice\n-- \n"),
        "{}",
        hers.text
    );
    assert!(!hers.text.contains("Alice Smith") && !hers.html.contains("Alice Smith"), "{}", hers.text);
    let none = render(
        "resolution",
        &sample("resolution", &[("greeting", ""), ("sign_off", ""), ("message", ""), ("regraded", "")]),
    );
    assert!(none.text.starts_with("Hello Jane Doe,\n\nYour case 000123 is resolved."), "{}", none.text);
    assert!(none.text.contains("after that it is closed.\n\nAlice Smith\n-- \n"), "{}", none.text);
}

#[test]
fn a_regrade_is_a_line_of_the_reply_that_made_it_or_a_notice_of_its_own() {
    let relay = render("relay", &sample("relay", &[("sign_off", "Kind regards,\nAlice")]));
    assert!(
        relay.text.starts_with("Please restart the spooler.\n\nWe have re-graded this case to severity S1"),
        "{}",
        relay.text
    );
    assert!(relay.text.contains("10:00 EST.\n\nKind regards,\nAlice\n"), "{}", relay.text);
    assert!(relay.html.contains("<p>We have re-graded this case"), "{}", relay.html);
    let resolution = render("resolution", &sample("resolution", &[]));
    assert!(resolution.text.contains("is resolved.\nWe have re-graded"), "{}", resolution.text);
    let notice = render("regrade", &sample("regrade", &[]));
    assert_eq!(notice.subject, "[Case #000123] Re-graded to S1, Query: Printer offline");
    assert!(
        notice.text.starts_with("Hello Jane Doe,\n\nWe have re-graded this case to severity S1"),
        "{}",
        notice.text
    );
    assert!(
        notice.text.contains("It was severity S3 (Medium – a subset of users affected) before."),
        "{}",
        notice.text
    );
    assert!(notice.html.contains("Critical – site offline for all users"), "{}", notice.html);
}

#[test]
fn no_reference_notes_no_heading() {
    let with = render("notify", &sample("notify", &[]));
    assert!(with.text.contains("*** Reference notes for Acme ***\nNever restart production"), "{}", with.text);
    let without = render("notify", &sample("notify", &[("reference_notes", "")]));
    assert!(!without.text.contains("Reference notes"), "{}", without.text);
    assert!(!without.html.contains("Reference notes"), "{}", without.html);
    assert!(without.text.contains("Attachments: screenshot.png"), "the rest is still there");
}

#[test]
fn the_mail_limit_shows_only_when_there_is_something_to_say() {
    for kind in ["notify", "agent_error"] {
        let said = render(kind, &sample(kind, &[]));
        assert!(said.text.contains("LIMIT REACHED: You have now had 30 emails"), "{kind}: {}", said.text);
        assert!(said.text.contains("NOT SENT TO YOU: 2 emails"), "{kind}: {}", said.text);
        assert!(said.text.contains("\n  - Mon 10:03 GMT [Case #000125] New case"), "{kind}: {}", said.text);
        assert!(said.html.contains("<li>Mon 10:02 GMT [Case #000124]"), "{kind}: {}", said.html);
        let quiet = sample(kind, &[("limit_note", ""), ("held_note", "")]);
        let quiet = render(kind, &quiet);
        for part in [&quiet.text, &quiet.html] {
            assert!(!part.contains("LIMIT") && !part.to_lowercase().contains("not sent to you"), "{kind}: {part}");
        }
    }
}

/// A templates folder copied from an older release, before the budget mail existed, still
/// loads: a kind or partial missing from the folder falls back to the built-in one, and a
/// file in the folder still overrides it.
#[test]
fn a_folder_without_a_newer_kind_falls_back_to_the_built_in_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ack.subject.hbs"), "Case {{case_number}} is open").unwrap();
    let t = Templates::load(dir.path()).expect("an almost empty folder loads");
    assert!(t.stylesheet().contains("--breached"), "the built-in stylesheet");
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/style.css"), "body { color: navy; }").unwrap();
    assert_eq!(Templates::load(dir.path()).unwrap().stylesheet(), "body { color: navy; }", "the folder's own wins");
    let budget = t.render("budget", Audience::default(), &sample("budget", &[])).unwrap();
    assert!(budget.subject.starts_with("Support budget of Acme Corporation: 3.5 h left"), "{}", budget.subject);
    assert!(
        budget.text.ends_with("-- \nThe Support Team\nsupport@example.com\n"),
        "the signature partial: {}",
        budget.text
    );
    let ack = t.render("ack", Audience::default(), &sample("ack", &[])).unwrap();
    assert_eq!(ack.subject, "Case 000123 is open", "the folder's own file wins");
    let page = t.render_page("live", &pages::sample_page("live").unwrap()).unwrap();
    assert!(page.contains("<link rel=\"stylesheet\" href=\"style.css\">"), "the page layout: {page}");
    let mut shipped = Vec::new();
    super::collect_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), &mut shipped).unwrap();
    let shipped = shipped
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "hbs"))
        .filter(|f| !f.components().any(|c| c.as_os_str() == "company" || c.as_os_str() == "mailbox"))
        .count();
    assert_eq!(builtin::BUILTIN.len(), shipped, "every shipped template and partial is built in");
}

/// A page template is checked like a mail's: a variable the page lacks names the file and line,
/// and an unknown page says which pages exist.
#[test]
fn a_page_template_with_an_unknown_variable_or_name_is_refused_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/live.html.hbs"), "{{#> page}}\n{{open_cases}}\n{{/page}}").unwrap();
    std::fs::write(dir.path().join("web/wallboard.html.hbs"), "<p>hi</p>").unwrap();
    let problems = Templates::load(dir.path()).err().expect("refused").to_string();
    assert!(problems.contains("templates/web/live.html.hbs:2"), "{problems}");
    assert!(problems.contains("unknown variable {{open_cases}}"), "{problems}");
    assert!(problems.contains("unknown page \"wallboard\" (known: live, list, case)"), "{problems}");
}

/// The how-to says what verifies a CRM's request under the policy in force.
#[test]
fn the_howto_says_how_a_request_is_verified() {
    let with = |by_reply: bool, signed: bool| {
        let mut ctx = sample("report_howto", &[("example", "#report 2026-12")]);
        (ctx["by_reply"], ctx["signed"]) = (by_reply.into(), signed.into());
        let text = render("report_howto", &ctx).text;
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let token = with(true, false);
    assert!(token.contains("reply to this email with your request as the first line: #report 2026-12"), "{token}");
    assert!(!token.contains("DKIM"), "{token}");
    let both = with(true, true);
    assert!(both.contains("reply to this email") && both.contains("signed by your domain (DKIM or DMARC)"), "{both}");
    let signed = with(false, true);
    assert!(!signed.contains("reply to this email"), "a reply proves nothing here: {signed}");
    assert!(signed.contains("found no such signature on yours"), "{signed}");
    assert!(
        signed.contains(
            "send the request again from your usual mailbox, with the request as the first line: #report 2026-12"
        ),
        "{signed}"
    );
}
