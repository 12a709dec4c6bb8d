//! Path validation and the policy layer: one test per attack or mistake, each asserting the
//! error variant and the certificate it names.

mod common;

use common::*;
use rcgen::IsCa;
use rust_pki_verify::{Error, Position};
use time::macros::datetime;

#[test]
fn accepts_valid_three_cert_chain() {
    let pki = pki();
    let verified = verify_chain(&pki.root, &pki.delegate, &pki.leaf).unwrap();

    let positions: Vec<_> = verified.path.iter().map(|c| c.cert.position).collect();
    assert_eq!(
        positions,
        [Position::Leaf, Position::Intermediate(1), Position::Root]
    );
    let leaf = &verified.path[0];
    assert_eq!(leaf.cert.subject, "CN=Rust Test Leaf,O=Rust Project Test");
    assert_eq!(leaf.cert.serial, "1001");
    assert_eq!(leaf.ekus, ["1.3.6.1.4.1.32473.1.1"]);
    assert_eq!(leaf.not_after, datetime!(2027-06-01 00:00 UTC));
    assert_eq!(verified.path[1].path_len, Some(0));
    assert!(verified.path[1].ca);
    assert_eq!(verified.purpose.name, "releases");
    assert_eq!(verified.at, AT);
    assert!(verified.crls.is_empty());
    let line = verified.to_string();
    assert!(
        line.starts_with("chain valid for purpose releases (1.3.6.1.4.1.32473.1.1) at 2026-12-01T00:00:00Z: leaf CN=Rust Test Leaf"),
        "{line}"
    );
    assert!(line.contains(" ← root CN=Rust Test Root CA"), "{line}");
}

#[test]
fn accepts_chain_file_that_includes_the_root() {
    let pki = pki();
    let files = Files::new();
    let verified = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem(), &pki.root.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.path.len(), 3);
}

#[test]
fn accepts_custom_eku_oid() {
    let custom: &[u64] = &[1, 3, 6, 1, 4, 1, 55555, 7];
    let root = root();
    let delegate = Spec::ca("Other PKI Delegate", 2)
        .path_len(0)
        .eku(custom)
        .signed_by(&root);
    let leaf = Spec::leaf("Other PKI Leaf", 3)
        .eku(custom)
        .signed_by(&delegate);
    let files = Files::new();
    let chain = [leaf.pem(), delegate.pem()];
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();

    let verified = verify_pems(
        &files,
        &root.pem(),
        &chain,
        &[],
        &purpose("1.3.6.1.4.1.55555.7", custom),
        AT,
    )
    .unwrap();
    assert_eq!(verified.purpose.eku.to_string(), "1.3.6.1.4.1.55555.7");

    // The same chain is not a releases chain.
    let error = verify_pems(&files, &root.pem(), &chain, &[], &releases(), AT).unwrap_err();
    assert!(
        matches!(&error, Error::WrongEku { cert, .. } if cert.position == Position::Leaf),
        "{error:?}"
    );
}

/// The ITU-T example arc 2.999 has a second arc above 39, which const-oid (x509-cert)
/// cannot represent; our EKU handling reads it as bytes and must accept it.
#[test]
fn accepts_example_arc_2_999_eku() {
    let example: &[u64] = &[2, 999, 1, 1];
    let root = root();
    let delegate = Spec::ca("Example Delegate", 2)
        .path_len(0)
        .eku(example)
        .signed_by(&root);
    let leaf = Spec::leaf("Example Leaf", 3)
        .eku(example)
        .signed_by(&delegate);
    let files = Files::new();
    let chain = [leaf.pem(), delegate.pem()];
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    let verified = verify_pems(
        &files,
        &root.pem(),
        &chain,
        &[],
        &purpose("example", example),
        AT,
    )
    .unwrap();
    assert_eq!(verified.path[0].ekus, ["2.999.1.1"]);
}

#[test]
fn accepts_ed25519_leaf_under_p384_delegate() {
    let pki = pki();
    let leaf = Spec::leaf("Ed25519 Leaf", 0x1002)
        .eku(RELEASES)
        .ed25519()
        .signed_by(&pki.delegate);
    verify_chain(&pki.root, &pki.delegate, &leaf).unwrap();
}

#[test]
fn rejects_delegate_without_eku() {
    let root = root();
    let delegate = delegate(&root, None);
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);

    let error = verify_chain(&root, &delegate, &leaf).unwrap_err();
    let Error::MissingEku {
        cert,
        purpose,
        expected,
    } = &error
    else {
        panic!("expected MissingEku, got {error:?}");
    };
    assert_eq!(cert.position, Position::Intermediate(1));
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(cert.serial, "0100");
    assert_eq!(purpose, "releases");
    assert_eq!(expected.to_string(), "1.3.6.1.4.1.32473.1.1");
    assert_eq!(error.rule(), "missing-eku");
}

#[test]
fn rejects_delegate_with_other_purpose_eku() {
    let root = root();
    let delegate = delegate(&root, Some(CRATES_IO));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);

    let error = verify_chain(&root, &delegate, &leaf).unwrap_err();
    let Error::WrongEku {
        cert,
        expected,
        found,
        ..
    } = &error
    else {
        panic!("expected WrongEku, got {error:?}");
    };
    assert_eq!(cert.position, Position::Intermediate(1));
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(expected.to_string(), "1.3.6.1.4.1.32473.1.1");
    assert_eq!(found, &[oid(CRATES_IO)]);
}

#[test]
fn rejects_leaf_eku_not_delegate_eku() {
    let root = root();
    let delegate = delegate(&root, Some(RELEASES));
    let leaf = Spec::leaf("Crates Leaf", 0x1003)
        .eku(CRATES_IO)
        .signed_by(&delegate);
    let files = Files::new();
    let chain = [leaf.pem(), delegate.pem()];
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();

    // For releases, the leaf is the odd one out...
    let error = verify_pems(&files, &root.pem(), &chain, &[], &releases(), AT).unwrap_err();
    assert!(
        matches!(&error, Error::WrongEku { cert, found, .. }
            if cert.position == Position::Leaf && found == &[oid(CRATES_IO)]),
        "{error:?}"
    );
    // ...and for crates-io, the delegate: neither purpose accepts the mix.
    let error = verify_pems(
        &files,
        &root.pem(),
        &chain,
        &[],
        &purpose("crates-io", CRATES_IO),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::WrongEku { cert, found, .. }
            if cert.position == Position::Intermediate(1) && found == &[oid(RELEASES)]),
        "{error:?}"
    );
}

#[test]
fn rejects_leaf_without_eku() {
    let pki = pki();
    let leaf = Spec::leaf("No EKU Leaf", 0x1004).signed_by(&pki.delegate);
    let error = verify_chain(&pki.root, &pki.delegate, &leaf).unwrap_err();
    assert!(
        matches!(&error, Error::MissingEku { cert, .. } if cert.position == Position::Leaf),
        "{error:?}"
    );
}

#[test]
fn rejects_expired_leaf_at_time() {
    let pki = pki();
    let at = datetime!(2027-06-02 00:00 UTC);
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        at,
    )
    .unwrap_err();
    let Error::Expired {
        cert,
        at: when,
        not_after,
    } = &error
    else {
        panic!("expected Expired, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(cert.serial, "1001");
    assert_eq!(*when, at);
    assert_eq!(*not_after, datetime!(2027-06-01 00:00 UTC));
    // The same chain is fine a day earlier: --at is honoured.
    verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        datetime!(2027-05-31 00:00 UTC),
    )
    .unwrap();
}

#[test]
fn rejects_expired_delegate_naming_the_delegate() {
    let root = root();
    let delegate = Spec::ca("Short Delegate", 0x0101)
        .path_len(0)
        .eku(RELEASES)
        .valid(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-09-01 00:00 UTC),
        )
        .signed_by(&root);
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let error = verify_chain(&root, &delegate, &leaf).unwrap_err();
    assert!(
        matches!(&error, Error::Expired { cert, not_after, .. }
            if cert.position == Position::Intermediate(1)
                && *not_after == datetime!(2026-09-01 00:00 UTC)),
        "{error:?}"
    );
}

#[test]
fn rejects_not_yet_valid() {
    let pki = pki();
    let leaf = Spec::leaf("Future Leaf", 0x1005)
        .eku(RELEASES)
        .valid(
            datetime!(2027-01-01 00:00 UTC),
            datetime!(2027-06-01 00:00 UTC),
        )
        .signed_by(&pki.delegate);
    let error = verify_chain(&pki.root, &pki.delegate, &leaf).unwrap_err();
    let Error::NotYetValid {
        cert, not_before, ..
    } = &error
    else {
        panic!("expected NotYetValid, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(cert.subject, "CN=Future Leaf,O=Rust Project Test");
    assert_eq!(*not_before, datetime!(2027-01-01 00:00 UTC));
}

#[test]
fn rejects_expired_root() {
    // rustls-webpki does not check a trust anchor's validity; our policy layer does.
    let root = Spec::ca("Old Root", 9)
        .valid(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2026-10-01 00:00 UTC),
        )
        .self_signed();
    let delegate = delegate(&root, Some(RELEASES));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let error = verify_chain(&root, &delegate, &leaf).unwrap_err();
    assert!(
        matches!(&error, Error::Expired { cert, .. }
            if cert.position == Position::Root && cert.subject == "CN=Old Root,O=Rust Project Test"),
        "{error:?}"
    );
}

#[test]
fn rejects_pathlen_violation() {
    let root = root();
    let delegate = delegate(&root, Some(RELEASES)); // pathLen 0
    let sub_ca = Spec::ca("Rogue Sub-CA", 0x0200)
        .eku(RELEASES)
        .signed_by(&delegate);
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&sub_ca);
    let files = Files::new();
    let error = verify_pems(
        &files,
        &root.pem(),
        &[&leaf.pem(), &sub_ca.pem(), &delegate.pem()],
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
    assert_eq!(cert.position, Position::Intermediate(2));
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!((*path_len, *sub_cas), (0, 1));
}

#[test]
fn rejects_intermediate_that_is_not_a_ca() {
    let pki = pki();
    // A leaf certificate of the delegate used to issue another "leaf".
    let issuer = Spec::leaf("Leaf As Issuer", 0x1006)
        .eku(RELEASES)
        .signed_by(&pki.delegate);
    let leaf = Spec::leaf("Grandchild", 0x1007)
        .eku(RELEASES)
        .signed_by(&issuer);
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&leaf.pem(), &issuer.pem(), &pki.delegate.pem()],
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
fn rejects_ca_certificate_as_leaf() {
    let pki = pki();
    let leaf = Spec::leaf("CA Leaf", 0x1008)
        .eku(RELEASES)
        .basic_constraints(IsCa::Ca(rcgen::BasicConstraints::Unconstrained))
        .signed_by(&pki.delegate);
    let error = verify_chain(&pki.root, &pki.delegate, &leaf).unwrap_err();
    assert!(
        matches!(&error, Error::CaAsLeaf { cert } if cert.position == Position::Leaf),
        "{error:?}"
    );
}

#[test]
fn rejects_wrong_root() {
    let pki = pki();
    let other_root = Spec::ca("Evil Root CA", 66).self_signed();
    let error = verify_chain(&other_root, &pki.delegate, &pki.leaf).unwrap_err();
    let Error::UnknownIssuer { cert, issuer, root } = &error else {
        panic!("expected UnknownIssuer, got {error:?}");
    };
    assert_eq!(cert.position, Position::Intermediate(1));
    assert_eq!(cert.subject, "CN=Rust Test Delegate,O=Rust Project Test");
    assert_eq!(issuer, "CN=Rust Test Root CA,O=Rust Project Test");
    assert_eq!(root, "CN=Evil Root CA,O=Rust Project Test");
}

#[test]
fn rejects_wrong_root_with_same_name() {
    let pki = pki();
    let impostor = pki.root.impostor();
    let error = verify_chain(&impostor, &pki.delegate, &pki.leaf).unwrap_err();
    assert!(
        matches!(&error, Error::BadSignature { cert, issuer }
            if cert.position == Position::Intermediate(1) && issuer.position == Position::Root),
        "{error:?}"
    );
}

#[test]
fn rejects_missing_delegate() {
    let pki = pki();
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::UnknownIssuer { cert, issuer, .. }
            if cert.position == Position::Leaf
                && issuer == "CN=Rust Test Delegate,O=Rust Project Test"),
        "{error:?}"
    );
}

#[test]
fn rejects_bad_signature_flipped_byte() {
    let pki = pki();
    let mut der = pki.leaf.der();
    // The last byte is inside the ECDSA signature's s value.
    *der.last_mut().unwrap() ^= 0x01;
    let files = Files::new();
    let root = rust_pki_verify::Root::from_file(&files.write("root.pem", pki.root.pem())).unwrap();
    let chain = rust_pki_verify::Chain::from_bytes(
        "chain.pem",
        [pem_encode("CERTIFICATE", &der), pki.delegate.pem()]
            .concat()
            .as_bytes(),
    )
    .unwrap();
    let error = rust_pki_verify::verify(&root, &chain, &[], &releases(), AT).unwrap_err();
    let Error::BadSignature { cert, issuer } = &error else {
        panic!("expected BadSignature, got {error:?}");
    };
    assert_eq!(cert.position, Position::Leaf);
    assert_eq!(cert.serial, "1001");
    assert_eq!(issuer.position, Position::Intermediate(1));
    assert_eq!(issuer.subject, "CN=Rust Test Delegate,O=Rust Project Test");
}

#[test]
fn rejects_leaf_signed_by_impostor_delegate() {
    let pki = pki();
    let impostor = pki.delegate.impostor();
    let leaf = Spec::leaf("Forged Leaf", 0x1009)
        .eku(RELEASES)
        .signed_by(&impostor);
    // The chain file carries the genuine delegate: names match, the key does not.
    let error = verify_chain(&pki.root, &pki.delegate, &leaf).unwrap_err();
    assert!(
        matches!(&error, Error::BadSignature { cert, issuer }
            if cert.position == Position::Leaf && issuer.position == Position::Intermediate(1)),
        "{error:?}"
    );
}

#[test]
fn error_json_names_rule_and_cert() {
    let root = root();
    let delegate = delegate(&root, Some(BORS));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let error = verify_chain(&root, &delegate, &leaf).unwrap_err();
    let json = serde_json::to_value(&error).unwrap();
    assert_eq!(json["rule"], error.rule());
    assert_eq!(json["rule"], "wrong-eku");
    assert_eq!(json["cert"]["position"], 1);
    assert_eq!(
        json["cert"]["subject"],
        "CN=Rust Test Delegate,O=Rust Project Test"
    );
    assert_eq!(json["cert"]["serial"], "0100");
    assert_eq!(json["expected"], "1.3.6.1.4.1.32473.1.1");
    assert_eq!(json["found"], serde_json::json!(["1.3.6.1.4.1.32473.1.3"]));
    assert_eq!(json["purpose"], "releases");
}

#[test]
fn report_serializes_path_and_purpose() {
    let pki = pki();
    let verified = verify_chain(&pki.root, &pki.delegate, &pki.leaf).unwrap();
    let json = serde_json::to_value(&verified).unwrap();
    assert_eq!(json["purpose"]["name"], "releases");
    assert_eq!(json["purpose"]["eku"], "1.3.6.1.4.1.32473.1.1");
    assert_eq!(json["at"], "2026-12-01T00:00:00Z");
    assert_eq!(json["path"][0]["position"], 0);
    assert_eq!(json["path"][0]["not_after"], "2027-06-01T00:00:00Z");
    assert_eq!(json["path"][2]["role"], "root");
    assert_eq!(json["path"][2]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(json["crls"], serde_json::json!([]));
}
