//! What intake keeps of a message: the text of an HTML-only message, attachments with their
//! SHA-256, the mailbox's default company for unknown senders, and a configured case tag.

use crate::support::{Backend, Sandbox};

fn run_once(sandbox: &Sandbox) {
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn show(sandbox: &Sandbox, number: &str) -> serde_json::Value {
    let out = sandbox.run(&["cases", "show", number, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn html_only_mail_gets_a_text_body_and_attachments_keep_their_hash() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail(
        "html.eml",
        b"From: Jane <jane@acme.example>\r\nSubject: Screenshot\r\nMessage-ID: <html@acme.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>The <b>printer</b> shows &quot;offline&quot;.</p></body></html>\r\n\
--m\r\nContent-Type: application/octet-stream; name=log.txt\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--m--\r\n",
    );
    run_once(&sandbox);
    let case = show(&sandbox, "000001");
    let text = case["messages"][0]["text_body"].as_str().unwrap();
    assert!(text.contains("The printer shows \"offline\"."), "{text:?}");
    // sha256("hello world")
    let sha = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    let sql = format!(
        "SELECT COUNT(*) FROM attachments WHERE filename = 'log.txt' AND size = 11 AND sha256 = '{sha}' \
         AND content_type = 'application/octet-stream'"
    );
    assert_eq!(sandbox.count(&sql).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_senders_get_the_mailbox_default_company() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("# default_company = \"acme\"", "default_company = \"acme\""));
    sandbox.drop_mail(
        "stranger.eml",
        b"From: Sam <sam@gmail.example>\r\nSubject: Hello\r\nMessage-ID: <s@gmail.example>\r\n\r\nHi\r\n",
    );
    run_once(&sandbox);
    assert_eq!(sandbox.cases()[0]["company"], "Acme Corporation");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_case_tag_is_used_and_recognised() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("case_tag = \"[Case #{number}]\"", "case_tag = \"[Ticket {number}]\""));
    sandbox.drop_mail(
        "1.eml",
        b"From: Jane <jane@acme.example>\r\nSubject: Printer\r\nMessage-ID: <a@acme.example>\r\n\r\nx\r\n",
    );
    run_once(&sandbox);
    let acks = sandbox.outbox_messages();
    assert!(acks[0].contains("Subject: [Ticket 000001] Printer"), "{}", acks[0]);
    sandbox.drop_mail(
        "2.eml",
        b"From: Jane <jane@acme.example>\r\nSubject: AW: [ticket 000001] Printer\r\nMessage-ID: <b@acme.example>\r\n\r\ny\r\n",
    );
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 1);
    assert_eq!(show(&sandbox, "000001")["messages"].as_array().unwrap().len(), 2);
}
