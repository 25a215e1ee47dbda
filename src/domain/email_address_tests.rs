use super::*;

fn addr(s: &str) -> EmailAddress {
    s.parse().unwrap()
}

#[test]
fn lowercases_an_ascii_domain_only() {
    let a = addr("Jane.Doe@Example.COM");
    assert_eq!(a.as_str(), "Jane.Doe@example.com");
    assert_eq!(a.domain(), "example.com");
    assert_eq!(a.local_part(), "Jane.Doe");
    // Stored as written: Unicode's lower case would make the Kelvin sign a `k`.
    assert_eq!(addr("x@\u{212A}iwi.example").as_str(), "x@\u{212A}iwi.example");
    assert_eq!(addr("x@BÜCHER.example").as_str(), "x@BÜCHER.example");
}

#[test]
fn rejects_garbage() {
    for bad in ["", "nobody", "@example.com", "a@", "a b@example.com", "a@exa mple.com", "a@.com"] {
        assert!(bad.parse::<EmailAddress>().is_err(), "{bad}");
    }
}

#[test]
fn an_unquoted_at_in_the_local_part_is_two_addresses_run_together() {
    // What mail-parser makes of `From: <x@evil.test> <boss@kiwi.example>`.
    assert!("x@evil.testboss@kiwi.example".parse::<EmailAddress>().is_err());
    assert_eq!(addr("\"x@evil.test\"@kiwi.example").as_str(), "\"x@evil.test\"@kiwi.example");
    assert_eq!(addr("\"x\\\"@y\"@kiwi.example").as_str(), "\"x\\\"@y\"@kiwi.example", "an escaped quote");
    // Quoted at both ends, yet two quoted strings with a bare @ between them.
    assert!("\"x\"@evil.test\"@kiwi.example".parse::<EmailAddress>().is_err());
}

#[test]
fn domains_compare_in_idna_ascii() {
    let rule = LocalPartCase::Insensitive;
    assert!(rule.same(&addr("x@BÜCHER.example"), &addr("x@xn--bcher-kva.example")));
    assert!(rule.same(&addr("x@bücher.example"), &addr("X@XN--BCHER-KVA.EXAMPLE")));
    assert_eq!(addr("x@BÜCHER.example").key(rule).unwrap().as_str(), "x@xn--bcher-kva.example");
    assert!(!rule.same(&addr("x@bücher.example"), &addr("x@bucher.example")));
    assert!(addr("jane@acme.example").at_domain("ACME.example"));
    assert!(addr("x@xn--bcher-kva.example").at_domain("bücher.example"));
}

/// What UTS-46 would map to another letter is refused, not taken for what it imitates.
#[test]
fn look_alikes_that_map_to_other_letters_have_no_key() {
    let kiwi = addr("x@kiwi.example");
    let refused = [
        "x@\u{212A}iwi.example",      // KELVIN SIGN
        "x@\u{212A}\u{FC}wi.example", // Kelvin sign beside a real ü: no A-label of it
        "x@\u{FF4B}iwi.example",      // FULLWIDTH LATIN SMALL LETTER K
        "x@\u{1D424}iwi.example",     // MATHEMATICAL BOLD SMALL K
        "x@\u{FB01}sh.example",       // the ﬁ ligature
        "x@a\u{2488}example",         // ⒈ maps to "1." : one label becomes two
        "x@\u{130}stanbul.example",   // İ lower-cases to i + U+0307
        "x@xn--kiwi-.example",        // not Punycode
    ];
    for text in refused {
        let a = addr(text);
        assert_eq!(a.key(LocalPartCase::Insensitive), None, "{text}");
        assert!(!LocalPartCase::Insensitive.same(&a, &kiwi), "{text}");
        assert!(!LocalPartCase::Insensitive.same(&a, &a), "{text} equals nothing, itself included");
        assert!(!a.at_domain("kiwi.example"), "{text}");
    }
    // A Cyrillic look-alike maps cleanly, to a domain of its own: not kiwi's either.
    let cyrillic = addr("x@k\u{456}wi.example");
    assert!(cyrillic.key(LocalPartCase::Insensitive).unwrap().as_str().starts_with("x@xn--"));
    assert!(!LocalPartCase::Insensitive.same(&cyrillic, &kiwi));
}

#[test]
fn local_parts_compare_by_the_configured_rule() {
    let (jane, upper) = (addr("jane@acme.example"), addr("Jane@ACME.example"));
    assert!(LocalPartCase::Insensitive.same(&jane, &upper));
    assert!(!LocalPartCase::Exact.same(&jane, &upper));
    assert!(LocalPartCase::Exact.same(&upper, &addr("Jane@acme.example")), "the domain's case never counts");
    assert!(LocalPartCase::Insensitive.same(&addr("JÖRG@acme.example"), &addr("jörg@acme.example")));
    // A Kelvin sign in the local part is not a k either.
    assert!(!LocalPartCase::Insensitive.same(&addr("\u{212A}im@acme.example"), &addr("kim@acme.example")));
    assert!(LocalPartCase::Insensitive.same_as(&jane, "JANE@acme.example"));
    assert!(!LocalPartCase::Insensitive.same_as(&jane, "not an address"));
}

#[test]
fn quotes_a_local_part_does_not_need_change_nothing() {
    let rule = LocalPartCase::Insensitive;
    assert!(rule.same(&addr("\"jane\"@acme.example"), &addr("jane@acme.example")));
    assert!(rule.same(&addr("\"j\\ane\"@acme.example"), &addr("jane@acme.example")));
    let quoted = addr("\"a@b:c\"@acme.example");
    assert_eq!(quoted.local_part(), "\"a@b:c\"");
    assert_eq!(quoted.key(rule).unwrap().as_str(), "\"a@b:c\"@acme.example");
    assert!(!rule.same(&quoted, &addr("c@acme.example")));
}

#[test]
fn the_rule_reads_from_config_words() {
    assert_eq!("exact".parse::<LocalPartCase>(), Ok(LocalPartCase::Exact));
    assert_eq!("Insensitive".parse::<LocalPartCase>(), Ok(LocalPartCase::Insensitive));
    assert!("sometimes".parse::<LocalPartCase>().is_err());
}
