//! Template overrides (mailbox over company over default, file by file) and escaping (HTML
//! part escaped, text part and subject as written).

use crate::support::{Backend, Sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn overrides_resolve_per_file_and_html_is_escaped() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let templates = sandbox.path("templates");
    std::fs::create_dir_all(templates.join("company/acme")).unwrap();
    std::fs::create_dir_all(templates.join("mailbox/support")).unwrap();
    std::fs::write(templates.join("company/acme/ack.subject.hbs"), "ACME {{case_tag}} {{subject}}").unwrap();
    std::fs::write(templates.join("company/acme/ack.txt.hbs"), "Company text for {{contact_name}}").unwrap();
    std::fs::write(templates.join("mailbox/support/ack.txt.hbs"), "Mailbox text: {{subject}}").unwrap();
    assert!(sandbox.run(&["check-config"]).status.success(), "overrides are checked too");

    sandbox.drop_mail(
        "1.eml",
        b"From: Jane <jane@acme.example>\r\nSubject: Printer <b>&</b> broken\r\nMessage-ID: <e@acme.example>\r\n\r\nx\r\n",
    );
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let raw = &sandbox.outbox_messages()[0];
    let ack = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("an RFC 5322 message");
    // The company's subject, the mailbox's text part (it wins over the company's), the default HTML.
    assert_eq!(ack.subject(), Some("ACME [Case #000001] Printer <b>&</b> broken"));
    assert_eq!(ack.body_text(0).as_deref(), Some("Mailbox text: Printer <b>&</b> broken"));
    let html = ack.body_html(0).expect("an HTML part");
    assert!(html.contains("Printer &lt;b&gt;&amp;&lt;/b&gt; broken"), "HTML part escapes values:\n{html}");

    // Another company's customer gets the defaults.
    std::fs::remove_dir_all(templates.join("mailbox")).unwrap();
    sandbox.drop_mail(
        "2.eml",
        b"From: Sam <sam@other.example>\r\nSubject: Hello\r\nMessage-ID: <f@other.example>\r\n\r\nx\r\n",
    );
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let ack = &sandbox.outbox_messages()[1];
    assert!(ack.contains("Subject: [Case #000002] Hello"), "{ack}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_override_with_an_unknown_variable_is_a_config_error() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let dir = sandbox.path("templates/company/acme");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ack.txt.hbs"), "Hello {{customer_nmae}}").unwrap();
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("templates/company/acme/ack.txt.hbs"), "{err}");
    assert!(err.contains("customer_nmae"), "{err}");
}
