//! Stapled bundles (tlog bundle_file): parse → text → parse gives the same bundle, and the
//! log part of whatever parses is verified against the demo's log and witness keys.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::bundle_file::{StapledBundle, verify_bundle};
use rust_pki_tlog::note::VerifierKey;

static LOG_KEY: LazyLock<VerifierKey> = LazyLock::new(|| {
    VerifierKey::parse(include_str!("../fixtures/log.vkey")).expect("fixture log key")
});
static WITNESS_KEY: LazyLock<VerifierKey> = LazyLock::new(|| {
    VerifierKey::parse(include_str!("../fixtures/witness.vkey")).expect("fixture witness key")
});

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = StapledBundle::parse(data) else {
        return;
    };
    let text = bundle.to_text();
    let again = StapledBundle::parse(text.as_bytes()).expect("a written bundle parses");
    assert_eq!(again, bundle);
    let _ = bundle.chain_pem();
    let _ = bundle.leaf();
    let _ = verify_bundle(&bundle, &LOG_KEY, std::slice::from_ref(&WITNESS_KEY), 1);
});
