pub mod browser;
pub mod cert;
pub mod corpus;
pub mod db;
pub mod dovecot;
pub mod http;
pub mod immutable;
pub mod oauth2;
pub mod sandbox;
pub mod smtp;

pub use corpus::corpus;
pub use db::Backend;
pub use dovecot::TestMailServer;
pub use immutable::Immutable;
pub use sandbox::Sandbox;
pub use smtp::TestSmtp;

/// A CSV report's headers and its rows, each by header.
pub fn csv_table(text: &str) -> (Vec<String>, Vec<std::collections::HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("headers").iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| headers.iter().cloned().zip(r.expect("a record").iter().map(str::to_owned)).collect())
        .collect();
    (headers, rows)
}

/// A CSV report's rows, each by header.
pub fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    csv_table(text).1
}

/// A message from a customer of the configured company `acme.example`.
pub fn customer_mail(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@acme.example>\r\n\
         To: support@example.com\r\n\
         Subject: {subject}\r\n\
         Message-ID: <test-{n}-{}@acme.example>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Message number {n}.\r\n",
        subject.len()
    )
    .into_bytes()
}
