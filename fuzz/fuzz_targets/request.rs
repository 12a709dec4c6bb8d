//! Ceremony requests (ceremony request.toml, `Request::parse`, which also validates): a
//! request that parses is written back to TOML that parses to the same request, and
//! `ceremony show`'s rendering of it (against the demo's policy and roster) is inert text:
//! nothing in the request can add a line break, an escape or an invisible character.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_ca::policy::Policy;
use rust_pki_ceremony::Roster;
use rust_pki_ceremony::inert::is_inert;
use rust_pki_ceremony::request::Request;
use rust_pki_ceremony::show::{LocalFiles, render};

const POLICY_TEXT: &str = include_str!("../fixtures/policy.toml");
static POLICY: LazyLock<Policy> =
    LazyLock::new(|| Policy::parse(POLICY_TEXT, Path::new("policy.toml")).expect("fixture policy"));
static ROSTER: LazyLock<Roster> = LazyLock::new(|| {
    let text = include_str!("../fixtures/roster.toml");
    Roster::parse(text, Path::new("roster.toml"), &POLICY.quorum).expect("fixture roster")
});

fuzz_target!(|data: &[u8]| {
    let path = Path::new("request.toml");
    let Ok(request) = Request::parse(data, path) else {
        return;
    };
    let text = request.to_toml().expect("a parsed request serialises");
    let again = Request::parse(text.as_bytes(), path).expect("a written request parses");
    assert_eq!(again, request);
    for output in &request.outputs {
        let _ = output.tbs_der();
    }
    let local = LocalFiles {
        policy: (POLICY_TEXT.as_bytes(), &POLICY),
        roster: &ROSTER,
        // A digest of no real binary: show compares it with the request's tool_sha256.
        tool_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
    };
    if let Ok(shown) = render(&request, data, local)
        && let Some(line) = shown.lines().find(|line| !is_inert(line))
    {
        panic!("`ceremony show` printed a line that is not inert: {line:?}");
    }
});
