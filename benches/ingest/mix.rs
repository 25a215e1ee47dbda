//! The benchmark's mailbox: 10,000 messages of the kinds a desk sees.

/// Who sends the new cases.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Senders {
    /// 97 customers between them: `ack_limit_per_hour` (10) refuses most acknowledgements,
    /// so little mail is rendered and the rate flatters.
    Shared,
    /// Every new case from its own address: every case is acknowledged.
    OwnEach,
}

impl Senders {
    pub fn describe(self) -> &'static str {
        match self {
            Senders::Shared => "97 senders, most acks over the hourly limit",
            Senders::OwnEach => "every case its own sender, every case acknowledged",
        }
    }
}

/// 40% plain requests, 20% HTML (multipart/alternative), 10% with an attachment, 20% replies
/// carrying a case tag, 10% replies by In-Reply-To only.
pub fn mixed_messages(n: usize, senders: Senders) -> Vec<Vec<u8>> {
    let mut new_cases = 0usize;
    (0..n)
        .map(|i| {
            let who = if senders == Senders::Shared { i % 97 } else { i };
            let from = format!("Customer {who} <customer{who}@acme.example>");
            let head = |subject: &str, extra: &str| {
                format!(
                    "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <bench-{i}@acme.example>\r\n\
                     Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n{extra}"
                )
            };
            let kind = i % 10;
            if new_cases > 0 && kind >= 8 {
                let target = 1 + (i * 7919) % new_cases;
                return if kind == 8 {
                    format!("{}Content-Type: text/plain\r\n\r\nMore detail for case {target}.\r\n", head(&format!("Re: [Case #{target:06}] Request"), ""))
                } else {
                    let parent = i - 2;
                    format!("{}Content-Type: text/plain\r\n\r\nFollow-up.\r\n", head("Re: Request", &format!("In-Reply-To: <bench-{parent}@acme.example>\r\n")))
                }
                .into_bytes();
            }
            new_cases += 1;
            let body = match kind {
                0..=3 => format!("Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer on floor {i} is offline.\r\n"),
                4 | 5 => "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nIt is down.\r\n\
                          --b\r\nContent-Type: text/html\r\n\r\n<p>It is <b>down</b>.</p>\r\n--b--\r\n"
                    .to_owned(),
                _ => {
                    let data = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n".repeat(500);
                    format!(
                        "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nLog attached.\r\n\
                         --m\r\nContent-Type: application/octet-stream; name=log.bin\r\nContent-Transfer-Encoding: base64\r\n\
                         Content-Disposition: attachment; filename=log.bin\r\n\r\n{data}--m--\r\n"
                    )
                }
            };
            format!("{}{body}", head(&format!("Request {i}"), "")).into_bytes()
        })
        .collect()
}
