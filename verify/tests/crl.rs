//! Revocation: CRLs of the root and of the delegate, and CRLs that must not be trusted.

mod common;

use common::*;
use rust_pki_verify::{Error, Position};
use time::macros::datetime;

fn chain(pki: &Pki) -> [String; 2] {
    [pki.leaf.pem(), pki.delegate.pem()]
}

#[test]
fn accepts_with_crls_that_do_not_list_the_chain() {
    let pki = pki();
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let verified = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        &[&crl(&pki.delegate, &[0x2002]), &crl(&pki.root, &[0x0999])],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.crls.len(), 2);
    assert_eq!(verified.crls[0].file, files.name("crl0.pem"));
    assert_eq!(verified.crls[0].issuer.position, Position::Intermediate(1));
    assert_eq!(verified.crls[0].revoked, 1);
    assert_eq!(verified.crls[0].crl_number.as_deref(), Some("07"));
    assert_eq!(verified.crls[1].issuer.position, Position::Root);
    assert_eq!(
        verified.crls[1].next_update,
        Some(datetime!(2027-01-01 00:00 UTC))
    );
}

#[test]
fn rejects_revoked_leaf_on_crl() {
    let pki = pki();
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        &[&crl(&pki.delegate, &[0x1001])],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::Revoked {
        cert,
        crl,
        crl_issuer,
        reason,
        revocation_date,
    } = &error
    else {
        panic!("expected Revoked, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(cert.serial, "1001");
    assert_eq!(crl, &files.name("crl0.pem"));
    assert_eq!(crl_issuer, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(reason.as_deref(), Some("keyCompromise"));
    assert_eq!(*revocation_date, datetime!(2026-11-15 00:00 UTC));
}

#[test]
fn rejects_delegate_revoked_on_root_crl() {
    let pki = pki();
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        // Only the root's CRL: the leaf's level has none, which is allowed.
        &[&crl(&pki.root, &[0x0100])],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::Revoked { cert, crl_issuer, .. }
            if cert.position == Position::Intermediate(1)
                && crl_issuer == "CN=Rust Test Root CA,O=Rust Project Test"),
        "{error:?}"
    );
}

#[test]
fn rejects_crl_signed_by_wrong_key() {
    let pki = pki();
    // Names the delegate as issuer, signed by another key.
    let forged = crl(&pki.delegate.impostor(), &[]);
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        &[&forged],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::CrlBadSignature { crl, issuer } = &error else {
        panic!("expected CrlBadSignature, got {error:?}");
    };
    assert_eq!(crl, &files.name("crl0.pem"));
    assert_eq!(issuer, "CN=Rust Test Delegate,O=Rust Project Test");
}

#[test]
fn rejects_forged_crl_even_when_its_issuer_is_not_on_the_path() {
    let pki = pki();
    // An unrelated, genuine intermediate in the chain file; a forged CRL in its name.
    let other = Spec::ca("Other Delegate", 0x0300)
        .eku(BORS)
        .signed_by(&pki.root);
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem(), &other.pem()],
        &[&crl(&other.impostor(), &[])],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::CrlBadSignature { issuer, .. }
            if issuer == "CN=Other Delegate,O=Rust Project Test"),
        "{error:?}"
    );
}

#[test]
fn rejects_crl_from_unknown_issuer() {
    let pki = pki();
    let stranger = Spec::ca("Stranger CA", 77).self_signed();
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        &[&crl(&stranger, &[0x1001])],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::CrlUnknownIssuer { crl, issuer }
            if crl == &files.name("crl0.pem") && issuer == "CN=Stranger CA,O=Rust Project Test"),
        "{error:?}"
    );
}

#[test]
fn rejects_expired_crl() {
    let pki = pki();
    let stale = crl_with(
        &pki.delegate,
        &[],
        datetime!(2026-10-01 00:00 UTC),
        datetime!(2026-11-01 00:00 UTC),
    );
    let files = Files::new();
    let [leaf, delegate] = chain(&pki);
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf, &delegate],
        &[&stale],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::CrlExpired {
        crl,
        issuer,
        at,
        next_update,
    } = &error
    else {
        panic!("expected CrlExpired, got {error:?}");
    };
    assert_eq!(crl, &files.name("crl0.pem"));
    assert_eq!(issuer, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(*at, AT);
    assert_eq!(*next_update, datetime!(2026-11-01 00:00 UTC));
}

#[test]
fn accepts_der_root_and_der_crl() {
    let pki = pki();
    let files = Files::new();
    let root = rust_pki_verify::Root::from_file(&files.write("root.der", pki.root.der())).unwrap();
    let chain =
        rust_pki_verify::Chain::from_file(&files.write("chain.pem", chain(&pki).concat())).unwrap();
    let crl =
        rust_pki_verify::Crl::from_file(&files.write("delegate.crl", crl_der(&pki.delegate, &[])))
            .unwrap();
    let verified = rust_pki_verify::verify(&root, &chain, &[crl], &releases(), AT).unwrap();
    assert_eq!(verified.crls.len(), 1);
}
