//! Bad input files: each error names the file.

mod common;

use common::*;
use rust_pki_verify::{Chain, Crl, Error, Root};

#[test]
fn rejects_malformed_pem() {
    let pki = pki();
    let mut pem = pki.leaf.pem();
    // Corrupt the base64 body.
    let body = pem.find('\n').unwrap() + 10;
    pem.replace_range(body..body + 4, "!!!!");
    let files = Files::new();
    let path = files.write("chain.pem", pem);
    let error = Chain::from_file(&path).unwrap_err();
    let Error::MalformedPem { file, detail } = &error else {
        panic!("expected MalformedPem, got {error:?}");
    };
    assert_eq!(file, &path.display().to_string());
    assert!(detail.contains("base64"), "{detail}");
    assert!(error.to_string().starts_with(&path.display().to_string()));
}

#[test]
fn rejects_pem_without_end_line() {
    let pki = pki();
    let pem = pki.leaf.pem();
    let truncated = &pem[..pem.find("-----END").unwrap()];
    let files = Files::new();
    let error = Chain::from_file(&files.write("chain.pem", truncated)).unwrap_err();
    assert!(
        matches!(&error, Error::MalformedPem { file, .. } if file == &files.name("chain.pem")),
        "{error:?}"
    );
}

#[test]
fn rejects_truncated_der() {
    let pki = pki();
    let der = pki.root.der();
    let files = Files::new();
    let error = Root::from_file(&files.write("root.der", &der[..der.len() - 10])).unwrap_err();
    assert!(
        matches!(&error, Error::MalformedCert { file, index: 0, .. } if file == &files.name("root.der")),
        "{error:?}"
    );
}

#[test]
fn rejects_garbage_inside_pem_certificate() {
    let files = Files::new();
    let pem = pem_encode("CERTIFICATE", b"0\x03\x02\x01\x00 not a certificate");
    let error = Chain::from_file(&files.write("chain.pem", pem)).unwrap_err();
    assert!(
        matches!(&error, Error::MalformedCert { index: 0, .. }),
        "{error:?}"
    );
}

#[test]
fn names_the_bad_certificate_index_in_a_chain_file() {
    let pki = pki();
    let files = Files::new();
    let pem = [pki.leaf.pem(), pem_encode("CERTIFICATE", b"\x30\x00")].concat();
    let error = Chain::from_file(&files.write("chain.pem", pem)).unwrap_err();
    assert!(
        matches!(&error, Error::MalformedCert { index: 1, .. }),
        "{error:?}"
    );
}

#[test]
fn rejects_file_without_certificates() {
    let files = Files::new();
    let error = Chain::from_file(&files.write("chain.pem", "hello\n")).unwrap_err();
    assert!(
        matches!(&error, Error::NothingFound { file, expected: "certificate" } if file == &files.name("chain.pem")),
        "{error:?}"
    );
    let error = Crl::from_file(&files.write("empty.crl", "")).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::NothingFound {
                expected: "CRL",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn rejects_root_file_with_two_certificates() {
    let pki = pki();
    let files = Files::new();
    let path = files.write("root.pem", [pki.root.pem(), pki.delegate.pem()].concat());
    let error = Root::from_file(&path).unwrap_err();
    assert!(
        matches!(&error, Error::NotSingle { count: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn rejects_private_key_in_chain_file() {
    let pki = pki();
    let files = Files::new();
    let pem = [pki.leaf.pem(), pki.leaf.key.serialize_pem()].concat();
    let error = Chain::from_file(&files.write("chain.pem", pem)).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::UnexpectedPemSection {
                expected: "certificate",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn rejects_certificate_given_as_crl() {
    let pki = pki();
    let files = Files::new();
    let error = Crl::from_file(&files.write("not.crl", pki.root.pem())).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::UnexpectedPemSection {
                expected: "CRL",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn rejects_missing_file() {
    let files = Files::new();
    let error = Root::from_file(&files.dir_path().join("nope.pem")).unwrap_err();
    assert!(
        matches!(&error, Error::Read { file, .. } if file.ends_with("nope.pem")),
        "{error:?}"
    );
    assert_eq!(error.rule(), "read");
}

#[test]
fn rejects_verification_time_before_1970() {
    let pki = pki();
    let files = Files::new();
    let error = verify_pems(
        &files,
        &pki.root.pem(),
        &[&pki.leaf.pem(), &pki.delegate.pem()],
        &[],
        &releases(),
        time::macros::datetime!(1969-12-31 23:59 UTC),
    )
    .unwrap_err();
    assert!(matches!(error, Error::TimeOutOfRange { .. }), "{error:?}");
}
