//! `verify_ca`: a delegate CA certificate checked as the subject of the verification (its own
//! stapled bundle has chain = [delegate]), rule by rule, each test asserting the error variant
//! and the certificate it names.

mod common;

use std::path::PathBuf;

use common::*;
use rcgen::IsCa;
use rust_pki_verify::{Chain, Crl, Error, Position, Purpose, Root, VerifiedChain, verify_ca};
use time::OffsetDateTime;
use time::macros::datetime;

/// Writes root.pem, chain.pem (`chain` concatenated, the CA first) and the CRLs, then runs
/// `verify_ca`.
fn verify_ca_pems(
    files: &Files,
    root: &str,
    chain: &[&str],
    crls: &[&str],
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    let root = Root::from_file(&files.write("root.pem", root))?;
    let chain = Chain::from_file(&files.write("chain.pem", chain.concat()))?;
    let crls = crls
        .iter()
        .enumerate()
        .map(|(i, pem)| Crl::from_file(&files.write(&format!("crl{i}.pem"), pem)))
        .collect::<Result<Vec<_>, _>>()?;
    verify_ca(&root, &chain, &crls, purpose, at)
}

/// `verify_ca` of `[delegate]` under `root`, for `purpose` at `at`, without CRLs.
fn verify_delegate(
    root: &Issued,
    delegate: &Issued,
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    verify_ca_pems(
        &Files::new(),
        &root.pem(),
        &[&delegate.pem()],
        &[],
        purpose,
        at,
    )
}

fn cli_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cli")
        .join(name)
}

/// The releases delegate of the committed CLI fixtures: the second certificate of chain.pem.
#[allow(clippy::unwrap_used)] // test helper outside #[test]: clippy.toml's allowance does not reach it
fn fixture_delegate_pem() -> String {
    let chain = std::fs::read_to_string(cli_fixture("chain.pem")).unwrap();
    let end = "-----END CERTIFICATE-----";
    let first_end = chain.find(end).unwrap() + end.len();
    chain[first_end..].trim_start().to_owned()
}

#[test]
fn accepts_valid_delegate() {
    let pki = pki();
    let verified = verify_delegate(&pki.root, &pki.delegate, &releases(), AT).unwrap();

    let positions: Vec<_> = verified.path.iter().map(|c| c.cert.position).collect();
    assert_eq!(positions, [Position::Ca, Position::Root]);
    let delegate = &verified.path[0];
    assert_eq!(
        delegate.cert.subject,
        "CN=Rust Test Delegate,O=Rust Project Test"
    );
    assert_eq!(delegate.cert.serial, "0100");
    assert!(delegate.ca);
    assert_eq!(delegate.path_len, Some(0));
    assert_eq!(delegate.ekus, ["1.3.6.1.4.1.32473.1.1"]);
    assert_eq!(delegate.issuer, "CN=Rust Test Root CA,O=Rust Project Test");
    assert_eq!(verified.purpose.name, "releases");
    assert_eq!(verified.at, AT);
    let line = verified.to_string();
    assert!(
        line.starts_with(
            "chain valid for purpose releases (1.3.6.1.4.1.32473.1.1) at 2026-12-01T00:00:00Z: CA CN=Rust Test Delegate"
        ),
        "{line}"
    );
    assert!(line.contains(" ← root CN=Rust Test Root CA"), "{line}");
    let json = serde_json::to_value(&verified).unwrap();
    assert_eq!(json["path"][0]["role"], "ca");
    assert_eq!(json["path"][1]["role"], "root");
}

#[test]
fn accepts_committed_fixture_delegate() {
    let root = Root::from_file(&cli_fixture("root.pem")).unwrap();
    let chain = Chain::from_bytes("delegate.pem", fixture_delegate_pem().as_bytes()).unwrap();
    let verified = verify_ca(&root, &chain, &[], &releases(), AT).unwrap();
    assert_eq!(verified.path.len(), 2);
    assert_eq!(verified.path[0].cert.position, Position::Ca);
    assert_eq!(verified.path[0].cert.serial, "0100");
}

#[test]
fn accepts_chain_file_that_includes_the_root() {
    let pki = pki();
    let verified = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&pki.delegate.pem(), &pki.root.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.path.len(), 2);
}

#[test]
fn accepts_sub_ca_under_path_len_0_delegate() {
    // pathLen 0 on the delegate forbids CAs *between* it and the end of the path; the
    // sub-CA verified here ends the path.
    let pki = pki();
    let sub_ca = Spec::ca("Rust Test Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&pki.delegate);
    let verified = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&sub_ca.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap();
    let positions: Vec<_> = verified.path.iter().map(|c| c.cert.position).collect();
    assert_eq!(
        positions,
        [Position::Ca, Position::Intermediate(1), Position::Root]
    );
}

#[test]
fn rejects_delegate_for_other_purpose() {
    let pki = pki();
    let error = verify_delegate(&pki.root, &pki.delegate, &purpose("bors", BORS), AT).unwrap_err();
    let Error::WrongEku {
        cert,
        purpose,
        expected,
        found,
    } = &error
    else {
        panic!("expected WrongEku, got {error:?}");
    };
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(purpose, "bors");
    assert_eq!(*expected, oid(BORS));
    assert_eq!(*found, [oid(RELEASES)]);
    assert_eq!(error.rule(), "wrong-eku");
}

#[test]
fn rejects_delegate_without_eku() {
    let root = root();
    let delegate = delegate(&root, None);
    let error = verify_delegate(&root, &delegate, &releases(), AT).unwrap_err();
    assert!(
        matches!(&error, Error::MissingEku { cert, .. } if cert.position == Position::Ca),
        "{error:?}"
    );
}

#[test]
fn rejects_delegate_signed_by_another_root() {
    // Another root with the pinned root's name: only the signature tells them apart.
    let pki = pki();
    let impostor = pki.root.impostor();
    let forged = delegate(&impostor, Some(RELEASES));
    let error = verify_delegate(&pki.root, &forged, &releases(), AT).unwrap_err();
    let Error::BadSignature { cert, issuer } = &error else {
        panic!("expected BadSignature, got {error:?}");
    };
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(issuer.position, Position::Root);
    assert!(
        error
            .to_string()
            .starts_with("CA CN=Rust Test Delegate,O=Rust Project Test (serial 0100): signature"),
        "{error}"
    );
}

#[test]
fn rejects_delegate_of_differently_named_root() {
    let pki = pki();
    let other_root = Spec::ca("Evil Root CA", 66).self_signed();
    let error = verify_delegate(&other_root, &pki.delegate, &releases(), AT).unwrap_err();
    let Error::UnknownIssuer { cert, issuer, root } = &error else {
        panic!("expected UnknownIssuer, got {error:?}");
    };
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(issuer, "CN=Rust Test Root CA,O=Rust Project Test");
    assert_eq!(root, "CN=Evil Root CA,O=Rust Project Test");
}

#[test]
fn rejects_expired_delegate_at_time() {
    let root = root();
    let delegate = Spec::ca("Rust Test Delegate", 0x0100)
        .path_len(0)
        .eku(RELEASES)
        .valid(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-06-01 00:00 UTC),
        )
        .signed_by(&root);
    assert!(
        verify_delegate(
            &root,
            &delegate,
            &releases(),
            datetime!(2026-05-01 00:00 UTC)
        )
        .is_ok()
    );
    let error = verify_delegate(&root, &delegate, &releases(), AT).unwrap_err();
    let Error::Expired {
        cert,
        at,
        not_after,
    } = &error
    else {
        panic!("expected Expired, got {error:?}");
    };
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(*at, AT);
    assert_eq!(*not_after, datetime!(2026-06-01 00:00 UTC));
}

#[test]
fn rejects_delegate_not_yet_valid() {
    let pki = pki();
    let error = verify_delegate(
        &pki.root,
        &pki.delegate,
        &releases(),
        datetime!(2025-12-01 00:00 UTC),
    )
    .unwrap_err();
    // The root is not yet valid either; the delegate is checked first.
    assert!(
        matches!(&error, Error::NotYetValid { cert, .. } if cert.position == Position::Ca),
        "{error:?}"
    );
}

#[test]
fn rejects_expired_root() {
    let root = Spec::ca("Old Root", 1)
        .valid(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2026-06-01 00:00 UTC),
        )
        .self_signed();
    let delegate = delegate(&root, Some(RELEASES));
    let error = verify_delegate(&root, &delegate, &releases(), AT).unwrap_err();
    assert!(
        matches!(&error, Error::Expired { cert, .. } if cert.position == Position::Root),
        "{error:?}"
    );
}

#[test]
fn rejects_leaf_passed_to_verify_ca() {
    let pki = pki();
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::LeafAsCa { cert } = &error else {
        panic!("expected LeafAsCa, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(cert.subject, "CN=Rust Test Leaf,O=Rust Project Test");
    assert_eq!(error.rule(), "leaf-as-ca");
    assert!(
        error.to_string().contains("verify a leaf with verify"),
        "{error}"
    );
}

#[test]
fn rejects_certificate_without_basic_constraints() {
    let pki = pki();
    let no_bc = Spec::leaf("No BC", 0x1009)
        .eku(RELEASES)
        .basic_constraints(IsCa::NoCa)
        .signed_by(&pki.delegate);
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&no_bc.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(matches!(error, Error::LeafAsCa { .. }), "{error:?}");
}

#[test]
fn rejects_delegate_revoked_on_root_crl() {
    let pki = pki();
    let files = Files::new();
    let error = verify_ca_pems(
        &files,
        &pki.root.pem(),
        &[&pki.delegate.pem()],
        &[&crl(&pki.root, &[0x0100])],
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
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(cert.serial, "0100");
    assert_eq!(crl, &files.name("crl0.pem"));
    assert_eq!(crl_issuer, "CN=Rust Test Root CA,O=Rust Project Test");
    assert_eq!(reason.as_deref(), Some("keyCompromise"));
    assert_eq!(*revocation_date, datetime!(2026-11-15 00:00 UTC));
}

#[test]
fn accepts_with_crls_that_do_not_list_the_delegate() {
    let pki = pki();
    let files = Files::new();
    let verified = verify_ca_pems(
        &files,
        &pki.root.pem(),
        &[&pki.delegate.pem()],
        // The root's CRL lists another serial; the delegate's own CRL (for its leaves) is
        // authenticated by the delegate's key and current.
        &[&crl(&pki.root, &[0x0999]), &crl(&pki.delegate, &[0x1001])],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.crls.len(), 2);
    assert_eq!(verified.crls[0].issuer.position, Position::Root);
    assert_eq!(verified.crls[1].issuer.position, Position::Ca);
}

#[test]
fn rejects_forged_root_crl() {
    let pki = pki();
    let impostor = pki.root.impostor();
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&pki.delegate.pem()],
        &[&crl(&impostor, &[0x0999])],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(matches!(error, Error::CrlBadSignature { .. }), "{error:?}");
}

#[test]
fn rejects_expired_root_crl() {
    let pki = pki();
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&pki.delegate.pem()],
        &[&crl_with(
            &pki.root,
            &[],
            datetime!(2026-10-01 00:00 UTC),
            datetime!(2026-11-01 00:00 UTC),
        )],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(matches!(error, Error::CrlExpired { .. }), "{error:?}");
}

#[test]
fn rejects_root_path_len_violation() {
    // Root pathLen 0: no CA may stand between it and the end of the path.
    let root = Spec::ca("Rust Test Root CA", 1).path_len(0).self_signed();
    let delegate = delegate(&root, Some(RELEASES));
    assert!(verify_delegate(&root, &delegate, &releases(), AT).is_ok());
    let sub_ca = Spec::ca("Rust Test Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&delegate);
    let error = verify_ca_pems(
        &Files::new(),
        &root.pem(),
        &[&sub_ca.pem(), &delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::PathLenViolated {
        cert,
        path_len,
        sub_cas,
    } = &error
    else {
        panic!("expected PathLenViolated, got {error:?}");
    };
    assert_eq!(cert.position, Position::Root);
    assert_eq!((*path_len, *sub_cas), (0, 1));
}

#[test]
fn rejects_intermediate_path_len_violation() {
    let pki = pki(); // delegate pathLen 0
    let sub_ca = Spec::ca("Rust Test Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&pki.delegate);
    let sub_sub_ca = Spec::ca("Rust Test Sub-Sub-CA", 0x0300)
        .eku(RELEASES)
        .signed_by(&sub_ca);
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&sub_sub_ca.pem(), &sub_ca.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::PathLenViolated { cert, path_len: 0, sub_cas: 1 }
            if cert.position == Position::Intermediate(2)),
        "{error:?}"
    );
}

#[test]
fn rejects_issuer_that_is_not_a_ca() {
    let pki = pki();
    let under_leaf = Spec::ca("Rust Test Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&pki.leaf);
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&under_leaf.pem(), &pki.leaf.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::NotACa { cert } if cert.position == Position::Intermediate(1)),
        "{error:?}"
    );
}

#[test]
fn rejects_chain_out_of_order() {
    let pki = pki();
    let sub_ca = Spec::ca("Rust Test Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&pki.delegate);
    let other = Spec::ca("Unrelated CA", 0x0300)
        .eku(RELEASES)
        .signed_by(&pki.root);
    let error = verify_ca_pems(
        &Files::new(),
        &pki.root.pem(),
        &[&sub_ca.pem(), &other.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::IssuerNotNext { cert, issuer, next } = &error else {
        panic!("expected IssuerNotNext, got {error:?}");
    };
    assert_eq!(cert.position, Position::Ca);
    assert_eq!(issuer, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(next.position, Position::Intermediate(1));
    assert_eq!(next.subject, "CN=Unrelated CA,O=Rust Project Test");
    assert_eq!(error.rule(), "issuer-not-next");
}

#[test]
fn leaf_verify_refuses_the_delegate_alone() {
    // No implicit CA mode: a CA where an end entity is expected is an error.
    let pki = pki();
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    let Error::CaAsLeaf { cert } = &error else {
        panic!("expected CaAsLeaf, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(error.rule(), "ca-as-leaf");
}

#[test]
fn error_json_names_rule_and_ca() {
    let pki = pki();
    let error = verify_delegate(&pki.root, &pki.delegate, &purpose("bors", BORS), AT).unwrap_err();
    let json = serde_json::to_value(&error).unwrap();
    assert_eq!(json["rule"], "wrong-eku");
    assert_eq!(json["cert"]["role"], "ca");
    assert_eq!(
        json["cert"]["subject"],
        "CN=Rust Test Delegate,O=Rust Project Test"
    );
}
