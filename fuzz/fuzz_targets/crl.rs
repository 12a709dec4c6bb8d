//! CRLs (PEM or DER, rust-pki-verify), then a chain validation of the demo's releases leaf
//! that uses whatever parses: nothing may panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_verify::{Chain, Crl, Oid, Purpose, Root, verify};
use time::macros::datetime;

static ROOT: LazyLock<Root> = LazyLock::new(|| {
    Root::from_bytes("root.pem", include_bytes!("../fixtures/root.pem")).expect("fixture root")
});
static CHAIN: LazyLock<Chain> = LazyLock::new(|| {
    let pem = include_bytes!("../fixtures/releases.chain.pem");
    Chain::from_bytes("releases.chain.pem", pem).expect("fixture chain")
});
static PURPOSE: LazyLock<Purpose> = LazyLock::new(|| {
    let eku = "1.3.6.1.4.1.32473.1.1"
        .parse::<Oid>()
        .expect("releases EKU");
    Purpose::new("releases", eku)
});

fuzz_target!(|data: &[u8]| {
    let Ok(crl) = Crl::from_bytes("input", data) else {
        return;
    };
    let at = datetime!(2026-12-06 00:00 UTC);
    let _ = verify(&ROOT, &CHAIN, &[crl], &PURPOSE, at);
});
