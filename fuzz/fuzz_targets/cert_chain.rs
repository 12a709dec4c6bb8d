//! Certificate chains and pinned roots (PEM or DER, rust-pki-verify), then path validation
//! of whatever parses against the demo's root: nothing may panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_verify::{Chain, Oid, Purpose, Root, verify, verify_ca};
use time::macros::datetime;

static ROOT: LazyLock<Root> = LazyLock::new(|| {
    Root::from_bytes("root.pem", include_bytes!("../fixtures/root.pem")).expect("fixture root")
});
static PURPOSE: LazyLock<Purpose> = LazyLock::new(|| {
    let eku = "1.3.6.1.4.1.32473.1.1"
        .parse::<Oid>()
        .expect("releases EKU");
    Purpose::new("releases", eku)
});

fuzz_target!(|data: &[u8]| {
    let _ = Root::from_bytes("input", data);
    let Ok(chain) = Chain::from_bytes("input", data) else {
        return;
    };
    // Inside the fixtures' validity (the demo that made them ran on 2026-12-05).
    let at = datetime!(2026-12-06 00:00 UTC);
    let _ = verify(&ROOT, &chain, &[], &PURPOSE, at);
    let _ = verify_ca(&ROOT, &chain, &[], &PURPOSE, at);
});
