//! Property tests for hostile input: generated mail with encoded words that decode to control
//! characters, scripts whose case mapping changes length, huge foldings, NULs, malformed
//! addresses and nested MIME goes through parsing, the case tag, subject cleaning, quote
//! cutting and the templates into the acknowledgement, the notification and a relay. Nothing
//! may panic, and every message composed must be valid RFC 5322 and keep its recipients.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::selfcheck::replies_hold;
use crate::mail::parse;
use crate::templates::Templates;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).expect("templates load")
});

/// Pieces that have broken parsers and slicers: length-changing case maps, tags, prefixes.
const PIECES: &[&str] = &[
    "İ",
    "ẞ",
    "ß",
    "i̇",
    "Σ",
    "ς",
    "ﬃ",
    "ǅ",
    "[Case #",
    "[CASE #0001",
    "]",
    "Re:",
    "AW: ",
    "回复：",
    "0",
    "42",
    " ",
    "\t",
    "=?",
    "?=",
    "\"",
    "\\",
    "<",
    ">",
    "@",
    ".",
    ",",
    ";",
    "(",
    ")",
    "x",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

/// An RFC 2047 Q-encoded word whose decoded text may hold CR, LF, NUL and other controls.
fn encoded_word() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![Just(0u8), Just(b'\r'), Just(b'\n'), Just(0x7f), 0x20u8..0x7f], 0..30)
        .prop_map(|bytes| format!("=?utf-8?q?{}?=", bytes.iter().map(|b| format!("={b:02X}")).collect::<String>()))
}

fn phrase() -> impl Strategy<Value = String> {
    prop_oneof![text(), encoded_word(), text().prop_map(|t| format!("\"{t}\""))]
}

/// Addresses our parser may take and lettre may not: dots at the ends, doubled, long.
fn address() -> impl Strategy<Value = String> {
    let local = prop_oneof![
        Just("jane".to_owned()),
        Just("jane.".to_owned()),
        Just("ja..ne".to_owned()),
        Just(".jane".to_owned()),
        Just("j".repeat(300)),
        "[a-z.+\\-]{1,20}",
    ];
    (local, prop_oneof![Just("acme.example"), Just("ACME.Example"), Just("xn--bcher-kva.example")])
        .prop_map(|(l, d)| format!("{l}@{d}"))
}

/// A header value folded many times, as some mailers (and attackers) do.
fn folded(value: String, folds: usize) -> String {
    let mut out = value;
    for _ in 0..folds {
        out.push_str("\r\n x");
    }
    out
}

fn body() -> impl Strategy<Value = String> {
    (text(), 0usize..3).prop_map(|(t, depth)| {
        let mut inner = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{t}\r\n.\r\n\0\n{t}\r\n");
        for level in 0..depth {
            let b = format!("b{level}");
            inner = format!(
                "Content-Type: multipart/mixed; boundary={b}\r\n\r\n--{b}\r\nContent-Type: message/rfc822\r\n\r\n\
                 From: a@acme.example\r\nSubject: {t}\r\n{inner}\r\n--{b}\r\n\
                 Content-Type: application/octet-stream; name=\"{t}.bin\"\r\nContent-Disposition: attachment; \
                 filename=\"{t}\r\n .bin\"\r\n\r\nbare\nLF\r\n.\r\n--{b}--\r\n"
            );
        }
        inner
    })
}

prop_compose! {
    fn hostile_mail()(
        name in phrase(), from in address(), cc_name in phrase(), cc in address(),
        subject in prop_oneof![text(), "[a-z]{990,1100}"], encoded_subject in encoded_word(), folds in 0usize..200,
        references in 0usize..300, body in body(),
    ) -> Vec<u8> {
        let refs: Vec<String> = (0..references).map(|i| format!("<r{i}@acme.example>")).collect();
        format!(
            "From: {name} <{from}>\r\nTo: support@example.com\r\nCc: {cc_name} <{cc}>\r\n\
             Subject: {}\r\nMessage-ID: <{subject}@acme.example>\r\nReferences: {}\r\nMIME-Version: 1.0\r\n{body}",
            folded(format!("{subject} {encoded_subject}"), folds), refs.join(" ")
        )
        .into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn hostile_mail_never_panics_and_every_reply_is_valid(raw in hostile_mail()) {
        if let Ok(m) = parse(&raw) {
            replies_hold(&m, &TEMPLATES).map_err(TestCaseError::fail)?;
        }
    }
}
