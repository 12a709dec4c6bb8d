//! Witness-side text from the network or a file (tlog cosignature, note, witness_protocol):
//! cosignature lines and verifier keys round-trip through their text form; a witness's
//! 200 (cosignatures) and 409 (size) response bodies are read without panicking.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::cosignature::{Cosignature, verify_cosignature};
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::witness_protocol::{cosignature_from_response, parse_size_body};

static WITNESS_KEY: LazyLock<VerifierKey> = LazyLock::new(|| {
    VerifierKey::parse(include_str!("../fixtures/witness.vkey")).expect("fixture witness key")
});
/// The body of the demo log's checkpoint (size 16) that its witness cosigned.
const BODY: &[u8] =
    b"demo.pki.rust-lang.org/log\n16\naqo9jpSyxNI90y1/ABM47FYMIDPgSsaUY4oCTS2Nh4s=\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cosignature_from_response(text, BODY, &WITNESS_KEY);
    let _ = parse_size_body(text);
    for line in text.lines() {
        if let Ok(cosignature) = Cosignature::parse(line) {
            let again = Cosignature::parse(&cosignature.to_line()).expect("a written line parses");
            assert_eq!(again, cosignature);
        }
        let _ = verify_cosignature(line, BODY, &WITNESS_KEY);
        if let Ok(key) = VerifierKey::parse(line) {
            let again = VerifierKey::parse(&key.to_string()).expect("a written key parses");
            assert_eq!(again, key);
        }
    }
});
