//! A message over `[intake] max_message_size` is quarantined with only its first part, its
//! full size and its SHA-256, from the pipe and from Maildir alike; and a Maildir backlog of
//! large messages is read in batches bounded by bytes, all of it processed.

use std::process::Output;

use crate::support::{Backend, Sandbox, customer_mail};

const MB: usize = 1024 * 1024;

/// `customer_mail` with its body grown to `size` bytes.
fn large_mail(n: usize, subject: &str, size: usize) -> Vec<u8> {
    let mut raw = customer_mail(n, subject);
    let line = b"A log line that repeats until the message is as large as the test needs.\r\n";
    while raw.len() + line.len() <= size {
        raw.extend_from_slice(line);
    }
    raw
}

/// A sandbox whose limit is 4 MB and whose quarantine keeps 64 KB, so that 30 MB is far over.
async fn small_limit_sandbox(backend: Backend) -> Sandbox {
    let sandbox = Sandbox::new(backend).await;
    sandbox.edit_config(|c| {
        let shipped = "max_message_size = \"25MB\"\nquarantine_keep_bytes = \"1MB\"";
        assert!(c.contains(shipped), "daemon.toml sets both sizes");
        c.replace(shipped, "max_message_size = \"4MB\"\nquarantine_keep_bytes = \"64KB\"")
    });
    sandbox
}

fn pipe(sandbox: &Sandbox, raw: Vec<u8>) -> Output {
    let (out, written) = sandbox.pipe_ingest(&raw);
    written.expect("the whole message is read from the pipe");
    out
}

fn quarantined(sandbox: &Sandbox) -> Vec<serde_json::Value> {
    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("quarantine list prints JSON")
}

/// The row says what the whole message was, and holds only its first 64 KB.
fn assert_kept_first_part(row: &serde_json::Value, message: &[u8]) {
    let reason = row["reason"].as_str().expect("a reason");
    assert_eq!(reason, format!("over the size limit ({} bytes > {})", message.len(), 4 * MB));
    assert_eq!(row["full_size"].as_u64(), Some(message.len() as u64));
    assert_eq!(row["sha256"].as_str(), Some(supportd::mail::sha256_hex(message).as_str()));
    assert_eq!(row["bytes"].as_u64(), Some(64 * 1024), "only quarantine_keep_bytes are stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_piped_message_is_quarantined_with_its_full_size_and_hash() {
    let sandbox = small_limit_sandbox(Backend::Sqlite).await;
    let message = large_mail(1, "A core dump for you", 30 * MB);
    let out = pipe(&sandbox, message.clone());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("quarantined as #1: over the size limit"));

    // A file named on the command line is read the same way.
    let file = sandbox.path("var/core.eml");
    std::fs::write(&file, &message).expect("write the message");
    let out = sandbox.run(&["ingest", file.to_str().expect("a UTF-8 path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let held = quarantined(&sandbox);
    assert_eq!(held.len(), 2);
    for row in &held {
        assert_kept_first_part(row, &message);
    }
    let out = sandbox.run(&["quarantine", "show", "1", "--format", "json"]);
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("quarantine show prints JSON");
    assert!(detail["headers"].as_str().unwrap().contains("Subject: A core dump for you"), "{detail}");
    assert_eq!(detail["sha256"], held[0]["sha256"]);

    let out = sandbox.run(&["quarantine", "retry", "1"]);
    assert_eq!(out.status.code(), Some(65), "a first part is not retried");
    assert!(sandbox.cases().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_maildir_message_is_quarantined_with_its_full_size_and_hash_on_postgres() {
    let sandbox = small_limit_sandbox(Backend::Postgres).await;
    let message = large_mail(1, "A core dump for you", 30 * MB);
    sandbox.drop_mail("01-large.eml", &message);
    sandbox.drop_mail("02-small.eml", &customer_mail(2, "After the large one"));
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let held = quarantined(&sandbox);
    assert_eq!(held.len(), 1);
    assert_kept_first_part(&held[0], &message);
    assert_eq!(held[0]["source"].as_str(), Some("maildir:01-large.eml"));
    assert_eq!(sandbox.cases().len(), 1, "the message after it became a case");
    assert!(sandbox.files_in("var/inbox/new").is_empty(), "{:?}", sandbox.files_in("var/inbox/new"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_maildir_backlog_of_large_messages_is_processed_in_batches_bounded_by_bytes() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let large = |n, subject| large_mail(n, subject, 12 * MB);
    let oversize = large_mail(6, "Over the limit", 26 * MB);
    let mail = [
        customer_mail(1, "Small one"),
        large(2, "Large one"),
        large(3, "Large two"),
        customer_mail(4, "Small two"),
        large(5, "Large three"),
        oversize,
        customer_mail(7, "Small three"),
    ];
    for (i, raw) in mail.iter().enumerate() {
        sandbox.drop_mail(&format!("{:02}.eml", i + 1), raw);
    }
    let out = sandbox
        .cmd(&["--log-format", "json", "run", "--once"])
        .env("RUST_LOG", "info,supportd::ingest=debug,sqlx=warn")
        .output()
        .expect("run supportd");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    assert!(sandbox.files_in("var/inbox/new").is_empty(), "{:?}", sandbox.files_in("var/inbox/new"));
    assert_eq!(sandbox.files_in("var/inbox/cur").len(), 7);
    assert_eq!(sandbox.cases().len(), 6);
    assert_eq!(quarantined(&sandbox).len(), 1);
    // Each large message is stored whole: its raw bytes (in a table of their own) and its
    // text (written after its row), which is all of the message but its headers.
    let large_ones = [&mail[1], &mail[2], &mail[4]];
    for raw in large_ones {
        let sql = format!(
            "SELECT COUNT(*) FROM messages m JOIN message_raw r ON r.message_id = m.id \
             WHERE length(r.raw) = {} AND length(m.text_body) > {}",
            raw.len(),
            raw.len() - 1024
        );
        let same_size = large_ones.iter().filter(|m| m.len() == raw.len()).count() as i64;
        assert_eq!(sandbox.count(&sql).await, same_size, "messages of {} bytes stored whole", raw.len());
    }
    // 32 MiB per batch: the third large message starts a second one; the oversize message
    // counts as the 1 MB kept of it.
    let batches: Vec<u64> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "batch committed")
        .filter_map(|l| l["fields"]["messages"].as_u64())
        .collect();
    assert_eq!(batches, [4, 3]);
}

/// A large HTML message is written in parts (its row, its raw bytes, its text, its HTML):
/// all of them arrive, whole, on both databases.
async fn a_large_html_message_is_stored_whole(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    let head = String::from_utf8(customer_mail(1, "Our page as the customer sees it")).unwrap();
    let head = head.split("\r\n\r\n").next().unwrap().replace("text/plain", "text/html");
    let mut raw = format!("{head}\r\nMIME-Version: 1.0\r\n\r\n<html><body>");
    let mut rows = 0;
    while raw.len() < 3 * MB {
        raw.push_str(&format!("<p>Row {rows} of the <b>report</b> fails</p>\r\n"));
        rows += 1;
    }
    raw.push_str("<p>The end of it</p></body></html>\r\n");
    let (out, _) = sandbox.pipe_ingest(raw.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let sql = format!(
        "SELECT COUNT(*) FROM messages m JOIN message_raw r ON r.message_id = m.id \
         WHERE length(r.raw) = {} AND m.html_body LIKE '%<p>Row {} of the <b>report</b> fails</p>%The end of it%' \
         AND m.text_body LIKE '%Row 0 of the report fails%Row {} of the report fails%The end of it%'",
        raw.len(),
        rows - 1,
        rows - 1
    );
    assert_eq!(sandbox.count(&sql).await, 1, "the raw bytes, the HTML and its text, whole");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_html_message_is_stored_whole_on_sqlite() {
    a_large_html_message_is_stored_whole(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_html_message_is_stored_whole_on_postgres() {
    a_large_html_message_is_stored_whole(Backend::Postgres).await;
}
