//! Signature files (rust-pki-verify sig_file, cms, artifact): the `.sig` text
//! (`SigFile::parse`), git's armor (`SigFile::from_git_armor`) and the CMS DER itself
//! (`ParsedCms::parse`), then whatever parses checked against a fixed content
//! (`check_signature`) and verified whole by `ArtifactVerifier`: without log trust against
//! the root that signed the seeds (fixtures/sig-root.pem: chain, purpose, signing time), and
//! with the demo's log and witness keys (the stapled bundle). Nothing may panic, and a
//! signature that verifies names the content's size.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_verify::artifact::{ArtifactVerifier, LogTrust};
use rust_pki_verify::cms::{ParsedCms, check_signature};
use rust_pki_verify::sig_file::SigFile;
use rust_pki_verify::{Purpose, Root};
use time::macros::datetime;

/// What the seeds sign (`rust-pki sign` of this file, P-384 and Ed25519 leaves).
const CONTENT: &[u8] = include_bytes!("../fixtures/sig-content");

fn verifier(root: &[u8]) -> ArtifactVerifier {
    let root = Root::from_bytes("root.pem", root).expect("fixture root");
    let purpose = Purpose::built_in("releases").expect("releases purpose");
    // Inside the seeds' leaf validity (signed on 2026-12-05).
    ArtifactVerifier::new(root, purpose).at(datetime!(2026-12-06 00:00 UTC))
}

static UNLOGGED: LazyLock<ArtifactVerifier> =
    LazyLock::new(|| verifier(include_bytes!("../fixtures/sig-root.pem")));
static LOGGED: LazyLock<ArtifactVerifier> = LazyLock::new(|| {
    let key = |text: &str| VerifierKey::parse(text).expect("fixture key");
    verifier(include_bytes!("../fixtures/root.pem")).with_log(LogTrust {
        log_key: key(include_str!("../fixtures/log.vkey")),
        witness_keys: vec![key(include_str!("../fixtures/witness.vkey"))],
        min_witnesses: 1,
    })
});

fn check_cms(der: &[u8]) {
    let parsed = ParsedCms::parse("input", der);
    match (parsed, check_signature("input", der, &mut &CONTENT[..])) {
        // check_signature parses first: it refuses what the parser refuses, for that rule.
        (Err(parsing), Err(checking)) => assert_eq!(parsing.rule(), checking.rule()),
        (Err(parsing), Ok(_)) => {
            panic!("check_signature accepted a CMS the parser refuses: {parsing}")
        }
        (Ok(_), Ok((_, digests))) => assert_eq!(digests.size, CONTENT.len() as u64),
        (Ok(_), Err(_)) => {}
    }
}

fn verify(sig: &SigFile) {
    check_cms(sig.cms_der());
    for verifier in [&*UNLOGGED, &*LOGGED] {
        if let Ok(verified) = verifier.verify("content", "content", &mut &CONTENT[..], sig) {
            assert_eq!(verified.size, CONTENT.len() as u64);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = SigFile::parse("input.sig", data) {
        verify(&sig);
    }
    if let Ok(sig) = SigFile::from_git_armor("input.asc", data) {
        verify(&sig);
    }
    check_cms(data);
});
