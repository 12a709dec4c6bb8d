//! Fixtures for the CLI tests of the `rust-pki` package (tests/verify_cli.rs), which cannot
//! generate certificates themselves. Regenerate with
//! `cargo test -p rust-pki-verify --test cli_fixtures -- --ignored regenerate`;
//! ECDSA signatures are randomized, so the files change on every regeneration.

mod common;

use std::path::PathBuf;

use common::*;
use rust_pki_verify::{Chain, Crl, Error, Position, Root};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli")
}

#[test]
#[ignore = "writes tests/data/cli; run by hand"]
fn regenerate() {
    let pki = pki();
    let other_root = Spec::ca("Evil Root CA", 66).self_signed();
    std::fs::create_dir_all(dir()).unwrap();
    let write = |name: &str, contents: String| std::fs::write(dir().join(name), contents).unwrap();
    write("root.pem", pki.root.pem());
    write("other-root.pem", other_root.pem());
    write("chain.pem", [pki.leaf.pem(), pki.delegate.pem()].concat());
    write("revoked-leaf.crl.pem", crl(&pki.delegate, &[0x1001]));
}

/// The committed fixtures still mean what the CLI tests assume (valid 2026-12-01 for
/// releases; revoked by the CRL; rejected under the other root).
#[test]
fn committed_fixtures_are_consistent() {
    let root = Root::from_file(&dir().join("root.pem")).unwrap();
    let chain = Chain::from_file(&dir().join("chain.pem")).unwrap();
    let verified = rust_pki_verify::verify(&root, &chain, &[], &releases(), AT).unwrap();
    assert_eq!(verified.path[0].cert.serial, "1001");

    let crl = Crl::from_file(&dir().join("revoked-leaf.crl.pem")).unwrap();
    let error = rust_pki_verify::verify(&root, &chain, &[crl], &releases(), AT).unwrap_err();
    assert!(
        matches!(&error, Error::Revoked { cert, .. } if cert.position == Position::Leaf),
        "{error:?}"
    );

    let other = Root::from_file(&dir().join("other-root.pem")).unwrap();
    let error = rust_pki_verify::verify(&other, &chain, &[], &releases(), AT).unwrap_err();
    assert!(matches!(error, Error::UnknownIssuer { .. }), "{error:?}");
}
