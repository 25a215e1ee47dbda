use proptest::prelude::*;

use super::*;

/// A result as (method, result, [(ptype, property, value)]).
type Flat = (String, String, Vec<(String, String, String)>);

fn flatten(parsed: AuthResults) -> Vec<Flat> {
    let flat =
        |r: MethodResult| (r.method, r.result, r.properties.into_iter().map(|p| (p.ptype, p.name, p.value)).collect());
    parsed.results.into_iter().map(flat).collect()
}

fn results(header: &str) -> Vec<Flat> {
    flatten(parse(header).unwrap_or_else(|e| panic!("{header}: {e}")))
}

fn prop(ptype: &str, name: &str, value: &str) -> (String, String, String) {
    (ptype.into(), name.into(), value.into())
}

/// The examples of RFC 8601 Appendix B, the last with CFWS in every place it may go.
#[test]
fn the_rfc_examples_parse() {
    let none = parse("example.org 1; none").unwrap();
    assert_eq!((none.authserv_id.as_str(), none.results.len()), ("example.org", 0));
    assert_eq!(
        results("example.com; spf=pass smtp.mailfrom=example.net"),
        [("spf".into(), "pass".into(), vec![prop("smtp", "mailfrom", "example.net")])]
    );
    let b6 = parse(
        "example.com;\r\n dkim=pass reason=\"good signature\"\r\n   header.i=@mail-router.example.net;\r\n \
         dkim=fail reason=\"bad signature\"\r\n   header.i=@newyork.example.com",
    )
    .unwrap();
    assert_eq!(b6.results.len(), 2);
    assert_eq!(b6.results[0].reason.as_deref(), Some("good signature"));
    assert_eq!(b6.results[1].values("header", "i").collect::<Vec<_>>(), ["@newyork.example.com"]);
    let b7 = parse(
        "foo.example.net (foobar) 1 (baz);\r\n dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n \
         policy (A dot can go here) . (like that) expired\r\n (this surprised me) = (as I wasn't expecting it) 1362471462",
    )
    .unwrap();
    assert_eq!(b7.authserv_id, "foo.example.net");
    let dkim = &b7.results[0];
    assert_eq!((dkim.method.as_str(), dkim.version, dkim.result.as_str()), ("dkim", 1, "fail"));
    assert_eq!(
        dkim.properties,
        [Property { ptype: "policy".into(), name: "expired".into(), value: "1362471462".into() }]
    );
}

/// What Gmail, Rspamd and OpenDKIM write, base64 fragments and addresses unquoted.
#[test]
fn what_real_servers_write_parses() {
    let gmail = "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=Qk1j+T/3;\r\n       \
                 spf=pass (google.com: domain of alice@example.com designates 2a00:1450::1 as permitted sender) \
                 smtp.mailfrom=alice@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com";
    let r = results(gmail);
    assert_eq!(
        r.iter().map(|(m, res, _)| format!("{m}={res}")).collect::<Vec<_>>(),
        ["dkim=pass", "spf=pass", "dmarc=pass"]
    );
    assert_eq!(r[0].2[2], prop("header", "b", "Qk1j+T/3"));
    assert_eq!(r[1].2, [prop("smtp", "mailfrom", "alice@example.com")]);
    let rspamd = "mx.example.com; dkim=pass header.d=example.com header.s=sel header.b=\"AbC=\"; \
                  arc=none; spf=pass (mx.example.com: domain of bob@example.com designates 192.0.2.1 as permitted sender) \
                  smtp.mailfrom=bob@example.com; dmarc=pass (policy=reject) header.from=example.com;";
    assert_eq!(results(rspamd).len(), 4, "a trailing \";\" is an empty resinfo");
    let opendkim = "mx.example.com 1; DKIM=PASS (1024-bit key; secure) header.d=Example.COM header.i=@example.com";
    let r = results(opendkim);
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("dkim", "pass"), "keywords are case-insensitive");
    assert_eq!(r[0].2[0], prop("header", "d", "Example.COM"), "values as written");
}

/// A quoted string is a value and a comment is nothing, whatever either holds.
#[test]
fn quoted_strings_and_comments_cannot_carry_results() {
    let quoted = r#"mx.example.com; spf=fail smtp.mailfrom="x; dkim=pass header.d=example.com"@evil.test"#;
    assert_eq!(
        results(quoted),
        [("spf".into(), "fail".into(), vec![prop("smtp", "mailfrom", "x; dkim=pass header.d=example.com@evil.test")])]
    );
    let escaped = r#"mx.example.com; spf=fail smtp.mailfrom="a\"; dkim=pass header.d=example.com; x=\"b""#;
    assert_eq!(results(escaped)[0].2[0].2, r#"a"; dkim=pass header.d=example.com; x="b"#);
    let comment = r"mx.example.com; dkim=fail (sig \) ; dkim=pass (header.d=example.com)) header.d=example.com";
    assert_eq!(results(comment), [("dkim".into(), "fail".into(), vec![prop("header", "d", "example.com")])]);
    let authserv = "(mx.example.com) mx.evil.test (mx.example.com); dkim=pass header.d=example.com";
    assert_eq!(parse(authserv).unwrap().authserv_id, "mx.evil.test");
    assert_eq!(parse("\"mx.example.com\"; none").unwrap().authserv_id, "mx.example.com");
}

/// Refused whole, with the place: nothing is guessed from a header off the grammar.
#[test]
fn a_header_off_the_grammar_is_refused_with_its_place() {
    for (header, at) in [
        ("", 0),
        ("mx.example.com", 14),
        ("mx.example.com dkim=pass", 15),
        ("mx.example.com; dkim", 20),
        ("mx.example.com; dkim=\"pass\" header.d=example.com", 21),
        ("mx.example.com; dkim=pass header.d=\"example.com", 35),
        ("mx.example.com; dkim=pass (header.d=example.com", 26),
        ("mx.example.com; dkim=pass (a \\) header.d=example.com", 26),
        ("mx.example.com; dkim=pass header.d=example.com\\", 46),
        ("mx.example.com; dkim=pass\"x\" header.d=example.com", 25),
        ("mx.example.com; dkim=pass header.d example.com", 35),
        ("mx.example.com; dkim=pass header=example.com", 32),
        ("mx.example.com; dkim=pass action=none", 32),
        ("mx.example.com; none; dkim=pass header.d=example.com", 22),
        ("mx.example.com; dkim=pass; none", 31),
        ("mx.example.com 2; dkim=pass header.d=example.com", 15),
        ("mx.example.com 99999999999; none", 15),
        ("mx.example.com; dkim/x=pass", 21),
        (";", 0),
    ] {
        match parse(header) {
            Err(e) => assert_eq!(e.at, at, "{header}: {e}"),
            Ok(r) => panic!("{header}: parsed as {r:?}"),
        }
    }
}

/// Pathological shapes a megabyte long: one pass each, no recursion to overflow the stack
/// (a parser that rescans would not finish).
#[test]
fn megabytes_of_nesting_quotes_and_escapes_are_one_pass() {
    let n = 1 << 20;
    let shapes = [
        "(".repeat(n),
        format!("mx; dkim=pass {}", "(".repeat(n)),
        format!("mx; dkim=pass {}{}", "(".repeat(n), ")".repeat(n)),
        "\"".repeat(n),
        "\\".repeat(n),
        format!("mx (\\{}", "\\(".repeat(n / 2)),
        format!("mx{}", "; dkim=pass".repeat(n / 11)),
        format!("mx; dkim=pass{}", " header.d=\"x\"".repeat(n / 14)),
        ";".repeat(n),
    ];
    for shape in &shapes {
        let _ = parse(shape);
    }
    assert_eq!(parse(&shapes[2]).map(|r| r.results.len()), Ok(1));
    assert_eq!(parse(&shapes[0]).unwrap_err().at, 0);
}

/// Pieces of the grammar, of values that imitate it, and of UTF-8.
const PIECES: &[&str] = &[
    ";",
    "(",
    ")",
    "\"",
    "\\",
    "=",
    ".",
    "/",
    "@",
    " ",
    "\t",
    "\r\n ",
    "dkim",
    "pass",
    "fail",
    "none",
    "header",
    "d",
    "smtp",
    "mailfrom",
    "reason",
    "example.com",
    "1",
    "é",
    "回",
    "\u{0}",
    "\u{7f}",
];

fn pieces(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..max).prop_map(|v| v.concat())
}

/// A value written as a server would: bare when it is a token, else quoted and escaped.
fn write_value(v: &str) -> String {
    if !v.is_empty() && v.bytes().all(is_token_byte) {
        v.to_owned()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn write_comment(text: &str, nested: &str) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    format!("({} ({}))", escape(text), escape(nested))
}

/// Folding white space or a comment, at least one byte.
fn cfws() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just("\r\n\t".to_owned()),
        (pieces(6), pieces(4)).prop_map(|(a, b)| format!(" {} ", write_comment(&a, &b))),
    ]
}

fn keyword() -> impl Strategy<Value = String> {
    prop::sample::select(&["dkim", "spf", "dmarc", "arc", "x-foo", "auth", "iprev"][..]).prop_map(str::to_owned)
}

fn resinfo() -> impl Strategy<Value = Flat> {
    let result = prop::sample::select(&["pass", "fail", "none", "neutral", "temperror"][..]).prop_map(str::to_owned);
    let property = (prop::sample::select(&["header", "smtp", "policy"][..]), keyword(), pieces(8))
        .prop_map(|(t, n, v)| (t.to_owned(), n, v));
    (keyword(), result, prop::collection::vec(property, 0..4))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_never_panics(text in any::<String>(), syntax in pieces(60)) {
        let _ = parse(&text);
        let _ = parse(&syntax);
    }

    /// Whatever the values hold and wherever comments go, the parse is what was written.
    #[test]
    fn what_is_written_is_what_is_read(
        id in pieces(6),
        infos in prop::collection::vec((resinfo(), cfws(), cfws()), 1..5),
    ) {
        let mut header = write_value(&id);
        for ((method, result, props), a, b) in &infos {
            header.push_str(&format!(";{a}{method}={result}"));
            for (t, n, v) in props {
                header.push_str(&format!("{b}{t}.{n}={}", write_value(v)));
            }
        }
        let parsed = parse(&header).map_err(|e| TestCaseError::fail(format!("{header:?}: {e}")))?;
        prop_assert_eq!(&parsed.authserv_id, &id);
        let got = flatten(parsed);
        let want: Vec<Flat> = infos.into_iter().map(|(r, _, _)| r).collect();
        prop_assert_eq!(got, want, "{:?}", header);
    }
}
