pub mod cert;
pub mod corpus;
pub mod db;
pub mod dovecot;
pub mod immutable;
pub mod sandbox;
pub mod smtp;

pub use corpus::corpus;
pub use db::Backend;
pub use dovecot::TestMailServer;
pub use immutable::Immutable;
pub use sandbox::Sandbox;
pub use smtp::TestSmtp;

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
