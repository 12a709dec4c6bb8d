//! The checks issuance runs after the real key signed: the signed TBS must be
//! byte-identical to the linted one, and the signature must verify with the issuer's key.
//! Each test trips exactly one of them and asserts its error variant.
//! (A signature from another key: `signature_that_does_not_verify_under_the_issuer_key_is_refused`
//! in issuance.rs.)
#![allow(clippy::unwrap_used, clippy::panic)]

use std::{
    cell::Cell,
    path::Path,
    time::{Duration, SystemTime},
};

use der::{Any, Decode, Encode, Tag, TagNumber, Tagged};
use rust_pki_ca::{
    Error, KeyAlgorithm, Signer,
    authority::issue_root,
    issue::sign_linted,
    lint::{CertLintContext, lint_certificate},
    policy::Policy,
    profile::CertKind,
    signer::MemorySigner,
};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

fn policy() -> Policy {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../policy/rust-root.toml");
    Policy::parse(&std::fs::read_to_string(path).unwrap(), Path::new(path)).unwrap()
}

/// A fixed issuance time inside the policy's root validity (2026-06-01T00:00:00Z).
fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_272_000)
}

/// A signer that counts its signatures and, if `alter` is set, signs the TBS with its
/// last byte flipped: an HSM handed (or signing) other bytes than the linted ones.
struct TestSigner {
    key: MemorySigner,
    alter: bool,
    calls: Cell<usize>,
}

impl TestSigner {
    fn new(alter: bool) -> Self {
        Self {
            key: MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap(),
            alter,
            calls: Cell::new(0),
        }
    }
}

impl Signer for TestSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.key.public_key()
    }
    fn describe(&self) -> String {
        "test signer".into()
    }
    fn sign(&self, message: &[u8]) -> rust_pki_ca::Result<Vec<u8>> {
        self.calls.set(self.calls.get() + 1);
        let mut message = message.to_vec();
        if self.alter {
            let last = message.len() - 1;
            message[last] ^= 1;
        }
        self.key.sign(&message)
    }
}

/// A signer that signed other bytes than the linted TBS: the signature cannot verify over
/// the TBS that goes into the certificate, and issuance refuses with the signature rule.
#[test]
fn signature_over_altered_tbs_is_refused_by_the_signature_check() {
    let signer = TestSigner::new(true);
    let err = issue_root(&policy(), &signer, at()).unwrap_err();
    assert!(
        matches!(&err, Error::BadSignature { what, reason }
            if what.starts_with("certificate for CN=Rust Root CA")
                && reason == "signature does not verify"),
        "{err}"
    );
    assert_eq!(signer.calls.get(), 1, "the check runs after signing");
}

/// A TBS that is not canonical DER (an extension with `critical FALSE` encoded, a DEFAULT
/// value DER forbids): the linter sees the same parsed certificate and passes it, the
/// signature verifies over these very bytes, but the signed structure re-encodes to other
/// bytes, and issuance refuses with the byte-identical rule.
#[test]
fn tbs_that_does_not_reencode_identically_is_refused_by_the_byte_identical_check() {
    let policy = policy();
    let signer = TestSigner::new(false);
    let root = Certificate::from_der(&issue_root(&policy, &signer, at()).unwrap().der).unwrap();
    let tbs = root.tbs_certificate().to_der().unwrap();
    let altered = with_explicit_critical_false(&tbs);
    assert_ne!(altered, tbs);
    let kind = CertKind::Root;
    let ctx = CertLintContext {
        policy: &policy,
        kind: &kind,
        issuer: None,
    };
    let err = sign_linted::<Certificate>("altered root TBS", &altered, &signer, |cert| {
        lint_certificate(cert, &ctx)
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::TbsMismatch { what } if what == "altered root TBS"),
        "{err}"
    );
    assert_eq!(signer.calls.get(), 2, "the root, then the altered TBS");
}

/// `tbs` with `critical BOOLEAN FALSE` spelled out in its first extension that omits it.
fn with_explicit_critical_false(tbs: &[u8]) -> Vec<u8> {
    let sequence = |parts: &[Any]| Any::from_der(&parts.to_vec().to_der().unwrap()).unwrap();
    let mut fields = Vec::<Any>::from_der(tbs).unwrap();
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let slot = fields
        .iter_mut()
        .find(|field| field.tag() == extensions_tag)
        .unwrap();
    let mut extensions = Vec::<Any>::from_der(slot.value()).unwrap();
    let extension = extensions
        .iter_mut()
        .find(|e| Vec::<Any>::from_der(&e.to_der().unwrap()).unwrap().len() == 2)
        .unwrap();
    let mut parts = Vec::<Any>::from_der(&extension.to_der().unwrap()).unwrap();
    parts.insert(1, Any::encode_from(&false).unwrap());
    *extension = sequence(&parts);
    *slot = Any::new(extensions_tag, sequence(&extensions).to_der().unwrap()).unwrap();
    sequence(&fields).to_der().unwrap()
}
