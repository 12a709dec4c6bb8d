//! Rosters (ceremony roster.toml, `Roster::parse` with the policy's 5-of-9 quorum rules),
//! and what the CLI derives from one that parses; the CLI prints roster text through
//! `inert`, whose output must be inert whatever the text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rust_pki_ca::policy::QuorumPolicy;
use rust_pki_ceremony::Roster;
use rust_pki_ceremony::inert::{inert, is_inert};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(is_inert(&inert(text)));
    // policy/rust-root.toml [quorum]; the genesis digest is not Roster::parse's business.
    let quorum = QuorumPolicy {
        threshold: 5,
        members: 9,
        max_per_organisation: 3,
        max_per_country: 3,
        genesis_roster_sha256: String::new(),
    };
    let Ok(roster) = Roster::parse(text, Path::new("roster.toml"), &quorum) else {
        return;
    };
    let _ = roster.allowed_signers();
    let _ = roster.rule_results();
    for member in roster.members() {
        let _ = member.fingerprint();
        let _ = member.key_type();
    }
});
