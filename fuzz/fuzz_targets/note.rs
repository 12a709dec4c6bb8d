//! Signed notes and checkpoints (tlog note, checkpoint; tlog_tiles' checkpoint body):
//! verification against the demo's log key must not panic, and a checkpoint body that
//! parses is written back to a body that parses to the same checkpoint.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::note::{VerifierKey, verify_note};
use tlog_tiles::Checkpoint;

static LOG_KEY: LazyLock<VerifierKey> = LazyLock::new(|| {
    VerifierKey::parse(include_str!("../fixtures/log.vkey")).expect("fixture log key")
});

fuzz_target!(|data: &[u8]| {
    let _ = verify_note(data, std::slice::from_ref(&LOG_KEY));
    if let Ok(checkpoint) = SignedCheckpoint::verify(data, &LOG_KEY) {
        let _ = checkpoint.body();
    }
    // The body alone (what the signature covers): everything before the blank line.
    let body = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(data, |i| &data[..=i]);
    if let Ok(checkpoint) = Checkpoint::from_bytes(body) {
        let written = checkpoint.to_bytes();
        let again = Checkpoint::from_bytes(&written).expect("a written checkpoint parses");
        assert_eq!(again.to_bytes(), written);
    }
});
