//! Any bytes as a customer's email: parsing, the case tag, subject cleaning and composing the
//! acknowledgement, a notification and a relay must not panic, and what they compose must be
//! valid RFC 5322 (the same check as the property tests in src/outbound/props.rs).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use supportd::outbound::selfcheck::replies_hold;
use supportd::templates::Templates;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    Templates::load(&dir).unwrap_or_else(|_| panic!("the templates in {} load", dir.display()))
});

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = supportd::ingest::parse(data) {
        if let Err(broken) = replies_hold(&message, &TEMPLATES) {
            panic!("{broken}");
        }
    }
});
