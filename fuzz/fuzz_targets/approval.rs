//! SSHSIG approvals (ceremony approval): any text checked as an approval of the demo's
//! first request by its roster must not panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_ca::policy::QuorumPolicy;
use rust_pki_ceremony::{Roster, verify_approval};

/// The roster and request of the demo's root-init (its approvals are the seed corpus).
const REQUEST: &[u8] = include_bytes!("../fixtures/request-001.toml");
static ROSTER: LazyLock<Roster> = LazyLock::new(|| {
    let quorum = QuorumPolicy {
        threshold: 5,
        members: 9,
        max_per_organisation: 3,
        max_per_country: 3,
        genesis_roster_sha256: String::new(),
    };
    let text = include_str!("../fixtures/roster.toml");
    Roster::parse(text, Path::new("roster.toml"), &quorum).expect("fixture roster")
});

fuzz_target!(|data: &[u8]| {
    let Ok(armored) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verify_approval(&ROSTER, REQUEST, armored);
});
